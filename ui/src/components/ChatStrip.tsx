// One chat slot's strip: a heading with the chat's name, its state and its counters, then its
// velocity graph (with the session's moments and the "fires above" line). The same component
// serves every slot; what differs between `main` (demo/Twitch, connected from the top bar, a
// tall graph that can show a past session) and `kick` (its own connect form, a small graph) is
// data in SLOTS below.

import { type Signal, useSignal } from "@preact/signals";
import { useMemo } from "preact/hooks";
import { type ApiError, type ChatState, commands } from "../bindings";
import { applyReturnedChatState, type ChatDescription, chatName, chatTone, chatTooltip, chatVersion, describeChat, describeKickChat, shortState } from "../chat";
import { nextStep, useCommand } from "../cmd";
import { clockShort, dateTime } from "../format";
import { fillGaps, historyCut, historyRange } from "../graph";
import { sourceLabel } from "../moments";
import { type Cache, type ChatCache, type ChatSlot, currentRate, hasSession, peakRate } from "../state";
import { use } from "../store";
import { useNow } from "../ticker";
import "./ChatStrip.css";
import { type GraphEmpty, VelocityGraph } from "./VelocityGraph";

type CounterKey = "rate" | "peak" | "messages" | "malformed" | "reconnects" | "subs" | "raids" | "bits";

/** The counters every strip shows, in order: label, unit, tooltip and how to read them. */
const COUNTERS: readonly { key: CounterKey; label: string; unit: string; title: string; value: (c: ChatCache) => string }[] = [
  { key: "rate", label: "rate", unit: "/s", title: "Messages per second, average of the last 5 s", value: (c) => currentRate(c.velocity).toFixed(1) },
  { key: "peak", label: "peak", unit: "/s", title: "Most messages in one second, last 10 minutes", value: (c) => String(peakRate(c.velocity)) },
  // Plain integers (no separators): the window tests read them as numbers.
  { key: "messages", label: "msgs", unit: "", title: "Messages in this session", value: (c) => String(c.counters.messages) },
  { key: "malformed", label: "malformed", unit: "", title: "Malformed lines, skipped safely", value: (c) => String(c.counters.malformedLines) },
  { key: "reconnects", label: "reconnects", unit: "", title: "Reconnects in this session", value: (c) => String(c.counters.reconnects) },
  // Viewers' support (counts only), shown once there is some.
  { key: "subs", label: "subs", unit: "", title: "Subs, resubs and gifted subs in this session", value: (c) => String(c.counters.support.subs + c.counters.support.gifts) },
  { key: "raids", label: "raids", unit: "", title: "Raids in this session", value: (c) => String(c.counters.support.raids) },
  { key: "bits", label: "bits", unit: "", title: "Bits cheered in this session", value: (c) => String(c.counters.support.bits) },
];

/** The support counters: no strip shows them before viewers gave something. */
const SUPPORT_KEYS: readonly CounterKey[] = ["subs", "raids", "bits"];

/** What makes one slot's strip different from another's. */
interface SlotConfig {
  /** The heading: the open chat's name, or the slot's while none is open. */
  name: (chat: ChatState) => string;
  /** A small platform badge before the heading. */
  logo?: string;
  ariaLabel: string;
  /** The state chip announces changes (not for `main`: the top bar's pill already does). */
  announceState: boolean;
  /** The long state description (the strip's tooltip). */
  describe: (chat: ChatState, nowMs: number) => ChatDescription;
  /** Element ids of the counters (the window tests read the main chat's). */
  counterIds: Partial<Record<CounterKey, string>>;
  /** Counters shown only once they are not zero. */
  hideWhenZero: readonly CounterKey[];
  graphId?: string;
  /** The small graph (Kick), with the counters beside it instead of in the heading. */
  compact: boolean;
  /** The strip has its own connect form and Disconnect (the main chat's are in the top bar). */
  ownConnect: boolean;
  /** The graph shows a past session when one is picked in Moments. */
  followsHistory: boolean;
  /** The graph is shown only while a session is open (the connect form takes its place). */
  graphOnlyInSession: boolean;
  emptyTitle: string;
  idleHint?: string;
  failedHint?: string;
}

