// Chat moments in the window: the Moments panel (the shown session's moments, newest first, with
// filters and notes), the session picker (Live, or a past session loaded from the database), what
// the velocity graph shows (points, range, markers, threshold line), and Settings → Moments with
// its live preview.
//
// Like the other cards, forms never overwrite a field the streamer is editing (focused, or changed
// since the last save); errors carry the ApiError code in `data-code`.

import {
  type ApiError,
  commands,
  type Moment,
  type MomentSettings,
  type SessionHistory,
  type SessionSummary,
  type TriggerKind,
  type VelocityPoint,
  type VelocityRule,
} from "./bindings";
import { $, setAttr, setOptAttr, setText, show } from "./dom";
import { clock, clockShort, dateTime, formatNumber, formatOffset } from "./format";
import type { VelocityGraph } from "./graph";
import {
  isLive,
  joinList,
  kindsAttr,
  labelsOf,
  matchesFilter,
  type MomentFilter,
  previewParts,
  sessionLabel,
  sourceLabel,
  splitList,
  strengthText,
  type VelocityDraft,
} from "./moments";
import { clipElement, cutClip, cutState, pruneCutErrors } from "./recorder-view";
import {
  applyMomentSettings,
  type Cache,
  clipsOf,
  hasSession,
  isKickMoment,
  listedMoments,
  setHistory,
  shownMoments,
  upsertMoment,
} from "./state";

/** How long "Saved" stays next to the Save button. */
const SAVED_FLASH_MS = 3000;
/** Longest note the core accepts. */
const NOTE_MAX = 500;

export const mdom = {
  picker: $<HTMLSelectElement>("session-picker"),
  graphSub: $("graph-sub"),
  panel: $("moments-panel"),
  count: $("moments-count"),
  shown: $("moments-shown"),
  filter: $<HTMLSelectElement>("moments-filter"),
  minStrength: $<HTMLSelectElement>("moments-min-strength"),
  listError: $("moments-list-error"),
  listErrorText: $("moments-list-error-text"),
  listErrorClose: $<HTMLButtonElement>("moments-list-error-close"),
  body: $("moments-body"),
  list: $("moments-list"),
  empty: $("moments-empty"),
  emptyTitle: $("moments-empty-title"),
  emptyText: $("moments-empty-text"),
  // Settings → Moments
  setPanel: $("moments-settings-panel"),
  details: $<HTMLDetailsElement>("moments-settings"),
  summary: $("moments-settings-summary"),
  preview: $("moments-preview"),
  form: $<HTMLFormElement>("moments-form"),
  rule: $<HTMLSelectElement>("ms-rule"),
  window: $<HTMLInputElement>("ms-window"),
  baselineFields: $("ms-baseline-fields"),
  fixedFields: $("ms-fixed-fields"),
  sigmas: $<HTMLInputElement>("ms-sigmas"),
  ratio: $<HTMLInputElement>("ms-ratio"),
  floor: $<HTMLInputElement>("ms-floor"),
  halfLife: $<HTMLInputElement>("ms-half-life"),
  warmup: $<HTMLInputElement>("ms-warmup"),
  perSecond: $<HTMLInputElement>("ms-per-second"),
  keywords: $<HTMLInputElement>("ms-keywords"),
  keywordThreshold: $<HTMLInputElement>("ms-keyword-threshold"),
  textEmotes: $<HTMLInputElement>("ms-text-emotes"),
  emoteThreshold: $<HTMLInputElement>("ms-emote-threshold"),
  emoteWindow: $<HTMLInputElement>("ms-emote-window"),
  mergeGap: $<HTMLInputElement>("ms-merge-gap"),
  save: $<HTMLButtonElement>("moments-save"),
  revert: $<HTMLButtonElement>("moments-revert"),
  saveStatus: $("moments-save-status"),
  error: $("moments-error"),
};

type Field = HTMLInputElement | HTMLSelectElement;

/** Every settings field, in form order. */
const FIELDS: readonly Field[] = [
  mdom.rule,
  mdom.window,
  mdom.sigmas,
  mdom.ratio,
  mdom.floor,
  mdom.halfLife,
  mdom.warmup,
  mdom.perSecond,
  mdom.keywords,
  mdom.keywordThreshold,
  mdom.textEmotes,
  mdom.emoteThreshold,
  mdom.emoteWindow,
  mdom.mergeGap,
];

/** Used for the other rule's fields until the streamer fills them (the core's defaults). */
const DEFAULT_BASELINE = { sigmas: 4, ratio: 2, minPerSecond: 1, halfLifeSeconds: 120, warmupSeconds: 30 };
const DEFAULT_FIXED_PER_SECOND = 5;

/** A note being edited or saved. */
interface NoteState {
  /** The text last sent, while the core has not answered. */
  saving: string | null;
  error: ApiError | null;
}

/** The panel's and the settings card's window-side state. */
const ui = {
  filter: "all" as MomentFilter,
  minStrength: 0,
  /** Sessions for the picker, newest first (null until loaded). */
  sessions: null as SessionSummary[] | null,
  sessionsLoading: false,
  /** "live", or the id of the past session shown (or being loaded). */
  picked: "live" as "live" | number,
  loadingHistory: null as number | null,
  /** The shown past session's points, gaps filled with zeros. */
  historyPoints: [] as VelocityPoint[],
  /** The last failed history/sessions/note command (the panel's error line). */
  listError: null as ApiError | null,
  notes: new Map<number, NoteState>(),
  /** Notes typed into but not saved yet (their field is not overwritten). */
  dirtyNotes: new Set<number>(),
  // Settings form
  dirty: new Set<Field>(),
  saving: false,
  error: null as ApiError | null,
  savedFlash: false,
};

