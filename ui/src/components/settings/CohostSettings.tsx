// Settings → Co-host: on/off, where answers come from (the offline demo responder or any
// OpenAI-compatible server: address, model, API key), approval or auto mode, the persona, when it
// answers (names, ask commands, keywords, quiet chat, cooldown, rate, ignored logins), how much
// chat it reads, and what is done to an answer (length, truncation, markdown, filters).
//
// The API key is write-only: the core only says whether one is saved; an empty field keeps it,
// Save stores a typed one (after the settings), Forget deletes it. Test connection checks the
// form's current settings (unsaved ones included) with the saved key, and lists the server's
// models: a click puts one in the Model field.

import { useSignal } from "@preact/signals";
import { type ApiError, type CohostStatus, commands } from "../../bindings";
import { useCommand } from "../../cmd";
import { BACKEND_LABEL, MODE_HINT } from "../../cohost";
import { type FormSpec, type SettingsForm, useSettingsForm } from "../../form";
import { cache, update, use } from "../../store";
import { buildCohost, COHOST_LIMITS as L, cohostFields, type CohostUpdate, type CohostValues } from "./cohostForm";
import { Field } from "./Field";
import { ForgetSecret } from "./ForgetSecret";
import { FormFooter, submitHandler } from "./FormFooter";

type Result<T> = { status: "ok"; data: T } | { status: "error"; error: ApiError };

function adoptStatus(status: CohostStatus): void {
  update(["cohost"], (c) => {
    c.cohost = status;
  });
}

/** The settings first (checked by the core), then the typed key: a refused setting saves nothing. */
async function send(u: CohostUpdate): Promise<Result<CohostStatus>> {
  const saved = await commands.cohostSetSettings(u.settings);
  if (saved.status === "error" || u.apiKey === null) return saved;
  return commands.cohostSetApiKey(u.apiKey);
}

const COHOST_FORM: FormSpec<CohostStatus, CohostValues, CohostUpdate> = {
  fields: cohostFields,
  secret: ["apiKey"],
  build: buildCohost,
  send,
  adopt: adoptStatus,
  version: () => cache.versions.cohost,
};

type Form = SettingsForm<CohostStatus, CohostValues, CohostUpdate>;

export function CohostSection() {
  const c = use("cohost", "meta");
  if (!c.cohost) return <p class="empty">Loading…</p>;
  return <CohostForm status={c.cohost} version={c.versions.cohost} keyring={c.keyringAvailable} />;
}

/** A number field with its unit and range. */
function NumberField(props: {
  form: Form;
  name: keyof CohostValues;
  id: string;
  label: string;
  unit?: string;
  hint?: string;
  range: readonly [number, number];
  step: number;
}) {
  const { form, name, id, label, unit, hint, range, step } = props;
  return (
    <Field form={form} name={name} id={id} label={label} unit={unit} hint={hint}>
      <input
        type="number"
        min={range[0]}
        max={range[1]}
        step={step}
        inputmode={Number.isInteger(step) ? "numeric" : "decimal"}
        {...form.text(name)}
      />
    </Field>
  );
}

/** A comma-separated list of single words. */
function WordsField(props: { form: Form; name: keyof CohostValues; id: string; label: string; hint: string; placeholder?: string }) {
  const { form, name, id, label, hint, placeholder } = props;
  return (
    <Field form={form} name={name} id={id} label={label} wide hint={hint}>
      <input type="text" spellcheck={false} autocomplete="off" autocapitalize="off" placeholder={placeholder} {...form.text(name)} />
    </Field>
  );
}

/** The last Test connection answer, as shown. */
interface TestResult {
  ok: boolean;
  text: string;
  code: string | null;
  models: string[];
}

