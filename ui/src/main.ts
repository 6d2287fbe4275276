// StreamCue window entry point: wires the core's commands and events to the cache, the view
// and the velocity graph. Subscribes before reading the snapshot so no event is missed.

import "./locale"; // first: fixes navigator.language before uPlot reads it
import "./style.css";
import {
  type ApiError,
  type ChatState,
  type ChatTarget,
  type CoreEvent,
  commands,
  events,
  type QueueAction,
} from "./bindings";
import { initAccount, renderAccount } from "./account";
import { initGenerator, renderGenerator } from "./generator-view";
import { initKick, renderKick } from "./kick-view";
import { initRecorder, renderRecorder } from "./recorder-view";
import { VelocityGraph } from "./graph";
import { initMoments, renderMoments } from "./moments-view";
import { initObs, renderObs } from "./obs-view";
import { isWaiting, waitingCount } from "./queue";
import { emptyQueueUi, qdom, type RowAction } from "./queue-view";
import { applyChatState, applyEvents, applySnapshot, emptyCache, hasSession, upsertQueueItem } from "./state";
import { dom, render, type Source, type UiState } from "./view";

/** Wait after the last keystroke before asking the core whether the channel is valid. */
const VALIDATE_DEBOUNCE_MS = 150;
/** How long Clear waits for its confirming second click. */
const CLEAR_CONFIRM_MS = 3000;

const cache = emptyCache();
const ui: UiState = {
  // Always starts on Demo: the core does not expose config.chat.default_channel yet.
  source: "demo",
  channelError: "",
  channelValid: false,
  busy: false,
  commandError: "",
  dismissed: new Set(),
  fatal: null,
  queue: emptyQueueUi(),
};
const graph = new VelocityGraph(dom.graph, dom.graphHover);

/** Re-renders the page and hands the graph its (possibly new) points. */
function refresh(): void {
  render(cache, ui, Date.now(), dismissNotice);
  renderAccount(cache.account, cache.twitchClientIdSet, Date.now());
  renderGenerator(cache);
  renderObs(cache, Date.now());
  renderKick(cache, Date.now());
  renderRecorder(cache);
  // The graph shows the live session or a past one picked in the history picker.
  renderMoments(cache);
}

function dismissNotice(key: string): void {
  ui.dismissed.add(key);
  refresh();
}

// ---- Events and snapshots -------------------------------------------------------------------

/** While a snapshot is being fetched, event batches wait here and are applied after it. */
let buffered: CoreEvent[][] | null = [];
/** Most batches kept while waiting; past that they are dropped and a fresh snapshot is taken. */
const MAX_BUFFERED = 1000;
let overflowed = false;
let syncRunning = false;
let firstSnapshot = true;

function onBatch(batch: CoreEvent[]): void {
  if (buffered) {
    if (buffered.length < MAX_BUFFERED) buffered.push(batch);
    else overflowed = true;
    return;
  }
  const out = applyEvents(cache, batch);
  refresh();
  if (out.resync) void resync();
}

/** Fetches a snapshot, applies it, then the events that arrived meanwhile (duplicates are ignored). */
async function resync(): Promise<void> {
  if (syncRunning) return;
  syncRunning = true;
  buffered ??= [];
  try {
    const res = await commands.appSnapshot();
    if (res.status === "error") {
      showSnapshotError(res.error);
      return;
    }
    ui.fatal = null;
    applySnapshot(cache, res.data);
    if (firstSnapshot) {
      firstSnapshot = false;
      adoptSessionSource(res.data.chat, res.data.defaultChannel);
    }
    const pending = buffered;
    buffered = null;
    let again = overflowed;
    overflowed = false;
    for (const batch of pending) again = applyEvents(cache, batch).resync || again;
    refresh();
    if (again) queueMicrotask(() => void resync());
  } catch (e) {
    showSnapshotError({ code: "Internal", message: String(e) });
  } finally {
    syncRunning = false;
  }
}

