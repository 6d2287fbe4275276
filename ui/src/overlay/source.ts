// The overlay's source for the store: the local server's `GET /overlay/snapshot` (JSON
// OverlaySnapshot) and `GET /events` (Server-Sent Events: `event: <kind>`, `data: <one
// CoreEvent>`), both on the page's own origin. Nothing here touches Tauri: the page runs in
// OBS's browser source, or any browser.
//
// Invariants: each event goes to the store as a batch of one, in arrival order; an `open` that
// follows an `error` (EventSource reconnected by itself) reports the gap as `missed`, since
// events were lost meanwhile.

import type { ApiError, CoreEvent, OverlaySnapshot, Result } from "../bindings";
import { applyOverlaySnapshot } from "../state";
import type { StoreSource } from "../store";

export const SNAPSHOT_PATH = "/overlay/snapshot";
export const EVENTS_PATH = "/events";

export interface HttpSourceOptions {
  /** The event kinds to follow (an EventSource delivers only the named events listened to). */
  kinds: readonly CoreEvent["kind"][];
  /** True when the event stream opens, false when it fails (it then reconnects by itself). */
  onLive(live: boolean): void;
  /** Asked after each event was handed over: true when it shows the cache lacks something
   *  a fresh snapshot has. */
  needsSnapshot?(event: CoreEvent): boolean;
}

function failure(message: string): Result<never, ApiError> {
  return { status: "error", error: { code: "Internal", message } };
}

/** One SSE message's data as a CoreEvent of the kind it was sent as, or null. */
export function parseEvent(kind: string, data: string): CoreEvent | null {
  try {
    const ev: unknown = JSON.parse(data);
    return typeof ev === "object" && ev !== null && (ev as { kind?: unknown }).kind === kind ? (ev as CoreEvent) : null;
  } catch {
    return null;
  }
}

export function httpSource(opts: HttpSourceOptions): StoreSource<OverlaySnapshot> {
  return {
    async snapshot() {
      try {
        const res = await fetch(SNAPSHOT_PATH, { cache: "no-store", headers: { Accept: "application/json" } });
        if (!res.ok) return failure(`GET ${SNAPSHOT_PATH}: HTTP ${res.status}`);
        return { status: "ok", data: (await res.json()) as OverlaySnapshot };
      } catch (e) {
        return failure(`GET ${SNAPSHOT_PATH}: ${String(e)}`);
      }
    },
    apply: applyOverlaySnapshot,
    listen(onBatch, missed) {
      // Resolves on the first open (or failure: the first snapshot is tried anyway, and the
      // reconnect's `open` fetches another).
      return new Promise((subscribed) => {
        const stream = new EventSource(EVENTS_PATH);
        let failed = false;
        stream.addEventListener("open", () => {
          opts.onLive(true);
          if (failed) {
            failed = false;
            missed();
          }
          subscribed();
        });
        stream.addEventListener("error", () => {
          failed = true;
          opts.onLive(false);
          subscribed();
        });
        for (const kind of opts.kinds) {
          stream.addEventListener(kind, (msg) => {
            const ev = parseEvent(kind, (msg as MessageEvent<string>).data);
            if (!ev) return;
            onBatch([ev]);
            if (opts.needsSnapshot?.(ev)) missed();
          });
        }
      });
    },
  };
}
