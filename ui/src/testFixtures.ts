// Plain data the Vitest tests build their caches from (tests only; nothing imports it at run
// time).

import type {
  AppSnapshot,
  ChatState,
  ChatView,
  CohostDraft,
  CohostSettings,
  CohostStatus,
  DesktopSettings,
  QueueItem,
  RequestState,
  ServerView,
  WatchSessionView,
  WatchSettings,
  WatchStatus,
  WatchView,
} from "./bindings";

/** A request `id` ("prompt {id}" by "U{id}") in `state` at `position`. */
export function item(id: number, state: RequestState, position: number, updatedAtMs = 1, createdAtMs = 0): QueueItem {
  return {
    id,
    userLogin: `u${id}`,
    displayName: `U${id}`,
    prompt: `prompt ${id}`,
    state,
    reason: null,
    position,
    createdAtMs,
    updatedAtMs,
    filePath: null,
    attempts: 0,
    generationMs: null,
  };
}

/** The co-host's settings as the core defaults them (src/api/cohost.rs), with an endpoint. */
export const COHOST_SETTINGS: CohostSettings = {
  enabled: true,
  backend: "openAiCompatible",
  baseUrl: "http://127.0.0.1:11434",
  model: "llama3.2",
  temperature: 0.7,
  maxTokens: 120,
  stream: false,
  timeoutSeconds: 30,
  persona: "You are a friendly, witty co-host of a live stream. Keep answers short, kind and on topic.",
  names: ["cuebot"],
  askCommands: ["!ask"],
  keywords: [],
  keywordChance: 1,
  quietMinutes: 0,
  cooldownSeconds: 20,
  perMinute: 6,
  ignore: ["nightbot", "streamelements"],
  contextMessages: 20,
  contextMinutes: 10,
  mode: "approval",
  draftExpirySeconds: 120,
  reserveForQueue: 5,
  maxChars: 400,
  truncation: "sentence",
  stripMarkdown: true,
  filters: [],
};

/** Draft `id`: viewer "viewer{id}" asked in the main chat's #chan (sendable) unless `over` says. */
export function cohostDraft(id: number, over: Partial<CohostDraft> = {}): CohostDraft {
  const createdMs = 1_700_000_000_000 + id * 1000;
  return {
    id,
    slot: "main",
    channel: "chan",
    viewer: `viewer${id}`,
    question: `@cuebot what game is this? (${id})`,
    answer: `@viewer${id} It's Celeste, on the hardest chapter!`,
    trigger: "mention",
    latencyMs: 840,
    createdMs,
    expiresMs: createdMs + 120_000,
    sendable: true,
    ...over,
  };
}

/** A running co-host with two drafts (one from Kick), some history and no failure. */
export function cohostStatus(over: Partial<CohostStatus> = {}): CohostStatus {
  return {
    settings: COHOST_SETTINGS,
    apiKeySaved: false,
    drafts: [cohostDraft(1), cohostDraft(2, { slot: "kick", channel: "kickchan", sendable: false })],
    counters: {
      answered: 12,
      failed: 1,
      rejected: 2,
      promptTokens: 3400,
      completionTokens: 560,
      draftsSent: 7,
      draftsEdited: 2,
      draftsDiscarded: 3,
      draftsExpired: 1,
      autoSent: 0,
      limited: 0,
      linesDropped: 0,
    },
    latencyP50Ms: 840,
    latencyP95Ms: 2100,
    inFlight: 0,
    lastError: null,
    lastErrorMs: null,
    ...over,
  };
}

// ---- Watch-along (watch.test.ts, watchForm.test.ts) --------------------------------------------

/** Settings → Watch-along with a controller on this computer and a Discord voice channel. */
export const WATCH_SETTINGS: WatchSettings = {
  executor: "controller",
  controllerUrl: "http://127.0.0.1:8700",
  guildId: "1234567890123456789",
  channelId: "987654321098765432",
  channelName: "Movie Night",
  startTimeoutSeconds: 120,
  obsVolumePercent: 80,
  returnScene: "",
  viewerRequests: false,
};