const SLOTS: Record<ChatSlot, SlotConfig> = {
  main: {
    name: (chat) => chatName(chat) ?? "Chat",
    ariaLabel: "Chat velocity",
    announceState: false,
    describe: describeChat,
    counterIds: { rate: "msg-rate", peak: "msg-peak", messages: "msg-total", malformed: "malformed-count", reconnects: "reconnect-count" },
    hideWhenZero: SUPPORT_KEYS,
    graphId: "velocity-graph",
    compact: false,
    ownConnect: false,
    followsHistory: true,
    graphOnlyInSession: false,
    emptyTitle: "Chat velocity appears here once connected",
    idleHint: "Pick Demo or a Twitch channel above and press Connect.",
    failedHint: "See the reason above, then press Connect to try again.",
  },
  kick: {
    // The badge already says Kick: the heading names the channel.
    name: (chat) => (chat.state === "disconnected" ? "Kick" : chat.channel),
    logo: "K",
    ariaLabel: "Kick chat",
    announceState: true,
    describe: describeKickChat,
    counterIds: { rate: "kick-rate", messages: "kick-msg-total" },
    hideWhenZero: ["malformed", "reconnects", ...SUPPORT_KEYS],
    compact: true,
    ownConnect: true,
    followsHistory: false,
    graphOnlyInSession: true,
    emptyTitle: "Kick chat velocity appears here",
  },
};

/** What the graph shows: the live session, or (main) a past one picked in Moments. */
function useGraphData(c: ChatCache, cfg: SlotConfig, history: Cache["history"]) {
  const shown = cfg.followsHistory ? history : null;
  const historyPoints = useMemo(() => (shown ? fillGaps(shown.velocity) : null), [shown?.velocity]);
  if (shown && historyPoints) {
    const empty: GraphEmpty | null = historyPoints.length === 0 ? { title: "No chat was recorded in this session" } : null;
    return { points: historyPoints, range: historyRange(shown, historyPoints), threshold: null, moments: shown.moments, empty };
  }
  const session = hasSession(c.chat);
  // Nothing to plot (e.g. the window opened after the session ended): no markers either.
  const idle = !session && !c.velocity.some((p) => p.count > 0);
  let empty: GraphEmpty | null = null;
  if (session && c.velocity.length === 0) {
    empty = { title: c.chat.state === "connected" ? "Waiting for the first messages…" : cfg.emptyTitle };
  } else if (idle) {
    empty =
      c.chat.state === "failed" && cfg.failedHint
        ? { title: "Not receiving chat", text: cfg.failedHint }
        : { title: cfg.emptyTitle, text: cfg.idleHint };
  }
  const threshold = c.readings && session ? c.readings.threshold : null;
  return { points: c.velocity, range: null, threshold, moments: idle ? [] : c.moments, empty };
}

export function ChatStrip({ slot }: { slot: ChatSlot }) {
  const cfg = SLOTS[slot];
  const cache = use(slot, ...(cfg.followsHistory ? (["history"] as const) : []));
  const c = cache.chats[slot];
  const chat = c.chat;
  const session = hasSession(chat);
  const now = useNow(1000, chat.state === "reconnecting");
  const d = cfg.describe(chat, now);
  const name = cfg.name(chat);
  const graph = useGraphData(c, cfg, cache.history);
  const conn = useConnection(slot);
  const history = cfg.followsHistory ? cache.history : null;

  const counters = (
    <span class="chat-strip-counters">
      {COUNTERS.map((k) => {
        const value = k.value(c);
        if (cfg.hideWhenZero.includes(k.key) && value === "0") return null;
        return (
          <span key={k.key} class="chat-strip-counter" title={k.title}>
            <span class="chat-strip-counter-label">{k.label}</span> <span id={cfg.counterIds[k.key]} class="num chat-strip-counter-value">{value}</span>
            {k.unit}
          </span>
        );
      })}
    </span>
  );
  const showGraph = !cfg.graphOnlyInSession || session;

  return (
    <section class="card chat-strip" data-slot={slot} data-state={chat.state} data-compact={cfg.compact ? "true" : undefined} aria-label={cfg.ariaLabel}>
      <div class="chat-strip-head">
        <h2 class="card-title chat-strip-title" title={name}>
          {cfg.logo && (
            <span class="chat-strip-logo" aria-hidden="true">
              {cfg.logo}
            </span>
          )}
          {name}
        </h2>
        <span class="chip chat-strip-state" data-tone={chatTone(chat)} title={d.title ? `${d.text} · ${d.title}` : chatTooltip(d)} aria-live={cfg.announceState ? "polite" : undefined}>
          <span class="dot" />
          {shortState(chat, now)}
        </span>
        {!cfg.compact && counters}
        {cfg.ownConnect && session && (
          <button id={`${slot}-disconnect-btn`} class="btn btn-small btn-danger" type="button" disabled={conn.busy} onClick={() => void conn.disconnect()}>
            Disconnect
          </button>
        )}
      </div>
      {history && <HistoryLine history={history} />}
      {cfg.ownConnect && !session && <SlotConnect slot={slot} conn={conn} />}
      {cfg.ownConnect && session && conn.error && <ConnError slot={slot} error={conn.error} />}
      {cfg.ownConnect && chat.state === "failed" && !conn.error && (
        <div class="err-line chat-strip-error" title={chat.message}>
          {chat.message}
        </div>
      )}
      {showGraph && (
        <div class="chat-strip-body">
          <VelocityGraph
            id={cfg.graphId}
            label={graph.threshold !== null ? `${cfg.ariaLabel}; dashed line: velocity fires above ${graph.threshold.toFixed(1)} msg/s` : cfg.ariaLabel}
            points={graph.points}
            revision={cache.versions[slot] + (cfg.followsHistory ? cache.versions.history : 0)}
            range={graph.range}
            threshold={graph.threshold}
            moments={graph.moments}
            compact={cfg.compact}
            empty={graph.empty}
          />
          {cfg.compact && counters}
        </div>
      )}
    </section>
  );
}

