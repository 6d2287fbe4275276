// DOM rendering: turns the core cache plus the window's own UI state into the page.
// Idempotent and cheap; it only writes what changed, and never touches the input's value.

import type { ChatPlatform, ChatState, Notice } from "./bindings";
import { $, setAttr, setText, show } from "./dom";
import { type QueueUiState, renderQueue } from "./queue-view";
import { type Cache, currentRate, hasSession, peakRate } from "./state";

export type Source = "demo" | "twitch";

/** State that belongs to the window, not to the core. */
export interface UiState {
  source: Source;
  /** Validation message for the channel input ("" when valid or empty). */
  channelError: string;
  /** The input holds a channel the core accepted. */
  channelValid: boolean;
  /** A command (connect/disconnect) is in flight. */
  busy: boolean;
  /** Inline error from the last failed command ("" when none). */
  commandError: string;
  /** Notices the streamer closed, by `noticeKey`. */
  dismissed: Set<string>;
  /** Full-window error: the engine is not usable. */
  fatal: { title: string; explain: string; message: string } | null;
  /** The queue panel's own state (actions in flight, Clear's confirm step, its errors). */
  queue: QueueUiState;
}

export const dom = {
  fatal: $("fatal"),
  fatalTitle: $("fatal-title"),
  fatalExplain: $("fatal-explain"),
  fatalMessage: $("fatal-message"),
  fatalRetry: $<HTMLButtonElement>("fatal-retry"),
  sourceDemo: $<HTMLButtonElement>("source-demo"),
  sourceTwitch: $<HTMLButtonElement>("source-twitch"),
  channelField: $("channel-field"),
  channelInput: $<HTMLInputElement>("channel-input"),
  channelError: $("channel-error"),
  connectBtn: $<HTMLButtonElement>("connect-btn"),
  disconnectBtn: $<HTMLButtonElement>("disconnect-btn"),
  chatState: $("chat-state"),
  chatDetail: $("chat-detail"),
  commandError: $("command-error"),
  notices: $("notices"),
  msgRate: $("msg-rate"),
  msgPeak: $("msg-peak"),
  msgTotal: $("msg-total"),
  malformed: $("malformed-count"),
  reconnects: $("reconnect-count"),
  graph: $("velocity-graph"),
  graphHover: $("graph-hover"),
  graphEmpty: $("graph-empty"),
  graphEmptyTitle: $("graph-empty-title"),
  graphEmptyText: $("graph-empty-text"),
  pathConfig: $("path-config"),
  pathDb: $("path-db"),
  pathLogs: $("path-logs"),
  keyring: $("keyring-status"),
};

/** Identifies a notice across snapshots, so a dismissed one stays dismissed after a resync. */
export function noticeKey(n: Notice): string {
  return `${n.code}\u0000${n.message}`;
}

/** How a channel is named in the status: the demo is not a Twitch channel. */
export function channelLabel(platform: ChatPlatform, channel: string): string {
  return platform === "demo" ? "demo chat" : `#${channel}`;
}

/** The state pill's text, its tooltip and the small line under it. */
export function describeChat(chat: ChatState, nowMs: number): { text: string; title: string; detail: string } {
  switch (chat.state) {
    case "disconnected":
      return { text: "Disconnected", title: "Not connected to any chat", detail: "" };
    case "connecting":
      return { text: `Connecting to ${channelLabel(chat.platform, chat.channel)}…`, title: "", detail: "" };
    case "connected":
      return { text: `Connected to ${channelLabel(chat.platform, chat.channel)}`, title: "", detail: `Session ${chat.sessionId}` };
    case "reconnecting": {
      const secs = Math.max(0, Math.ceil((chat.retryAtMs - nowMs) / 1000));
      return {
        text: secs > 0 ? `Reconnecting in ${secs} s` : "Reconnecting now…",
        title: `${channelLabel(chat.platform, chat.channel)}: ${chat.reason}`,
        detail: `${chat.reason} · attempt ${chat.attempt}`,
      };
    }
    case "failed": {
      const what = chat.failure === "AuthFailed" ? "Twitch refused the login" : chat.message;
      return { text: `Failed: ${what}`, title: chat.message, detail: chat.message };
    }
  }
}

let renderedNotices = "";

