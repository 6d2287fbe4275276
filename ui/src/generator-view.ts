// Settings → Generator (the card below the queue, beside the OBS card; below the graph in wide
// windows) and the degraded-mode banner.
// The core owns the settings: the form shows the saved ones (snapshot, then `generator` events)
// but never overwrites a field the streamer is editing (focused, or changed since the last save).
// Credentials are write-only: the core only says whether they are saved; an empty password
// field means "keep what is saved", and Forget sends "" for both to delete them.

import {
  type ApiError,
  commands,
  type GeneratorBackend,
  type GeneratorSettingsUpdate,
  type GeneratorStatus,
} from "./bindings";
import { $, setAttr, setOptAttr, setText, show } from "./dom";
import { clockShort, formatDurationOrDash, formatLatency } from "./format";
import { applyGeneratorStatus, type Cache } from "./state";

/** How long "Saved" stays next to the Save button. */
const SAVED_FLASH_MS = 3000;
const TIMEOUT_MIN = 1;
const TIMEOUT_MAX = 900;

export const gdom = {
  banner: $("degraded-banner"),
  bannerText: $("degraded-text"),
  bannerSince: $("degraded-since"),
  panel: $("gen-panel"),
  details: $<HTMLDetailsElement>("gen-details"),
  summary: $("gen-summary"),
  state: $("gen-state"),
  form: $<HTMLFormElement>("gen-form"),
  backend: $<HTMLSelectElement>("gen-backend"),
  baseUrl: $<HTMLInputElement>("gen-base-url"),
  timeout: $<HTMLInputElement>("gen-timeout"),
  modalKey: $<HTMLInputElement>("gen-modal-key"),
  modalSecret: $<HTMLInputElement>("gen-modal-secret"),
  save: $<HTMLButtonElement>("gen-save"),
  test: $<HTMLButtonElement>("gen-test"),
  forget: $<HTMLButtonElement>("gen-forget-credentials"),
  saveStatus: $("gen-save-status"),
  testResult: $("gen-test-result"),
  error: $("gen-error"),
  paused: $<HTMLInputElement>("gen-paused"),
  ready: $("gen-ready"),
  failed: $("gen-failed"),
  interrupted: $("gen-interrupted"),
  degradedCount: $("gen-degraded-count"),
  p50: $("gen-p50"),
  p95: $("gen-p95"),
  clipsDir: $("gen-clips-dir"),
};

export const BACKEND_LABEL: Record<GeneratorBackend, string> = {
  offline: "Offline demo",
  remote: "Remote endpoint",
};

type Field = HTMLInputElement | HTMLSelectElement;
/** The fields mirrored from the saved settings (the credentials are never shown). */
const SETTING_FIELDS: readonly Field[] = [gdom.backend, gdom.baseUrl, gdom.timeout];
const SECRET_FIELDS: readonly HTMLInputElement[] = [gdom.modalKey, gdom.modalSecret];

/** The panel's window-side state. */
const ui = {
  /** Fields the streamer changed since they were last saved or loaded. */
  dirty: new Set<Field>(),
  saving: false,
  testing: false,
  /** Pause/resume sent, waiting for the core; holds the value asked for. */
  pausing: null as boolean | null,
  /** The last Save/Forget/Pause failure. */
  error: null as ApiError | null,
  /** The last Test connection answer. */
  test: null as { ok: boolean; text: string; code: string | null } | null,
  savedFlash: false,
};

let savedTimer = 0;
let rerender: () => void = () => {};
let cacheRef: Cache | null = null;

/** Anything thrown or returned as an error, as an ApiError (Tauri rejects with a plain string
 *  when the arguments cannot be deserialised). */
function toApiError(e: unknown): ApiError {
  if (e && typeof e === "object" && "code" in e && "message" in e) return e as ApiError;
  return { code: "Internal", message: String(e) };
}

/** Applies the status a command returned, unless a `generator` event already replaced the
 *  cached one since the command was sent (that event is at least as new). */
