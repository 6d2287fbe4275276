// The full-window error: the engine is not usable (it did not start, or its state cannot be read).

import { fatal, resync } from "../store";

export function Fatal() {
  const f = fatal.value;
  if (!f) return null;
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
        {f.retry && (
          <button id="fatal-retry" class="btn" type="button" onClick={() => void resync()}>
            Try again
          </button>
        )}
      </div>
    </section>
  );
}
