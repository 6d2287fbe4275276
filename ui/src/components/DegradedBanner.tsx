// Degraded mode: the generator keeps failing, so requests wait (or new ones are refused). Shown
// above the panels, only while the core says so, with its reason and since when. Static: it
// does not animate (idle means idle).

import "./DegradedBanner.css";
import { clockShort, dateTime } from "../format";
import { use } from "../store";

export function DegradedBanner() {
  const d = use("generator").generator?.degraded ?? null;
  if (!d) return null;
  const reason = d.reason.trim().replace(/[.\s]+$/, "");
  const what = d.intakePaused ? "New requests are paused." : "Requests stay queued.";
  return (
    <div id="degraded-banner" class="degraded-banner" role="status" data-intake-paused={String(d.intakePaused)}>
      <span class="degraded-icon" aria-hidden="true">
        !
      </span>
      <span id="degraded-text" class="degraded-text" title={d.reason}>
        Degraded mode: {reason}. {what}
      </span>
      <span id="degraded-since" class="degraded-since num" title={dateTime(d.sinceMs)}>
        since {clockShort(d.sinceMs)}
      </span>
    </div>
  );
}
