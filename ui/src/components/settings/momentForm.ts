// Settings → Moments as form data: the field values a MomentSettings shows, the checks a save
// runs, the unsaved values the live preview reflects, and the one-line summary. Pure; no DOM.

import type { MomentSettings, VelocityRule } from "../../bindings";
import { type Built, decimalNumber, wholeNumber } from "../../form";
import { formatNumber } from "../../format";
import { joinList, type previewParts, splitList, type VelocityDraft } from "../../moments";
import { LIMITS, U32_MAX } from "./limits";

export type MomentValues = {
  rule: string;
  window: string;
  sigmas: string;
  ratio: string;
  floor: string;
  halfLife: string;
  warmup: string;
  perSecond: string;
  keywords: string;
  keywordThreshold: string;
  textEmotes: string;
  emoteThreshold: string;
  emoteWindow: string;
  mergeGap: string;
  subs: string;
  gifts: string;
  raidViewers: string;
  bits: string;
  spikeRatio: string;
  spikeIncrease: string;
};
type Key = keyof MomentValues;

/** The fields of a MomentSettings. The rule not in use shows the core's defaults, ready to use. */
export function momentFields(s: MomentSettings): MomentValues {
  const v = s.velocity;
  const d = LIMITS.defaultMomentSettings.velocity;
  const b = v.rule === "baseline" ? v : d.rule === "baseline" ? d : null;
  return {
    rule: v.rule,
    window: String(s.windowSeconds),
    sigmas: b ? String(b.sigmas) : "",
    ratio: b ? String(b.ratio) : "",
    floor: b ? String(b.minPerSecond) : "",
    halfLife: b ? String(b.halfLifeSeconds) : "",
    warmup: b ? String(b.warmupSeconds) : "",
    perSecond: String(v.rule === "fixed" ? v.perSecond : LIMITS.defaultFixedPerSecond),
    keywords: joinList(s.keywords),
    keywordThreshold: String(s.keywordThreshold),
    textEmotes: joinList(s.textEmotes),
    emoteThreshold: String(s.emoteThreshold),
    emoteWindow: String(s.emoteWindowSeconds),
    mergeGap: String(s.mergeGapSeconds),
    subs: String(s.support.subs),
    gifts: String(s.support.gifts),
    raidViewers: String(s.support.raidViewers),
    bits: String(s.support.bits),
    spikeRatio: String(s.viewerSpike.ratio),
    spikeIncrease: String(s.viewerSpike.minIncrease),
  };
}

/** The viewer spike's ratio: 0 (off), or 1 up to the core's maximum. */
function spikeRatio(v: MomentValues): number {
  const max = LIMITS.viewerSpikeRatioMax;
  const n = decimalNumber(v.spikeRatio, 0, max, "The spike ratio");
  if (typeof n === "number" && (n === 0 || n >= 1)) return n;
  throw new Refused("spikeRatio", `The spike ratio must be 0 (off) or a number from 1 to ${formatNumber(max)}.`);
}

class Refused extends Error {
  constructor(
    readonly field: Key,
    message: string,
  ) {
    super(message);
  }
}

function whole(v: MomentValues, key: Key, min: number, max: number, what: string): number {
  const n = wholeNumber(v[key], min, max, what);
  if (typeof n === "number") return n;
  // No upper limit of its own: say "or more" rather than a u32's maximum.
  throw new Refused(key, max === U32_MAX ? `${what} must be a whole number, ${min} or more.` : n);
}

function atLeast(v: MomentValues, key: Key, min: number, what: string): number {
  const n = decimalNumber(v[key], min, Number.MAX_VALUE, what);
  if (typeof n === "number") return n;
  throw new Refused(key, `${what} must be a number, ${formatNumber(min)} or more.`);
}

