// Settings → Watch-along: who puts the video on screen (OBS, built in: its volume and the scene
// to return to; or a screen-share controller StreamCue hands links to: its address, where it
// shares, a Discord guild and voice channel by ids and the channel's name), and how long a start
// may take. Check controller asks the saved controller's /health; the answer comes back
// as a `watch` event and shows here (status, sandbox, active sessions, version, or why not).
//
// Discord's ids are 64-bit: they stay text (watchForm.ts). The controller reports back to the
// local server, so its state is shown here with a way to it.

import { useSignal } from "@preact/signals";
import { commands, type ServerView, type WatchSettings, type WatchView } from "../../bindings";
import { useCommand } from "../../cmd";
import { type FormSpec, useSettingsForm } from "../../form";
import { cache, update, use } from "../../store";
import { settingsSection } from "../../ui";
import { adoptWatchView, controllerConfigured, HEALTH_TONE, healthRows } from "../../watch";
import { Field } from "./Field";
import { FormFooter, submitHandler } from "./FormFooter";
import {
  buildWatch,
  CHANNEL_NAME_MAX_CHARS,
  SCENE_MAX_CHARS,
  START_TIMEOUT_RANGE,
  VOLUME_RANGE,
  type WatchValues,
  watchFields,
} from "./watchForm";

const WATCH_FORM: FormSpec<WatchView, WatchValues, WatchSettings> = {
  fields: watchFields,
  build: buildWatch,
  send: (s) => commands.watchSetSettings(s),
  adopt: (view) =>
    update(["watch"], (c) => {
      c.watch = view;
    }),
  version: () => cache.versions.watch,
};

export function WatchSection() {
  const c = use("watch", "server");
  if (!c.watch) return <p class="empty">Loading…</p>;
  return <WatchForm view={c.watch} version={c.versions.watch} server={c.localServer} />;
}

/** Where the controller's reports go: the local server, which must be on. */
function ServerNote({ server }: { server: ServerView | null }) {
  const url = server?.phase === "listening" ? server.url : null;
  return (
    <p id="wa-server-note" class="settings-note" data-listening={url ? "true" : "false"}>
      The controller reports back to StreamCue's local server (<span class="mono">POST /watch/status</span>), which must
      be on:{" "}
      {url ? (
        <>
          it listens at <span class="mono">{url}</span>.
        </>
      ) : (
        <strong class="err-line">it is off</strong>
      )}{" "}
      <button class="btn btn-link btn-small" type="button" onClick={() => (settingsSection.value = "server")}>
        Settings → Local server
      </button>
    </p>
  );
}

/** The controller's last /health answer (or why there is none), from the view. */
function Health({ view, waiting }: { view: WatchView; waiting: boolean }) {
  if (waiting) {
    return (
      <div id="wa-health-waiting" class="settings-note" role="status">
        Asking the controller… (up to 30 s a try, retried three times)
      </div>
    );
  }
  if (view.health) {
    const h = view.health;
    return (
      <dl id="wa-health" class="settings-about" data-status={h.status} aria-label="The controller's health">
        {healthRows(h).map((r) => (
          <div key={r.key} class="settings-about-row">
            <dt>{r.label}</dt>
            <dd id={`wa-health-${r.key}`}>
              {r.key === "status" ? (
                <span class="chip" data-tone={HEALTH_TONE[h.status]}>
                  {r.value}
                </span>
              ) : (
                <span class={r.key === "version" ? "mono" : undefined}>{r.value}</span>
              )}
            </dd>
          </div>
        ))}
      </dl>
    );
  }
  if (view.healthError) {
    return (
      <div id="wa-health-error" class="err-line" role="status">
        {view.healthError}
      </div>
    );
  }
  return null;
}

