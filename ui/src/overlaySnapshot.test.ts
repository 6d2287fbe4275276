// applyOverlaySnapshot (state.ts): the overlay page's snapshot into the shared cache.
import { describe, expect, it } from "vitest";
import { item, watchView } from "./testFixtures";
import type { ChatState, Moment, OverlaySnapshot, QueueItem } from "./bindings";
import { applyEvents, applyOverlaySnapshot, emptyCache } from "./state";


function moment(id: number, sessionId: number, startedAtMs = id * 1000): Moment {
  return {
    id,
    sessionId,
    startedAtMs,
    endedAtMs: startedAtMs + 500,
    offsetMs: 0,
    triggers: [{ kind: "keyword", label: "CLIP ×5", name: "clip", value: 5, threshold: 5, baseline: null }],
    strength: 1,
    note: "",
  };
}

const COUNTERS = {
  accepted: 3,
  cooldownRejects: 0,
  overflowRejects: 0,
  blockedPrompts: 0,
  usageReplies: 0,
  approved: 1,
  skipped: 0,
  moderated: 0,
  pausedRejects: 0,
};

function snap(items: QueueItem[], moments: Moment[], watch = watchView()): OverlaySnapshot {
  return { queue: { items, autoApprove: true, maxWaiting: 10, counters: COUNTERS }, moments, watch };
}

const connected = (sessionId: number, platform: "twitch" | "kick" = "twitch"): ChatState => ({
  state: "connected",
  platform,
  channel: "chan",
  sessionId,
});

describe("applyOverlaySnapshot", () => {
  it("replaces the queue (in queue order) and puts the moments in the main slot, oldest first", () => {
    const c = emptyCache();
    applyEvents(c, [{ kind: "queueItem", item: item(99, "pending", 0) }]);
    const out = applyOverlaySnapshot(c, snap([item(2, "pending", 2), item(1, "generating", 1)], [moment(6, 4), moment(5, 4)]));
    expect(out.resync).toBe(false);
    expect(c.queue.items.map((it) => it.id)).toEqual([1, 2]);
    expect(c.queue.autoApprove).toBe(true);
    expect(c.queue.counters).toEqual(COUNTERS);
    expect(c.chats.main.moments.map((m) => m.id)).toEqual([5, 6]);
    expect(c.chats.main.sessionId).toBe(4);
    expect(c.chats.kick.moments).toEqual([]);
  });

  it("takes the watch-along card whole", () => {
    const c = emptyCache();
    const view = watchView();
    applyOverlaySnapshot(c, snap([], [], view));
    expect(c.watch).toEqual(view);
  });

  it("touches the queue, the progress, the watch-along and the slot it changed, nothing else", () => {
    const c = emptyCache();
    const out = applyOverlaySnapshot(c, snap([], [moment(1, 4)]));
    expect([...out.touched].sort()).toEqual(["main", "progress", "queue", "watch"]);
    expect(c.versions.queue).toBe(1);
    expect(c.versions.main).toBe(1);
    expect(c.versions.kick).toBe(0);
    expect(c.versions.generator).toBe(0);
    // No moments and none listed: the chats are left alone.
    expect([...applyOverlaySnapshot(emptyCache(), snap([], [])).touched].sort()).toEqual(["progress", "queue", "watch"]);
  });

  it("leaves what it is not about alone (the chats' states, notices, settings)", () => {
    const c = emptyCache();
    applyEvents(c, [{ kind: "chatState", slot: "main", state: connected(4) }]);
    const before = { chat: c.chats.main.chat, version: c.chats.main.version, notices: c.notices };
    applyOverlaySnapshot(c, snap([], [moment(1, 4)]));
    expect(c.chats.main.chat).toBe(before.chat);
    expect(c.chats.main.version).toBe(before.version);
    expect(c.notices).toBe(before.notices);
    expect(c.generator).toBeNull();
  });

  it("places the moments by the chats' states its events told, as the window's snapshot does", () => {
    const c = emptyCache();
    applyEvents(c, [{ kind: "chatState", slot: "kick", state: connected(9, "kick") }]);
    applyOverlaySnapshot(c, snap([], [moment(1, 9), moment(2, 9)]));
    expect(c.chats.kick.moments.map((m) => m.id)).toEqual([1, 2]);
    expect(c.chats.main.moments).toEqual([]);
  });

  it("is followed by the events: a new moment of the session joins the list", () => {
    const c = emptyCache();
    applyOverlaySnapshot(c, snap([], [moment(1, 4)]));
    const out = applyEvents(c, [{ kind: "moment", moment: moment(2, 4) }]);
    expect([...out.touched]).toEqual(["main"]);
    expect(c.chats.main.moments.map((m) => m.id)).toEqual([1, 2]);
  });

  it("drops progress of requests no longer generating, keeps the live one's", () => {
    const c = emptyCache();
    applyEvents(c, [
      { kind: "queueItem", item: item(1, "generating", 0) },
      { kind: "queueItem", item: item(2, "generating", 1) },
      { kind: "generationProgress", progress: { id: 1, phase: "downloading", attempt: 1, percent: 10, bytes: 1 } },
      { kind: "generationProgress", progress: { id: 2, phase: "downloading", attempt: 1, percent: 20, bytes: 1 } },
    ]);
    applyOverlaySnapshot(c, snap([item(1, "ready", 0, 2), item(2, "generating", 1)], []));
    expect([...c.progress.keys()]).toEqual([2]);
  });

  it("a resync with the same moments keeps them, a newer session's replace them", () => {
    const c = emptyCache();
    applyOverlaySnapshot(c, snap([], [moment(1, 4)]));
    applyOverlaySnapshot(c, snap([], [moment(1, 4)]));
    expect(c.chats.main.moments.map((m) => m.id)).toEqual([1]);
    applyOverlaySnapshot(c, snap([], [moment(7, 5)]));
    expect(c.chats.main.moments.map((m) => m.id)).toEqual([7]);
    expect(c.chats.main.sessionId).toBe(5);
  });
});
