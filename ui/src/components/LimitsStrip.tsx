// The limits strip: one compact line under the top bar with what can stop requests or replies:
// StreamCue's chat replies against Twitch's limit (last 30 s), the viewers' cooldowns running,
// the queue's waiting / max, and the generation state with its Pause toggle. Each reading is a
// `.chip` whose tone says how close it is to its limit (warn near it, err at it).
//
// Invariant: the counts are "as of now" from the times the core sends (it announces changes,
// never ticks): a clock runs only while some send or cooldown is still counting down.

import "./LimitsStrip.css";
import { useSignal } from "@preact/signals";
import { commands, UI_LIMITS } from "../bindings";
import { nextStep, run } from "../cmd";
import { secondsUntil } from "../format";
import { countInWindow, countRunning, limitTone, nextExpiry, waitingCount } from "../queue";
import { update, use } from "../store";
import { useNow } from "../ticker";

type Tone = "ok" | "warn" | "err" | "accent" | "data" | undefined;

/** One reading: a label and its value in a chip. */
function Reading(props: { id: string; label: string; value: string; tone: Tone; title: string; live?: boolean }) {
  return (
    <span
      id={props.id}
      class="chip limits-chip"
      data-tone={props.tone}
      title={props.title}
      aria-live={props.live ? "polite" : undefined}
    >
      <span class="dot" />
      <span class="limits-label">{props.label}</span>
      <span class="limits-value num">{props.value}</span>
    </span>
  );
}

/** The generation state, and the Pause toggle beside it. */
function Generation() {
  const st = use("generator").generator;
  /** The value asked for while the core answers (one change at a time). */
  const pausing = useSignal<boolean | null>(null);
  const error = useSignal<string | null>(null);

  const setPaused = async (paused: boolean) => {
    if (pausing.value !== null) return;
    pausing.value = paused;
    error.value = null;
    const versionBefore = use("generator").versions.generator;
    const out = await run(() => commands.generatorSetPaused(paused));
    pausing.value = null;
    if (!out.ok) {
      const step = nextStep(out.error.code);
      error.value = `Could not ${paused ? "pause" : "resume"} generation: ${out.error.message}${step ? ` ${step}` : ""}`;
      return;
    }
    // A `generator` event that arrived meanwhile is at least as new as this reply: keep it.
    const status = out.data;
    if (use("generator").versions.generator === versionBefore) {
      update(["generator"], (c) => {
        c.generator = status;
      });
    }
  };

  let text = "loading…";
  let tone: Tone;
  let title = "The generator's state is not known yet";
  if (st?.degraded) {
    text = "degraded";
    tone = "err";
    title = `Degraded mode: ${st.degraded.reason}`;
  } else if (st?.paused) {
    text = "paused";
    tone = "warn";
    title = "Paused: approved requests wait until you resume; nothing is lost";
  } else if (st?.current != null) {
    text = "generating";
    tone = "data";
    title = "A clip is being made";
  } else if (st) {
    text = "running";
    tone = "ok";
    title = "Running: approved requests are drawn in queue order";
  }
  const paused = pausing.value ?? st?.paused ?? false;

  return (
    <>
      <Reading id="limit-generation" label="Generation" value={text} tone={tone} title={title} live />
      <button
        id="gen-pause"
        class="btn btn-small limits-pause"
        type="button"
        disabled={!st}
        aria-pressed={paused ? "true" : "false"}
        aria-busy={pausing.value !== null ? "true" : "false"}
        title={
          paused
            ? "Generation is paused: click to resume (approved requests wait meanwhile)"
            : "Pause generation: approved requests wait until you resume; nothing is lost"
        }
        onClick={() => void setPaused(!paused)}
      >
        {paused ? "Resume" : "Pause"}
      </button>
      {error.value && (
        <span class="err-line limits-error" role="alert" title={error.value}>
          {error.value}
          <button
            type="button"
            class="btn-link"
            aria-label="Dismiss"
            title="Dismiss"
            onClick={() => (error.value = null)}
          >
            ×
          </button>
        </span>
      )}
    </>
  );
}

