// Chat moments (bursts) as the window shows them: the words and numbers for markers, rows, the
// history picker, the Moments panel (filters, empty states, notes) and the settings' live
// preview. Pure functions; no DOM.

import { UI_LIMITS } from "./bindings";
import type { Moment, MomentReadings, MomentSettings, MomentTrigger, SessionSummary, TriggerKind } from "./bindings";
import { clock, dateTime, formatNumber, formatOffset } from "./format";

/** `#moments-filter`'s values. */
export type MomentFilter = "all" | TriggerKind;

const KIND_ORDER: readonly TriggerKind[] = ["emote", "keyword", "manual", "support", "velocity", "viewerSpike"];

/** The kinds of a moment's triggers, sorted and without repeats (`data-kinds`). */
export function kindsOf(m: Moment): TriggerKind[] {
  const set = new Set(m.triggers.map((t) => t.kind));
  return KIND_ORDER.filter((k) => set.has(k));
}

/** "velocity,keyword" style attribute value: the kinds sorted, comma-joined. */
export function kindsAttr(m: Moment): string {
  return kindsOf(m).join(",");
}

/** Which kind colours a marker: velocity, then keyword, emote, viewers' support, a viewer
 *  spike, then a mark by hand. */
const MAIN_ORDER: readonly TriggerKind[] = ["velocity", "keyword", "emote", "support", "viewerSpike", "manual"];

export function mainKind(m: Moment): TriggerKind | null {
  const kinds = kindsOf(m);
  return MAIN_ORDER.find((k) => kinds.includes(k)) ?? null;
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

// ---- The Moments panel ------------------------------------------------------------------------

/** Longest note the core accepts (its NOTE_MAX_CHARS, through the bindings). */
export const NOTE_MAX = UI_LIMITS.momentNoteMaxChars;

/** `#moments-filter`'s choices. */
export const FILTER_CHOICES: readonly { value: MomentFilter; label: string }[] = [
  { value: "all", label: "All" },
  { value: "velocity", label: "Velocity" },
  { value: "keyword", label: "Keywords" },
  { value: "emote", label: "Emotes" },
  { value: "support", label: "Support" },
  { value: "viewerSpike", label: "Viewer spikes" },
  { value: "manual", label: "Marked" },
];

/** `#moments-min-strength`'s choices (0 = any). */
export const STRENGTH_CHOICES: readonly { value: number; label: string }[] = [
  { value: 0, label: "Any ×" },
  { value: 1.5, label: "≥ ×1.5" },
  { value: 2, label: "≥ ×2" },
  { value: 3, label: "≥ ×3" },
];

export const KIND_LABEL: Readonly<Record<TriggerKind, string>> = {
  velocity: "Velocity",
  keyword: "Keyword",
  emote: "Emote",
  manual: "Marked",
  support: "Support",
  viewerSpike: "Viewer spike",
};

/** The moments a filter lets through, newest first (the list's order). */
export function shownNewestFirst(all: readonly Moment[], filter: MomentFilter, minStrength: number): Moment[] {
  const out: Moment[] = [];
  for (let i = all.length - 1; i >= 0; i--) {
    const m = all[i]!;
    if (matchesFilter(m, filter, minStrength)) out.push(m);
  }
  return out;
}

/** The time's tooltip: "Nov 27, 2026, 14:03, until 14:04:10" / "…, still going on". */
export function timeTitle(m: Moment): string {
  const until = m.endedAtMs === null ? "still going on" : `until ${clock(m.endedAtMs)}`;
  return `${dateTime(m.startedAtMs)}, ${until}`;
}

/** A trigger chip's tooltip: "Keyword: CLIP ×5 (fires at 5)". */
export function triggerTitle(t: MomentTrigger): string {
  if (t.kind === "manual") return "Marked by hand (the local server's control API)";
  return `${KIND_LABEL[t.kind]}: ${t.label} (fires at ${formatNumber(t.threshold)})`;
}

/** What the empty list says. */
export function emptyText(p: {
  loading: boolean;
  /** Moments in the shown session, before the filters. */
  total: number;
  history: boolean;
  /** A chat session is open (either slot). */
  live: boolean;
  settings: MomentSettings | null;
}): { title: string; text: string } {
  if (p.loading) return { title: "Loading…", text: "" };
  if (p.total > 0) return { title: "No moments match", text: "Choose All (or a lower strength) to see the others." };
  if (p.history) return { title: "No moments in this session", text: "Chat never burst past the thresholds." };
  if (p.live) {
    const v = p.settings?.velocity;
    const warm = v?.rule === "baseline" ? ` The baseline warms up for ${v.warmupSeconds} s first.` : "";
    return {
      title: "Watching chat…",
      text: `Bursts of messages, keywords and emote spam are marked here and on the graph.${warm}`,
    };
  }
  return {
    title: "No moments yet",
    text: "Connect to a chat: bursts of messages, keywords (like “clip”) and emote spam are marked here.",
  };
}

/** What saving a note should do: nothing (unchanged), refuse (too long), or send `text`. */
export type NoteDecision = { kind: "unchanged" } | { kind: "tooLong"; message: string } | { kind: "send"; text: string };

export function decideNote(typed: string, saved: string): NoteDecision {
  const text = typed.trim();
  if (text === saved.trim()) return { kind: "unchanged" };
  if (text.length > NOTE_MAX) return { kind: "tooLong", message: `A note is at most ${NOTE_MAX} characters.` };
  return { kind: "send", text };
}

// ---- The history picker -----------------------------------------------------------------------

/** What the picker lists: "Live" (or "Latest session"), then past sessions, newest first. */
export interface PickerOptions {
  liveLabel: "Live" | "Latest session";
  past: SessionSummary[];
}

/**
 * `openIds`: the sessions open now (listed as "Live", not as past ones). `shown`: the past
 * session being looked at, kept listed even if `sessions` no longer has it. `anyOpen`: a chat
 * session is open; `anyKnown`: the live list holds some session's moments (with none open,
 * "Live" then shows the latest session until the next one starts).
 */
export function pickerOptions(
  sessions: readonly SessionSummary[] | null,
  openIds: readonly number[],
  shown: SessionSummary | null,
  anyOpen: boolean,
  anyKnown: boolean,
): PickerOptions {
  const past = (sessions ?? []).filter((s) => !openIds.includes(s.id));
  if (shown && !past.some((s) => s.id === shown.id)) past.unshift(shown);
  return { liveLabel: anyOpen || !anyKnown ? "Live" : "Latest session", past };
}

/** The sessions with one summary replaced by a fresher one (a loaded history is the truth). */
export function withSummary(sessions: readonly SessionSummary[] | null, fresh: SessionSummary): SessionSummary[] | null {
  if (!sessions) return null;
  return sessions.map((s) => (s.id === fresh.id ? fresh : s));
}
