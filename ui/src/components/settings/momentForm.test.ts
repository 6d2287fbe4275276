// Settings → Moments as form data (momentForm.ts): the fields a MomentSettings shows, what Save
// checks, and which unsaved edits the live preview reflects.
import { describe, expect, it } from "vitest";
import type { MomentSettings } from "../../bindings";
import { LIMITS } from "./limits";
import { buildMoments, momentDraft, momentFields, type MomentValues, settingsSummary } from "./momentForm";

const BASELINE: MomentSettings = {
  windowSeconds: 10,
  velocity: { rule: "baseline", sigmas: 4, ratio: 2, minPerSecond: 1, halfLifeSeconds: 120, warmupSeconds: 30 },
  keywords: ["clip", "no way"],
  keywordThreshold: 5,
  textEmotes: ["KEKW"],
  emoteThreshold: 10,
  emoteWindowSeconds: 5,
  mergeGapSeconds: 15,
  support: { subs: 3, gifts: 5, raidViewers: 10, bits: 500 },
  viewerSpike: { ratio: 1.5, minIncrease: 20 },
};
const FIXED: MomentSettings = { ...BASELINE, velocity: { rule: "fixed", perSecond: 7.5 } };

const edit = (v: MomentValues, patch: Partial<MomentValues>): MomentValues => ({ ...v, ...patch });

describe("momentForm", () => {
  it("round-trips saved settings through the fields", () => {
    for (const s of [BASELINE, FIXED]) {
      const built = buildMoments(momentFields(s));
      expect(built).toEqual({ update: s });
    }
  });

  it("fills the other rule's fields with the core's defaults", () => {
    expect(momentFields(BASELINE).perSecond).toBe(String(LIMITS.defaultFixedPerSecond));
    const f = momentFields(FIXED);
    expect(f.rule).toBe("fixed");
    expect(f.sigmas).toBe("4");
    expect(f.halfLife).toBe("120");
  });

  it("cleans the keyword lists", () => {
    const built = buildMoments(edit(momentFields(BASELINE), { keywords: " clip ,, no way,\nKEKW  " }));
    expect("update" in built && built.update.keywords).toEqual(["clip", "no way", "KEKW"]);
  });

  it("names the field a check refused", () => {
    const v = momentFields(BASELINE);
    const cases: [Partial<MomentValues>, keyof MomentValues][] = [
      [{ window: "0" }, "window"],
      [{ window: String(LIMITS.momentWindowMaxSecs + 1) }, "window"],
      [{ ratio: "0.5" }, "ratio"],
      [{ sigmas: "" }, "sigmas"],
      [{ halfLife: "1.5" }, "halfLife"],
      [{ warmup: String(LIMITS.baselineWarmupMaxSecs + 1) }, "warmup"],
      [{ mergeGap: "-1" }, "mergeGap"],
      [{ emoteWindow: "0" }, "emoteWindow"],
      [{ keywordThreshold: "x" }, "keywordThreshold"],
      [{ rule: "fixed", perSecond: "0" }, "perSecond"],
      [{ keywords: "a".repeat(LIMITS.momentWordMaxChars + 1) }, "keywords"],
      [{ subs: "-1" }, "subs"],
      [{ bits: "1.5" }, "bits"],
      [{ spikeRatio: "0.5" }, "spikeRatio"],
      [{ spikeRatio: String(LIMITS.viewerSpikeRatioMax + 1) }, "spikeRatio"],
      [{ spikeIncrease: String(LIMITS.viewerSpikeMinIncreaseMax + 1) }, "spikeIncrease"],
      [{ textEmotes: Array.from({ length: LIMITS.momentWordsMax + 1 }, (_, i) => `e${i}`).join(",") }, "textEmotes"],
    ];
    for (const [patch, field] of cases) {
      const built = buildMoments(edit(v, patch));
      expect("error" in built && built.field, JSON.stringify(patch)).toBe(field);
      expect("error" in built && built.error.code).toBe("InvalidSettings");
    }
    // The baseline fields do not matter under the fixed rule.
    expect("update" in buildMoments(edit(v, { rule: "fixed", sigmas: "nope" }))).toBe(true);
  });

  it("says 'or more' for counts without an upper limit", () => {
    const built = buildMoments(edit(momentFields(BASELINE), { keywordThreshold: "-1" }));
    expect("error" in built && built.error.message).toBe("The keyword threshold must be a whole number, 0 or more.");
  });

  it("the preview's draft holds only real (not just retyped) edits", () => {
    const saved = momentFields(BASELINE);
    expect(momentDraft(saved, new Set(), BASELINE)).toBeNull();
    // "2.0" is the saved ratio 2: not an edit.
    expect(momentDraft(edit(saved, { ratio: "2.0" }), new Set(["ratio"]), BASELINE)).toBeNull();
    const d = momentDraft(edit(saved, { ratio: "3" }), new Set(["ratio"]), BASELINE);
    expect(d?.velocity).toEqual({ rule: "baseline", sigmas: 4, ratio: 3, floor: 1, perSecond: LIMITS.defaultFixedPerSecond });
    expect(d?.keywordThreshold).toBeNull();
    const k = momentDraft(edit(saved, { keywordThreshold: "2" }), new Set(["keywordThreshold"]), BASELINE);
    expect(k).toEqual({ velocity: null, keywordThreshold: 2, emoteThreshold: null });
    // An unparsable threshold is left out of the preview.
    expect(momentDraft(edit(saved, { emoteThreshold: "x" }), new Set(["emoteThreshold"]), BASELINE)).toBeNull();
  });

  it("summarises the saved settings", () => {
    expect(settingsSummary(BASELINE)).toBe("baseline ×2 · 2 keywords · 1 text emote · 4 support signals");
    const quiet = { ...FIXED, keywordThreshold: 0, support: { subs: 0, gifts: 0, raidViewers: 0, bits: 0 } };
    expect(settingsSummary(quiet)).toBe("fixed 7.5 msg/s · keywords off · 1 text emote · support off");
    const oneSignal = { ...quiet, support: { ...quiet.support, raidViewers: 50 } };
    expect(settingsSummary(oneSignal)).toBe("fixed 7.5 msg/s · keywords off · 1 text emote · 1 support signal");
  });
});
