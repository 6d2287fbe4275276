// OBS as the window shows it (the OBS status card): the connection in words, what to do when
// it is not connected, and the report of **Set up OBS**. Pure functions; no DOM.

import type { ObsConnection, ObsSetupReport, ObsState, ObsView, QueueItem } from "./bindings";
import { clock, secondsUntil } from "./format";

export type ObsConnKey = ObsConnection["state"];
/** The `data-tone` a state is drawn in (none for "off"). */
export type Tone = "ok" | "warn" | "err" | "accent" | "data";

/** The card's status parts. */
export interface ObsSummary {
  /** `#obs-state`'s `data-state`: the connection's state. */
  key: ObsConnKey;
  tone: Tone | null;
  /** `#obs-conn`: "OBS 30.2.3", "OBS not connected — retrying in 4 s", "OBS is too old"… */
  text: string;
  title: string;
  /** The program scene, when connected (and known). */
  scene: string | null;
  recording: boolean;
  /** What to do about it when OBS is not usable (null when connected or connecting). */
  hint: string | null;
}

/** Attempts shown with a live countdown: a dropped connection being recovered. Past these, OBS
 *  is most likely not running, and the card shows the next try's time instead (static: an
 *  idle window with OBS closed has no clock ticking). */
export const COUNTDOWN_ATTEMPTS = 3;

/** Whether the summary shows a countdown (the card then ticks every second). */
export function obsCountingDown(view: ObsView | null): boolean {
  const c = view?.state.connection;
  return c?.state === "reconnecting" && c.attempt <= COUNTDOWN_ATTEMPTS;
}

export function describeObs(view: ObsView, nowMs: number): ObsSummary {
  const { settings, state } = view;
  const c = state.connection;
  const where = `${settings.host}:${settings.port}`;
  const base = { key: c.state, scene: null, recording: false };
  switch (c.state) {
    case "disabled":
      return {
        ...base,
        tone: null,
        text: "OBS control is off",
        title: "Tick “Control OBS” and Save to connect",
        hint: "Turn on “Control OBS” in OBS settings to switch scenes as requests are shown.",
      };
    case "connecting":
      return {
        ...base,
        tone: "data",
        text: "Connecting to OBS…",
        title: `Connecting to obs-websocket at ${where}`,
        hint: null,
      };
    case "connected":
      return {
        key: c.state,
        tone: "ok",
        text: `OBS ${c.obsVersion}`,
        title: `Connected to OBS ${c.obsVersion} (obs-websocket ${c.websocketVersion}) at ${where}`,
        scene: state.programScene,
        recording: state.recording,
        hint: null,
      };
    case "reconnecting": {
      const secs = secondsUntil(c.retryAtMs, nowMs);
      const text =
        c.attempt > COUNTDOWN_ATTEMPTS
          ? `OBS not running — next try ${clock(c.retryAtMs)}`
          : secs > 0
            ? `OBS not connected — retrying in ${secs} s`
            : "OBS not connected — retrying now…";
      return {
        ...base,
        tone: "warn",
        text,
        title: `${c.reason} (attempt ${c.attempt})`,
        hint: `Start OBS and turn on its WebSocket server (Tools → WebSocket Server Settings), or check the host and port (${where}) in OBS settings.`,
      };
    }
    case "failed":
      // The core's message says what went wrong and what to do (password, OBS too old): it is
      // the hint; the status itself stays short.
      return {
        ...base,
        tone: "err",
        text: c.failure === "WrongPassword" ? "OBS refused to connect" : "OBS is too old",
        title: c.message,
        hint: c.message,
      };
  }
}

/** "Created: scene Generating, text source Prompt Text" or "Everything was already there." */
export function setupReportText(r: ObsSetupReport): { text: string; title: string } {
  const there = r.existing.length > 0 ? `Already there: ${r.existing.join(", ")}` : "";
  if (r.created.length === 0) return { text: "Everything was already there.", title: there };
  const created = `Created: ${r.created.join(", ")}`;
  return { text: created, title: there ? `${created}\n${there}` : created };
}

/** What StreamCue has OBS show now: "Showing Alice's clip" (null when nothing). */
export function showingText(state: ObsState, items: readonly QueueItem[]): { text: string; title: string } | null {
  if (state.showing === null) return null;
  const item = items.find((it) => it.id === state.showing);
  if (!item) return { text: `Showing request ${state.showing}`, title: "OBS is showing this request now" };
  const what = item.state === "generating" ? "prompt" : "clip";
  return { text: `Showing ${item.displayName}’s ${what}`, title: `OBS is showing: ${item.prompt}` };
}
