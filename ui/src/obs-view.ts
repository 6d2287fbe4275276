// Settings → OBS (the card beside the Generator card): the connection to obs-websocket, the
// names of the scenes and sources StreamCue drives, and **Set up OBS** to create them.
// The summary line shows OBS's live state at a glance (version, program scene, recording, or why
// it is not connected, with a countdown to the next attempt).
// Like the Generator card, the form shows the saved settings (snapshot, then `obsSettings`
// events) but never overwrites a field the streamer is editing (focused, or changed since the
// last save). The password is write-only: the core only says whether one is saved; an empty
// field means "keep it", and Forget sends "" to delete it.

import {
  type ApiError,
  commands,
  type ObsNames,
  type ObsSettings,
  type ObsSettingsUpdate,
  type ObsSetupReport,
  type ObsState,
  type ObsView,
} from "./bindings";
import { $, setAttr, setOptAttr, setText, show } from "./dom";
import { applyObsView, type Cache } from "./state";

/** How long "Saved" stays next to the Save button. */
const SAVED_FLASH_MS = 3000;
const PORT_MIN = 1;
const PORT_MAX = 65535;

export const odom = {
  panel: $("obs-panel"),
  details: $<HTMLDetailsElement>("obs-details"),
  state: $("obs-state"),
  conn: $("obs-conn"),
  sceneLabel: $("obs-scene-label"),
  scene: $("obs-scene"),
  recordingSep: $("obs-recording-sep"),
  recording: $("obs-recording"),
  hero: $("obs-hero"),
  form: $<HTMLFormElement>("obs-form"),
  enabled: $<HTMLInputElement>("obs-enabled"),
  host: $<HTMLInputElement>("obs-host"),
  port: $<HTMLInputElement>("obs-port"),
  password: $<HTMLInputElement>("obs-password"),
  nameGenerating: $<HTMLInputElement>("obs-name-generating"),
  namePrompt: $<HTMLInputElement>("obs-name-prompt"),
  nameResult: $<HTMLInputElement>("obs-name-result"),
  nameMedia: $<HTMLInputElement>("obs-name-media"),
  nameHero: $<HTMLInputElement>("obs-name-hero"),
  save: $<HTMLButtonElement>("obs-save"),
  setup: $<HTMLButtonElement>("obs-setup"),
  forget: $<HTMLButtonElement>("obs-forget-password"),
  saveStatus: $("obs-save-status"),
  setupResult: $("obs-setup-result"),
  error: $("obs-error"),
};

/** The name fields, by the ObsNames key they edit. */
const NAME_FIELDS: Readonly<Record<keyof ObsNames, HTMLInputElement>> = {
  generatingScene: odom.nameGenerating,
  promptSource: odom.namePrompt,
  resultScene: odom.nameResult,
  resultSource: odom.nameMedia,
  heroScene: odom.nameHero,
};
const NAME_KEYS = Object.keys(NAME_FIELDS) as (keyof ObsNames)[];

/** The fields mirrored from the saved settings (the password is never shown). */
const SETTING_FIELDS: readonly HTMLInputElement[] = [odom.enabled, odom.host, odom.port, ...Object.values(NAME_FIELDS)];

