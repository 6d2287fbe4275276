// The Recorder card (Settings → Recorder): what is being recorded (OBS's recording, or the
// channel through streamlink), Start/Stop, the settings, and the latest clips. Also the clip
// parts of the Moments rows: "Cut clip" (`clipCut`) and each moment's clips.
//
// Like the other cards, the form never overwrites a field the streamer is editing (focused, or
// changed since the last save); errors carry the ApiError code in `data-code`.

import {
  type ApiError,
  type Clip,
  commands,
  type RecorderMode,
  type RecorderSettings,
  type RecorderState,
} from "./bindings";
import { $, setAttr, setOptAttr, setText, show } from "./dom";
import { basename, clock, formatBytes } from "./format";
import { applyRecorderSettings, applyRecorderState, type Cache, upsertClip } from "./state";

const SAVED_FLASH_MS = 3000;
const SECONDS_MAX = 600;

export const rdom = {
  panel: $("recorder-panel"),
  details: $<HTMLDetailsElement>("recorder-details"),
  state: $("recorder-state"),
  path: $("recorder-path"),
  start: $<HTMLButtonElement>("recorder-start"),
  stop: $<HTMLButtonElement>("recorder-stop"),
  error: $("recorder-error"),
  form: $<HTMLFormElement>("rec-form"),
  mode: $<HTMLSelectElement>("rec-mode"),
  urlField: $("rec-url-field"),
  url: $<HTMLInputElement>("rec-url"),
  quality: $<HTMLInputElement>("rec-quality"),
  pre: $<HTMLInputElement>("rec-pre"),
  post: $<HTMLInputElement>("rec-post"),
  autoCut: $<HTMLInputElement>("rec-auto-cut"),
  save: $<HTMLButtonElement>("rec-save"),
  saveStatus: $("rec-save-status"),
  formError: $("rec-form-error"),
  clips: $("clips-list"),
  clipsEmpty: $("clips-empty"),
};

type Field = HTMLInputElement | HTMLSelectElement;
const FIELDS: readonly Field[] = [rdom.mode, rdom.url, rdom.quality, rdom.pre, rdom.post, rdom.autoCut];

const MODE_LABEL: Record<RecorderMode, string> = { off: "Off", obs: "OBS recording", streamlink: "Streamlink" };

const ui = {
  dirty: new Set<Field>(),
  saving: false,
  savedFlash: false,
  /** Start/Stop in flight. */
  acting: false,
  /** The last Start/Stop failure (the card's summary area). */
  error: null as ApiError | null,
  formError: null as ApiError | null,
  /** Cut clip in flight, by moment id. */
  cutting: new Set<number>(),
  /** The last Cut clip failure, by moment id (shown on the row). */
  cutErrors: new Map<number, ApiError>(),
};

let savedTimer = 0;
let rerender: () => void = () => {};
let cacheRef: Cache | null = null;

function toApiError(e: unknown): ApiError {
  if (e && typeof e === "object" && "code" in e && "message" in e) return e as ApiError;
  return { code: "Internal", message: String(e) };
}

// ---- Commands -------------------------------------------------------------------------------

async function act(which: "start" | "stop"): Promise<void> {
  const cache = cacheRef;
  if (!cache || ui.acting) return;
  ui.acting = true;
  ui.error = null;
  rerender();
  const version = cache.recorderVersion;
  try {
    const res = which === "start" ? await commands.recorderStart() : await commands.recorderStop();
    if (res.status === "ok") {
      if (cache.recorderVersion === version) applyRecorderState(cache, res.data);
    } else {
      ui.error = res.error;
    }
  } catch (e) {
    ui.error = toApiError(e);
  } finally {
    ui.acting = false;
    rerender();
  }
}

function wholeSeconds(f: HTMLInputElement, what: string): number {
  const n = Number(f.value);
  if (f.value.trim() === "" || !Number.isInteger(n) || n < 0 || n > SECONDS_MAX) {
    throw { code: "InvalidSettings", message: `${what} must be a whole number of seconds from 0 to ${SECONDS_MAX}.` };
  }
  return n;
}

function readForm(): RecorderSettings {
  return {
    mode: rdom.mode.value as RecorderMode,
    streamlinkUrl: rdom.url.value.trim(),
    quality: rdom.quality.value.trim() || "best",
    preSeconds: wholeSeconds(rdom.pre, "Before"),
    postSeconds: wholeSeconds(rdom.post, "After"),
    autoCut: rdom.autoCut.checked,
  };
}

