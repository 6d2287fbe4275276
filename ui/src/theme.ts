// Light and dark themes: follow the OS (`prefers-color-scheme`) unless the streamer picked one
// (kept in localStorage). `<html data-theme>` carries the result; CSS variables do the rest, and
// the graph reads its colours from them (`themeColors`).

import { signal } from "@preact/signals";

export type ThemeChoice = "system" | "light" | "dark";
export type Theme = "light" | "dark";

const KEY = "streamcue.theme";

function stored(): ThemeChoice {
  try {
    const v = localStorage.getItem(KEY);
    return v === "light" || v === "dark" ? v : "system";
  } catch {
    return "system";
  }
}

const media = typeof matchMedia === "function" ? matchMedia("(prefers-color-scheme: light)") : null;

export const themeChoice = signal<ThemeChoice>(stored());
/** The theme in effect. */
export const theme = signal<Theme>("dark");

function apply(): void {
  const choice = themeChoice.value;
  const next: Theme = choice === "system" ? (media?.matches ? "light" : "dark") : choice;
  theme.value = next;
  document.documentElement.dataset.theme = next;
}

export function setThemeChoice(choice: ThemeChoice): void {
  themeChoice.value = choice;
  try {
    if (choice === "system") localStorage.removeItem(KEY);
    else localStorage.setItem(KEY, choice);
  } catch {
    // Storage unavailable: the choice lasts for this window only.
  }
  apply();
}

export function initTheme(): void {
  media?.addEventListener("change", apply);
  apply();
}

/** A CSS variable's value in the current theme (for canvas drawing). */
export function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}