function renderNotices(notices: readonly Notice[], dismissed: Set<string>, onDismiss: (key: string) => void): void {
  const visible = notices.filter((n) => !dismissed.has(noticeKey(n)));
  const signature = visible.map(noticeKey).join("\u0001");
  if (signature === renderedNotices) return;
  renderedNotices = signature;
  const items = visible.map((n) => {
    const item = document.createElement("div");
    item.className = `notice notice-${n.level.toLowerCase()}`;
    item.dataset.code = n.code;
    item.dataset.level = n.level;
    item.setAttribute("role", n.level === "Info" ? "status" : "alert");
    const badge = document.createElement("span");
    badge.className = "notice-badge";
    badge.textContent = n.level === "Info" ? "Info" : n.level === "Warning" ? "Warning" : "Error";
    const text = document.createElement("span");
    text.className = "notice-text";
    text.textContent = n.message;
    const close = document.createElement("button");
    close.type = "button";
    close.className = "notice-close";
    close.setAttribute("aria-label", "Dismiss");
    close.title = "Dismiss";
    close.textContent = "×";
    close.addEventListener("click", () => onDismiss(noticeKey(n)));
    item.append(badge, text, close);
    return item;
  });
  dom.notices.replaceChildren(...items);
}

/** Draws everything except the graph canvas (see graph.ts). */
export function render(cache: Cache, ui: UiState, nowMs: number, onDismiss: (key: string) => void): void {
  // Full-window error.
  show(dom.fatal, ui.fatal !== null);
  document.body.classList.toggle("is-fatal", ui.fatal !== null);
  if (ui.fatal) {
    setText(dom.fatalTitle, ui.fatal.title);
    setText(dom.fatalExplain, ui.fatal.explain);
    setText(dom.fatalMessage, ui.fatal.message);
  }

  // Connection bar.
  const session = hasSession(cache.chat);
  const locked = session || ui.busy;
  setAttr(dom.sourceDemo, "aria-pressed", String(ui.source === "demo"));
  setAttr(dom.sourceTwitch, "aria-pressed", String(ui.source === "twitch"));
  dom.sourceDemo.disabled = locked;
  dom.sourceTwitch.disabled = locked;
  show(dom.channelField, ui.source === "twitch");
  dom.channelInput.disabled = locked;
  setText(dom.channelError, ui.channelError);
  dom.channelInput.classList.toggle("invalid", ui.channelError !== "");
  setAttr(dom.channelInput, "aria-invalid", String(ui.channelError !== ""));
  show(dom.connectBtn, !session);
  show(dom.disconnectBtn, session);
  dom.connectBtn.disabled = ui.busy || (ui.source === "twitch" && !ui.channelValid);
  dom.disconnectBtn.disabled = ui.busy;
  document.body.classList.toggle("is-busy", ui.busy);
  setText(dom.commandError, ui.commandError);

  // State pill.
  const d = describeChat(cache.chat, nowMs);
  setAttr(dom.chatState, "data-state", cache.chat.state);
  setText(dom.chatState, d.text);
  setAttr(dom.chatState, "title", d.title || d.text);
  setText(dom.chatDetail, d.detail);
  setAttr(dom.chatDetail, "title", d.detail);

  renderNotices(cache.notices, ui.dismissed, onDismiss);

  // Stat tiles.
  setText(dom.msgRate, currentRate(cache.velocity).toFixed(1));
  setText(dom.msgPeak, String(peakRate(cache.velocity)));
  setText(dom.msgTotal, String(cache.counters.messages));
  setText(dom.malformed, String(cache.counters.malformedLines));
  setText(dom.reconnects, String(cache.counters.reconnects));
  // (Not over a past session picked in the history picker: that one has its own graph.)
  show(dom.graphEmpty, !session && ui.fatal === null && cache.history === null && peakRate(cache.velocity) === 0);
  const failed = cache.chat.state === "failed";
  setText(dom.graphEmptyTitle, failed ? "Not receiving chat" : "No chat connected");
  setText(
    dom.graphEmptyText,
    failed ? "See the reason above, then press Connect to try again." : "Pick Demo or a Twitch channel above and press Connect.",
  );

  renderQueue(cache.queue, ui.queue, cache.chat, nowMs, cache.progress, cache.obs?.state ?? null);

  // Footer.
  if (cache.paths) {
    setText(dom.pathConfig, cache.paths.configFile);
    setAttr(dom.pathConfig, "title", cache.paths.configFile);
    setText(dom.pathDb, cache.paths.databaseFile);
    setAttr(dom.pathDb, "title", cache.paths.databaseFile);
    setText(dom.pathLogs, cache.paths.logDir);
    setAttr(dom.pathLogs, "title", cache.paths.logDir);
  }
  if (cache.keyringAvailable !== null) {
    setText(dom.keyring, cache.keyringAvailable ? "available" : "unavailable (read-only chat)");
  }
}