function showSnapshotError(err: ApiError): void {
  ui.fatal =
    err.code === "StartupFailed"
      ? {
          title: "StreamCue could not start",
          explain:
            "Its engine (which reads chat and saves your sessions) did not start, so there is nothing to show. " +
            "This usually means another StreamCue window is already open and holds the database, or the data " +
            "was written by a newer StreamCue. Close other StreamCue windows, then restart the app.",
          message: err.message,
        }
      : {
          title: "StreamCue could not load its state",
          explain: "The window could not read the current state from StreamCue's engine.",
          message: `${err.code}: ${err.message}`,
        };
  dom.fatalRetry.hidden = err.code === "StartupFailed";
  refresh();
}

/** On first load: if a session is already open (window reloaded), show its source; otherwise
 *  pre-fill the configured default channel (`chat.default_channel`), if any. */
function adoptSessionSource(chat: ChatState, defaultChannel: string): void {
  if (chat.state === "disconnected") {
    if (defaultChannel !== "") {
      ui.source = "twitch";
      dom.channelInput.value = defaultChannel;
      scheduleValidation();
    }
    return;
  }
  if (chat.platform === "demo") {
    ui.source = "demo";
  } else {
    ui.source = "twitch";
    if (dom.channelInput.value.trim() === "") {
      dom.channelInput.value = chat.channel;
      ui.channelValid = true;
    }
  }
}

// ---- Channel validation ---------------------------------------------------------------------

let validateTimer = 0;
let validateSeq = 0;

function scheduleValidation(): void {
  window.clearTimeout(validateTimer);
  validateTimer = window.setTimeout(() => void validateNow(), VALIDATE_DEBOUNCE_MS);
}

async function validateNow(): Promise<void> {
  const seq = ++validateSeq;
  const input = dom.channelInput.value;
  if (input.trim() === "") {
    // Empty is not an error worth shouting about; Connect just stays disabled.
    ui.channelValid = false;
    ui.channelError = "";
    refresh();
    return;
  }
  try {
    const res = await commands.validateChannel(input);
    if (seq !== validateSeq) return; // the streamer kept typing
    ui.channelValid = res.status === "ok";
    ui.channelError = res.status === "ok" ? "" : res.error.message;
  } catch (e) {
    if (seq !== validateSeq) return;
    ui.channelValid = false;
    ui.channelError = String(e);
  }
  refresh();
}

// ---- Commands -------------------------------------------------------------------------------

/** Shows a failed command's error where it belongs. */
function showCommandError(err: ApiError): void {
  switch (err.code) {
    case "InvalidChannel":
      ui.channelValid = false;
      ui.channelError = err.message;
      break;
    case "StartupFailed":
      showSnapshotError(err);
      break;
    case "AlreadyConnected":
    case "NotConnected":
    case "UnknownRequest":
    case "InvalidTransition":
      // The window's idea of the connection is stale: show why, and fetch the truth.
      ui.commandError = err.message;
      void resync();
      break;
    default:
      ui.commandError = err.message;
      break;
  }
}

/**
 * Applies the state a command returned, unless an event already moved the state on since the
 * command was sent (events say the same; this only avoids a stale flash before they arrive).
 */
function applyReturnedState(state: ChatState, versionBefore: number): void {
  if (cache.chatVersion === versionBefore) applyChatState(cache, state);
}

async function connect(): Promise<void> {
  if (ui.busy || hasSession(cache.chat) || ui.fatal) return;
  const target: ChatTarget =
    ui.source === "demo" ? { kind: "demo" } : { kind: "twitch", channel: dom.channelInput.value };
  ui.busy = true;
  ui.commandError = "";
  refresh();
  const version = cache.chatVersion;
  try {
    const res = await commands.chatConnect(target);
    if (res.status === "ok") {
      applyReturnedState(res.data, version);
    } else {
      showCommandError(res.error);
    }
  } catch (e) {
    ui.commandError = String(e);
  } finally {
    ui.busy = false;
    refresh();
  }
}

