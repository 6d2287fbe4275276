// Settings → Appearance: the theme (follow the system, or always light or dark). The choice is
// the window's own (kept in localStorage by theme.ts), so it applies at once, with no Save.

import { setThemeChoice, type ThemeChoice, themeChoice } from "../../theme";

const CHOICES: readonly { value: ThemeChoice; label: string; title: string }[] = [
  { value: "system", label: "System", title: "Follow the system's light or dark setting" },
  { value: "light", label: "Light", title: "Always light" },
  { value: "dark", label: "Dark", title: "Always dark" },
];

export function AppearanceSection() {
  const chosen = themeChoice.value;
  return (
    <div class="settings-form">
      <div class="field settings-field">
        <span id="theme-label" class="field-label">
          Theme
        </span>
        <div class="settings-segmented" role="group" aria-labelledby="theme-label">
          {CHOICES.map((c) => (
            <button
              key={c.value}
              id={`theme-${c.value}`}
              class="btn"
              type="button"
              aria-pressed={chosen === c.value ? "true" : "false"}
              title={c.title}
              onClick={() => setThemeChoice(c.value)}
            >
              {c.label}
            </button>
          ))}
        </div>
        <p class="field-hint">Applies at once; this window remembers it.</p>
      </div>
    </div>
  );
}
