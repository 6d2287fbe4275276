// The one way components call the core: `run()` turns every outcome (ok, a typed error, a
// thrown rejection) into a `Outcome`, and handles the codes that concern the whole window;
// `useCommand()` adds the busy flag and the last error a button and its error line need.

import { useSignal } from "@preact/signals";
import type { ApiError, ErrorCode } from "./bindings";
import { fatal, fatalFrom, resync, STARTUP_CODES } from "./store";

export type Outcome<T> = { ok: true; data: T } | { ok: false; error: ApiError };

type Result<T> = { status: "ok"; data: T } | { status: "error"; error: ApiError };

/** Anything thrown or returned as an error, as an ApiError (Tauri rejects with a plain string
 *  when the arguments cannot be deserialised). */
export function toApiError(e: unknown): ApiError {
  if (e && typeof e === "object" && "code" in e && "message" in e) return e as ApiError;
  return { code: "Internal", message: String(e) };
}

/** Codes meaning "the window's picture is out of date": fetch the truth after showing why. */
const STALE: ReadonlySet<ErrorCode> = new Set([
  "AlreadyConnected",
  "NotConnected",
  "UnknownRequest",
  "UnknownMoment",
  "UnknownSession",
  "UnknownDraft",
  "InvalidTransition",
]);

/** Calls a command. An engine that did not start becomes the full-window error; stale-state
 *  codes resync. */
export async function run<T>(call: () => Promise<Result<T>>): Promise<Outcome<T>> {
  let out: Outcome<T>;
  try {
    const res = await call();
    out = res.status === "ok" ? { ok: true, data: res.data } : { ok: false, error: toApiError(res.error) };
  } catch (e) {
    out = { ok: false, error: toApiError(e) };
  }
  if (!out.ok) {
    if (STARTUP_CODES.has(out.error.code)) fatal.value = fatalFrom(out.error);
    else if (STALE.has(out.error.code)) void resync();
  }
  return out;
}

/** The next step to suggest for an error, by code ("" when the message says it all). */
export function nextStep(code: ErrorCode): string {
  switch (code) {
    case "Keyring":
      return "StreamCue keeps credentials only in the OS keyring: check that a keyring (e.g. GNOME Keyring or KWallet) is running and unlocked, then try again.";
    case "Database":
      return "StreamCue could not write its database: check the free space and permissions of the data folder (Settings → About shows where it is).";
    case "ShuttingDown":
      return "StreamCue is closing.";
    case "Internal":
      return "This is a bug in StreamCue: the log folder (Settings → About) has the details.";
    default:
      return "";
  }
}

/** A command a button runs: `busy` while in flight, `error` from the last failure. */
export interface Command<A extends unknown[], T> {
  readonly busy: boolean;
  readonly error: ApiError | null;
  /** Runs it (ignored while one is in flight); resolves to the outcome, or null if ignored. */
  run(...args: A): Promise<Outcome<T> | null>;
  clearError(): void;
}

/** Hook: wraps a command call for one component. */
export function useCommand<A extends unknown[], T>(call: (...args: A) => Promise<Result<T>>): Command<A, T> {
  const busy = useSignal(false);
  const error = useSignal<ApiError | null>(null);
  return {
    get busy() {
      return busy.value;
    },
    get error() {
      return error.value;
    },
    async run(...args: A) {
      if (busy.value) return null;
      busy.value = true;
      error.value = null;
      try {
        const out = await run(() => call(...args));
        if (!out.ok) error.value = out.error;
        return out;
      } finally {
        busy.value = false;
      }
    },
    clearError() {
      error.value = null;
    },
  };
}
