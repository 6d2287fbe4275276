// Settings → Watch-along as form data: the field values a WatchView shows, and the checks Save
// runs (the core's own, `check_settings` in src/watch/actor.rs; the core checks again). Discord's
// ids are 64-bit: they stay text all the way (a JavaScript number would round them). Pure; no DOM.

import type { WatchSettings, WatchView } from "../../bindings";
import { type Built, wholeNumber } from "../../form";

/**
 * The start timeout's bounds, seconds: copied from src/watch/actor.rs `START_TIMEOUT_MIN` and
 * `START_TIMEOUT_MAX` (not in the bindings' UI_LIMITS yet; keep them equal).
 */
export const START_TIMEOUT_RANGE = [10, 900] as const;

/** The largest Discord id: a u64's (the core parses the ids as `u64`). */
const U64_MAX = 18_446_744_073_709_551_615n;

/** Discord's longest channel name (the core does not check it; the field stops there). */
export const CHANNEL_NAME_MAX_CHARS = 100;

/** The OBS volume's bounds, percent (src/watch/actor.rs `check_settings`). */
export const VOLUME_RANGE = [0, 100] as const;

/** A scene name's longest (src/watch/actor.rs `check_settings`). */
export const SCENE_MAX_CHARS = 100;

export type WatchValues = {
  executor: string;
  viewerRequests: boolean;
  obsVolume: string;
  returnScene: string;
  controllerUrl: string;
  guildId: string;
  channelId: string;
  channelName: string;
  startTimeout: string;
};

type Key = keyof WatchValues;

/** A refusal naming the field to fix. */
function refuse(message: string, field: Key): Built<WatchSettings, WatchValues> {
  return { error: { code: "InvalidSettings", message }, field };
}

/** The fields of a WatchView. */
export function watchFields(view: WatchView): WatchValues {
  const s = view.settings;
  return {
    executor: s.executor,
    viewerRequests: s.viewerRequests,
    obsVolume: String(s.obsVolumePercent),
    returnScene: s.returnScene,
    controllerUrl: s.controllerUrl,
    guildId: s.guildId,
    channelId: s.channelId,
    channelName: s.channelName,
    startTimeout: String(s.startTimeoutSeconds),
  };
}

/** An http(s) address with a host, as the core's controller client accepts it. */
export function controllerAddressOk(text: string): boolean {
  try {
    const u = new URL(text);
    return (u.protocol === "http:" || u.protocol === "https:") && u.hostname !== "";
  } catch {
    return false;
  }
}

/** A Discord id: empty (not set), or digits only that fit in 64 bits. */
export function discordIdOk(text: string): boolean {
  return text === "" || (/^[0-9]+$/.test(text) && BigInt(text) <= U64_MAX);
}

/** The checks Save runs; the core checks again. */
export function buildWatch(v: WatchValues, saved: WatchView): Built<WatchSettings, WatchValues> {
  const executor = v.executor === "controller" ? "controller" : "obs";
  const [vmin, vmax] = VOLUME_RANGE;
  const volume = wholeNumber(v.obsVolume, vmin, vmax, "The OBS volume (%)");
  if (typeof volume === "string") return refuse(volume, "obsVolume");
  const returnScene = v.returnScene.trim();
  if ([...returnScene].length > SCENE_MAX_CHARS) {
    return refuse(`The return scene's name must be at most ${SCENE_MAX_CHARS} characters.`, "returnScene");
  }
  const controllerUrl = v.controllerUrl.trim();
  if (executor === "controller" && controllerUrl === "") {
    return refuse("The screen-share controller needs its address (e.g. http://127.0.0.1:8700), or pick OBS.", "controllerUrl");
  }
  if (controllerUrl !== "" && !controllerAddressOk(controllerUrl)) {
    return refuse(
      "The controller's address must start with http:// or https:// and name a host (e.g. http://127.0.0.1:8700).",
      "controllerUrl",
    );
  }
  const guildId = v.guildId.trim();
  if (!discordIdOk(guildId)) {
    return refuse("The guild id must be a number, digits only (Discord: right-click the server → Copy Server ID).", "guildId");
  }
  const channelId = v.channelId.trim();
  if (!discordIdOk(channelId)) {
    return refuse("The channel id must be a number, digits only (Discord: right-click the voice channel → Copy Channel ID).", "channelId");
  }
  const [min, max] = START_TIMEOUT_RANGE;
  const timeout = wholeNumber(v.startTimeout, min, max, "The start timeout (seconds)");
  if (typeof timeout === "string") return refuse(timeout, "startTimeout");
  return {
    update: {
      ...saved.settings,
      executor,
      viewerRequests: v.viewerRequests,
      obsVolumePercent: volume,
      returnScene,
      controllerUrl,
      guildId,
      channelId,
      channelName: v.channelName.trim(),
      startTimeoutSeconds: timeout,
    },
  };
}
