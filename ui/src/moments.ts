// Chat moments (bursts) as the window shows them: the words and numbers for markers, rows, the
// history picker and the settings' live preview. Pure functions; no DOM.

import type { Moment, MomentReadings, MomentSettings, SessionSummary, TriggerKind } from "./bindings";
import { clock, dateTime, formatNumber, formatOffset } from "./format";

/** `#moments-filter`'s values. */
export type MomentFilter = "all" | TriggerKind;

const KIND_ORDER: readonly TriggerKind[] = ["emote", "keyword", "velocity"];

/** The kinds of a moment's triggers, sorted and without repeats (`data-kinds`). */
export function kindsOf(m: Moment): TriggerKind[] {
  const set = new Set(m.triggers.map((t) => t.kind));
  return KIND_ORDER.filter((k) => set.has(k));
}

/** "velocity,keyword" style attribute value: the kinds sorted, comma-joined. */
export function kindsAttr(m: Moment): string {
  return kindsOf(m).join(",");
}

/** The strongest kind, which colours a marker: velocity, then keyword, then emote. */
export function mainKind(m: Moment): TriggerKind | null {
  const kinds = kindsOf(m);
  if (kinds.includes("velocity")) return "velocity";
  if (kinds.includes("keyword")) return "keyword";
  return kinds.includes("emote") ? "emote" : null;
}

/** What triggered it: "velocity 8.7/s vs baseline 1.9/s · CLIP ×5 · KEKW ×14". */
export function labelsOf(m: Moment): string {
  return m.triggers.map((t) => t.label).join(" · ");
}

/** "×2.3": how far past its threshold the strongest trigger went. */
export function strengthText(m: Moment): string {
  return `×${m.strength.toFixed(1)}`;
}

/** Still going on (the core has not closed it). */
export function isLive(m: Moment): boolean {
  return m.endedAtMs === null;
}

/** "14:03:07 (+0:42:10) · velocity 8.7/s vs baseline 1.9/s · CLIP ×5" for the graph's hover line. */
export function hoverText(m: Moment): string {
  const end = m.endedAtMs === null ? " – now" : m.endedAtMs - m.startedAtMs >= 1500 ? ` – ${clock(m.endedAtMs)}` : "";
  return `${clock(m.startedAtMs)}${end} (+${formatOffset(m.offsetMs)}) · ${labelsOf(m)}`;
}

export function matchesFilter(m: Moment, filter: MomentFilter, minStrength: number): boolean {
  if (m.strength < minStrength) return false;
  return filter === "all" || m.triggers.some((t) => t.kind === filter);
}

/** "Twitch #shroud", "Demo chat". */
export function sourceLabel(platform: string, channel: string): string {
  if (platform === "demo") return "Demo chat";
  const name = platform.charAt(0).toUpperCase() + platform.slice(1);
  return channel ? `${name} #${channel.replace(/^#/, "")}` : name;
}

/** The picker's label: "2025-11-27 14:03 · Twitch #shroud · 4 moments". */
export function sessionLabel(s: SessionSummary): string {
  const n = `${s.moments} moment${s.moments === 1 ? "" : "s"}`;
  return `${dateTime(s.startedAtMs)} · ${sourceLabel(s.platform, s.channel)} · ${n}`;
}

/** The velocity part of the settings, as the form holds it (numbers may be unparsable: NaN). */
export interface VelocityDraft {
  rule: "baseline" | "fixed";
  sigmas: number;
  ratio: number;
  floor: number;
  perSecond: number;
}

/**
 * The threshold edited (unsaved) velocity settings would give now. The baseline rule fires above
 * max(mean + sigmas × deviation, mean × ratio, floor); the readings carry the mean (`baseline`)
 * and the threshold, not the deviation. So the estimate is max(mean × ratio, floor), plus the
 * sigmas part when the saved threshold shows it (it was the largest term, so the deviation is
 * (threshold − mean) / saved sigmas). Null when the form cannot say.
 */
export function draftThreshold(
  draft: VelocityDraft,
  r: MomentReadings,
  saved: MomentSettings,
): { value: number; approx: boolean } | null {
  if (draft.rule === "fixed") {
    return Number.isFinite(draft.perSecond) && draft.perSecond > 0 ? { value: draft.perSecond, approx: false } : null;
  }
  if (!Number.isFinite(draft.ratio) || !Number.isFinite(draft.floor)) return null;
  const b = r.baseline;
  let value = Math.max(b * draft.ratio, draft.floor);
  const v = saved.velocity;
  if (v.rule === "baseline" && v.sigmas > 0 && Number.isFinite(draft.sigmas)) {
    const others = Math.max(b * v.ratio, v.minPerSecond);
    if (r.threshold > others + 1e-9) value = Math.max(value, b + draft.sigmas * ((r.threshold - b) / v.sigmas));
  }
  return { value, approx: true };
}

export interface PreviewParts {
  now: string;
  baseline: string;
  fires: string;
  keywords: string;
  emotes: string;
}

/**
 * "now: 3.2 msg/s · baseline 2.1 · fires above 4.2 · keyword messages 1/5 · top emote 3/10", as
 * parts. `draft` holds the form's unsaved values (null when it has none).
 */
export function previewParts(
  r: MomentReadings,
  saved: MomentSettings,
  draft: { velocity: VelocityDraft | null; keywordThreshold: number | null; emoteThreshold: number | null } | null,
): PreviewParts {
  let fires = `fires above ${formatNumber(r.threshold)}`;
  if (draft?.velocity) {
    const t = draftThreshold(draft.velocity, r, saved);
    if (t) fires = `fires above ${t.approx ? "≈" : ""}${formatNumber(t.value)} with your edits (now ${formatNumber(r.threshold)})`;
  }
  const kwMax = draft?.keywordThreshold ?? saved.keywordThreshold;
  const emMax = draft?.emoteThreshold ?? saved.emoteThreshold;
  return {
    now: `now: ${formatNumber(r.rate)} msg/s`,
    baseline: `baseline ${formatNumber(r.baseline)}`,
    fires,
    keywords: kwMax > 0 ? `keyword messages ${r.keywordHits}/${kwMax}` : "keywords off",
    emotes: emMax > 0 ? `top emote ${r.topEmoteCount}/${emMax}` : "emotes off",
  };
}

/** Splits "clip, no way,  KEKW" into trimmed, non-empty entries. */
export function splitList(text: string): string[] {
  return text
    .split(/[,\n]/)
    .map((w) => w.trim())
    .filter((w) => w !== "");
}

export function joinList(list: readonly string[]): string {
  return list.join(", ");
}
