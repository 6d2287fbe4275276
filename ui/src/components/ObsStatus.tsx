// The OBS status card (right column, beside the recorder's): the connection (with "retrying in
// N s" while OBS is away), the program scene, whether OBS records, what StreamCue has it show,
// and **Set up OBS** with its report. OBS's settings form lives in Settings → OBS.
//
// Invariants: `#obs-state[data-state]` is the connection's state; `#obs-scene` holds only the
// scene's name; the clock ticks only while a countdown is on screen.

import "./ObsStatus.css";
import { useEffect, useState } from "preact/hooks";
import { commands } from "../bindings";
import { nextStep, useCommand } from "../cmd";
import { describeObs, obsCountingDown, setupReportText, showingText } from "../obs";
import { use } from "../store";
import { useNow } from "../ticker";
import { openSettings } from "../ui";

export function ObsStatus() {
  const cache = use("obs", "queue");
  const view = cache.obs;
  const now = useNow(1000, obsCountingDown(view));
  const setUp = useCommand(commands.obsSetUp);
  const [report, setReport] = useState<{ text: string; title: string } | null>(null);

  // A report is about the settings it ran with: a change of them makes it stale.
  const settingsKey = view ? JSON.stringify(view.settings) : "";
  useEffect(() => {
    setReport(null);
    setUp.clearError();
  }, [settingsKey]);

  const settingsLink = (
    <button
      type="button"
      class="btn btn-link btn-small obs-status-settings"
      onClick={() => openSettings("obs")}
      title="OBS settings: the connection, and the names of the scenes and sources StreamCue drives"
      aria-label="OBS settings"
    >
      Settings
    </button>
  );

  if (!view) {
    return (
      <section id="obs-panel" class="card obs-status" aria-label="OBS" data-state="loading">
        <div class="card-head">
          <h2 class="card-title">OBS</h2>
          <span id="obs-state" class="obs-status-state" aria-live="polite">
            <span class="dot" />
            <span id="obs-conn" class="obs-status-conn">
              loading…
            </span>
          </span>
        </div>
      </section>
    );
  }

  const d = describeObs(view, now);
  const connected = d.key === "connected";
  const showing = connected ? showingText(view.state, cache.queue.items) : null;

  async function runSetUp() {
    setReport(null);
    const out = await setUp.run();
    if (out?.ok) setReport(setupReportText(out.data));
  }

  return (
    <section id="obs-panel" class="card obs-status" aria-label="OBS" data-state={d.key}>
      <div class="card-head">
        <h2 class="card-title">OBS</h2>
        <span
          id="obs-state"
          class="obs-status-state"
          data-state={d.key}
          data-tone={d.tone ?? undefined}
          title={d.title}
          aria-live="polite"
        >
          <span class="dot" />
          <span id="obs-conn" class="obs-status-conn">
            {d.text}
          </span>
        </span>
      </div>

      {connected ? (
        <div class="obs-status-line">
          <span class="obs-status-label">Scene</span>
          <span id="obs-scene" class="obs-status-scene" title={d.scene !== null ? `Program scene: ${d.scene}` : ""}>
            {d.scene ?? ""}
          </span>
          {d.recording && (
            <span id="obs-recording" class="obs-status-rec" data-on="true" title="OBS is recording">
              <span class="dot" />
              REC
            </span>
          )}
          {view.state.hero && (
            <span class="chip obs-status-hero" data-tone="warn" title="Degraded mode: OBS shows the Hero Shot scene">
              Hero shot
            </span>
          )}
          {showing && (
            <span class="obs-status-showing" title={showing.title}>
              {showing.text}
            </span>
          )}
        </div>
      ) : (
        d.hint && (
          <p class="obs-status-hint muted" title={d.hint}>
            {d.hint}
          </p>
        )
      )}

      <div class="obs-status-actions">
        {connected && (
          <button
            id="obs-setup"
            type="button"
            class="btn btn-small"
            disabled={setUp.busy}
            aria-busy={setUp.busy}
            onClick={() => void runSetUp()}
            title="Creates the scenes and sources StreamCue drives in OBS, where they are missing"
          >
            {setUp.busy ? "Setting up…" : "Set up OBS"}
          </button>
        )}
        <span class="spacer" />
        {settingsLink}
      </div>

      <span
        id="obs-setup-result"
        class="obs-status-result ok-line"
        role="status"
        data-ok={report ? "true" : undefined}
        title={report ? report.title || report.text : undefined}
        hidden={!report}
      >
        {report?.text ?? ""}
      </span>

      {setUp.error && (
        <p class="err-line obs-status-error" role="alert" data-code={setUp.error.code}>
          {setUp.error.message} {nextStep(setUp.error.code)}
        </p>
      )}
    </section>
  );
}
