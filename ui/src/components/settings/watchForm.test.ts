// Settings → Watch-along as form data (watchForm.ts): the fields a WatchView shows, and what Save
// checks (the core's: an http(s) controller address, Discord ids as digits that fit in 64 bits,
// the start timeout's range).
import { describe, expect, it } from "vitest";
import { WATCH_SETTINGS, watchView } from "../../testFixtures";
import { buildWatch, controllerAddressOk, discordIdOk, START_TIMEOUT_RANGE, type WatchValues, watchFields } from "./watchForm";

const saved = watchView();
const edit = (patch: Partial<WatchValues>): WatchValues => ({ ...watchFields(saved), ...patch });
const built = (patch: Partial<WatchValues>) => {
  const b = buildWatch(edit(patch), saved);
  if ("error" in b) throw new Error(`refused ${JSON.stringify(patch)}: ${b.error.message}`);
  return b.update;
};
const refusal = (patch: Partial<WatchValues>) => {
  const b = buildWatch(edit(patch), saved);
  if (!("error" in b)) throw new Error(`accepted ${JSON.stringify(patch)}`);
  return { field: b.field, message: b.error.message, code: b.error.code };
};

describe("watchForm", () => {
  it("round-trips saved settings through the fields", () => {
    expect(watchFields(saved)).toEqual({
      executor: "controller",
      viewerRequests: false,
      obsVolume: "80",
      returnScene: "",
      controllerUrl: "http://127.0.0.1:8700",
      guildId: "1234567890123456789",
      channelId: "987654321098765432",
      channelName: "Movie Night",
      startTimeout: "120",
    });
    expect(buildWatch(watchFields(saved), saved)).toEqual({ update: WATCH_SETTINGS });
  });

  it("keeps 64-bit ids exact, as text (a number would round them)", () => {
    const big = "18446744073709551615"; // u64::MAX
    expect(built({ guildId: big }).guildId).toBe(big);
    expect(Number(big).toString()).not.toBe(big);
    expect(built({ channelId: " 987654321098765432 " }).channelId).toBe("987654321098765432");
  });

  it("ids are digits only, fit in 64 bits, and may be left empty", () => {
    for (const bad of ["12a", "-5", "1.5", "1e3", "1 2", "18446744073709551616"]) {
      expect(refusal({ guildId: bad })).toMatchObject({ field: "guildId", code: "InvalidSettings" });
      expect(refusal({ channelId: bad }).field).toBe("channelId");
    }
    expect(built({ guildId: "", channelId: "" })).toMatchObject({ guildId: "", channelId: "" });
    expect(discordIdOk("0")).toBe(true);
  });

  it("the controller's address: http(s) with a host, trimmed; empty turns watch-along off", () => {
    expect(built({ controllerUrl: "  https://controller.example:8700/base/ " }).controllerUrl).toBe("https://controller.example:8700/base/");
    expect(built({ executor: "obs", controllerUrl: "" }).controllerUrl).toBe("");
    expect(refusal({ executor: "controller", controllerUrl: " " })).toMatchObject({ field: "controllerUrl", message: expect.stringContaining("or pick OBS") });
    for (const bad of ["127.0.0.1:8700", "ftp://host", "http://", "javascript:alert(1)", "controller"]) {
      expect(refusal({ controllerUrl: bad })).toMatchObject({ field: "controllerUrl", message: expect.stringContaining("http://") });
    }
    expect(controllerAddressOk("http://localhost:8700")).toBe(true);
  });

  it("the start timeout: whole seconds within the core's range, edges included", () => {
    const [min, max] = START_TIMEOUT_RANGE;
    expect([min, max]).toEqual([10, 900]);
    expect(built({ startTimeout: "10" }).startTimeoutSeconds).toBe(10);
    expect(built({ startTimeout: " 900 " }).startTimeoutSeconds).toBe(900);
    for (const bad of ["9", "901", "60.5", "", "two"]) {
      expect(refusal({ startTimeout: bad })).toMatchObject({ field: "startTimeout", message: expect.stringContaining("10 and 900") });
    }
  });

  it("OBS: the volume is a whole percent 0–100, the return scene trimmed and at most 100 characters", () => {
    const obs = built({ executor: "obs", obsVolume: " 0 ", returnScene: "  Just Chatting " });
    expect(obs).toMatchObject({ executor: "obs", obsVolumePercent: 0, returnScene: "Just Chatting" });
    expect(built({ executor: "obs", obsVolume: "100" }).obsVolumePercent).toBe(100);
    for (const bad of ["101", "-1", "50.5", "", "loud"]) {
      expect(refusal({ obsVolume: bad }).field).toBe("obsVolume");
    }
    expect(refusal({ returnScene: "x".repeat(101) }).field).toBe("returnScene");
    expect(built({ returnScene: "x".repeat(100) }).returnScene).toHaveLength(100);
    expect(built({ viewerRequests: true }).viewerRequests).toBe(true);
    // Anything but "controller" is OBS (the only other executor).
    expect(built({ executor: "bogus" }).executor).toBe("obs");
  });

  it("the channel name is trimmed; the executor is kept", () => {
    expect(built({ channelName: "  Movie Night  " })).toEqual({ ...WATCH_SETTINGS, channelName: "Movie Night" });
  });
});
