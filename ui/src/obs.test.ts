// The OBS status card's pure helpers (obs.ts): the connection in words, hints, the setup report.
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

import type { ObsConnection, ObsView, QueueItem } from "./bindings";
import { describeObs, obsCountingDown, setupReportText, showingText } from "./obs";

function view(connection: ObsConnection, extra: Partial<ObsView["state"]> = {}): ObsView {
  return {
    settings: {
      enabled: true,
      host: "127.0.0.1",
      port: 4455,
      passwordSaved: false,
      names: { generatingScene: "Generating", promptSource: "Prompt", resultScene: "Result", resultSource: "Clip", heroScene: "Hero", watchScene: "Watch", watchSource: "Watch Video" },
    },
    state: { connection, programScene: "Just Chatting", recording: true, showing: null, hero: false, ...extra },
  };
}

function item(id: number, state: QueueItem["state"]): QueueItem {
  return {
    id,
    userLogin: "alice",
    displayName: "Alice",
    prompt: "a cat on a skateboard",
    state,
    reason: null,
    position: 0,
    createdAtMs: 0,
    updatedAtMs: 0,
    filePath: null,
    attempts: 0,
    generationMs: null,
  };
}

describe("describeObs", () => {
  it("connected: the version, the program scene and recording", () => {
    const d = describeObs(view({ state: "connected", obsVersion: "30.2.3", websocketVersion: "5.5.2" }), 0);
    expect(d).toMatchObject({ key: "connected", tone: "ok", text: "OBS 30.2.3", scene: "Just Chatting", recording: true, hint: null });
    expect(d.title).toContain("obs-websocket 5.5.2");
    expect(d.title).toContain("127.0.0.1:4455");
  });

  it("not connected: no scene, no recording, even if the state still says so", () => {
    const d = describeObs(view({ state: "connecting" }), 0);
    expect(d).toMatchObject({ key: "connecting", scene: null, recording: false, hint: null });
  });

  it("off: says what to do", () => {
    const d = describeObs(view({ state: "disabled" }), 0);
    expect(d.key).toBe("disabled");
    expect(d.tone).toBeNull();
    expect(d.text).toBe("OBS control is off");
    expect(d.hint).toContain("OBS settings");
  });

  it("reconnecting: counts down whole seconds, then “retrying now”", () => {
    const c: ObsConnection = { state: "reconnecting", attempt: 3, retryAtMs: 10_000, reason: "OBS is not reachable" };
    expect(describeObs(view(c), 5_500).text).toBe("OBS not connected — retrying in 5 s");
    expect(describeObs(view(c), 9_001).text).toBe("OBS not connected — retrying in 1 s");
    expect(describeObs(view(c), 10_000).text).toBe("OBS not connected — retrying now…");
    expect(describeObs(view(c), 12_000).text).toBe("OBS not connected — retrying now…");
    const d = describeObs(view(c), 0);
    expect(d.title).toBe("OBS is not reachable (attempt 3)");
    expect(d.tone).toBe("warn");
    expect(d.hint).toContain("127.0.0.1:4455");
  });

  it("reconnecting for long (OBS not running): a static next-try time, no countdown", () => {
    const c: ObsConnection = { state: "reconnecting", attempt: 4, retryAtMs: 10_000, reason: "OBS is not reachable" };
    expect(obsCountingDown(view(c))).toBe(false);
    expect(obsCountingDown(view({ ...c, attempt: 3 }))).toBe(true);
    const text = describeObs(view(c), 5_500).text;
    expect(text).toMatch(/^OBS not running — next try /);
    expect(describeObs(view(c), 9_000).text).toBe(text);
  });

  it("failed: a short status, the core's message as what to do", () => {
    const message = "OBS refused the password: check it in Settings → OBS.";
    const d = describeObs(view({ state: "failed", failure: "WrongPassword", message }), 0);
    expect(d).toMatchObject({ key: "failed", tone: "err", text: "OBS refused to connect", hint: message, title: message });
    expect(describeObs(view({ state: "failed", failure: "TooOld", message: "old" }), 0).text).toBe("OBS is too old");
  });

  it("ticks only while a countdown is shown", () => {
    expect(obsCountingDown(null)).toBe(false);
    expect(obsCountingDown(view({ state: "connecting" }))).toBe(false);
    expect(obsCountingDown(view({ state: "reconnecting", attempt: 1, retryAtMs: 0, reason: "" }))).toBe(true);
  });
});

describe("setupReportText", () => {
  it("lists what was created, and what was there in the tooltip", () => {
    const r = setupReportText({ created: ["scene Generating", "text source Prompt Text"], existing: ["scene Result"] });
    expect(r.text).toBe("Created: scene Generating, text source Prompt Text");
    expect(r.title).toBe("Created: scene Generating, text source Prompt Text\nAlready there: scene Result");
    expect(setupReportText({ created: ["scene Hero"], existing: [] }).title).toBe("Created: scene Hero");
  });

  it("says when everything was already there", () => {
    expect(setupReportText({ created: [], existing: ["scene Result"] })).toEqual({
      text: "Everything was already there.",
      title: "Already there: scene Result",
    });
  });
});

describe("showingText", () => {
  const connected: ObsConnection = { state: "connected", obsVersion: "30.2.3", websocketVersion: "5.5.2" };
  it("names the request OBS shows, its prompt while generating, else its clip", () => {
    expect(showingText(view(connected).state, [])).toBeNull();
    const s = view(connected, { showing: 7 }).state;
    expect(showingText(s, [item(7, "shown")])?.text).toBe("Showing Alice’s clip");
    expect(showingText(s, [item(7, "generating")])?.text).toBe("Showing Alice’s prompt");
    expect(showingText(s, [item(7, "shown")])?.title).toContain("a cat on a skateboard");
    expect(showingText(s, [])?.text).toBe("Showing request 7");
  });
});