function words(v: MomentValues, key: Key, what: string): string[] {
  const list = splitList(v[key]);
  const max = LIMITS.momentWordsMax;
  const chars = LIMITS.momentWordMaxChars;
  if (list.length > max) throw new Refused(key, `At most ${max} ${what}, please (this has ${list.length}).`);
  const long = list.find((w) => [...w].length > chars);
  if (long) throw new Refused(key, `“${long}” is too long: ${what} are at most ${chars} characters.`);
  return list;
}

/** The checks Save runs (ranges from the core's limits); the core checks again. */
export function buildMoments(v: MomentValues): Built<MomentSettings, MomentValues> {
  const L = LIMITS;
  try {
    let velocity: VelocityRule;
    if (v.rule === "fixed") {
      const perSecond = atLeast(v, "perSecond", 0, "The fixed rate");
      if (perSecond <= 0) throw new Refused("perSecond", "The fixed rate must be a number above 0.");
      velocity = { rule: "fixed", perSecond };
    } else {
      velocity = {
        rule: "baseline",
        sigmas: atLeast(v, "sigmas", L.baselineSigmasMin, "Sigmas"),
        ratio: atLeast(v, "ratio", L.baselineRatioMin, "The ratio"),
        minPerSecond: atLeast(v, "floor", L.baselineFloorMin, "The floor"),
        halfLifeSeconds: whole(v, "halfLife", L.baselineHalfLifeMinSecs, U32_MAX, "The half-life (seconds)"),
        warmupSeconds: whole(v, "warmup", 0, L.baselineWarmupMaxSecs, "The warm-up (seconds)"),
      };
    }
    const windows = [L.momentWindowMinSecs, L.momentWindowMaxSecs] as const;
    return {
      update: {
        windowSeconds: whole(v, "window", ...windows, "The window (seconds)"),
        velocity,
        keywords: words(v, "keywords", "keywords"),
        keywordThreshold: whole(v, "keywordThreshold", 0, U32_MAX, "The keyword threshold"),
        textEmotes: words(v, "textEmotes", "text emotes"),
        emoteThreshold: whole(v, "emoteThreshold", 0, U32_MAX, "The emote threshold"),
        emoteWindowSeconds: whole(v, "emoteWindow", ...windows, "The emote window (seconds)"),
        mergeGapSeconds: whole(v, "mergeGap", 0, L.momentMergeGapMaxSecs, "The merge gap (seconds)"),
        support: {
          subs: whole(v, "subs", 0, U32_MAX, "Subs"),
          gifts: whole(v, "gifts", 0, U32_MAX, "Gifted subs"),
          raidViewers: whole(v, "raidViewers", 0, U32_MAX, "Raid viewers"),
          bits: whole(v, "bits", 0, U32_MAX, "Bits"),
        },
        viewerSpike: {
          ratio: spikeRatio(v),
          minIncrease: whole(v, "spikeIncrease", 0, L.viewerSpikeMinIncreaseMax, "The spike's increase"),
        },
      },
    };
  } catch (e) {
    if (!(e instanceof Refused)) throw e;
    return { error: { code: "InvalidSettings", message: e.message }, field: e.field };
  }
}

const NUMBER_KEYS: ReadonlySet<Key> = new Set([
  "window",
  "sigmas",
  "ratio",
  "floor",
  "halfLife",
  "warmup",
  "perSecond",
  "keywordThreshold",
  "emoteThreshold",
  "emoteWindow",
  "mergeGap",
  "subs",
  "gifts",
  "raidViewers",
  "bits",
  "spikeRatio",
  "spikeIncrease",
]);

/** A field's number; NaN when empty or not a number. */
function num(text: string): number {
  const t = text.trim();
  return t === "" ? NaN : Number(t);
}

/** Whether a field holds something other than its saved value (numbers as numbers, lists
 *  cleaned), not just different text. */
function edited(key: Key, v: MomentValues, saved: MomentValues, dirty: ReadonlySet<string>): boolean {
  if (!dirty.has(key)) return false;
  const a = v[key].trim();
  if (NUMBER_KEYS.has(key)) return a === "" || Number(a) !== Number(saved[key]);
  if (key === "keywords" || key === "textEmotes") return joinList(splitList(a)) !== saved[key];
  return a !== saved[key];
}

