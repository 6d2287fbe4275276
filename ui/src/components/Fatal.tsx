// The full-window error: the engine is not usable (it did not start, or its state cannot be
// read). Each cause has its own explanation (store.ts `fatalFrom`); Try again starts the engine
// again (or reloads its state), and a damaged database can be moved aside (renamed with the
// date, never deleted) to start fresh.

import "./Fatal.css";
import { useSignal } from "@preact/signals";
import { commands } from "../bindings";
import { fatal, resync } from "../store";

export function Fatal() {
  const f = fatal.value;
  const busy = useSignal(false);
  if (!f) return null;
  const again = async (moveAside: boolean) => {
    if (busy.value) return;
    busy.value = true;
    try {
      if (f.startAgain) {
        const res = await commands.engineStartAgain(moveAside);
        if (res.status === "error") {
          fatal.value = { ...f, message: res.error.message };
          return;
        }
      }
      await resync();
    } finally {
      busy.value = false;
    }
  };
  return (
    <section id="fatal" class="fatal">
      <div class="fatal-card card" role="alert">
        <div class="fatal-icon" aria-hidden="true">
          !
        </div>
        <h1 id="fatal-title">{f.title}</h1>
        <p id="fatal-explain" class="muted">
          {f.explain}
        </p>
        <pre id="fatal-message" class="fatal-message">
          {f.message}
        </pre>
        <div class="fatal-actions">
          {f.moveAside && (
            <button id="fatal-move-aside" class="btn btn-primary" type="button" disabled={busy.value} onClick={() => void again(true)}>
              Move it aside and start fresh
            </button>
          )}
          <button id="fatal-retry" class="btn" type="button" disabled={busy.value} onClick={() => void again(false)}>
            Try again
          </button>
        </div>
      </div>
    </section>
  );
}