/** Chat replies against Twitch's outgoing limit, and the viewers' cooldowns, as of now. */
function ReplyAndCooldowns() {
  const limits = use("limits").limits;
  const replies = limits?.replies ?? null;
  const cooldowns = limits?.cooldowns ?? null;
  // The last moment a count drops (a send leaves the window, a cooldown ends): the clock runs
  // until then, and not at all while nothing is counting down.
  let lastChange = 0;
  if (replies) for (const t of replies.sentAtMs) lastChange = Math.max(lastChange, t + replies.windowMs);
  if (cooldowns) for (const t of cooldowns.endsAtMs) lastChange = Math.max(lastChange, t);
  // Counted as of this render: a tick's time, or later when an event re-rendered it.
  const now = Math.max(useNow(1000, lastChange > Date.now()), Date.now());

  let replyValue = "–";
  let replyTone: Tone;
  let replyTitle = "StreamCue's chat replies against Twitch's limit: not known yet";
  if (replies?.readOnly) {
    replyValue = "off";
    replyTitle =
      "StreamCue cannot speak in this chat (no Twitch chat, the demo, or not logged in): replies to viewers are dropped";
  } else if (replies) {
    const sent = countInWindow(replies.sentAtMs, replies.windowMs, now);
    const secs = Math.round(replies.windowMs / 1000);
    replyValue = `${sent}/${replies.limit}`;
    replyTone = limitTone(sent, replies.limit);
    replyTitle =
      `StreamCue's chat replies in the last ${secs} s: ${sent} of Twitch's limit of ${replies.limit}` +
      (sent >= replies.limit ? ". More replies wait until older ones leave the window." : "");
  }

  let coolValue = "–";
  let coolTone: Tone;
  let coolTitle = "Viewers waiting out their cooldown after a request: not known yet";
  if (cooldowns) {
    const running = countRunning(cooldowns.endsAtMs, now);
    const next = nextExpiry(cooldowns.endsAtMs, now);
    // The core lists the latest ones only: a full list may mean more are running.
    const more = running > 0 && running === cooldowns.endsAtMs.length && running >= UI_LIMITS.cooldownsListedMax;
    coolValue = more ? `${running}+` : String(running);
    coolTone = running > 0 ? "data" : undefined;
    const rule = `a viewer waits ${cooldowns.cooldownSecs} s after an accepted request before asking again`;
    coolTitle =
      running === 0
        ? `No viewer is waiting out a cooldown (${rule})`
        : `${coolValue} viewer${running === 1 ? " is" : "s are"} waiting out a cooldown (${rule})` +
          (next !== null ? `; the next one ends in ${secondsUntil(next, now)} s` : "");
  }

  return (
    <>
      <Reading id="limit-replies" label="Replies" value={replyValue} tone={replyTone} title={replyTitle} />
      <Reading id="limit-cooldowns" label="Cooldowns" value={coolValue} tone={coolTone} title={coolTitle} />
    </>
  );
}

export function LimitsStrip() {
  const q = use("queue").queue;
  const waiting = waitingCount(q);
  const max = q.maxWaiting;

  return (
    <div id="limits-strip" class="limits-strip" role="group" aria-label="Limits">
      <ReplyAndCooldowns />
      <Reading
        id="limit-queue"
        label="Queue"
        value={max > 0 ? `${waiting}/${max}` : String(waiting)}
        tone={limitTone(waiting, max)}
        title={
          max > 0 && waiting >= max
            ? `The queue is full (${waiting} of ${max}): new requests from chat are refused until you skip some or they are drawn`
            : `Requests waiting to be drawn: ${waiting}${max > 0 ? ` of at most ${max}` : ""}`
        }
      />
      <Generation />
    </div>
  );
}
