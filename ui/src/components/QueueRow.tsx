// One viewer request in the queue panel: place, viewer, prompt (with its reason, live progress or
// finished clip under it), age, state chip and the streamer's buttons. A memo component: it
// re-renders only when its own request (or its place, busy flag, OBS facts) changes; the age
// ticks in its own tiny component from the panel's one clock.

import type { ReadonlySignal } from "@preact/signals";
import { memo } from "preact/compat";
import type { GenerationProgress, QueueItem, RequestState } from "../bindings";
import { ago, basename, clock, clockShort, formatBytes, formatDuration } from "../format";
import { actionsFor, isActive, isWaiting, progressPercent, type RowAction, viewerName } from "../queue";

type Tone = "ok" | "warn" | "err" | "accent" | "data" | undefined;

const STATE: Record<RequestState, { label: string; hint: string; tone: Tone }> = {
  pending: { label: "Pending", hint: "Waiting for your approval", tone: "warn" },
  approved: { label: "Approved", hint: "Approved: waiting for its turn", tone: "accent" },
  generating: { label: "Generating", hint: "Being drawn now", tone: "data" },
  ready: { label: "Ready", hint: "Drawn, about to be shown", tone: "ok" },
  shown: { label: "Shown", hint: "Shown on stream", tone: "ok" },
  skipped: { label: "Skipped", hint: "Skipped: it will not be drawn", tone: undefined },
  failed: { label: "Failed", hint: "Drawing it failed", tone: "err" },
  interrupted: { label: "Interrupted", hint: "StreamCue stopped while drawing it", tone: "warn" },
};

const ACTION_LABEL: Record<RowAction, string> = {
  approve: "Approve",
  skip: "Skip",
  retry: "Retry",
  up: "Move up",
  down: "Move down",
  showAgain: "Show again",
};

const PHASE_HINT: Record<GenerationProgress["phase"], string> = {
  requesting: "Asking the generation endpoint for the clip",
  waiting: "The endpoint accepted the job and is making the clip",
  downloading: "Saving the clip to the clips folder",
  rendering: "Rendering the clip on this computer",
};

