// The queue panel: viewer requests (`!anime <prompt>`), their state, and the streamer's actions.
// Rows are keyed by request id and updated in place, so hover and focus survive re-renders; a
// focused button keeps focus when its row moves or changes state (keyboard use).

import type { ChatState, GenerationProgress, ObsState, QueueItem, RequestState } from "./bindings";
import { $, setAttr, setOptAttr, setText, show } from "./dom";
import { basename, clock, formatBytes, formatDuration } from "./format";
import { isActive, isWaiting, type QueueCache } from "./queue";

/** A row button, as named in its `data-action` (the window tests rely on these names). */
export type RowAction = "approve" | "skip" | "retry" | "up" | "down" | "showAgain";

/** The queue panel's window-side state. */
export interface QueueUiState {
  /** Requests with an action in flight: their buttons ignore clicks until the core answers. */
  busy: Set<number>;
  /** Clear was clicked once: the next click (within a few seconds) skips every waiting request. */
  clearArmed: boolean;
  /** Clear or the auto-approve switch is waiting for the core. */
  toolsBusy: boolean;
  /** Inline error from the last failed queue command ("" when none). */
  error: string;
  /** The core's own words for it (the error's tooltip). */
  errorDetail: string;
  /** The failed command's ApiError code (`data-code`), null when it was not an ApiError. */
  errorCode: string | null;
}

export function emptyQueueUi(): QueueUiState {
  return { busy: new Set(), clearArmed: false, toolsBusy: false, error: "", errorDetail: "", errorCode: null };
}

export const qdom = {
  panel: $("queue-panel"),
  count: $("queue-count"),
  waiting: $("queue-waiting"),
  maxWrap: $("queue-max-wrap"),
  max: $("queue-max"),
  autoApprove: $<HTMLButtonElement>("auto-approve"),
  clear: $<HTMLButtonElement>("queue-clear"),
  error: $("queue-error"),
  errorText: $("queue-error-text"),
  errorClose: $<HTMLButtonElement>("queue-error-close"),
  body: $("queue-body"),
  active: $("queue-active"),
  recentHead: $("queue-recent-head"),
  recent: $("queue-recent"),
  empty: $("queue-empty"),
  emptyTitle: $("queue-empty-title"),
  emptyTail: $("queue-empty-tail"),
  accepted: $("q-accepted"),
  cooldown: $("q-cooldown"),
  overflow: $("q-overflow"),
  blocked: $("q-blocked"),
  skipped: $("q-skipped"),
  moderated: $("q-moderated"),
  paused: $("q-paused"),
};

const STATE_LABEL: Record<RequestState, string> = {
  pending: "Pending",
  approved: "Approved",
  generating: "Generating",
  ready: "Ready",
  shown: "Shown",
  skipped: "Skipped",
  failed: "Failed",
  interrupted: "Interrupted",
};

const STATE_HINT: Record<RequestState, string> = {
  pending: "Waiting for your approval",
  approved: "Approved: waiting for its turn",
  generating: "Being drawn now",
  ready: "Drawn, about to be shown",
  shown: "Shown on stream",
  skipped: "Skipped: it will not be drawn",
  failed: "Drawing it failed",
  interrupted: "StreamCue stopped while drawing it",
};

/** What the streamer can do with a request in each state (the core allows exactly these). */
function actionsFor(state: RequestState): RowAction[] {
  switch (state) {
    case "pending":
      return ["approve", "skip"];
    case "approved":
      return ["skip"];
    case "failed":
    case "interrupted":
      return ["retry", "skip"];
    case "skipped":
      return ["retry"];
    case "ready":
    case "shown":
      return ["showAgain"];
    case "generating":
      return [];
  }
}

const ACTION_LABEL: Record<RowAction, string> = {
  approve: "Approve",
  skip: "Skip",
  retry: "Retry",
  up: "Move up",
  down: "Move down",
  showAgain: "Show again",
};

const CHEVRON_UP =
  '<svg viewBox="0 0 16 16" width="16" height="16" aria-hidden="true"><path d="M4 10l4-4 4 4" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round"/></svg>';
const CHEVRON_DOWN =
  '<svg viewBox="0 0 16 16" width="16" height="16" aria-hidden="true"><path d="M4 6l4 4 4-4" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round"/></svg>';

/** What the row says while its clip is being made ("starting…" before the first progress). */
export function progressText(p: GenerationProgress | null): string {
  if (!p) return "starting…";
  switch (p.phase) {
    case "requesting":
      return p.attempt > 1 ? `requesting… (attempt ${p.attempt})` : "requesting…";
    case "waiting":
      return "waiting for the endpoint…";
    case "downloading":
      if (p.percent !== null) return `downloading ${Math.round(p.percent)}%`;
      return p.bytes > 0 ? `downloading ${formatBytes(p.bytes)}` : "downloading…";
    case "rendering":
      return p.percent !== null ? `rendering ${Math.round(p.percent)}%` : "rendering…";
  }
}

