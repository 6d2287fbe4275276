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
  /** Whether trying again can help (not when the engine failed to start). */
  retry: boolean;
}

export const fatal = signal<Fatal | null>(null);
/** Whether the first snapshot has arrived (cards that need settings wait for it). */
export const loaded = signal(false);

export function fatalFrom(err: ApiError): Fatal {
  return err.code === "StartupFailed"
    ? {
        title: "StreamCue could not start",
        explain:
          "Its engine (which reads chat and saves your sessions) did not start, so there is nothing to show. " +
          "This usually means another StreamCue window is already open and holds the database, or the data " +
          "was written by a newer StreamCue. Close other StreamCue windows, then restart the app.",
        message: err.message,
        retry: false,
      }
    : {
        title: "StreamCue could not load its state",
        explain: "The window could not read the current state from StreamCue's engine.",
        message: `${err.code}: ${err.message}`,
        retry: true,
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
