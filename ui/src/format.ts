// Small text formatters shared by the view modules (times, durations, sizes, file names).

const pad2 = (n: number): string => String(n).padStart(2, "0");

/** "HH:MM:SS" local time. */
export function clock(ms: number): string {
  const d = new Date(ms);
  return `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

/** "HH:MM" local time. */
export function clockShort(ms: number): string {
  const d = new Date(ms);
  return `${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
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

/** "2025-11-27 14:03" local time. */
export function dateTime(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${clockShort(ms)}`;
}

/** A rate or similar reading: "3.2", "12", "0.45" (at most 2 significant decimals). */
export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return "–";
  const a = Math.abs(n);
  if (a >= 100) return String(Math.round(n));
  if (a >= 10) return String(Math.round(n * 10) / 10);
  if (a >= 1 || a === 0) return String(Math.round(n * 10) / 10);
  return String(Math.round(n * 100) / 100);
}
