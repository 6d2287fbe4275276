// The overlay's look, from its URL (the streamer types it into OBS's browser source):
//   ?show=now,queue,moment,watch   which sections (default all; "next" = "queue", "watching" =
//                            "watch"; unknown names ignored)
//   &theme=dark|light        panel colours (default dark)
//   &scale=1.5               text size, 0.5–3 (default 1)
// A pure parser: anything it does not understand falls back to the default, so a typo never
// blanks the overlay, and no value reaches the page except one of these known ones (the scale
// is a clamped number).

/** The overlay's sections, in the order they are drawn. */
export type Section = "watch" | "now" | "queue" | "moment";
export const SECTIONS: readonly Section[] = ["watch", "now", "queue", "moment"];

export type OverlayTheme = "dark" | "light";

export interface OverlayParams {
  /** Never empty. */
  show: ReadonlySet<Section>;
  theme: OverlayTheme;
  /** Within [MIN_SCALE, MAX_SCALE]. */
  scale: number;
}

export const MIN_SCALE = 0.5;
export const MAX_SCALE = 3;

/** The names `show` accepts (lower case), and the section each means. A Map, so that names
 *  like "constructor" or "__proto__" mean nothing. */
const SECTION_NAMES: ReadonlyMap<string, Section> = new Map([
  ["now", "now"],
  ["queue", "queue"],
  ["next", "queue"],
  ["moment", "moment"],
  ["watch", "watch"],
  ["watching", "watch"],
]);

/** A plain decimal number ("1", "1.5", ".75", "2e0"): no hex, no "Infinity", no units. */
const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?$/i;

/**
 * Reads the overlay's parameters from a query string (`location.search`, with or without the
 * "?"). `show` may repeat (the sections of all of them are shown); for `theme` and `scale` the
 * first occurrence counts, as `URLSearchParams.get` reads it.
 */
export function parseParams(search: string): OverlayParams {
  const q = new URLSearchParams(search);
  return { show: parseShow(q.getAll("show")), theme: parseTheme(q.get("theme")), scale: parseScale(q.get("scale")) };
}

/** The named sections; all of them when none is named (absent, empty, or only unknown names). */
export function parseShow(values: readonly string[]): ReadonlySet<Section> {
  const show = new Set<Section>();
  for (const value of values) {
    for (const name of value.split(",")) {
      const section = SECTION_NAMES.get(name.trim().toLowerCase());
      if (section !== undefined) show.add(section);
    }
  }
  return show.size > 0 ? show : new Set(SECTIONS);
}

export function parseTheme(value: string | null): OverlayTheme {
  return value?.trim().toLowerCase() === "light" ? "light" : "dark";
}

/** A decimal number clamped to [MIN_SCALE, MAX_SCALE] (1e9 → 3, -1 → 0.5); 1 when absent or
 *  not a plain number. */
export function parseScale(value: string | null): number {
  const v = value?.trim() ?? "";
  if (!DECIMAL.test(v)) return 1;
  return Math.min(MAX_SCALE, Math.max(MIN_SCALE, Number(v)));
}
