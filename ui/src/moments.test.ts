// The Moments panel's pure helpers (moments.ts): kinds, filters and order, notes, the picker's
// options, the empty states.
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

import type { Moment, MomentSettings, MomentTrigger, SessionSummary, TriggerKind } from "./bindings";
import {
  decideNote,
  emptyText,
  kindsAttr,
  kindsOf,
  labelsOf,
  mainKind,
  matchesFilter,
  NOTE_MAX,
  pickerOptions,
  sessionLabel,
  shownNewestFirst,
  sourceLabel,
  strengthText,
  triggerTitle,
  withSummary,
} from "./moments";

function trigger(kind: TriggerKind, label: string, threshold = 5): MomentTrigger {
  return { kind, label, name: null, value: threshold * 2, threshold, baseline: null };
}

function moment(id: number, kinds: TriggerKind[], strength = 1.2, ended = true): Moment {
  return {
    id,
    sessionId: 1,
    startedAtMs: id * 1000,
    endedAtMs: ended ? id * 1000 + 500 : null,
    offsetMs: id * 1000,
    triggers: kinds.map((k) => trigger(k, `${k} ×${id}`)),
    strength,
    note: "",
  };
}

function session(id: number, moments = 0): SessionSummary {
  return { id, platform: "twitch", channel: "chan", startedAtMs: id * 1000, endedAtMs: null, messages: 10, moments };
}

const settings = (rule: "baseline" | "fixed"): MomentSettings => ({
  windowSeconds: 10,
  velocity:
    rule === "fixed"
      ? { rule: "fixed", perSecond: 5 }
      : { rule: "baseline", sigmas: 4, ratio: 2, minPerSecond: 1, halfLifeSeconds: 120, warmupSeconds: 30 },
  keywords: ["clip"],
  keywordThreshold: 5,
  textEmotes: [],
  emoteThreshold: 10,
  emoteWindowSeconds: 10,
  mergeGapSeconds: 5,
  support: { subs: 3, gifts: 5, raidViewers: 10, bits: 500 },
  viewerSpike: { ratio: 1.5, minIncrease: 20 },
});

describe("kinds", () => {
  it("sorts and dedupes a moment's kinds for data-kinds", () => {
    const m = moment(1, ["velocity", "keyword", "emote", "keyword"]);
    expect(kindsOf(m)).toEqual(["emote", "keyword", "velocity"]);
    expect(kindsAttr(m)).toBe("emote,keyword,velocity");
    expect(kindsAttr(moment(2, []))).toBe("");
  });

  it("colours by the strongest kind: velocity, then keyword, then emote", () => {
    expect(mainKind(moment(1, ["emote", "keyword"]))).toBe("keyword");
    expect(mainKind(moment(1, ["emote", "velocity"]))).toBe("velocity");
    expect(mainKind(moment(1, ["emote"]))).toBe("emote");
    expect(mainKind(moment(1, []))).toBeNull();
    // Viewers' support and a viewer spike colour a marker only when chat itself did not burst.
    expect(mainKind(moment(1, ["support", "emote"]))).toBe("emote");
    expect(mainKind(moment(1, ["viewerSpike", "support"]))).toBe("support");
    expect(mainKind(moment(1, ["manual", "viewerSpike"]))).toBe("viewerSpike");
    expect(kindsAttr(moment(1, ["viewerSpike", "support", "velocity"]))).toBe("support,velocity,viewerSpike");
  });

  it("labels and strength", () => {
    const m = moment(8, ["keyword", "emote"], 2.345);
    expect(labelsOf(m)).toBe("keyword ×8 · emote ×8");
    expect(strengthText(m)).toBe("×2.3");
    expect(triggerTitle(trigger("keyword", "CLIP ×8", 5))).toBe("Keyword: CLIP ×8 (fires at 5)");
    expect(triggerTitle(trigger("support", "3 gifted subs", 3))).toBe("Support: 3 gifted subs (fires at 3)");
    expect(triggerTitle(trigger("viewerSpike", "viewers 100 → 400", 150))).toBe(
      "Viewer spike: viewers 100 → 400 (fires at 150)",
    );
  });
});