let savedTimer = 0;
let rerender: () => void = () => {};
let cacheRef: Cache | null = null;
let graphRef: VelocityGraph | null = null;
let historySeq = 0;

/** Anything thrown or returned as an error, as an ApiError (Tauri rejects with a plain string
 *  when the arguments cannot be deserialised). */
function toApiError(e: unknown): ApiError {
  if (e && typeof e === "object" && "code" in e && "message" in e) return e as ApiError;
  return { code: "Internal", message: String(e) };
}

function showListError(err: ApiError | null): void {
  ui.listError = err;
  rerender();
}

// ---- Sessions and history -------------------------------------------------------------------

/** Reloads the picker's sessions (on load, when it gets focus or opens, and when a session ends). */
async function refreshSessions(): Promise<void> {
  if (ui.sessionsLoading) return;
  ui.sessionsLoading = true;
  try {
    const res = await commands.momentsSessions();
    if (res.status === "ok") ui.sessions = res.data;
    else ui.listError = toApiError(res.error);
  } catch (e) {
    ui.listError = toApiError(e);
  } finally {
    ui.sessionsLoading = false;
    rerender();
  }
}

/** Fills missing seconds with zeros (the database keeps whole minutes; gaps had no chat). */
function fillGaps(points: readonly VelocityPoint[]): VelocityPoint[] {
  const out: VelocityPoint[] = [];
  for (const p of points) {
    const prev = out[out.length - 1];
    if (prev && p.second <= prev.second) continue;
    if (prev && p.second - prev.second > 1 && p.second - prev.second < 6 * 3600) {
      for (let s = prev.second + 1; s < p.second; s++) out.push({ second: s, count: 0 });
    }
    out.push(p);
  }
  return out;
}

async function pick(value: string): Promise<void> {
  const cache = cacheRef;
  if (!cache) return;
  const seq = ++historySeq;
  if (value === "live") {
    ui.picked = "live";
    ui.loadingHistory = null;
    setHistory(cache, null);
    ui.historyPoints = [];
    rerender();
    return;
  }
  const id = Number(value);
  if (!Number.isInteger(id)) return;
  ui.picked = id;
  ui.loadingHistory = id;
  ui.listError = null;
  rerender();
  try {
    const res = await commands.momentsHistory(id);
    if (seq !== historySeq) return; // picked something else meanwhile
    if (res.status === "ok") showHistory(res.data);
    else failHistory(toApiError(res.error));
  } catch (e) {
    if (seq === historySeq) failHistory(toApiError(e));
  } finally {
    if (seq === historySeq) {
      ui.loadingHistory = null;
      rerender();
    }
  }
}

function showHistory(h: SessionHistory): void {
  if (!cacheRef) return;
  setHistory(cacheRef, h);
  ui.historyPoints = fillGaps(h.velocity);
  // The picker's count may be stale: the history is the truth.
  const s = ui.sessions?.find((x) => x.id === h.session.id);
  if (s) Object.assign(s, h.session);
}

/** Loading a past session failed: say why and go back to what was shown before. */
function failHistory(err: ApiError): void {
  ui.listError = err;
  const shown = cacheRef?.history?.session.id;
  ui.picked = shown ?? "live";
}

// ---- Notes ----------------------------------------------------------------------------------

function savedNote(id: number): string | null {
  const m = cacheRef ? shownMoments(cacheRef).find((x) => x.id === id) : undefined;
  return m ? m.note : null;
}

async function saveNote(id: number, input: HTMLInputElement): Promise<void> {
  const cache = cacheRef;
  const saved = savedNote(id);
  if (!cache || saved === null) return;
  const text = input.value.trim();
  const st = ui.notes.get(id) ?? { saving: null, error: null };
  if (st.saving !== null) return; // one at a time; the next blur/Enter sends the rest
  if (text === saved.trim()) {
    ui.dirtyNotes.delete(id);
    st.error = null;
    ui.notes.set(id, st);
    rerender();
    return;
  }
  if (text.length > NOTE_MAX) {
    st.error = { code: "InvalidSettings", message: `A note is at most ${NOTE_MAX} characters.` };
    ui.notes.set(id, st);
    rerender();
    return;
  }
  st.saving = input.value;
  st.error = null;
  ui.notes.set(id, st);
  rerender();
  try {
    const res = await commands.momentsSetNote(id, text);
    if (res.status === "ok") {
      upsertMoment(cache, res.data);
      // Typed on while saving: keep that text (and its dirty mark) for the next save.
      if (input.value === st.saving) {
        ui.dirtyNotes.delete(id);
        input.value = res.data.note;
        // A short green edge says it was kept.
        input.classList.add("is-saved");
        window.setTimeout(() => input.classList.remove("is-saved"), 1500);
      }
    } else {
      st.error = toApiError(res.error);
    }
  } catch (e) {
    st.error = toApiError(e);
  } finally {
    st.saving = null;
    rerender();
  }
}

function noteInputOf(target: EventTarget | null): { id: number; input: HTMLInputElement } | null {
  if (!(target instanceof HTMLInputElement) || !target.classList.contains("moment-note")) return null;
  const row = target.closest<HTMLElement>(".moment-row");
  return row ? { id: Number(row.dataset.id), input: target } : null;
}

