// Text formatters shared by the components: times and dates through `Intl` (the streamer's
// locale, 12 or 24 h as their system says), durations, sizes, file names. Pure functions.

import { appLocale } from "./locale";

const locale = appLocale;

let cached: { tag: string; time: Intl.DateTimeFormat; short: Intl.DateTimeFormat; date: Intl.DateTimeFormat } | null =
  null;
function fmts() {
  const tag = locale();
  if (cached?.tag !== tag) {
    cached = {
      tag,
      time: new Intl.DateTimeFormat(tag, { hour: "numeric", minute: "2-digit", second: "2-digit" }),
      short: new Intl.DateTimeFormat(tag, { hour: "numeric", minute: "2-digit" }),
      date: new Intl.DateTimeFormat(tag, { dateStyle: "medium", timeStyle: "short" }),
    };
  }
  return cached;
}

/** A time of day with seconds, in the streamer's locale ("14:03:07", "2:03:07 PM"). */
export function clock(ms: number): string {
  return fmts().time.format(ms);
}

/** A time of day without seconds ("14:03", "2:03 PM"). */
export function clockShort(ms: number): string {
  return fmts().short.format(ms);
}

/** A date and time ("Nov 27, 2026, 14:03"). */
export function dateTime(ms: number): string {
  return fmts().date.format(ms);
}

const pad2 = (n: number): string => String(n).padStart(2, "0");

/** How long ago: "just now", "12 s ago", "3 min ago", "2 h ago". */
export function ago(ms: number, nowMs: number): string {
  const s = Math.max(0, Math.round((nowMs - ms) / 1000));
  if (s < 2) return "just now";
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  return `${Math.floor(s / 3600)} h ago`;
}

/** Whole seconds until `atMs` (at least 0): for "retrying in N s". */
export function secondsUntil(atMs: number, nowMs: number): number {
  return Math.max(0, Math.ceil((atMs - nowMs) / 1000));
}

/** A generation time: "4.2 s", "87.0 s", then "2 min 05 s". */
export function formatDuration(ms: number): string {
  const s = Math.max(0, ms) / 1000;
  if (s < 99.95) return `${s.toFixed(1)} s`;
  const whole = Math.round(s);
  return `${Math.floor(whole / 60)} min ${pad2(whole % 60)} s`;
}

/** Like formatDuration, with "–" for "not known yet". */
export function formatDurationOrDash(ms: number | null): string {
  return ms === null ? "–" : formatDuration(ms);
}

/** A round-trip time: "87 ms" below a second, else "1.2 s". */
export function formatLatency(ms: number): string {
  return ms < 1000 ? `${Math.round(Math.max(0, ms))} ms` : formatDuration(ms);
}

/** A download size: "512 B", "640 KB", "3.1 MB", "1.2 GB" (decimal units). */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  if (bytes < 1e6) return `${Math.round(bytes / 1e3)} KB`;
  if (bytes < 1e9) return `${(bytes / 1e6).toFixed(1)} MB`;
  return `${(bytes / 1e9).toFixed(1)} GB`;
}

/** The last part of a path, with either separator (Windows or Unix). */
export function basename(path: string): string {
  const parts = path.split(/[\\/]/);
  for (let i = parts.length - 1; i >= 0; i--) if (parts[i] !== "") return parts[i]!;
  return path;
}

/** A stream offset: "0:04:07", "1:12:30" (H:MM:SS). */
export function formatOffset(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  return `${Math.floor(s / 3600)}:${pad2(Math.floor(s / 60) % 60)}:${pad2(s % 60)}`;
}

/** A rate or similar reading: "3.2", "12", "0.45" (at most 2 significant decimals). */
export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return "–";
  const a = Math.abs(n);
  const digits = a >= 100 ? 0 : a >= 1 || a === 0 ? 1 : 2;
  return new Intl.NumberFormat(locale(), { maximumFractionDigits: digits }).format(n);
}

/** A count: "1,234" / "1 234" as the locale writes it. */
export function formatCount(n: number): string {
  return new Intl.NumberFormat(locale()).format(n);
}