async function disconnect(): Promise<void> {
  if (ui.busy) return;
  ui.busy = true;
  ui.commandError = "";
  refresh();
  const version = cache.chatVersion;
  try {
    const res = await commands.chatDisconnect();
    if (res.status === "ok") applyReturnedState(res.data, version);
    else showCommandError(res.error);
  } catch (e) {
    ui.commandError = String(e);
  } finally {
    ui.busy = false;
    refresh();
  }
}

function selectSource(source: Source): void {
  if (ui.busy || hasSession(cache.chat)) return;
  ui.source = source;
  refresh();
  if (source === "twitch") {
    dom.channelInput.focus();
    void validateNow();
  }
}

// ---- Queue commands -------------------------------------------------------------------------

const DONE: Record<QueueAction, string> = {
  approve: "approved",
  skip: "skipped",
  retry: "retried",
  moveUp: "moved",
  moveDown: "moved",
  showAgain: "shown again",
};

/** Shows a failed queue command's error in the panel (`about`: the request acted on, if any). */
function showQueueError(err: ApiError, about?: { id: number; action: QueueAction }): void {
  ui.queue.errorDetail = err.message;
  ui.queue.errorCode = err.code;
  switch (err.code) {
    case "StartupFailed":
      showSnapshotError(err);
      break;
    case "UnknownRequest":
    case "InvalidTransition": {
      // The request changed (or went) since the panel was drawn: say so, and fetch the truth.
      // The core's message names the request by id, which the panel does not show: name the viewer.
      const item = about && cache.queue.items.find((it) => it.id === about.id);
      ui.queue.error = item
        ? `${item.displayName || item.userLogin}'s request changed before your click arrived, so it was not ` +
          `${DONE[about.action]}. The list is up to date now.`
        : err.message;
      void resync();
      break;
    }
    default:
      ui.queue.error = err.message;
      break;
  }
}

const ROW_ACTIONS: Record<RowAction, QueueAction> = {
  approve: "approve",
  skip: "skip",
  retry: "retry",
  up: "moveUp",
  down: "moveDown",
  showAgain: "showAgain",
};

async function queueAct(id: number, action: QueueAction): Promise<void> {
  if (ui.queue.busy.has(id) || ui.fatal) return;
  ui.queue.busy.add(id);
  ui.queue.error = "";
  refresh();
  try {
    const res = await commands.queueAct(id, action);
    if (res.status === "error") showQueueError(res.error, { id, action });
    // A move renumbers its neighbours too: their events redraw the order all at once.
    else if (action !== "moveUp" && action !== "moveDown") upsertQueueItem(cache, res.data);
  } catch (e) {
    ui.queue.error = String(e);
    ui.queue.errorCode = null;
  } finally {
    ui.queue.busy.delete(id);
    refresh();
  }
}

let clearTimer = 0;

function disarmClear(): void {
  window.clearTimeout(clearTimer);
  ui.queue.clearArmed = false;
}

/** First click asks "Clear N?"; a second one within CLEAR_CONFIRM_MS skips every waiting request. */
function onClearClick(): void {
  if (ui.queue.toolsBusy || waitingCount(cache.queue) === 0) return;
  if (!ui.queue.clearArmed) {
    ui.queue.clearArmed = true;
    clearTimer = window.setTimeout(() => {
      ui.queue.clearArmed = false;
      refresh();
    }, CLEAR_CONFIRM_MS);
    refresh();
    return;
  }
  disarmClear();
  void clearQueue();
}

async function clearQueue(): Promise<void> {
  ui.queue.toolsBusy = true;
  ui.queue.error = "";
  refresh();
  try {
    // The skipped requests arrive as events.
    const res = await commands.queueClear();
    if (res.status === "error") showQueueError(res.error);
  } catch (e) {
    ui.queue.error = String(e);
    ui.queue.errorCode = null;
  } finally {
    ui.queue.toolsBusy = false;
    refresh();
  }
}

