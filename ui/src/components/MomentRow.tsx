// One moment in the Moments list: when (clock time and stream offset), whether it is still going
// on, its strength, what triggered it, which chat it came from, a note (saved on Enter or when
// the field is left; Esc puts the saved one back), Cut clip, and the moment's clips.
//
// Invariants: a memo row, re-rendered only when its moment, its clips or its badges change (a
// live update of another moment never touches it, nor replaces its buttons). The note field
// shows the saved note unless the streamer is in it or changed it; text typed while a save is in
// flight is kept (and saved next).

import { memo } from "preact/compat";
import { useEffect, useRef, useState } from "preact/hooks";
import { type ApiError, type Clip, commands, type Moment } from "../bindings";
import { nextStep, run, useCommand } from "../cmd";
import { basename, clock, formatOffset } from "../format";
import { decideNote, isLive, kindsAttr, labelsOf, NOTE_MAX, strengthText, timeTitle, triggerTitle } from "../moments";
import { clipLength, clipMeta, clipWidened } from "../recorder";
import { upsertClip, upsertMoment } from "../state";
import { update } from "../store";

export interface MomentRowProps {
  m: Moment;
  /** From the Kick chat (a Kick badge). */
  kick: boolean;
  /** The moment's clips, newest first. */
  clips: readonly Clip[];
  /** Cut clip's tooltip (how much it keeps around the moment). */
  cutTitle: string;
}

function sameClips(a: readonly Clip[], b: readonly Clip[]): boolean {
  return a.length === b.length && a.every((c, i) => c === b[i]);
}

export const MomentRow = memo(
  function MomentRow({ m, kick, clips, cutTitle }: MomentRowProps) {
    const live = isLive(m);
    const at = clock(m.startedAtMs);
    const cut = useCommand(commands.clipCut);

    async function cutClip() {
      const out = await cut.run(m.id);
      if (out?.ok) update(["recorder"], (c) => void upsertClip(c, out.data));
    }

    return (
      <li
        class="moment-row"
        data-id={m.id}
        data-kinds={kindsAttr(m)}
        data-live={String(live)}
        data-source={kick ? "kick" : "main"}
        aria-label={`${at}: ${labelsOf(m)}`}
      >
        <div class="mr-top">
          <span class="mr-time num" title={timeTitle(m)}>
            {at}
          </span>
          <span class="mr-offset num" title="Time into the stream (from the start of the chat session)">
            +{formatOffset(m.offsetMs)}
          </span>
          {kick && (
            <span class="chip mr-badge mr-kick" title="From the Kick chat">
              Kick
            </span>
          )}
          {live && (
            <span class="chip mr-badge" data-tone="err" title="Still going on">
              <span class="dot" />
              live
            </span>
          )}
          <span class="mr-chips" title={labelsOf(m)}>
            {m.triggers.map((t, i) => (
              <span key={`${t.kind}-${i}`} class="mr-chip" data-kind={t.kind} title={triggerTitle(t)}>
                {t.label}
              </span>
            ))}
          </span>
          <span
            class="mr-strength num"
            title={`Strength ${m.strength.toFixed(2)}: how far past its threshold the strongest trigger went`}
          >
            {strengthText(m)}
          </span>
          <button
            type="button"
            class="btn btn-small mr-cut"
            data-action="cutClip"
            disabled={cut.busy}
            aria-busy={cut.busy}
            title={cutTitle}
            onClick={() => void cutClip()}
          >
            {cut.busy ? "Cutting…" : "Cut clip"}
          </button>
        </div>
        <MomentNote m={m} at={at} />
        {cut.error && (
          <div class="err-line" role="alert" data-code={cut.error.code}>
            {cut.error.message} {nextStep(cut.error.code)}
          </div>
        )}
        {clips.length > 0 && (
          <div class="moment-clips">
            {clips.map((c) => (
              <MomentClip key={c.id} clip={c} />
            ))}
          </div>
        )}
      </li>
    );
  },
  (a, b) => a.m === b.m && a.kick === b.kick && a.cutTitle === b.cutTitle && sameClips(a.clips, b.clips),
);

/** How long a saved note's field keeps its green edge. */
const SAVED_EDGE_MS = 1500;

