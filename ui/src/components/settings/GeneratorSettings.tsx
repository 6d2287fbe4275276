// Settings → Generator: where clips come from (the offline demo or a remote endpoint), the
// timeout, and the Modal credentials. Credentials are write-only: the core only says whether they
// are saved; an empty field means "keep what is saved", and Forget sends "" for both to delete
// them. Test connection checks what is *saved* (it says so when the form holds changes).

import { useSignal } from "@preact/signals";
import {
  commands,
  type GeneratorBackend,
  type GeneratorSettingsUpdate,
  type GeneratorStatus,
} from "../../bindings";
import { useCommand } from "../../cmd";
import { type FormSpec, useSettingsForm, wholeNumber } from "../../form";
import { formatLatency } from "../../format";
import { cache, update, use } from "../../store";
import { Field } from "./Field";
import { ForgetSecret } from "./ForgetSecret";
import { FormFooter, invalid, submitHandler } from "./FormFooter";
import { LIMITS } from "./limits";

type GeneratorValues = {
  backend: string;
  baseUrl: string;
  timeout: string;
  modalKey: string;
  modalSecret: string;
};

export const BACKEND_LABEL: Record<GeneratorBackend, string> = {
  offline: "Offline demo",
  remote: "Remote endpoint",
};

/** Puts a status a command returned into the cache, unless an event replaced it meanwhile. */
function adoptStatus(status: GeneratorStatus): void {
  update(["generator"], (c) => {
    c.generator = status;
  });
}

const GENERATOR_FORM: FormSpec<GeneratorStatus, GeneratorValues, GeneratorSettingsUpdate> = {
  fields: (st) => ({
    backend: st.settings.backend,
    baseUrl: st.settings.baseUrl,
    timeout: String(st.settings.timeoutSeconds),
    modalKey: "",
    modalSecret: "",
  }),
  secret: ["modalKey", "modalSecret"],
  build(v) {
    const timeout = wholeNumber(
      v.timeout,
      LIMITS.generatorTimeoutMinSecs,
      LIMITS.generatorTimeoutMaxSecs,
      "The timeout (seconds)",
    );
    if (typeof timeout === "string") return invalid<GeneratorValues>(timeout, "timeout");
    return {
      update: {
        backend: v.backend === "remote" ? "remote" : "offline",
        baseUrl: v.baseUrl,
        timeoutSeconds: timeout,
        modalKey: v.modalKey === "" ? null : v.modalKey,
        modalSecret: v.modalSecret === "" ? null : v.modalSecret,
      },
    };
  },
  send: (u) => commands.generatorUpdateSettings(u),
  adopt: adoptStatus,
  version: () => cache.versions.generator,
};

export function GeneratorSection() {
  const c = use("generator", "meta");
  if (!c.generator) return <p class="empty">Loading…</p>;
  return <GeneratorForm status={c.generator} version={c.versions.generator} keyring={c.keyringAvailable} />;
}

/** The last Test connection answer, as shown. */
interface TestResult {
  ok: boolean;
  text: string;
  code: string | null;
}

