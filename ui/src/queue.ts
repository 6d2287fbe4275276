// The generation queue as the window keeps it: built from the snapshot's QueueView, then kept
// current by `queueItem` (upsert by id), `queueCounters` and `queueSettings` events.
// Pure data and pure helpers: no DOM and no `navigator` (the unit tests run them in Node).
// components/QueuePanel.tsx draws the queue; components/LimitsStrip.tsx counts the limits with
// the helpers at the end.

import { UI_LIMITS } from "./bindings";
import type {
  ApiError,
  GenerationProgress,
  QueueAction,
  QueueCounters,
  QueueItem,
  QueueView,
  RequestState,
} from "./bindings";

/** Most finished requests kept (the core sends its 20 latest; events can add a few more). */
export const MAX_FINISHED = UI_LIMITS.queueFinishedKept;

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

// ---- What the panel shows ---------------------------------------------------------------------

/** A row button, as named in its `data-action` (the window tests rely on these names). */
export type RowAction = "approve" | "skip" | "retry" | "up" | "down" | "showAgain";

/** The core's action behind each row button. */
export const ROW_ACTIONS: Record<RowAction, QueueAction> = {
  approve: "approve",
  skip: "skip",
  retry: "retry",
  up: "moveUp",
  down: "moveDown",
  showAgain: "showAgain",
};

/** What the streamer can do with a request in each state (the core allows exactly these);
 *  the move arrows come on top of these for waiting requests. */
export function actionsFor(state: RequestState): RowAction[] {
  switch (state) {
    case "pending":
      return ["approve", "skip"];
    case "approved":
      return ["skip"];
    case "failed":
    case "interrupted":
      return ["retry", "skip"];
    case "skipped":
      return ["retry"];
    case "ready":
    case "shown":
      return ["showAgain"];
    case "generating":
      return [];
  }
}

/** Each waiting request's place among the waiting ones (0 = next), in queue order: what viewers
 *  are told ("#2 in the queue"). */
export function waitingPlaces(q: QueueCache): Map<number, number> {
  const places = new Map<number, number>();
  for (const it of q.items) if (isWaiting(it.state)) places.set(it.id, places.size);
  return places;
}

/** Whether the request can move one place up (or down) among the waiting ones. */
export function canMove(q: QueueCache, id: number, up: boolean): boolean {
  const places = waitingPlaces(q);
  const at = places.get(id);
  if (at === undefined) return false;
  return up ? at > 0 : at < places.size - 1;
}

/** When the newest active request was made (its age sets the panel clock's step); null when
 *  no active request is listed (nothing shows a live age then). */
export function newestActiveCreatedAt(q: QueueCache): number | null {
  let newest: number | null = null;
  for (const it of q.items) {
    if (isActive(it.state) && (newest === null || it.createdAtMs > newest)) newest = it.createdAtMs;
  }
  return newest;
}

/** The percentage a progress bar shows (0–100), or null when the size is not known. */
export function progressPercent(p: GenerationProgress | null | undefined): number | null {
  if (!p || p.percent === null) return null;
  return Math.max(0, Math.min(100, Math.round(p.percent)));
}

/** How the error line names a finished action. */
const DONE: Record<QueueAction, string> = {
  approve: "approved",
  skip: "skipped",
  retry: "retried",
  moveUp: "moved",
  moveDown: "moved",
  showAgain: "shown again",
};

/** The viewer a request belongs to, as chat shows them. */
export function viewerName(it: QueueItem): string {
  return it.displayName || it.userLogin;
}

/**
 * The panel's text for a failed queue command. When the request changed (or went) since the
 * panel was drawn, the core's message names it by id, which the panel does not show: name the
 * viewer instead (`item`: the request as the panel had it, if it still lists it).
 */
export function queueErrorText(err: ApiError, about?: { item: QueueItem | undefined; action: QueueAction }): string {
  if ((err.code === "UnknownRequest" || err.code === "InvalidTransition") && about?.item) {
    return (
      `${viewerName(about.item)}'s request changed before your click arrived, so it was not ` +
      `${DONE[about.action]}. The list is up to date now.`
    );
  }
  return err.message;
}

// ---- The limits strip ---------------------------------------------------------------------------

/** How close a count is to its limit: "ok", "warn" from 75 % on (and one short of a small
 *  limit), "err" at (or past) it. A limit of 0 or less is unknown: "ok". */
export function limitTone(used: number, limit: number): "ok" | "warn" | "err" {
  if (limit <= 0) return "ok";
  if (used >= limit) return "err";
  if (used >= limit * 0.75 || used >= limit - 1) return "warn";
  return "ok";
}

/** Sends still inside the sliding window as of `nowMs` (a send counts until `sentAt + windowMs`). */
export function countInWindow(sentAtMs: readonly number[], windowMs: number, nowMs: number): number {
  let n = 0;
  for (const t of sentAtMs) if (t + windowMs > nowMs) n++;
  return n;
}

/** Cooldowns still running as of `nowMs`. */
export function countRunning(endsAtMs: readonly number[], nowMs: number): number {
  let n = 0;
  for (const t of endsAtMs) if (t > nowMs) n++;
  return n;
}

/** The first moment after `nowMs` at which one of these counts drops (a send leaves the
 *  window, a cooldown ends), or null when nothing is counting down. */
export function nextExpiry(times: readonly number[], nowMs: number): number | null {
  let next: number | null = null;
  for (const t of times) if (t > nowMs && (next === null || t < next)) next = t;
  return next;
}
