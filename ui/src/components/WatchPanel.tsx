// The Watch-along card (right column, under the Co-host): a link becomes a shared viewing, played
// by OBS's Watch-along scene or handed to a screen-share controller (Settings → Watch-along). Idle, it is one line: the link field and Start (Enter starts),
// then the last failure in words with its code when the latest session failed. While a session
// is active, two lines: its status, the link and Stop; how long ago, who asked, where it plays.
// A start's or stop's refusal (the core's sentence, `data-code` its code) shows under either.
// Viewers' links waiting for Play or Deny (when viewers may ask) are one row each under it, at
// most ASKS_SHOWN (then "+N more"). With the controller picked but no address set, it is one
// line saying where to set one up. Its settings live in Settings → Watch-along.
//
// Invariants: the elapsed time is the only clock here, and it runs only while a session is active
// (`Elapsed` is mounted only then); codes come from the core, never from its words.

import "./WatchPanel.css";
import { useSignal } from "@preact/signals";
import { commands, type WatchAskView, type WatchErrorCode, type WatchSessionView } from "../bindings";
import { nextStep, useCommand } from "../cmd";
import { clock } from "../format";
import { cache as storeCache, update, use } from "../store";
import { useNow } from "../ticker";
import { openSettings } from "../ui";
import {
  adoptStartedSession,
  codeSentence,
  elapsedText,
  lastFailure,
  refusalText,
  requesterText,
  shortUrl,
  STATUS_LABEL,
  STATUS_TONE,
  statusTitle,
  watchConfigured,
} from "../watch";

function SettingsLink({ label }: { label: string }) {
  return (
    <button
      type="button"
      class="btn btn-link btn-small watch-settings"
      title="Watch-along settings: the screen-share controller, the Discord voice channel, the start timeout"
      onClick={() => openSettings("watch")}
    >
      {label}
    </button>
  );
}

/** Time since the session was asked for, ticking every second (mounted only while active). */
function Elapsed({ session }: { session: WatchSessionView }) {
  const now = useNow(1000, true);
  return (
    <span id="watch-elapsed" class="watch-elapsed num" title={`Time since it was asked for (${clock(session.createdMs)})`}>
      {elapsedText(session.createdMs, now)}
    </span>
  );
}

interface Refusal {
  code: WatchErrorCode;
  text: string;
}

/** Viewers' waiting links shown at once (the card stays bounded at 1280×720). */
const ASKS_SHOWN = 2;

/** Viewers' links waiting for the streamer: Play starts it (as if they were a moderator), Deny
 *  tells them no. A refusal (busy, OBS away) shows under the rows; the link keeps waiting. */
function Asks({ asks, onRefused }: { asks: WatchAskView[]; onRefused: (r: Refusal) => void }) {
  const decide = useCommand(commands.watchDecideAsk);
  if (asks.length === 0) return null;
  async function run(id: number, play: boolean) {
    const out = await decide.run(id, play);
    if (out?.ok && out.data) onRefused({ code: out.data.code, text: out.data.message.trim() || codeSentence(out.data.code) });
  }
  const more = asks.length - ASKS_SHOWN;
  return (
    <ul id="watch-asks" class="watch-asks" aria-label="Viewers' links waiting for you">
      {asks.slice(0, ASKS_SHOWN).map((a) => (
        <li key={a.id} class="watch-ask" data-id={a.id}>
          <span class="watch-ask-who">{a.viewer}</span>
          <span class="watch-link" title={`${a.url}\nAsked at ${clock(a.createdMs)}`}>
            {shortUrl(a.url)}
          </span>
          <button class="btn btn-small btn-primary watch-ask-play" type="button" disabled={decide.busy}
            title="Play it now (as if a moderator had asked)" onClick={() => void run(a.id, true)}>
            Play
          </button>
          <button class="btn btn-small watch-ask-deny" type="button" disabled={decide.busy}
            title="Say no (the viewer is told)" onClick={() => void run(a.id, false)}>
            Deny
          </button>
        </li>
      ))}
      {more > 0 && (
        <li class="watch-ask-more muted" title={asks.slice(ASKS_SHOWN).map((a) => `${a.viewer}: ${a.url}`).join("\n")}>
          +{more} more waiting
        </li>
      )}
      {decide.error && (
        <li class="err-line" role="alert" data-code={decide.error.code}>
          {decide.error.message}
        </li>
      )}
    </ul>
  );
}

