// Settings → Local server: on/off and the port (it listens again at once), its state and
// address, the event-stream clients connected now, the overlay's address, and the control API's
// token (made on first use, shown on request, copied, regenerated). The token is fetched only
// when the streamer asks for it and never kept in the cache.

import { useSignal } from "@preact/signals";
import { commands, type ServerSettings, type ServerView } from "../../bindings";
import { copyText } from "../../clipboard";
import { useCommand } from "../../cmd";
import { type FormSpec, useSettingsForm, wholeNumber } from "../../form";
import { cache, update, use } from "../../store";
import { Field } from "./Field";
import { FormFooter, invalid, submitHandler } from "./FormFooter";

type ServerValues = { enabled: boolean; port: string };

/** The lowest port the core accepts (lower ones are for the system). */
const PORT_MIN = 1024;

const SERVER_FORM: FormSpec<ServerView, ServerValues, ServerSettings> = {
  fields: (v) => ({ enabled: v.settings.enabled, port: String(v.settings.port) }),
  build(v) {
    const port = wholeNumber(v.port, PORT_MIN, 65535, "The port");
    if (typeof port === "string") return invalid<ServerValues>(port, "port");
    return { update: { enabled: v.enabled, port } };
  },
  send: (s) => commands.serverConfigure(s),
  adopt: (view) =>
    update(["server"], (c) => {
      c.localServer = view;
    }),
  version: () => cache.versions.server,
};

export function LocalServerSection() {
  const c = use("server");
  if (!c.localServer) return <p class="empty">Loading…</p>;
  return (
    <>
      <ServerState view={c.localServer} />
      <ServerForm view={c.localServer} version={c.versions.server} />
      <ApiToken saved={c.localServer.tokenSaved} />
    </>
  );
}

function ServerState({ view }: { view: ServerView }) {
  const copied = useSignal<string | null>(null);
  const copy = (what: string, text: string) =>
    void copyText(text).then((ok) => (copied.value = ok ? what : null));
  const overlay = view.url ? `${view.url}/overlay` : null;
  return (
    <dl class="settings-about" id="local-server" data-phase={view.phase}>
      <div class="settings-about-row">
        <dt>State</dt>
        <dd id="local-server-state">
          {view.phase === "listening" && view.url ? (
            <>
              <span class="mono">{view.url}</span> · {clientsText(view.clients)}
            </>
          ) : view.phase === "failed" ? (
            <span class="err-line">{view.message}</span>
          ) : (
            "off"
          )}
          {view.overriddenBy && (
            <div class="settings-hint">Set by {view.overriddenBy} when StreamCue started: the settings below apply without it.</div>
          )}
        </dd>
      </div>
      {view.url && overlay && (
        <>
          <div class="settings-about-row">
            <dt>Endpoints</dt>
            <dd class="mono">/health · /metrics · /events · /api/…</dd>
          </div>
          <div class="settings-about-row">
            <dt>OBS overlay</dt>
            <dd>
              <span class="mono" id="local-server-overlay">{overlay}</span>{" "}
              <button class="btn btn-small" type="button" onClick={() => copy("overlay", overlay)}>
                {copied.value === "overlay" ? "Copied" : "Copy"}
              </button>
              <div class="settings-hint">In OBS: Sources → + → Browser, this URL, 1280 × 720.</div>
            </dd>
          </div>
        </>
      )}
    </dl>
  );
}

function clientsText(n: number): string {
  return n === 1 ? "1 live client" : `${n} live clients`;
}

function ServerForm({ view, version }: { view: ServerView; version: number }) {
  const form = useSettingsForm(SERVER_FORM, view, version);
  return (
    <form class="settings-form" novalidate autocomplete="off" onSubmit={submitHandler(form)}>
      <div class="settings-grid">
        <Field form={form} name="enabled" id="server-enabled" label="Listen on 127.0.0.1 (this computer only)" check>
          <input {...form.check("enabled")} />
        </Field>
        <Field form={form} name="port" id="server-port" label="Port">
          <input class="mono" type="text" inputMode="numeric" {...form.text("port")} />
        </Field>
      </div>
      <FormFooter form={form} prefix="server" errorId="server-form-error" />
    </form>
  );
}

/** The control API's token: hidden until asked for; Regenerate asks once more first. */
function ApiToken({ saved }: { saved: boolean }) {
  const token = useSignal<string | null>(null);
  const confirming = useSignal(false);
  const copied = useSignal(false);
  const fetch = useCommand(() => commands.serverToken());
  const regenerate = useCommand(() => commands.serverRegenerateToken());
  const reveal = async (): Promise<string | null> => {
    if (token.value) return token.value;
    const out = await fetch.run();
    if (out?.ok) token.value = out.data;
    return token.value;
  };
  const error = fetch.error ?? regenerate.error;
  return (
    <fieldset class="settings-group settings-wide" id="server-token">
      <legend>Control API token</legend>
      <p class="settings-hint">
        Scripts and Stream Decks send it as <span class="mono">Authorization: Bearer …</span> to
        approve, skip or retry requests, show a clip again, start or stop the recording, and mark
        a moment. {saved ? "Kept in the OS keyring." : "Not saved in a keyring: it changes when StreamCue restarts."}
      </p>
      <div class="settings-token-row">
        <span class="mono" id="server-token-value">{token.value ?? "sc_••••••••••••"}</span>
        {token.value === null && (
          <button class="btn btn-small" type="button" disabled={fetch.busy} onClick={() => void reveal()}>
            Show
          </button>
        )}
        <button
          class="btn btn-small"
          type="button"
          id="server-token-copy"
          disabled={fetch.busy}
          onClick={() =>
            void reveal().then((t) => (t ? copyText(t).then((ok) => (copied.value = ok)) : undefined))
          }
        >
          {copied.value ? "Copied" : "Copy"}
        </button>
        {confirming.value ? (
          <>
            <button
              class="btn btn-small btn-danger"
              type="button"
              id="server-token-regenerate-confirm"
              disabled={regenerate.busy}
              onClick={() =>
                void regenerate.run().then((out) => {
                  confirming.value = false;
                  copied.value = false;
                  if (out?.ok) token.value = out.data;
                })
              }
            >
              Make a new token (the old one stops working)
            </button>
            <button class="btn btn-small" type="button" onClick={() => (confirming.value = false)}>
              Cancel
            </button>
          </>
        ) : (
          <button class="btn btn-small" type="button" id="server-token-regenerate" onClick={() => (confirming.value = true)}>
            Regenerate
          </button>
        )}
      </div>
      <div class="err-line" role="alert" hidden={error === null}>
        {error?.message ?? ""}
      </div>
    </fieldset>
  );
}
