// Settings → Moments: what makes a moment (chat velocity, keywords, emote spam, viewers'
// support, a viewer spike, how close triggers merge), with a live preview of the detector's readings that also shows what the
// unsaved edits would change (`previewParts`/`draftThreshold` in moments.ts).

import type { MomentSettings } from "../../bindings";
import { commands } from "../../bindings";
import { type FormSpec, type SettingsForm, useSettingsForm } from "../../form";
import { previewParts } from "../../moments";
import { hasSession } from "../../state";
import { cache, update, use } from "../../store";
import { Field } from "./Field";
import { FormFooter, submitHandler } from "./FormFooter";
import { LIMITS } from "./limits";
import { buildMoments, momentDraft, momentFields, type MomentValues, settingsSummary, settingsTitle } from "./momentForm";

const MOMENTS_FORM: FormSpec<MomentSettings, MomentValues, MomentSettings> = {
  fields: momentFields,
  build: buildMoments,
  send: (s) => commands.momentsSetSettings(s),
  adopt: (s) =>
    update(["momentSettings"], (c) => {
      c.momentSettings = s;
    }),
  version: () => cache.versions.momentSettings,
};

type Form = SettingsForm<MomentSettings, MomentValues, MomentSettings>;

/** `active`: the section is the one shown (the live preview runs only then). */
export function MomentsSection({ active }: { active: boolean }) {
  const c = use("momentSettings");
  if (!c.momentSettings) return <p class="empty">Loading…</p>;
  return <MomentsForm settings={c.momentSettings} version={c.versions.momentSettings} active={active} />;
}

/** A number field with its unit (every one in this form has a unit). */
function NumberField(props: {
  form: Form;
  name: keyof MomentValues;
  id: string;
  label: string;
  unit: string;
  hint?: string;
  min?: number;
  max?: number;
  step: number;
}) {
  const { form, name, id, label, unit, hint, min, max, step } = props;
  return (
    <Field form={form} name={name} id={id} label={label} unit={unit} hint={hint}>
      <input
        type="number"
        min={min}
        max={max}
        step={step}
        inputmode={Number.isInteger(step) ? "numeric" : "decimal"}
        {...form.text(name)}
      />
    </Field>
  );
}

function MomentsForm({ settings, version, active }: { settings: MomentSettings; version: number; active: boolean }) {
  const form = useSettingsForm(MOMENTS_FORM, settings, version);
  const fixed = form.values.value.rule === "fixed";
  const L = LIMITS;
  const windows = `${L.momentWindowMinSecs}–${L.momentWindowMaxSecs}`;
  return (
    <form class="settings-form" novalidate autocomplete="off" onSubmit={submitHandler(form)}>
      <p class="settings-note settings-ellipsis" title={settingsTitle(settings)}>
        Saved: {settingsSummary(settings)}
      </p>
      {active && <MomentsPreview form={form} saved={settings} />}

      <fieldset class="settings-group" data-rule={fixed ? "fixed" : "baseline"}>
        <legend>Chat velocity</legend>
        <div class="settings-grid settings-grid-3">
          <Field form={form} name="rule" id="ms-rule" label="Rule">
            <select
              title="Baseline: fires when chat is far above its own recent rate. Fixed: fires above a set rate."
              {...form.text("rule")}
            >
              <option value="baseline">Above baseline</option>
              <option value="fixed">Fixed rate</option>
            </select>
          </Field>
          <NumberField form={form} name="window" id="ms-window" label="Window" unit="s" step={1}
            min={L.momentWindowMinSecs} max={L.momentWindowMaxSecs}
            hint={`The rate is averaged over it (${windows} s); keywords are counted over it too`} />
          {fixed ? (
            <NumberField form={form} name="perSecond" id="ms-per-second" label="Rate" unit="msg/s" step={0.5} min={0}
              hint="Fires above this many messages per second" />
          ) : (
            <>
              <NumberField form={form} name="sigmas" id="ms-sigmas" label="Sigmas" unit="σ" step={0.5}
                min={L.baselineSigmasMin} hint="Standard deviations above the baseline" />
              <NumberField form={form} name="ratio" id="ms-ratio" label="Ratio" unit="×" step={0.1}
                min={L.baselineRatioMin} hint={`…and at least this many times the baseline (≥ ${L.baselineRatioMin})`} />
              <NumberField form={form} name="floor" id="ms-floor" label="Floor" unit="msg/s" step={0.5}
                min={L.baselineFloorMin} hint="…and never below this (quiet chats)" />
              <NumberField form={form} name="halfLife" id="ms-half-life" label="Half-life" unit="s" step={1}
                min={L.baselineHalfLifeMinSecs} hint="Older chat counts half after this long" />
              <NumberField form={form} name="warmup" id="ms-warmup" label="Warm-up" unit="s" step={1}
                min={0} max={L.baselineWarmupMaxSecs} hint={`Chat needed before velocity can fire (0–${L.baselineWarmupMaxSecs})`} />
            </>
          )}
        </div>
      </fieldset>

      <fieldset class="settings-group">
        <legend>Keywords</legend>
        <div class="settings-grid settings-grid-3">
          <Field form={form} name="keywords" id="ms-keywords" label="Words and phrases" wide
            hint="Comma-separated; case-insensitive, whole words; counted once per message">
            <input type="text" spellcheck={false} autocomplete="off" placeholder="clip, no way, pog" {...form.text("keywords")} />
          </Field>
          <NumberField form={form} name="keywordThreshold" id="ms-keyword-threshold" label="Fires at" unit="msgs" step={1}
            min={0} hint="Messages with a keyword within the window (0 = off)" />
        </div>
      </fieldset>

      <fieldset class="settings-group">
        <legend>Emote spam</legend>
        <div class="settings-grid settings-grid-3">
          <Field form={form} name="textEmotes" id="ms-text-emotes" label="Text emotes" wide
            hint="Comma-separated emotes recognised in the text, besides the platform's own">
            <input type="text" spellcheck={false} autocomplete="off" placeholder="KEKW, LUL, Pog" {...form.text("textEmotes")} />
          </Field>
          <NumberField form={form} name="emoteThreshold" id="ms-emote-threshold" label="Fires at" unit="msgs" step={1}
            min={0} hint="Messages with the same emote (0 = off)" />
          <NumberField form={form} name="emoteWindow" id="ms-emote-window" label="Within" unit="s" step={1}
            min={L.momentWindowMinSecs} max={L.momentWindowMaxSecs} hint={`…within this many seconds (${windows})`} />
        </div>
      </fieldset>

      <fieldset class="settings-group">
        <legend>Viewer support</legend>
        <p class="settings-note">
          Counted over the window; only the counts are kept, never who gave them. Twitch: subs,
          gifts, raids and bits. Kick: subs and gifts. 0 turns one off.
        </p>
        <div class="settings-grid settings-grid-3">
          <NumberField form={form} name="subs" id="ms-subs" label="Subs" unit="subs" step={1} min={0}
            hint="New subs and resubs within the window" />
          <NumberField form={form} name="gifts" id="ms-gifts" label="Gifted subs" unit="gifts" step={1} min={0}
            hint="Gifts within the window (a gift bomb counts each gift)" />
          <NumberField form={form} name="raidViewers" id="ms-raid-viewers" label="Raid" unit="viewers" step={1} min={0}
            hint="An incoming raid bringing at least this many" />
          <NumberField form={form} name="bits" id="ms-bits" label="Bits" unit="bits" step={1} min={0}
            hint="Bits cheered within the window" />
        </div>
      </fieldset>

      <fieldset class="settings-group">
        <legend>Viewer spike</legend>
        <p class="settings-note">
          Kick joined by channel name only: its viewer count is read every minute. Twitch chat
          carries no viewer count, so this never fires there.
        </p>
        <div class="settings-grid settings-grid-3">
          <NumberField form={form} name="spikeRatio" id="ms-spike-ratio" label="Jump" unit="×" step={0.1} min={0}
            max={L.viewerSpikeRatioMax} hint="The count at least this many times the reading before (0 = off)" />
          <NumberField form={form} name="spikeIncrease" id="ms-spike-increase" label="And by" unit="viewers" step={1}
            min={0} max={L.viewerSpikeMinIncreaseMax} hint="…and up by at least this many viewers" />
        </div>
      </fieldset>

      <div class="settings-grid settings-grid-3">
        <NumberField form={form} name="mergeGap" id="ms-merge-gap" label="Merge gap" unit="s" step={1}
          min={0} max={L.momentMergeGapMaxSecs} hint={`Triggers this close together belong to one moment (0–${L.momentMergeGapMaxSecs})`} />
      </div>

      <FormFooter form={form} prefix="moments" />
    </form>
  );
}