function GeneratorForm({ status, version, keyring }: { status: GeneratorStatus; version: number; keyring: boolean | null }) {
  const form = useSettingsForm(GENERATOR_FORM, status, version);
  const tester = useCommand(commands.generatorTestConnection);
  const test = useSignal<TestResult | null>(null);
  const forgetting = useSignal(false);
  const s = status.settings;
  const v = form.values.value;
  const remote = v.backend === "remote";
  const secretPlaceholder = s.credentialsSaved ? "saved in keyring" : "optional";

  async function testConnection() {
    // Test checks what is saved: say so if the form holds unsaved changes.
    const note = form.changed.value ? " (saved settings: Save to test your changes)" : "";
    test.value = null;
    const out = await tester.run();
    if (!out) return;
    if (out.ok) {
      const message = out.data.message.trim().replace(/\.$/, "");
      test.value = { ok: true, text: `${message} · ${formatLatency(out.data.latencyMs)}${note}`, code: null };
    } else {
      test.value = { ok: false, text: out.error.message + note, code: out.error.code };
    }
  }

  /** Deletes the saved key and secret; the rest stays as saved (not as typed). */
  const result = test.value;
  return (
    <form
      class="settings-form"
      novalidate
      autocomplete="off"
      onSubmit={submitHandler(form, () => {
        test.value = null; // it was about the settings before this save
      })}
    >
      <div class="settings-grid">
        <Field form={form} name="backend" id="gen-backend" label="Backend">
          <select {...form.text("backend")}>
            <option value="offline">{BACKEND_LABEL.offline}</option>
            <option value="remote">{BACKEND_LABEL.remote}</option>
          </select>
        </Field>
        <Field
          form={form}
          name="timeout"
          id="gen-timeout"
          label="Timeout"
          unit="s"
          hint={`Seconds one attempt may take (${LIMITS.generatorTimeoutMinSecs}–${LIMITS.generatorTimeoutMaxSecs})`}
        >
          <input
            type="number"
            min={LIMITS.generatorTimeoutMinSecs}
            max={LIMITS.generatorTimeoutMaxSecs}
            step={1}
            inputmode="numeric"
            {...form.text("timeout")}
          />
        </Field>
        <Field
          form={form}
          name="baseUrl"
          id="gen-base-url"
          label="Endpoint URL"
          wide
          hint={remote ? "StreamCue calls POST {URL}/generate" : "Used by the remote backend only"}
        >
          <input
            type="text"
            inputmode="url"
            placeholder="https://you--anime-gen.modal.run"
            autocapitalize="off"
            spellcheck={false}
            maxlength={2000}
            disabled={!remote}
            title={remote ? "The endpoint's base URL (StreamCue calls POST {URL}/generate)" : "Used by the remote backend only"}
            {...form.text("baseUrl")}
          />
        </Field>
      </div>

      <fieldset class="settings-group">
        <legend>Modal credentials</legend>
        <div class="settings-grid" role="group" aria-label="Modal credentials (saved in the OS keyring)">
          <Field form={form} name="modalKey" id="gen-modal-key" label="Modal key">
            <input
              type="password"
              placeholder={secretPlaceholder}
              autocomplete="off"
              spellcheck={false}
              title="Leave empty to keep the saved key"
              {...form.text("modalKey")}
            />
          </Field>
          <Field form={form} name="modalSecret" id="gen-modal-secret" label="Modal secret">
            <input
              type="password"
              placeholder={secretPlaceholder}
              autocomplete="off"
              spellcheck={false}
              title="Leave empty to keep the saved secret"
              {...form.text("modalSecret")}
            />
          </Field>
        </div>
        <p class="field-hint">
          {keyring === false
            ? "No OS keyring is available: credentials cannot be saved."
            : s.credentialsSaved
              ? "Saved in the OS keyring. Leave empty to keep them, or type new ones."
              : "Optional. Saved in the OS keyring, never in the config file."}
        </p>
      </fieldset>

      <FormFooter
        form={form}
        prefix="gen"
        busy={forgetting.value}
        result={
          result && (
            <div
              id="gen-test-result"
              class={result.ok ? "ok-line" : "err-line"}
              role="status"
              data-ok={String(result.ok)}
              data-code={result.code ?? undefined}
              title={result.text}
            >
              {result.text}
            </div>
          )
        }
      >
        <button
          id="gen-test"
          class="btn"
          type="button"
          disabled={tester.busy}
          aria-busy={tester.busy ? "true" : "false"}
          title="Checks the saved settings: the endpoint's health (remote) or ffmpeg (offline)"
          onClick={() => void testConnection()}
        >
          {tester.busy ? "Testing…" : "Test connection"}
        </button>
        {s.credentialsSaved && (
          <ForgetSecret
            form={form}
            busy={forgetting}
            id="gen-forget-credentials"
            label="Forget saved credentials"
            title="Delete the saved Modal key and secret from the keyring"
            focusId="gen-modal-key"
            send={() => {
              // What is saved now (not as typed), without the key and secret.
              const saved = cache.generator?.settings ?? s;
              return commands.generatorUpdateSettings({
                backend: saved.backend,
                baseUrl: saved.baseUrl,
                timeoutSeconds: saved.timeoutSeconds,
                modalKey: "",
                modalSecret: "",
              });
            }}
            adopt={adoptStatus}
            version={() => cache.versions.generator}
          />
        )}
      </FormFooter>

      <p class="settings-note">
        Clips are saved in{" "}
        <span class="mono settings-path" title={status.clipsDir}>
          {status.clipsDir || "–"}
        </span>
      </p>
    </form>
  );
}
