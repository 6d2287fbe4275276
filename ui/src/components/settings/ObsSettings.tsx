// Settings → OBS: the connection to obs-websocket, the names of the scenes and sources StreamCue
// drives, and Set up OBS to create them. The password is write-only: the core only says whether
// one is saved; an empty field means "keep it", and Forget sends "" to delete it. A line at the
// top says whether OBS is connected now (so a Save shows its effect here).

import { useSignal } from "@preact/signals";
import {
  commands,
  type ObsNames,
  type ObsSettingsUpdate,
  type ObsState,
  type ObsView,
} from "../../bindings";
import { type FormSpec, useSettingsForm, wholeNumber } from "../../form";
import { cache, update, use } from "../../store";
import { Field } from "./Field";
import { ForgetSecret } from "./ForgetSecret";
import { FormFooter, invalid, submitHandler } from "./FormFooter";
import { LIMITS } from "./limits";

type ObsValues = {
  enabled: boolean;
  host: string;
  port: string;
  password: string;
} & Record<keyof ObsNames, string>;

/** The name fields: key, id, label, what it is. */
const NAME_FIELDS: readonly { key: keyof ObsNames; id: string; label: string; title: string }[] = [
  { key: "generatingScene", id: "obs-name-generating", label: "Generating scene", title: "The scene shown while a clip is being drawn" },
  { key: "promptSource", id: "obs-name-prompt", label: "Prompt text source", title: "A text source in the Generating scene that shows the prompt" },
  { key: "resultScene", id: "obs-name-result", label: "Result scene", title: "The scene that plays the finished clip" },
  { key: "resultSource", id: "obs-name-media", label: "Clip media source", title: "A media source in the Result scene that plays the clip" },
  { key: "heroScene", id: "obs-name-hero", label: "Hero Shot scene", title: "The fallback scene shown in degraded mode" },
  { key: "watchScene", id: "obs-name-watch", label: "Watch-along scene", title: "The scene that plays a watch-along link" },
  { key: "watchSource", id: "obs-name-watch-media", label: "Watch-along media source", title: "A media source in the Watch-along scene that plays the link's stream" },
];

function adoptView(view: ObsView): void {
  update(["obs"], (c) => {
    c.obs = view;
  });
}

const OBS_FORM: FormSpec<ObsView, ObsValues, ObsSettingsUpdate> = {
  fields: ({ settings: s }) => ({
    enabled: s.enabled,
    host: s.host,
    port: String(s.port),
    password: "",
    ...s.names,
  }),
  secret: ["password"],
  build(v) {
    const port = wholeNumber(v.port, LIMITS.obsPortMin, LIMITS.obsPortMax, "The OBS port");
    if (typeof port === "string") {
      return invalid<ObsValues>(`${port.replace(/\.$/, "")} (OBS's default is 4455).`, "port");
    }
    const names = {} as ObsNames;
    for (const { key } of NAME_FIELDS) names[key] = v[key];
    return {
      update: { enabled: v.enabled, host: v.host, port, password: v.password === "" ? null : v.password, names },
    };
  },
  send: (u) => commands.obsUpdateSettings(u),
  adopt: adoptView,
  version: () => cache.versions.obs,
};

/** The connection, in a few words (no countdown: the main window's OBS card has it). */
function connectionText(state: ObsState): { tone: string; text: string; title: string } {
  const c = state.connection;
  switch (c.state) {
    case "disabled":
      return { tone: "", text: "OBS control is off", title: "Tick “Control OBS” and Save to connect" };
    case "connecting":
      return { tone: "accent", text: "Connecting to OBS…", title: "Connecting to obs-websocket" };
    case "connected":
      return {
        tone: "ok",
        text: `Connected to OBS ${c.obsVersion}`,
        title: `Connected to OBS ${c.obsVersion} (obs-websocket ${c.websocketVersion})`,
      };
    case "reconnecting":
      return { tone: "warn", text: "Not connected: retrying", title: `${c.reason} (attempt ${c.attempt})` };
    case "failed":
      return { tone: "err", text: c.message, title: c.message };
  }
}

export function ObsSection() {
  const c = use("obs");
  if (!c.obs) return <p class="empty">Loading…</p>;
  return <ObsForm view={c.obs} version={c.versions.obs} />;
}

function ObsForm({ view, version }: { view: ObsView; version: number }) {
  const form = useSettingsForm(OBS_FORM, view, version);
  const forgetting = useSignal(false);
  const s = view.settings;
  const conn = connectionText(view.state);


  return (
    <form
      class="settings-form"
      novalidate
      autocomplete="off"
      onSubmit={submitHandler(form)}
    >
      <p class="settings-status" aria-live="polite">
        <span class="chip settings-obs-conn" data-tone={conn.tone || undefined} data-state={view.state.connection.state} title={conn.title}>
          <span class="dot" />
          <span class="settings-ellipsis">{conn.text}</span>
        </span>
      </p>

      <div class="settings-grid">
        <Field form={form} name="enabled" id="obs-enabled" label="Control OBS" check hint="Connect to OBS and switch scenes as requests are drawn and shown">
          <input {...form.check("enabled")} />
        </Field>
        <Field form={form} name="host" id="obs-host" label="Host">
          <input
            type="text"
            placeholder="127.0.0.1"
            autocapitalize="off"
            spellcheck={false}
            maxlength={253}
            title="The computer OBS runs on (obs-websocket)"
            {...form.text("host")}
          />
        </Field>
        <Field form={form} name="port" id="obs-port" label="Port">
          <input
            type="number"
            min={LIMITS.obsPortMin}
            max={LIMITS.obsPortMax}
            step={1}
            inputmode="numeric"
            placeholder="4455"
            title="obs-websocket's port (OBS: Tools → WebSocket Server Settings; default 4455)"
            {...form.text("port")}
          />
        </Field>
        <Field
          form={form}
          name="password"
          id="obs-password"
          label="Password"
          wide
          hint={
            s.passwordSaved
              ? "A password is saved in the OS keyring. Leave empty to keep it, or type a new one."
              : "Only if obs-websocket asks for one (OBS: Tools → WebSocket Server Settings)."
          }
        >
          <input
            type="password"
            placeholder={s.passwordSaved ? "saved in keyring" : "optional"}
            autocomplete="off"
            spellcheck={false}
            maxlength={512}
            {...form.text("password")}
          />
        </Field>
      </div>

      <fieldset class="settings-group">
        <legend>Scene and source names</legend>
        <div class="settings-grid">
          {NAME_FIELDS.map(({ key, id, label, title }) => (
            <Field key={key} form={form} name={key} id={id} label={label}>
              <input type="text" maxlength={100} spellcheck={false} autocomplete="off" title={title} {...form.text(key)} />
            </Field>
          ))}
        </div>
      </fieldset>

      <FormFooter
        form={form}
        prefix="obs"
        busy={forgetting.value}
      >
        {s.passwordSaved && (
          <ForgetSecret
            form={form}
            busy={forgetting}
            id="obs-forget-password"
            label="Forget saved password"
            title="Delete the saved OBS password from the keyring"
            focusId="obs-password"
            send={() => {
              // What is saved now (not as typed), without the password.
              const saved = cache.obs?.settings ?? s;
              return commands.obsUpdateSettings({
                enabled: saved.enabled,
                host: saved.host,
                port: saved.port,
                password: "",
                names: saved.names,
              });
            }}
            adopt={adoptView}
            version={() => cache.versions.obs}
          />
        )}
      </FormFooter>
    </form>
  );
}