describe("filters and order", () => {
  const list = [moment(1, ["velocity"], 1.2), moment(2, ["keyword"], 2.5), moment(3, ["emote", "keyword"], 3.1)];

  it("filters by kind and by minimum strength", () => {
    expect(matchesFilter(list[0]!, "all", 0)).toBe(true);
    expect(matchesFilter(list[0]!, "keyword", 0)).toBe(false);
    expect(matchesFilter(list[2]!, "keyword", 0)).toBe(true);
    expect(matchesFilter(list[1]!, "all", 3)).toBe(false);
  });

  it("lists newest first, after the filters", () => {
    expect(shownNewestFirst(list, "all", 0).map((m) => m.id)).toEqual([3, 2, 1]);
    expect(shownNewestFirst(list, "keyword", 0).map((m) => m.id)).toEqual([3, 2]);
    expect(shownNewestFirst(list, "all", 2).map((m) => m.id)).toEqual([3, 2]);
    expect(shownNewestFirst(list, "velocity", 2)).toEqual([]);
    expect(shownNewestFirst([], "all", 0)).toEqual([]);
  });
});

describe("notes", () => {
  it("does nothing when the trimmed text is what is saved", () => {
    expect(decideNote("  nice  ", "nice")).toEqual({ kind: "unchanged" });
    expect(decideNote("", "")).toEqual({ kind: "unchanged" });
  });

  it("sends the trimmed text, including an empty one that clears a note", () => {
    expect(decideNote(" great play ", "")).toEqual({ kind: "send", text: "great play" });
    expect(decideNote("   ", "old")).toEqual({ kind: "send", text: "" });
  });

  it("refuses a note longer than the core accepts", () => {
    expect(decideNote("x".repeat(NOTE_MAX), "")).toEqual({ kind: "send", text: "x".repeat(NOTE_MAX) });
    const d = decideNote("x".repeat(NOTE_MAX + 1), "");
    expect(d.kind).toBe("tooLong");
    if (d.kind === "tooLong") expect(d.message).toContain(String(NOTE_MAX));
  });
});

describe("the history picker", () => {
  it("leaves open sessions out of the past ones", () => {
    const o = pickerOptions([session(3), session(2), session(1)], [3], null, true, true);
    expect(o.liveLabel).toBe("Live");
    expect(o.past.map((s) => s.id)).toEqual([2, 1]);
  });

  it("says “Latest session” when none is open but the live list holds the last one", () => {
    expect(pickerOptions([session(1)], [], null, false, true).liveLabel).toBe("Latest session");
    expect(pickerOptions([session(1)], [], null, false, false).liveLabel).toBe("Live");
  });

  it("keeps the shown past session listed even if the list no longer has it", () => {
    const o = pickerOptions([session(2)], [], session(1), false, false);
    expect(o.past.map((s) => s.id)).toEqual([1, 2]);
    expect(pickerOptions(null, [], null, false, false).past).toEqual([]);
    expect(pickerOptions([session(1)], [], session(1), false, false).past).toHaveLength(1);
  });

  it("refreshes a session's summary from a loaded history", () => {
    const list = [session(2, 1), session(1, 0)];
    const next = withSummary(list, session(2, 4));
    expect(next?.map((s) => s.moments)).toEqual([4, 0]);
    expect(list[0]!.moments).toBe(1); // not mutated
    expect(withSummary(null, session(2))).toBeNull();
  });

  it("labels sources and sessions", () => {
    expect(sourceLabel("demo", "")).toBe("Demo chat");
    expect(sourceLabel("twitch", "#shroud")).toBe("Twitch #shroud");
    expect(sourceLabel("kick", "")).toBe("Kick");
    expect(sessionLabel(session(1, 1))).toMatch(/ · Twitch #chan · 1 moment$/);
    expect(sessionLabel(session(1, 4))).toMatch(/ · 4 moments$/);
  });
});

describe("empty states", () => {
  const base = { loading: false, total: 0, history: false, live: false, settings: null };

  it("says what is going on, most specific first", () => {
    expect(emptyText({ ...base, loading: true, total: 3 }).title).toBe("Loading…");
    expect(emptyText({ ...base, total: 3 }).title).toBe("No moments match");
    expect(emptyText({ ...base, history: true }).title).toBe("No moments in this session");
    expect(emptyText(base).title).toBe("No moments yet");
  });

  it("mentions the baseline's warm-up while watching with the baseline rule", () => {
    const watching = emptyText({ ...base, live: true, settings: settings("baseline") });
    expect(watching.title).toBe("Watching chat…");
    expect(watching.text).toContain("warms up for 30 s");
    expect(emptyText({ ...base, live: true, settings: settings("fixed") }).text).not.toContain("warms up");
  });
});
