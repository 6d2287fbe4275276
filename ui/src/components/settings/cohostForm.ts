// Settings → Co-host as form data: the field values a CohostStatus shows, the checks Save and
// Test connection run (the core's own ranges and words, src/cohost/settings.rs `check`; the core
// checks again, and compiles the filters), and the filters' one-per-line text. Pure; no DOM.

import { UI_LIMITS, type CohostFilter, type CohostSettings, type CohostStatus } from "../../bindings";
import { type Built, decimalNumber, wholeNumber } from "../../form";
import { joinList, splitList } from "../../moments";

/**
 * The ranges `check` in src/cohost/settings.rs refuses outside of, as [min, max] pairs, built
 * from the bindings' `UI_LIMITS.cohost` (the same constants the core checks against).
 */
const C = UI_LIMITS.cohost;
export const COHOST_LIMITS = {
  temperature: [0, C.temperatureMax],
  maxTokens: [1, C.maxTokensMax],
  timeoutSeconds: [1, C.timeoutMaxSecs],
  personaMaxChars: C.personaMaxChars,
  listMax: C.listMax,
  wordMaxChars: C.wordMaxChars,
  patternMaxChars: C.patternMaxChars,
  keywordChance: [0, 1],
  quietMinutes: [0, C.quietMinutesMax],
  cooldownSeconds: [0, C.cooldownMaxSecs],
  perMinute: [1, C.perMinuteMax],
  contextMessages: [0, C.contextMessagesMax],
  contextMinutes: [1, C.contextMinutesMax],
  draftExpirySeconds: [C.draftExpiryMinSecs, C.draftExpiryMaxSecs],
  reserveForQueue: [0, C.reserveForQueueMax],
  maxChars: [C.maxCharsMin, C.maxCharsMax],
} as const satisfies Record<string, number | readonly [number, number]>;

export type CohostValues = {
  enabled: boolean;
  backend: string;
  baseUrl: string;
  model: string;
  /** Secret: never filled from the core; empty keeps the saved key. */
  apiKey: string;
  stream: boolean;
  temperature: string;
  maxTokens: string;
  timeout: string;
  mode: string;
  draftExpiry: string;
  persona: string;
  names: string;
  askCommands: string;
  keywords: string;
  keywordChance: string;
  quietMinutes: string;
  cooldown: string;
  perMinute: string;
  ignore: string;
  contextMessages: string;
  contextMinutes: string;
  reserveForQueue: string;
  maxChars: string;
  truncation: string;
  stripMarkdown: boolean;
  filters: string;
};
type Key = keyof CohostValues;

/** What Save sends: the settings, then the API key when one was typed. */
export interface CohostUpdate {
  settings: CohostSettings;
  apiKey: string | null;
}

// ---- Filters: one per line ----------------------------------------------------------------------

/** One filter as a line: `word` (dropped when it appears as a whole word), `/regex/`, either
 *  followed by ` => replacement` (the match is replaced instead). */
export function filterLine(f: CohostFilter): string {
  const pattern = f.regex ? `/${f.pattern}/` : f.pattern;
  if (f.replaceWith === null) return pattern;
  return f.replaceWith === "" ? `${pattern} =>` : `${pattern} => ${f.replaceWith}`;
}

export function formatFilters(list: readonly CohostFilter[]): string {
  return list.map(filterLine).join("\n");
}

/** The filters the text holds (blank lines skipped), or why not. */
export function parseFilters(text: string): CohostFilter[] | string {
  const L = COHOST_LIMITS;
  const out: CohostFilter[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "") continue;
    const arrow = /^(.*?)\s*=>(?:\s+(.*))?$/.exec(line);
    const left = (arrow ? arrow[1]! : line).trim();
    const replaceWith = arrow ? (arrow[2] ?? "").trim() : null;
    const regex = left.length >= 2 && left.startsWith("/") && left.endsWith("/");
    const pattern = regex ? left.slice(1, -1) : left;
    if (pattern === "") return `“${line}” has no pattern: write a word, or a /regular expression/, before “=>”.`;
    if ([...pattern].length > L.patternMaxChars) {
      return `The filter “${pattern.slice(0, 30)}…” is longer than ${L.patternMaxChars} characters.`;
    }
    out.push({ pattern, regex, replaceWith });
  }
  if (out.length > L.listMax) return `At most ${L.listMax} filters (this has ${out.length}).`;
  return out;
}

// ---- Fields and checks ---------------------------------------------------------------------------

