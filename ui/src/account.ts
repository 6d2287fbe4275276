// The Twitch login widget in the top bar: "Log in with Twitch" (device code shown with the
// activation link), "Logged in as …" with Log out, and the paste-a-token fallback. The core owns
// the login; this only shows its AccountState and sends the streamer's clicks.

import { type AccountState, type ApiError, commands } from "./bindings";

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

export const adom = {
  root: $<HTMLDivElement>("account"),
  status: $<HTMLSpanElement>("account-status"),
  login: $<HTMLButtonElement>("account-login"),
  logout: $<HTMLButtonElement>("account-logout"),
  cancel: $<HTMLButtonElement>("account-cancel"),
  code: $<HTMLDivElement>("account-code"),
  pasteToggle: $<HTMLButtonElement>("account-paste-toggle"),
  pasteForm: $<HTMLFormElement>("account-paste"),
  pasteInput: $<HTMLInputElement>("account-paste-input"),
  error: $<HTMLDivElement>("account-error"),
};

let busy = false;
let lastError = "";
let pasteOpen = false;

/** Draws the widget from the cached state. `clientIdSet`: "Log in with Twitch" can work. */
export function renderAccount(state: AccountState, clientIdSet: boolean, nowMs: number): void {
  adom.root.dataset.state = state.state;
  const show = (el: HTMLElement, on: boolean) => {
    if (el.hidden === on) el.hidden = !on;
  };
  let status = "";
  let title = "";
  switch (state.state) {
    case "checking":
      status = "Checking Twitch login…";
      break;
    case "loggedOut":
      status = "Read-only chat";
      title = state.message ?? "Log in so StreamCue can reply to viewers.";
      break;
    case "waitingForUser": {
      const left = Math.max(0, Math.ceil((state.expiresAtMs - nowMs) / 1000));
      status = `Enter this code at ${state.verificationUri.replace(/^https?:\/\/(www\.)?/, "")}`;
      adom.code.textContent = `${state.userCode}`;
      adom.code.title = `Open ${state.verificationUri} and enter this code (expires in ${left} s)`;
      break;
    }
    case "loggedIn":
      status = `Logged in as ${state.login}`;
      title = state.warning ?? "";
      break;
    case "failed":
      status = "Twitch login problem";
      title = state.message;
      break;
  }
  if (adom.status.textContent !== status) adom.status.textContent = status;
  adom.status.title = title;
  const loggedIn = state.state === "loggedIn";
  const waiting = state.state === "waitingForUser";
  show(adom.code, waiting);
  show(adom.cancel, waiting);
  show(adom.logout, loggedIn);
  show(adom.login, !loggedIn && !waiting);
  show(adom.pasteToggle, !loggedIn && !waiting);
  show(adom.pasteForm, pasteOpen && !loggedIn && !waiting);
  adom.login.disabled = busy || state.state === "checking";
  adom.login.title = clientIdSet
    ? "Log in with your Twitch account so StreamCue can reply in chat"
    : "Set chat.twitch_client_id in config.toml first (README: two-minute set-up), or paste a token";
  const message = lastError || (state.state === "failed" ? state.message : state.state === "loggedOut" ? (state.message ?? "") : "") || (loggedIn ? (state.warning ?? "") : "");
  if (adom.error.textContent !== message) adom.error.textContent = message;
}

async function run(action: () => Promise<{ status: "ok" } | { status: "error"; error: ApiError }>, rerender: () => void) {
  busy = true;
  lastError = "";
  rerender();
  try {
    const res = await action();
    if (res.status === "error") lastError = res.error.message;
  } catch (e) {
    lastError = String(e);
  } finally {
    busy = false;
    rerender();
  }
}

/** Wires the buttons; `rerender` redraws the page from the cache. */
export function initAccount(rerender: () => void): void {
  adom.login.addEventListener("click", () => void run(() => commands.accountLogin(), rerender));
  adom.cancel.addEventListener("click", () => void run(() => commands.accountCancelLogin(), rerender));
  adom.logout.addEventListener("click", () => void run(() => commands.accountLogout(), rerender));
  adom.pasteToggle.addEventListener("click", () => {
    pasteOpen = !pasteOpen;
    rerender();
    if (pasteOpen) adom.pasteInput.focus();
  });
  adom.pasteForm.addEventListener("submit", (e) => {
    e.preventDefault();
    const token = adom.pasteInput.value;
    adom.pasteInput.value = ""; // never keep a token in the page longer than needed
    pasteOpen = false;
    void run(() => commands.accountPasteToken(token), rerender);
  });
}
