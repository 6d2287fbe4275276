// One co-host draft in the Co-host card, three lines: who asked, where, what fired it and the
// question; the answer; the streamer's buttons (Send, Edit: the answer becomes a text field, Send
// then sends the edit, Escape or Cancel goes back; Discard), the model's time and the expiry (a
// fixed time of day). A Kick draft (Kick chat is read-only) has no working Send and says so.
//
// A memo component compared by value: a `cohost` event sends new objects, and a row whose draft
// did not change keeps its DOM (and an edit in progress keeps its text and focus).

import { useSignal } from "@preact/signals";
import { memo } from "preact/compat";
import { useEffect, useRef } from "preact/hooks";
import { type CohostDraft, commands } from "../bindings";
import { nextStep, useCommand } from "../cmd";
import {
  adoptCohostStatus,
  draftWhere,
  draftWho,
  EDIT_MAX_CHARS,
  editedText,
  expiresText,
  sameDraft,
  sendBlocked,
  TRIGGER_LABEL,
  triggerHint,
} from "../cohost";
import { formatLatency } from "../format";
import { cache as storeCache, update } from "../store";

interface CohostDraftRowProps {
  draft: CohostDraft;
}

function CohostDraftRowView({ draft: d }: CohostDraftRowProps) {
  const send = useCommand(commands.cohostSendDraft);
  const discard = useCommand(commands.cohostDiscardDraft);
  /** The text being edited; null when not editing. */
  const editing = useSignal<string | null>(null);
  /** A refusal made here (an empty edit). */
  const refused = useSignal<string | null>(null);
  const field = useRef<HTMLTextAreaElement>(null);
  const editButton = useRef<HTMLButtonElement>(null);
  const isEditing = editing.value !== null;

  // Into the field when editing starts (caret at the end).
  useEffect(() => {
    const el = field.current;
    if (!isEditing || !el) return;
    el.focus();
    el.setSelectionRange(el.value.length, el.value.length);
  }, [isEditing]);

  const blocked = sendBlocked(d);
  const busy = send.busy || discard.busy;
  const who = draftWho(d);
  const expiry = expiresText(d);
  const error = send.error ?? discard.error;

  function cancelEdit() {
    editing.value = null;
    refused.value = null;
    setTimeout(() => editButton.current?.focus(), 0);
  }

  async function onSend() {
    if (busy || blocked) return;
    let text: string | null = null;
    if (editing.value !== null) {
      const edit = editedText(d, editing.value);
      if ("error" in edit) {
        refused.value = edit.error;
        field.current?.focus();
        return;
      }
      text = edit.text;
    }
    refused.value = null;
    discard.clearError();
    const versionBefore = storeCache.versions.cohost;
    const out = await send.run(d.id, text);
    if (out?.ok) update(["cohost"], (c) => adoptCohostStatus(c, out.data, versionBefore));
  }

  async function onDiscard() {
    if (busy) return;
    refused.value = null;
    send.clearError();
    const versionBefore = storeCache.versions.cohost;
    const out = await discard.run(d.id);
    if (out?.ok) update(["cohost"], (c) => adoptCohostStatus(c, out.data, versionBefore));
  }

  function onFieldKey(e: KeyboardEvent) {
    if (e.key === "Escape") {
      e.preventDefault();
      e.stopPropagation();
      cancelEdit();
    } else if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      // Chat lines are one line: Enter sends (Shift+Enter is ignored by chat anyway).
      e.preventDefault();
      void onSend();
    }
  }

  return (
    <li
      class="cohost-draft"
      data-draft-id={d.id}
      data-slot={d.slot}
      data-sendable={String(blocked === null)}
      data-editing={isEditing ? "true" : undefined}
      aria-busy={busy ? "true" : "false"}
    >
      <div class="cohost-draft-head">
        <span class="cohost-who" title={d.viewer ? `Asked by ${d.viewer}` : "A quiet-chat prompt: nobody asked"}>
          {who}
        </span>
        {d.slot === "kick" ? (
          <span class="chip cohost-kick" title={`From the Kick chat (${d.channel})`}>
            Kick
          </span>
        ) : (
          <span class="cohost-where" title={`From ${draftWhere(d)}`}>
            {draftWhere(d)}
          </span>
        )}
        <span class="cohost-trigger" data-trigger={d.trigger} title={triggerHint(d.trigger)}>
          {TRIGGER_LABEL[d.trigger]}
        </span>
        {d.question && (
          <span class="cohost-question" title={d.question}>
            {d.question}
          </span>
        )}
      </div>

      {isEditing ? (
        <textarea
          ref={field}
          class="cohost-edit-text input"
          rows={2}
          maxLength={EDIT_MAX_CHARS}
          spellcheck
          aria-label={`Edit the answer to ${who}`}
          aria-invalid={refused.value ? "true" : undefined}
          value={editing.value ?? ""}
          disabled={send.busy}
          onInput={(e) => {
            editing.value = e.currentTarget.value;
            refused.value = null;
          }}
          onKeyDown={onFieldKey}
        />
      ) : (
        <p class="cohost-answer" title={d.answer}>
          {d.answer}
        </p>
      )}

      <div class="cohost-draft-actions">
        <button
          type="button"
          class="btn btn-small btn-primary cohost-send"
          disabled={busy || blocked !== null}
          aria-busy={send.busy ? "true" : "false"}
          aria-label={`${isEditing ? "Send the edited answer" : "Send the answer"} to ${who}`}
          title={blocked ?? (isEditing ? "Send your edited answer to chat (Enter)" : "Send this answer to chat")}
          onClick={() => void onSend()}
        >
          {send.busy ? "Sending…" : "Send"}
        </button>
        {isEditing ? (
          <button
            type="button"
            class="btn btn-small cohost-edit-cancel"
            disabled={send.busy}
            title="Back to the drafted answer (Escape)"
            onClick={cancelEdit}
          >
            Cancel
          </button>
        ) : (
          <button
            ref={editButton}
            type="button"
            class="btn btn-small cohost-edit"
            disabled={busy || blocked !== null}
            aria-label={`Edit the answer to ${who}`}
            title={blocked ?? "Change the answer before sending it"}
            onClick={() => {
              send.clearError();
              editing.value = d.answer;
            }}
          >
            Edit
          </button>
        )}
        <button
          type="button"
          class="btn btn-small cohost-discard"
          disabled={busy}
          aria-busy={discard.busy ? "true" : "false"}
          aria-label={`Discard the answer to ${who}`}
          title="Drop this draft: nothing is sent"
          onClick={() => void onDiscard()}
        >
          Discard
        </button>
        <span class="spacer" />
        <span class="cohost-latency num" title="How long the model took">
          {formatLatency(d.latencyMs)}
        </span>
        {expiry && (
          <span class="cohost-expires num" title={expiry.title}>
            {expiry.text}
          </span>
        )}
      </div>
      {blocked && (
        <p class="cohost-readonly muted" title={blocked}>
          {blocked}
        </p>
      )}

      {(refused.value || error) && (
        <p class="err-line cohost-draft-error" role="alert" data-code={error?.code}>
          {refused.value ?? `${error!.message} ${nextStep(error!.code)}`.trim()}
        </p>
      )}
    </li>
  );
}

export const CohostDraftRow = memo(CohostDraftRowView, (a, b) => sameDraft(a.draft, b.draft));
