// Settings → Recorder: what is recorded (OBS's own recording, the channel through streamlink, or
// nothing), streamlink's URL and quality, how much to keep around a moment when cutting its clip,
// and whether to cut every moment when a recording stops. Start/Stop and the clips are on the
// main window's Recorder card.

import { commands, type RecorderMode, type RecorderSettings } from "../../bindings";
import { type FormSpec, useSettingsForm, wholeNumber } from "../../form";
import { cache, update, use } from "../../store";
import { Field } from "./Field";
import { FormFooter, invalid, submitHandler } from "./FormFooter";
import { LIMITS } from "./limits";

type RecorderValues = {
  mode: string;
  url: string;
  quality: string;
  pre: string;
  post: string;
  autoCut: boolean;
};

const MODES: readonly { value: RecorderMode; label: string }[] = [
  { value: "obs", label: "OBS recording" },
  { value: "streamlink", label: "Streamlink" },
  { value: "off", label: "Off" },
];

function modeOf(text: string): RecorderMode {
  return MODES.find((m) => m.value === text)?.value ?? "off";
}

function padding(text: string, what: string): number | string {
  const max = LIMITS.recorderPaddingMaxSecs;
  const n = wholeNumber(text, 0, max, what);
  return typeof n === "string" ? `${what} must be a whole number of seconds from 0 to ${max}.` : n;
}

const RECORDER_FORM: FormSpec<RecorderSettings, RecorderValues, RecorderSettings> = {
  fields: (s) => ({
    mode: s.mode,
    url: s.streamlinkUrl,
    quality: s.quality,
    pre: String(s.preSeconds),
    post: String(s.postSeconds),
    autoCut: s.autoCut,
  }),
  build(v) {
    const pre = padding(v.pre, "Before");
    if (typeof pre === "string") return invalid<RecorderValues>(pre, "pre");
    const post = padding(v.post, "After");
    if (typeof post === "string") return invalid<RecorderValues>(post, "post");
    return {
      update: {
        mode: modeOf(v.mode),
        streamlinkUrl: v.url.trim(),
        quality: v.quality.trim() || "best",
        preSeconds: pre,
        postSeconds: post,
        autoCut: v.autoCut,
      },
    };
  },
  send: (s) => commands.recorderSetSettings(s),
  adopt: (s) =>
    update(["recorder"], (c) => {
      if (c.recorder) c.recorder = { ...c.recorder, settings: s };
    }),
  version: () => cache.versions.recorder,
};

export function RecorderSection() {
  const c = use("recorder");
  if (!c.recorder) return <p class="empty">Loading…</p>;
  return <RecorderForm settings={c.recorder.settings} version={c.versions.recorder} />;
}

function RecorderForm({ settings, version }: { settings: RecorderSettings; version: number }) {
  const form = useSettingsForm(RECORDER_FORM, settings, version);
  // The streamlink fields follow the mode chosen in the form (saved or not).
  const streamlink = form.values.value.mode === "streamlink";
  return (
    <form class="settings-form" novalidate autocomplete="off" onSubmit={submitHandler(form)}>
      <div class="settings-grid">
        <Field form={form} name="mode" id="recorder-mode" label="Record" wide>
          <select
            title="What to record: OBS's own recording, the channel through streamlink, or nothing"
            {...form.text("mode")}
          >
            {MODES.map((m) => (
              <option key={m.value} value={m.value}>
                {m.label}
              </option>
            ))}
          </select>
        </Field>
        <Field
          form={form}
          name="url"
          id="recorder-url"
          label="Stream URL"
          hidden={!streamlink}
          hint="Empty: the connected Twitch channel"
        >
          <input
            type="text"
            inputmode="url"
            placeholder="twitch.tv/yourchannel"
            autocapitalize="off"
            spellcheck={false}
            maxlength={2000}
            title="What streamlink opens; empty = the connected Twitch channel"
            {...form.text("url")}
          />
        </Field>
        <Field form={form} name="quality" id="recorder-quality" label="Quality" hidden={!streamlink}>
          <input
            type="text"
            placeholder="best"
            spellcheck={false}
            maxlength={100}
            title="streamlink's quality (best, 720p60, …)"
            {...form.text("quality")}
          />
        </Field>
        <Field form={form} name="pre" id="recorder-pre" label="Before" unit="s" hint="Kept before a moment when cutting its clip">
          <input type="number" min={0} max={LIMITS.recorderPaddingMaxSecs} step={1} inputmode="numeric" {...form.text("pre")} />
        </Field>
        <Field form={form} name="post" id="recorder-post" label="After" unit="s" hint="Kept after a moment when cutting its clip">
          <input type="number" min={0} max={LIMITS.recorderPaddingMaxSecs} step={1} inputmode="numeric" {...form.text("post")} />
        </Field>
        <Field form={form} name="autoCut" id="recorder-auto-cut" label="Cut every moment when the recording stops" check>
          <input {...form.check("autoCut")} />
        </Field>
      </div>
      <FormFooter form={form} prefix="recorder" errorId="recorder-form-error" />
    </form>
  );
}