/** Session `n` (a v4-looking id) in `status`, asked for by a Twitch moderator, 1 s per `n` later. */
export function watchSession(n: number, status: WatchStatus, over: Partial<WatchSessionView> = {}): WatchSessionView {
  const createdMs = 1_700_000_000_000 + n * 1000;
  return {
    id: `3f0c1a52-7d1e-4b8e-9a51-${String(n).padStart(12, "0")}`,
    requester: "modname",
    source: "twitch",
    target: "Movie Night",
    url: "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
    status,
    errorCode: null,
    errorMessage: null,
    createdMs,
    updatedMs: createdMs + 30_000,
    ...over,
  };
}

/** One session streaming now (asked for from the window); before it, one that failed (the
 *  start timeout) and one that ended; a healthy controller. History is newest first. */
export function watchView(over: Partial<WatchView> = {}): WatchView {
  const current = watchSession(3, "streaming", { requester: "streamer", source: "window" });
  return {
    settings: WATCH_SETTINGS,
    current,
    history: [
      current,
      watchSession(2, "failed", {
        url: "https://vimeo.com/76979871",
        errorCode: "ERR_TIMEOUT",
        errorMessage: "The video was not playing 120 s after it was asked for. Try again; if it keeps happening, try another link.",
      }),
      watchSession(1, "ended", { url: "https://www.twitch.tv/videos/2000000000" }),
    ],
    health: { status: "healthy", sandbox_ready: true, active_sessions: 1, version: "0.1.0" },
    healthError: null,
    asks: [],
    ...over,
  };
}

// ---- A whole snapshot (state.test.ts, cohost.test.ts, watch.test.ts) -------------------------

export const NO_SUPPORT = { subs: 0, gifts: 0, raids: 0, raidViewers: 0, bits: 0 };
export const ZERO_CHAT = { messages: 0, malformedLines: 0, reconnects: 0, support: NO_SUPPORT };

/** A snapshot; `chat` and `kick` fill the two chat slots (disconnected by default). */
export function snapshot(
  over: Partial<AppSnapshot> & { chat?: ChatState; kick?: Omit<ChatView, "slot"> } = {},
): AppSnapshot {
  const { chat, kick, ...rest } = over;
  return {
    chats: [
      { slot: "main", state: chat ?? { state: "disconnected" }, counters: { ...ZERO_CHAT }, velocity: [] },
      { slot: "kick", ...(kick ?? { state: { state: "disconnected" }, counters: { ...ZERO_CHAT }, velocity: [] }) },
    ],
    notices: [],
    paths: {
      configFile: "c",
      databaseFile: "d",
      logDir: "l",
      clipsDir: "k",
      recordingsDir: "r",
      clipsDirIsDefault: true,
      recordingsDirIsDefault: true,
    },
    localServer: SERVER,
    storage: { phase: "ok", freeMb: 50000, path: "/data", message: null },
    keyringAvailable: true,
    defaultChannel: "",
    queue: { items: [], autoApprove: false, maxWaiting: 10, counters: {} as never },
    account: { state: "loggedOut" } as never,
    twitchClientIdSet: false,
    generator: {} as never,
    obs: { settings: {}, state: { connection: { state: "disabled" } } } as never,
    moments: [],
    momentSettings: {} as never,
    recorder: { settings: {}, state: {}, clips: [] } as never,
    desktop: DESKTOP,
    cohost: cohostStatus(),
    watch: watchView(),
    ...rest,
  } as AppSnapshot;
}

export const SERVER: ServerView = {
  settings: { enabled: true, port: 7373 },
  phase: "listening",
  url: "http://127.0.0.1:7373",
  message: null,
  clients: 0,
  overriddenBy: null,
  tokenSaved: true,
};

export const DESKTOP: DesktopSettings = {
  closeToTray: true,
  notifyMoments: false,
  notifyDegraded: true,
  notifyClipReady: true,
  notifyLoginExpiry: true,
};
