// The Twitch login, in the top bar: a compact button with the login state that opens a small
// panel (the device code and its activation link, Cancel; "Logged in as …" and Log out; the
// paste-a-token fallback). While logged out, "Log in with Twitch" sits next to it and starts
// the login directly, opening the panel to show the code.
//
// The core owns the login; this only shows its AccountState and sends the streamer's clicks.
// The panel is non-modal and stays open until closed (×, Escape or its button): a login
// finished in the browser is confirmed in it, with Log out at hand. A token is never kept in the
// page: the paste field is a password field, emptied as soon as it is sent.

import { useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import { type AccountState, type ApiError, commands } from "../bindings";
import { copyText } from "../clipboard";
import type { Tone } from "../chat";
import { nextStep, useCommand } from "../cmd";
import { secondsUntil } from "../format";
import { use } from "../store";
import { useNow } from "../ticker";
import "./AccountMenu.css";

type Reply = { status: "ok"; data: unknown } | { status: "error"; error: ApiError };

/** The compact button's text (`#account-status`), its tooltip and tone. */
function describeAccount(state: AccountState): { status: string; title: string; tone: Tone } {
  switch (state.state) {
    case "checking":
      return { status: "Checking Twitch login…", title: "", tone: undefined };
    case "loggedOut":
      return {
        status: "Read-only chat",
        title: state.message ?? "Log in so StreamCue can reply to viewers.",
        tone: state.message ? "warn" : undefined,
      };
    case "waitingForUser":
      return {
        status: `Enter this code at ${hostOf(state.verificationUri)}`,
        title: `Open ${state.verificationUri} and enter ${state.userCode}`,
        tone: "accent",
      };
    case "loggedIn":
      return { status: `Logged in as ${state.login}`, title: state.warning ?? "", tone: state.warning ? "warn" : "ok" };
    case "failed":
      return { status: "Twitch login problem", title: state.message, tone: "err" };
  }
}

/** "https://www.twitch.tv/activate" → "twitch.tv/activate". */
function hostOf(uri: string): string {
  return uri.replace(/^https?:\/\/(www\.)?/, "");
}

/** What the panel's message line says: a failed click, else what the state reports. */
function accountMessage(state: AccountState, lastError: ApiError | null): { text: string; error: boolean } {
  if (lastError) {
    const step = nextStep(lastError.code);
    return { text: step ? `${lastError.message} ${step}` : lastError.message, error: true };
  }
  if (state.state === "failed") return { text: state.message, error: true };
  if (state.state === "loggedOut") return { text: state.message ?? "", error: false };
  if (state.state === "loggedIn") return { text: state.warning ?? "", error: false };
  return { text: "", error: false };
}

/** "4 min" / "42 s" until the code expires. */
function expiresIn(atMs: number, nowMs: number): string {
  const s = secondsUntil(atMs, nowMs);
  return s >= 60 ? `${Math.ceil(s / 60)} min` : `${s} s`;
}

export function AccountMenu() {
  const c = use("account", "meta");
  const state = c.account;
  const open = useSignal(false);
  const pasteOpen = useSignal(false);
  const copied = useSignal(false);
  const act = useCommand((call: () => Promise<Reply>) => call());
  const toggleRef = useRef<HTMLButtonElement>(null);
  const pasteRef = useRef<HTMLInputElement>(null);
  const waiting = state.state === "waitingForUser";
  // The code's expiry counts down only while the panel shows it.
  const now = useNow(1000, waiting && open.value);
  const d = describeAccount(state);
  const loggedOut = state.state === "loggedOut" || state.state === "failed";
  const message = accountMessage(state, act.error);

  // The paste field takes the focus when it opens.
  const pasteShown = pasteOpen.value;
  useEffect(() => {
    if (pasteShown) pasteRef.current?.focus();
  }, [pasteShown]);

  const close = () => {
    open.value = false;
    pasteOpen.value = false;
    copied.value = false;
    toggleRef.current?.focus();
  };
  const login = () => {
    open.value = true;
    pasteOpen.value = false;
    void act.run(() => commands.accountLogin());
  };
  const paste = (e: Event) => {
    e.preventDefault();
    const input = pasteRef.current;
    if (!input) return;
    const token = input.value;
    input.value = ""; // never keep a token in the page longer than needed
    pasteOpen.value = false;
    void act.run(() => commands.accountPasteToken(token));
  };

  return (
    <div
      id="account"
      class="account"
      data-state={state.state}
      aria-label="Twitch login"
      role="group"
      onKeyDown={(e) => {
        if (e.key === "Escape" && open.value) {
          e.preventDefault();
          close();
        }
      }}
    >
      <button
        ref={toggleRef}
        class="account-toggle"
        type="button"
        data-tone={d.tone}
        title={d.title || d.status}
        aria-expanded={open.value}
        aria-controls="account-menu"
        aria-haspopup="dialog"
        onClick={() => (open.value ? close() : (open.value = true))}
      >
        <span class="dot" />
        <span id="account-status" class="account-status" aria-live="polite">
          {d.status}
        </span>
        {waiting && <span class="account-mini-code mono">{state.userCode}</span>}
        <span class="account-caret" aria-hidden="true">
          ▾
        </span>
      </button>
      {loggedOut && (
        <button
          id="account-login"
          class="btn btn-small btn-primary"
          type="button"
          disabled={act.busy}
          title={
            c.twitchClientIdSet
              ? "Log in with your Twitch account so StreamCue can reply in chat"
              : "Set chat.twitch_client_id in config.toml first (README: two-minute set-up), or paste a token"
          }
          onClick={login}
        >
          Log in with Twitch
        </button>
      )}

      {open.value && (
        <div id="account-menu" class="account-menu" role="dialog" aria-label="Twitch login">
          <div class="account-menu-head">
            <span class="account-menu-title">Twitch login</span>
            <button class="btn btn-icon btn-small" type="button" aria-label="Close" title="Close" onClick={close}>
              ×
            </button>
          </div>

          {state.state === "checking" && <p class="account-menu-text muted">Checking Twitch login…</p>}

          {state.state === "waitingForUser" && (
            <>
              <p class="account-menu-text">
                Open{" "}
                <a
                  id="account-link"
                  href={state.verificationUri}
                  title={`Open ${state.verificationUri} in your browser`}
                  onClick={(e) => {
                    e.preventDefault();
                    void act.run(() => commands.openLink(state.verificationUri));
                  }}
                >
                  {hostOf(state.verificationUri)}
                </a>{" "}
                in your browser and enter this code:
              </p>
              <div id="account-code" class="account-code mono" title={`Open ${state.verificationUri} and enter this code`}>
                {state.userCode}
              </div>
              <div class="account-menu-row">
                <span class="muted">Expires in {expiresIn(state.expiresAtMs, now)}</span>
                <span class="account-menu-spacer" />
                <button
                  id="account-copy-code"
                  class="btn btn-small"
                  type="button"
                  title="Copy the code, then paste it on the Twitch page"
                  onClick={() =>
                    void copyText(state.userCode).then((ok) => (copied.value = ok))
                  }
                >
                  {copied.value ? "Code copied" : "Copy code"}
                </button>
                <button id="account-cancel" class="btn btn-small" type="button" disabled={act.busy} onClick={() => void act.run(() => commands.accountCancelLogin())}>
                  Cancel
                </button>
              </div>
            </>
          )}

          {state.state === "loggedIn" && (
            <>
              <p class="account-menu-text">
                Logged in as <strong>{state.login}</strong>: StreamCue replies to viewers in chat as this account.
              </p>
              <div class="account-menu-row">
                <span class="account-menu-spacer" />
                <button id="account-logout" class="btn btn-small" type="button" disabled={act.busy} onClick={() => void act.run(() => commands.accountLogout())}>
                  Log out
                </button>
              </div>
            </>
          )}

          {loggedOut && (
            <>
              <p class="account-menu-text muted">
                {c.twitchClientIdSet
                  ? "Chat is read-only until you log in: StreamCue cannot reply to viewers."
                  : "“Log in with Twitch” needs chat.twitch_client_id in config.toml (README: two-minute set-up). You can paste a token instead."}
              </p>
              <button
                id="account-paste-toggle"
                class="btn btn-link btn-small account-paste-toggle"
                type="button"
                aria-expanded={pasteOpen.value}
                onClick={() => (pasteOpen.value = !pasteOpen.value)}
              >
                Paste token
              </button>
              {pasteOpen.value && (
                <form id="account-paste" class="account-paste" onSubmit={paste}>
                  <label class="visually-hidden" for="account-paste-input">
                    Twitch token
                  </label>
                  <input id="account-paste-input" ref={pasteRef} class="input" type="password" placeholder="oauth:…" autocomplete="off" spellcheck={false} />
                  <button class="btn btn-primary btn-small" type="submit" disabled={act.busy}>
                    Use
                  </button>
                </form>
              )}
            </>
          )}

          <div id="account-error" class={message.error ? "err-line" : "account-note"} aria-live="polite">
            {message.text}
          </div>
        </div>
      )}
    </div>
  );
}
