// The reactive face of the pure reducer (state.ts): one cache, one version signal per slice.
// A component reads `use(slice)` (or `sliceOf`) and re-renders only when that slice changes.
// The data comes from a *source*: the window's is Tauri's IPC (tauriSource.ts), the OBS
// overlay's the local server's HTTP and Server-Sent Events (overlay/source.ts). Either gives a
// snapshot, then batches of events; while a snapshot is being fetched the batches wait, and are
// applied after it (duplicates are ignored by the reducer).

import { batch, signal, type Signal } from "@preact/signals";
import type { ApiError, CoreEvent, Result } from "./bindings";
import { ALL_SLICES, applyEvents, type ApplyOutcome, type Cache, emptyCache, type Slice } from "./state";

/** The one cache. Components read it through `use()`; only reducer functions write it. */
export const cache: Cache = emptyCache();

/** One signal per slice, holding that slice's version. */
const versions = Object.fromEntries(ALL_SLICES.map((s) => [s, signal(0)])) as Record<Slice, Signal<number>>;

/** Subscribes the calling component (or computed/effect) to a slice and returns the cache. */
export function use(...slices: Slice[]): Cache {
  for (const s of slices) void versions[s].value;
  return cache;
}

/** Tells the subscribers of these slices that the cache changed (after a reducer call). */
export function notify(slices: Iterable<Slice>): void {
  batch(() => {
    for (const s of slices) versions[s].value = cache.versions[s];
  });
}

/** Runs a reducer function on the cache and notifies the slices it names. */
export function update(slices: Slice[], change: (c: Cache) => void): void {
  change(cache);
  for (const s of slices) cache.versions[s]++;
  notify(slices);
}

/** A full-window error: the engine is not usable. */
export interface Fatal {
  title: string;
  explain: string;
  message: string;
  /** Try again: start the engine again (it did not start) rather than only reload its state. */
  startAgain: boolean;
  /** Offer "Move it aside and start fresh" (a damaged database). */
  moveAside: boolean;
}

export const fatal = signal<Fatal | null>(null);
/** Whether the first snapshot has arrived (cards that need settings wait for it). */
export const loaded = signal(false);

/** The codes of an engine that did not start (each explained on its own). */
export const STARTUP_CODES: ReadonlySet<ApiError["code"]> = new Set([
  "StartupFailed",
  "DatabaseLocked",
  "DatabaseTooNew",
  "DatabaseCorrupt",
  "DatabaseUnusable",
]);

const STARTUP_EXPLAIN: Partial<Record<ApiError["code"], string>> = {
  DatabaseLocked:
    "Another program holds StreamCue's database: most likely another StreamCue, maybe under another user " +
    "or from another install. Close it, then try again.",
  DatabaseTooNew:
    "The database was written by a newer StreamCue. Update StreamCue, or start it with another data folder " +
    "(--data-dir). Nothing was changed in the file.",
  DatabaseCorrupt:
    "The database file is damaged or is not a StreamCue database. Move it aside and start fresh: it is renamed " +
    "with the date (never deleted), so it can still be rescued; your clips stay where they are.",
  DatabaseUnusable:
    "StreamCue cannot open or write its database. The message below says why (a folder in its place, a " +
    "read-only folder, a disk error or a full disk); fix that, then try again.",
};

export function fatalFrom(err: ApiError): Fatal {
  if (STARTUP_CODES.has(err.code)) {
    return {
      title: "StreamCue could not start",
      explain:
        STARTUP_EXPLAIN[err.code] ??
        "Its engine (which reads chat and saves your sessions) did not start, so there is nothing to show. " +
          "The message below says why.",
      message: err.message,
      startAgain: true,
      moveAside: err.code === "DatabaseCorrupt",
    };
  }
  return {
    title: "StreamCue could not load its state",
    explain: "The window could not read the current state from StreamCue's engine.",
    message: `${err.code}: ${err.message}`,
    startAgain: false,
    moveAside: false,
  };
}