export function WatchPanel() {
  const view = use("watch").watch;
  const start = useCommand(commands.watchStart);
  const stop = useCommand(commands.watchStop);
  const link = useSignal("");
  const refusal = useSignal<Refusal | null>(null);

  if (!view) {
    return (
      <section id="watch" class="card watch" aria-label="Watch-along">
        <div class="card-head watch-head">
          <h2 class="card-title">Watch-along</h2>
          <span class="muted watch-line">loading…</span>
        </div>
      </section>
    );
  }

  if (!watchConfigured(view)) {
    return (
      <section id="watch" class="card watch is-off" aria-label="Watch-along" data-configured="false">
        <div class="card-head watch-head">
          <span id="watch-setup" class="muted watch-setup" title="Watch-along: set up a screen-share controller in Settings → Watch-along">
            <span class="watch-line">Watch-along: set up a screen-share controller in</span>{" "}
            <SettingsLink label="Settings → Watch-along" />
          </span>
        </div>
      </section>
    );
  }

  const current = view.current;
  const failure = lastFailure(view);
  const error = start.error ?? stop.error;
  const busy = start.busy || stop.busy;

  async function onStart() {
    const text = link.value.trim();
    if (text === "" || busy) return;
    refusal.value = null;
    stop.clearError();
    const versionBefore = storeCache.versions.watch;
    const out = await start.run(text);
    if (!out?.ok) return;
    const data = out.data;
    if (data.outcome === "refused") {
      refusal.value = refusalText(data);
      return;
    }
    link.value = "";
    update(["watch"], (c) => adoptStartedSession(c, data.session, versionBefore));
  }

  async function onStop() {
    if (busy) return;
    refusal.value = null;
    start.clearError();
    const out = await stop.run();
    if (out?.ok && out.data) refusal.value = { code: out.data.code, text: out.data.message.trim() || codeSentence(out.data.code) };
  }

  const tone = current ? STATUS_TONE[current.status] : null;
  const who = current ? requesterText(current) : null;
  return (
    <section
      id="watch"
      class="card watch"
      aria-labelledby="watch-title"
      data-configured="true"
      data-active={current ? "true" : "false"}
    >
      <div class="card-head watch-head">
        <h2 id="watch-title" class="card-title">
          Watch-along
        </h2>
        {current ? (
          <>
            <span
              id="watch-status"
              class="chip watch-status"
              data-status={current.status}
              data-tone={tone ?? undefined}
              title={statusTitle(current)}
              aria-live="polite"
            >
              <span class="dot" />
              {STATUS_LABEL[current.status]}
            </span>
            <span id="watch-link" class="watch-link" title={current.url}>
              {shortUrl(current.url)}
            </span>
            <button
              id="watch-stop"
              class="btn btn-small btn-danger"
              type="button"
              disabled={busy}
              aria-busy={stop.busy ? "true" : "false"}
              title={`Stop it on ${current.target} (the controller is told)`}
              onClick={() => void onStop()}
            >
              {stop.busy ? "Stopping…" : "Stop"}
            </button>
          </>
        ) : (
          <>
            <label class="visually-hidden" for="watch-url">
              Link to watch
            </label>
            <input
              id="watch-url"
              class="input watch-url"
              type="text"
              inputmode="url"
              placeholder="Paste a link to watch"
              title={`A public http(s) link (YouTube, Twitch, Vimeo or a video file): ${view.settings.executor === "obs" ? "OBS's Watch-along scene" : "the screen-share controller"} plays it`}
              autocomplete="off"
              autocapitalize="off"
              spellcheck={false}
              maxLength={2000}
              value={link.value}
              disabled={start.busy}
              aria-invalid={refusal.value ? "true" : "false"}
              aria-describedby={refusal.value ? "watch-refusal" : undefined}
              onInput={(e) => {
                link.value = e.currentTarget.value;
                refusal.value = null;
                if (start.error) start.clearError();
              }}
              onKeyDown={(e) => {
                if (e.key === "Enter" && !e.isComposing) {
                  e.preventDefault();
                  void onStart();
                }
              }}
            />
            <button
              id="watch-start"
              class="btn btn-small btn-primary"
              type="button"
              disabled={busy || link.value.trim() === ""}
              aria-busy={start.busy ? "true" : "false"}
              onClick={() => void onStart()}
            >
              {start.busy ? "Starting…" : "Start"}
            </button>
            <SettingsLink label="Settings" />
          </>
        )}
      </div>

      {current && who && (
        <p class="watch-meta">
          <Elapsed session={current} />
          {" · "}
          <span id="watch-who" title={who.title}>
            {who.text}
          </span>
          {` · on ${current.target}`}
        </p>
      )}

      <Asks asks={view.asks} onRefused={(r) => (refusal.value = r)} />

      {refusal.value ? (
        <p id="watch-refusal" class="err-line watch-line-clamp" role="alert" data-code={refusal.value.code} title={refusal.value.text}>
          {refusal.value.text}
        </p>
      ) : error ? (
        <p id="watch-error" class="err-line watch-line-clamp" role="alert" data-code={error.code} title={error.message}>
          {error.message}
          {nextStep(error.code) && ` ${nextStep(error.code)}`}
        </p>
      ) : (
        !current &&
        failure && (
          <p
            id="watch-last-failure"
            class="watch-failure"
            data-code={failure.code ?? undefined}
            title={`${failure.session.url}\n${failure.text}`}
          >
            <span class="watch-failure-head">Last one failed at {failure.at}</span>
            {failure.code && <span class="watch-code mono"> {failure.code}</span>}: {failure.text}
          </p>
        )
      )}
    </section>
  );
}
