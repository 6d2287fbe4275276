// Settings: a drawer over the main view (from the right, ~560 px; the whole window below 900 px),
// opened with `openSettings(section)` (ui.ts). Left, the sections; right, the chosen section,
// scrolling inside. Closed by its × button, Escape, or a click on the backdrop; keyboard focus
// stays inside while open and goes back where it was after.
//
// Closed means unmounted (nothing in the DOM, nothing running), except while a form holds
// unsaved changes: then the content stays, hidden, so reopening shows them again. While open,
// every section stays mounted (the others hidden) so switching sections keeps edits too.

import type { ComponentChildren } from "preact";
import { useEffect, useRef } from "preact/hooks";
import { type SettingsSection, settingsOpen, settingsSection } from "../../ui";
import { AboutSection } from "./AboutSettings";
import { AppearanceSection } from "./AppearanceSettings";
import { CohostSection } from "./CohostSettings";
import { DesktopSection } from "./DesktopSettings";
import { FoldersSection } from "./FolderSettings";
import { GeneratorSection } from "./GeneratorSettings";
import { LocalServerSection } from "./LocalServerSettings";
import { MomentsSection } from "./MomentSettings";
import { ObsSection } from "./ObsSettings";
import { RecorderSection } from "./RecorderSettings";
import { WatchSection } from "./WatchSettings";
import { anyUnsaved } from "./unsaved";
import "./Settings.css";

const SECTIONS: readonly { id: SettingsSection; label: string; intro: string }[] = [
  { id: "generator", label: "Generator", intro: "Where clips come from." },
  { id: "obs", label: "OBS", intro: "The connection to OBS and the scenes StreamCue switches." },
  { id: "recorder", label: "Recorder", intro: "Records the stream so moments can be cut into clips." },
  { id: "moments", label: "Moments", intro: "What makes a moment: bursts of chat, keywords and emote spam." },
  {
    id: "cohost",
    label: "Co-host",
    intro: "An AI co-host that answers viewers in chat: as drafts you send, edit or discard, or on its own.",
  },
  {
    id: "watch",
    label: "Watch-along",
    intro: "A link becomes a shared viewing, put on screen by a screen-share controller (e.g. into a Discord voice channel).",
  },
  { id: "desktop", label: "Desktop", intro: "The tray icon and desktop notifications." },
  { id: "folders", label: "Folders", intro: "Where new clips and recordings are saved." },
  {
    id: "server",
    label: "Local server",
    intro: "Health, metrics, the OBS overlay and the control API, for this computer only.",
  },
  { id: "appearance", label: "Appearance", intro: "How this window looks." },
  { id: "about", label: "About", intro: "Where StreamCue keeps its files." },
];

const FOCUSABLE = "button, input, select, textarea, a[href], [tabindex]:not([tabindex='-1'])";

function close(): void {
  settingsOpen.value = false;
}

export function SettingsView() {
  const open = settingsOpen.value;
  if (!open && !anyUnsaved.value) return null;
  return <SettingsDrawer open={open} />;
}

function SettingsDrawer({ open }: { open: boolean }) {
  const current = settingsSection.value;
  const drawer = useRef<HTMLDivElement>(null);
  const pane = useRef<HTMLDivElement>(null);

  // While open: focus inside (the chosen section's button), Escape closes, Tab cycles within.
  useEffect(() => {
    if (!open) return;
    const before = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    drawer.current?.querySelector<HTMLElement>(`#settings-nav-${settingsSection.peek()}`)?.focus();
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape" && !e.defaultPrevented && !e.isComposing) {
        e.preventDefault();
        close();
      } else if (e.key === "Tab" && drawer.current) {
        trapTab(e, drawer.current);
      }
    };
    document.addEventListener("keydown", onKey);
    return () => {
      document.removeEventListener("keydown", onKey);
      if (before?.isConnected) before.focus();
    };
  }, [open]);

  // A new section starts at its top.
  useEffect(() => {
    if (pane.current) pane.current.scrollTop = 0;
  }, [current]);

  return (
    <div class="settings-root" hidden={!open}>
      <div class="settings-backdrop" onClick={close} aria-hidden="true" />
      <div ref={drawer} class="settings-drawer" role="dialog" aria-modal="true" aria-labelledby="settings-title">
        <header class="settings-head">
          <h2 id="settings-title" class="settings-title">
            Settings
          </h2>
          <button id="settings-close" class="btn btn-icon" type="button" aria-label="Close settings" title="Close (Esc)" onClick={close}>
            ×
          </button>
        </header>
        <div class="settings-body">
          <nav class="settings-nav" aria-label="Settings sections">
            {SECTIONS.map((s) => (
              <button
                key={s.id}
                id={`settings-nav-${s.id}`}
                class="settings-nav-item"
                type="button"
                aria-current={s.id === current ? "page" : undefined}
                aria-controls={`settings-section-${s.id}`}
                onClick={() => (settingsSection.value = s.id)}
              >
                {s.label}
              </button>
            ))}
          </nav>
          <div ref={pane} class="settings-pane">
            {SECTIONS.map((s) => (
              <Section key={s.id} id={s.id} label={s.label} intro={s.intro} shown={s.id === current}>
                {sectionContent(s.id, open && s.id === current)}
              </Section>
            ))}
          </div>
        </div>
      </div>
    </div>
  );
}

function sectionContent(id: SettingsSection, active: boolean): ComponentChildren {
  switch (id) {
    case "generator":
      return <GeneratorSection />;
    case "obs":
      return <ObsSection />;
    case "recorder":
      return <RecorderSection />;
    case "moments":
      return <MomentsSection active={active} />;
    case "cohost":
      return <CohostSection />;
    case "watch":
      return <WatchSection />;
    case "desktop":
      return <DesktopSection />;
    case "folders":
      return <FoldersSection />;
    case "server":
      return <LocalServerSection />;
    case "appearance":
      return <AppearanceSection />;
    case "about":
      return <AboutSection />;
  }
}

function Section(props: { id: SettingsSection; label: string; intro: string; shown: boolean; children: ComponentChildren }) {
  const { id, label, intro, shown, children } = props;
  return (
    <section id={`settings-section-${id}`} class="settings-section" aria-labelledby={`settings-h-${id}`} hidden={!shown}>
      <h3 id={`settings-h-${id}`} class="settings-section-title">
        {label}
      </h3>
      <p class="settings-intro">{intro}</p>
      {children}
    </section>
  );
}

/** Keeps Tab and Shift+Tab inside the drawer (the page behind is covered). */
function trapTab(e: KeyboardEvent, root: HTMLElement): void {
  const items = [...root.querySelectorAll<HTMLElement>(FOCUSABLE)].filter(
    (el) => !(el as HTMLButtonElement).disabled && el.getClientRects().length > 0,
  );
  const first = items[0];
  const last = items[items.length - 1];
  if (!first || !last) return;
  const active = document.activeElement;
  if (!root.contains(active)) {
    e.preventDefault();
    first.focus();
  } else if (e.shiftKey && active === first) {
    e.preventDefault();
    last.focus();
  } else if (!e.shiftKey && active === last) {
    e.preventDefault();
    first.focus();
  }
}