/** What a `generating` row says ("starting…" before the first progress). */
export function progressText(p: GenerationProgress | undefined): string {
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

export interface QueueRowProps {
  item: QueueItem;
  /** Place among the waiting requests (0 = next), or -1 when it is not waiting. */
  place: number;
  /** It is the last waiting request (it cannot move down). */
  last: boolean;
  /** One of its commands is running: its buttons are disabled until the core answers. */
  busy: boolean;
  /** The latest progress while `generating`. */
  progress: GenerationProgress | undefined;
  /** OBS is showing this request now. */
  showing: boolean;
  /** OBS is connected (Show again drives it). */
  obsUp: boolean;
  /** The panel's clock (ms), for the live age of an active request. */
  now: ReadonlySignal<number>;
  onAct: (id: number, action: RowAction) => void;
}

/** "12 s ago": reads the panel clock, so only this text re-renders on a tick. */
function Age({ at, now }: { at: number; now: ReadonlySignal<number> }) {
  return <>{ago(at, now.value)}</>;
}

function Chevron({ up }: { up: boolean }) {
  return (
    <svg viewBox="0 0 16 16" width="14" height="14" aria-hidden="true">
      <path
        d={up ? "M4 10l4-4 4 4" : "M4 6l4 4 4-4"}
        fill="none"
        stroke="currentColor"
        stroke-width="1.8"
        stroke-linecap="round"
        stroke-linejoin="round"
      />
    </svg>
  );
}

/** The line under the prompt: why it was skipped/failed, how far generation is, or its clip. */
function Detail({ item, progress }: { item: QueueItem; progress: GenerationProgress | undefined }) {
  const st = item.state;
  if (st === "generating") {
    const pct = progressPercent(progress);
    const hint = progress
      ? PHASE_HINT[progress.phase] + (progress.attempt > 1 ? ` (attempt ${progress.attempt})` : "")
      : "Generation is starting";
    return (
      <span
        class="queue-progress"
        data-phase={progress?.phase}
        data-percent={pct ?? undefined}
        style={pct === null ? undefined : { "--pct": `${pct}%` }}
        title={hint}
        aria-live="polite"
      >
        {progressText(progress)}
      </span>
    );
  }
  if ((st === "skipped" || st === "failed" || st === "interrupted") && item.reason) {
    const tries = st === "failed" && item.attempts > 1 ? ` (after ${item.attempts} attempts)` : "";
    return (
      <span class="queue-reason" title={item.reason + tries}>
        {item.reason}
      </span>
    );
  }
  if (item.filePath !== null) {
    const took = item.generationMs !== null ? formatDuration(item.generationMs) : "";
    const tries = item.attempts > 1 ? ` in ${item.attempts} attempts` : "";
    return (
      <span class="queue-file">
        <span class="queue-file-name mono" title={item.filePath}>
          {basename(item.filePath)}
        </span>
        {took && (
          <span class="queue-took" title={`Generated in ${took}${tries}`}>
            {took}
          </span>
        )}
      </span>
    );
  }
  return null;
}

function QueueRowView({ item, place, last, busy, progress, showing, obsUp, now, onAct }: QueueRowProps) {
  const who = viewerName(item);
  const active = isActive(item.state);
  const waiting = isWaiting(item.state);
  const state = STATE[item.state];
  const changed = item.updatedAtMs > item.createdAtMs + 999 ? ` · last change ${clock(item.updatedAtMs)}` : "";
  const file = (item.state === "ready" || item.state === "shown") && item.filePath !== null ? item.filePath : undefined;

  const button = (action: RowAction) => {
    const showAgain = action === "showAgain";
    const disabled = busy || (showAgain && !obsUp);
    return (
      <button
        key={action}
        type="button"
        class={`btn btn-small queue-btn queue-btn-${action}${action === "approve" ? " btn-primary" : ""}`}
        data-action={action}
        disabled={disabled}
        aria-label={`${ACTION_LABEL[action]} ${who}'s request`}
        title={showAgain ? (obsUp ? "Play this clip in OBS again" : "OBS is not connected") : undefined}
        onClick={() => onAct(item.id, action)}
      >
        {ACTION_LABEL[action]}
      </button>
    );
  };
  const arrow = (up: boolean) => {
    const action: RowAction = up ? "up" : "down";
    const atEnd = up ? place === 0 : last;
    return (
      <button
        type="button"
        class="btn btn-small btn-icon queue-arrow"
        data-action={action}
        disabled={busy || atEnd}
        aria-label={`${ACTION_LABEL[action]}: ${who}'s request`}
        title={`${ACTION_LABEL[action]} (Alt+${up ? "↑" : "↓"})`}
        onClick={() => onAct(item.id, action)}
      >
        <Chevron up={up} />
      </button>
    );
  };

  return (
    <li
      class={`queue-item${active ? "" : " is-finished"}`}
      data-id={item.id}
      data-state={item.state}
      data-file={file}
      data-showing={showing ? "true" : undefined}
      aria-busy={busy ? "true" : "false"}
      // Focusable by script only: where focus lands when its focused button goes away.
      tabIndex={-1}
    >
      <span class="queue-pos num" title={place >= 0 ? `Number ${place + 1} in the queue` : undefined}>
        {place >= 0 ? `#${place + 1}` : ""}
      </span>
      <span class="queue-who" title={who.toLowerCase() === item.userLogin ? who : `${who} (${item.userLogin})`}>
        {who}
      </span>
      <div class="queue-what">
        <span class="queue-prompt" title={item.prompt}>
          {showing && (
            <span class="chip queue-onscreen" data-tone="ok" title="OBS is showing this request now">
              on screen
            </span>
          )}
          {item.prompt}
        </span>
        <Detail item={item} progress={progress} />
      </div>
      {active ? (
        <span class="queue-age num" title={`Requested at ${clock(item.createdAtMs)}${changed}`}>
          <Age at={item.createdAtMs} now={now} />
        </span>
      ) : (
        <span
          class="queue-age num"
          title={`${state.label} at ${clock(item.updatedAtMs)} · requested at ${clock(item.createdAtMs)}`}
        >
          {clockShort(item.updatedAtMs)}
        </span>
      )}
      <span class="chip queue-state" data-tone={state.tone} title={state.hint}>
        <span class="dot" />
        {state.label}
      </span>
      <div class="queue-actions">
        {actionsFor(item.state).map(button)}
        {/* The arrows keep their slot on every row, so the columns line up. */}
        <span class="queue-move">
          {waiting && arrow(true)}
          {waiting && arrow(false)}
        </span>
      </div>
    </li>
  );
}

export const QueueRow = memo(QueueRowView);
