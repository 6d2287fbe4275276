// What the overlay shows, picked from the shared cache by pure functions (no DOM, no clock: the
// caller passes the time). The overlay keeps the window's cache and reducer (state.ts); these
// selectors are its only view of them.

import type { CoreEvent, GenerationProgress, Moment, QueueItem, WatchSessionView } from "../bindings";
import { isWaiting, progressPercent } from "../queue";
import { type Cache, slotOfMoment } from "../state";

/** Waiting requests listed under "Up next". */
export const NEXT_SHOWN = 3;

/**
 * The events the overlay follows (the others change nothing it shows): the queue and its
 * progress, moments, and the chats' states (which session the moments belong to).
 */
export const OVERLAY_EVENTS: readonly CoreEvent["kind"][] = [
  "queueItem",
  "queueCounters",
  "queueSettings",
  "generationProgress",
  "moment",
  "chatState",
  "watch",
  "resync",
];

export interface NowGenerating {
  item: QueueItem;
  /** 0–100, or null when the size is not known (or no progress came yet). */
  percent: number | null;
}

/** The watch-along on screen: "Now watching" once it plays, "Starting…" before. */
export interface NowWatching {
  session: WatchSessionView;
  playing: boolean;
}

/** The active watch-along session, unless it is being stopped (then the overlay drops it). */
export function nowWatching(cache: Cache): NowWatching | null {
  const s = cache.watch?.current;
  if (!s || s.status === "stopping" || s.status === "ended" || s.status === "failed") return null;
  return { session: s, playing: s.status === "streaming" };
}

export interface OverlayView {
  watch: NowWatching | null;
  now: NowGenerating | null;
  /** At most NEXT_SHOWN, in queue order. */
  next: QueueItem[];
  lastMoment: Moment | null;
}

/** The request being generated (the first in queue order, should there be more), with its
 *  progress when the cache has it. */
export function nowGenerating(cache: Cache): NowGenerating | null {
  const item = cache.queue.items.find((it) => it.state === "generating");
  if (!item) return null;
  const progress: GenerationProgress | undefined = cache.progress.get(item.id);
  return { item, percent: progressPercent(progress) };
}

/** The next waiting requests (pending or approved), in queue order (the cache keeps it). */
export function upNext(cache: Cache, n = NEXT_SHOWN): QueueItem[] {
  const next: QueueItem[] = [];
  for (const it of cache.queue.items) {
    if (next.length >= n) break;
    if (isWaiting(it.state)) next.push(it);
  }
  return next;
}

/** The latest moment of the live (or last) sessions, either chat's; null when none. */
export function lastMoment(cache: Cache): Moment | null {
  let last: Moment | null = null;
  for (const c of Object.values(cache.chats)) {
    const m = c.moments[c.moments.length - 1]; // oldest first
    if (m && (!last || m.startedAtMs > last.startedAtMs || (m.startedAtMs === last.startedAtMs && m.id > last.id))) {
      last = m;
    }
  }
  return last;
}

export function overlayView(cache: Cache): OverlayView {
  return { watch: nowWatching(cache), now: nowGenerating(cache), next: upNext(cache), lastMoment: lastMoment(cache) };
}

/** "just now" under a minute, then "N min ago" (whole minutes; a future time is "just now"). */
export function minutesAgo(atMs: number, nowMs: number): string {
  const min = Math.floor((nowMs - atMs) / 60_000);
  return min < 1 ? "just now" : `${min} min ago`;
}

/**
 * Whether a moment the cache did not place belongs to a session newer than any it lists. The
 * overlay is not told the chats' states until one changes, so the first moment of a session
 * already live when the page loaded finds no slot and the reducer drops it; a fresh snapshot
 * (the latest session's moments: a moment is written before it is announced) brings it in.
 */
export function momentOfNewSession(cache: Cache, m: Moment): boolean {
  if (slotOfMoment(cache, m) !== null) return false;
  return Object.values(cache.chats).every((c) => c.sessionId === null || m.sessionId > c.sessionId);
}
