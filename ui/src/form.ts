// One settings-form helper for every card (Generator, OBS, Recorder, Moments, and the ones to
// come). The core owns the settings; the form mirrors what is saved into the fields, except:
//   - a field the streamer changed since the last save (dirty) or is in (focused) is left alone;
//   - a field edited again while a save is in flight keeps the new edit (it stays dirty);
//   - secret fields are never filled from the core, and are emptied once saved.
// A save sends what the fields hold (after `build` checks it), adopts the reply unless an event
// already moved the slice on, and flashes "Saved". Errors keep their ErrorCode and may name the
// field they are about. `SettingsForm` is plain (signals, no DOM): form.test.ts tests it.

import { batch, computed, type Signal, signal } from "@preact/signals";
import { useEffect, useMemo } from "preact/hooks";
import type { ApiError } from "./bindings";
import { type Outcome, run } from "./cmd";

export type FieldValue = string | boolean;
export type FieldValues = Record<string, FieldValue>;

type Result<T> = { status: "ok"; data: T } | { status: "error"; error: ApiError };

/** What `build` answers: the update to send, or why not (and which field to fix). */
export type Built<U, V> = { update: U } | { error: ApiError; field?: keyof V & string };

export interface FormSpec<S, V extends FieldValues, U> {
  /** The field values that show `saved`. Secret fields' values here are ignored. */
  fields(saved: S): V;
  /** Fields never filled from the core (credentials): empty means "keep what is saved". */
  secret?: readonly (keyof V & string)[];
  /** Checks the fields and makes the update to send. */
  build(values: V, saved: S): Built<U, V>;
  /** Sends the update; the reply is what is saved now. */
  send(update: U): Promise<Result<S>>;
  /** Applies the reply to the cache if `stillCurrent()` (no event moved the slice since). */
  adopt?(saved: S): void;
  /** The slice's version now (to tell whether a reply is older than an event). */
  version?(): number;
}

/** How long "Saved" stays next to the Save button. */
export const SAVED_FLASH_MS = 3000;

export interface FormError<V> {
  error: ApiError;
  field?: keyof V & string;
}

