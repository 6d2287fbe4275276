// The overlay's URL parameters: defaults, the documented values, and hostile ones.
import { describe, expect, it } from "vitest";
import { MAX_SCALE, MIN_SCALE, parseParams, SECTIONS } from "./params";

const show = (search: string) => [...parseParams(search).show].sort();
const ALL = [...SECTIONS].sort();

describe("show", () => {
  it("shows every section by default", () => {
    expect(show("")).toEqual(ALL);
    expect(show("?")).toEqual(ALL);
  });

  it("shows only the named sections, in any order and case, with spaces", () => {
    expect(show("?show=queue,moment")).toEqual(["moment", "queue"]);
    expect(show("?show=NOW")).toEqual(["now"]);
    expect(show("?show=%20moment%20,%20now")).toEqual(["moment", "now"]);
  });

  it('takes "next" for the queue section, "watching" for the watch-along', () => {
    expect(show("?show=next")).toEqual(["queue"]);
    expect(show("?show=watching,WATCH")).toEqual(["watch"]);
  });

  it("ignores unknown names, and shows everything when none is known", () => {
    expect(show("?show=now,chat,<script>")).toEqual(["now"]);
    expect(show("?show=bogus")).toEqual(ALL);
    expect(show("?show=constructor,__proto__,toString")).toEqual(ALL);
  });

  it("shows everything for an empty value", () => {
    expect(show("?show=")).toEqual(ALL);
    expect(show("?show=,,,")).toEqual(ALL);
  });

  it("adds up repeated parameters", () => {
    expect(show("?show=now&show=moment")).toEqual(["moment", "now"]);
    expect(show("?show=now&show=")).toEqual(["now"]);
  });
});

describe("theme", () => {
  it("is dark unless light is asked for", () => {
    expect(parseParams("").theme).toBe("dark");
    expect(parseParams("?theme=light").theme).toBe("light");
    expect(parseParams("?theme=LIGHT").theme).toBe("light");
    expect(parseParams("?theme=dark").theme).toBe("dark");
  });

  it("falls back to dark for anything else", () => {
    expect(parseParams("?theme=%3Cscript%3Ealert(1)%3C/script%3E").theme).toBe("dark");
    expect(parseParams("?theme=<script>").theme).toBe("dark");
    expect(parseParams("?theme=").theme).toBe("dark");
    expect(parseParams("?theme=light;color:red").theme).toBe("dark");
  });

  it("takes the first of repeated values", () => {
    expect(parseParams("?theme=light&theme=dark").theme).toBe("light");
  });
});

describe("scale", () => {
  const scale = (v: string) => parseParams(`?scale=${v}`).scale;

  it("is 1 by default", () => {
    expect(parseParams("").scale).toBe(1);
  });

  it("takes plain numbers within range", () => {
    expect(scale("1.5")).toBe(1.5);
    expect(scale(".75")).toBe(0.75);
    expect(scale("2e0")).toBe(2);
    expect(scale("3")).toBe(3);
  });

  it("clamps numbers out of range", () => {
    expect(scale("1e9")).toBe(MAX_SCALE);
    expect(scale("1e400")).toBe(MAX_SCALE);
    expect(scale("0")).toBe(MIN_SCALE);
    expect(scale("-2")).toBe(MIN_SCALE);
    expect(scale("1e-400")).toBe(MIN_SCALE);
  });

  it("is 1 for anything that is not a plain number", () => {
    for (const v of ["NaN", "Infinity", "-Infinity", "", "%20", "0x10", "1.5px", "1,5", "calc(9)", "1;x:y", "--1"]) {
      expect(scale(v), v).toBe(1);
    }
  });

  it("takes the first of repeated values", () => {
    expect(parseParams("?scale=2&scale=0.5").scale).toBe(2);
  });

  it("reads a query string with or without its question mark", () => {
    expect(parseParams("scale=2&theme=light")).toEqual(parseParams("?scale=2&theme=light"));
  });
});