// ---- Settings form --------------------------------------------------------------------------

/** The saved value of each field, as the form shows it. */
function savedValues(s: MomentSettings): Map<Field, string> {
  const v = s.velocity;
  const b = v.rule === "baseline" ? v : DEFAULT_BASELINE;
  const m = new Map<Field, string>([
    [mdom.rule, v.rule],
    [mdom.window, String(s.windowSeconds)],
    [mdom.sigmas, String(b.sigmas)],
    [mdom.ratio, String(b.ratio)],
    [mdom.floor, String(b.minPerSecond)],
    [mdom.halfLife, String(b.halfLifeSeconds)],
    [mdom.warmup, String(b.warmupSeconds)],
    [mdom.perSecond, String(v.rule === "fixed" ? v.perSecond : DEFAULT_FIXED_PER_SECOND)],
    [mdom.keywords, joinList(s.keywords)],
    [mdom.keywordThreshold, String(s.keywordThreshold)],
    [mdom.textEmotes, joinList(s.textEmotes)],
    [mdom.emoteThreshold, String(s.emoteThreshold)],
    [mdom.emoteWindow, String(s.emoteWindowSeconds)],
    [mdom.mergeGap, String(s.mergeGapSeconds)],
  ]);
  return m;
}

/** A number field's value; NaN when empty or not a number. */
function num(f: HTMLInputElement): number {
  const t = f.value.trim();
  return t === "" ? NaN : Number(t);
}

const LABEL: ReadonlyMap<Field, string> = new Map<Field, string>([
  [mdom.window, "The window"],
  [mdom.sigmas, "Sigmas"],
  [mdom.ratio, "The ratio"],
  [mdom.floor, "The floor"],
  [mdom.halfLife, "The half-life"],
  [mdom.warmup, "The warm-up"],
  [mdom.perSecond, "The fixed rate"],
  [mdom.keywordThreshold, "The keyword threshold"],
  [mdom.emoteThreshold, "The emote threshold"],
  [mdom.emoteWindow, "The emote window"],
  [mdom.mergeGap, "The merge gap"],
]);

class FormError extends Error {
  constructor(
    readonly field: Field,
    message: string,
  ) {
    super(message);
  }
}

function wholeNumber(f: HTMLInputElement): number {
  const n = num(f);
  if (!Number.isInteger(n) || n < 0 || n > 4_294_967_295) {
    throw new FormError(f, `${LABEL.get(f) ?? "This field"} must be a whole number (of seconds or messages).`);
  }
  return n;
}

function decimal(f: HTMLInputElement): number {
  const n = num(f);
  if (!Number.isFinite(n) || n < 0) throw new FormError(f, `${LABEL.get(f) ?? "This field"} must be a number, 0 or more.`);
  return n;
}

/** The form as MomentSettings; throws FormError for a field that is not a number of the right
 *  kind (ranges are the core's to check: it says which and why). */
function readForm(): MomentSettings {
  const velocity: VelocityRule =
    mdom.rule.value === "fixed"
      ? { rule: "fixed", perSecond: decimal(mdom.perSecond) }
      : {
          rule: "baseline",
          sigmas: decimal(mdom.sigmas),
          ratio: decimal(mdom.ratio),
          minPerSecond: decimal(mdom.floor),
          halfLifeSeconds: wholeNumber(mdom.halfLife),
          warmupSeconds: wholeNumber(mdom.warmup),
        };
  return {
    windowSeconds: wholeNumber(mdom.window),
    velocity,
    keywords: splitList(mdom.keywords.value),
    keywordThreshold: wholeNumber(mdom.keywordThreshold),
    textEmotes: splitList(mdom.textEmotes.value),
    emoteThreshold: wholeNumber(mdom.emoteThreshold),
    emoteWindowSeconds: wholeNumber(mdom.emoteWindow),
    mergeGapSeconds: wholeNumber(mdom.mergeGap),
  };
}

function flashSaved(): void {
  window.clearTimeout(savedTimer);
  ui.savedFlash = true;
  savedTimer = window.setTimeout(() => {
    ui.savedFlash = false;
    rerender();
  }, SAVED_FLASH_MS);
}

async function saveSettings(): Promise<void> {
  const cache = cacheRef;
  if (ui.saving || !cache?.momentSettings) return;
  let settings: MomentSettings;
  try {
    settings = readForm();
  } catch (e) {
    if (!(e instanceof FormError)) throw e;
    ui.error = { code: "InvalidSettings", message: e.message };
    rerender();
    e.field.focus();
    mdom.error.scrollIntoView({ block: "nearest", behavior: "smooth" });
    return;
  }
  // What was sent, to tell afterwards which fields the streamer changed again meanwhile.
  const sent = new Map<Field, string>(FIELDS.map((f) => [f, f.value]));
  ui.saving = true;
  ui.error = null;
  ui.savedFlash = false;
  rerender();
  const version = cache.momentSettingsVersion;
  try {
    const res = await commands.momentsSetSettings(settings);
    if (res.status === "ok") {
      for (const [field, value] of savedValues(res.data)) {
        if (field.value !== sent.get(field)) continue; // edited again while saving: keep it
        ui.dirty.delete(field);
        field.value = value; // the saved form (e.g. the cleaned lists), even if focused
      }
      if (cache.momentSettingsVersion === version) applyMomentSettings(cache, res.data);
      flashSaved();
    } else {
      ui.error = toApiError(res.error);
    }
  } catch (e) {
    ui.error = toApiError(e);
  } finally {
    ui.saving = false;
    rerender();
    // The open card can be taller than the window: make sure the error is seen.
    if (ui.error) mdom.error.scrollIntoView({ block: "nearest", behavior: "smooth" });
  }
}