export class SettingsForm<S, V extends FieldValues, U> {
  readonly values: Signal<V>;
  readonly dirty = signal<ReadonlySet<keyof V & string>>(new Set());
  readonly saving = signal(false);
  readonly savedFlash = signal(false);
  readonly error = signal<FormError<V> | null>(null);
  /** Whether anything differs from what is saved (dirty fields or a typed secret). */
  readonly changed = computed(() => this.dirty.value.size > 0 || this.secretTyped());
  private focused: (keyof V & string) | null = null;
  /** Fields the streamer changed while the current save was in flight. */
  private editedWhileSaving = new Set<keyof V & string>();
  private saved: S;
  private flashTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly spec: FormSpec<S, V, U>,
    saved: S,
  ) {
    this.saved = saved;
    const initial = { ...spec.fields(saved) };
    for (const k of spec.secret ?? []) (initial as FieldValues)[k] = "";
    this.values = signal<V>(initial);
  }

  private isSecret(key: string): boolean {
    return (this.spec.secret ?? []).includes(key as keyof V & string);
  }

  private secretTyped(): boolean {
    const v = this.values.value;
    return (this.spec.secret ?? []).some((k) => v[k] !== "");
  }

  /** What is saved changed (snapshot or event): mirror it into the fields left alone. */
  sync(saved: S): void {
    this.saved = saved;
    const fresh = this.spec.fields(saved);
    const dirty = this.dirty.value;
    const next = { ...this.values.value };
    let changed = false;
    for (const key of Object.keys(fresh) as (keyof V & string)[]) {
      if (this.isSecret(key) || dirty.has(key) || key === this.focused) continue;
      if (next[key] !== fresh[key]) {
        next[key] = fresh[key];
        changed = true;
      }
    }
    if (changed) this.values.value = next;
  }

  /** The streamer typed or picked something. */
  set<K extends keyof V & string>(key: K, value: V[K]): void {
    batch(() => {
      this.values.value = { ...this.values.value, [key]: value };
      if (!this.isSecret(key)) {
        const same = this.spec.fields(this.saved)[key] === value;
        const dirty = new Set(this.dirty.value);
        if (same) dirty.delete(key);
        else dirty.add(key);
        this.dirty.value = dirty;
      }
      if (this.saving.value) this.editedWhileSaving.add(key);
      this.savedFlash.value = false;
      if (this.error.value?.field === key) this.error.value = null;
    });
  }

  focus(key: keyof V & string): void {
    this.focused = key;
  }

  blur(key: keyof V & string): void {
    if (this.focused === key) this.focused = null;
    // A field left alone may show something older than what is saved now.
    this.sync(this.saved);
  }

  /** Forgets every edit: the fields show what is saved. */
  revert(): void {
    batch(() => {
      this.dirty.value = new Set();
      this.error.value = null;
      const fresh = { ...this.spec.fields(this.saved) };
      for (const k of this.spec.secret ?? []) (fresh as FieldValues)[k] = "";
      this.values.value = fresh;
    });
  }

  /** Checks, sends, adopts the reply. Returns the outcome (null when nothing was sent). */
  async save(): Promise<Outcome<S> | null> {
    if (this.saving.value) return null;
    const sent = { ...this.values.value };
    const built = this.spec.build(sent, this.saved);
    if ("error" in built) {
      this.error.value = { error: built.error, field: built.field };
      return null;
    }
    this.editedWhileSaving.clear();
    batch(() => {
      this.saving.value = true;
      this.error.value = null;
      this.savedFlash.value = false;
    });
    const versionBefore = this.spec.version?.();
    const out = await run(() => this.spec.send(built.update));
    batch(() => {
      this.saving.value = false;
      if (!out.ok) {
        this.error.value = { error: out.error };
        return;
      }
      this.afterSave(out.data, sent, versionBefore);
    });
    return out;
  }

  /** A save went through: fields still holding what was sent show the saved form now (e.g. a
   *  normalised URL); fields edited again meanwhile keep the edit. Secrets sent are emptied. */
  private afterSave(saved: S, sent: V, versionBefore: number | undefined): void {
    if (this.spec.adopt && (versionBefore === undefined || this.spec.version?.() === versionBefore)) {
      this.spec.adopt(saved);
    }
    this.saved = saved;
    const fresh = this.spec.fields(saved);
    const now = this.values.value;
    const next = { ...now };
    const dirty = new Set(this.dirty.value);
    for (const key of Object.keys(now) as (keyof V & string)[]) {
      if (now[key] !== sent[key]) {
        // Edited again while saving: keep the edit, dirty against what is saved now (an edit
        // back to the value saved before this save differs from the new one).
        if (this.editedWhileSaving.has(key) && !this.isSecret(key)) {
          if (now[key] === fresh[key]) dirty.delete(key);
          else dirty.add(key);
        }
        continue;
      }
      if (this.isSecret(key)) (next as FieldValues)[key] = "";
      else {
        next[key] = fresh[key];
        dirty.delete(key);
      }
    }
    this.values.value = next;
    this.dirty.value = dirty;
    this.flash();
  }

  private flash(): void {
    clearTimeout(this.flashTimer);
    this.savedFlash.value = true;
    this.flashTimer = setTimeout(() => {
      this.savedFlash.value = false;
    }, SAVED_FLASH_MS);
  }

  /** Props for a text, number or select field bound to `key`. */
  text<K extends keyof V & string>(key: K) {
    const v = this.values.value[key];
    return {
      name: key,
      value: typeof v === "string" ? v : String(v),
      "aria-invalid": this.error.value?.field === key ? ("true" as const) : undefined,
      onInput: (e: Event) => this.set(key, (e.currentTarget as HTMLInputElement).value as V[K]),
      onChange: (e: Event) => this.set(key, (e.currentTarget as HTMLInputElement).value as V[K]),
      onFocus: () => this.focus(key),
      onBlur: () => this.blur(key),
    };
  }

  /** Props for a checkbox bound to `key`. */
  check<K extends keyof V & string>(key: K) {
    return {
      name: key,
      type: "checkbox" as const,
      checked: this.values.value[key] === true,
      onChange: (e: Event) => this.set(key, (e.currentTarget as HTMLInputElement).checked as V[K]),
    };
  }

  dispose(): void {
    clearTimeout(this.flashTimer);
  }
}

/** Hook: one form per component, re-synced whenever `version` (the slice's) changes. */
export function useSettingsForm<S, V extends FieldValues, U>(
  spec: FormSpec<S, V, U>,
  saved: S,
  version: number,
): SettingsForm<S, V, U> {
  // The spec is read once: it must not close over per-render values other than via the cache.
  const form = useMemo(() => new SettingsForm(spec, saved), []); // eslint-disable-line react-hooks/exhaustive-deps
  useEffect(() => form.sync(saved), [version]); // eslint-disable-line react-hooks/exhaustive-deps
  useEffect(() => () => form.dispose(), [form]);
  return form;
}

/** Parses a whole number within a range, or says what is wrong (for `build`). */
export function wholeNumber(text: string, min: number, max: number, what: string): number | string {
  const t = text.trim();
  const n = Number(t);
  if (t === "" || !Number.isInteger(n) || n < min || n > max) {
    return `${what} must be a whole number between ${min} and ${max}.`;
  }
  return n;
}

/** Parses a number (decimals allowed) within a range, or says what is wrong. */
export function decimalNumber(text: string, min: number, max: number, what: string): number | string {
  const t = text.trim();
  const n = Number(t);
  if (t === "" || !Number.isFinite(n) || n < min || n > max) {
    return `${what} must be a number between ${min} and ${max}.`;
  }
  return n;
}
