// The reducer (state.ts): snapshots and events in, the cache and the touched slices out.
import { describe, expect, it } from "vitest";
import { DESKTOP, item, NO_SUPPORT, SERVER, snapshot } from "./testFixtures";
import type { ChatState, CoreEvent, Moment, QueueItem, ServerView } from "./bindings";
import {
  applyChatState,
  applyEvents,
  applySnapshot,
  emptyCache,
  listedMoments,
  setHistory,
  slotOfMoment,
  upsertMoment,
  WINDOW_SECS,
} from "./state";

const connected = (sessionId: number, platform: "demo" | "twitch" | "kick" = "twitch"): ChatState => ({
  state: "connected",
  platform,
  channel: "chan",
  sessionId,
});

function moment(id: number, sessionId: number, startedAtMs = id * 1000, ended = true): Moment {
  return {
    id,
    sessionId,
    startedAtMs,
    endedAtMs: ended ? startedAtMs + 500 : null,
    offsetMs: 0,
    triggers: [{ kind: "keyword", label: "CLIP ×5" } as Moment["triggers"][number]],
    strength: 1.5,
    note: "",
  };
}

describe("desktop settings", () => {
  it("come with the snapshot and change with their event only", () => {
    const c = emptyCache();
    applySnapshot(c, snapshot());
    expect(c.desktop).toEqual(DESKTOP);
    const changed = { ...DESKTOP, closeToTray: false, notifyMoments: true };
    const out = applyEvents(c, [{ kind: "desktopSettings", settings: changed }]);
    expect(c.desktop).toEqual(changed);
    expect([...out.touched]).toEqual(["desktop"]);
  });
});

describe("folders", () => {
  it("a chosen folder replaces the paths shown and touches only the About/Folders slice", () => {
    const c = emptyCache();
    applySnapshot(c, snapshot());
    const chosen = { ...c.paths!, clipsDir: "/mnt/big/clips", clipsDirIsDefault: false };
    const out = applyEvents(c, [{ kind: "paths", paths: chosen }]);
    expect(c.paths).toEqual(chosen);
    expect([...out.touched]).toEqual(["meta"]);
  });
});

describe("snapshot", () => {
  it("touches every slice and bumps every version", () => {
    const c = emptyCache();
    const out = applySnapshot(c, snapshot());
    expect(out.touched.size).toBe(Object.keys(c.versions).length);
    expect(Object.values(c.versions).every((v) => v === 1)).toBe(true);
  });

  it("sends each moment to the slot whose session it belongs to", () => {
    const c = emptyCache();
    applySnapshot(
      c,
      snapshot({
        chat: connected(7),
        kick: {
          state: connected(9, "kick"),
          counters: { messages: 3, malformedLines: 0, reconnects: 0, support: NO_SUPPORT },
          velocity: [],
        },
        moments: [moment(2, 9), moment(1, 7), moment(3, 5)],
      }),
    );
    expect(c.chats.main.moments.map((m) => m.id)).toEqual([1]);
    expect(c.chats.kick.moments.map((m) => m.id)).toEqual([2]);
    expect(c.chats.kick.counters.messages).toBe(3);
    expect(listedMoments(c).map((m) => m.id)).toEqual([1, 2]);
    expect(slotOfMoment(c, moment(2, 9))).toBe("kick");
  });

  it("with no open session lists the latest session's moments", () => {
    const c = emptyCache();
    applySnapshot(c, snapshot({ moments: [moment(4, 3), moment(5, 3)] }));
    expect(c.chats.main.sessionId).toBe(3);
    expect(c.chats.main.moments.map((m) => m.id)).toEqual([4, 5]);
  });
});

