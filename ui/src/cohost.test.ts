// The co-host in the reducer (state.ts: snapshot, `cohost` event, a command's reply) and the
// Co-host card's pure helpers (cohost.ts): counters, latency, drafts, what an edit sends.
import { describe, expect, it, vi } from "vitest";

// format.ts reads navigator.language (Node 20 has no navigator): a fixed locale for the tests.
vi.hoisted(() => {
  if (typeof globalThis.navigator === "undefined") {
    Object.defineProperty(globalThis, "navigator", {
      value: { language: "en-US", languages: ["en-US"] },
      configurable: true,
    });
  }
});

import type { CoreEvent } from "./bindings";
import {
  adoptCohostStatus,
  backendText,
  CHAT_READ_ONLY,
  cohostOn,
  counterItems,
  draftWhere,
  draftWho,
  editedText,
  emptyDraftsText,
  expiresText,
  KICK_READ_ONLY,
  lastErrorText,
  latencyText,
  sameDraft,
  sendBlocked,
} from "./cohost";
import { clock, clockShort } from "./format";
import { applyEvents, applySnapshot, emptyCache } from "./state";
import { COHOST_SETTINGS, cohostDraft, cohostStatus, snapshot } from "./testFixtures";

describe("the co-host in the reducer", () => {
  it("is null until the snapshot, which sets it and touches its slice", () => {
    const c = emptyCache();
    expect(c.cohost).toBeNull();
    const st = cohostStatus();
    const out = applySnapshot(c, snapshot({ cohost: st }));
    expect(c.cohost).toBe(st);
    expect(out.touched.has("cohost")).toBe(true);
    expect(c.versions.cohost).toBe(1);
  });

  it("a cohost event replaces the status and touches only its slice", () => {
    const c = emptyCache();
    applySnapshot(c, snapshot());
    const before = { ...c.versions };
    const queue = c.queue;
    const next = cohostStatus({ drafts: [cohostDraft(3)], inFlight: 1 });
    const out = applyEvents(c, [{ kind: "cohost", status: next }]);
    expect(c.cohost).toBe(next);
    expect([...out.touched]).toEqual(["cohost"]);
    expect(c.versions.cohost).toBe(before.cohost + 1);
    for (const [slice, v] of Object.entries(before)) if (slice !== "cohost") expect(c.versions[slice as keyof typeof before]).toBe(v);
    expect(c.queue).toBe(queue);
  });

  it("the same status object again changes nothing", () => {
    const c = emptyCache();
    const st = cohostStatus();
    applySnapshot(c, snapshot({ cohost: st }));
    const ev: CoreEvent = { kind: "cohost", status: st };
    expect(applyEvents(c, [ev]).touched.size).toBe(0);
  });

  it("events in a batch apply in order: the last status wins", () => {
    const c = emptyCache();
    applySnapshot(c, snapshot());
    const a = cohostStatus({ drafts: [] });
    const b = cohostStatus({ drafts: [cohostDraft(9)] });
    applyEvents(c, [
      { kind: "cohost", status: a },
      { kind: "cohost", status: b },
    ]);
    expect(c.cohost).toBe(b);
  });

  it("a command's reply is adopted unless an event moved the slice on", () => {
    const c = emptyCache();
    applySnapshot(c, snapshot());
    const before = c.versions.cohost;
    const reply = cohostStatus({ drafts: [] });
    adoptCohostStatus(c, reply, before);
    expect(c.cohost).toBe(reply);
    // An event arrived while the command was in flight: it is at least as new as the reply.
    const sent = c.versions.cohost;
    const ev = cohostStatus({ drafts: [cohostDraft(4)] });
    applyEvents(c, [{ kind: "cohost", status: ev }]);
    adoptCohostStatus(c, cohostStatus({ drafts: [] }), sent);
    expect(c.cohost).toBe(ev);
  });
});

