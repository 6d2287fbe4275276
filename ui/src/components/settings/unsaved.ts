// Which settings forms hold unsaved changes. SettingsView keeps its (hidden) content mounted after
// closing while any does, so closing the drawer never throws away what the streamer typed (the
// old cards kept their edits when folded); with nothing unsaved, closed means unmounted.

import { computed, type ReadonlySignal, signal } from "@preact/signals";
import { useEffect } from "preact/hooks";

const registered = signal<ReadonlySet<ReadonlySignal<boolean>>>(new Set());

/** Whether a mounted settings form holds changes not saved yet. */
export const anyUnsaved = computed(() => {
  for (const changed of registered.value) if (changed.value) return true;
  return false;
});

/** Hook: counts this form's `changed` in `anyUnsaved` while the component is mounted. */
export function useUnsavedTracking(changed: ReadonlySignal<boolean>): void {
  useEffect(() => {
    registered.value = new Set(registered.value).add(changed);
    return () => {
      const next = new Set(registered.value);
      next.delete(changed);
      registered.value = next;
    };
  }, [changed]);
}
