// Settings → About: the version, where StreamCue keeps its config, database, logs, clips and
// recordings (each with "Show" in the file manager), and whether
// the OS keyring is there.

import { signal } from "@preact/signals";
import { getVersion } from "@tauri-apps/api/app";
import { useEffect } from "preact/hooks";
import { commands } from "../../bindings";
import { useCommand } from "../../cmd";
import { use } from "../../store";

/** The app's version, asked once (null until known, "" if it cannot be). */
const appVersion = signal<string | null>(null);
let asked = false;

function askVersion(): void {
  if (asked) return;
  asked = true;
  getVersion().then(
    (v) => (appVersion.value = v),
    () => (appVersion.value = ""),
  );
}

export function AboutSection() {
  const c = use("meta");
  const reveal = useCommand(commands.revealInFolder);
  useEffect(askVersion, []);
  const paths = c.paths;
  const rows: { key: string; id: string; label: string; path: string | undefined }[] = [
    { key: "config", id: "path-config", label: "Config", path: paths?.configFile },
    { key: "db", id: "path-db", label: "Database", path: paths?.databaseFile },
    { key: "logs", id: "path-logs", label: "Logs", path: paths?.logDir },
    { key: "clips", id: "path-clips", label: "Clips", path: paths?.clipsDir },
    { key: "recordings", id: "path-recordings", label: "Recordings", path: paths?.recordingsDir },
  ];
  const keyring =
    c.keyringAvailable === null ? "–" : c.keyringAvailable ? "available" : "unavailable (read-only chat)";
  return (
    <div class="settings-form">
      <dl class="settings-about">
        <div class="settings-about-row">
          <dt>Version</dt>
          <dd class="num">{appVersion.value || "–"}</dd>
        </div>
        {rows.map((r) => (
          <div key={r.key} class="settings-about-row">
            <dt>{r.label}</dt>
            <dd>
              <span id={r.id} class="mono settings-path" title={r.path}>
                {r.path ?? "–"}
              </span>
              {r.path && (
                <button
                  class="btn btn-small"
                  type="button"
                  disabled={reveal.busy}
                  title={`Show ${r.path} in its folder`}
                  onClick={() => void reveal.run(r.path!)}
                >
                  Show
                </button>
              )}
            </dd>
          </div>
        ))}
        <div class="settings-about-row">
          <dt>Keyring</dt>
          <dd id="keyring-status" data-available={c.keyringAvailable === null ? undefined : String(c.keyringAvailable)}>
            {keyring}
          </dd>
        </div>
      </dl>
      <div class="err-line" role="alert" hidden={reveal.error === null}>
        {reveal.error?.message ?? ""}
      </div>
    </div>
  );
}
