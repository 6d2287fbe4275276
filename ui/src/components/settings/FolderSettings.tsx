// Settings → Folders: where new clips and recordings are saved. Each folder is a small form of
// its own: type a full path and Save, or Choose… (the system's folder picker), or go back to the
// default. The core checks a folder before using it (made if missing, written to, not on a full
// disk) and says what to do when it cannot; files made before stay where they are.

import { commands, type FolderKind, type PathsInfo } from "../../bindings";
import { nextStep, useCommand } from "../../cmd";
import { type FormSpec, useSettingsForm } from "../../form";
import { cache, update, use } from "../../store";
import { Field } from "./Field";
import { FormFooter, invalid, submitHandler } from "./FormFooter";

type FolderValues = { path: string };

const KINDS: readonly { kind: FolderKind; id: string; label: string; hint: string }[] = [
  {
    kind: "Clips",
    id: "clips",
    label: "Clips folder",
    hint: "Generated clips and clips cut from recordings. Clips made before stay where they are.",
  },
  {
    kind: "Recordings",
    id: "recordings",
    label: "Recordings folder",
    hint: "Streamlink recordings (OBS records to the folder set in OBS). Recordings made before stay where they are.",
  },
];

function folderOf(paths: PathsInfo, kind: FolderKind): string {
  return kind === "Clips" ? paths.clipsDir : paths.recordingsDir;
}

function isDefault(paths: PathsInfo, kind: FolderKind): boolean {
  return kind === "Clips" ? paths.clipsDirIsDefault : paths.recordingsDirIsDefault;
}

function adoptPaths(paths: PathsInfo): void {
  update(["meta"], (c) => {
    c.paths = paths;
  });
}

function folderSpec(kind: FolderKind): FormSpec<PathsInfo, FolderValues, string> {
  return {
    fields: (p) => ({ path: folderOf(p, kind) }),
    build: (v) =>
      v.path.trim() === ""
        ? invalid<FolderValues>("Type the folder's full path, or use Choose….", "path")
        : { update: v.path.trim() },
    send: (path) => commands.folderSet(kind, path),
    adopt: adoptPaths,
    version: () => cache.versions.meta,
  };
}

export function FoldersSection() {
  const c = use("meta");
  if (!c.paths) return <p class="empty">Loading…</p>;
  return (
    <div>
      {KINDS.map((k) => (
        <FolderForm key={k.kind} {...k} paths={c.paths!} version={c.versions.meta} />
      ))}
    </div>
  );
}

interface FolderFormProps {
  kind: FolderKind;
  id: string;
  label: string;
  hint: string;
  paths: PathsInfo;
  version: number;
}

function FolderForm({ kind, id, label, hint, paths, version }: FolderFormProps) {
  // The spec is read once per form (useSettingsForm); one spec per kind.
  const form = useSettingsForm(folderSpec(kind), paths, version);
  const choose = useCommand(commands.folderChoose);
  const reset = useCommand(commands.folderSet);
  const reveal = useCommand(commands.revealInFolder);
  const busy = choose.busy || reset.busy;
  const other = choose.error ?? reset.error ?? reveal.error;
  const onChoose = async () => {
    const out = await choose.run(kind);
    if (out?.ok && out.data) {
      adoptPaths(out.data);
      form.revert();
    }
  };
  const onReset = async () => {
    const out = await reset.run(kind, null);
    if (out?.ok) {
      adoptPaths(out.data);
      form.revert();
    }
  };
  const current = folderOf(paths, kind);
  return (
    <form class="settings-form" novalidate autocomplete="off" onSubmit={submitHandler(form)}>
      <div class="settings-grid">
        <Field form={form} name="path" id={`folder-${id}-path`} label={label} hint={hint} wide>
          <input class="mono" type="text" spellcheck={false} {...form.text("path")} />
        </Field>
      </div>
      <FormFooter form={form} prefix={`folder-${id}`} busy={busy}>
        <button id={`folder-${id}-choose`} class="btn" type="button" disabled={busy || form.saving.value} onClick={() => void onChoose()}>
          {choose.busy ? "Choosing…" : "Choose…"}
        </button>
        {!isDefault(paths, kind) && (
          <button id={`folder-${id}-default`} class="btn" type="button" disabled={busy || form.saving.value} onClick={() => void onReset()}>
            Use the default
          </button>
        )}
        <button
          id={`folder-${id}-show`}
          class="btn btn-small"
          type="button"
          disabled={reveal.busy}
          title={`Show ${current} in the file manager`}
          onClick={() => void reveal.run(current)}
        >
          Show
        </button>
      </FormFooter>
      <div id={`folder-${id}-other-error`} class="err-line" role="alert" data-code={other?.code} hidden={other === null}>
        {other ? `${other.message} ${nextStep(other.code)}`.trim() : ""}
      </div>
    </form>
  );
}