function WatchForm({ view, version, server }: { view: WatchView; version: number; server: ServerView | null }) {
  const form = useSettingsForm(WATCH_FORM, view, version);
  const checker = useCommand(commands.watchCheckController);
  /** The slice's version once Check controller's reply was adopted: the answer is the next event. */
  const askedAt = useSignal<number | null>(null);
  const [min, max] = START_TIMEOUT_RANGE;
  const configured = controllerConfigured(view);
  const onObs = form.values.value.executor !== "controller";
  const [vmin, vmax] = VOLUME_RANGE;

  async function check() {
    askedAt.value = null;
    const versionBefore = cache.versions.watch;
    const out = await checker.run();
    if (!out?.ok || cache.versions.watch !== versionBefore) return;
    update(["watch"], (c) => adoptWatchView(c, out.data, versionBefore));
    askedAt.value = cache.versions.watch;
  }

  const waiting = checker.busy || (askedAt.value !== null && askedAt.value === version);
  return (
    <form class="settings-form" novalidate autocomplete="off" onSubmit={submitHandler(form)}>
      <div class="settings-grid">
        <Field form={form} name="executor" id="wa-executor" label="Play it with" wide
          hint={onObs
            ? "OBS's Watch-along scene (press Set up OBS once); YouTube, Twitch and Vimeo links go through streamlink"
            : "A separate screen-share program StreamCue hands the link to (e.g. a sandboxed browser sharing into Discord)"}>
          <select {...form.text("executor")}>
            <option value="obs">OBS (built in)</option>
            <option value="controller">Screen-share controller</option>
          </select>
        </Field>
        <Field form={form} name="viewerRequests" id="wa-viewer-requests" label="Viewers may ask" check
          hint="A viewer's !watch <link> waits in the card for your Play or Deny (off: only you and moderators)">
          <input {...form.check("viewerRequests")} />
        </Field>
        <Field form={form} name="startTimeout" id="wa-start-timeout" label="Start timeout" unit="s"
          hint={`A session not playing this long after it was asked for fails, and the video is taken down (${min}–${max} s)`}>
          <input type="number" min={min} max={max} step={1} inputmode="numeric" {...form.text("startTimeout")} />
        </Field>
      </div>

      {onObs ? (
        <fieldset class="settings-group">
          <legend>OBS</legend>
          <div class="settings-grid">
            <Field form={form} name="obsVolume" id="wa-obs-volume" label="Volume" unit="%"
              hint={`The Watch-along source's volume in OBS (${vmin}–${vmax} %)`}>
              <input type="number" min={vmin} max={vmax} step={1} inputmode="numeric" {...form.text("obsVolume")} />
            </Field>
            <Field form={form} name="returnScene" id="wa-return-scene" label="Return scene"
              hint="Shown when the video ends. Empty: the scene that was on before.">
              <input type="text" placeholder="(the scene before)" maxlength={SCENE_MAX_CHARS} {...form.text("returnScene")} />
            </Field>
          </div>
        </fieldset>
      ) : (
        <fieldset class="settings-group">
          <legend>Controller</legend>
          <div class="settings-grid">
            <Field form={form} name="controllerUrl" id="wa-controller-url" label="Controller address" wide
              hint="The screen-share controller's address (a separate program StreamCue does not run).">
              <input type="text" inputmode="url" placeholder="http://127.0.0.1:8700" autocapitalize="off" spellcheck={false}
                maxlength={2000} {...form.text("controllerUrl")} />
            </Field>
            <Field form={form} name="guildId" id="wa-guild-id" label="Discord guild id"
              hint="Digits only: right-click the server → Copy Server ID (Developer Mode)">
              <input class="mono" type="text" inputmode="numeric" placeholder="1234567890123456789" spellcheck={false}
                maxlength={20} {...form.text("guildId")} />
            </Field>
            <Field form={form} name="channelId" id="wa-channel-id" label="Voice channel id"
              hint="Digits only: right-click the voice channel → Copy Channel ID">
              <input class="mono" type="text" inputmode="numeric" placeholder="987654321098765432" spellcheck={false}
                maxlength={20} {...form.text("channelId")} />
            </Field>
            <Field form={form} name="channelName" id="wa-channel-name" label="Channel name"
              hint="Said in chat: “Putting <link> on Movie Night”. Empty: “the screen share”.">
              <input type="text" placeholder="Movie Night" maxlength={CHANNEL_NAME_MAX_CHARS} {...form.text("channelName")} />
            </Field>
          </div>
          <ServerNote server={server} />
          <p class="settings-note">
            What a controller implements (its calls, the webhook, the error codes, with examples):{" "}
            <span class="mono">docs/watch-along-controller.md</span> in StreamCue's source.
          </p>
          <Health view={view} waiting={waiting} />
          {checker.error && (
            <div id="wa-check-error" class="err-line" role="alert" data-code={checker.error.code}>
              {checker.error.message}
            </div>
          )}
        </fieldset>
      )}

      <FormFooter form={form} prefix="wa">
        {!onObs && (
          <button id="wa-check" class="btn" type="button" disabled={checker.busy || !configured}
            aria-busy={checker.busy ? "true" : "false"}
            title={configured
              ? `Ask the saved controller's /health${form.changed.value ? " (the saved address: Save to check the one typed)" : ""}`
              : "Save a controller address first"}
            onClick={() => void check()}>
            {waiting ? "Checking…" : "Check controller"}
          </button>
        )}
      </FormFooter>
    </form>
  );
}
