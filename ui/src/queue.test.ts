// The queue's pure helpers (queue.ts): order, stale copies, trimming, counts, and the helpers the
// queue panel and the limits strip use.
import { describe, expect, it } from "vitest";
import { item } from "./testFixtures";
import type { ApiError, QueueItem, QueueView, RequestState } from "./bindings";
import {
  actionsFor,
  canMove,
  countInWindow,
  countRunning,
  emptyQueue,
  isActive,
  isWaiting,
  limitTone,
  MAX_FINISHED,
  newestActiveCreatedAt,
  nextExpiry,
  progressPercent,
  type QueueCache,
  queueErrorText,
  queueFromView,
  upsertItem,
  waitingCount,
  waitingPlaces,
  ZERO_QUEUE_COUNTERS,
} from "./queue";


function view(items: QueueItem[]): QueueView {
  return { items, autoApprove: false, maxWaiting: 10, counters: { ...ZERO_QUEUE_COUNTERS } };
}

const ids = (q: QueueCache): number[] => q.items.map((it) => it.id);

describe("states", () => {
  it("waiting is pending or approved; active adds generating and ready", () => {
    const all: RequestState[] = ["pending", "approved", "generating", "ready", "shown", "skipped", "failed", "interrupted"];
    expect(all.filter(isWaiting)).toEqual(["pending", "approved"]);
    expect(all.filter(isActive)).toEqual(["pending", "approved", "generating", "ready"]);
  });
});

describe("ordering", () => {
  it("lists active requests by position (then id), then finished ones newest first", () => {
    const q = queueFromView(
      view([
        item(1, "shown", 0, 100),
        item(2, "pending", 3),
        item(3, "skipped", 0, 300),
        item(4, "approved", 1),
        item(5, "generating", 0),
        item(6, "pending", 3),
        item(7, "failed", 0, 300),
      ]),
    );
    // Active: 5 (pos 0), 4 (pos 1), 2 and 6 (pos 3, by id). Finished: 3 and 7 (300, by id), then 1.
    expect(ids(q)).toEqual([5, 4, 2, 6, 3, 7, 1]);
  });

  it("re-sorts when an update changes a request's position or state", () => {
    const q = queueFromView(view([item(1, "pending", 1), item(2, "pending", 2), item(3, "pending", 3)]));
    expect(upsertItem(q, item(3, "pending", 0, 2))).toBe(true);
    expect(ids(q)).toEqual([3, 1, 2]);
    // Skipped: it leaves the active part and goes to the finished part.
    expect(upsertItem(q, item(1, "skipped", 1, 3))).toBe(true);
    expect(ids(q)).toEqual([3, 2, 1]);
    expect(q.items[2]!.state).toBe("skipped");
  });

  it("adds a request it did not list yet", () => {
    const q = emptyQueue();
    expect(upsertItem(q, item(9, "pending", 4))).toBe(true);
    expect(upsertItem(q, item(8, "pending", 5))).toBe(true);
    expect(ids(q)).toEqual([9, 8]);
  });
});

describe("stale copies", () => {
  it("ignores a copy older than the one held", () => {
    const q = queueFromView(view([item(1, "approved", 1, 50)]));
    expect(upsertItem(q, item(1, "pending", 1, 40))).toBe(false);
    expect(q.items[0]!.state).toBe("approved");
    expect(q.items[0]!.updatedAtMs).toBe(50);
  });

  it("takes a copy as new as the one held (the same change from a reply and an event)", () => {
    const q = queueFromView(view([item(1, "pending", 1, 50)]));
    expect(upsertItem(q, item(1, "approved", 1, 50))).toBe(true);
    expect(q.items[0]!.state).toBe("approved");
  });
});

describe("trimming", () => {
  it("keeps at most MAX_FINISHED finished requests (the newest) and every active one", () => {
    const finished = Array.from({ length: MAX_FINISHED + 5 }, (_, i) => item(100 + i, "shown", 0, 1000 + i));
    const active = Array.from({ length: 12 }, (_, i) => item(i + 1, "pending", i));
    const q = queueFromView(view([...finished, ...active]));
    expect(q.items.filter((it) => !isActive(it.state))).toHaveLength(MAX_FINISHED);
    expect(q.items.filter((it) => isActive(it.state))).toHaveLength(12);
    // The five oldest finished ones (100..104) went.
    const kept = new Set(ids(q));
    for (let id = 100; id < 105; id++) expect(kept.has(id)).toBe(false);
    expect(kept.has(100 + MAX_FINISHED + 4)).toBe(true);
    // A newly finished request pushes out the oldest kept one.
    upsertItem(q, item(1, "skipped", 0, 5000));
    expect(q.items.filter((it) => !isActive(it.state))).toHaveLength(MAX_FINISHED);
    expect(new Set(ids(q)).has(105)).toBe(false);
    expect(q.items[11]!.id).toBe(1);
  });
});

