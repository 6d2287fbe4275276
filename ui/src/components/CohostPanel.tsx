// The Co-host card (right column, above Moments): the AI co-host's mode and backend, its counters
// (answered, failed, drafts sent / edited / discarded, p50 / p95 latency, tokens), its last
// failure, and the drafts waiting for the streamer (Send, Edit then Send, Discard). Off, it is one
// line saying where to turn it on. Its settings live in Settings → Co-host.
//
// Invariants: `#cohost[data-enabled]` says whether it listens; draft rows are keyed by draft id
// and memoised by value (an event sends new objects), so an edit in progress survives updates;
// no clock: a draft's expiry is a fixed time of day, and nothing here ticks.

import "./CohostPanel.css";
import {
  backendText,
  backendTitle,
  cohostOn,
  counterItems,
  emptyDraftsText,
  lastErrorText,
  MODE_HINT,
  MODE_LABEL,
} from "../cohost";
import { use } from "../store";
import { openSettings } from "../ui";
import { CohostDraftRow } from "./CohostDraftRow";

function SettingsLink({ label }: { label: string }) {
  return (
    <button
      type="button"
      class="btn btn-link btn-small cohost-settings"
      title="Co-host settings: backend, model, persona, when it answers, limits"
      onClick={() => openSettings("cohost")}
    >
      {label}
    </button>
  );
}

export function CohostPanel() {
  const st = use("cohost").cohost;

  if (!st) {
    return (
      <section id="cohost" class="card cohost" aria-label="Co-host">
        <div class="card-head">
          <h2 class="card-title">Co-host</h2>
          <span class="muted cohost-line">loading…</span>
        </div>
      </section>
    );
  }

  if (!cohostOn(st)) {
    return (
      <section id="cohost" class="card cohost is-off" aria-label="Co-host" data-enabled="false">
        <div class="card-head cohost-head">
          <h2 class="card-title">Co-host</h2>
          <span id="cohost-off" class="muted cohost-line">
            Co-host off — turn it on in <SettingsLink label="Settings → Co-host" />
          </span>
        </div>
      </section>
    );
  }

  const s = st.settings;
  const failure = lastErrorText(st);
  const drafts = st.drafts;
  return (
    <section
      id="cohost"
      class="card cohost"
      aria-labelledby="cohost-title"
      data-enabled="true"
      data-mode={s.mode}
      data-backend={s.backend}
    >
      <div class="card-head cohost-head">
        <h2 id="cohost-title" class="card-title">
          Co-host
        </h2>
        <span id="cohost-mode" class="chip cohost-mode" data-tone={s.mode === "auto" ? "warn" : "accent"} title={MODE_HINT[s.mode]}>
          {MODE_LABEL[s.mode]}
        </span>
        <span id="cohost-backend" class="cohost-backend" data-backend={s.backend} title={backendTitle(s)}>
          {backendText(s)}
        </span>
        {st.inFlight > 0 && (
          <span id="cohost-busy" class="chip cohost-busy" data-tone="data" title="Questions the model is answering now">
            answering {st.inFlight}
          </span>
        )}
        <span class="spacer" />
        <span
          id="cohost-count"
          class="cohost-count num"
          data-count={String(drafts.length)}
          aria-live="polite"
          title="Drafts waiting for you"
        >
          {String(drafts.length)}
        </span>
        <SettingsLink label="Settings" />
      </div>

      <dl class="cohost-counters" aria-label="Co-host counters (all time) and latency (recent answers)">
        {counterItems(st).map((c) => (
          <div key={c.key} class="cohost-counter" data-zero={c.zero || undefined} title={c.title}>
            <dt>{c.label}</dt>
            <dd id={`cohost-${c.key}`} class="num">
              {c.value}
            </dd>
          </div>
        ))}
      </dl>

      {failure && (
        <p id="cohost-last-error" class="err-line cohost-last-error" role="status" title={failure.text}>
          {failure.text}
          {failure.at && <span class="cohost-last-error-at num"> ({failure.at})</span>}
        </p>
      )}

      {drafts.length > 0 ? (
        <ol id="cohost-drafts" class="cohost-drafts scroll" aria-label="Drafts, oldest first">
          {drafts.map((d) => (
            <CohostDraftRow key={d.id} draft={d} />
          ))}
        </ol>
      ) : (
        <p id="cohost-empty" class="empty cohost-empty">
          {emptyDraftsText(st)}
        </p>
      )}
    </section>
  );
}