/** Puts the saved settings back into the form. */
function revertForm(): void {
  ui.dirty.clear();
  ui.error = null;
  const s = cacheRef?.momentSettings;
  if (s) for (const [field, value] of savedValues(s)) field.value = value;
  rerender();
}

/** Shows a saved value in a field, unless the streamer is editing that field. */
function mirror(field: Field, value: string): void {
  if (ui.dirty.has(field) || document.activeElement === field) return;
  if (field.value !== value) field.value = value;
}

/** Whether a field holds something other than its saved value. */
function edited(field: Field, saved: Map<Field, string>): boolean {
  if (!ui.dirty.has(field)) return false;
  const a = field.value.trim();
  const b = saved.get(field) ?? "";
  if (field instanceof HTMLInputElement && field.type === "number") return Number(a) !== Number(b) || a === "";
  if (field === mdom.keywords || field === mdom.textEmotes) return joinList(splitList(a)) !== b;
  return a !== b;
}

/** The form's unsaved values that change the preview (null when there are none). */
function draft(s: MomentSettings): Parameters<typeof previewParts>[2] {
  const saved = savedValues(s);
  const velocityFields: Field[] = [mdom.rule, mdom.sigmas, mdom.ratio, mdom.floor, mdom.halfLife, mdom.warmup, mdom.perSecond];
  const ruleNow = mdom.rule.value === "fixed" ? "fixed" : "baseline";
  const velocityEdited = velocityFields.some((f) => edited(f, saved));
  const velocity: VelocityDraft | null = velocityEdited
    ? { rule: ruleNow, sigmas: num(mdom.sigmas), ratio: num(mdom.ratio), floor: num(mdom.floor), perSecond: num(mdom.perSecond) }
    : null;
  const kw = edited(mdom.keywordThreshold, saved) ? num(mdom.keywordThreshold) : NaN;
  const em = edited(mdom.emoteThreshold, saved) ? num(mdom.emoteThreshold) : NaN;
  const keywordThreshold = Number.isInteger(kw) && kw >= 0 ? kw : null;
  const emoteThreshold = Number.isInteger(em) && em >= 0 ? em : null;
  if (!velocity && keywordThreshold === null && emoteThreshold === null) return null;
  return { velocity, keywordThreshold, emoteThreshold };
}

/** ["baseline", " ×2 · 7 keywords · 7 text emotes"]: the rule, then the rest (which may be cut). */
function settingsSummary(s: MomentSettings): [string, string] {
  const v = s.velocity;
  const rule = v.rule === "fixed" ? "fixed" : "baseline";
  const how = v.rule === "fixed" ? ` ${formatNumber(v.perSecond)} msg/s` : ` ×${formatNumber(v.ratio)}`;
  const kw = s.keywordThreshold > 0 ? `${s.keywords.length} keyword${s.keywords.length === 1 ? "" : "s"}` : "keywords off";
  const em = s.emoteThreshold > 0 ? `${s.textEmotes.length} text emote${s.textEmotes.length === 1 ? "" : "s"}` : "emotes off";
  return [rule, `${how} · ${kw} · ${em}`];
}

let summaryKey = "";

function settingsTitle(s: MomentSettings): string {
  const v = s.velocity;
  const rule =
    v.rule === "fixed"
      ? `velocity fires above ${formatNumber(v.perSecond)} msg/s`
      : `velocity fires above max(baseline + ${formatNumber(v.sigmas)}σ, baseline ×${formatNumber(v.ratio)}, ${formatNumber(v.minPerSecond)} msg/s)`;
  return `Moments: ${rule} over ${s.windowSeconds} s; ${s.keywordThreshold > 0 ? `${s.keywordThreshold} keyword messages` : "keywords off"}; ${
    s.emoteThreshold > 0 ? `${s.emoteThreshold}× the same emote within ${s.emoteWindowSeconds} s` : "emotes off"
  }; merged within ${s.mergeGapSeconds} s`;
}

// ---- Wiring ---------------------------------------------------------------------------------