/** The fields of a CohostStatus (the key field is always empty: it is never shown back). */
export function cohostFields(st: CohostStatus): CohostValues {
  const s = st.settings;
  return {
    enabled: s.enabled,
    backend: s.backend,
    baseUrl: s.baseUrl,
    model: s.model,
    apiKey: "",
    stream: s.stream,
    temperature: String(s.temperature),
    maxTokens: String(s.maxTokens),
    timeout: String(s.timeoutSeconds),
    mode: s.mode,
    draftExpiry: String(s.draftExpirySeconds),
    persona: s.persona,
    names: joinList(s.names),
    askCommands: joinList(s.askCommands),
    keywords: joinList(s.keywords),
    keywordChance: String(s.keywordChance),
    quietMinutes: String(s.quietMinutes),
    cooldown: String(s.cooldownSeconds),
    perMinute: String(s.perMinute),
    ignore: joinList(s.ignore),
    contextMessages: String(s.contextMessages),
    contextMinutes: String(s.contextMinutes),
    reserveForQueue: String(s.reserveForQueue),
    maxChars: String(s.maxChars),
    truncation: s.truncation,
    stripMarkdown: s.stripMarkdown,
    filters: formatFilters(s.filters),
  };
}

class Refused extends Error {
  constructor(
    readonly field: Key,
    message: string,
  ) {
    super(message);
  }
}

type Range = readonly [number, number];

function whole(v: CohostValues, key: Key, [min, max]: Range, what: string): number {
  const n = wholeNumber(String(v[key]), min, max, what);
  if (typeof n === "string") throw new Refused(key, n);
  return n;
}

function decimal(v: CohostValues, key: Key, [min, max]: Range, what: string): number {
  const n = decimalNumber(String(v[key]), min, max, what);
  if (typeof n === "string") throw new Refused(key, n);
  return n;
}

/** A list of single words (names, commands, keywords, logins), as the core accepts them. */
function words(v: CohostValues, key: Key, what: string): string[] {
  const L = COHOST_LIMITS;
  const list = splitList(String(v[key]));
  if (list.length > L.listMax) throw new Refused(key, `At most ${L.listMax} ${what} (this has ${list.length}).`);
  const bad = list.find((w) => [...w].length > L.wordMaxChars || /\s/.test(w));
  if (bad !== undefined) {
    throw new Refused(key, `“${bad}” cannot be one of the ${what}: one word of 1–${L.wordMaxChars} characters, no spaces (separate them with commas).`);
  }
  return list;
}

/** The checks Save and Test connection run; the core checks again. */
export function buildCohost(v: CohostValues, saved: CohostStatus): Built<CohostUpdate, CohostValues> {
  const L = COHOST_LIMITS;
  try {
    const remote = v.backend === "openAiCompatible";
    const baseUrl = v.baseUrl.trim();
    if (remote && !/^https?:\/\//.test(baseUrl)) {
      throw new Refused(
        "baseUrl",
        `The server address must start with http:// or https:// (e.g. http://127.0.0.1:11434).`,
      );
    }
    if (remote && v.model.trim() === "") {
      throw new Refused("model", "Choose a model (Test connection lists the server's models).");
    }
    if ([...v.persona].length > L.personaMaxChars) {
      throw new Refused("persona", `The persona is longer than ${L.personaMaxChars} characters.`);
    }
    const filters = parseFilters(v.filters);
    if (typeof filters === "string") throw new Refused("filters", filters);
    const settings: CohostSettings = {
      ...saved.settings,
      enabled: v.enabled,
      backend: remote ? "openAiCompatible" : "demo",
      baseUrl,
      model: v.model.trim(),
      stream: v.stream,
      temperature: decimal(v, "temperature", L.temperature, "The temperature"),
      maxTokens: whole(v, "maxTokens", L.maxTokens, "Max tokens"),
      timeoutSeconds: whole(v, "timeout", L.timeoutSeconds, "The timeout (seconds)"),
      mode: v.mode === "auto" ? "auto" : "approval",
      draftExpirySeconds: whole(v, "draftExpiry", L.draftExpirySeconds, "The draft expiry (seconds)"),
      persona: v.persona.trim(),
      names: words(v, "names", "names"),
      askCommands: words(v, "askCommands", "ask commands"),
      keywords: words(v, "keywords", "keywords"),
      keywordChance: decimal(v, "keywordChance", L.keywordChance, "The keyword chance"),
      quietMinutes: whole(v, "quietMinutes", L.quietMinutes, "The quiet-chat prompt (minutes)"),
      cooldownSeconds: whole(v, "cooldown", L.cooldownSeconds, "The cooldown (seconds)"),
      perMinute: whole(v, "perMinute", L.perMinute, "The rate (answers a minute)"),
      ignore: words(v, "ignore", "ignored logins"),
      contextMessages: whole(v, "contextMessages", L.contextMessages, "The context (messages)"),
      contextMinutes: whole(v, "contextMinutes", L.contextMinutes, "The context (minutes)"),
      reserveForQueue: whole(v, "reserveForQueue", L.reserveForQueue, "The sends kept for the queue"),
      maxChars: whole(v, "maxChars", L.maxChars, "The answer length (characters)"),
      truncation: v.truncation === "hard" ? "hard" : "sentence",
      stripMarkdown: v.stripMarkdown,
      filters,
    };
    const key = v.apiKey.trim();
    return { update: { settings, apiKey: key === "" ? null : key } };
  } catch (e) {
    if (!(e instanceof Refused)) throw e;
    return { error: { code: "InvalidSettings", message: e.message }, field: e.field };
  }
}
