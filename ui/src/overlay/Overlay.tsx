// The overlay page: "Now watching", "Now generating", "Up next" and "Last moment" panels over the
// stream, each drawn only when it has something to show (and the URL asks for it).
//
// Invariants: viewers' text (names, prompts) is only ever rendered as text; lists are keyed by
// request id; nothing ticks (the moment's age is as of the last render) and nothing animates
// except a one-shot fade-in when a panel or a row appears.

import type { Signal } from "@preact/signals";
import { viewerName } from "../queue";
import { loaded, use } from "../store";
import type { OverlayParams } from "./params";
import { shortUrl } from "../watch";
import { lastMoment, minutesAgo, nowGenerating, nowWatching, upNext } from "./view";

function Watching() {
  const w = nowWatching(use("watch"));
  if (!w) return null;
  const { session, playing } = w;
  const by = session.source === "window" ? null : session.requester.trim();
  return (
    // Keyed by session: the next one fades in as a new panel.
    <section key={session.id} id="overlay-watch" class="ov-panel" data-status={session.status} aria-label="Watch-along">
      <div class="ov-label">{playing ? "Now watching" : "Starting the watch-along…"}</div>
      <div class="ov-link">{shortUrl(session.url)}</div>
      {by && <div class="ov-by">asked by {by}</div>}
    </section>
  );
}

function Now() {
  const now = nowGenerating(use("queue", "progress"));
  if (!now) return null;
  const { item, percent } = now;
  return (
    // Keyed by request: the next generation fades in as a new panel.
    <section key={item.id} id="overlay-now" class="ov-panel" data-id={item.id} aria-label="Now generating">
      <div class="ov-label">Now generating</div>
      <div class="prompt">{item.prompt}</div>
      <div class="ov-by">{viewerName(item)}</div>
      {percent !== null && (
        <div class="ov-bar" role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={percent}>
          <div class="ov-bar-fill" style={{ width: `${percent}%` }} />
        </div>
      )}
    </section>
  );
}

function Next() {
  const next = upNext(use("queue"));
  if (next.length === 0) return null;
  return (
    <section id="overlay-next" class="ov-panel" aria-label="Up next">
      <div class="ov-label">Up next</div>
      <ol class="ov-list">
        {next.map((it) => (
          <li key={it.id} data-id={it.id}>
            <span class="ov-name">{viewerName(it)}:</span> <span class="prompt">{it.prompt}</span>
          </li>
        ))}
      </ol>
    </section>
  );
}

function LastMoment() {
  const m = lastMoment(use("main", "kick"));
  if (!m) return null;
  return (
    <section key={m.id} id="overlay-moment" class="ov-panel" data-id={m.id} aria-label="Last moment">
      <div class="ov-label">Last moment</div>
      <div class="ov-triggers">
        {m.triggers.map((t, i) => (
          <span key={i} class="ov-trigger">
            {t.label}
          </span>
        ))}
      </div>
      {m.note !== "" && <div class="ov-note">{m.note}</div>}
      <div class="ov-ago">{minutesAgo(m.startedAtMs, Date.now())}</div>
    </section>
  );
}

export function Overlay({ params, live }: { params: OverlayParams; live: Signal<boolean> }) {
  return (
    <main
      id="overlay"
      data-theme={params.theme}
      data-ready={loaded.value ? "true" : "false"}
      data-live={live.value ? "true" : "false"}
    >
      {params.show.has("watch") && <Watching />}
      {params.show.has("now") && <Now />}
      {params.show.has("queue") && <Next />}
      {params.show.has("moment") && <LastMoment />}
    </main>
  );
}
