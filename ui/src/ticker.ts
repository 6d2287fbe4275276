// Time for the parts of the window that show an age or a countdown ("retrying in 4 s",
// "2 min ago"). A timer runs only while such a part is on screen *and* asks for it (`active`),
// at the coarsest step that reads right, and never while the window is hidden: an idle window
// has no timers at all.

import { signal } from "@preact/signals";
import { useEffect, useState } from "preact/hooks";

/** Whether the window is visible (not minimised, not on another workspace tab). */
export const pageVisible = signal(typeof document === "undefined" ? true : document.visibilityState !== "hidden");
if (typeof document !== "undefined") {
  document.addEventListener("visibilitychange", () => {
    pageVisible.value = document.visibilityState !== "hidden";
  });
}

/**
 * The current time in ms, re-rendering the caller every `stepMs` while `active` and the window
 * is visible; aligned to whole steps so several clocks tick together.
 */
export function useNow(stepMs: number, active: boolean): number {
  const [now, setNow] = useState(() => Date.now());
  const visible = pageVisible.value;
  useEffect(() => {
    if (!active || !visible) return;
    setNow(Date.now());
    let timer: ReturnType<typeof setTimeout>;
    const tick = () => {
      const t = Date.now();
      setNow(t);
      timer = setTimeout(tick, stepMs - (t % stepMs) + 5);
    };
    timer = setTimeout(tick, stepMs - (Date.now() % stepMs) + 5);
    return () => clearTimeout(timer);
  }, [stepMs, active, visible]);
  return now;
}

/** The step an age needs: 1 s under a minute, then 10 s, then a minute. */
export function ageStep(ageMs: number): number {
  if (ageMs < 60_000) return 1000;
  if (ageMs < 3_600_000) return 10_000;
  return 60_000;
}
