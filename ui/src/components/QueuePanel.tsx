// The request queue (`!anime <prompt>` in chat): the streamer's main control. Header: waiting /
// max, Auto-approve, Clear (asks to confirm). Rows: waiting and in-progress requests in queue
// order, then the recently finished ones; each row's own buttons act on it. Footer: this
// session's request counters and the generator's (all time).
//
// Invariants: one clock for the whole panel (only while an active request shows a live age); a
// row's buttons are disabled while its command runs; keyboard focus follows its row when the
// row moves or changes (to the same button if it is still there and enabled, else to the row,
// never to a different button: a second Enter must not turn "approve" into "skip").

import "./QueuePanel.css";
import { useComputed, useSignal } from "@preact/signals";
import { useEffect, useLayoutEffect, useMemo, useRef } from "preact/hooks";
import { type ApiError, commands, type QueueAction } from "../bindings";
import { nextStep, run } from "../cmd";
import { formatDurationOrDash } from "../format";
import {
  canMove,
  isActive,
  isWaiting,
  newestActiveCreatedAt,
  queueErrorText,
  ROW_ACTIONS,
  type RowAction,
  waitingPlaces,
} from "../queue";
import { obsConnected, upsertQueueItem } from "../state";
import { update, use } from "../store";
import { ageStep, useNow } from "../ticker";
import { QueueRow } from "./QueueRow";

/** How long Clear waits for its confirming second click. */
const CLEAR_CONFIRM_MS = 3000;

/** The panel's error line: the text shown, the core's own words (tooltip) and its code. */
interface PanelError {
  text: string;
  detail: string;
  code: string;
}

/** Where keyboard focus was in the list: a row's button (`action`) or the row itself (""). */
interface RowFocus {
  id: number;
  action: string;
}

function panelError(err: ApiError, about?: { id: number; action: QueueAction }): PanelError {
  const item = about && use("queue").queue.items.find((it) => it.id === about.id);
  const text = about ? queueErrorText(err, { item, action: about.action }) : queueErrorText(err);
  const step = nextStep(err.code);
  return { text: step ? `${text} ${step}` : text, detail: err.message, code: err.code };
}

function rowFocusOf(el: Element | null, list: HTMLElement | null): RowFocus | null {
  if (!(el instanceof HTMLElement) || !list?.contains(el)) return null;
  const row = el.closest<HTMLElement>(".queue-item");
  return row ? { id: Number(row.dataset.id), action: el.dataset.action ?? "" } : null;
}

