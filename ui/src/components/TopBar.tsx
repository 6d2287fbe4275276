// The top bar: the brand, the main chat's connection (Demo or a Twitch channel, Connect /
// Disconnect), its state pill, the Twitch login and the Settings button. One row at ≥ 1200 px;
// a failed command's message shows on a line under it.
//
// The bar's own state (source, typed channel, validation, busy, last error) lives in module
// signals: there is one bar, and the first snapshot may pre-fill it before it first renders.

import { signal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import { type ApiError, type ChatTarget, commands } from "../bindings";
import { applyReturnedChatState, chatTone, chatTooltip, chatVersion, describeChat, type Source, sourceOnLoad } from "../chat";
import { nextStep, run } from "../cmd";
import { hasSession } from "../state";
import { cache, fatal, use } from "../store";
import { onFirstSnapshot } from "../tauriSource";
import { useNow } from "../ticker";
import { openSettings } from "../ui";
import { AccountMenu } from "./AccountMenu";
import "./TopBar.css";

/** Wait after the last keystroke before asking the core whether the channel is valid. */
const VALIDATE_DEBOUNCE_MS = 150;

const source = signal<Source>("demo");
/** What the channel field holds. */
const channel = signal("");
/** Why the typed channel is not valid ("" when valid or empty). */
const channelError = signal("");
/** The field holds a channel the core accepted. */
const channelValid = signal(false);
/** A connect/disconnect is in flight. */
const busy = signal(false);
/** The last failed connect/disconnect (not a channel error: that one shows at the field). */
const commandError = signal<ApiError | null>(null);
/** Move the focus to the channel field on the next render (Twitch was just picked). */
let focusChannel = false;

let validateTimer: ReturnType<typeof setTimeout> | undefined;
let validateSeq = 0;

function scheduleValidation(): void {
  clearTimeout(validateTimer);
  validateTimer = setTimeout(() => void validateNow(), VALIDATE_DEBOUNCE_MS);
}

async function validateNow(): Promise<void> {
  clearTimeout(validateTimer);
  const seq = ++validateSeq;
  const input = channel.value;
  if (input.trim() === "") {
    // Empty is not an error worth shouting about; Connect just stays disabled.
    channelValid.value = false;
    channelError.value = "";
    return;
  }
  const out = await run(() => commands.validateChannel(input));
  if (seq !== validateSeq) return; // the streamer kept typing
  channelValid.value = out.ok;
  channelError.value = out.ok ? "" : out.error.message;
}

// A session already open (the window was reloaded) shows its source; otherwise the configured
// default channel is pre-filled.
onFirstSnapshot((snap) => {
  const main = snap.chats.find((c) => c.slot === "main")?.state ?? { state: "disconnected" };
  const adopt = sourceOnLoad(main, snap.defaultChannel);
  if (!adopt) return;
  source.value = adopt.source;
  if (adopt.validate && adopt.channel !== undefined) {
    channel.value = adopt.channel;
    scheduleValidation();
  } else if (adopt.channel !== undefined && channel.value.trim() === "") {
    channel.value = adopt.channel;
    channelValid.value = adopt.valid ?? false;
  }
});

/** Shows a failed command's error where it belongs (a stale state was resynced by `run`). */
function showCommandError(err: ApiError): void {
  if (err.code === "InvalidChannel") {
    channelValid.value = false;
    channelError.value = err.message;
  } else if (err.code !== "StartupFailed") {
    commandError.value = err;
  }
}

async function connect(): Promise<void> {
  if (busy.value || hasSession(cache.chats.main.chat) || fatal.value) return;
  const target: ChatTarget = source.value === "demo" ? { kind: "demo" } : { kind: "twitch", channel: channel.value };
  busy.value = true;
  commandError.value = null;
  const before = chatVersion("main");
  try {
    const out = await run(() => commands.chatConnect(target));
    if (out.ok) applyReturnedChatState("main", out.data, before);
    else showCommandError(out.error);
  } finally {
    busy.value = false;
  }
}

async function disconnect(): Promise<void> {
  if (busy.value) return;
  busy.value = true;
  commandError.value = null;
  const before = chatVersion("main");
  try {
    const out = await run(() => commands.chatDisconnect("main"));
    if (out.ok) applyReturnedChatState("main", out.data, before);
    else showCommandError(out.error);
  } finally {
    busy.value = false;
  }
}

function selectSource(next: Source): void {
  if (busy.value || hasSession(cache.chats.main.chat)) return;
  source.value = next;
  if (next === "twitch") {
    focusChannel = true;
    void validateNow();
  }
}

function GearIcon() {
  return (
    <svg width="16" height="16" viewBox="0 0 24 24" aria-hidden="true" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">
      <circle cx="12" cy="12" r="3" />
      <path d="M19.4 15a1.7 1.7 0 0 0 .3 1.8l.1.1a2 2 0 1 1-2.8 2.8l-.1-.1a1.7 1.7 0 0 0-1.8-.3 1.7 1.7 0 0 0-1 1.5V21a2 2 0 1 1-4 0v-.1a1.7 1.7 0 0 0-1.1-1.5 1.7 1.7 0 0 0-1.8.3l-.1.1a2 2 0 1 1-2.8-2.8l.1-.1a1.7 1.7 0 0 0 .3-1.8 1.7 1.7 0 0 0-1.5-1H3a2 2 0 1 1 0-4h.1a1.7 1.7 0 0 0 1.5-1.1 1.7 1.7 0 0 0-.3-1.8l-.1-.1a2 2 0 1 1 2.8-2.8l.1.1a1.7 1.7 0 0 0 1.8.3H9a1.7 1.7 0 0 0 1-1.5V3a2 2 0 1 1 4 0v.1a1.7 1.7 0 0 0 1 1.5 1.7 1.7 0 0 0 1.8-.3l.1-.1a2 2 0 1 1 2.8 2.8l-.1.1a1.7 1.7 0 0 0-.3 1.8V9a1.7 1.7 0 0 0 1.5 1H21a2 2 0 1 1 0 4h-.1a1.7 1.7 0 0 0-1.5 1z" />
    </svg>
  );
}

export function TopBar() {
  const chat = use("main").chats.main.chat;
  const session = hasSession(chat);
  const now = useNow(1000, chat.state === "reconnecting");
  const d = describeChat(chat, now);
  const isBusy = busy.value;
  const locked = session || isBusy;
  const twitch = source.value === "twitch";
  const inputRef = useRef<HTMLInputElement>(null);
  const cmdError = commandError.value;

  useEffect(() => {
    if (focusChannel && inputRef.current) {
      focusChannel = false;
      inputRef.current.focus();
    }
  });

  const cmdStep = cmdError ? nextStep(cmdError.code) : "";

  return (
    <header class="topbar" aria-busy={isBusy ? "true" : undefined}>
      <div class="topbar-row">
        <div class="topbar-brand">
          <span class="topbar-mark" aria-hidden="true" />
          <span class="topbar-name">StreamCue</span>
        </div>

        <div class="topbar-connect" role="group" aria-label="Chat connection">
          <div class="topbar-seg" role="group" aria-label="Chat source">
            <button id="source-demo" class="topbar-seg-btn" type="button" aria-pressed={!twitch} disabled={locked} onClick={() => selectSource("demo")}>
              Demo
            </button>
            <button id="source-twitch" class="topbar-seg-btn" type="button" aria-pressed={twitch} disabled={locked} onClick={() => selectSource("twitch")}>
              Twitch
            </button>
          </div>

          {twitch && (
            <div class="topbar-channel">
              <label class="visually-hidden" for="channel-input">
                Twitch channel
              </label>
              <input
                id="channel-input"
                ref={inputRef}
                class="input topbar-channel-input"
                type="text"
                placeholder="channel, #channel or twitch.tv link"
                autocomplete="off"
                autocapitalize="off"
                spellcheck={false}
                maxLength={200}
                value={channel.value}
                disabled={locked}
                title={channel.value}
                aria-invalid={channelError.value !== "" ? "true" : "false"}
                aria-describedby="channel-error"
                onInput={(e) => {
                  channel.value = e.currentTarget.value;
                  commandError.value = null;
                  scheduleValidation();
                }}
                onKeyDown={(e) => {
                  if (e.key === "Enter" && !e.isComposing) {
                    e.preventDefault();
                    clearTimeout(validateTimer);
                    void connect();
                  }
                }}
              />
              <div id="channel-error" class="topbar-channel-error" aria-live="polite">
                {channelError.value}
              </div>
            </div>
          )}

          {session ? (
            <button id="disconnect-btn" class="btn btn-danger" type="button" disabled={isBusy} onClick={() => void disconnect()}>
              Disconnect
            </button>
          ) : (
            <button id="connect-btn" class="btn btn-primary" type="button" disabled={isBusy || (twitch && !channelValid.value)} onClick={() => void connect()}>
              Connect
            </button>
          )}
        </div>

        <div id="chat-state" class="chip topbar-state" data-state={chat.state} data-tone={chatTone(chat)} title={chatTooltip(d)} aria-live="polite">
          <span class="dot" />
          {d.text}
        </div>

        <span class="topbar-spacer" />
        <AccountMenu />
        <button id="settings-open" class="btn btn-icon topbar-settings" type="button" aria-label="Settings" title="Settings" onClick={() => openSettings("generator")}>
          <GearIcon />
        </button>
      </div>

      {cmdError && (
        <div id="command-error" class="topbar-command-error" role="alert" data-code={cmdError.code}>
          <span class="topbar-command-error-text">
            {cmdError.message}
            {cmdStep && ` ${cmdStep}`}
          </span>
          <button class="btn btn-icon btn-small" type="button" aria-label="Dismiss" title="Dismiss" onClick={() => (commandError.value = null)}>
            ×
          </button>
        </div>
      )}
    </header>
  );
}
