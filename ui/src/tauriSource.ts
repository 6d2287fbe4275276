// The window's source for the store: the core's snapshot and events over Tauri's IPC.
// Window-only: the OBS overlay runs in a plain browser and uses overlay/source.ts instead.

import { type AppSnapshot, commands, events } from "./bindings";
import { applySnapshot } from "./state";
import type { StoreSource } from "./store";

const firstSnapshotHooks: ((snap: AppSnapshot) => void)[] = [];

/** Runs once, with the first snapshot (e.g. to pre-fill the channel field). */
export function onFirstSnapshot(hook: (snap: AppSnapshot) => void): void {
  firstSnapshotHooks.push(hook);
}

/** The core in the same process: `app_snapshot`, and the `core-events` batches it emits. A
 *  `resync` event comes in the batches themselves, so nothing is ever `missed` here. */
export const tauriSource: StoreSource<AppSnapshot> = {
  snapshot: () => commands.appSnapshot(),
  apply: applySnapshot,
  async listen(onBatch) {
    await events.coreEvents.listen((e) => onBatch(e.payload));
  },
  loaded(snap) {
    for (const hook of firstSnapshotHooks.splice(0)) hook(snap);
  },
};