const PHASE_HINT: Record<GenerationProgress["phase"], string> = {
  requesting: "Asking the generation endpoint for the clip",
  waiting: "The endpoint accepted the job and is making the clip",
  downloading: "Saving the clip to the clips folder",
  rendering: "Rendering the clip on this computer",
};

/** "just now", "12 s ago", "3 min ago", "2 h ago", "4 d ago". */
export function formatAge(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 5) return "just now";
  if (s < 60) return `${s} s ago`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ago`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h} h ago`;
  return `${Math.floor(h / 24)} d ago`;
}

/** The DOM of one request's row. */
interface Row {
  el: HTMLLIElement;
  pos: HTMLElement;
  name: HTMLElement;
  age: HTMLElement;
  prompt: HTMLElement;
  reason: HTMLElement;
  /** Live generation progress (state `generating`). */
  progress: HTMLElement;
  /** The finished clip's file name and generation time. */
  file: HTMLElement;
  fileName: HTMLElement;
  took: HTMLElement;
  chip: HTMLElement;
  /** "on screen": OBS is showing this request now. */
  onScreen: HTMLElement;
  actions: HTMLElement;
  /** What the buttons were built for; they are rebuilt when it changes. */
  actionsKey: string;
}

const rows = new Map<number, Row>();

function span(className: string): HTMLSpanElement {
  const el = document.createElement("span");
  el.className = className;
  return el;
}

function createRow(id: number): Row {
  const el = document.createElement("li");
  el.className = "queue-item";
  el.dataset.id = String(id);
  // Focusable by script only: where focus lands when its button goes away (see restoreFocus).
  el.tabIndex = -1;
  const pos = span("qi-pos");
  const name = span("qi-name");
  const what = document.createElement("div");
  what.className = "qi-what";
  const onScreen = span("qi-onscreen");
  onScreen.textContent = "on screen";
  onScreen.title = "OBS is showing this request now";
  onScreen.hidden = true;
  const prompt = span("qi-prompt");
  const reason = span("qi-reason");
  const progress = span("qi-progress");
  progress.hidden = true;
  const file = span("qi-file");
  file.hidden = true;
  const fileName = span("qi-file-name");
  const took = span("qi-took");
  file.append(fileName, took);
  what.append(onScreen, prompt, reason, progress, file);
  const age = span("qi-age");
  const chip = span("qi-chip");
  const actions = document.createElement("div");
  actions.className = "qi-actions";
  el.append(pos, name, what, age, chip, actions);
  const row: Row = { el, pos, name, age, prompt, reason, progress, file, fileName, took, chip, onScreen, actions, actionsKey: "" };
  rows.set(id, row);
  return row;
}

function actionButton(action: RowAction, who: string, disabled: boolean, title = ""): HTMLButtonElement {
  const b = document.createElement("button");
  b.type = "button";
  b.dataset.action = action;
  b.disabled = disabled;
  if (title) b.title = title;
  if (action === "up" || action === "down") {
    b.className = "qi-btn qi-arrow";
    b.innerHTML = action === "up" ? CHEVRON_UP : CHEVRON_DOWN;
    b.title = `${ACTION_LABEL[action]} (Alt+${action === "up" ? "↑" : "↓"})`;
    b.setAttribute("aria-label", `${ACTION_LABEL[action]}: ${who}'s request`);
  } else {
    b.className = `qi-btn qi-${action}`;
    b.textContent = ACTION_LABEL[action];
    b.setAttribute("aria-label", `${ACTION_LABEL[action]} ${who}'s request`);
  }
  return b;
}

/** The progress element of a `generating` row (hidden otherwise). */
function updateProgress(row: Row, it: QueueItem, p: GenerationProgress | null): void {
  const el = row.progress;
  const on = it.state === "generating";
  show(el, on);
  const pct = on && p && p.percent !== null ? Math.max(0, Math.min(100, Math.round(p.percent))) : null;
  setOptAttr(el, "data-phase", on && p ? p.phase : null);
  setOptAttr(el, "data-percent", pct === null ? null : String(pct));
  if (!on) return;
  setText(el, progressText(p));
  setAttr(el, "title", p ? PHASE_HINT[p.phase] + (p.attempt > 1 ? ` (attempt ${p.attempt})` : "") : "Generation is starting");
  const bar = pct === null ? "" : `${pct}%`;
  if (el.style.getPropertyValue("--pct") !== bar) {
    if (bar) el.style.setProperty("--pct", bar);
    else el.style.removeProperty("--pct");
  }
}

