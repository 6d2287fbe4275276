// The AI co-host as the window shows it (the Co-host card, and Settings → Co-host): its state in
// words, the counters line, a draft's texts and whether Send can work, what an edit sends, and
// adopting a command's reply (a `cohost` event itself is state.ts's: it replaces the status).
// Pure functions over plain data; no DOM.

import type {
  CohostBackend,
  CohostCounters,
  CohostDraft,
  CohostMode,
  CohostSettings,
  CohostStatus,
  CohostTrigger,
} from "./bindings";
import { clock, clockShort, formatCount, formatLatency } from "./format";
import type { Cache } from "./state";

export const MODE_LABEL: Readonly<Record<CohostMode, string>> = {
  approval: "Approval",
  auto: "Auto",
};

export const MODE_HINT: Readonly<Record<CohostMode, string>> = {
  approval: "Approval: each answer waits here as a draft until you Send, Edit or Discard it",
  auto: "Auto: answers go to chat at once (still through the sanitiser and the chat limit)",
};

export const BACKEND_LABEL: Readonly<Record<CohostBackend, string>> = {
  demo: "Demo responder (offline)",
  openAiCompatible: "OpenAI-compatible endpoint",
};

export const TRIGGER_LABEL: Readonly<Record<CohostTrigger, string>> = {
  mention: "mention",
  command: "command",
  keyword: "keyword",
  quiet: "quiet chat",
};

const TRIGGER_HINT: Readonly<Record<CohostTrigger, string>> = {
  mention: "The viewer named the co-host or @mentioned it",
  command: "The viewer used an ask command (e.g. !ask)",
  keyword: "The line had one of the co-host's keywords",
  quiet: "Chat was quiet: the co-host was prompted to say something",
};

/** Why a Kick draft has no Send: Kick chat is read-only here. */
export const KICK_READ_ONLY = "Kick chat is read-only: shown here, not sent";
/** Longest edit: Twitch's message limit (the outgoing sanitiser's `MAX_MESSAGE_CHARS`, which also
 *  caps Settings → Co-host's answer length); the core would cut anything longer. */
export const EDIT_MAX_CHARS = 500;
/** Why a draft of a read-only main chat (the demo, or not logged in) has no Send. */
export const CHAT_READ_ONLY = "This chat is read-only (the demo, or not logged in): the draft cannot be sent";

// ---- A command's reply ------------------------------------------------------------------------

/**
 * Adopts the status a command (Send, Discard, settings, API key) replied with, unless a `cohost`
 * event changed the slice since the command was sent (`versionBefore`): that event is at least
 * as new as the reply.
 */
export function adoptCohostStatus(cache: Cache, status: CohostStatus, versionBefore: number): void {
  if (cache.versions.cohost !== versionBefore) return;
  cache.cohost = status;
}

// ---- The card's head and counters -------------------------------------------------------------

/** The co-host listens to chat. */
export function cohostOn(st: CohostStatus | null): boolean {
  return st?.settings.enabled === true;
}

/** The server's host for a short line ("127.0.0.1:11434"); the text itself if it is no URL. */
function hostOf(url: string): string {
  const t = url.trim();
  try {
    return new URL(t).host || t;
  } catch {
    return t;
  }
}

/** Where answers come from, in a few words: "Demo responder (offline)", "llama3.2 · 127.0.0.1:11434". */
export function backendText(s: CohostSettings): string {
  if (s.backend === "demo") return BACKEND_LABEL.demo;
  return `${s.model.trim() || "no model"} · ${hostOf(s.baseUrl)}`;
}

/** Its tooltip: the full address. */
export function backendTitle(s: CohostSettings): string {
  if (s.backend === "demo") return "Canned, deterministic answers marked “(demo co-host)”: no model, no network";
  return `Model ${s.model.trim() || "(none)"} on the OpenAI-compatible server at ${s.baseUrl.trim()}`;
}

/** A latency: "840 ms", "2.1 s"; "–" while there is none (the core sends 0). */
export function latencyText(ms: number): string {
  return ms > 0 ? formatLatency(ms) : "–";
}

/** One item of the counters line. */
export interface CounterItem {
  key: string;
  label: string;
  value: string;
  title: string;
  /** Dimmed (nothing yet). */
  zero: boolean;
}

/** The counters line: answered, failed, drafts sent / edited / discarded, auto-sent (auto mode or
 *  when any), p50 / p95 latency, tokens. Everything else is in the tooltips. */
