// One settings field: its label, the input (given as the only child), an optional unit after it,
// a hint, and the form's error when that error is about this field. Every settings section uses
// it, so the markup (and the label/hint/error wiring for screen readers) lives here only.

import type { ReadonlySignal } from "@preact/signals";
import { cloneElement, type ComponentChildren, type VNode } from "preact";
import type { ApiError } from "../../bindings";

/** What a field needs of its form: the current error (from `SettingsForm.error`). */
export interface FormWithError {
  readonly error: ReadonlySignal<{ error: ApiError; field?: string } | null>;
}

interface FieldProps {
  form: FormWithError;
  /** The form key this field edits: the error naming it shows here. */
  name: string;
  /** The input's id (the label points at it); set on the child. */
  id: string;
  label: ComponentChildren;
  hint?: ComponentChildren;
  /** Shown after the input ("s", "msg/s"); not read out (the label or hint says it). */
  unit?: string;
  /** A checkbox: the label follows the box. */
  check?: boolean;
  /** Takes a whole row of the section's grid. */
  wide?: boolean;
  hidden?: boolean;
  /** The input, select or textarea (exactly one element). */
  children: VNode;
}

export function Field({ form, name, id, label, hint, unit, check, wide, hidden, children }: FieldProps) {
  const current = form.error.value;
  const err = current?.field === name ? current.error : null;
  const hintId = hint ? `${id}-hint` : undefined;
  const errId = err ? `${id}-error` : undefined;
  const describedBy = [hintId, errId].filter(Boolean).join(" ") || undefined;
  const input = cloneElement(children, { id, "aria-describedby": describedBy });
  const hintLine = hint ? (
    <div id={hintId} class="field-hint">
      {hint}
    </div>
  ) : null;
  const errLine = err ? (
    <div id={errId} class="err-line" role="alert" data-code={err.code}>
      {err.message}
    </div>
  ) : null;

  if (check) {
    return (
      <div class="settings-field settings-field-check settings-wide" hidden={hidden}>
        <label class="field-check">
          {input}
          <span>{label}</span>
        </label>
        {hintLine}
        {errLine}
      </div>
    );
  }
  return (
    <div class={`field settings-field${wide ? " settings-wide" : ""}`} hidden={hidden}>
      <label for={id}>{label}</label>
      {unit ? (
        <div class="settings-unit">
          {input}
          <span aria-hidden="true">{unit}</span>
        </div>
      ) : (
        input
      )}
      {hintLine}
      {errLine}
    </div>
  );
}
