// The recorder as the window shows it (the recorder status card, and the clips on moment rows):
// its phase in words, sizes, what to do when it stalls or fails, and a clip's description.
// Pure functions over plain data; no DOM.

import type { Clip, RecorderMode, RecorderSettings, RecorderState } from "./bindings";
import { clock, formatBytes } from "./format";
import type { Cache } from "./state";
import type { Tone } from "./obs";

export const MODE_LABEL: Readonly<Record<RecorderMode, string>> = {
  off: "Off",
  obs: "OBS recording",
  streamlink: "Streamlink",
};

/** The recorder is at work (Stop applies; Start does not). */
export function isRunning(s: RecorderState): boolean {
  return s.phase === "recording" || s.phase === "waitingForLive" || s.phase === "stalled";
}

/** The status chip's word: "Recording", "Waiting for live", "Stalled", "Failed", "Idle", "Off". */
export function phaseLabel(s: RecorderState): string {
  switch (s.phase) {
    case "recording":
      return "Recording";
    case "waitingForLive":
      return "Waiting for live";
    case "stalled":
      return "Stalled";
    case "failed":
      return "Failed";
    case "idle":
      return s.mode === "off" ? "Off" : "Idle";
  }
}

/** The chip's tone (recording has its own red dot in the card's CSS). */
export function phaseTone(s: RecorderState): Tone | null {
  switch (s.phase) {
    case "waitingForLive":
      return "data";
    case "stalled":
      return "warn";
    case "failed":
      return "err";
    default:
      return null;
  }
}

/** The whole state in one line: "Recording · 123.4 MB · +45.6 MB/min", "Waiting for the stream to go live"… */
export function describeRecorder(s: RecorderState): string {
  switch (s.phase) {
    case "recording":
      return `Recording · ${formatBytes(s.bytes)} · +${formatBytes(s.bytesPerMin)}/min`;
    case "waitingForLive":
      return "Waiting for the stream to go live";
    case "stalled":
      return `Stalled: ${s.message ?? "the recording has stopped growing"}`;
    case "failed":
      return `Failed: ${s.message ?? "the recording stopped"}`;
    case "idle":
      return s.mode === "off" ? "Off" : "Idle";
  }
}

/** "123.4 MB · +45.6 MB/min" while recording, "123.4 MB" for the last file; null when unknown. */
export function sizeText(s: RecorderState): string | null {
  if (s.phase === "recording" || s.phase === "stalled") {
    return s.phase === "recording" ? `${formatBytes(s.bytes)} · +${formatBytes(s.bytesPerMin)}/min` : formatBytes(s.bytes);
  }
  return s.path && s.bytes > 0 ? formatBytes(s.bytes) : null;
}

/** What the card says under the status when something needs attention (null when nothing). */
export function problemText(s: RecorderState): { tone: "err" | "warn" | "muted"; text: string } | null {
  switch (s.phase) {
    case "failed":
      return {
        tone: "err",
        text: `${s.message ?? "The recording stopped."} Check the recorder settings, then press Start again.`,
      };
    case "stalled":
      return {
        tone: "warn",
        text: `${s.message ?? "The recording has stopped growing"}: check that the stream${
          s.mode === "obs" ? " and OBS's recording are" : " is"
        } still running, or Stop and Start again.`,
      };
    case "waitingForLive":
      return s.message ? { tone: "muted", text: s.message } : null;
    default:
      return null;
  }
}

/** Why Start cannot be pressed (null when it can). */
export function startBlocked(settings: RecorderSettings): string | null {
  return settings.mode === "off" ? "Choose OBS recording or Streamlink in Recorder settings first" : null;
}

/**
 * Adopts the state a Start/Stop reply carries, unless a `recorder` event changed the slice since
 * the command was sent (`versionBefore`): that event is at least as new as the reply.
 */
export function adoptRecorderState(cache: Cache, state: RecorderState, versionBefore: number): void {
  if (!cache.recorder || cache.versions.recorder !== versionBefore) return;
  cache.recorder = { ...cache.recorder, state };
}

// ---- Clips ------------------------------------------------------------------------------------

/** "12.4 s", the clip's length. */
export function clipLength(c: Clip): string {
  return `${((c.endMs - c.startMs) / 1000).toFixed(1)} s`;
}

/** "widened by 1.3 s to a keyframe" when stream copy started it noticeably earlier; else null. */
export function clipWidened(c: Clip): string | null {
  return c.widenedMs > 50 ? `widened by ${(c.widenedMs / 1000).toFixed(1)} s to a keyframe` : null;
}

/** "3.1 MB · 14:03:07". */
export function clipMeta(c: Clip): string {
  return `${formatBytes(c.bytes)} · ${clock(c.createdAtMs)}`;
}

/** Cut clip's tooltip: how much it keeps around the moment. */
export function cutTitle(settings: RecorderSettings | null): string {
  return settings
    ? `Cut this moment from the recording (${settings.preSeconds} s before, ${settings.postSeconds} s after)`
    : "Cut this moment from the recording";
}
