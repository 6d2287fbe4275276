// Watch-along in the reducer (state.ts: snapshot, `watch` event, a command's reply) and the
// Watch-along card's pure helpers (watch.ts): status words and colours, errors by code, the
// elapsed time, a start's refusal, the controller's health.
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

import type { WatchErrorCode, WatchStatus } from "./bindings";
import { clock } from "./format";
import { applyEvents, applySnapshot, emptyCache } from "./state";
import { WATCH_SETTINGS, snapshot, watchSession, watchView } from "./testFixtures";
import {
  adoptStartedSession,
  adoptWatchView,
  codeSentence,
  elapsedText,
  healthRows,
  isActive,
  lastFailure,
  refusalText,
  requesterText,
  sessionError,
  shortUrl,
  STATUS_LABEL,
  STATUS_TONE,
  statusTitle,
  controllerConfigured,
  watchConfigured,
} from "./watch";

const STATUSES: WatchStatus[] = ["pending", "starting", "streaming", "stopping", "ended", "failed"];
const CODES: WatchErrorCode[] = [
  "ERR_BUSY",
  "ERR_INVALID_URL",
  "ERR_SANDBOX_FAILED",
  "ERR_LOGIN_FAILED",
  "ERR_2FA_REQUIRED",
  "ERR_CAPTCHA",
  "ERR_CHANNEL_NOT_FOUND",
  "ERR_SHARE_FAILED",
  "ERR_TIMEOUT",
  "ERR_BUDGET_EXCEEDED",
  "ERR_MAX_ITERATIONS",
  "ERR_UNKNOWN",
  "ERR_INVALID_REQUEST",
];

describe("watch-along in the reducer", () => {
  it("is null until the snapshot, which sets it and touches its slice", () => {
    const c = emptyCache();
    expect(c.watch).toBeNull();
    const view = watchView();
    const out = applySnapshot(c, snapshot({ watch: view }));
    expect(c.watch).toBe(view);
    expect(out.touched.has("watch")).toBe(true);
    expect(c.versions.watch).toBe(1);
  });

  it("a watch event replaces the view and touches only its slice", () => {
    const c = emptyCache();
    applySnapshot(c, snapshot());
    const before = { ...c.versions };
    const cohost = c.cohost;
    const next = watchView({ current: null, history: [watchSession(4, "ended")] });
    const out = applyEvents(c, [{ kind: "watch", view: next }]);
    expect(c.watch).toBe(next);
    expect([...out.touched]).toEqual(["watch"]);
    expect(c.versions.watch).toBe(before.watch + 1);
    for (const [slice, v] of Object.entries(before)) if (slice !== "watch") expect(c.versions[slice as keyof typeof before]).toBe(v);
    expect(c.cohost).toBe(cohost);
  });

  it("the same view object again changes nothing; in a batch the last one wins", () => {
    const c = emptyCache();
    const view = watchView();
    applySnapshot(c, snapshot({ watch: view }));
    expect(applyEvents(c, [{ kind: "watch", view }]).touched.size).toBe(0);
    const a = watchView({ healthError: "a" });
    const b = watchView({ healthError: "b" });
    applyEvents(c, [
      { kind: "watch", view: a },
      { kind: "watch", view: b },
    ]);
    expect(c.watch).toBe(b);
  });

  it("a command's view is adopted unless an event moved the slice on", () => {
    const c = emptyCache();
    applySnapshot(c, snapshot());
    const reply = watchView({ healthError: "not yet" });
    adoptWatchView(c, reply, c.versions.watch);
    expect(c.watch).toBe(reply);
    const sent = c.versions.watch;
    const ev = watchView({ current: null });
    applyEvents(c, [{ kind: "watch", view: ev }]);
    adoptWatchView(c, watchView(), sent);
    expect(c.watch).toBe(ev);
  });

  it("a started session becomes the current one and the newest listed, unless an event came first", () => {
    const c = emptyCache();
    applySnapshot(c, snapshot({ watch: watchView({ current: null, history: [watchSession(2, "failed")] }) }));
    const started = watchSession(5, "pending", { source: "window", requester: "streamer" });
    adoptStartedSession(c, started, c.versions.watch);
    expect(c.watch!.current).toBe(started);
    expect(c.watch!.history.map((s) => s.status)).toEqual(["pending", "failed"]);
    // The same session again (its event was missed) is listed once.
    adoptStartedSession(c, started, c.versions.watch);
    expect(c.watch!.history).toHaveLength(2);
    // An event is at least as new as the reply.
    const v = c.versions.watch;
    const ev = watchView({ current: { ...started, status: "starting" } });
    applyEvents(c, [{ kind: "watch", view: ev }]);
    adoptStartedSession(c, started, v);
    expect(c.watch).toBe(ev);
  });
});

