// The Moments panel (right column, fills what is left and scrolls inside): the shown session's
// moments (both live chats', or a past session picked in the header), newest first, filtered by
// trigger kind and strength; each row with its note, Cut clip and its clips.
// What makes a moment (the detector's settings) is edited in Settings → Moments.
//
// Invariants: `#moments-count` is the number of moments in the shown session (before filters);
// rows are keyed by moment id and memoised, so a growing live moment re-renders only its row.

import "./MomentsPanel.css";
import { useSignal } from "@preact/signals";
import type { ApiError } from "../bindings";
import { nextStep } from "../cmd";
import {
  emptyText,
  FILTER_CHOICES,
  type MomentFilter,
  shownNewestFirst,
  STRENGTH_CHOICES,
} from "../moments";
import { cutTitle } from "../recorder";
import { CHAT_SLOTS, clipsOf, hasSession, listedMoments, slotOfMoment } from "../state";
import { use } from "../store";
import { HistoryPicker, historyLoading } from "./HistoryPicker";
import { MomentRow } from "./MomentRow";
import { hoveredMoment } from "../ui";


function hoverFrom(target: EventTarget | null): void {
  const row = target instanceof Element ? target.closest<HTMLElement>(".moment-row") : null;
  const id = row ? Number(row.dataset.id) : null;
  if (hoveredMoment.value !== id) hoveredMoment.value = id;
}

export function MomentsPanel() {
  const cache = use("main", "kick", "history", "recorder", "momentSettings");
  const filter = useSignal<MomentFilter>("all");
  const minStrength = useSignal(0);
  /** The last failed sessions/history load (the panel's error line). */
  const listError = useSignal<ApiError | null>(null);

  const loading = historyLoading.value !== null;
  const all = loading ? [] : listedMoments(cache);
  const shown = shownNewestFirst(all, filter.value, minStrength.value);
  const filtered = filter.value !== "all" || minStrength.value > 0;
  const history = cache.history;
  const kickHistory = history?.session.platform === "kick";
  const cutTip = cutTitle(cache.recorder?.settings ?? null);
  const anyLive = all.some((m) => m.endedAtMs === null);
  const empty = emptyText({
    loading,
    total: all.length,
    history: history !== null,
    live: CHAT_SLOTS.some((slot) => hasSession(cache.chats[slot].chat)),
    settings: cache.momentSettings,
  });

  return (
    <section
      id="moments-panel"
      class="card moments-panel"
      aria-labelledby="moments-title"
      aria-busy={loading}
      data-view={history ? "history" : "live"}
      data-live={String(anyLive)}
    >
      <div class="card-head moments-head">
        <h2 id="moments-title" class="card-title">
          Moments
        </h2>
        {filtered && !loading && (
          <span class="moments-shown num" title="Moments the filters let through">
            {shown.length} of
          </span>
        )}
        <span
          id="moments-count"
          class="moments-count num"
          data-count={String(all.length)}
          aria-live="polite"
          title="Moments in the shown session"
        >
          {loading ? "…" : String(all.length)}
        </span>
        <div class="moments-tools">
          <HistoryPicker onError={(err) => (listError.value = err)} />
          <label class="visually-hidden" for="moments-filter">
            Show moments triggered by
          </label>
          <select
            id="moments-filter"
            class="moments-select"
            value={filter.value}
            title="Show moments with this kind of trigger"
            onChange={(e) => (filter.value = e.currentTarget.value as MomentFilter)}
          >
            {FILTER_CHOICES.map((c) => (
              <option key={c.value} value={c.value} selected={c.value === filter.value}>
                {c.label}
              </option>
            ))}
          </select>
          <label class="visually-hidden" for="moments-min-strength">
            Minimum strength
          </label>
          <select
            id="moments-min-strength"
            class="moments-select"
            value={String(minStrength.value)}
            title="Hide weaker moments (strength: how far past its threshold the strongest trigger went)"
            onChange={(e) => (minStrength.value = Number(e.currentTarget.value) || 0)}
          >
            {STRENGTH_CHOICES.map((c) => (
              <option key={c.value} value={String(c.value)} selected={c.value === minStrength.value}>
                {c.label}
              </option>
            ))}
          </select>
        </div>
      </div>

      {listError.value && (
        <div class="moments-error" role="alert" data-code={listError.value.code}>
          <span class="err-line moments-error-text">
            {listError.value.message} {nextStep(listError.value.code)}
          </span>
          <button
            type="button"
            class="btn btn-icon btn-small"
            aria-label="Dismiss"
            title="Dismiss"
            onClick={() => (listError.value = null)}
          >
            ×
          </button>
        </div>
      )}

      <div class="moments-body scroll">
        {shown.length > 0 ? (
          <ol
            id="moments-list"
            class="moments-list"
            aria-label="Moments, newest first"
            onMouseOver={(e) => hoverFrom(e.target)}
            onMouseLeave={() => (hoveredMoment.value = null)}
          >
            {shown.map((m) => (
              <MomentRow
                key={m.id}
                m={m}
                kick={kickHistory || slotOfMoment(cache, m) === "kick"}
                clips={clipsOf(cache, m.id)}
                cutTitle={cutTip}
              />
            ))}
          </ol>
        ) : (
          <div id="moments-empty" class="empty moments-empty">
            <div class="moments-empty-title">{empty.title}</div>
            {empty.text && <div class="moments-empty-text">{empty.text}</div>}
          </div>
        )}
      </div>
    </section>
  );
}