const VELOCITY_KEYS: readonly Key[] = ["rule", "sigmas", "ratio", "floor", "halfLife", "warmup", "perSecond"];

/** The form's unsaved values that change the live preview (null when there are none). */
export function momentDraft(v: MomentValues, dirty: ReadonlySet<string>, s: MomentSettings): Parameters<typeof previewParts>[2] {
  const saved = momentFields(s);
  const velocity: VelocityDraft | null = VELOCITY_KEYS.some((k) => edited(k, v, saved, dirty))
    ? {
        rule: v.rule === "fixed" ? "fixed" : "baseline",
        sigmas: num(v.sigmas),
        ratio: num(v.ratio),
        floor: num(v.floor),
        perSecond: num(v.perSecond),
      }
    : null;
  const count = (key: Key): number | null => {
    const n = edited(key, v, saved, dirty) ? num(v[key]) : NaN;
    return Number.isInteger(n) && n >= 0 ? n : null;
  };
  const keywordThreshold = count("keywordThreshold");
  const emoteThreshold = count("emoteThreshold");
  if (!velocity && keywordThreshold === null && emoteThreshold === null) return null;
  return { velocity, keywordThreshold, emoteThreshold };
}

/** The support signals switched on, in words: "subs ≥ 3, gifts ≥ 5, raids ≥ 10 viewers". */
function supportRules(s: MomentSettings): string[] {
  const r = s.support;
  const on: string[] = [];
  if (r.subs > 0) on.push(`subs ≥ ${r.subs}`);
  if (r.gifts > 0) on.push(`gifted subs ≥ ${r.gifts}`);
  if (r.raidViewers > 0) on.push(`raids ≥ ${r.raidViewers} viewers`);
  if (r.bits > 0) on.push(`bits ≥ ${r.bits}`);
  return on;
}

/** "baseline ×2 · 7 keywords · 7 text emotes · 4 support signals". */
export function settingsSummary(s: MomentSettings): string {
  const v = s.velocity;
  const how = v.rule === "fixed" ? `fixed ${formatNumber(v.perSecond)} msg/s` : `baseline ×${formatNumber(v.ratio)}`;
  const kw = s.keywordThreshold > 0 ? `${s.keywords.length} keyword${s.keywords.length === 1 ? "" : "s"}` : "keywords off";
  const em = s.emoteThreshold > 0 ? `${s.textEmotes.length} text emote${s.textEmotes.length === 1 ? "" : "s"}` : "emotes off";
  const n = supportRules(s).length;
  const support = n > 0 ? `${n} support signal${n === 1 ? "" : "s"}` : "support off";
  return `${how} · ${kw} · ${em} · ${support}`;
}

/** The summary's tooltip: every rule in words. */
export function settingsTitle(s: MomentSettings): string {
  const v = s.velocity;
  const rule =
    v.rule === "fixed"
      ? `velocity fires above ${formatNumber(v.perSecond)} msg/s`
      : `velocity fires above max(baseline + ${formatNumber(v.sigmas)}σ, baseline ×${formatNumber(v.ratio)}, ${formatNumber(v.minPerSecond)} msg/s)`;
  const kw = s.keywordThreshold > 0 ? `${s.keywordThreshold} keyword messages` : "keywords off";
  const em = s.emoteThreshold > 0 ? `${s.emoteThreshold}× the same emote within ${s.emoteWindowSeconds} s` : "emotes off";
  const support = supportRules(s);
  const sp = support.length > 0 ? `support: ${support.join(", ")}` : "support off";
  const spike =
    s.viewerSpike.ratio > 0
      ? `viewer spike at ×${formatNumber(s.viewerSpike.ratio)} and +${s.viewerSpike.minIncrease} viewers`
      : "viewer spike off";
  return `Moments: ${rule} over ${s.windowSeconds} s; ${kw}; ${em}; ${sp}; ${spike}; merged within ${s.mergeGapSeconds} s`;
}
