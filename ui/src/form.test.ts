// The settings-form helper (form.ts): what the fields show while the core's saved settings change
// under them, what a save sends and keeps, and how errors and the "Saved" flash behave.
// `SettingsForm` is plain signals, so these tests drive it directly with a `send` whose reply
// each test releases by hand.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { ApiError } from "./bindings";
import { type FormSpec, SAVED_FLASH_MS, SettingsForm, wholeNumber } from "./form";

/** What the core keeps (like ObsSettings: the password only as "saved"). */
interface Saved {
  host: string;
  port: number;
  passwordSaved: boolean;
}
/** What the fields hold. */
type Values = { host: string; port: string; password: string; enabled: boolean };
/** What a save sends (like ObsSettingsUpdate: null keeps the saved password). */
interface Update {
  host: string;
  port: number;
  password: string | null;
  enabled: boolean;
}

type Reply = { status: "ok"; data: Saved } | { status: "error"; error: ApiError };

/** A reply the test releases when it wants. */
interface Pending {
  update: Update;
  reply(r: Reply): Promise<void>;
  reject(e: unknown): Promise<void>;
}

/** Lets the awaited reply and what follows it in `save()` run. */
const settle = () => new Promise<void>((r) => setTimeout(r, 0));

function harness(initial: Saved, opts: { adopt?: boolean } = {}) {
  const sent: Pending[] = [];
  const adopted: Saved[] = [];
  let version = 0;
  const spec: FormSpec<Saved, Values, Update> = {
    // `enabled` is not part of Saved: it always shows true (enough for the checkbox tests).
    fields: (s) => ({ host: s.host, port: String(s.port), password: "never shown", enabled: true }),
    secret: ["password"],
    build(v) {
      const port = wholeNumber(v.port, 1, 65535, "The port");
      if (typeof port === "string") return { error: { code: "InvalidSettings", message: port }, field: "port" };
      return { update: { host: v.host, port, password: v.password === "" ? null : v.password, enabled: v.enabled } };
    },
    send(update) {
      return new Promise<Reply>((resolve, reject) => {
        sent.push({
          update,
          reply: async (r) => {
            resolve(r);
            await settle();
          },
          reject: async (e) => {
            reject(e);
            await settle();
          },
        });
      });
    },
    version: () => version,
  };
  if (opts.adopt !== false) spec.adopt = (s) => void adopted.push(s);
  const form = new SettingsForm(spec, initial);
  return {
    form,
    sent,
    adopted,
    /** An event moved the slice on (the cache's version changed). */
    bump: () => void version++,
    /** Starts a save and returns its promise together with the pending reply. */
    startSave() {
      const done = form.save();
      const pending = sent[sent.length - 1]!;
      return { done, pending };
    },
  };
}

const SAVED: Saved = { host: "127.0.0.1", port: 4455, passwordSaved: false };
const ok = (data: Saved): Reply => ({ status: "ok", data });