/** The card's window-side state. */
const ui = {
  /** Fields the streamer changed since they were last saved or loaded. */
  dirty: new Set<HTMLInputElement>(),
  saving: false,
  settingUp: false,
  /** The last Save/Forget/Set up failure. */
  error: null as ApiError | null,
  /** The last Set up report, as shown. */
  setup: null as { text: string; title: string } | null,
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

/** A field's value as the form holds it (a checkbox as "true"/"false"). */
function valueOf(field: HTMLInputElement): string {
  return field.type === "checkbox" ? String(field.checked) : field.value;
}

function setValue(field: HTMLInputElement, value: string): void {
  if (field.type === "checkbox") {
    const on = value === "true";
    if (field.checked !== on) field.checked = on;
  } else if (field.value !== value) {
    field.value = value;
  }
}

/** The saved value of each mirrored field. */
function savedValues(s: ObsSettings): Map<HTMLInputElement, string> {
  const m = new Map<HTMLInputElement, string>([
    [odom.enabled, String(s.enabled)],
    [odom.host, s.host],
    [odom.port, String(s.port)],
  ]);
  for (const key of NAME_KEYS) m.set(NAME_FIELDS[key], s.names[key]);
  return m;
}

/** Applies the view a command returned, unless an `obs`/`obsSettings` event already replaced
 *  the cached one since the command was sent (that event is at least as new). */
function adoptReturned(view: ObsView, versionBefore: number): void {
  if (cacheRef && cacheRef.obsVersion === versionBefore) applyObsView(cacheRef, view);
}

function flashSaved(): void {
  window.clearTimeout(savedTimer);
  ui.savedFlash = true;
  savedTimer = window.setTimeout(() => {
    ui.savedFlash = false;
    rerender();
  }, SAVED_FLASH_MS);
}

function portError(): ApiError {
  return {
    code: "InvalidSettings",
    message: `The OBS port must be a whole number between ${PORT_MIN} and ${PORT_MAX} (OBS's default is 4455).`,
  };
}

async function save(): Promise<void> {
  const cache = cacheRef;
  if (ui.saving || !cache?.obs) return;
  const portText = odom.port.value.trim();
  const port = Number(portText);
  if (portText === "" || !Number.isInteger(port) || port < PORT_MIN || port > PORT_MAX) {
    ui.error = portError();
    rerender();
    odom.port.focus();
    return;
  }
  // What was sent, to tell afterwards which fields the streamer changed again meanwhile.
  const fields = [...SETTING_FIELDS, odom.password];
  const sent = new Map(fields.map((f) => [f, valueOf(f)]));
  const names = {} as ObsNames;
  for (const key of NAME_KEYS) names[key] = NAME_FIELDS[key].value;
  const update: ObsSettingsUpdate = {
    enabled: odom.enabled.checked,
    host: odom.host.value,
    port,
    password: odom.password.value === "" ? null : odom.password.value,
    names,
  };
  ui.saving = true;
  ui.error = null;
  ui.savedFlash = false;
  rerender();
  const version = cache.obsVersion;
  try {
    const res = await commands.obsUpdateSettings(update);
    if (res.status === "ok") {
      for (const [field, value] of savedValues(res.data.settings)) {
        if (valueOf(field) !== sent.get(field)) continue; // edited again while saving: keep it
        ui.dirty.delete(field);
        setValue(field, value); // the saved form (e.g. trimmed names), even if focused
      }
      // Never keep a secret in the page longer than needed.
      if (odom.password.value === sent.get(odom.password)) odom.password.value = "";
      adoptReturned(res.data, version);
      ui.setup = null; // it was about the settings before this save
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

/** Deletes the saved password; the rest stays as saved (not as typed). */
async function forgetPassword(): Promise<void> {
  const cache = cacheRef;
  if (ui.saving || !cache?.obs) return;
  const s = cache.obs.settings;
  const hadFocus = document.activeElement === odom.forget;
  ui.saving = true;
  ui.error = null;
  ui.savedFlash = false;
  rerender();
  const version = cache.obsVersion;
  try {
    const res = await commands.obsUpdateSettings({
      enabled: s.enabled,
      host: s.host,
      port: s.port,
      password: "",
      names: s.names,
    });
    if (res.status === "ok") adoptReturned(res.data, version);
    else ui.error = toApiError(res.error);
  } catch (e) {
    ui.error = toApiError(e);
  } finally {
    ui.saving = false;
    rerender();
    // The button is gone now: keep keyboard focus in the form.
    if (hadFocus && odom.forget.hidden) odom.password.focus();
  }
}

/** "Created: scene Generating, text source Prompt Text" or "Everything was already there." */
export function setupReportText(r: ObsSetupReport): { text: string; title: string } {
  const there = r.existing.length > 0 ? `Already there: ${r.existing.join(", ")}` : "";
  if (r.created.length === 0) return { text: "Everything was already there.", title: there };
  const created = `Created: ${r.created.join(", ")}`;
  return { text: created, title: there ? `${created}\n${there}` : created };
}

async function setUp(): Promise<void> {
  if (ui.settingUp) return;
  // Set up uses the saved names: say so if the form holds unsaved changes.
  const unsaved = NAME_KEYS.some((k) => ui.dirty.has(NAME_FIELDS[k]));
  ui.settingUp = true;
  ui.error = null;
  ui.setup = null;
  rerender();
  try {
    const res = await commands.obsSetUp();
    if (res.status === "ok") {
      const r = setupReportText(res.data);
      const note = unsaved ? " (saved names: Save, then set up again to use your changes)" : "";
      ui.setup = { text: r.text + note, title: r.title };
    } else {
      ui.error = toApiError(res.error);
    }
  } catch (e) {
    ui.error = toApiError(e);
  } finally {
    ui.settingUp = false;
    rerender();
  }
}

/** Wires the form; `redraw` redraws the page from the cache. */
export function initObs(cache: Cache, redraw: () => void): void {
  cacheRef = cache;
  rerender = redraw;
  for (const field of SETTING_FIELDS) {
    const edited = () => {
      ui.dirty.add(field);
      ui.savedFlash = false;
      rerender();
    };
    field.addEventListener("input", edited);
    field.addEventListener("change", edited); // a checkbox may only fire this one
  }
  odom.password.addEventListener("input", () => (ui.savedFlash = false));
  odom.form.addEventListener("submit", (e) => {
    e.preventDefault();
    void save();
  });
  // Opened at the bottom of a full window: bring the form into view (the page scrolls).
  odom.details.addEventListener("toggle", () => {
    if (odom.details.open) odom.panel.scrollIntoView({ block: "nearest", behavior: "smooth" });
  });
  odom.setup.addEventListener("click", () => void setUp());
  odom.forget.addEventListener("click", () => void forgetPassword());
}

/** Shows a saved value in a field, unless the streamer is editing that field. */
function mirror(field: HTMLInputElement, value: string): void {
  if (ui.dirty.has(field) || document.activeElement === field) return;
  setValue(field, value);
}

/** The summary line's parts: the connection text, then (when connected) scene and recording. */
export interface ObsSummary {
  key: ObsState["connection"]["state"];
  text: string;
  title: string;
  scene: string | null;
  recording: boolean;
}

export function describeObs(view: ObsView, nowMs: number): ObsSummary {
  const { settings, state } = view;
  const c = state.connection;
  const where = `${settings.host}:${settings.port}`;
  const base = { key: c.state, scene: null, recording: false };
  switch (c.state) {
    case "disabled":
      return { ...base, text: "OBS control is off", title: "Tick “Control OBS” and Save to connect" };
    case "connecting":
      return { ...base, text: "Connecting to OBS…", title: `Connecting to obs-websocket at ${where}` };
    case "connected":
      return {
        key: c.state,
        text: `OBS ${c.obsVersion}`,
        title: `Connected to OBS ${c.obsVersion} (obs-websocket ${c.websocketVersion}) at ${where}`,
        scene: state.programScene,
        recording: state.recording,
      };
    case "reconnecting": {
      const secs = Math.max(0, Math.ceil((c.retryAtMs - nowMs) / 1000));
      return {
        ...base,
        text: secs > 0 ? `OBS not connected — retrying in ${secs} s` : "OBS not connected — retrying now…",
        title: `${c.reason} (attempt ${c.attempt})`,
      };
    }
    case "failed":
      return { ...base, text: c.message, title: c.message };
  }
}

/** Draws the OBS card from the cache. */
export function renderObs(cache: Cache, nowMs: number): void {
  const view = cache.obs;
  const loaded = view !== null;
  for (const el of [...SETTING_FIELDS, odom.password, odom.save]) el.disabled = !loaded;
  if (!view) {
    odom.setup.disabled = true;
    return;
  }
  const s = view.settings;
  const st = view.state;

  // Summary line (the card is usually closed): "OBS 30.2.3 · scene: Live · ● REC".
  const d = describeObs(view, nowMs);
  setAttr(odom.panel, "data-state", d.key);
  setAttr(odom.state, "data-state", d.key);
  setAttr(odom.state, "title", d.title);
  setText(odom.conn, d.text);
  setText(odom.sceneLabel, d.scene !== null ? " · scene: " : "");
  setText(odom.scene, d.scene ?? "");
  show(odom.scene, d.scene !== null);
  setAttr(odom.scene, "title", d.scene !== null ? `Program scene: ${d.scene}` : "");
  setText(odom.recordingSep, d.recording ? " · " : "");
  setText(odom.recording, d.recording ? "● REC" : "");
  setAttr(odom.recording, "data-on", String(d.recording));
  show(odom.recording, d.recording);
  setAttr(odom.recording, "title", d.recording ? "OBS is recording" : "");
  show(odom.hero, st.hero);

  // The form: saved values, except where the streamer is typing.
  for (const [field, value] of savedValues(s)) mirror(field, value);
  setAttr(odom.password, "placeholder", s.passwordSaved ? "saved in keyring" : "optional");
  setAttr(
    odom.password,
    "title",
    s.passwordSaved
      ? "obs-websocket's password is saved. Leave empty to keep it, or type a new one"
      : "obs-websocket's password, if it asks for one (OBS: Tools → WebSocket Server Settings)",
  );
  show(odom.forget, s.passwordSaved);
  odom.forget.disabled = ui.saving;
  odom.save.disabled = ui.saving;
  setAttr(odom.save, "aria-busy", String(ui.saving));
  setText(odom.save, ui.saving ? "Saving…" : "Save");
  setText(odom.saveStatus, ui.savedFlash ? "Saved" : "");
  odom.panel.classList.toggle("is-dirty", ui.dirty.size > 0);

  // Set up OBS: only while connected.
  const connected = st.connection.state === "connected";
  odom.setup.disabled = !connected || ui.settingUp;
  setAttr(odom.setup, "aria-busy", String(ui.settingUp));
  setText(odom.setup, ui.settingUp ? "Setting up…" : "Set up OBS");
  setAttr(
    odom.setup,
    "title",
    connected
      ? "Creates the scenes and sources named below in OBS, where they are missing"
      : "OBS is not connected: connect first, then set it up",
  );
  show(odom.setupResult, ui.setup !== null);
  setOptAttr(odom.setupResult, "data-ok", ui.setup ? "true" : null);
  setText(odom.setupResult, ui.setup?.text ?? "");
  setAttr(odom.setupResult, "title", ui.setup?.title || ui.setup?.text || "");

  show(odom.error, ui.error !== null);
  setOptAttr(odom.error, "data-code", ui.error?.code ?? null);
  setText(odom.error, ui.error?.message ?? "");
}
