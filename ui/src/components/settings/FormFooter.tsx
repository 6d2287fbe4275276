// The bottom of every settings form: Save (and the section's other actions), the "Saved" flash,
// "Unsaved changes" with Discard, and the error line (the core's message plus the next step its
// code suggests). Errors about one field show at that field instead (Field.tsx). Also the
// submit handler every form uses, and `invalid()` for `build`.

import type { ReadonlySignal } from "@preact/signals";
import type { ComponentChildren } from "preact";
import type { ApiError } from "../../bindings";
import { nextStep } from "../../cmd";
import type { FieldValues, SettingsForm } from "../../form";
import { useUnsavedTracking } from "./unsaved";

/** What the footer needs of a form (a `SettingsForm`). */
export interface FooterForm {
  readonly saving: ReadonlySignal<boolean>;
  readonly savedFlash: ReadonlySignal<boolean>;
  readonly changed: ReadonlySignal<boolean>;
  readonly error: ReadonlySignal<{ error: ApiError; field?: string } | null>;
  revert(): void;
}

interface FormFooterProps {
  form: FooterForm;
  /** Ids: `<prefix>-save`, `<prefix>-save-status`, `<prefix>-error`, `<prefix>-revert`. */
  prefix: string;
  /** The error line's id when not `<prefix>-error`. */
  errorId?: string;
  /** Another action of this form is running (e.g. Forget): Save waits for it. */
  busy?: boolean;
  /** More buttons, after Save. */
  children?: ComponentChildren;
  /** A result line under the buttons (e.g. Test connection's answer). */
  result?: ComponentChildren;
}

export function FormFooter({ form, prefix, errorId, busy = false, children, result }: FormFooterProps) {
  useUnsavedTracking(form.changed);
  const saving = form.saving.value;
  const flash = form.savedFlash.value;
  const current = form.error.value;
  // An error about one field shows at that field.
  const err = current && !current.field ? current.error : null;
  const step = err ? nextStep(err.code) : "";
  const unsaved = form.changed.value && !saving && !flash;
  return (
    <div class="settings-footer">
      <div class="settings-actions">
        <button
          id={`${prefix}-save`}
          class="btn btn-primary"
          type="submit"
          disabled={saving || busy}
          aria-busy={saving ? "true" : "false"}
        >
          {saving ? "Saving…" : "Save"}
        </button>
        {children}
        <span id={`${prefix}-save-status`} class="ok-line" role="status">
          {flash ? "Saved" : ""}
        </span>
        {unsaved && (
          <span class="settings-unsaved">
            Unsaved changes
            <button
              id={`${prefix}-revert`}
              class="btn btn-link btn-small"
              type="button"
              title="Put the saved settings back in the form"
              onClick={() => form.revert()}
            >
              Discard
            </button>
          </span>
        )}
      </div>
      {result}
      <div
        id={errorId ?? `${prefix}-error`}
        class="err-line"
        role="alert"
        data-code={err?.code}
        hidden={err === null}
      >
        {err ? (step ? `${err.message} ${step}` : err.message) : ""}
      </div>
    </div>
  );
}

/** An error `build` returns: the message, and the field to fix. */
export function invalid<V extends FieldValues>(message: string, field: keyof V & string) {
  return { error: { code: "InvalidSettings" as const, message }, field };
}

/**
 * The form's submit handler: saves; when `build` refused a field, puts the keyboard in it; after
 * a save that went through, calls `onSaved` (e.g. to clear a result that was about the old
 * settings).
 */
export function submitHandler<S, V extends FieldValues, U>(form: SettingsForm<S, V, U>, onSaved?: (saved: S) => void) {
  return async (e: Event) => {
    e.preventDefault();
    const el = e.currentTarget as HTMLFormElement;
    const out = await form.save();
    const field = form.error.value?.field;
    if (out === null && field) el.querySelector<HTMLElement>(`[name="${field}"]`)?.focus();
    if (out?.ok) onSaved?.(out.data);
  };
}