function adoptReturned(status: GeneratorStatus, versionBefore: number): void {
  if (cacheRef && cacheRef.generatorVersion === versionBefore) applyGeneratorStatus(cacheRef, status);
}

function timeoutError(): ApiError {
  return {
    code: "InvalidSettings",
    message: `The timeout must be a whole number of seconds between ${TIMEOUT_MIN} and ${TIMEOUT_MAX}.`,
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

async function save(): Promise<void> {
  const cache = cacheRef;
  if (ui.saving || !cache?.generator) return;
  const timeout = Number(gdom.timeout.value.trim());
  if (gdom.timeout.value.trim() === "" || !Number.isInteger(timeout) || timeout < TIMEOUT_MIN || timeout > TIMEOUT_MAX) {
    ui.error = timeoutError();
    rerender();
    gdom.timeout.focus();
    return;
  }
  // What was sent, to tell afterwards which fields the streamer changed again meanwhile.
  const sent = new Map<Field, string>([...SETTING_FIELDS, ...SECRET_FIELDS].map((f) => [f, f.value]));
  const update: GeneratorSettingsUpdate = {
    backend: gdom.backend.value as GeneratorBackend,
    baseUrl: gdom.baseUrl.value,
    timeoutSeconds: timeout,
    modalKey: gdom.modalKey.value === "" ? null : gdom.modalKey.value,
    modalSecret: gdom.modalSecret.value === "" ? null : gdom.modalSecret.value,
  };
  ui.saving = true;
  ui.error = null;
  ui.savedFlash = false;
  rerender();
  const version = cache.generatorVersion;
  try {
    const res = await commands.generatorUpdateSettings(update);
    if (res.status === "ok") {
      const s = res.data.settings;
      const saved: [Field, string][] = [
        [gdom.backend, s.backend],
        [gdom.baseUrl, s.baseUrl],
        [gdom.timeout, String(s.timeoutSeconds)],
      ];
      for (const [field, value] of saved) {
        if (field.value !== sent.get(field)) continue; // edited again while saving: keep it
        ui.dirty.delete(field);
        field.value = value; // the saved form (e.g. the normalised URL), even if focused
      }
      // Never keep a secret in the page longer than needed.
      for (const field of SECRET_FIELDS) if (field.value === sent.get(field)) field.value = "";
      adoptReturned(res.data, version);
      ui.test = null; // it was about the settings before this save
      flashSaved();
    } else {
      ui.error = toApiError(res.error);
    }
  } catch (e) {
    ui.error = toApiError(e);
  } finally {
    ui.saving = false;
    rerender();
  }
}

/** Deletes the saved Modal key and secret; the rest stays as saved (not as typed). */
async function forgetCredentials(): Promise<void> {
  const cache = cacheRef;
  if (ui.saving || !cache?.generator) return;
  const s = cache.generator.settings;
  const hadFocus = document.activeElement === gdom.forget;
  ui.saving = true;
  ui.error = null;
  ui.savedFlash = false;
  rerender();
  const version = cache.generatorVersion;
  try {
    const res = await commands.generatorUpdateSettings({
      backend: s.backend,
      baseUrl: s.baseUrl,
      timeoutSeconds: s.timeoutSeconds,
      modalKey: "",
      modalSecret: "",
    });
    if (res.status === "ok") adoptReturned(res.data, version);
    else ui.error = toApiError(res.error);
  } catch (e) {
    ui.error = toApiError(e);
  } finally {
    ui.saving = false;
    rerender();
    // The button is gone now: keep keyboard focus in the form.
    if (hadFocus && gdom.forget.hidden) gdom.modalKey.focus();
  }
}

async function testConnection(): Promise<void> {
  if (ui.testing) return;
  // Test checks what is saved: say so if the form holds unsaved changes.
  const unsaved = ui.dirty.size > 0 || SECRET_FIELDS.some((f) => f.value !== "");
  ui.testing = true;
  ui.test = null;
  rerender();
  try {
    const res = await commands.generatorTestConnection();
    const note = unsaved ? " (saved settings: Save to test your changes)" : "";
    if (res.status === "ok") {
      const message = res.data.message.trim().replace(/\.$/, "");
      ui.test = { ok: true, text: `${message} · ${formatLatency(res.data.latencyMs)}${note}`, code: null };
    } else {
      const err = toApiError(res.error);
      ui.test = { ok: false, text: err.message + note, code: err.code };
    }
  } catch (e) {
    const err = toApiError(e);
    ui.test = { ok: false, text: err.message, code: err.code };
  } finally {
    ui.testing = false;
    rerender();
  }
}

async function setPaused(paused: boolean): Promise<void> {
  const cache = cacheRef;
  if (ui.pausing !== null || !cache?.generator) return;
  ui.pausing = paused;
  ui.error = null;
  rerender();
  const version = cache.generatorVersion;
  try {
    const res = await commands.generatorSetPaused(paused);
    if (res.status === "ok") adoptReturned(res.data, version);
    else ui.error = toApiError(res.error);
  } catch (e) {
    ui.error = toApiError(e);
  } finally {
    ui.pausing = null;
    rerender();
  }
}

/** Wires the form; `rerender` redraws the page from the cache. */
export function initGenerator(cache: Cache, redraw: () => void): void {
  cacheRef = cache;
  rerender = redraw;
  for (const field of SETTING_FIELDS) {
    const edited = () => {
      ui.dirty.add(field);
      ui.savedFlash = false;
      rerender(); // e.g. the URL field follows the backend choice
    };
    field.addEventListener("input", edited);
    field.addEventListener("change", edited); // a <select> may only fire this one
  }
  for (const field of SECRET_FIELDS) field.addEventListener("input", () => (ui.savedFlash = false));
  gdom.form.addEventListener("submit", (e) => {
    e.preventDefault();
    void save();
  });
  // Opened at the bottom of a full window: bring the form into view (the page scrolls).
  gdom.details.addEventListener("toggle", () => {
    if (gdom.details.open) gdom.panel.scrollIntoView({ block: "nearest", behavior: "smooth" });
  });
  gdom.test.addEventListener("click", () => void testConnection());
  gdom.forget.addEventListener("click", () => void forgetCredentials());
  gdom.paused.addEventListener("change", () => {
    if (ui.pausing !== null) {
      gdom.paused.checked = ui.pausing; // one change at a time
      return;
    }
    void setPaused(gdom.paused.checked);
  });
}

/** Shows a saved value in a field, unless the streamer is editing that field. */
function mirror(field: Field, value: string): void {
  if (ui.dirty.has(field) || document.activeElement === field) return;
  if (field.value !== value) field.value = value;
}

/** "Offline demo · 3 ready · p50 4.1 s" */
export function summaryText(st: GeneratorStatus): string {
  const c = st.counters;
  return `${BACKEND_LABEL[st.settings.backend]} · ${c.ready} ready · p50 ${formatDurationOrDash(c.p50Ms)}`;
}

function stateOf(st: GeneratorStatus): { key: string; text: string; title: string } {
  if (st.degraded) return { key: "degraded", text: "Degraded", title: st.degraded.reason };
  if (st.paused) return { key: "paused", text: "Paused", title: "Approved requests wait until you resume" };
  if (st.current !== null) return { key: "busy", text: "Generating", title: "A clip is being made" };
  return { key: "idle", text: "Idle", title: "Waiting for approved requests" };
}

function setCount(el: HTMLElement, n: number): void {
  setText(el, String(n));
  el.parentElement?.classList.toggle("is-zero", n === 0);
}

function renderBanner(st: GeneratorStatus | null): void {
  const d = st?.degraded ?? null;
  show(gdom.banner, d !== null);
  setOptAttr(gdom.banner, "data-intake-paused", d ? String(d.intakePaused) : null);
  if (!d) return;
  const reason = d.reason.trim().replace(/[.\s]+$/, "");
  const what = d.intakePaused ? "New requests are paused." : "Requests stay queued.";
  setText(gdom.bannerText, `Degraded mode: ${reason}. ${what}`);
  setAttr(gdom.bannerText, "title", d.reason);
  setText(gdom.bannerSince, `since ${clockShort(d.sinceMs)}`);
  setAttr(gdom.bannerSince, "title", new Date(d.sinceMs).toLocaleString());
}

/** Draws the banner and the generator card from the cache. */
export function renderGenerator(cache: Cache): void {
  const st = cache.generator;
  renderBanner(st);

  const loaded = st !== null;
  for (const el of [gdom.backend, gdom.baseUrl, gdom.timeout, ...SECRET_FIELDS, gdom.save, gdom.test, gdom.paused]) {
    el.disabled = !loaded;
  }
  if (!st) return;
  const s = st.settings;

  // Summary line (the card is usually closed).
  setText(gdom.summary, summaryText(st));
  setAttr(gdom.summary, "title", `Generator: ${summaryText(st)}`);
  const state = stateOf(st);
  setAttr(gdom.state, "data-state", state.key);
  setText(gdom.state, state.text);
  setAttr(gdom.state, "title", state.title);
  setAttr(gdom.panel, "data-backend", s.backend);

  // The form: saved values, except where the streamer is typing.
  mirror(gdom.backend, s.backend);
  mirror(gdom.baseUrl, s.baseUrl);
  mirror(gdom.timeout, String(s.timeoutSeconds));
  // The URL only matters for the remote backend (as chosen in the form, saved or not).
  const remote = gdom.backend.value === "remote";
  gdom.baseUrl.disabled = !remote;
  setAttr(gdom.baseUrl, "title", remote ? "The endpoint's base URL (StreamCue calls POST {URL}/generate)" : "Used by the remote backend only");
  for (const f of SECRET_FIELDS) setAttr(f, "placeholder", s.credentialsSaved ? "saved in keyring" : "optional");
  show(gdom.forget, s.credentialsSaved);
  gdom.forget.disabled = ui.saving;
  gdom.save.disabled = ui.saving;
  setAttr(gdom.save, "aria-busy", String(ui.saving));
  setText(gdom.save, ui.saving ? "Saving…" : "Save");
  setText(gdom.saveStatus, ui.savedFlash ? "Saved" : "");
  gdom.panel.classList.toggle("is-dirty", ui.dirty.size > 0);

  gdom.test.disabled = ui.testing;
  setAttr(gdom.test, "aria-busy", String(ui.testing));
  setText(gdom.test, ui.testing ? "Testing…" : "Test connection");
  show(gdom.testResult, ui.test !== null);
  setOptAttr(gdom.testResult, "data-ok", ui.test ? String(ui.test.ok) : null);
  setOptAttr(gdom.testResult, "data-code", ui.test?.code ?? null);
  setText(gdom.testResult, ui.test?.text ?? "");
  setAttr(gdom.testResult, "title", ui.test?.text ?? "");

  show(gdom.error, ui.error !== null);
  setOptAttr(gdom.error, "data-code", ui.error?.code ?? null);
  setText(gdom.error, ui.error?.message ?? "");

  // Pause: the value asked for while the core answers, then the truth.
  const paused = ui.pausing ?? st.paused;
  if (gdom.paused.checked !== paused) gdom.paused.checked = paused;
  setAttr(gdom.paused, "aria-busy", String(ui.pausing !== null));
  gdom.panel.classList.toggle("is-paused", st.paused);

  // Counters (all time) and where the clips go.
  const c = st.counters;
  setCount(gdom.ready, c.ready);
  setCount(gdom.failed, c.failed);
  setCount(gdom.interrupted, c.interrupted);
  setCount(gdom.degradedCount, c.degradedActivations);
  setText(gdom.p50, formatDurationOrDash(c.p50Ms));
  setText(gdom.p95, formatDurationOrDash(c.p95Ms));
  setText(gdom.clipsDir, st.clipsDir || "–");
  setAttr(gdom.clipsDir, "title", st.clipsDir);
}