export function initMoments(cache: Cache, graph: VelocityGraph, redraw: () => void): void {
  cacheRef = cache;
  graphRef = graph;
  rerender = redraw;

  // The picker: fresh sessions whenever it is about to be used.
  mdom.picker.addEventListener("focus", () => void refreshSessions());
  mdom.picker.addEventListener("pointerdown", () => void refreshSessions());
  mdom.picker.addEventListener("change", () => void pick(mdom.picker.value));

  mdom.filter.addEventListener("change", () => {
    ui.filter = mdom.filter.value as MomentFilter;
    rerender();
  });
  mdom.minStrength.addEventListener("change", () => {
    ui.minStrength = Number(mdom.minStrength.value) || 0;
    rerender();
  });
  mdom.listErrorClose.addEventListener("click", () => showListError(null));

  // Notes: saved on Enter and when the field loses focus; Escape puts the saved one back.
  mdom.list.addEventListener("input", (e) => {
    const n = noteInputOf(e.target);
    if (!n) return;
    ui.dirtyNotes.add(n.id);
  });
  mdom.list.addEventListener("keydown", (e) => {
    const n = noteInputOf(e.target);
    if (!n) return;
    if (e.key === "Enter" && !e.isComposing) {
      e.preventDefault();
      void saveNote(n.id, n.input);
    } else if (e.key === "Escape") {
      const saved = savedNote(n.id);
      if (saved !== null) n.input.value = saved;
      ui.dirtyNotes.delete(n.id);
      const st = ui.notes.get(n.id);
      if (st) st.error = null;
      n.input.blur();
      rerender();
    }
  });
  mdom.list.addEventListener("focusout", (e) => {
    const n = noteInputOf(e.target);
    if (n && ui.dirtyNotes.has(n.id)) void saveNote(n.id, n.input);
  });
  // The row under the mouse lights up its marker on the graph.
  mdom.list.addEventListener("mouseover", (e) => {
    const row = (e.target as Element).closest<HTMLElement>(".moment-row");
    graphRef?.highlight(row ? Number(row.dataset.id) : null);
  });
  mdom.list.addEventListener("mouseleave", () => graphRef?.highlight(null));
  // "Cut clip" on a row.
  mdom.list.addEventListener("click", (e) => {
    const btn = (e.target as Element).closest<HTMLButtonElement>('button[data-action="cutClip"]');
    const row = btn?.closest<HTMLElement>(".moment-row");
    if (!btn || !row || btn.disabled) return;
    void cutClip(Number(row.dataset.id));
  });

  // Settings.
  for (const field of FIELDS) {
    const onEdit = () => {
      ui.dirty.add(field);
      ui.savedFlash = false;
      rerender(); // the rule's fields, the preview
    };
    field.addEventListener("input", onEdit);
    field.addEventListener("change", onEdit); // a <select> may only fire this one
  }
  mdom.form.addEventListener("submit", (e) => {
    e.preventDefault();
    void saveSettings();
  });
  mdom.revert.addEventListener("click", revertForm);
  mdom.details.addEventListener("toggle", () => {
    rerender(); // the layout gives the open card a row of its own
    if (mdom.details.open) {
      requestAnimationFrame(() => mdom.setPanel.scrollIntoView({ block: "nearest", behavior: "smooth" }));
    }
  });

  void refreshSessions();
}

// ---- Rendering ------------------------------------------------------------------------------

/** The DOM of one moment's row. */
interface Row {
  el: HTMLLIElement;
  time: HTMLElement;
  offset: HTMLElement;
  live: HTMLElement;
  strength: HTMLElement;
  chips: HTMLElement;
  chipsKey: string;
  note: HTMLInputElement;
  noteError: HTMLElement;
  kick: HTMLElement;
  cut: HTMLButtonElement;
  cutError: HTMLElement;
  clips: HTMLElement;
  clipsKey: string;
}

const rows = new Map<number, Row>();

function span(className: string, text = ""): HTMLSpanElement {
  const el = document.createElement("span");
  el.className = className;
  if (text) el.textContent = text;
  return el;
}

function createRow(id: number): Row {
  const el = document.createElement("li");
  el.className = "moment-row";
  el.dataset.id = String(id);
  const top = document.createElement("div");
  top.className = "mr-top";
  const time = span("mr-time");
  const offset = span("mr-offset");
  const live = span("mr-live", "live");
  live.title = "Still going on";
  const strength = span("mr-strength");
  const kick = span("mr-kick", "Kick");
  kick.title = "From the Kick chat";
  kick.hidden = true;
  const cut = document.createElement("button");
  cut.type = "button";
  cut.className = "btn btn-small btn-quiet mr-cut";
  cut.dataset.action = "cutClip";
  cut.textContent = "Cut clip";
  top.append(time, offset, kick, live, strength, cut);
  const chips = document.createElement("div");
  chips.className = "mr-chips";
  const note = document.createElement("input");
  note.type = "text";
  note.className = "moment-note";
  note.maxLength = NOTE_MAX;
  note.placeholder = "Add a note…";
  note.spellcheck = true;
  note.autocomplete = "off";
  note.title = "A note for this moment: saved when you press Enter or leave the field (Esc puts it back)";
  const noteError = document.createElement("div");
  noteError.className = "moment-note-error";
  noteError.setAttribute("role", "alert");
  noteError.hidden = true;
  const cutError = document.createElement("div");
  cutError.className = "moment-cut-error";
  cutError.setAttribute("role", "alert");
  cutError.hidden = true;
  const clips = document.createElement("div");
  clips.className = "moment-clips";
  clips.hidden = true;
  el.append(top, chips, note, noteError, cutError, clips);
  const row: Row = {
    el,
    time,
    offset,
    live,
    strength,
    chips,
    chipsKey: "",
    note,
    noteError,
    kick,
    cut,
    cutError,
    clips,
    clipsKey: "",
  };
  rows.set(id, row);
  return row;
}

const KIND_LABEL: Record<TriggerKind, string> = { velocity: "Velocity", keyword: "Keyword", emote: "Emote" };

