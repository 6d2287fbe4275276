// Watch-along as the window shows it (the Watch-along card, and Settings → Watch-along): a
// session's status in words and colour, why it failed (the core's sentence, or one per error
// code), how long ago it was asked for, a start's refusal, the controller's health, and
// adopting a command's reply (a `watch` event itself is state.ts's: it replaces the view).
// Pure functions over plain data; no DOM. The window switches on codes, never on message text.

import type {
  HealthResponse,
  HealthStatus,
  WatchErrorCode,
  WatchSessionView,
  WatchSource,
  WatchStartOutcome,
  WatchStatus,
  WatchView,
} from "./bindings";
import { clock } from "./format";
import type { Tone } from "./obs";
import type { Cache } from "./state";

// ---- A command's reply ------------------------------------------------------------------------

/**
 * Adopts the view a command (settings, Check controller) replied with, unless a `watch` event
 * changed the slice since the command was sent (`versionBefore`): that event is at least as new.
 */
export function adoptWatchView(cache: Cache, view: WatchView, versionBefore: number): void {
  if (cache.versions.watch !== versionBefore) return;
  cache.watch = view;
}

/**
 * A start went through: its session becomes the current one (and the newest in the history)
 * until the `watch` event says more, unless an event already moved the slice on.
 */
export function adoptStartedSession(cache: Cache, session: WatchSessionView, versionBefore: number): void {
  const w = cache.watch;
  if (!w || cache.versions.watch !== versionBefore) return;
  cache.watch = { ...w, current: session, history: [session, ...w.history.filter((s) => s.id !== session.id)] };
}

// ---- Status ------------------------------------------------------------------------------------

/** The status chip's word. */
export const STATUS_LABEL: Readonly<Record<WatchStatus, string>> = {
  pending: "Pending",
  starting: "Starting",
  streaming: "Streaming",
  stopping: "Stopping",
  ended: "Ended",
  failed: "Failed",
};

/** The chip's `data-tone` (none for a session that ended). */
export const STATUS_TONE: Readonly<Record<WatchStatus, Tone | null>> = {
  pending: "data",
  starting: "data",
  streaming: "ok",
  stopping: "warn",
  ended: null,
  failed: "err",
};

/** A session in these states holds the one active place (Stop applies; Start is refused). */
export function isActive(status: WatchStatus): boolean {
  return status === "pending" || status === "starting" || status === "streaming" || status === "stopping";
}

/** The chip's tooltip: what the status means, and where it plays. */
export function statusTitle(s: WatchSessionView): string {
  switch (s.status) {
    case "pending":
      return `Handed to the screen-share controller for ${s.target}; waiting for it to accept`;
    case "starting":
      return `The controller is putting the video on ${s.target} (this usually takes 30–60 seconds)`;
    case "streaming":
      return `Playing on ${s.target}`;
    case "stopping":
      return `The controller was told to stop it on ${s.target}`;
    case "ended":
      return `Ended (was on ${s.target})`;
    case "failed":
      return `Failed (on ${s.target})`;
  }
}

/** Where a request came from, for tooltips. */
export const SOURCE_LABEL: Readonly<Record<WatchSource, string>> = {
  window: "this window",
  twitch: "Twitch chat",
  discord: "Discord",
  api: "the control API",
};

/** Who asked: "by streamer" (the window), "by modname" (Twitch chat); the tooltip says where. */
export function requesterText(s: WatchSessionView): { text: string; title: string } {
  const who = s.requester.trim() || "someone";
  return {
    text: `by ${who}`,
    title: `Asked for by ${who} from ${SOURCE_LABEL[s.source]} at ${clock(s.createdMs)}`,
  };
}

/** The link without its scheme and "www." ("youtube.com/watch?v=…"); the text itself if it is
 *  no URL. The tooltip shows it whole. */
export function shortUrl(url: string): string {
  try {
    const u = new URL(url);
    const host = u.host.replace(/^www\./, "");
    const rest = `${u.pathname}${u.search}${u.hash}`;
    return rest === "/" ? host : `${host}${rest}`;
  } catch {
    return url;
  }
}

const pad2 = (n: number): string => String(n).padStart(2, "0");