async function toggleAutoApprove(): Promise<void> {
  if (ui.queue.toolsBusy || ui.fatal) return;
  ui.queue.toolsBusy = true;
  ui.queue.error = "";
  refresh();
  try {
    const res = await commands.queueSetAutoApprove(!cache.queue.autoApprove);
    if (res.status === "ok") cache.queue.autoApprove = res.data;
    else showQueueError(res.error);
  } catch (e) {
    ui.queue.error = String(e);
    ui.queue.errorCode = null;
  } finally {
    ui.queue.toolsBusy = false;
    refresh();
  }
}

/** The request a row element belongs to. */
function rowId(el: Element): number | null {
  const row = el.closest<HTMLElement>(".queue-item");
  return row ? Number(row.dataset.id) : null;
}

// ---- Wiring ---------------------------------------------------------------------------------

initAccount(refresh);
initGenerator(cache, refresh);
initObs(cache, refresh);
initMoments(cache, graph, refresh);
initKick(cache, refresh);
initRecorder(cache, refresh);
dom.sourceDemo.addEventListener("click", () => selectSource("demo"));
dom.sourceTwitch.addEventListener("click", () => selectSource("twitch"));
dom.connectBtn.addEventListener("click", () => void connect());
dom.disconnectBtn.addEventListener("click", () => void disconnect());
dom.fatalRetry.addEventListener("click", () => void resync());
dom.channelInput.addEventListener("input", () => {
  if (ui.commandError) ui.commandError = "";
  scheduleValidation();
});
dom.channelInput.addEventListener("keydown", (e) => {
  if (e.key === "Enter" && !e.isComposing) {
    e.preventDefault();
    window.clearTimeout(validateTimer);
    void connect();
  }
});

qdom.autoApprove.addEventListener("click", () => void toggleAutoApprove());
qdom.clear.addEventListener("click", onClearClick);
qdom.clear.addEventListener("keydown", (e) => {
  if (e.key === "Escape" && ui.queue.clearArmed) {
    disarmClear();
    refresh();
  }
});
qdom.errorClose.addEventListener("click", () => {
  ui.queue.error = "";
  refresh();
});
// One listener for every row button (rows come and go).
qdom.body.addEventListener("click", (e) => {
  const btn = (e.target as Element).closest<HTMLButtonElement>("button[data-action]");
  const id = btn ? rowId(btn) : null;
  if (!btn || id === null || btn.disabled) return;
  const action = ROW_ACTIONS[btn.dataset.action as RowAction];
  if (action) void queueAct(id, action);
});
// Alt+Up / Alt+Down move the focused request (focus follows it).
qdom.body.addEventListener("keydown", (e) => {
  if (!e.altKey || (e.key !== "ArrowUp" && e.key !== "ArrowDown")) return;
  const id = rowId(e.target as Element);
  const item = id === null ? undefined : cache.queue.items.find((it) => it.id === id);
  if (!item || !isWaiting(item.state)) return;
  e.preventDefault();
  const waiting = cache.queue.items.filter((it) => isWaiting(it.state));
  const at = waiting.indexOf(item);
  const up = e.key === "ArrowUp";
  if ((up && at > 0) || (!up && at < waiting.length - 1)) void queueAct(item.id, up ? "moveUp" : "moveDown");
});

// The "Reconnecting in N s" countdown ticks on its own between events.
window.setInterval(() => {
  if (cache.chat.state === "reconnecting") render(cache, ui, Date.now(), dismissNotice);
}, 250);
// So does the Kick chat's.
window.setInterval(() => {
  if (cache.kick.chat.state === "reconnecting") renderKick(cache, Date.now());
}, 250);
// So does OBS's "retrying in N s".
window.setInterval(() => {
  if (cache.obs?.state.connection.state === "reconnecting") renderObs(cache, Date.now());
}, 250);
// Requests' ages ("12 s ago") too.
window.setInterval(() => {
  if (cache.queue.items.length > 0) render(cache, ui, Date.now(), dismissNotice);
}, 1000);

async function start(): Promise<void> {
  refresh();
  try {
    await events.coreEvents.listen((e) => onBatch(e.payload));
  } catch (e) {
    showSnapshotError({ code: "Internal", message: `Could not subscribe to StreamCue's events: ${String(e)}` });
    return;
  }
  await resync();
}

void start();