const PREVIEW_TITLE_ESTIMATE =
  "≈: estimated from the live baseline: max(baseline × ratio, floor), and baseline + sigmas × its spread when the current threshold shows the spread. Save to see the detector's own number.";
const PREVIEW_TITLE =
  "The detector's readings for the last second: the rate over the window, the channel's baseline, where velocity fires, and the keyword and emote counts against their thresholds";

/** The detector's readings for the live chat, against the saved settings and the form's edits.
 *  Re-renders every second while a chat is live, so it is its own component. */
function MomentsPreview({ form, saved }: { form: Form; saved: MomentSettings }) {
  const c = use("main", "kick");
  const { main, kick } = c.chats;
  const live = main.readings && hasSession(main.chat) ? main : kick.readings && hasSession(kick.chat) ? kick : null;
  const draft = momentDraft(form.values.value, form.dirty.value, saved);
  const edited = String(draft !== null);
  if (!live?.readings) {
    return (
      <div id="moments-preview" class="settings-preview" role="status" data-state="idle" data-edited={edited}>
        Live preview: connect to a chat to see how these settings react.
      </div>
    );
  }
  const p = previewParts(live.readings, saved, draft);
  const parts: [string, string, boolean][] = [
    ["now", p.now, false],
    ["baseline", p.baseline, false],
    ["fires", p.fires, draft?.velocity != null],
    ["keywords", p.keywords, draft?.keywordThreshold != null],
    ["emotes", p.emotes, draft?.emoteThreshold != null],
  ];
  return (
    <div
      id="moments-preview"
      class="settings-preview"
      role="status"
      data-state="live"
      data-edited={edited}
      title={draft?.velocity?.rule === "baseline" ? PREVIEW_TITLE_ESTIMATE : PREVIEW_TITLE}
    >
      <span class="settings-preview-label">{live.slot === "kick" ? "Live (Kick) " : "Live "}</span>
      {parts.map(([name, text, isEdited], i) => (
        <span key={name}>
          {i > 0 && <span class="settings-preview-sep"> · </span>}
          <span class={isEdited ? "settings-preview-part is-edited" : "settings-preview-part"} data-part={name}>
            {text}
          </span>
        </span>
      ))}
    </div>
  );
}