function updateRow(row: Row, m: Moment, cache: Cache): void {
  const { el } = row;
  const kick = isKickMoment(cache, m) || (cache.history !== null && cache.history.session.platform === "kick");
  setAttr(el, "data-source", kick ? "kick" : "main");
  show(row.kick, kick);
  // Clips: cut on demand; each moment's clips, newest first.
  const cs = cutState(m.id);
  row.cut.disabled = cs.busy;
  setAttr(row.cut, "aria-busy", String(cs.busy));
  setText(row.cut, cs.busy ? "Cutting…" : "Cut clip");
  const rec = cache.recorder;
  setAttr(
    row.cut,
    "title",
    rec
      ? `Cut this moment from the recording (${rec.settings.preSeconds} s before, ${rec.settings.postSeconds} s after)`
      : "Cut this moment from the recording",
  );
  show(row.cutError, cs.error !== null);
  setOptAttr(row.cutError, "data-code", cs.error?.code ?? null);
  setText(row.cutError, cs.error?.message ?? "");
  const clips = clipsOf(cache, m.id);
  const clipsKey = clips.map((c) => `${c.id}|${c.path}|${c.endMs - c.startMs}|${c.widenedMs}|${c.bytes}`).join("\u0001");
  if (clipsKey !== row.clipsKey) {
    row.clipsKey = clipsKey;
    row.clips.replaceChildren(...clips.map((c) => clipElement(c, "moment-clip", false)));
  }
  show(row.clips, clips.length > 0);
  setAttr(el, "data-kinds", kindsAttr(m));
  setAttr(el, "data-live", String(isLive(m)));
  setText(row.time, clock(m.startedAtMs));
  const until = m.endedAtMs === null ? "still going on" : `until ${clock(m.endedAtMs)}`;
  setAttr(row.time, "title", `${new Date(m.startedAtMs).toLocaleString()}, ${until}`);
  setText(row.offset, formatOffset(m.offsetMs));
  setAttr(row.offset, "title", "Time into the stream (from the start of the chat session)");
  show(row.live, isLive(m));
  setText(row.strength, strengthText(m));
  setAttr(row.strength, "title", `Strength ${m.strength.toFixed(2)}: how far past its threshold the strongest trigger went`);

  const key = m.triggers.map((t) => `${t.kind}\u0000${t.label}`).join("\u0001");
  if (key !== row.chipsKey) {
    row.chipsKey = key;
    row.chips.replaceChildren(
      ...m.triggers.map((t) => {
        const chip = span("mr-chip", t.label);
        chip.dataset.kind = t.kind;
        chip.title = `${KIND_LABEL[t.kind]}: ${t.label} (fires at ${formatNumber(t.threshold)})`;
        return chip;
      }),
    );
  }
  setAttr(el, "aria-label", `${clock(m.startedAtMs)}: ${labelsOf(m)}`);

  // The note: the saved text, unless the streamer is typing in it.
  const st = ui.notes.get(m.id);
  if (!ui.dirtyNotes.has(m.id) && document.activeElement !== row.note && row.note.value !== m.note) {
    row.note.value = m.note;
  }
  setAttr(row.note, "aria-label", `Note for the moment at ${clock(m.startedAtMs)}`);
  setAttr(row.note, "aria-busy", String(st?.saving != null));
  row.note.classList.toggle("is-dirty", ui.dirtyNotes.has(m.id));
  const err = st?.error ?? null;
  show(row.noteError, err !== null);
  setOptAttr(row.noteError, "data-code", err?.code ?? null);
  setText(row.noteError, err?.message ?? "");
  row.note.classList.toggle("invalid", err !== null);
  setAttr(row.note, "aria-invalid", String(err !== null));
}

function place(list: HTMLElement, els: readonly HTMLElement[]): void {
  els.forEach((el, i) => {
    const at = list.children[i] ?? null;
    if (at !== el) list.insertBefore(el, at);
  });
  while (list.children.length > els.length) list.lastElementChild!.remove();
}

/** The live session's id, when a session is open (the picker lists it as "Live"). */
function openSessionId(cache: Cache): number | null {
  if (!hasSession(cache.chat)) return null;
  return cache.chat.state === "connected" ? cache.chat.sessionId : cache.momentsSessionId;
}

let optionsKey = "";
let pickerSizedFor = "";
/** `field-sizing: content` sizes the picker to its chosen option by itself (style.css). */
const FIELD_SIZING = typeof CSS !== "undefined" && CSS.supports("field-sizing", "content");
let measurer: HTMLSpanElement | null = null;

/** How wide `text` is in `el`'s font, px (measured by an invisible span: canvas fonts can differ). */
function textWidth(text: string, el: HTMLElement): number {
  if (!measurer) {
    measurer = document.createElement("span");
    measurer.setAttribute("aria-hidden", "true");
    measurer.style.cssText = "position:absolute;left:-10000px;top:0;visibility:hidden;white-space:pre;";
    document.body.appendChild(measurer);
  }
  const cs = getComputedStyle(el);
  measurer.style.fontFamily = cs.fontFamily;
  measurer.style.fontSize = cs.fontSize;
  measurer.style.fontWeight = cs.fontWeight;
  measurer.style.letterSpacing = cs.letterSpacing;
  measurer.textContent = text;
  return measurer.getBoundingClientRect().width;
}

