// Entry point: the theme, then the App component, then the store (events, then a snapshot).
import "./locale";
import "./styles/base.css";
import { render } from "preact";
import { commands } from "./bindings";
import { App } from "./components/App";
import { startStore } from "./store";
import { tauriSource } from "./tauriSource";
import { initTheme } from "./theme";

// Errors thrown in the window reach StreamCue's log with their stack (target `ui`).
function logError(error: unknown, fallback: string): void {
  const e = error instanceof Error ? error : null;
  void commands.logUiError(e?.message ?? (String(error ?? "") || fallback), e?.stack ?? null).catch(() => undefined);
}
window.addEventListener("error", (ev) => logError(ev.error ?? ev.message, "script error"));
window.addEventListener("unhandledrejection", (ev) => logError(ev.reason, "unhandled rejection"));

initTheme();
render(<App />, document.getElementById("app")!);
void startStore(tauriSource);