describe("counts and places", () => {
  const q = queueFromView(
    view([
      item(1, "generating", 0),
      item(2, "pending", 2),
      item(3, "approved", 1),
      item(4, "ready", 0),
      item(5, "skipped", 0, 9),
      item(6, "pending", 5),
    ]),
  );

  it("counts only waiting requests", () => {
    expect(waitingCount(q)).toBe(3);
    expect(waitingCount(emptyQueue())).toBe(0);
  });

  it("numbers the waiting requests in queue order", () => {
    expect([...waitingPlaces(q)]).toEqual([
      [3, 0],
      [2, 1],
      [6, 2],
    ]);
  });

  it("lets a waiting request move only where there is room", () => {
    expect(canMove(q, 3, true)).toBe(false);
    expect(canMove(q, 3, false)).toBe(true);
    expect(canMove(q, 2, true)).toBe(true);
    expect(canMove(q, 6, false)).toBe(false);
    expect(canMove(q, 1, true)).toBe(false); // generating: not waiting
    expect(canMove(q, 42, false)).toBe(false); // not listed
  });

  it("finds the newest active request (the age clock's step), ignoring finished ones", () => {
    const r = queueFromView(view([item(1, "pending", 1, 1, 500), item(2, "ready", 0, 1, 900), item(3, "shown", 0, 2, 2000)]));
    expect(newestActiveCreatedAt(r)).toBe(900);
    expect(newestActiveCreatedAt(queueFromView(view([item(3, "shown", 0, 2, 2000)])))).toBeNull();
  });
});

describe("row actions", () => {
  it("offers what the core allows in each state", () => {
    expect(actionsFor("pending")).toEqual(["approve", "skip"]);
    expect(actionsFor("approved")).toEqual(["skip"]);
    expect(actionsFor("generating")).toEqual([]);
    expect(actionsFor("ready")).toEqual(["showAgain"]);
    expect(actionsFor("shown")).toEqual(["showAgain"]);
    expect(actionsFor("failed")).toEqual(["retry", "skip"]);
    expect(actionsFor("interrupted")).toEqual(["retry", "skip"]);
    expect(actionsFor("skipped")).toEqual(["retry"]);
  });

  it("names the viewer when their request changed before the click", () => {
    const it1 = { ...item(7, "approved", 1), displayName: "NeonFox" };
    const err: ApiError = { code: "InvalidTransition", message: "request 7 is approved, not pending" };
    expect(queueErrorText(err, { item: it1, action: "approve" })).toBe(
      "NeonFox's request changed before your click arrived, so it was not approved. The list is up to date now.",
    );
    expect(queueErrorText({ code: "UnknownRequest", message: "no request 7" }, { item: it1, action: "moveUp" })).toContain(
      "so it was not moved.",
    );
    // Without a display name, the login.
    expect(queueErrorText(err, { item: { ...it1, displayName: "" }, action: "showAgain" })).toMatch(/^u7's request .* not shown again\./);
    // Not listed any more, or another error: the core's words.
    expect(queueErrorText(err, { item: undefined, action: "skip" })).toBe(err.message);
    expect(queueErrorText({ code: "Database", message: "disk full" }, { item: it1, action: "skip" })).toBe("disk full");
  });

  it("clamps progress to a whole percentage, null when unknown", () => {
    expect(progressPercent(undefined)).toBeNull();
    expect(progressPercent({ id: 1, phase: "downloading", attempt: 1, percent: null, bytes: 10 })).toBeNull();
    expect(progressPercent({ id: 1, phase: "downloading", attempt: 1, percent: 41.6, bytes: 10 })).toBe(42);
    expect(progressPercent({ id: 1, phase: "rendering", attempt: 1, percent: 140, bytes: 0 })).toBe(100);
  });
});

describe("limits", () => {
  it("tones a count by how close it is to its limit", () => {
    expect(limitTone(0, 20)).toBe("ok");
    expect(limitTone(14, 20)).toBe("ok");
    expect(limitTone(15, 20)).toBe("warn");
    expect(limitTone(20, 20)).toBe("err");
    expect(limitTone(25, 20)).toBe("err");
    expect(limitTone(1, 2)).toBe("warn"); // one short of a small limit
    expect(limitTone(9, 10)).toBe("warn");
    expect(limitTone(3, 0)).toBe("ok"); // no known limit
  });

  it("counts sends inside the sliding window as of now", () => {
    const sent = [1000, 20_000, 29_999, 31_000];
    expect(countInWindow(sent, 30_000, 31_000)).toBe(3); // 1000 left at 31 000
    expect(countInWindow(sent, 30_000, 50_000)).toBe(2); // 20 000 left exactly at 50 000
    expect(countInWindow(sent, 30_000, 61_000)).toBe(0);
    expect(countInWindow([], 30_000, 0)).toBe(0);
  });

  it("counts running cooldowns and finds the next expiry", () => {
    expect(countRunning([5, 10, 15], 10)).toBe(1);
    expect(countRunning([], 10)).toBe(0);
    expect(nextExpiry([15, 12, 5], 10)).toBe(12);
    expect(nextExpiry([5, 10], 10)).toBeNull();
  });
});