describe("status", () => {
  it("every status has its word and colour; only finished ones are inactive", () => {
    expect(STATUSES.map((s) => [s, STATUS_LABEL[s], STATUS_TONE[s], isActive(s)])).toEqual([
      ["pending", "Pending", "data", true],
      ["starting", "Starting", "data", true],
      ["streaming", "Streaming", "ok", true],
      ["stopping", "Stopping", "warn", true],
      ["ended", "Ended", null, false],
      ["failed", "Failed", "err", false],
    ]);
    for (const s of STATUSES) expect(statusTitle(watchSession(1, s))).toContain("Movie Night");
  });

  it("the link without scheme and www, who asked and from where", () => {
    expect(shortUrl("https://www.youtube.com/watch?v=dQw4w9WgXcQ")).toBe("youtube.com/watch?v=dQw4w9WgXcQ");
    expect(shortUrl("https://vimeo.com/")).toBe("vimeo.com");
    expect(shortUrl("not a url")).toBe("not a url");
    const s = watchSession(1, "streaming");
    expect(requesterText(s)).toEqual({ text: "by modname", title: `Asked for by modname from Twitch chat at ${clock(s.createdMs)}` });
    expect(requesterText(watchSession(1, "pending", { source: "window", requester: "streamer" })).title).toContain("this window");
  });

  it("elapsed time since it was asked for: m:ss, then h:mm:ss; never negative", () => {
    const t0 = 1_700_000_000_000;
    expect(elapsedText(t0, t0)).toBe("0:00");
    expect(elapsedText(t0, t0 + 42_900)).toBe("0:42");
    expect(elapsedText(t0, t0 + 12 * 60_000 + 5_000)).toBe("12:05");
    expect(elapsedText(t0, t0 + 3_723_000)).toBe("1:02:03");
    expect(elapsedText(t0, t0 - 5_000)).toBe("0:00");
  });
});

describe("errors", () => {
  it("every code has a sentence of its own", () => {
    const sentences = CODES.map((c) => codeSentence(c));
    for (const s of sentences) expect(s).toMatch(/\.$/);
    expect(new Set(sentences).size).toBe(CODES.length);
    expect(codeSentence("ERR_BUSY", "Movie Night")).toContain("playing on Movie Night");
  });

  it("a failed session says the core's sentence, or its code's; other sessions say nothing", () => {
    const own = watchView().history[1]!;
    expect(sessionError(own)).toEqual({ code: "ERR_TIMEOUT", text: own.errorMessage });
    expect(sessionError(watchSession(1, "failed", { errorCode: "ERR_CHANNEL_NOT_FOUND", errorMessage: "  " }))).toEqual({
      code: "ERR_CHANNEL_NOT_FOUND",
      text: codeSentence("ERR_CHANNEL_NOT_FOUND"),
    });
    expect(sessionError(watchSession(1, "failed"))).toEqual({ code: null, text: "The watch-along failed." });
    expect(sessionError(watchSession(1, "streaming"))).toBeNull();
    expect(sessionError(watchSession(1, "ended"))).toBeNull();
  });

  it("the last failure is the newest finished session's, if it failed", () => {
    const f = lastFailure(watchView())!;
    expect(f).toMatchObject({ code: "ERR_TIMEOUT", at: clock(f.session.updatedMs) });
    expect(f.session.status).toBe("failed");
    // An ended session after the failure: nothing to report.
    const later = watchView({ current: null, history: [watchSession(5, "ended"), watchSession(4, "failed")] });
    expect(lastFailure(later)).toBeNull();
    expect(lastFailure(watchView({ history: [] }))).toBeNull();
  });

  it("a start's refusal: its message and code; nothing when it started", () => {
    const message = "Something is already playing on Movie Night. Wait until it ends, or stop it first (!stop or the Watch-along card).";
    expect(refusalText({ outcome: "refused", refusal: { code: "ERR_BUSY", message } })).toEqual({ code: "ERR_BUSY", text: message });
    expect(refusalText({ outcome: "refused", refusal: { code: "ERR_INVALID_URL", message: "" } })).toEqual({
      code: "ERR_INVALID_URL",
      text: codeSentence("ERR_INVALID_URL"),
    });
    expect(refusalText({ outcome: "started", session: watchSession(1, "pending") })).toBeNull();
  });
});

describe("settings and the controller", () => {
  it("configured with OBS, or with a controller address", () => {
    expect(watchConfigured(null)).toBe(false);
    expect(watchConfigured(watchView())).toBe(true);
    expect(watchConfigured(watchView({ settings: { ...WATCH_SETTINGS, controllerUrl: "  " } }))).toBe(false);
    expect(watchConfigured(watchView({ settings: { ...WATCH_SETTINGS, executor: "obs", controllerUrl: "" } }))).toBe(true);
    expect(controllerConfigured(watchView({ settings: { ...WATCH_SETTINGS, executor: "obs", controllerUrl: "" } }))).toBe(false);
  });

  it("health as rows", () => {
    expect(healthRows({ status: "degraded", sandbox_ready: false, active_sessions: 2, version: "" })).toEqual([
      { key: "status", label: "Status", value: "Degraded" },
      { key: "sandbox", label: "Sandbox", value: "not ready" },
      { key: "sessions", label: "Sessions", value: "2 active" },
      { key: "version", label: "Version", value: "–" },
    ]);
  });
});
