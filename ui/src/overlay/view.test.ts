// The overlay's selectors (what it shows, picked from the shared cache) and its event parsing.
import { describe, expect, it } from "vitest";
import { item, watchSession, watchView } from "../testFixtures";
import type { Moment, QueueItem } from "../bindings";
import { applyEvents, emptyCache } from "../state";
import { parseEvent } from "./source";
import { lastMoment, minutesAgo, momentOfNewSession, nowGenerating, nowWatching, OVERLAY_EVENTS, overlayView, upNext } from "./view";


function moment(id: number, sessionId: number, startedAtMs = id * 1000): Moment {
  return {
    id,
    sessionId,
    startedAtMs,
    endedAtMs: null,
    offsetMs: 0,
    triggers: [{ kind: "keyword", label: "CLIP ×5", name: "clip", value: 5, threshold: 5, baseline: null }],
    strength: 1,
    note: "",
  };
}

/** A cache holding these requests (through the reducer, so in queue order). */
function withQueue(items: QueueItem[]) {
  const c = emptyCache();
  applyEvents(
    c,
    items.map((it) => ({ kind: "queueItem", item: it })),
  );
  return c;
}

describe("now generating", () => {
  it("is the request being generated, with its progress when known", () => {
    const c = withQueue([item(1, "pending", 2), item(2, "generating", 1), item(3, "shown", 0)]);
    expect(nowGenerating(c)).toEqual({ item: c.queue.items.find((it) => it.id === 2), percent: null });
    applyEvents(c, [{ kind: "generationProgress", progress: { id: 2, phase: "downloading", attempt: 1, percent: 41.6, bytes: 10 } }]);
    expect(nowGenerating(c)?.percent).toBe(42);
  });

  it("is null when nothing is being generated", () => {
    expect(nowGenerating(withQueue([item(1, "pending", 1), item(2, "ready", 2)]))).toBeNull();
    expect(nowGenerating(emptyCache())).toBeNull();
  });
});

describe("up next", () => {
  it("lists the first three waiting requests in queue order, not the others", () => {
    const c = withQueue([
      item(1, "approved", 5),
      item(2, "pending", 1),
      item(3, "generating", 0),
      item(4, "pending", 3),
      item(5, "ready", 2),
      item(6, "failed", 4),
      item(7, "pending", 9),
      item(8, "skipped", 0),
    ]);
    expect(upNext(c).map((it) => it.id)).toEqual([2, 4, 1]);
    expect(upNext(c, 10).map((it) => it.id)).toEqual([2, 4, 1, 7]);
  });

  it("follows a move: positions decide, then ids", () => {
    const c = withQueue([item(1, "pending", 1), item(2, "pending", 2)]);
    applyEvents(c, [{ kind: "queueItem", item: item(2, "pending", 0, 2) }]);
    expect(upNext(c).map((it) => it.id)).toEqual([2, 1]);
  });
});

describe("last moment", () => {
  it("is the latest moment of either chat", () => {
    const c = emptyCache();
    c.chats.main.moments = [moment(1, 7, 1000), moment(2, 7, 5000)];
    c.chats.kick.moments = [moment(3, 9, 3000)];
    expect(lastMoment(c)?.id).toBe(2);
    c.chats.kick.moments = [moment(3, 9, 3000), moment(4, 9, 8000)];
    expect(lastMoment(c)?.id).toBe(4);
  });

  it("is null without moments", () => {
    expect(lastMoment(emptyCache())).toBeNull();
  });
});

describe("now watching", () => {
  it("is the active session: starting until it plays, then playing; gone once stopping or over", () => {
    const c = emptyCache();
    expect(nowWatching(c)).toBeNull();
    for (const [status, playing] of [["pending", false], ["starting", false], ["streaming", true]] as const) {
      const s = watchSession(1, status);
      c.watch = watchView({ current: s, history: [s] });
      expect(nowWatching(c)).toEqual({ session: s, playing });
    }
    for (const status of ["stopping", "ended", "failed"] as const) {
      const s = watchSession(1, status);
      c.watch = watchView({ current: s, history: [s] });
      expect(nowWatching(c)).toBeNull();
    }
    c.watch = watchView({ current: null });
    expect(nowWatching(c)).toBeNull();
  });

  it("follows the watch event", () => {
    expect(OVERLAY_EVENTS).toContain("watch");
    const c = emptyCache();
    const s = watchSession(2, "streaming");
    applyEvents(c, [{ kind: "watch", view: watchView({ current: s, history: [s] }) }]);
    expect(nowWatching(c)?.session.id).toBe(s.id);
  });
});

describe("overlayView", () => {
  it("puts the three together", () => {
    const c = withQueue([item(1, "generating", 0), item(2, "pending", 1)]);
    c.chats.main.moments = [moment(5, 7)];
    const v = overlayView(c);
    expect(v.now?.item.id).toBe(1);
    expect(v.next.map((it) => it.id)).toEqual([2]);
    expect(v.lastMoment?.id).toBe(5);
  });
});

describe("minutesAgo", () => {
  it("counts whole minutes", () => {
    expect(minutesAgo(0, 59_999)).toBe("just now");
    expect(minutesAgo(0, 60_000)).toBe("1 min ago");
    expect(minutesAgo(0, 125 * 60_000)).toBe("125 min ago");
    expect(minutesAgo(10_000, 0)).toBe("just now"); // a clock a little ahead
  });
});

describe("momentOfNewSession", () => {
  it("is true only for a dropped moment of a session newer than the listed ones", () => {
    const c = emptyCache();
    c.chats.main.sessionId = 7;
    expect(momentOfNewSession(c, moment(1, 7))).toBe(false); // listed
    expect(momentOfNewSession(c, moment(1, 6))).toBe(false); // older
    expect(momentOfNewSession(c, moment(1, 8))).toBe(true);
    expect(momentOfNewSession(emptyCache(), moment(1, 1))).toBe(true);
  });

  it("is what the reducer leaves when the chat's state is not known", () => {
    const c = emptyCache(); // the overlay: no chat state known
    applyEvents(c, [{ kind: "moment", moment: moment(1, 3) }]);
    expect(lastMoment(c)).toBeNull();
    expect(momentOfNewSession(c, moment(1, 3))).toBe(true);
  });
});

describe("parseEvent", () => {
  it("takes one CoreEvent of the kind it was sent as", () => {
    expect(parseEvent("resync", '{"kind":"resync"}')).toEqual({ kind: "resync" });
    expect(parseEvent("moment", '{"kind":"resync"}')).toBeNull();
    expect(parseEvent("resync", "not json")).toBeNull();
    expect(parseEvent("resync", "null")).toBeNull();
    expect(parseEvent("resync", '"resync"')).toBeNull();
  });
});

describe("bindings", () => {
  it("load where there is no Tauri (no window at all): the overlay imports them", async () => {
    expect(typeof (globalThis as { window?: unknown }).window).toBe("undefined");
    const b = await import("../bindings");
    expect(b.UI_LIMITS.queueFinishedKept).toBeGreaterThan(0);
  });
});
