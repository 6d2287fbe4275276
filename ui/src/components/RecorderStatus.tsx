// The recorder status card (right column, beside OBS's): what the recorder is doing, Start and
// Stop, the file it writes (or wrote last) with its size and growth, and what to do when it
// stalls or fails. Its settings (mode, URL, padding) live in Settings → Recorder.
//
// Invariants: `#recorder-state[data-phase]` is the recorder's phase; Start and Stop are always
// directly clickable here (never inside a collapsed part); a Start/Stop reply older than a
// `recorder` event does not overwrite it.

import "./RecorderStatus.css";
import { commands } from "../bindings";
import { cache as storeCache, update, use } from "../store";
import { nextStep, useCommand } from "../cmd";
import { basename } from "../format";
import {
  adoptRecorderState,
  describeRecorder,
  isRunning,
  MODE_LABEL,
  phaseLabel,
  phaseTone,
  problemText,
  sizeText,
  startBlocked,
} from "../recorder";
import { openSettings } from "../ui";

export function RecorderStatus() {
  const rec = use("recorder").recorder;
  const start = useCommand(commands.recorderStart);
  const stop = useCommand(commands.recorderStop);
  const reveal = useCommand(commands.revealInFolder);

  if (!rec) {
    return (
      <section id="recorder-panel" class="card rec-status" aria-label="Recorder">
        <div class="card-head">
          <h2 class="card-title">Recorder</h2>
          <span id="recorder-state" class="rec-status-state" aria-live="polite">
            <span class="dot" />
            loading…
          </span>
        </div>
      </section>
    );
  }

  const s = rec.state;
  const running = isRunning(s);
  const acting = start.busy || stop.busy;
  const blocked = startBlocked(rec.settings);
  const size = sizeText(s);
  const problem = problemText(s);
  const error = start.error ?? stop.error;

  async function act(which: "start" | "stop") {
    const versionBefore = storeCache.versions.recorder;
    start.clearError();
    stop.clearError();
    const out = which === "start" ? await start.run() : await stop.run();
    if (out?.ok) update(["recorder"], (c) => adoptRecorderState(c, out.data, versionBefore));
  }

  return (
    <section id="recorder-panel" class="card rec-status" aria-label="Recorder" data-phase={s.phase}>
      <div class="card-head">
        <h2 class="card-title">Recorder</h2>
        <span
          id="recorder-state"
          class="rec-status-state"
          data-phase={s.phase}
          data-tone={phaseTone(s) ?? undefined}
          title={`${MODE_LABEL[s.mode]}: ${describeRecorder(s)}`}
          aria-live="polite"
        >
          <span class="dot" />
          {phaseLabel(s)}
        </span>
      </div>

      <div class="rec-status-line">
        {s.path ? (
          <>
            <span id="recorder-path" class="rec-status-path mono" title={s.path}>
              {basename(s.path)}
            </span>
            {size && <span class="rec-status-size num">{size}</span>}
          </>
        ) : (
          <span class="muted rec-status-none">
            {blocked ? `Recording is off: ${blocked[0]!.toLowerCase()}${blocked.slice(1)}.` : `${MODE_LABEL[rec.settings.mode]} · no file yet`}
          </span>
        )}
      </div>

      {problem && (
        <p class={`rec-status-problem ${problem.tone === "err" ? "err-line" : ""}`} data-tone={problem.tone} title={problem.text} role="status">
          {problem.text}
        </p>
      )}

      <div class="rec-status-actions">
        {running ? (
          <button
            id="recorder-stop"
            type="button"
            class="btn btn-small btn-danger"
            disabled={acting}
            aria-busy={stop.busy}
            title="Stop recording"
            onClick={() => void act("stop")}
          >
            {stop.busy ? "Stopping…" : "Stop"}
          </button>
        ) : (
          <button
            id="recorder-start"
            type="button"
            class="btn btn-small btn-primary"
            disabled={acting || blocked !== null}
            aria-busy={start.busy}
            title={blocked ?? "Start recording"}
            onClick={() => void act("start")}
          >
            {start.busy ? "Starting…" : "Start"}
          </button>
        )}
        {s.path && (
          <button
            type="button"
            class="btn btn-small rec-status-reveal"
            data-action="reveal"
            disabled={reveal.busy}
            title={`Open the folder of ${s.path}`}
            onClick={() => void reveal.run(s.path!)}
          >
            Show file
          </button>
        )}
        <span class="spacer" />
        <button
          type="button"
          class="btn btn-link btn-small rec-status-settings"
          onClick={() => openSettings("recorder")}
          title="Recorder settings: what to record (OBS's recording or Streamlink), and how much to keep around a moment"
          aria-label="Recorder settings"
        >
          Settings
        </button>
      </div>

      {error && (
        <p class="err-line rec-status-error" role="alert" data-code={error.code}>
          {error.message} {nextStep(error.code)}
        </p>
      )}
      {reveal.error && (
        <p class="err-line rec-status-error" role="alert" data-code={reveal.error.code}>
          {reveal.error.message}
        </p>
      )}
    </section>
  );
}