describe("SettingsForm", () => {
  beforeEach(() => vi.useRealTimers());
  afterEach(() => vi.useRealTimers());

  it("starts with the saved values and empty secrets", () => {
    const { form } = harness(SAVED);
    expect(form.values.value).toEqual({ host: "127.0.0.1", port: "4455", password: "", enabled: true });
    expect(form.dirty.value.size).toBe(0);
    expect(form.changed.value).toBe(false);
  });

  it("mirrors newly saved values into untouched fields", () => {
    const { form } = harness(SAVED);
    form.sync({ host: "obs.local", port: 4456, passwordSaved: true });
    expect(form.values.value.host).toBe("obs.local");
    expect(form.values.value.port).toBe("4456");
    expect(form.changed.value).toBe(false);
  });

  it("never fills a secret from the core", () => {
    const { form } = harness(SAVED);
    form.sync({ ...SAVED, passwordSaved: true });
    expect(form.values.value.password).toBe("");
    form.revert();
    expect(form.values.value.password).toBe("");
  });

  it("does not overwrite a dirty field on sync, but updates the others", () => {
    const { form } = harness(SAVED);
    form.set("port", "5000");
    expect(form.dirty.value.has("port")).toBe(true);
    form.sync({ host: "obs.local", port: 4456, passwordSaved: false });
    expect(form.values.value.port).toBe("5000");
    expect(form.values.value.host).toBe("obs.local");
    expect(form.dirty.value.has("port")).toBe(true);
  });

  it("an edit back to the saved value is not dirty", () => {
    const { form } = harness(SAVED);
    form.set("host", "x");
    form.set("host", "127.0.0.1");
    expect(form.dirty.value.size).toBe(0);
    expect(form.changed.value).toBe(false);
  });

  it("does not overwrite the focused field on sync; blurring it shows what is saved", () => {
    const { form } = harness(SAVED);
    form.focus("host");
    form.sync({ host: "obs.local", port: 4456, passwordSaved: false });
    expect(form.values.value.host).toBe("127.0.0.1");
    expect(form.values.value.port).toBe("4456");
    form.blur("host");
    expect(form.values.value.host).toBe("obs.local");
  });

  it("typing a secret counts as a change without making it dirty", () => {
    const { form } = harness(SAVED);
    form.set("password", "hunter2");
    expect(form.dirty.value.size).toBe(0);
    expect(form.changed.value).toBe(true);
  });

  it("an edit made while a save is in flight survives the save and stays dirty", async () => {
    const { form, startSave } = harness(SAVED);
    form.set("port", "4456");
    form.set("host", "a.local");
    const { done, pending } = startSave();
    expect(form.saving.value).toBe(true);
    form.set("port", "4457");
    await pending.reply(ok({ host: "a.local", port: 4456, passwordSaved: false }));
    await done;
    expect(form.saving.value).toBe(false);
    expect(form.values.value.port).toBe("4457");
    expect(form.dirty.value.has("port")).toBe(true);
    expect(form.dirty.value.has("host")).toBe(false);
    expect(form.changed.value).toBe(true);
    // A later sync leaves the edit alone.
    form.sync({ host: "a.local", port: 4456, passwordSaved: false });
    expect(form.values.value.port).toBe("4457");
  });

  it("an edit back to the old value while saving stays dirty against the new saved value", async () => {
    const { form, startSave } = harness(SAVED);
    form.set("port", "4456");
    const { done, pending } = startSave();
    form.set("port", "4455"); // what was saved before this save
    await pending.reply(ok({ ...SAVED, port: 4456 }));
    await done;
    expect(form.values.value.port).toBe("4455");
    expect(form.dirty.value.has("port")).toBe(true);
    expect(form.changed.value).toBe(true);
    form.sync({ ...SAVED, port: 4456 });
    expect(form.values.value.port).toBe("4455");
  });

  it("fields still holding what was sent show the saved (normalised) value and are clean", async () => {
    const { form, startSave } = harness(SAVED);
    form.set("host", "  OBS.local  ");
    form.focus("host"); // Enter in the field: still focused when the reply comes
    const { done, pending } = startSave();
    expect(pending.update.host).toBe("  OBS.local  ");
    await pending.reply(ok({ host: "obs.local", port: 4455, passwordSaved: false }));
    const out = await done;
    expect(out).toEqual({ ok: true, data: { host: "obs.local", port: 4455, passwordSaved: false } });
    expect(form.values.value.host).toBe("obs.local");
    expect(form.dirty.value.size).toBe(0);
    expect(form.changed.value).toBe(false);
  });

  it("sends a typed secret, then empties it; an empty one is sent as 'keep'", async () => {
    const { form, startSave } = harness(SAVED);
    let save = startSave();
    expect(save.pending.update.password).toBeNull();
    await save.pending.reply(ok(SAVED));
    await save.done;

    form.set("password", "hunter2");
    save = startSave();
    expect(save.pending.update.password).toBe("hunter2");
    await save.pending.reply(ok({ ...SAVED, passwordSaved: true }));
    await save.done;
    expect(form.values.value.password).toBe("");
    expect(form.changed.value).toBe(false);
  });

  it("keeps a secret retyped while the save was in flight", async () => {
    const { form, startSave } = harness(SAVED);
    form.set("password", "first");
    const { done, pending } = startSave();
    form.set("password", "second");
    await pending.reply(ok({ ...SAVED, passwordSaved: true }));
    await done;
    expect(form.values.value.password).toBe("second");
    expect(form.changed.value).toBe(true);
  });

  it("a build error names the field and sends nothing", async () => {
    const { form, sent } = harness(SAVED);
    form.set("port", "70000");
    const out = await form.save();
    expect(out).toBeNull();
    expect(sent).toHaveLength(0);
    expect(form.saving.value).toBe(false);
    expect(form.error.value?.field).toBe("port");
    expect(form.error.value?.error.code).toBe("InvalidSettings");
    expect(form.error.value?.error.message).toBe("The port must be a whole number between 1 and 65535.");
    // Editing that field clears its error; editing another one does not.
    form.set("host", "x");
    expect(form.error.value?.field).toBe("port");
    form.set("port", "4456");
    expect(form.error.value).toBeNull();
  });

  it("a failed save keeps the edits and exposes the ErrorCode", async () => {
    const { form, startSave, adopted } = harness(SAVED);
    form.set("port", "4456");
    form.set("password", "pw");
    const { done, pending } = startSave();
    await pending.reply({ status: "error", error: { code: "Keyring", message: "no keyring" } });
    const out = await done;
    expect(out).toEqual({ ok: false, error: { code: "Keyring", message: "no keyring" } });
    expect(form.error.value).toEqual({ error: { code: "Keyring", message: "no keyring" }, field: undefined });
    expect(form.values.value.port).toBe("4456");
    expect(form.values.value.password).toBe("pw");
    expect(form.dirty.value.has("port")).toBe(true);
    expect(form.savedFlash.value).toBe(false);
    expect(form.saving.value).toBe(false);
    expect(adopted).toHaveLength(0);
  });

  it("a rejected send (Tauri's plain string) becomes an Internal error", async () => {
    const { form, startSave } = harness(SAVED);
    const { done, pending } = startSave();
    await pending.reject("invalid args `update` for command");
    await done;
    expect(form.error.value?.error.code).toBe("Internal");
    expect(form.error.value?.error.message).toContain("invalid args");
  });

  it("the next save clears the previous error", async () => {
    const { form, startSave } = harness(SAVED);
    let save = startSave();
    await save.pending.reply({ status: "error", error: { code: "Database", message: "disk full" } });
    await save.done;
    save = startSave();
    expect(form.error.value).toBeNull();
    await save.pending.reply(ok(SAVED));
    await save.done;
    expect(form.error.value).toBeNull();
  });

  it("adopts the reply when nothing moved the slice during the save", async () => {
    const { startSave, adopted } = harness(SAVED);
    const { done, pending } = startSave();
    await pending.reply(ok({ ...SAVED, port: 1 }));
    await done;
    expect(adopted).toEqual([{ ...SAVED, port: 1 }]);
  });

  it("skips adopt when the version moved during the save (an event is at least as new)", async () => {
    const { form, startSave, adopted, bump } = harness(SAVED);
    form.set("port", "4456");
    const { done, pending } = startSave();
    bump();
    await pending.reply(ok({ ...SAVED, port: 4456 }));
    await done;
    expect(adopted).toHaveLength(0);
    // The form itself still takes the save.
    expect(form.values.value.port).toBe("4456");
    expect(form.dirty.value.size).toBe(0);
    expect(form.savedFlash.value).toBe(true);
  });

  it("ignores a second save while one is in flight", async () => {
    const { form, sent, startSave } = harness(SAVED);
    const { done, pending } = startSave();
    expect(await form.save()).toBeNull();
    expect(sent).toHaveLength(1);
    await pending.reply(ok(SAVED));
    await done;
  });

  it("a sync during the save updates untouched fields; the reply keeps them", async () => {
    const { form, startSave, bump } = harness(SAVED);
    form.set("port", "4456");
    const { done, pending } = startSave();
    bump();
    form.sync({ host: "from.event", port: 4456, passwordSaved: false });
    expect(form.values.value.port).toBe("4456"); // dirty: left alone
    expect(form.values.value.host).toBe("from.event");
    await pending.reply(ok({ host: "from.event", port: 4456, passwordSaved: false }));
    await done;
    expect(form.values.value.host).toBe("from.event");
    expect(form.dirty.value.size).toBe(0);
  });

  it("flashes Saved for SAVED_FLASH_MS; an edit hides it sooner", async () => {
    vi.useFakeTimers();
    const { form, startSave } = harness(SAVED);
    let save = startSave();
    save.pending.reply(ok(SAVED));
    await vi.advanceTimersByTimeAsync(0);
    await save.done;
    expect(form.savedFlash.value).toBe(true);
    await vi.advanceTimersByTimeAsync(SAVED_FLASH_MS - 10);
    expect(form.savedFlash.value).toBe(true);
    await vi.advanceTimersByTimeAsync(20);
    expect(form.savedFlash.value).toBe(false);

    save = startSave();
    save.pending.reply(ok(SAVED));
    await vi.advanceTimersByTimeAsync(0);
    await save.done;
    expect(form.savedFlash.value).toBe(true);
    form.set("host", "typing");
    expect(form.savedFlash.value).toBe(false);

    // A new save hides the flash while it is in flight.
    save = startSave();
    save.pending.reply(ok(SAVED));
    await vi.advanceTimersByTimeAsync(0);
    await save.done;
    save = startSave();
    expect(form.savedFlash.value).toBe(false);
    save.pending.reply(ok(SAVED));
    await vi.advanceTimersByTimeAsync(0);
    await save.done;
    form.dispose();
    await vi.advanceTimersByTimeAsync(SAVED_FLASH_MS);
  });

  it("checkbox fields are dirty-tracked like the others", () => {
    const { form } = harness(SAVED);
    const props = form.check("enabled");
    expect(props.checked).toBe(true);
    form.set("enabled", false);
    expect(form.dirty.value.has("enabled")).toBe(true);
    expect(form.check("enabled").checked).toBe(false);
  });

  it("revert puts the saved values back and clears errors", async () => {
    const { form } = harness(SAVED);
    form.set("port", "nope");
    form.set("password", "pw");
    await form.save();
    expect(form.error.value).not.toBeNull();
    form.revert();
    expect(form.values.value).toEqual({ host: "127.0.0.1", port: "4455", password: "", enabled: true });
    expect(form.dirty.value.size).toBe(0);
    expect(form.error.value).toBeNull();
  });

  it("text() props mark the field named by the error as invalid", async () => {
    const { form } = harness(SAVED);
    form.set("port", "0");
    await form.save();
    expect(form.text("port")["aria-invalid"]).toBe("true");
    expect(form.text("host")["aria-invalid"]).toBeUndefined();
    expect(form.text("port").value).toBe("0");
  });
});

describe("number parsers", () => {
  it("wholeNumber accepts integers in range only", async () => {
    const { wholeNumber: whole, decimalNumber } = await import("./form");
    expect(whole(" 42 ", 1, 100, "X")).toBe(42);
    expect(whole("1", 1, 100, "X")).toBe(1);
    expect(whole("100", 1, 100, "X")).toBe(100);
    for (const bad of ["", "  ", "0", "101", "4.5", "abc", "1e400"]) {
      expect(typeof whole(bad, 1, 100, "X")).toBe("string");
    }
    expect(decimalNumber("2.5", 1, 10, "Y")).toBe(2.5);
    expect(decimalNumber("1", 1, 10, "Y")).toBe(1);
    for (const bad of ["", "0.99", "10.01", "NaN", "Infinity", "x"]) {
      expect(typeof decimalNumber(bad, 1, 10, "Y")).toBe("string");
    }
    expect(decimalNumber("x", 1, 10, "Y")).toBe("Y must be a number between 1 and 10.");
  });
});