// ---- Sources ---------------------------------------------------------------------------------

/** Where the store's state comes from. `S` is the source's snapshot type. */
export interface StoreSource<S> {
  /** Reads a fresh snapshot (or says why it could not). */
  snapshot(): Promise<Result<S, ApiError>>;
  /** Puts a snapshot into the cache: one of state.ts's pure reducers. */
  apply(cache: Cache, snap: S): ApplyOutcome;
  /**
   * Subscribes to the core's events; resolves once subscribed (a rejection is fatal). `missed`
   * says that events were lost outside the stream (e.g. it reconnected): a snapshot is needed,
   * even if one is being read (it may predate what was lost).
   */
  listen(onBatch: (events: CoreEvent[]) => void, missed: () => void): Promise<void>;
  /** Runs once, with the first snapshot, after it was applied (inside the same batch). */
  loaded?(snap: S): void;
}

/** A snapshot read by the started source, ready to be applied (its type closed over). */
interface ReadSnapshot {
  apply(): ApplyOutcome;
  loaded(): void;
}

/** Reads a snapshot from the started source; null until `startStore`. */
let read: (() => Promise<Result<ReadSnapshot, ApiError>>) | null = null;

// ---- Events and snapshots -------------------------------------------------------------------

/** While a snapshot is being fetched, event batches wait here. */
let buffered: CoreEvent[][] | null = [];
/** Most batches kept while waiting; past that they are dropped and a fresh snapshot is taken. */
const MAX_BUFFERED = 1000;
let overflowed = false;
let syncRunning = false;
/** The source missed events while a snapshot was being read: read another one after it. */
let rerun = false;

function onBatch(batchOfEvents: CoreEvent[]): void {
  if (buffered) {
    if (buffered.length < MAX_BUFFERED) buffered.push(batchOfEvents);
    else overflowed = true;
    return;
  }
  const out = applyEvents(cache, batchOfEvents);
  notify(out.touched);
  if (out.resync) void resync();
}

function missed(): void {
  if (syncRunning) rerun = true;
  else void resync();
}

/** Fetches a snapshot, applies it, then the events that arrived meanwhile. */
export async function resync(): Promise<void> {
  if (syncRunning || !read) return;
  syncRunning = true;
  buffered ??= [];
  try {
    const res = await read();
    if (res.status === "error") {
      fatal.value = fatalFrom(res.error);
      return;
    }
    const touched = res.data.apply().touched;
    const pending = buffered;
    buffered = null;
    let again = overflowed;
    overflowed = false;
    for (const b of pending) {
      const out = applyEvents(cache, b);
      for (const s of out.touched) touched.add(s);
      again = out.resync || again;
    }
    batch(() => {
      fatal.value = null;
      notify(touched);
      if (!loaded.value) {
        loaded.value = true;
        res.data.loaded();
      }
    });
    if (again) queueMicrotask(() => void resync());
  } catch (e) {
    fatal.value = fatalFrom({ code: "Internal", message: String(e) });
  } finally {
    syncRunning = false;
    if (rerun) {
      rerun = false;
      queueMicrotask(() => void resync());
    }
  }
}

/** Subscribes to the source's events, then loads the first snapshot. Call once. */
export async function startStore<S>(source: StoreSource<S>): Promise<void> {
  read = async () => {
    const res = await source.snapshot();
    if (res.status === "error") return res;
    const snap = res.data;
    return { status: "ok", data: { apply: () => source.apply(cache, snap), loaded: () => source.loaded?.(snap) } };
  };
  try {
    await source.listen(onBatch, missed);
  } catch (e) {
    fatal.value = fatalFrom({
      code: "Internal",
      message: `Could not subscribe to StreamCue's events: ${String(e)}`,
    });
    return;
  }
  await resync();
}

/** Sets `ALL` slices as changed (tests and the theme switch use it). */
export function notifyAll(): void {
  notify(ALL_SLICES);
}