/** The session picker: "Live", then past sessions, newest first. */
function renderPicker(cache: Cache): void {
  const open = openSessionId(cache);
  const past = (ui.sessions ?? []).filter((s) => s.id !== open);
  // The session being shown stays listed even if the list no longer has it.
  const h = cache.history;
  if (h && !past.some((s) => s.id === h.session.id)) past.unshift(h.session);
  // With no session open, "Live" shows the latest session (until the next one starts).
  const liveLabel = hasSession(cache.chat) || cache.momentsSessionId === null ? "Live" : "Latest session";
  const key = liveLabel + "\u0001" + past.map((s) => `${s.id}\u0000${sessionLabel(s)}`).join("\u0001");
  if (key !== optionsKey) {
    optionsKey = key;
    const live = document.createElement("option");
    live.value = "live";
    live.textContent = liveLabel;
    const opts = [live];
    if (past.length > 0) {
      const group = document.createElement("optgroup");
      group.label = "Past sessions";
      for (const s of past) {
        const o = document.createElement("option");
        o.value = String(s.id);
        o.textContent = sessionLabel(s);
        group.appendChild(o);
      }
      mdom.picker.replaceChildren(...opts, group);
    } else {
      mdom.picker.replaceChildren(...opts);
    }
  }
  const want = String(ui.picked);
  if (mdom.picker.value !== want) mdom.picker.value = want;
  // A <select> is as wide as its longest option: size it to the chosen one instead.
  const chosen = mdom.picker.selectedOptions[0]?.textContent ?? liveLabel;
  if (chosen !== pickerSizedFor && !FIELD_SIZING) {
    pickerSizedFor = chosen;
    mdom.picker.style.width = `${Math.ceil(textWidth(chosen, mdom.picker)) + 56}px`;
  }
  setAttr(mdom.picker, "title", ui.picked === "live" ? "Show the live session, or a past one with its moments" : chosen);
  setAttr(mdom.picker, "data-view", ui.picked === "live" ? "live" : "history");
  setAttr(mdom.picker, "aria-busy", String(ui.loadingHistory !== null));
}

/** What the graph shows, and its subtitle. */
function renderGraph(cache: Cache): void {
  const graph = graphRef;
  if (!graph) return;
  const h = cache.history;
  let liveWithoutPoints = false;
  if (h && ui.loadingHistory === null) {
    const pts = ui.historyPoints;
    const first = pts[0]?.second;
    const last = pts[pts.length - 1]?.second;
    const start = Math.floor(h.session.startedAtMs / 1000);
    const end = h.session.endedAtMs !== null ? Math.ceil(h.session.endedAtMs / 1000) : (last ?? start + 60);
    const min = first !== undefined ? Math.max(start, Math.min(first, end - 1)) : start;
    const max = Math.max(end, last ?? end, min + 60);
    graph.setRange({ min, max });
    graph.setPoints(pts);
    graph.setThreshold(null);
    const from = dateTime(h.session.startedAtMs);
    const to = h.session.endedAtMs !== null ? clockShort(h.session.endedAtMs) : "now";
    const cut = end - start > 6 * 3600 + 60 ? " (last 6 hours)" : "";
    const sub = `${sourceLabel(h.session.platform, h.session.channel)} · ${from}–${to}${cut}`;
    setText(mdom.graphSub, sub);
    setAttr(mdom.graphSub, "title", `messages per second · ${sub}`);
  } else {
    graph.setRange(null);
    graph.setPoints(cache.velocity);
    // Nothing to plot (the window opened after the session ended: the graph says "No chat
    // connected"): no markers either.
    liveWithoutPoints = !hasSession(cache.chat) && !cache.velocity.some((p) => p.count > 0);
    const r = cache.momentReadings;
    graph.setThreshold(r && hasSession(cache.chat) ? r.threshold : null);
    const sub = ui.loadingHistory !== null ? "loading session…" : "messages per second · last 10 minutes";
    setText(mdom.graphSub, sub);
    setAttr(mdom.graphSub, "title", r && hasSession(cache.chat) ? `${sub} · dashed line: velocity fires above ${formatNumber(r.threshold)} msg/s` : sub);
  }
  graph.setMoments(ui.loadingHistory !== null || liveWithoutPoints ? [] : shownMoments(cache));
}

function renderList(cache: Cache): void {
  const loading = ui.loadingHistory !== null;
  const all = loading ? [] : listedMoments(cache);
  const shown = all.filter((m) => matchesFilter(m, ui.filter, ui.minStrength));
  const h = cache.history;
  setAttr(mdom.panel, "data-view", h ? "history" : "live");
  setAttr(mdom.panel, "aria-busy", String(loading));
  setText(mdom.count, loading ? "…" : String(all.length));
  setAttr(mdom.count, "data-count", String(all.length));
  const filtered = ui.filter !== "all" || ui.minStrength > 0;
  // "Moments 2 of 5" while a filter hides some.
  setText(mdom.shown, filtered && !loading ? `${shown.length} of` : "");
  const liveNow = all.filter(isLive).length;
  mdom.panel.classList.toggle("has-live", liveNow > 0);
  if (mdom.filter.value !== ui.filter) mdom.filter.value = ui.filter;

  show(mdom.listError, ui.listError !== null);
  setOptAttr(mdom.listError, "data-code", ui.listError?.code ?? null);
  setText(mdom.listErrorText, ui.listError?.message ?? "");

  // Rows, newest first; a focused note keeps its focus (rows are moved, never rebuilt).
  const seen = new Set<number>();
  const els: HTMLElement[] = [];
  for (let i = shown.length - 1; i >= 0; i--) {
    const m = shown[i]!;
    seen.add(m.id);
    const row = rows.get(m.id) ?? createRow(m.id);
    updateRow(row, m, cache);
    els.push(row.el);
  }
  for (const [id, row] of rows) {
    if (!seen.has(id)) {
      row.el.remove();
      rows.delete(id);
    }
  }
  place(mdom.list, els);
  for (const id of ui.notes.keys()) if (!rows.has(id)) ui.notes.delete(id);
  pruneCutErrors(new Set(all.map((m) => m.id)));

  // Empty states.
  show(mdom.empty, shown.length === 0);
  let title: string;
  let text: string;
  if (loading) {
    title = "Loading…";
    text = "";
  } else if (all.length > 0) {
    title = "No moments match";
    text = "Choose All (or a lower strength) to see the others.";
  } else if (h) {
    title = "No moments in this session";
    text = "Chat never burst past the thresholds.";
  } else if (hasSession(cache.chat)) {
    const s = cache.momentSettings;
    const warm = s?.velocity.rule === "baseline" ? ` The baseline warms up for ${s.velocity.warmupSeconds} s first.` : "";
    title = "Watching chat…";
    text = `Bursts of messages, keywords and emote spam are marked here and on the graph.${warm}`;
  } else {
    title = "No moments yet";
    text = "Connect to a chat: bursts of messages, keywords (like “clip”) and emote spam are marked here.";
  }
  setText(mdom.emptyTitle, title);
  setText(mdom.emptyText, text);
  show(mdom.emptyText, text !== "");
}

