// Window-side state shared by several components (not the core's: that is store.ts).

import { signal } from "@preact/signals";

/** The Settings view is open, and which section it shows. */
export const settingsOpen = signal(false);
export type SettingsSection = "generator" | "obs" | "recorder" | "moments" | "cohost" | "watch" | "desktop" | "folders" | "server" | "appearance" | "about";
export const settingsSection = signal<SettingsSection>("generator");

/** Opens Settings at a section. */
export function openSettings(section: SettingsSection): void {
  settingsSection.value = section;
  settingsOpen.value = true;
}

/** The moment whose row is under the mouse in the Moments list (its graph marker lights up). */
export const hoveredMoment = signal<number | null>(null);
