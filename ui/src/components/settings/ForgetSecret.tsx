// "Forget saved password / credentials": deletes a secret from the keyring while the rest of the
// settings stay as saved (not as typed). One component for every form with a secret. `busy` is
// the parent's signal so its FormFooter keeps Save disabled meanwhile; the reply is adopted
// only if no event moved the slice on; keyboard focus moves to `focusId` (the button is gone).

import type { Signal } from "@preact/signals";
import type { ApiError } from "../../bindings";
import { run } from "../../cmd";
import type { FieldValues, SettingsForm } from "../../form";

type Result<T> = { status: "ok"; data: T } | { status: "error"; error: ApiError };

interface ForgetSecretProps<S, V extends FieldValues, U, R> {
  form: SettingsForm<S, V, U>;
  busy: Signal<boolean>;
  id: string;
  label: string;
  title: string;
  /** The field that takes keyboard focus afterwards. */
  focusId: string;
  /** Sends the saved settings with the secret emptied. */
  send: () => Promise<Result<R>>;
  adopt: (reply: R) => void;
  version: () => number;
}

export function ForgetSecret<S, V extends FieldValues, U, R>(p: ForgetSecretProps<S, V, U, R>) {
  async function forget(e: Event) {
    if (p.form.saving.value || p.busy.value) return;
    const hadFocus = document.activeElement === e.currentTarget;
    p.busy.value = true;
    p.form.error.value = null;
    const before = p.version();
    const out = await run(p.send);
    p.busy.value = false;
    if (!out.ok) p.form.error.value = { error: out.error };
    else if (p.version() === before) p.adopt(out.data);
    if (hadFocus) setTimeout(() => document.getElementById(p.focusId)?.focus(), 0);
  }
  return (
    <button
      id={p.id}
      class="btn btn-link btn-small"
      type="button"
      disabled={p.form.saving.value || p.busy.value}
      aria-busy={p.busy.value ? "true" : "false"}
      title={p.title}
      onClick={(e) => void forget(e)}
    >
      {p.label}
    </button>
  );
}
