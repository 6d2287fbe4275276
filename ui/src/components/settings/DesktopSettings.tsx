// Settings → Desktop: whether closing the window keeps StreamCue running in the tray while
// chat, a recording or a generation is active, and which events become desktop notifications.

import { commands, type DesktopSettings } from "../../bindings";
import { type FormSpec, useSettingsForm } from "../../form";
import { cache, update, use } from "../../store";
import { Field } from "./Field";
import { FormFooter, submitHandler } from "./FormFooter";

type DesktopValues = {
  closeToTray: boolean;
  moments: boolean;
  degraded: boolean;
  clipReady: boolean;
  loginExpiry: boolean;
};

const DESKTOP_FORM: FormSpec<DesktopSettings, DesktopValues, DesktopSettings> = {
  fields: (s) => ({
    closeToTray: s.closeToTray,
    moments: s.notifyMoments,
    degraded: s.notifyDegraded,
    clipReady: s.notifyClipReady,
    loginExpiry: s.notifyLoginExpiry,
  }),
  build: (v) => ({
    update: {
      closeToTray: v.closeToTray,
      notifyMoments: v.moments,
      notifyDegraded: v.degraded,
      notifyClipReady: v.clipReady,
      notifyLoginExpiry: v.loginExpiry,
    },
  }),
  send: (s) => commands.desktopSetSettings(s),
  adopt: (s) =>
    update(["desktop"], (c) => {
      c.desktop = s;
    }),
  version: () => cache.versions.desktop,
};

export function DesktopSection() {
  const c = use("desktop");
  if (!c.desktop) return <p class="empty">Loading…</p>;
  return <DesktopForm settings={c.desktop} version={c.versions.desktop} />;
}

function DesktopForm({ settings, version }: { settings: DesktopSettings; version: number }) {
  const form = useSettingsForm(DESKTOP_FORM, settings, version);
  return (
    <form class="settings-form" novalidate autocomplete="off" onSubmit={submitHandler(form)}>
      <div class="settings-grid">
        <Field
          form={form}
          name="closeToTray"
          id="desktop-close-to-tray"
          label="Keep running in the tray when the window closes while chat, a recording or a generation is active"
          check
        >
          <input {...form.check("closeToTray")} />
        </Field>
        <fieldset class="settings-group settings-wide">
          <legend>Desktop notifications</legend>
        <Field form={form} name="moments" id="desktop-notify-moments" label="A new moment in chat" check>
          <input {...form.check("moments")} />
        </Field>
        <Field form={form} name="degraded" id="desktop-notify-degraded" label="Degraded mode entered or left" check>
          <input {...form.check("degraded")} />
        </Field>
        <Field form={form} name="clipReady" id="desktop-notify-clip-ready" label="A clip is ready while the window is hidden" check>
          <input {...form.check("clipReady")} />
        </Field>
        <Field form={form} name="loginExpiry" id="desktop-notify-login" label="The Twitch login ended" check>
          <input {...form.check("loginExpiry")} />
        </Field>
        </fieldset>
      </div>
      <FormFooter form={form} prefix="desktop" errorId="desktop-form-error" />
    </form>
  );
}