export function QueuePanel() {
  const c = use("queue", "progress", "generator");
  const q = c.queue;
  // Narrow reads of busier slices: the panel re-renders only when these answers change.
  const chatConnected = useComputed(() => use("main").chats.main.chat.state === "connected");
  const obsShowing = useComputed(() => use("obs").obs?.state.showing ?? null);
  const obsUp = useComputed(() => obsConnected(use("obs")));

  const busy = useSignal<ReadonlySet<number>>(new Set());
  const toolsBusy = useSignal(false);
  const error = useSignal<PanelError | null>(null);
  const clearArmed = useSignal(false);
  const clearTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => () => clearTimeout(clearTimer.current), []);

  // ---- The clock: one for the panel, ticking only while an active request shows its age.
  const newest = newestActiveCreatedAt(q);
  const nowMs = useNow(ageStep(newest === null ? 0 : Date.now() - newest), newest !== null);
  const now = useSignal(nowMs);
  useLayoutEffect(() => {
    now.value = nowMs;
  }, [nowMs]);

  // ---- Row actions (stable, so memo rows do not re-render for a new callback).
  const act = useMemo(
    () => async (id: number, rowAction: RowAction) => {
      if (busy.peek().has(id)) return;
      const action = ROW_ACTIONS[rowAction];
      busy.value = new Set(busy.peek()).add(id);
      error.value = null;
      const out = await run(() => commands.queueAct(id, action));
      const rest = new Set(busy.peek());
      rest.delete(id);
      busy.value = rest;
      if (!out.ok) error.value = panelError(out.error, { id, action });
      // A move renumbers its neighbours too: their events redraw the order all at once.
      else if (action !== "moveUp" && action !== "moveDown") {
        const item = out.data;
        update(["queue", "progress"], (cache) => upsertQueueItem(cache, item));
      }
    },
    [],
  );

  const disarmClear = () => {
    clearTimeout(clearTimer.current);
    clearArmed.value = false;
  };

  const waitingNow = () => use("queue").queue.items.filter((it) => isWaiting(it.state)).length;

  /** First click asks "Clear N?"; a second one within CLEAR_CONFIRM_MS skips every waiting request. */
  const onClear = async () => {
    if (toolsBusy.value || waitingNow() === 0) return;
    if (!clearArmed.value) {
      clearArmed.value = true;
      clearTimeout(clearTimer.current);
      clearTimer.current = setTimeout(() => (clearArmed.value = false), CLEAR_CONFIRM_MS);
      return;
    }
    disarmClear();
    toolsBusy.value = true;
    error.value = null;
    // The skipped requests arrive as events.
    const out = await run(() => commands.queueClear());
    toolsBusy.value = false;
    if (!out.ok) error.value = panelError(out.error);
  };

  const toggleAutoApprove = async () => {
    if (toolsBusy.value) return;
    toolsBusy.value = true;
    error.value = null;
    const out = await run(() => commands.queueSetAutoApprove(!use("queue").queue.autoApprove));
    toolsBusy.value = false;
    if (out.ok) {
      const on = out.data;
      update(["queue"], (cache) => {
        cache.queue = { ...cache.queue, autoApprove: on };
      });
    } else error.value = panelError(out.error);
  };

  // ---- Keyboard focus follows its row (see the invariants at the top).
  const listRef = useRef<HTMLDivElement>(null);
  /** The last place focus was in the list, and the button it should go back to. */
  const wanted = useRef<RowFocus | null>(null);
  /** Focus is being moved by the panel itself (its focus events are not the streamer's). */
  const restoring = useRef(false);
  // Captured while rendering, before the DOM changes: whether focus was in the list.
  const focusBefore = rowFocusOf(typeof document === "undefined" ? null : document.activeElement, listRef.current);
  useLayoutEffect(() => {
    const want = wanted.current;
    const list = listRef.current;
    if (!want || !list) return;
    const active = document.activeElement;
    // Dropped by the DOM change: moved or removed (focus fell to the body), or disabled (the
    // browser drops it at its next rendering step; moving it now keeps it in the row).
    const dropped = active === null || active === document.body || (active as HTMLButtonElement).disabled === true;
    const lost = focusBefore !== null && dropped;
    const onRowItself = active instanceof HTMLElement && active.matches(`.queue-item[data-id="${want.id}"]`);
    if (!lost && !onRowItself) return;
    const row = list.querySelector<HTMLElement>(`.queue-item[data-id="${want.id}"]`);
    if (!row) return;
    const same = want.action
      ? row.querySelector<HTMLElement>(`[data-action="${want.action}"]:not(:disabled)`)
      : null;
    const target = same ?? (lost ? row : null);
    if (!target || target === active) return;
    restoring.current = true;
    target.focus();
    restoring.current = false;
  });
  const onFocusIn = (e: FocusEvent) => {
    if (!restoring.current) wanted.current = rowFocusOf(e.target as Element, listRef.current);
  };
  const onFocusOut = (e: FocusEvent) => {
    // Focus moved elsewhere on purpose; `null` is focus dropped by a DOM change (kept).
    const to = e.relatedTarget as Node | null;
    if (to !== null && !listRef.current?.contains(to)) wanted.current = null;
  };
  // Alt+Up / Alt+Down move the focused request (focus follows it).
  const onKeyDown = (e: KeyboardEvent) => {
    if (!e.altKey || (e.key !== "ArrowUp" && e.key !== "ArrowDown")) return;
    const f = rowFocusOf(e.target as Element, listRef.current);
    const item = f && use("queue").queue.items.find((it) => it.id === f.id);
    if (!item || !isWaiting(item.state)) return;
    e.preventDefault();
    const up = e.key === "ArrowUp";
    if (canMove(use("queue").queue, item.id, up)) void act(item.id, up ? "up" : "down");
  };

  // ---- What to draw.
  const places = waitingPlaces(q);
  const waiting = places.size;
  const full = q.maxWaiting > 0 && waiting >= q.maxWaiting;
  const armed = clearArmed.value && waiting > 0;
  const showing = obsShowing.value;
  const up = obsUp.value;
  const rows = (finished: boolean) =>
    q.items
      .filter((it) => isActive(it.state) !== finished)
      .map((it) => {
        const place = places.get(it.id) ?? -1;
        return (
          <QueueRow
            key={it.id}
            item={it}
            place={place}
            last={place >= 0 && place === waiting - 1}
            busy={busy.value.has(it.id)}
            progress={c.progress.get(it.id)}
            showing={showing === it.id}
            obsUp={up}
            now={now}
            onAct={act}
          />
        );
      });
  const activeRows = rows(false);
  const finishedRows = rows(true);
  const qc = q.counters;
  const refused = qc.cooldownRejects + qc.overflowRejects + qc.blockedPrompts + qc.pausedRejects;
  const gen = c.generator?.counters;
  const err = error.value;

  return (
    <section id="queue-panel" class="card queue-panel" aria-labelledby="queue-title">
      <div class="card-head queue-head">
        <h2 id="queue-title" class="card-title">
          Requests
        </h2>
        <span
          id="queue-count"
          class="queue-count num"
          data-full={full ? "true" : undefined}
          aria-live="polite"
          title={
            full
              ? "The queue is full: new requests from chat are refused until you skip some or they are drawn"
              : "Requests waiting to be drawn (pending and approved) / the most the queue holds"
          }
        >
          <span id="queue-waiting">{String(waiting)}</span> waiting
          {q.maxWaiting > 0 && (
            <>
              {" / "}
              <span id="queue-max">{String(q.maxWaiting)}</span>
            </>
          )}
        </span>
        <span class="spacer" />
        <button
          id="auto-approve"
          class="queue-switch"
          type="button"
          aria-pressed={q.autoApprove ? "true" : "false"}
          aria-busy={toolsBusy.value ? "true" : "false"}
          title={
            q.autoApprove
              ? "On: new requests are approved as they arrive. Click to approve them yourself."
              : "Off: new requests wait for you to approve them. Click to approve them automatically."
          }
          onClick={() => void toggleAutoApprove()}
        >
          <span class="queue-switch-track" aria-hidden="true">
            <span class="queue-switch-thumb" />
          </span>
          Auto-approve
        </button>
        <button
          id="queue-clear"
          class={`btn btn-small queue-clear${armed ? " btn-danger is-armed" : ""}`}
          type="button"
          disabled={waiting === 0}
          aria-busy={toolsBusy.value ? "true" : "false"}
          title={
            armed
              ? `Click again to skip all ${waiting} waiting request${waiting === 1 ? "" : "s"} (Escape to cancel)`
              : "Skip every waiting request (asks to confirm)"
          }
          onClick={() => void onClear()}
          onKeyDown={(e) => {
            if (e.key === "Escape" && clearArmed.value) {
              e.preventDefault();
              disarmClear();
            }
          }}
        >
          {armed ? `Clear ${waiting}?` : "Clear"}
        </button>
      </div>

      {err && (
        <div id="queue-error" class="queue-error" role="alert" data-code={err.code}>
          <span id="queue-error-text" class="queue-error-text" title={err.detail}>
            {err.text}
          </span>
          <button
            id="queue-error-close"
            class="btn btn-small btn-icon"
            type="button"
            aria-label="Dismiss"
            title="Dismiss"
            onClick={() => (error.value = null)}
          >
            ×
          </button>
        </div>
      )}

      <div
        id="queue-body"
        class="queue-body scroll"
        ref={listRef}
        onKeyDown={onKeyDown}
        onFocusIn={onFocusIn}
        onFocusOut={onFocusOut}
      >
        <ol class="queue-list" aria-label="Waiting and in progress">
          {activeRows}
        </ol>
        {finishedRows.length > 0 && <div class="queue-divider">Recently finished</div>}
        <ol class="queue-list queue-list-recent" aria-label="Recently finished">
          {finishedRows}
        </ol>
        {q.items.length === 0 && (
          <div id="queue-empty" class="queue-empty empty">
            <strong class="queue-empty-title">{chatConnected.value ? "No requests yet" : "No requests"}</strong>{" "}
            Viewers type <code>!anime &lt;prompt&gt;</code> in chat;{" "}
            {q.autoApprove
              ? "requests appear here and are approved automatically."
              : "requests appear here for you to approve."}
          </div>
        )}
      </div>

      <dl class="queue-counters" aria-label="Request counters (this session) and generation counters (all time)">
        <div class="queue-counter" data-zero={qc.accepted === 0 || undefined} title="Requests added to the queue">
          <dt>Accepted</dt>
          <dd id="q-accepted">{String(qc.accepted)}</dd>
        </div>
        <div class="queue-counter" data-zero={qc.skipped === 0 || undefined} title="Skipped by you (one by one or with Clear)">
          <dt>Skipped</dt>
          <dd id="q-skipped">{String(qc.skipped)}</dd>
        </div>
        <div
          class="queue-counter"
          data-zero={qc.moderated === 0 || undefined}
          title="Skipped because a moderator deleted the message, or the viewer was banned or timed out"
        >
          <dt>Moderated</dt>
          <dd id="q-moderated">{String(qc.moderated)}</dd>
        </div>
        <div
          class="queue-counter"
          data-zero={refused === 0 || undefined}
          title={
            `Refused requests: ${qc.cooldownRejects} asked again before their cooldown ended · ` +
            `${qc.overflowRejects} when the queue was full · ${qc.blockedPrompts} blocked or too long · ` +
            `${qc.pausedRejects} while new requests were paused (degraded mode)`
          }
        >
          <dt>Refused</dt>
          <dd id="q-refused">{String(refused)}</dd>
        </div>
        <span class="queue-counters-sep" aria-hidden="true" />
        <div class="queue-counter" data-zero={!gen?.ready || undefined} title="Clips generated (all time)">
          <dt>Ready</dt>
          <dd id="gen-ready">{String(gen?.ready ?? 0)}</dd>
        </div>
        <div
          class="queue-counter"
          data-zero={!gen?.failed || undefined}
          title={
            `Generations that failed (all time) · ${gen?.interrupted ?? 0} cut short because StreamCue stopped · ` +
            `degraded mode entered ${gen?.degradedActivations ?? 0} times`
          }
        >
          <dt>Failed</dt>
          <dd id="gen-failed">{String(gen?.failed ?? 0)}</dd>
        </div>
        <div
          class="queue-counter"
          title={`Time from start to ready over the last 200 clips: median ${formatDurationOrDash(
            gen?.p50Ms ?? null,
          )}, 95th percentile ${formatDurationOrDash(gen?.p95Ms ?? null)}`}
        >
          <dt>p50</dt>
          <dd id="gen-p50">{formatDurationOrDash(gen?.p50Ms ?? null)}</dd>
        </div>
      </dl>
    </section>
  );
}
