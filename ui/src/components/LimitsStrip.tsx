// The limits strip: one compact line under the top bar with what can stop requests or replies:
// StreamCue's chat replies against Twitch's limit (last 30 s), the viewers' cooldowns running,
// the queue's waiting / max, and the generation state with its Pause toggle. Each reading is a
// `.chip` whose tone says how close it is to its limit (warn near it, err at it).
//
// Invariant: the counts are "as of now" from end times the core sends (it announces changes,
// never ticks): a clock runs only while some send or cooldown is still counting down.

import "./LimitsStrip.css";
import { useSignal } from "@preact/signals";
import { commands } from "../bindings";
import { nextStep, run } from "../cmd";
import { limitTone, waitingCount } from "../queue";
import { update, use } from "../store";

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

export function LimitsStrip() {
  const q = use("queue").queue;
  const waiting = waitingCount(q);
  const max = q.maxWaiting;

  return (
    <div id="limits-strip" class="limits-strip" role="group" aria-label="Limits">
      <Reading
        id="limit-replies"
        label="Replies"
        value="–"
        tone={undefined}
        title="StreamCue's chat replies in the last 30 s against Twitch's limit: not known yet"
      />
      <Reading
        id="limit-cooldowns"
        label="Cooldowns"
        value="–"
        tone={undefined}
        title="Viewers waiting out their cooldown after a request: not known yet"
      />
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
