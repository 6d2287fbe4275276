// Chat connections in words: the state pill's text for each chat slot, the tone of its dot,
// which notice is which (so a dismissed one stays dismissed), and what the connection bar
// shows on load. Pure functions over the core's types, plus one helper (at the end) that
// applies a command's reply to the cache.

import type { ChatPlatform, ChatState, Notice } from "./bindings";
import { applyChatState, type ChatSlot } from "./state";
import { cache, update } from "./store";

/** The main chat's source buttons. */
export type Source = "demo" | "twitch";

/** A `data-tone` value (base.css colours chips and dots by it); undefined = neutral. */
export type Tone = "ok" | "warn" | "err" | "accent" | "data" | undefined;

/** Identifies a notice across snapshots, so a dismissed one stays dismissed after a resync. */
export function noticeKey(n: Notice): string {
  return `${n.code}\u0000${n.message}`;
}

/** How a channel is named in the status: the demo is not a Twitch channel, Kick has no `#`. */
export function channelLabel(platform: ChatPlatform, channel: string): string {
  if (platform === "demo") return "demo chat";
  return platform === "kick" ? channel : `#${channel}`;
}

/** A chat's name for a heading: "Demo chat", "Twitch #shroud", "Kick xqc"; null when none. */
export function chatName(chat: ChatState): string | null {
  if (chat.state === "disconnected") return null;
  if (chat.platform === "demo") return "Demo chat";
  return chat.platform === "kick" ? `Kick ${chat.channel}` : `Twitch #${chat.channel}`;
}

/** The dot's colour for a state. */
export function chatTone(chat: ChatState): Tone {
  switch (chat.state) {
    case "connected":
      return "ok";
    case "connecting":
      return "accent";
    case "reconnecting":
      return "warn";
    case "failed":
      return "err";
    case "disconnected":
      return undefined;
  }
}

/** What a state pill says: its text, its tooltip and a detail line. */
export interface ChatDescription {
  text: string;
  title: string;
  detail: string;
}

/** A pill's tooltip: its `title`, or its text with the detail ("Connected to #x · Session 7"). */
export function chatTooltip(d: ChatDescription): string {
  return d.title || [d.text, d.detail].filter(Boolean).join(" · ");
}

/** "Reconnecting in 4 s" / "Reconnecting now…": the countdown (re-rendered every second). */
function reconnectText(retryAtMs: number, nowMs: number): string {
  const secs = Math.max(0, Math.ceil((retryAtMs - nowMs) / 1000));
  return secs > 0 ? `Reconnecting in ${secs} s` : "Reconnecting now…";
}

/** The main chat's (demo or Twitch) state pill. */
export function describeChat(chat: ChatState, nowMs: number): ChatDescription {
  switch (chat.state) {
    case "disconnected":
      return { text: "Disconnected", title: "Not connected to any chat", detail: "" };
    case "connecting":
      return { text: `Connecting to ${channelLabel(chat.platform, chat.channel)}…`, title: "", detail: "" };
    case "connected":
      return {
        text: `Connected to ${channelLabel(chat.platform, chat.channel)}`,
        title: "",
        detail: `Session ${chat.sessionId}`,
      };
    case "reconnecting":
      return {
        text: reconnectText(chat.retryAtMs, nowMs),
        title: `${channelLabel(chat.platform, chat.channel)}: ${chat.reason} · attempt ${chat.attempt}`,
        detail: `${chat.reason} · attempt ${chat.attempt}`,
      };
    case "failed": {
      const what = chat.failure === "AuthFailed" ? "Twitch refused the login" : chat.message;
      return { text: `Failed: ${what}`, title: chat.message, detail: chat.message };
    }
  }
}

/** The Kick chat's state pill. */
export function describeKickChat(chat: ChatState, nowMs: number): ChatDescription {
  switch (chat.state) {
    case "disconnected":
      return { text: "Not connected", title: "No Kick chat: type a channel and press Connect", detail: "" };
    case "connecting":
      return { text: `Connecting to ${chat.channel}…`, title: `kick.com/${chat.channel}`, detail: "" };
    case "connected":
      return {
        text: `Connected to ${chat.channel}`,
        title: `kick.com/${chat.channel} · session ${chat.sessionId}`,
        detail: `Session ${chat.sessionId}`,
      };
    case "reconnecting":
      return {
        text: reconnectText(chat.retryAtMs, nowMs),
        title: `${chat.reason} · attempt ${chat.attempt}`,
        detail: `${chat.reason} · attempt ${chat.attempt}`,
      };
    case "failed":
      return { text: `Failed: ${chat.message}`, title: chat.message, detail: chat.message };
  }
}

/** A chat strip's short state (its heading already names the chat): "Connected",
 *  "Reconnecting in 4 s", "Failed"; the full description goes in the tooltip. */
export function shortState(chat: ChatState, nowMs: number): string {
  switch (chat.state) {
    case "disconnected":
      return "Not connected";
    case "connecting":
      return "Connecting…";
    case "connected":
      return "Connected";
    case "reconnecting":
      return reconnectText(chat.retryAtMs, nowMs);
    case "failed":
      return "Failed";
  }
}

/** What the connection bar shows on the first snapshot. */
export interface SourceOnLoad {
  source: Source;
  /** Put this in the channel field (only when it is empty, for an open session). */
  channel?: string;
  /** The channel is the open session's, so it is known to be valid. */
  valid?: boolean;
  /** Ask the core whether `channel` is valid (a configured default). */
  validate?: boolean;
}

/**
 * On first load: if a session is already open (the window was reloaded), show its source and
 * channel; otherwise pre-fill the configured default channel (`chat.default_channel`), if any.
 * Null: leave the bar as it is (Demo).
 */
export function sourceOnLoad(chat: ChatState, defaultChannel: string): SourceOnLoad | null {
  if (chat.state === "disconnected") {
    return defaultChannel !== "" ? { source: "twitch", channel: defaultChannel, validate: true } : null;
  }
  if (chat.platform === "demo") return { source: "demo" };
  return { source: "twitch", channel: chat.channel, valid: true };
}

// ---- Command replies ---------------------------------------------------------------------------

/** The slot's version now: read before sending a connect/disconnect. */
export function chatVersion(slot: ChatSlot): number {
  return cache.chats[slot].version;
}

/**
 * Applies the state a connect/disconnect returned, unless an event already moved the slot's
 * state on since the command was sent (`versionBefore`): events say the same, this only avoids
 * a stale flash before they arrive.
 */
export function applyReturnedChatState(slot: ChatSlot, state: ChatState, versionBefore: number): void {
  if (cache.chats[slot].version !== versionBefore) return;
  // A new main session also starts the queue's counters from zero (as the event does).
  update(slot === "main" ? ["main", "queue"] : [slot], (c) => applyChatState(c, slot, state));
}