/** The note field and its error. */
function MomentNote({ m, at }: { m: Moment; at: string }) {
  const input = useRef<HTMLInputElement>(null);
  /** What the field holds while the streamer is in it or has changed it; null: the saved note. */
  const [draft, setDraft] = useState<string | null>(null);
  /** Changed since the last save (a ref too: key and blur handlers run before a re-render). */
  const [dirty, setDirtyState] = useState(false);
  const dirtyRef = useRef(false);
  const setDirty = (d: boolean) => {
    dirtyRef.current = d;
    setDirtyState(d);
  };
  /** A save is in flight (one at a time). */
  const [saving, setSaving] = useState(false);
  const savingRef = useRef(false);
  const [error, setError] = useState<ApiError | null>(null);
  /** Just saved: a short green edge says it was kept. */
  const [saved, setSaved] = useState(false);
  const savedTimer = useRef<ReturnType<typeof setTimeout>>();
  useEffect(() => () => clearTimeout(savedTimer.current), []);

  const focused = () => document.activeElement === input.current;

  async function save() {
    const el = input.current;
    if (!el || savingRef.current) return; // one at a time; the next Enter/blur sends the rest
    const typed = el.value;
    const d = decideNote(typed, m.note);
    if (d.kind === "unchanged") {
      setDirty(false);
      setError(null);
      if (!focused()) setDraft(null);
      return;
    }
    if (d.kind === "tooLong") {
      setError({ code: "InvalidSettings", message: d.message });
      return;
    }
    savingRef.current = true;
    setSaving(true);
    setError(null);
    try {
      const out = await run(() => commands.momentsSetNote(m.id, d.text));
      if (out.ok) {
        update(["main", "kick", "history"], (c) => void upsertMoment(c, out.data));
        // Typed on while saving: keep that text (and its dirty mark) for the next save.
        if (input.current?.value === typed) {
          setDirty(false);
          setDraft(focused() ? out.data.note : null);
          setSaved(true);
          clearTimeout(savedTimer.current);
          savedTimer.current = setTimeout(() => setSaved(false), SAVED_EDGE_MS);
        }
      } else {
        setError(out.error);
      }
    } finally {
      savingRef.current = false;
      setSaving(false);
    }
  }

  return (
    <>
      <input
        ref={input}
        type="text"
        class={`moment-note${dirty ? " is-dirty" : ""}${saved ? " is-saved flash-once" : ""}`}
        value={draft ?? m.note}
        maxLength={NOTE_MAX}
        placeholder="Add a note…"
        spellcheck
        autocomplete="off"
        aria-label={`Note for the moment at ${at}`}
        aria-busy={saving}
        aria-invalid={error !== null}
        title="A note for this moment: saved when you press Enter or leave the field (Esc puts it back)"
        onFocus={(e) => setDraft(e.currentTarget.value)}
        onInput={(e) => {
          setDraft(e.currentTarget.value);
          setDirty(true);
          setSaved(false);
        }}
        onKeyDown={(e) => {
          if (e.key === "Enter" && !e.isComposing) {
            e.preventDefault();
            void save();
          } else if (e.key === "Escape") {
            setDirty(false);
            setError(null);
            setDraft(null);
            e.currentTarget.value = m.note;
            e.currentTarget.blur();
          }
        }}
        onBlur={() => {
          if (dirtyRef.current) void save();
          else setDraft(null);
        }}
      />
      {error && (
        <div class="err-line" role="alert" data-code={error.code}>
          {error.message} {nextStep(error.code)}
        </div>
      )}
    </>
  );
}

/** One of the moment's clips, with Show in folder. */
function MomentClip({ clip }: { clip: Clip }) {
  const reveal = useCommand(commands.revealInFolder);
  const widened = clipWidened(clip);
  return (
    <div class="moment-clip" data-id={clip.id} data-path={clip.path} data-moment-id={clip.momentId} title={clip.path}>
      <span class="mc-name mono">{basename(clip.path)}</span>
      <span class="mc-len num">{clipLength(clip)}</span>
      {widened && (
        <span class="mc-widened" title="Stream copy starts on a keyframe, so the clip starts a little earlier than asked">
          {widened}
        </span>
      )}
      <span class="mc-meta num">{clipMeta(clip)}</span>
      <button
        type="button"
        class="btn btn-small mc-reveal"
        data-action="reveal"
        disabled={reveal.busy}
        title={reveal.error ? reveal.error.message : `Open the folder of ${clip.path}`}
        onClick={(e) => {
          e.stopPropagation();
          void reveal.run(clip.path);
        }}
      >
        Show in folder
      </button>
      {reveal.error && (
        <span class="err-line mc-error" role="alert" data-code={reveal.error.code}>
          {reveal.error.message}
        </span>
      )}
    </div>
  );
}
