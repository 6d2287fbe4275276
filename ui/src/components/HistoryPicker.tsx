// The session picker in the Moments panel's header: "Live" (both chats' current sessions), or a
// past session loaded from the database (its moments here, its graph in the chat strip).
//
// Invariants: what the picker shows is derived, never stored twice: the session being loaded,
// else the one in `cache.history`, else "live". Picks are numbered; a reply to an older pick
// (answers can come back out of order) is dropped, so it never replaces a newer choice.

import { batch, signal } from "@preact/signals";
import { useEffect, useRef, useState } from "preact/hooks";
import { type ApiError, commands, type SessionSummary } from "../bindings";
import { run } from "../cmd";
import { pickerOptions, sessionLabel, withSummary } from "../moments";
import { CHAT_SLOTS, type Cache, hasSession, setHistory } from "../state";
import { update, use } from "../store";

/** The past session being loaded (null when none): the list says "Loading…" meanwhile. */
export const historyLoading = signal<number | null>(null);

/** Bumped on every pick; a reply carrying an older number is stale. */
let pickSeq = 0;

/** The sessions open now, by slot (listed as "Live", not as past sessions). */
function openSessionIds(cache: Cache): number[] {
  const ids: number[] = [];
  for (const slot of CHAT_SLOTS) {
    const c = cache.chats[slot];
    if (!hasSession(c.chat)) continue;
    const id = c.chat.state === "connected" ? c.chat.sessionId : c.sessionId;
    if (id !== null) ids.push(id);
  }
  return ids;
}

export function HistoryPicker({ onError }: { onError: (err: ApiError | null) => void }) {
  const cache = use("main", "kick", "history");
  const [sessions, setSessions] = useState<SessionSummary[] | null>(null);
  const refreshing = useRef(false);

  /** Reloads the past sessions (on load, when the picker is about to be used, when a session
   *  opens or ends). One at a time. */
  async function refresh(): Promise<void> {
    if (refreshing.current) return;
    refreshing.current = true;
    try {
      const out = await run(() => commands.momentsSessions());
      if (out.ok) setSessions(out.data);
      else onError(out.error);
    } finally {
      refreshing.current = false;
    }
  }

  // A session opened or ended (either chat): the list of past sessions changed.
  const sessionKey = CHAT_SLOTS.map((slot) => {
    const chat = cache.chats[slot].chat;
    return `${hasSession(chat)}|${chat.state === "connected" ? chat.sessionId : ""}`;
  }).join(";");
  useEffect(() => {
    void refresh();
  }, [sessionKey]);

  async function pick(value: string): Promise<void> {
    const seq = ++pickSeq;
    if (value === "live") {
      batch(() => {
        historyLoading.value = null;
        update(["history"], (c) => setHistory(c, null));
      });
      return;
    }
    const id = Number(value);
    if (!Number.isInteger(id)) return;
    historyLoading.value = id;
    onError(null);
    const out = await run(() => commands.momentsHistory(id));
    if (seq !== pickSeq) return; // something else was picked meanwhile
    batch(() => {
      historyLoading.value = null;
      if (out.ok) {
        update(["history"], (c) => setHistory(c, out.data));
        // The picker's count may be stale: the history is the truth.
        setSessions((list) => withSummary(list, out.data.session));
      } else {
        // Say why; the picker goes back to what is shown (derived below).
        onError(out.error);
      }
    });
  }

  const open = openSessionIds(cache);
  const anyOpen = CHAT_SLOTS.some((slot) => hasSession(cache.chats[slot].chat));
  const anyKnown = CHAT_SLOTS.some((slot) => cache.chats[slot].sessionId !== null);
  const opts = pickerOptions(sessions, open, cache.history?.session ?? null, anyOpen, anyKnown);
  const loading = historyLoading.value;
  const picked = String(loading ?? cache.history?.session.id ?? "live");
  const chosen = opts.past.find((s) => String(s.id) === picked);

  return (
    <>
      <label class="visually-hidden" for="session-picker">
        Session to show
      </label>
      <select
        id="session-picker"
        class="moments-select moments-picker"
        value={picked}
        data-view={picked === "live" ? "live" : "history"}
        aria-busy={loading !== null}
        title={chosen ? sessionLabel(chosen) : "Show the live session, or a past one with its moments"}
        onFocus={() => void refresh()}
        onPointerDown={() => void refresh()}
        onChange={(e) => void pick(e.currentTarget.value)}
      >
        <option value="live" selected={picked === "live"}>
          {opts.liveLabel}
        </option>
        {opts.past.length > 0 && (
          <optgroup label="Past sessions">
            {opts.past.map((s) => (
              <option key={s.id} value={String(s.id)} selected={picked === String(s.id)}>
                {sessionLabel(s)}
              </option>
            ))}
          </optgroup>
        )}
      </select>
    </>
  );
}