async function saveSettings(): Promise<void> {
  const cache = cacheRef;
  if (!cache || ui.saving) return;
  let settings: RecorderSettings;
  try {
    settings = readForm();
  } catch (e) {
    ui.formError = toApiError(e);
    rerender();
    return;
  }
  ui.saving = true;
  ui.formError = null;
  ui.savedFlash = false;
  rerender();
  try {
    const res = await commands.recorderSetSettings(settings);
    if (res.status === "ok") {
      ui.dirty.clear();
      applyRecorderSettings(cache, res.data);
      ui.savedFlash = true;
      window.clearTimeout(savedTimer);
      savedTimer = window.setTimeout(() => {
        ui.savedFlash = false;
        rerender();
      }, SAVED_FLASH_MS);
    } else {
      ui.formError = res.error;
    }
  } catch (e) {
    ui.formError = toApiError(e);
  } finally {
    ui.saving = false;
    rerender();
  }
}

/** "Cut clip" on a moment's row. */
export async function cutClip(momentId: number): Promise<void> {
  const cache = cacheRef;
  if (!cache || ui.cutting.has(momentId)) return;
  ui.cutting.add(momentId);
  ui.cutErrors.delete(momentId);
  rerender();
  try {
    const res = await commands.clipCut(momentId);
    if (res.status === "ok") upsertClip(cache, res.data);
    else ui.cutErrors.set(momentId, res.error);
  } catch (e) {
    ui.cutErrors.set(momentId, toApiError(e));
  } finally {
    ui.cutting.delete(momentId);
    rerender();
  }
}

export function cutState(momentId: number): { busy: boolean; error: ApiError | null } {
  return { busy: ui.cutting.has(momentId), error: ui.cutErrors.get(momentId) ?? null };
}

/** Forgets row errors of moments no longer listed. */
export function pruneCutErrors(listed: ReadonlySet<number>): void {
  for (const id of ui.cutErrors.keys()) if (!listed.has(id)) ui.cutErrors.delete(id);
}

// ---- Wiring ---------------------------------------------------------------------------------

export function initRecorder(cache: Cache, redraw: () => void): void {
  cacheRef = cache;
  rerender = redraw;
  rdom.start.addEventListener("click", () => void act("start"));
  rdom.stop.addEventListener("click", () => void act("stop"));
  for (const field of FIELDS) {
    const onEdit = () => {
      ui.dirty.add(field);
      ui.savedFlash = false;
      if (ui.formError) ui.formError = null;
      rerender();
    };
    field.addEventListener("input", onEdit);
    field.addEventListener("change", onEdit);
  }
  rdom.form.addEventListener("submit", (e) => {
    e.preventDefault();
    void saveSettings();
  });
  rdom.details.addEventListener("toggle", () => {
    rerender();
    if (rdom.details.open) {
      requestAnimationFrame(() => rdom.panel.scrollIntoView({ block: "nearest", behavior: "smooth" }));
    }
  });
}

// ---- Rendering ------------------------------------------------------------------------------

/** The summary line: "Recording · 123.4 MB · +45.6 MB/min", "Waiting for the stream to go live"… */
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

/** "12.4 s", the clip's length. */
function clipLength(c: Clip): string {
  return `${((c.endMs - c.startMs) / 1000).toFixed(1)} s`;
}

