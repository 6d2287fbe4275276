// Settings → Co-host as form data (cohostForm.ts): the fields a CohostStatus shows, what Save and
// Test connection check (the core's ranges), the filters' one-per-line text, and the API key.
import { describe, expect, it } from "vitest";
import type { CohostFilter } from "../../bindings";
import { COHOST_SETTINGS, cohostStatus } from "../../testFixtures";
import { buildCohost, cohostFields, type CohostValues, formatFilters, parseFilters } from "./cohostForm";

const saved = cohostStatus();
const edit = (patch: Partial<CohostValues>): CohostValues => ({ ...cohostFields(saved), ...patch });
const refusal = (patch: Partial<CohostValues>) => {
  const built = buildCohost(edit(patch), saved);
  if (!("error" in built)) throw new Error(`accepted ${JSON.stringify(patch)}`);
  return { field: built.field, message: built.error.message, code: built.error.code };
};

describe("cohostForm", () => {
  it("round-trips saved settings through the fields, with no key to send", () => {
    const filters: CohostFilter[] = [
      { pattern: "darn", regex: false, replaceWith: "dang" },
      { pattern: "\\bsecret\\w*", regex: true, replaceWith: null },
      { pattern: "heck", regex: false, replaceWith: "" },
    ];
    for (const settings of [COHOST_SETTINGS, { ...COHOST_SETTINGS, backend: "demo" as const, mode: "auto" as const, filters }]) {
      const st = cohostStatus({ settings });
      expect(buildCohost(cohostFields(st), st)).toEqual({ update: { settings, apiKey: null } });
    }
  });

  it("never shows the key back; a typed one is sent, trimmed", () => {
    expect(cohostFields(cohostStatus({ apiKeySaved: true })).apiKey).toBe("");
    const built = buildCohost(edit({ apiKey: "  sk-test-123 " }), saved);
    expect("update" in built && built.update.apiKey).toBe("sk-test-123");
  });

  it("cleans the word lists and refuses a word with a space, naming the field", () => {
    const built = buildCohost(edit({ askCommands: " !ask,  !q ,, ", ignore: "nightbot\nmoobot" }), saved);
    expect("update" in built && built.update.settings.askCommands).toEqual(["!ask", "!q"]);
    expect("update" in built && built.update.settings.ignore).toEqual(["nightbot", "moobot"]);
    expect(refusal({ names: "cue bot" })).toMatchObject({ field: "names", code: "InvalidSettings" });
    expect(refusal({ keywords: "x".repeat(41) }).field).toBe("keywords");
    expect(refusal({ ignore: Array.from({ length: 51 }, (_, i) => `b${i}`).join(",") }).message).toContain("At most 50");
  });

  it("checks the core's ranges, each at its own field", () => {
    const cases: [Partial<CohostValues>, keyof CohostValues][] = [
      [{ temperature: "2.5" }, "temperature"],
      [{ maxTokens: "0" }, "maxTokens"],
      [{ timeout: "301" }, "timeout"],
      [{ keywordChance: "1.5" }, "keywordChance"],
      [{ quietMinutes: "241" }, "quietMinutes"],
      [{ cooldown: "3601" }, "cooldown"],
      [{ perMinute: "0" }, "perMinute"],
      [{ contextMessages: "201" }, "contextMessages"],
      [{ contextMinutes: "0" }, "contextMinutes"],
      [{ draftExpiry: "9" }, "draftExpiry"],
      [{ reserveForQueue: "16" }, "reserveForQueue"],
      [{ maxChars: "501" }, "maxChars"],
      [{ maxChars: "1.5" }, "maxChars"],
      [{ persona: "p".repeat(4001) }, "persona"],
    ];
    for (const [patch, field] of cases) expect(refusal(patch).field).toBe(field);
    // The edges are accepted.
    const edges = edit({ temperature: "0", maxTokens: "4096", quietMinutes: "0", cooldown: "0", draftExpiry: "10", maxChars: "500" });
    expect("update" in buildCohost(edges, saved)).toBe(true);
  });

  it("an endpoint needs an http(s) address and a model; the demo needs neither", () => {
    expect(refusal({ baseUrl: "ftp://x" })).toMatchObject({ field: "baseUrl" });
    expect(refusal({ baseUrl: "127.0.0.1:11434" }).message).toContain("http://");
    expect(refusal({ model: "  " })).toMatchObject({ field: "model", message: expect.stringContaining("Test connection") });
    expect("update" in buildCohost(edit({ backend: "demo", baseUrl: "", model: "" }), saved)).toBe(true);
  });

  it("filters: one per line, /regex/, => replacement; blank lines skipped; empty patterns refused", () => {
    expect(parseFilters("darn => dang\n\n  /\\bsecret\\w*/  \nheck =>\nplain")).toEqual([
      { pattern: "darn", regex: false, replaceWith: "dang" },
      { pattern: "\\bsecret\\w*", regex: true, replaceWith: null },
      { pattern: "heck", regex: false, replaceWith: "" },
      { pattern: "plain", regex: false, replaceWith: null },
    ]);
    expect(formatFilters(parseFilters("darn => dang\nheck =>") as CohostFilter[])).toBe("darn => dang\nheck =>");
    expect(typeof parseFilters("=> x")).toBe("string");
    expect(typeof parseFilters("//")).toBe("string");
    expect(typeof parseFilters("x".repeat(201))).toBe("string");
    expect(refusal({ filters: Array.from({ length: 51 }, (_, i) => `w${i}`).join("\n") }).field).toBe("filters");
  });
});
