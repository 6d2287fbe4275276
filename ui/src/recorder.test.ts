// The recorder status card's pure helpers (recorder.ts): phases, sizes, problems, replies, clips.
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

import type { Clip, RecorderSettings, RecorderState } from "./bindings";
import {
  adoptRecorderState,
  clipLength,
  clipMeta,
  clipWidened,
  cutTitle,
  describeRecorder,
  isRunning,
  phaseLabel,
  phaseTone,
  problemText,
  sizeText,
  startBlocked,
} from "./recorder";
import { emptyCache } from "./state";

function st(phase: RecorderState["phase"], extra: Partial<RecorderState> = {}): RecorderState {
  return { phase, mode: "obs", path: null, bytes: 0, bytesPerMin: 0, startedAtMs: null, message: null, ...extra };
}

const settings = (mode: RecorderSettings["mode"]): RecorderSettings => ({
  mode,
  streamlinkUrl: "",
  quality: "best",
  preSeconds: 20,
  postSeconds: 10,
  autoCut: false,
});

describe("phases", () => {
  it("running: recording, waiting for live, stalled", () => {
    expect(isRunning(st("recording"))).toBe(true);
    expect(isRunning(st("waitingForLive"))).toBe(true);
    expect(isRunning(st("stalled"))).toBe(true);
    expect(isRunning(st("idle"))).toBe(false);
    expect(isRunning(st("failed"))).toBe(false);
  });

  it("labels and tones", () => {
    expect(phaseLabel(st("idle"))).toBe("Idle");
    expect(phaseLabel(st("idle", { mode: "off" }))).toBe("Off");
    expect(phaseLabel(st("waitingForLive"))).toBe("Waiting for live");
    expect(phaseTone(st("recording"))).toBeNull();
    expect(phaseTone(st("stalled"))).toBe("warn");
    expect(phaseTone(st("failed"))).toBe("err");
  });

  it("describes the whole state in one line", () => {
    expect(describeRecorder(st("recording", { bytes: 123_400_000, bytesPerMin: 45_600_000 }))).toBe(
      "Recording · 123.4 MB · +45.6 MB/min",
    );
    expect(describeRecorder(st("stalled"))).toBe("Stalled: the recording has stopped growing");
    expect(describeRecorder(st("failed", { message: "streamlink is missing" }))).toBe("Failed: streamlink is missing");
  });
});

describe("sizes and problems", () => {
  it("shows size and growth while recording, the last file's size when idle", () => {
    expect(sizeText(st("recording", { bytes: 2_000_000, bytesPerMin: 1_000_000 }))).toBe("2.0 MB · +1.0 MB/min");
    expect(sizeText(st("idle", { path: "/r/a.mkv", bytes: 5_000_000 }))).toBe("5.0 MB");
    expect(sizeText(st("idle"))).toBeNull();
    expect(sizeText(st("idle", { path: "/r/a.mkv", bytes: 0 }))).toBeNull();
  });

  it("says what to do when it fails or stalls", () => {
    expect(problemText(st("recording"))).toBeNull();
    const failed = problemText(st("failed", { message: "streamlink is missing." }));
    expect(failed?.tone).toBe("err");
    expect(failed?.text).toContain("streamlink is missing.");
    expect(failed?.text).toContain("Start again");
    expect(problemText(st("stalled", { message: "the recording has not grown for 30 s" }))?.text).toContain(
      "OBS's recording",
    );
    expect(problemText(st("waitingForLive"))).toBeNull();
    expect(problemText(st("waitingForLive", { message: "restarting in 5 s" }))?.tone).toBe("muted");
  });

  it("blocks Start while the recorder is off", () => {
    expect(startBlocked(settings("off"))).toContain("Streamlink");
    expect(startBlocked(settings("obs"))).toBeNull();
  });
});

describe("adoptRecorderState", () => {
  it("adopts a reply unless an event changed the slice since the command was sent", () => {
    const cache = emptyCache();
    adoptRecorderState(cache, st("recording"), 0);
    expect(cache.recorder).toBeNull(); // nothing to adopt into
    cache.recorder = { settings: settings("obs"), state: st("idle"), clips: [] };
    const before = cache.versions.recorder;
    adoptRecorderState(cache, st("recording"), before);
    expect(cache.recorder.state.phase).toBe("recording");
    cache.versions.recorder++; // an event arrived meanwhile
    adoptRecorderState(cache, st("idle"), before);
    expect(cache.recorder.state.phase).toBe("recording");
  });
});

describe("clips", () => {
  const clip: Clip = {
    id: 1,
    momentId: 2,
    path: "/clips/m2.mp4",
    startMs: 1000,
    endMs: 13_400,
    widenedMs: 1300,
    bytes: 3_100_000,
    createdAtMs: 0,
  };
  it("length, widening and meta", () => {
    expect(clipLength(clip)).toBe("12.4 s");
    expect(clipWidened(clip)).toBe("widened by 1.3 s to a keyframe");
    expect(clipWidened({ ...clip, widenedMs: 50 })).toBeNull();
    expect(clipMeta(clip)).toMatch(/^3\.1 MB · /);
  });

  it("Cut clip's tooltip says how much it keeps", () => {
    expect(cutTitle(settings("obs"))).toBe("Cut this moment from the recording (20 s before, 10 s after)");
    expect(cutTitle(null)).toBe("Cut this moment from the recording");
  });
});
