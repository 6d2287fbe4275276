// The generation queue as the window keeps it: built from the snapshot's QueueView, then kept
// current by `queueItem` (upsert by id), `queueCounters` and `queueSettings` events.
// Pure data; it never touches the DOM (queue-view.ts draws it).

import type { QueueCounters, QueueItem, QueueView, RequestState } from "./bindings";

/** Most finished requests kept (the core sends its 20 latest; events can add a few more). */
export const MAX_FINISHED = 30;

export interface QueueCache {
  /** Active items (waiting, generating, ready) by position, then finished ones, newest first. */
  items: QueueItem[];
  autoApprove: boolean;
  /** Most waiting requests the core accepts; 0 until the first snapshot. */
  maxWaiting: number;
  counters: QueueCounters;
}

export const ZERO_QUEUE_COUNTERS: QueueCounters = {
  accepted: 0,
  cooldownRejects: 0,
  overflowRejects: 0,
  blockedPrompts: 0,
  usageReplies: 0,
  approved: 0,
  skipped: 0,
  moderated: 0,
  pausedRejects: 0,
};

export function emptyQueue(): QueueCache {
  return { items: [], autoApprove: false, maxWaiting: 0, counters: { ...ZERO_QUEUE_COUNTERS } };
}

export function queueFromView(view: QueueView): QueueCache {
  const q: QueueCache = {
    items: [...view.items],
    autoApprove: view.autoApprove,
    maxWaiting: view.maxWaiting,
    counters: view.counters,
  };
  sortAndTrim(q);
  return q;
}

/** Waiting for the generator: counts against the queue's size and can be reordered. */
export function isWaiting(state: RequestState): boolean {
  return state === "pending" || state === "approved";
}

/** Not finished yet: listed first, in queue order. */
export function isActive(state: RequestState): boolean {
  return isWaiting(state) || state === "generating" || state === "ready";
}

export function waitingCount(q: QueueCache): number {
  let n = 0;
  for (const it of q.items) if (isWaiting(it.state)) n++;
  return n;
}

/**
 * Adds a request or replaces the one with its id. A copy older than the one held (an event
 * that was buffered while a newer snapshot was read, or a command's late reply) is ignored.
 */
export function upsertItem(q: QueueCache, item: QueueItem): boolean {
  const i = q.items.findIndex((it) => it.id === item.id);
  if (i >= 0) {
    if (item.updatedAtMs < q.items[i]!.updatedAtMs) return false;
    q.items[i] = item;
  } else {
    q.items.push(item);
  }
  sortAndTrim(q);
  return true;
}

/** The snapshot's order: active by (position, id), then finished by (updatedAtMs desc, id). */
function compare(a: QueueItem, b: QueueItem): number {
  const aActive = isActive(a.state);
  const bActive = isActive(b.state);
  if (aActive !== bActive) return aActive ? -1 : 1;
  if (aActive) return a.position - b.position || a.id - b.id;
  return b.updatedAtMs - a.updatedAtMs || a.id - b.id;
}

function sortAndTrim(q: QueueCache): void {
  q.items.sort(compare);
  let finished = 0;
  q.items = q.items.filter((it) => isActive(it.state) || ++finished <= MAX_FINISHED);
}