describe("events", () => {
  it("a velocity point touches only its slot, and a stale one is ignored", () => {
    const c = emptyCache();
    applySnapshot(c, snapshot({ chat: connected(1) }));
    const counters = { messages: 5, malformedLines: 0, reconnects: 0, support: NO_SUPPORT };
    const out = applyEvents(c, [{ kind: "velocity", slot: "main", point: { second: 10, count: 5 }, counters }]);
    expect([...out.touched]).toEqual(["main"]);
    const stale = applyEvents(c, [
      { kind: "velocity", slot: "main", point: { second: 10, count: 9 }, counters: { ...counters, messages: 1 } },
    ]);
    expect(stale.touched.size).toBe(0);
    expect(c.chats.main.counters.messages).toBe(5);
    expect(c.chats.main.velocity).toEqual([{ second: 10, count: 5 }]);
  });

  it("keeps at most WINDOW_SECS seconds of velocity", () => {
    const c = emptyCache();
    const evs: CoreEvent[] = [];
    for (let s = 0; s < WINDOW_SECS + 50; s++) {
      evs.push({ kind: "velocity", slot: "kick", point: { second: s, count: 1 }, counters: { messages: s, malformedLines: 0, reconnects: 0, support: NO_SUPPORT } });
    }
    applyEvents(c, evs);
    expect(c.chats.kick.velocity.length).toBe(WINDOW_SECS);
    expect(c.chats.kick.velocity[0]!.second).toBe(50);
    expect(c.chats.main.velocity.length).toBe(0);
  });

  it("a new session starts its slot from zero, and only its slot", () => {
    const c = emptyCache();
    applySnapshot(c, snapshot({ chat: connected(1), moments: [moment(1, 1)] }));
    applyEvents(c, [{ kind: "velocity", slot: "main", point: { second: 1, count: 2 }, counters: { messages: 2, malformedLines: 0, reconnects: 0, support: NO_SUPPORT } }]);
    applyEvents(c, [{ kind: "chatState", slot: "kick", state: { state: "connecting", platform: "kick", channel: "x" } }]);
    expect(c.chats.main.velocity.length).toBe(1);
    applyChatState(c, "main", { state: "disconnected" });
    applyChatState(c, "main", { state: "connecting", platform: "twitch", channel: "chan" });
    expect(c.chats.main.velocity).toEqual([]);
    expect(c.chats.main.counters.messages).toBe(0);
    expect(c.chats.main.moments).toEqual([]);
  });

  it("a queue item replaces only its own row object", () => {
    const c = emptyCache();
    applySnapshot(c, snapshot({ queue: { items: [item(1, "pending", 1), item(2, "pending", 2)], autoApprove: false, maxWaiting: 10, counters: {} as never } }));
    const before = c.queue.items;
    const row2 = before[1];
    const out = applyEvents(c, [{ kind: "queueItem", item: item(1, "approved", 1, 5) }]);
    expect(out.touched.has("queue")).toBe(true);
    expect(c.queue.items).not.toBe(before);
    expect(c.queue.items[0]!.state).toBe("approved");
    expect(c.queue.items[1]).toBe(row2);
    // An older copy (a late reply) does not roll it back.
    applyEvents(c, [{ kind: "queueItem", item: item(1, "pending", 1, 2) }]);
    expect(c.queue.items[0]!.state).toBe("approved");
  });

  it("keeps progress only while the request is generating", () => {
    const c = emptyCache();
    applySnapshot(c, snapshot({ queue: { items: [item(1, "generating", 1)], autoApprove: false, maxWaiting: 10, counters: {} as never } }));
    const progress = { id: 1, phase: "rendering", attempt: 1 } as never;
    expect(applyEvents(c, [{ kind: "generationProgress", progress }]).touched.has("progress")).toBe(true);
    expect(c.progress.size).toBe(1);
    applyEvents(c, [{ kind: "queueItem", item: item(1, "ready", 1, 9) }]);
    expect(c.progress.size).toBe(0);
    // Progress replayed after the request finished is stale.
    expect(applyEvents(c, [{ kind: "generationProgress", progress }]).touched.size).toBe(0);
  });

  it("the local server's state comes from the snapshot, then from its events, touching only its slice", () => {
    const c = emptyCache();
    applySnapshot(c, snapshot());
    expect(c.localServer?.url).toBe("http://127.0.0.1:7373");
    const moved: ServerView = { ...SERVER, settings: { enabled: true, port: 7400 }, url: "http://127.0.0.1:7400", clients: 2 };
    const out = applyEvents(c, [{ kind: "localServer", server: moved }]);
    expect([...out.touched]).toEqual(["server"]);
    expect(c.localServer).toEqual(moved);
  });

  it("the disk's state comes from its events, touching only its slice", () => {
    const c = emptyCache();
    applySnapshot(c, snapshot());
    expect(c.storage?.phase).toBe("ok");
    const full = { phase: "cannotSave", freeMb: 0, path: "/data", message: "StreamCue cannot save: the disk is full (0 kB free on /data)." } as const;
    const out = applyEvents(c, [{ kind: "storage", storage: full }]);
    expect([...out.touched]).toEqual(["storage"]);
    expect(c.storage).toEqual(full);
  });

  it("resync is reported, not applied", () => {
    const c = emptyCache();
    expect(applyEvents(c, [{ kind: "resync" } as CoreEvent]).resync).toBe(true);
  });
});

describe("moments", () => {
  it("an update replaces the moment in its slot and in the history being viewed", () => {
    const c = emptyCache();
    applySnapshot(c, snapshot({ chat: connected(4), moments: [moment(1, 4)] }));
    setHistory(c, { session: { id: 4 } as never, velocity: [], moments: [moment(1, 4)] });
    const touched = upsertMoment(c, { ...moment(1, 4), note: "great play" });
    expect(touched).toEqual(["history", "main"]);
    expect(c.chats.main.moments[0]!.note).toBe("great play");
    expect(c.history!.moments[0]!.note).toBe("great play");
    expect(listedMoments(c)).toBe(c.history!.moments);
  });

  it("an unknown session's finished moment is dropped; a live one while reconnecting is adopted", () => {
    const c = emptyCache();
    applySnapshot(c, snapshot({ chat: connected(4) }));
    expect(upsertMoment(c, moment(9, 3))).toEqual([]);
    applyChatState(c, "main", {
      state: "reconnecting",
      platform: "twitch",
      channel: "chan",
      attempt: 1,
      retryAtMs: 0,
      reason: "x",
    });
    expect(upsertMoment(c, moment(10, 5, 100, false))).toEqual(["main"]);
    expect(c.chats.main.sessionId).toBe(5);
  });

  it("readings go to the slot they are about and are dropped after disconnect", () => {
    const c = emptyCache();
    applySnapshot(c, snapshot({ chat: connected(4), kick: { state: connected(6, "kick"), counters: { messages: 0, malformedLines: 0, reconnects: 0, support: NO_SUPPORT }, velocity: [] } }));
    const r = { sessionId: 6, rate: 1, baseline: 1, threshold: 3, keywordHits: 0, topEmoteCount: 0 };
    expect([...applyEvents(c, [{ kind: "momentReadings", readings: r }]).touched]).toEqual(["kick"]);
    expect(c.chats.kick.readings).toEqual(r);
    applyEvents(c, [{ kind: "chatState", slot: "kick", state: { state: "disconnected" } }]);
    expect(c.chats.kick.readings).toBeNull();
    expect(applyEvents(c, [{ kind: "momentReadings", readings: r }]).touched.size).toBe(0);
  });
});
