// Entry point of the OBS overlay page (`/overlay` on the local server; overlay.html): its look
// from the URL, the Overlay component, then the store fed by HTTP and Server-Sent Events.
// Shares the window's reducer, store and types; never calls Tauri (there is none in OBS).

import "./overlay.css";
import { signal } from "@preact/signals";
import { render } from "preact";
import type { CoreEvent } from "../bindings";
import { cache, startStore } from "../store";
import { Overlay } from "./Overlay";
import { parseParams } from "./params";
import { httpSource } from "./source";
import { momentOfNewSession, OVERLAY_EVENTS } from "./view";

const params = parseParams(location.search);
const root = document.documentElement;
root.dataset.theme = params.theme;
root.style.setProperty("--overlay-scale", String(params.scale));

/** The event stream is open (`#overlay[data-live]`). */
const live = signal(false);

/** Sessions a snapshot was already asked for (once each: the snapshot may not list them, e.g.
 *  when another chat's session is the latest). */
const askedSessions = new Set<number>();

function needsSnapshot(ev: CoreEvent): boolean {
  if (ev.kind !== "moment" || askedSessions.has(ev.moment.sessionId)) return false;
  if (!momentOfNewSession(cache, ev.moment)) return false;
  askedSessions.add(ev.moment.sessionId);
  return true;
}

render(<Overlay params={params} live={live} />, document.getElementById("overlay-root")!);
void startStore(
  httpSource({
    kinds: OVERLAY_EVENTS,
    onLive: (on) => {
      live.value = on;
    },
    needsSnapshot,
  }),
);