describe("the card's head and counters", () => {
  it("on or off, and where answers come from", () => {
    expect(cohostOn(null)).toBe(false);
    expect(cohostOn(cohostStatus())).toBe(true);
    expect(cohostOn(cohostStatus({ settings: { ...COHOST_SETTINGS, enabled: false } }))).toBe(false);
    expect(backendText(COHOST_SETTINGS)).toBe("llama3.2 · 127.0.0.1:11434");
    expect(backendText({ ...COHOST_SETTINGS, backend: "demo" })).toBe("Demo responder (offline)");
    expect(backendText({ ...COHOST_SETTINGS, baseUrl: "not a url", model: " " })).toBe("no model · not a url");
  });

  it("latency: ms under a second, seconds above, a dash while there is none", () => {
    expect(latencyText(0)).toBe("–");
    expect(latencyText(840.4)).toBe("840 ms");
    expect(latencyText(2100)).toBe("2.1 s");
  });

  it("counters: answered, failed, drafts, p50/p95 and tokens; auto only when it applies", () => {
    const items = counterItems(cohostStatus());
    expect(items.map((i) => [i.key, i.value])).toEqual([
      ["answered", "12"],
      ["failed", "1"],
      ["sent", "7"],
      ["edited", "2"],
      ["discarded", "3"],
      ["p50", "840 ms"],
      ["p95", "2.1 s"],
      ["tokens", "3,960"],
    ]);
    expect(items.find((i) => i.key === "failed")!.title).toContain("0 chat lines not taken in");
    const auto = counterItems(cohostStatus({ settings: { ...COHOST_SETTINGS, mode: "auto" } }));
    expect(auto.find((i) => i.key === "auto")).toMatchObject({ value: "0", zero: true });
    const fresh = counterItems(cohostStatus({ latencyP50Ms: 0, latencyP95Ms: 0 }));
    expect(fresh.find((i) => i.key === "p95")).toMatchObject({ value: "–", zero: true });
  });

  it("the last failure, with its time, or nothing", () => {
    expect(lastErrorText(cohostStatus())).toBeNull();
    const at = 1_700_000_123_000;
    const msg = "The server refused the API key (401): check it in Settings → Co-host.";
    expect(lastErrorText(cohostStatus({ lastError: msg, lastErrorMs: at }))).toEqual({ text: msg, at: clock(at) });
    expect(lastErrorText(cohostStatus({ lastError: msg, lastErrorMs: null }))).toEqual({ text: msg, at: null });
  });

  it("the empty list says how viewers ask, by mode", () => {
    expect(emptyDraftsText(cohostStatus())).toContain("type !ask");
    expect(emptyDraftsText(cohostStatus({ settings: { ...COHOST_SETTINGS, mode: "auto", askCommands: [] } }))).toMatch(
      /^Auto mode.*mention the co-host\.$/,
    );
  });
});

describe("drafts", () => {
  it("Kick drafts are never sendable, nor those of a read-only chat", () => {
    expect(sendBlocked(cohostDraft(1))).toBeNull();
    expect(sendBlocked(cohostDraft(2, { slot: "kick", sendable: false }))).toBe(KICK_READ_ONLY);
    // Even if a Kick draft came marked sendable, Kick chat is read-only here.
    expect(sendBlocked(cohostDraft(3, { slot: "kick", sendable: true }))).toBe(KICK_READ_ONLY);
    expect(sendBlocked(cohostDraft(4, { sendable: false }))).toBe(CHAT_READ_ONLY);
  });

  it("who and where", () => {
    expect(draftWho(cohostDraft(1))).toBe("viewer1");
    expect(draftWho(cohostDraft(1, { viewer: "", trigger: "quiet" }))).toBe("Quiet chat");
    expect(draftWhere(cohostDraft(1))).toBe("#chan");
    expect(draftWhere(cohostDraft(2, { slot: "kick", channel: "xqc" }))).toBe("Kick xqc");
  });

  it("the expiry is a fixed clock time, not a countdown", () => {
    const d = cohostDraft(1);
    expect(expiresText(d)).toEqual({
      text: `until ${clockShort(d.expiresMs)}`,
      title: `Expires at ${clock(d.expiresMs)} unless you Send or Discard it (drafted at ${clock(d.createdMs)})`,
    });
    expect(expiresText(cohostDraft(1, { expiresMs: 0 }))).toBeNull();
  });

  it("an edit sends the new text, trimmed; an unchanged one sends the draft; an empty one is refused", () => {
    const d = cohostDraft(1);
    expect(editedText(d, "  @viewer1 Celeste, chapter 7!  ")).toEqual({ text: "@viewer1 Celeste, chapter 7!" });
    expect(editedText(d, ` ${d.answer} `)).toEqual({ text: null });
    expect(editedText(d, "   ")).toEqual({ error: "The edited answer is empty: write something or Discard." });
  });

  it("rows compare by value (an event sends new objects)", () => {
    expect(sameDraft(cohostDraft(1), cohostDraft(1))).toBe(true);
    expect(sameDraft(cohostDraft(1), cohostDraft(1, { answer: "other" }))).toBe(false);
    expect(sameDraft(cohostDraft(1), cohostDraft(1, { sendable: false }))).toBe(false);
  });
});