/** One clip, for a moment's row or the card's list (`withMoment`: say which moment it is of). */
export function clipElement(c: Clip, className: string, withMoment: boolean): HTMLElement {
  const el = document.createElement(className === "clip-row" ? "li" : "div");
  el.className = className;
  el.dataset.id = String(c.id);
  el.dataset.path = c.path;
  el.dataset.momentId = String(c.momentId);
  const name = document.createElement("span");
  name.className = "clip-name mono";
  name.textContent = basename(c.path);
  name.title = c.path;
  const len = document.createElement("span");
  len.className = "clip-len";
  len.textContent = clipLength(c);
  const parts: HTMLElement[] = [name, len];
  if (c.widenedMs > 50) {
    const w = document.createElement("span");
    w.className = "clip-widened";
    w.textContent = `widened by ${(c.widenedMs / 1000).toFixed(1)} s to a keyframe`;
    w.title = "Stream copy starts on a keyframe, so the clip starts a little earlier than asked";
    parts.push(w);
  }
  const meta = document.createElement("span");
  meta.className = "clip-meta";
  meta.textContent = `${formatBytes(c.bytes)} · ${clock(c.createdAtMs)}${withMoment ? ` · moment ${c.momentId}` : ""}`;
  parts.push(meta);
  const reveal = document.createElement("button");
  reveal.type = "button";
  reveal.className = "btn btn-small btn-quiet clip-reveal";
  reveal.dataset.action = "reveal";
  reveal.textContent = "Show in folder";
  reveal.title = `Open the folder of ${c.path}`;
  reveal.addEventListener("click", (ev) => {
    ev.stopPropagation();
    void commands.revealInFolder(c.path).then((r) => {
      if (r.status === "error") reveal.title = r.error.message;
    });
  });
  parts.push(reveal);
  el.append(...parts);
  el.title = c.path;
  return el;
}

function clipKey(c: Clip): string {
  return `${c.id}|${c.path}|${c.startMs}|${c.endMs}|${c.widenedMs}|${c.bytes}`;
}

let clipsKey = "";

function mirror(field: Field, value: string | boolean): void {
  if (ui.dirty.has(field) || document.activeElement === field) return;
  if (field instanceof HTMLInputElement && field.type === "checkbox") {
    if (field.checked !== value) field.checked = value as boolean;
  } else if (field.value !== value) {
    field.value = value as string;
  }
}

export function renderRecorder(cache: Cache): void {
  const r = cache.recorder;
  for (const f of [...FIELDS, rdom.save]) f.disabled = r === null;
  rdom.start.disabled = true;
  rdom.stop.disabled = true;
  if (!r) {
    setText(rdom.state, "loading…");
    return;
  }
  const s = r.state;
  setAttr(rdom.panel, "data-phase", s.phase);
  setAttr(rdom.state, "data-phase", s.phase);
  const text = describeRecorder(s);
  setText(rdom.state, text);
  setAttr(rdom.state, "title", `${MODE_LABEL[s.mode]}: ${text}`);
  setText(rdom.path, s.path ?? "");
  setAttr(rdom.path, "title", s.path ?? "");
  show(rdom.path, !!s.path);

  const running = s.phase === "recording" || s.phase === "waitingForLive" || s.phase === "stalled";
  show(rdom.start, !running);
  show(rdom.stop, running);
  rdom.start.disabled = ui.acting || r.settings.mode === "off";
  setAttr(rdom.start, "title", r.settings.mode === "off" ? "Choose OBS recording or Streamlink first" : "Start recording");
  rdom.stop.disabled = ui.acting;
  show(rdom.error, ui.error !== null);
  setOptAttr(rdom.error, "data-code", ui.error?.code ?? null);
  setText(rdom.error, ui.error?.message ?? "");

  // Settings.
  const set = r.settings;
  mirror(rdom.mode, set.mode);
  mirror(rdom.url, set.streamlinkUrl);
  mirror(rdom.quality, set.quality);
  mirror(rdom.pre, String(set.preSeconds));
  mirror(rdom.post, String(set.postSeconds));
  mirror(rdom.autoCut, set.autoCut);
  show(rdom.urlField, rdom.mode.value === "streamlink");
  rdom.quality.closest<HTMLElement>(".gen-field")!.hidden = rdom.mode.value !== "streamlink";
  rdom.panel.classList.toggle("is-dirty", ui.dirty.size > 0);
  rdom.save.disabled = ui.saving;
  setAttr(rdom.save, "aria-busy", String(ui.saving));
  setText(rdom.save, ui.saving ? "Saving…" : "Save");
  setText(rdom.saveStatus, ui.savedFlash ? "Saved" : "");
  show(rdom.formError, ui.formError !== null);
  setOptAttr(rdom.formError, "data-code", ui.formError?.code ?? null);
  setText(rdom.formError, ui.formError?.message ?? "");

  // Clips, newest first.
  const key = r.clips.map(clipKey).join("\u0001");
  if (key !== clipsKey) {
    clipsKey = key;
    rdom.clips.replaceChildren(...r.clips.map((c) => clipElement(c, "clip-row", true)));
  }
  setAttr(rdom.clips, "data-count", String(r.clips.length));
  show(rdom.clipsEmpty, r.clips.length === 0);
}