function renderPreview(cache: Cache, s: MomentSettings): void {
  const r = cache.momentReadings;
  const d = draft(s);
  setAttr(mdom.preview, "data-edited", String(d !== null));
  if (!r || !hasSession(cache.chat)) {
    setAttr(mdom.preview, "data-state", "idle");
    setText(mdom.preview, "Live preview: connect to a chat to see how these settings react.");
    return;
  }
  setAttr(mdom.preview, "data-state", "live");
  const p = previewParts(r, s, d);
  const key = JSON.stringify(p);
  if (mdom.preview.dataset.key === key) return;
  mdom.preview.dataset.key = key;
  const part = (name: string, text: string, editedNow: boolean) => {
    const el = span("mp-part", text);
    el.dataset.part = name;
    if (editedNow) el.classList.add("is-edited");
    return el;
  };
  const sep = () => span("mp-sep", " · ");
  mdom.preview.replaceChildren(
    span("mp-label", "Live "),
    part("now", p.now, false),
    sep(),
    part("baseline", p.baseline, false),
    sep(),
    part("fires", p.fires, d?.velocity != null),
    sep(),
    part("keywords", p.keywords, d?.keywordThreshold != null),
    sep(),
    part("emotes", p.emotes, d?.emoteThreshold != null),
  );
  setAttr(
    mdom.preview,
    "title",
    d?.velocity?.rule === "baseline"
      ? "≈: estimated from the live baseline: max(baseline × ratio, floor), and baseline + sigmas × its spread when the current threshold shows the spread. Save to see the detector's own number."
      : "The detector's readings for the last second: the rate over the window, the channel's baseline, where velocity fires, and the keyword and emote counts against their thresholds",
  );
}

function renderSettings(cache: Cache): void {
  const s = cache.momentSettings;
  for (const f of [...FIELDS, mdom.save]) f.disabled = s === null;
  // The card takes a row of its own while open (see .main.msets-open).
  document.querySelector(".main")?.classList.toggle("msets-open", mdom.details.open);
  if (!s) return;
  const [rule, more] = settingsSummary(s);
  if (summaryKey !== rule + more) {
    summaryKey = rule + more;
    mdom.summary.replaceChildren(span("ms-sum-rule", rule), span("ms-sum-more", more));
  }
  setAttr(mdom.summary, "title", settingsTitle(s));

  for (const [field, value] of savedValues(s)) mirror(field, value);
  const fixed = mdom.rule.value === "fixed";
  show(mdom.baselineFields, !fixed);
  show(mdom.fixedFields, fixed);
  setAttr(mdom.setPanel, "data-rule", fixed ? "fixed" : "baseline");

  const saved = savedValues(s);
  const anyEdited = FIELDS.some((f) => edited(f, saved));
  mdom.setPanel.classList.toggle("is-dirty", anyEdited);
  show(mdom.revert, anyEdited);
  mdom.save.disabled = ui.saving;
  setAttr(mdom.save, "aria-busy", String(ui.saving));
  setText(mdom.save, ui.saving ? "Saving…" : "Save");
  setText(mdom.saveStatus, ui.savedFlash ? "Saved" : "");

  show(mdom.error, ui.error !== null);
  setOptAttr(mdom.error, "data-code", ui.error?.code ?? null);
  setText(mdom.error, ui.error?.message ?? "");

  renderPreview(cache, s);
}

let lastSessionKey = "";

/** Draws the picker, the graph's content, the Moments panel and Settings → Moments. */
export function renderMoments(cache: Cache): void {
  // A session opened or ended: the picker's list changed.
  const sessionKey = `${hasSession(cache.chat)}|${cache.chat.state === "connected" ? cache.chat.sessionId : ""}`;
  if (sessionKey !== lastSessionKey) {
    const first = lastSessionKey === "";
    lastSessionKey = sessionKey;
    if (!first) void refreshSessions();
  }
  renderPicker(cache);
  renderGraph(cache);
  renderList(cache);
  renderSettings(cache);
}