/** How long since it was asked for: "0:42", "12:05", "1:02:03". */
export function elapsedText(createdMs: number, nowMs: number): string {
  const s = Math.max(0, Math.floor((nowMs - createdMs) / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor(s / 60) % 60;
  return h > 0 ? `${h}:${pad2(m)}:${pad2(s % 60)}` : `${m}:${pad2(s % 60)}`;
}

// ---- Errors ------------------------------------------------------------------------------------

/**
 * What a code means and what to do, for when the core sent no sentence of its own (adapted from
 * the core's table, src/watch/codes.rs). `target` is where the session plays.
 */
export function codeSentence(code: WatchErrorCode, target = "the screen share"): string {
  switch (code) {
    case "ERR_BUSY":
      return `Something is already playing on ${target}. Wait until it ends, or stop it first.`;
    case "ERR_INVALID_URL":
      return "That link can't be watched. Send a public http(s) link: YouTube, Twitch, Vimeo or a video file.";
    case "ERR_SANDBOX_FAILED":
      return "The screen-share controller could not start its sandbox. Check its health in Settings → Watch-along, then try again.";
    case "ERR_LOGIN_FAILED":
      return "The screen-share account could not log in to Discord. Check the controller's Discord login, then try again.";
    case "ERR_2FA_REQUIRED":
      return "The screen-share account needs a two-factor code. Use an account without 2FA for the controller, or log it in by hand once.";
    case "ERR_CAPTCHA":
      return "Discord asked the screen-share account for a CAPTCHA. Log the controller's account in by hand once, then try again.";
    case "ERR_CHANNEL_NOT_FOUND":
      return "The voice channel could not be found or joined. Join a voice channel the controller can see, then try again.";
    case "ERR_SHARE_FAILED":
      return "The video did not start playing. Check the link plays in a browser, then try again.";
    case "ERR_TIMEOUT":
      return "Starting the video took too long. Try again; if it keeps happening, try another link.";
    case "ERR_BUDGET_EXCEEDED":
      return "The controller's spending limit is used up. Raise its budget or wait for it to reset.";
    case "ERR_MAX_ITERATIONS":
      return "The controller gave up after too many steps. Try again; if it keeps happening, check its logs.";
    case "ERR_UNKNOWN":
      return "Something unexpected went wrong. Try again; StreamCue's log has the details.";
    case "ERR_INVALID_REQUEST":
      return "The controller's report did not follow the watch-along contract (docs/watch-along-controller.md).";
  }
}

/** Why a session failed: the core's sentence, else one for its code; null when it did not. */
export function sessionError(s: WatchSessionView): { code: WatchErrorCode | null; text: string } | null {
  if (s.status !== "failed" && s.errorCode === null) return null;
  const own = s.errorMessage?.trim();
  if (own) return { code: s.errorCode, text: own };
  return { code: s.errorCode, text: s.errorCode ? codeSentence(s.errorCode, s.target) : "The watch-along failed." };
}

/** The card's failure line: the newest finished session, when it failed, with its time. */
export function lastFailure(view: WatchView): { session: WatchSessionView; code: WatchErrorCode | null; text: string; at: string } | null {
  const last = view.history.find((s) => !isActive(s.status));
  if (!last || last.status !== "failed") return null;
  const err = sessionError(last);
  return err && { session: last, ...err, at: clock(last.updatedMs) };
}

/** A start's refusal in words, with its code; null when it started. */
export function refusalText(out: WatchStartOutcome): { code: WatchErrorCode; text: string } | null {
  if (out.outcome === "started") return null;
  const { code, message } = out.refusal;
  return { code, text: message.trim() || codeSentence(code) };
}

// ---- Settings and the controller ----------------------------------------------------------------

/** A controller is set up (the card offers Start). */
/** Whether the card can start a session: OBS (built in) always can; a controller needs its address. */
export function watchConfigured(view: WatchView | null): boolean {
  if (!view) return false;
  return view.settings.executor === "obs" || controllerConfigured(view);
}

/** A controller address is saved (Check controller asks it). */
export function controllerConfigured(view: WatchView | null): boolean {
  return (view?.settings.controllerUrl.trim() ?? "") !== "";
}

export const HEALTH_LABEL: Readonly<Record<HealthStatus, string>> = {
  healthy: "Healthy",
  degraded: "Degraded",
  unhealthy: "Unhealthy",
};

export const HEALTH_TONE: Readonly<Record<HealthStatus, Tone>> = {
  healthy: "ok",
  degraded: "warn",
  unhealthy: "err",
};

/** The controller's `/health` answer as label/value rows. */
export function healthRows(h: HealthResponse): { key: string; label: string; value: string }[] {
  return [
    { key: "status", label: "Status", value: HEALTH_LABEL[h.status] },
    { key: "sandbox", label: "Sandbox", value: h.sandbox_ready ? "ready" : "not ready" },
    { key: "sessions", label: "Sessions", value: `${h.active_sessions} active` },
    { key: "version", label: "Version", value: h.version || "–" },
  ];
}