/** "Past session: Twitch #shroud · Nov 27, 2026, 14:03–15:10" while one is picked in Moments. */
function HistoryLine({ history }: { history: NonNullable<Cache["history"]> }) {
  const s = history.session;
  const to = s.endedAtMs !== null ? clockShort(s.endedAtMs) : "now";
  const text = `Past session: ${sourceLabel(s.platform, s.channel)} · ${dateTime(s.startedAtMs)}–${to}${historyCut(history) ? " (last 6 hours)" : ""}`;
  return (
    <div class="chat-strip-sub" title={text}>
      {text}
    </div>
  );
}

// ---- A slot's own connection (Kick) ------------------------------------------------------------

type Reply<T> = { status: "ok"; data: T } | { status: "error"; error: ApiError };

interface Connection {
  /** What the form's field holds (kept while the form is replaced by the graph). */
  readonly channel: Signal<string>;
  readonly busy: boolean;
  readonly error: ApiError | null;
  connect(channel: string): Promise<void>;
  disconnect(): Promise<void>;
  clearError(): void;
}

/** Connect/disconnect for a slot with its own form; one busy flag and one error for both. */
function useConnection(slot: ChatSlot): Connection {
  const act = useCommand((call: () => Promise<Reply<ChatState>>) => call());
  const localError = useSignal<ApiError | null>(null);
  const channel = useSignal("");
  const send = async (call: () => Promise<Reply<ChatState>>) => {
    const before = chatVersion(slot);
    const out = await act.run(call);
    if (out?.ok) applyReturnedChatState(slot, out.data, before);
  };
  return {
    channel,
    get busy() {
      return act.busy;
    },
    get error() {
      return localError.value ?? act.error;
    },
    async connect(channel: string) {
      localError.value = null;
      if (channel.trim() === "") {
        localError.value = { code: "InvalidChannel", message: "Type a Kick channel name, its kick.com link, or its chatroom id." };
        return;
      }
      await send(() => commands.chatConnect({ kind: "kick", channel: channel.trim() }));
    },
    async disconnect() {
      localError.value = null;
      await send(() => commands.chatDisconnect(slot));
    },
    clearError() {
      localError.value = null;
      act.clearError();
    },
  };
}

function ConnError({ slot, error }: { slot: ChatSlot; error: ApiError }) {
  const step = nextStep(error.code);
  // Kick's lookup can be blocked: the core then asks for the chatroom id, a number.
  const chatroomHint = /chatroom id/i.test(error.message)
    ? "A chatroom id is a number: type it in the field and press Connect."
    : "";
  return (
    <div id={`${slot}-error`} class="err-line chat-strip-error" role="alert" data-code={error.code}>
      {error.message}
      {step && ` ${step}`}
      {chatroomHint && <div class="field-hint">{chatroomHint}</div>}
    </div>
  );
}

/** The one-line connect form of a slot with its own connection. */
function SlotConnect({ slot, conn }: { slot: ChatSlot; conn: Connection }) {
  const channel = conn.channel;
  const inputId = `${slot}-channel-input`;
  const submit = () => void conn.connect(channel.value);
  return (
    <>
      <div class="chat-strip-connect">
        <label class="visually-hidden" for={inputId}>
          Kick channel
        </label>
        <input
          id={inputId}
          class="input chat-strip-input"
          type="text"
          placeholder="xqc, kick.com/xqc or chatroom id"
          title="A Kick channel name, its kick.com link, or its chatroom id (a number)"
          autocomplete="off"
          autocapitalize="off"
          spellcheck={false}
          maxLength={200}
          value={channel.value}
          disabled={conn.busy}
          aria-invalid={conn.error ? "true" : "false"}
          aria-describedby={`${slot}-error`}
          onInput={(e) => {
            channel.value = e.currentTarget.value;
            if (conn.error) conn.clearError();
          }}
          onKeyDown={(e) => {
            if (e.key === "Enter" && !e.isComposing) {
              e.preventDefault();
              submit();
            }
          }}
        />
        <button id={`${slot}-connect-btn`} class="btn btn-small btn-primary" type="button" disabled={conn.busy} onClick={submit}>
          {conn.busy ? "Connecting…" : "Connect"}
        </button>
      </div>
      {conn.error && <ConnError slot={slot} error={conn.error} />}
    </>
  );
}
