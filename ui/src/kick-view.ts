// The Kick strip: a second chat (Kick) that runs beside the main one (demo or Twitch), with its
// own connect/disconnect, state, message count and a small velocity graph (with the Kick
// session's moments as markers). The main chat is untouched by anything here.

import { type ApiError, type ChatState, commands } from "./bindings";
import { $, setAttr, setOptAttr, setText, show } from "./dom";
import { VelocityGraph } from "./graph";
import { applyKickState, type Cache, currentRate, hasSession } from "./state";

export const kdom = {
  panel: $("kick-panel"),
  input: $<HTMLInputElement>("kick-channel-input"),
  connect: $<HTMLButtonElement>("kick-connect-btn"),
  disconnect: $<HTMLButtonElement>("kick-disconnect-btn"),
  state: $("kick-state"),
  error: $("kick-error"),
  total: $("kick-msg-total"),
  rate: $("kick-rate"),
  graph: $("kick-graph"),
  empty: $("kick-graph-empty"),
};

const ui = {
  busy: false,
  error: null as ApiError | null,
};

let rerender: () => void = () => {};
let cacheRef: Cache | null = null;
let graph: VelocityGraph | null = null;

function toApiError(e: unknown): ApiError {
  if (e && typeof e === "object" && "code" in e && "message" in e) return e as ApiError;
  return { code: "Internal", message: String(e) };
}

/** Applies a command's returned state unless an event already moved the state on. */
function applyReturned(cache: Cache, state: ChatState, versionBefore: number): void {
  if (cache.kick.version === versionBefore) applyKickState(cache, state);
}

async function connect(): Promise<void> {
  const cache = cacheRef;
  if (!cache || ui.busy || hasSession(cache.kick.chat)) return;
  const channel = kdom.input.value.trim();
  if (channel === "") {
    ui.error = { code: "InvalidChannel", message: "Type a Kick channel name, its kick.com link, or its chatroom id." };
    rerender();
    kdom.input.focus();
    return;
  }
  ui.busy = true;
  ui.error = null;
  rerender();
  const version = cache.kick.version;
  try {
    const res = await commands.chatConnect({ kind: "kick", channel });
    if (res.status === "ok") applyReturned(cache, res.data, version);
    else ui.error = res.error;
  } catch (e) {
    ui.error = toApiError(e);
  } finally {
    ui.busy = false;
    rerender();
  }
}

async function disconnect(): Promise<void> {
  const cache = cacheRef;
  if (!cache || ui.busy) return;
  ui.busy = true;
  ui.error = null;
  rerender();
  const version = cache.kick.version;
  try {
    const res = await commands.kickDisconnect();
    if (res.status === "ok") applyReturned(cache, res.data, version);
    else ui.error = res.error;
  } catch (e) {
    ui.error = toApiError(e);
  } finally {
    ui.busy = false;
    rerender();
  }
}

export function initKick(cache: Cache, redraw: () => void): void {
  cacheRef = cache;
  rerender = redraw;
  graph = new VelocityGraph(kdom.graph, null, "kick-moment-markers");
  kdom.connect.addEventListener("click", () => void connect());
  kdom.disconnect.addEventListener("click", () => void disconnect());
  kdom.input.addEventListener("input", () => {
    if (ui.error) {
      ui.error = null;
      rerender();
    }
  });
  kdom.input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.isComposing) {
      e.preventDefault();
      void connect();
    }
  });
}

/** The state chip's text and tooltip. */
function describe(chat: ChatState, nowMs: number): { text: string; title: string } {
  switch (chat.state) {
    case "disconnected":
      return { text: "Not connected", title: "No Kick chat: type a channel and press Connect" };
    case "connecting":
      return { text: `Connecting to ${chat.channel}…`, title: `kick.com/${chat.channel}` };
    case "connected":
      return { text: `Connected to ${chat.channel}`, title: `kick.com/${chat.channel} · session ${chat.sessionId}` };
    case "reconnecting": {
      const secs = Math.max(0, Math.ceil((chat.retryAtMs - nowMs) / 1000));
      return {
        text: secs > 0 ? `Reconnecting in ${secs} s` : "Reconnecting now…",
        title: `${chat.reason} · attempt ${chat.attempt}`,
      };
    }
    case "failed":
      return { text: `Failed: ${chat.message}`, title: chat.message };
  }
}

export function renderKick(cache: Cache, nowMs: number): void {
  const k = cache.kick;
  const session = hasSession(k.chat);
  setAttr(kdom.panel, "data-state", k.chat.state);
  kdom.input.disabled = session || ui.busy;
  show(kdom.connect, !session);
  show(kdom.disconnect, session);
  kdom.connect.disabled = ui.busy;
  kdom.disconnect.disabled = ui.busy;
  setAttr(kdom.panel, "aria-busy", String(ui.busy));
  // While a session is open the input shows its channel (unless the streamer typed something).
  if (session && k.chat.state !== "disconnected" && kdom.input.value.trim() === "" && document.activeElement !== kdom.input) {
    kdom.input.value = k.chat.channel;
  }

  const d = describe(k.chat, nowMs);
  setAttr(kdom.state, "data-state", k.chat.state);
  setText(kdom.state, d.text);
  setAttr(kdom.state, "title", d.title);

  show(kdom.error, ui.error !== null);
  setOptAttr(kdom.error, "data-code", ui.error?.code ?? null);
  setText(kdom.error, ui.error?.message ?? "");
  kdom.input.classList.toggle("invalid", ui.error !== null);
  setAttr(kdom.input, "aria-invalid", String(ui.error !== null));

  setText(kdom.total, String(k.counters.messages));
  setText(kdom.rate, currentRate(k.velocity).toFixed(1));

  const noData = !session && !k.velocity.some((p) => p.count > 0);
  show(kdom.empty, noData);
  if (graph) {
    graph.setPoints(k.velocity);
    graph.setMoments(noData ? [] : k.moments);
  }
}