/** The finished clip: its file name (full path in the tooltip) and how long it took. */
function updateFile(row: Row, it: QueueItem): void {
  setOptAttr(row.el, "data-file", it.filePath);
  show(row.file, it.filePath !== null);
  if (it.filePath === null) return;
  setText(row.fileName, basename(it.filePath));
  setAttr(row.fileName, "title", it.filePath);
  const took = it.generationMs !== null ? formatDuration(it.generationMs) : "";
  setText(row.took, took);
  show(row.took, took !== "");
  const tries = it.attempts > 1 ? ` in ${it.attempts} attempts` : "";
  setAttr(row.took, "title", took ? `Generated in ${took}${tries}` : "");
}

function updateRow(
  row: Row,
  it: QueueItem,
  waitIndex: number,
  waitingTotal: number,
  busy: boolean,
  nowMs: number,
  progress: GenerationProgress | null,
  obs: ObsState | null,
): void {
  const { el } = row;
  setAttr(el, "data-state", it.state);
  el.classList.toggle("is-finished", !isActive(it.state));
  setAttr(el, "aria-busy", String(busy));

  setText(row.pos, waitIndex >= 0 ? `#${waitIndex + 1}` : "");
  setAttr(row.pos, "title", waitIndex >= 0 ? `Number ${waitIndex + 1} in the queue` : "");

  const who = it.displayName || it.userLogin;
  setText(row.name, who);
  setAttr(row.name, "title", who.toLowerCase() === it.userLogin ? who : `${who} (${it.userLogin})`);
  setText(row.age, formatAge(nowMs - it.createdAtMs));
  const changed = it.updatedAtMs > it.createdAtMs + 999 ? ` · last change ${clock(it.updatedAtMs)}` : "";
  setAttr(row.age, "title", `Requested at ${clock(it.createdAtMs)}${changed}`);

  setText(row.prompt, it.prompt);
  setAttr(row.prompt, "title", it.prompt);
  const why = it.state === "skipped" || it.state === "failed" || it.state === "interrupted" ? (it.reason ?? "") : "";
  setText(row.reason, why);
  const tries = it.state === "failed" && it.attempts > 1 ? ` (after ${it.attempts} attempts)` : "";
  setAttr(row.reason, "title", why + tries);
  show(row.reason, why !== "");
  updateProgress(row, it, progress);
  updateFile(row, it);

  const showing = obs !== null && obs.showing === it.id;
  setOptAttr(el, "data-showing", showing ? "true" : null);
  show(row.onScreen, showing);

  setText(row.chip, STATE_LABEL[it.state]);
  setAttr(row.chip, "title", STATE_HINT[it.state]);

  const waiting = isWaiting(it.state);
  const first = waitIndex === 0;
  const last = waitIndex === waitingTotal - 1;
  // Show again drives OBS: it cannot work while OBS is not connected.
  const obsUp = obs !== null && obs.connection.state === "connected";
  const key = `${it.state}|${waiting && first}|${waiting && last}|${who}|${obsUp}`;
  if (key !== row.actionsKey) {
    row.actionsKey = key;
    const buttons: HTMLElement[] = actionsFor(it.state).map((a) =>
      a === "showAgain"
        ? actionButton(a, who, !obsUp, obsUp ? "Play this clip in OBS again" : "OBS is not connected")
        : actionButton(a, who, false),
    );
    // The arrows keep their slot on every row, so the columns line up.
    const move = span("qi-move");
    if (waiting) move.append(actionButton("up", who, first), actionButton("down", who, last));
    row.actions.replaceChildren(...buttons, move);
  }
}

/** Puts `els` into `list` in this order, moving only those out of place. */
function place(list: HTMLElement, els: readonly HTMLElement[]): void {
  els.forEach((el, i) => {
    const at = list.children[i] ?? null;
    if (at !== el) list.insertBefore(el, at);
  });
  while (list.children.length > els.length) list.lastElementChild!.remove();
}

interface FocusedInRow {
  el: HTMLElement;
  id: number;
  /** The focused button's `data-action`, or "" when the row itself has focus. */
  action: string;
}

/** The row (or row button) that has keyboard focus, if any. */
function focusedInRow(): FocusedInRow | null {
  const el = document.activeElement;
  if (!(el instanceof HTMLElement) || !qdom.body.contains(el)) return null;
  const row = el.closest<HTMLElement>(".queue-item");
  if (!row) return null;
  return { el, id: Number(row.dataset.id), action: el.dataset.action ?? "" };
}

/**
 * Gives focus back after a re-render moved or rebuilt its row: to the same button if it is
 * still there and enabled, otherwise to the row itself. Never to a different button: a second
 * Enter must not turn "approve" into "skip", or "move up" (at the top) into "approve".
 */
