// The data folder's disk: a banner while space is low (amber) or StreamCue cannot save (red),
// with the core's sentence (what is free, where, what to do). It goes away by itself when the
// core says saving works again. Static: nothing animates.

import "./DegradedBanner.css";
import { use } from "../store";

export function StorageBanner() {
  const s = use("storage").storage;
  if (!s || s.phase === "ok" || !s.message) return null;
  return (
    <div
      id="storage-banner"
      class="degraded-banner storage-banner"
      role={s.phase === "cannotSave" ? "alert" : "status"}
      data-phase={s.phase}
    >
      <span class="degraded-icon" aria-hidden="true">
        !
      </span>
      <span id="storage-text" class="degraded-text" title={s.path}>
        {s.message}
      </span>
    </div>
  );
}
