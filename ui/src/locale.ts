// Makes navigator.language usable by Intl before anything else loads.
// WebKitGTK reports the POSIX locale "C" when LANG=C/C.UTF-8 (CI, minimal desktops); uPlot
// passes navigator.language to Intl.NumberFormat at import time, which throws on "C" and would
// leave the window blank. Import this module first. Outside a browser (unit tests) it does
// nothing: `appLocale()` then answers "en-US".

function usable(tag: string): boolean {
  try {
    new Intl.NumberFormat(tag);
    return true;
  } catch {
    return false;
  }
}

if (typeof navigator !== "undefined" && !usable(navigator.language)) {
  const fallback = navigator.languages?.find(usable) ?? "en-US";
  Object.defineProperty(navigator, "language", { value: fallback, configurable: true });
}

/** The streamer's locale tag for Intl ("en-US" where there is no browser). */
export function appLocale(): string {
  return typeof navigator !== "undefined" && usable(navigator.language) ? navigator.language : "en-US";
}
