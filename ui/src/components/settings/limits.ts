// The ranges and defaults the settings forms check against. They are the core's (src/api/limits.rs,
// `UiLimits`), exported to the bindings as `UI_LIMITS`.
//
// PROVISIONAL: `UI_LIMITS` is not in bindings.ts yet. Until it is, `PROVISIONAL_LIMITS` below
// holds the few numbers the forms need, under the same names as the `UiLimits` fields, so the swap
// is one line: `export const LIMITS = UI_LIMITS;` (and delete PROVISIONAL_LIMITS).

import type { MomentSettings } from "../../bindings";

/** The `UiLimits` fields the settings forms use (same names as in the bindings). */
export interface FormLimits {
  generatorTimeoutMinSecs: number;
  generatorTimeoutMaxSecs: number;
  obsPortMin: number;
  obsPortMax: number;
  momentWindowMinSecs: number;
  momentWindowMaxSecs: number;
  momentMergeGapMaxSecs: number;
  baselineSigmasMin: number;
  baselineRatioMin: number;
  baselineFloorMin: number;
  baselineHalfLifeMinSecs: number;
  baselineWarmupMaxSecs: number;
  momentWordsMax: number;
  momentWordMaxChars: number;
  defaultFixedPerSecond: number;
  defaultMomentSettings: MomentSettings;
  recorderPaddingMaxSecs: number;
}

/** PROVISIONAL (copied from src/api/limits.rs and MomentSettings::default): replace with UI_LIMITS. */
const PROVISIONAL_LIMITS: FormLimits = {
  generatorTimeoutMinSecs: 1,
  generatorTimeoutMaxSecs: 900,
  obsPortMin: 1,
  obsPortMax: 65535,
  momentWindowMinSecs: 1,
  momentWindowMaxSecs: 300,
  momentMergeGapMaxSecs: 600,
  baselineSigmasMin: 0,
  baselineRatioMin: 1,
  baselineFloorMin: 0,
  baselineHalfLifeMinSecs: 1,
  baselineWarmupMaxSecs: 3600,
  momentWordsMax: 100,
  momentWordMaxChars: 40,
  defaultFixedPerSecond: 5,
  defaultMomentSettings: {
    windowSeconds: 10,
    velocity: { rule: "baseline", sigmas: 4, ratio: 2, minPerSecond: 1, halfLifeSeconds: 120, warmupSeconds: 30 },
    keywords: ["clip", "clip that", "no way", "lmao", "omg", "insane", "pog"],
    keywordThreshold: 5,
    textEmotes: ["KEKW", "LUL", "PogChamp", "Pog", "OMEGALUL", "monkaS", "Kappa"],
    emoteThreshold: 10,
    emoteWindowSeconds: 5,
    mergeGapSeconds: 15,
  },
  recorderPaddingMaxSecs: 600,
};

/** What the forms read. */
export const LIMITS: FormLimits = PROVISIONAL_LIMITS;

/** Counts (messages) have no upper limit of their own in the core but a u32's. */
export const U32_MAX = 4_294_967_295;
