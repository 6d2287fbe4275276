// The core's notices (config problems, no keyring, test knobs in use…): one compact line each,
// dismissible. A dismissed notice stays dismissed across resyncs (they are keyed by code and
// message, `noticeKey`); a notice with a new message shows again.

import { signal } from "@preact/signals";
import { memo } from "preact/compat";
import type { Notice } from "../bindings";
import { noticeKey } from "../chat";
import { use } from "../store";
import "./Notices.css";

/** Keys of the notices the streamer closed (for the life of the window). */
const dismissed = signal<ReadonlySet<string>>(new Set());

function dismiss(key: string): void {
  dismissed.value = new Set(dismissed.value).add(key);
}

const LEVEL_TEXT: Record<Notice["level"], string> = { Info: "Info", Warning: "Warning", Error: "Error" };

const NoticeRow = memo(function NoticeRow({ notice, noticeId }: { notice: Notice; noticeId: string }) {
  return (
    <div class="notices-item" data-level={notice.level} data-code={notice.code} role={notice.level === "Info" ? "status" : "alert"}>
      <span class="notices-badge">{LEVEL_TEXT[notice.level]}</span>
      {/* One line; the whole message is in the tooltip, and wraps while focused. */}
      <span class="notices-text" title={notice.message} tabIndex={0}>
        {notice.message}
      </span>
      <button class="notices-close btn btn-icon btn-small" type="button" aria-label="Dismiss" title="Dismiss" onClick={() => dismiss(noticeId)}>
        ×
      </button>
    </div>
  );
});

export function Notices() {
  const notices = use("notices", "meta").notices;
  const closed = dismissed.value;
  const seen = new Set<string>();
  const shown: { key: string; notice: Notice }[] = [];
  for (const n of notices) {
    const key = noticeKey(n);
    if (closed.has(key) || seen.has(key)) continue; // the same notice twice shows once
    seen.add(key);
    shown.push({ key, notice: n });
  }
  if (shown.length === 0) return null;
  return (
    <div id="notices" class="notices" aria-label="Notices">
      {shown.map(({ key, notice }) => (
        <NoticeRow key={key} notice={notice} noticeId={key} />
      ))}
    </div>
  );
}