export function counterItems(st: CohostStatus): CounterItem[] {
  const c: CohostCounters = st.counters;
  const n = (key: string, label: string, value: number, title: string): CounterItem => ({
    key,
    label,
    value: formatCount(value),
    title,
    zero: value === 0,
  });
  const items = [
    n("answered", "Answered", c.answered, `Answers the model gave (all time) · ${c.rejected} refused by the processor (echo, repeat, filter, empty)`),
    n(
      "failed",
      "Failed",
      c.failed,
      `Requests to the model that failed · ${c.limited} answers not sent because the chat limit's room was used up · ` +
        `${c.linesDropped} chat lines not taken in because the co-host was behind`,
    ),
    n("sent", "Sent", c.draftsSent, `Drafts you sent (all time), edited ones included · ${c.draftsExpired} expired unanswered`),
    n("edited", "Edited", c.draftsEdited, "Drafts you edited before sending"),
    n("discarded", "Discarded", c.draftsDiscarded, "Drafts you discarded"),
  ];
  if (st.settings.mode === "auto" || c.autoSent > 0) {
    items.push(n("auto", "Auto", c.autoSent, "Answers sent to chat at once in auto mode"));
  }
  const none = st.latencyP50Ms <= 0;
  items.push(
    { key: "p50", label: "p50", value: latencyText(st.latencyP50Ms), title: "Median time the model took over the recent answers", zero: none },
    { key: "p95", label: "p95", value: latencyText(st.latencyP95Ms), title: "95th percentile of the model's time over the recent answers", zero: none },
  );
  const tokens = c.promptTokens + c.completionTokens;
  items.push(
    n("tokens", "Tokens", tokens, `${formatCount(c.promptTokens)} prompt + ${formatCount(c.completionTokens)} completion tokens (all time, as the server reported them)`),
  );
  return items;
}

/** The last failure (the core's sentence, with its next step) and when; null when none. */
export function lastErrorText(st: CohostStatus): { text: string; at: string | null } | null {
  if (!st.lastError) return null;
  return { text: st.lastError, at: st.lastErrorMs !== null ? clock(st.lastErrorMs) : null };
}

/** The empty list's line, by mode. */
export function emptyDraftsText(st: CohostStatus): string {
  const ask = st.settings.askCommands[0];
  const how = ask ? `mention the co-host or type ${ask}` : "mention the co-host";
  return st.settings.mode === "approval"
    ? `No drafts. When viewers ${how}, answers wait here for you.`
    : `Auto mode: answers go to chat at once. Viewers ${how}.`;
}

// ---- Drafts ------------------------------------------------------------------------------------

/** Why Send cannot work for this draft (null when it can). Kick's are only shown, never sent. */
export function sendBlocked(d: CohostDraft): string | null {
  if (d.slot === "kick") return KICK_READ_ONLY;
  return d.sendable ? null : CHAT_READ_ONLY;
}

/** Who asked: the viewer, or "Quiet chat" for a quiet-chat prompt. */
export function draftWho(d: CohostDraft): string {
  return d.viewer || "Quiet chat";
}

/** Where: "#channel" (the main chat), "Kick channel". */
export function draftWhere(d: CohostDraft): string {
  return d.slot === "kick" ? `Kick ${d.channel}` : `#${d.channel}`;
}

export function triggerHint(t: CohostTrigger): string {
  return TRIGGER_HINT[t];
}

/** The expiry as a fixed clock time ("until 14:05"), never a countdown; null when it has none. */
export function expiresText(d: CohostDraft): { text: string; title: string } | null {
  if (!(d.expiresMs > 0)) return null;
  return {
    text: `until ${clockShort(d.expiresMs)}`,
    title: `Expires at ${clock(d.expiresMs)} unless you Send or Discard it (drafted at ${clock(d.createdMs)})`,
  };
}

/**
 * What Send sends after an edit: `null` for the answer as drafted (the text is unchanged), else
 * the edited text, trimmed; or why not (an empty edit).
 */
export function editedText(d: CohostDraft, typed: string): { text: string | null } | { error: string } {
  const t = typed.trim();
  if (t === "") return { error: "The edited answer is empty: write something or Discard." };
  return { text: t === d.answer.trim() ? null : t };
}

/** Every field equal: a `cohost` event sends new objects, and an unchanged row must not redraw. */
export function sameDraft(a: CohostDraft, b: CohostDraft): boolean {
  return (
    a.id === b.id &&
    a.slot === b.slot &&
    a.channel === b.channel &&
    a.viewer === b.viewer &&
    a.question === b.question &&
    a.answer === b.answer &&
    a.trigger === b.trigger &&
    a.latencyMs === b.latencyMs &&
    a.createdMs === b.createdMs &&
    a.expiresMs === b.expiresMs &&
    a.sendable === b.sendable
  );
}