function CohostForm({ status, version, keyring }: { status: CohostStatus; version: number; keyring: boolean | null }) {
  const form = useSettingsForm(COHOST_FORM, status, version);
  const tester = useCommand(commands.cohostTestConnection);
  const test = useSignal<TestResult | null>(null);
  const forgetting = useSignal(false);
  const v = form.values.value;
  const remote = v.backend === "openAiCompatible";
  const keySaved = status.apiKeySaved;
  const range = (r: readonly [number, number], unit = "") => `${r[0]}–${r[1]}${unit}`;

  async function testConnection(e: Event) {
    const root = (e.currentTarget as HTMLElement).closest("form");
    const built = buildCohost(form.values.value, status);
    if ("error" in built) {
      form.error.value = { error: built.error, field: built.field };
      if (built.field) root?.querySelector<HTMLElement>(`[name="${built.field}"]`)?.focus();
      return;
    }
    const s = built.update.settings;
    // Test uses the key saved in the keyring, not one typed and not saved yet.
    const note = built.update.apiKey !== null ? " (with the saved API key: Save to use the one you typed)" : "";
    test.value = null;
    const out = await tester.run(s);
    if (!out) return;
    if (!out.ok) {
      test.value = { ok: false, text: out.error.message + note, code: out.error.code, models: [] };
      return;
    }
    const { models, modelFound } = out.data;
    if (s.backend === "demo") {
      test.value = { ok: true, text: "The demo responder needs no server: it answers offline.", code: null, models: [] };
      return;
    }
    const count = `${models.length} model${models.length === 1 ? "" : "s"}`;
    const text =
      models.length === 0
        ? `Connected, but the server lists no models.${note}`
        : modelFound
          ? `Connected: ${count}, “${s.model}” among them.${note}`
          : `Connected: ${count}, but not “${s.model}”: pick one below.${note}`;
    test.value = { ok: modelFound, text, code: null, models };
  }

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
        <Field form={form} name="enabled" id="co-enabled" label="Co-host on" check hint="Listen to chat and answer viewers who ask">
          <input {...form.check("enabled")} />
        </Field>
        <Field form={form} name="mode" id="co-mode" label="Mode" hint={MODE_HINT[v.mode === "auto" ? "auto" : "approval"]}>
          <select {...form.text("mode")}>
            <option value="approval">Approval (drafts)</option>
            <option value="auto">Auto (sends at once)</option>
          </select>
        </Field>
        <NumberField form={form} name="draftExpiry" id="co-draft-expiry" label="Drafts expire after" unit="s" step={1}
          range={L.draftExpirySeconds} hint={`A draft not sent or discarded in time is dropped (${range(L.draftExpirySeconds)})`} />
      </div>

      <fieldset class="settings-group">
        <legend>Model</legend>
        <div class="settings-grid">
          <Field form={form} name="backend" id="co-backend" label="Backend" wide>
            <select {...form.text("backend")}>
              <option value="demo">{BACKEND_LABEL.demo}</option>
              <option value="openAiCompatible">{BACKEND_LABEL.openAiCompatible}</option>
            </select>
          </Field>
          <Field form={form} name="baseUrl" id="co-base-url" label="Server address" wide
            hint={remote ? "OpenAI, Ollama, llama.cpp, LM Studio, vLLM…; /v1 is added when missing" : "Used by the OpenAI-compatible backend only"}>
            <input type="text" inputmode="url" placeholder="http://127.0.0.1:11434" autocapitalize="off" spellcheck={false}
              maxlength={2000} disabled={!remote} {...form.text("baseUrl")} />
          </Field>
          <Field form={form} name="model" id="co-model" label="Model" hint={remote ? "Test connection lists the server's models" : undefined}>
            <input type="text" placeholder="llama3.2" autocapitalize="off" spellcheck={false} maxlength={200}
              disabled={!remote} {...form.text("model")} />
          </Field>
          <Field form={form} name="apiKey" id="co-api-key" label="API key"
            hint={
              keyring === false
                ? "No OS keyring is available: the key cannot be saved."
                : keySaved
                  ? "Saved in the OS keyring. Leave empty to keep it, or type a new one."
                  : "Not saved. Only if the server asks for one; kept in the OS keyring."
            }>
            <input type="password" placeholder={keySaved ? "saved in keyring" : "not saved"} autocomplete="off" spellcheck={false}
              maxlength={1000} title="Leave empty to keep the saved key" {...form.text("apiKey")} />
          </Field>
          <NumberField form={form} name="temperature" id="co-temperature" label="Temperature" step={0.1}
            range={L.temperature} hint={`Higher is more varied (${range(L.temperature)})`} />
          <NumberField form={form} name="maxTokens" id="co-max-tokens" label="Max tokens" unit="tokens" step={1}
            range={L.maxTokens} hint={`The longest answer asked for (${range(L.maxTokens)})`} />
          <NumberField form={form} name="timeout" id="co-timeout" label="Timeout" unit="s" step={1}
            range={L.timeoutSeconds} hint={`Per request to the model (${range(L.timeoutSeconds)})`} />
          <Field form={form} name="stream" id="co-stream" label="Stream the answer (SSE)" check>
            <input {...form.check("stream")} />
          </Field>
        </div>
      </fieldset>

      <Field form={form} name="persona" id="co-persona" label="Persona (system prompt)" wide
        hint={`Who the co-host is and how it talks (at most ${L.personaMaxChars} characters). Viewers' words are never put here.`}>
        <textarea rows={4} maxlength={L.personaMaxChars} {...form.text("persona")} />
      </Field>

      <fieldset class="settings-group">
        <legend>When it answers</legend>
        <p class="settings-note">Mentions of its name (and @mentions) and ask commands are always answered, within the cooldown and the rate.</p>
        <div class="settings-grid settings-grid-3">
          <WordsField form={form} name="names" id="co-names" label="Also answers to" placeholder="cuebot"
            hint="Names besides the logged-in account's; comma-separated, one word each" />
          <WordsField form={form} name="askCommands" id="co-ask-commands" label="Ask commands" placeholder="!ask"
            hint="e.g. !ask what game is this?" />
          <WordsField form={form} name="keywords" id="co-keywords" label="Keywords" placeholder="lore, build"
            hint="A line with one of these may be answered (see the chance)" />
          <NumberField form={form} name="keywordChance" id="co-keyword-chance" label="Keyword chance" step={0.05}
            range={L.keywordChance} hint="0–1: how often a keyword line is answered" />
          <NumberField form={form} name="quietMinutes" id="co-quiet" label="Quiet chat" unit="min" step={1}
            range={L.quietMinutes} hint={`Say something after this long without chat (0 = off; at most ${L.quietMinutes[1]})`} />
          <NumberField form={form} name="cooldown" id="co-cooldown" label="Cooldown" unit="s" step={1}
            range={L.cooldownSeconds} hint={`Per channel: one answer every this many seconds (${range(L.cooldownSeconds)})`} />
          <NumberField form={form} name="perMinute" id="co-per-minute" label="Rate" unit="/min" step={1}
            range={L.perMinute} hint={`All channels: at most this many answers a minute (${range(L.perMinute)})`} />
          <WordsField form={form} name="ignore" id="co-ignore" label="Never answer" placeholder="nightbot, streamelements"
            hint="Logins (other bots); its own account is always ignored" />
        </div>
      </fieldset>

      <fieldset class="settings-group">
        <legend>Context and answers</legend>
        <div class="settings-grid settings-grid-3">
          <NumberField form={form} name="contextMessages" id="co-context-messages" label="Context" unit="msgs" step={1}
            range={L.contextMessages} hint={`The last chat lines it reads, in memory only (${range(L.contextMessages)})`} />
          <NumberField form={form} name="contextMinutes" id="co-context-minutes" label="…none older than" unit="min" step={1}
            range={L.contextMinutes} hint={range(L.contextMinutes, " min")} />
          <NumberField form={form} name="maxChars" id="co-max-chars" label="Answer length" unit="chars" step={1}
            range={L.maxChars} hint={`Longer answers are shortened (${range(L.maxChars)})`} />
          <Field form={form} name="truncation" id="co-truncation" label="Shorten at">
            <select {...form.text("truncation")}>
              <option value="sentence">Last sentence that fits</option>
              <option value="hard">Exact length</option>
            </select>
          </Field>
          <NumberField form={form} name="reserveForQueue" id="co-reserve" label="Keep for the queue" unit="sends" step={1}
            range={L.reserveForQueue} hint={`Of the 20 chat sends per 30 s, left for request replies (${range(L.reserveForQueue)})`} />
          <Field form={form} name="stripMarkdown" id="co-strip-markdown" label="Remove markdown (**bold**, lists, links)" check>
            <input {...form.check("stripMarkdown")} />
          </Field>
        </div>
        <Field form={form} name="filters" id="co-filters" label="Filters" wide
          hint={
            <>
              One per line: <span class="mono">word</span> drops an answer with that whole word,{" "}
              <span class="mono">/regex/</span> one that matches; add <span class="mono">=&gt; text</span> to replace the
              match instead (<span class="mono">darn =&gt; dang</span>). At most {L.listMax}.
            </>
          }>
          <textarea class="mono" rows={3} spellcheck={false} {...form.text("filters")} />
        </Field>
      </fieldset>

      <FormFooter
        form={form}
        prefix="co"
        busy={forgetting.value}
        result={
          result && (
            <>
              <div id="co-test-result" class={result.ok ? "ok-line" : "err-line"} role="status" data-ok={String(result.ok)}
                data-code={result.code ?? undefined} title={result.text}>
                {result.text}
              </div>
              {result.models.length > 0 && (
                <div id="co-models" class="settings-choices" role="group" aria-label="The server's models: click one to use it">
                  {result.models.map((m) => (
                    <button key={m} type="button" class="chip settings-choice" aria-pressed={m === v.model.trim() ? "true" : "false"}
                      data-tone={m === v.model.trim() ? "accent" : undefined} title={`Use ${m}`} onClick={() => form.set("model", m)}>
                      {m}
                    </button>
                  ))}
                </div>
              )}
            </>
          )
        }
      >
        <button id="co-test" class="btn" type="button" disabled={tester.busy} aria-busy={tester.busy ? "true" : "false"}
          title="Lists the server's models with the settings in this form (and the saved API key)"
          onClick={(e) => void testConnection(e)}>
          {tester.busy ? "Testing…" : "Test connection"}
        </button>
        {keySaved && (
          <ForgetSecret
            form={form}
            busy={forgetting}
            id="co-forget-key"
            label="Forget saved API key"
            title="Delete the co-host's API key from the keyring"
            focusId="co-api-key"
            send={() => commands.cohostSetApiKey(null)}
            adopt={adoptStatus}
            version={() => cache.versions.cohost}
          />
        )}
      </FormFooter>
    </form>
  );
}