function restoreFocus(f: FocusedInRow | null): void {
  if (!f) return;
  const still = document.activeElement === f.el && f.el.isConnected && !(f.el as HTMLButtonElement).disabled;
  if (still) return;
  const row = rows.get(f.id);
  if (!row) return;
  const same = f.action ? row.actions.querySelector<HTMLElement>(`[data-action="${f.action}"]:not(:disabled)`) : null;
  (same ?? row.el).focus();
}

function setCount(el: HTMLElement, n: number): void {
  setText(el, String(n));
  el.parentElement?.classList.toggle("is-zero", n === 0);
}

/** Draws the queue panel. */
export function renderQueue(
  q: QueueCache,
  ui: QueueUiState,
  chat: ChatState,
  nowMs: number,
  progress: ReadonlyMap<number, GenerationProgress>,
  obs: ObsState | null,
): void {
  // Place among waiting requests (what viewers are told: "#2 in the queue").
  const waitIndex = new Map<number, number>();
  for (const it of q.items) if (isWaiting(it.state)) waitIndex.set(it.id, waitIndex.size);
  const waiting = waitIndex.size;

  // Header: waiting / max, auto-approve, Clear.
  setText(qdom.waiting, String(waiting));
  setText(qdom.max, String(q.maxWaiting));
  show(qdom.maxWrap, q.maxWaiting > 0);
  const full = q.maxWaiting > 0 && waiting >= q.maxWaiting;
  qdom.count.classList.toggle("is-full", full);
  setAttr(
    qdom.count,
    "title",
    full
      ? "The queue is full: new requests from chat are refused until you skip some or they are drawn"
      : "Requests waiting to be drawn (pending and approved) / the most the queue holds",
  );

  setAttr(qdom.autoApprove, "aria-pressed", String(q.autoApprove));
  setAttr(qdom.autoApprove, "aria-busy", String(ui.toolsBusy));
  setAttr(
    qdom.autoApprove,
    "title",
    q.autoApprove
      ? "On: new requests are approved as they arrive. Click to approve them yourself."
      : "Off: new requests wait for you to approve them. Click to approve them automatically.",
  );

  const armed = ui.clearArmed && waiting > 0;
  setText(qdom.clear, armed ? `Clear ${waiting}?` : "Clear");
  qdom.clear.classList.toggle("is-armed", armed);
  qdom.clear.disabled = waiting === 0;
  setAttr(qdom.clear, "aria-busy", String(ui.toolsBusy));
  setAttr(
    qdom.clear,
    "title",
    armed
      ? `Click again to skip all ${waiting} waiting request${waiting === 1 ? "" : "s"}`
      : "Skip every waiting request (asks to confirm)",
  );

  show(qdom.error, ui.error !== "");
  setText(qdom.errorText, ui.error);
  setAttr(qdom.errorText, "title", ui.errorDetail);
  setOptAttr(qdom.error, "data-code", ui.error !== "" ? ui.errorCode : null);

  // Rows: active ones in queue order, then recently finished ones (already sorted that way).
  const focus = focusedInRow();
  const seen = new Set<number>();
  const active: HTMLElement[] = [];
  const recent: HTMLElement[] = [];
  for (const it of q.items) {
    seen.add(it.id);
    const row = rows.get(it.id) ?? createRow(it.id);
    updateRow(
      row,
      it,
      waitIndex.get(it.id) ?? -1,
      waiting,
      ui.busy.has(it.id),
      nowMs,
      progress.get(it.id) ?? null,
      obs,
    );
    (isActive(it.state) ? active : recent).push(row.el);
  }
  for (const [id, row] of rows) {
    if (!seen.has(id)) {
      row.el.remove();
      rows.delete(id);
    }
  }
  place(qdom.active, active);
  place(qdom.recent, recent);
  show(qdom.recentHead, recent.length > 0);
  restoreFocus(focus);

  // Empty state.
  show(qdom.empty, q.items.length === 0);
  setText(qdom.emptyTitle, chat.state === "connected" ? "No requests yet" : "No requests");
  setText(
    qdom.emptyTail,
    q.autoApprove ? "requests appear here and are approved automatically." : "requests appear here for you to approve.",
  );

  // Counters (this chat session).
  const c = q.counters;
  setCount(qdom.accepted, c.accepted);
  setCount(qdom.cooldown, c.cooldownRejects);
  setCount(qdom.overflow, c.overflowRejects);
  setCount(qdom.blocked, c.blockedPrompts);
  setCount(qdom.skipped, c.skipped);
  setCount(qdom.moderated, c.moderated);
  setCount(qdom.paused, c.pausedRejects);
}
