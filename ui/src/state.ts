// The window's copy of the core's state: built from an AppSnapshot, then kept current by
// applying CoreEvents in order. A pure reducer over plain data: no DOM, no timers, no signals.
// `store.ts` wraps it for the components; `state.test.ts` tests it.
//
// Every change reports the *slice* it touched, so only the components reading that slice
// update (a velocity tick redraws the chat strip, not the queue).

import { UI_LIMITS } from "./bindings";
import type {
  ChatSlot,
  AccountState,
  LimitsView,
  GeneratorStatus,
  ObsView,
  AppSnapshot,
  ChatCounters,
  ChatState,
  Clip,
  CohostStatus,
  CoreEvent,
  GenerationProgress,
  Moment,
  MomentReadings,
  DesktopSettings,
  MomentSettings,
  Notice,
  OverlaySnapshot,
  PathsInfo,
  QueueItem,
  RecorderSettings,
  RecorderState,
  RecorderView,
  ServerView,
  SessionHistory,
  StorageView,
  VelocityPoint,
  WatchView,
} from "./bindings";
import { emptyQueue, type QueueCache, queueFromView, upsertItem, ZERO_QUEUE_COUNTERS } from "./queue";

/** Seconds of velocity history kept (and plotted): ten minutes, one point per second. */
export const WINDOW_SECS = UI_LIMITS.velocityWindowSecs;
/** Most clips kept (the core sends the latest ones; new ones arrive as events). */
export const MAX_CLIPS = UI_LIMITS.clipsKept;

/**
 * A chat slot: `main` is the demo or Twitch chat (its `!anime` commands feed the queue), `kick`
 * the Kick chat beside it. Both are the same kind of thing and use the same code everywhere.
 */
export type { ChatSlot };
export const CHAT_SLOTS: readonly ChatSlot[] = ["main", "kick"];

/** One chat, whatever its platform. */
export interface ChatCache {
  slot: ChatSlot;
  chat: ChatState;
  /** Bumped on every state change, so a command's (older) reply can tell it is stale. */
  version: number;
  counters: ChatCounters;
  /** Oldest first, strictly increasing `second`, at most WINDOW_SECS points. */
  velocity: VelocityPoint[];
  /** The slot's live (or latest) session's moments, oldest first. */
  moments: Moment[];
  /** The session `moments` belong to; null until known. */
  sessionId: number | null;
  /** The detector's readings for the last second of the live session; null when not live. */
  readings: MomentReadings | null;
}

/** The parts of the cache components subscribe to. */
export type Slice =
  | ChatSlot
  | "notices"
  | "meta"
  | "queue"
  | "progress"
  | "account"
  | "generator"
  | "obs"
  | "momentSettings"
  | "desktop"
  | "history"
  | "recorder"
  | "server"
  | "storage"
  | "cohost"
  | "watch"
  // ---- Limits
  | "limits";

export interface Cache {
  chats: Record<ChatSlot, ChatCache>;
  notices: Notice[];
  paths: PathsInfo | null;
  /** The local server (127.0.0.1 only): settings, state, address, clients; null until the first
   *  snapshot. */
  localServer: ServerView | null;
  /** Whether StreamCue can save (the data folder's disk); null until the first snapshot. */
  storage: StorageView | null;
  keyringAvailable: boolean | null;
  /** Whether `chat.twitch_client_id` is configured ("Log in with Twitch" needs it). */
  twitchClientIdSet: boolean;
  /** `chat.default_channel` from the config ("" when none). */
  defaultChannel: string;
  /** Viewer requests (the generation queue). */
  queue: QueueCache;
  /** The latest live progress per request id, kept only while that request is `generating`. */
  progress: Map<number, GenerationProgress>;
  /** The Twitch login (needed for replies in chat). */
  account: AccountState;
  /** Clip generation: settings, degraded mode, counters; null until the first snapshot. */
  generator: GeneratorStatus | null;
  /** OBS control: its settings and live state; null until the first snapshot. */
  obs: ObsView | null;
  /** What makes a moment; null until the first snapshot. */
  momentSettings: MomentSettings | null;
  /** Close to tray and desktop notifications; null until the first snapshot. */
  desktop: DesktopSettings | null;
  /** A past session picked in the history picker (its graph and moments), or null for "Live". */
  history: SessionHistory | null;
  /** The recorder: settings, state and the latest clips (newest first); null until known. */
  recorder: RecorderView | null;
  /** The AI co-host: settings, drafts, counters, last failure; null until the first snapshot. */
  cohost: CohostStatus | null;
  /** Watch-along: settings, the active session, the latest ones, the controller's health; null until the first snapshot. */
  watch: WatchView | null;
  // ---- Limits
  /** The limits strip: StreamCue's chat replies against the outgoing limit, and the running
   *  cooldowns (end times: the window counts them down itself); null until the first snapshot. */
  limits: LimitsView | null;
  /** Bumped per slice on every change: a command's reply made from an older version is stale. */
  versions: Record<Slice, number>;
}

/** What applying a batch did. */
export interface ApplyOutcome {
  /** A `resync` event arrived: fetch a fresh snapshot. */
  resync: boolean;
  /** The slices that changed. */
  touched: Set<Slice>;
}

export const ZERO_COUNTERS: ChatCounters = {
  messages: 0,
  malformedLines: 0,
  reconnects: 0,
  support: { subs: 0, gifts: 0, raids: 0, raidViewers: 0, bits: 0 },
};

export const ALL_SLICES: readonly Slice[] = [
  "main",
  "kick",
  "notices",
  "meta",
  "queue",
  "progress",
  "account",
  "generator",
  "obs",
  "momentSettings",
  "desktop",
  "history",
  "recorder",
  "server",
  "storage",
  "cohost",
  "watch",
  // ---- Limits
  "limits",
];

function emptyChat(slot: ChatSlot): ChatCache {
  return {
    slot,
    chat: { state: "disconnected" },
    version: 0,
    counters: { ...ZERO_COUNTERS },
    velocity: [],
    moments: [],
    sessionId: null,
    readings: null,
  };
}

export function emptyCache(): Cache {
  return {
    chats: { main: emptyChat("main"), kick: emptyChat("kick") },
    notices: [],
    paths: null,
    localServer: null,
    storage: null,
    keyringAvailable: null,
    twitchClientIdSet: false,
    defaultChannel: "",
    queue: emptyQueue(),
    progress: new Map(),
    account: { state: "checking" },
    generator: null,
    obs: null,
    momentSettings: null,
    desktop: null,
    history: null,
    recorder: null,
    cohost: null,
    watch: null,
    // ---- Limits
    limits: null,
    versions: Object.fromEntries(ALL_SLICES.map((s) => [s, 0])) as Record<Slice, number>,
  };
}

function touch(cache: Cache, touched: Set<Slice>, slice: Slice): void {
  cache.versions[slice]++;
  touched.add(slice);
}

/** Replaces everything with a snapshot (on load and on resync). Touches every slice. */
export function applySnapshot(cache: Cache, snap: AppSnapshot): ApplyOutcome {
  const slots: Record<ChatSlot, { state: ChatState; counters: ChatCounters; velocity: VelocityPoint[] }> = {
    main: { state: { state: "disconnected" }, counters: { ...ZERO_COUNTERS }, velocity: [] },
    kick: { state: { state: "disconnected" }, counters: { ...ZERO_COUNTERS }, velocity: [] },
  };
  for (const view of snap.chats) slots[view.slot] = view;
  placeMoments(cache, { main: slots.main.state, kick: slots.kick.state }, snap.moments);
  for (const slot of CHAT_SLOTS) {
    const c = cache.chats[slot];
    const s = slots[slot];
    c.chat = s.state;
    c.version++;
    c.counters = s.counters;
    c.velocity = [];
    for (const p of s.velocity) appendPoint(c.velocity, p);
    if (!hasSession(c.chat)) c.readings = null;
  }
  cache.notices = [...snap.notices];
  cache.paths = snap.paths;
  cache.localServer = snap.localServer;
  cache.storage = snap.storage;
  cache.keyringAvailable = snap.keyringAvailable;
  cache.twitchClientIdSet = snap.twitchClientIdSet;
  cache.defaultChannel = snap.defaultChannel;
  cache.queue = queueFromView(snap.queue);
  cache.account = snap.account;
  cache.generator = snap.generator;
  cache.obs = snap.obs;
  cache.momentSettings = snap.momentSettings;
  cache.desktop = snap.desktop;
  cache.recorder = snap.recorder;
  cache.cohost = snap.cohost;
  cache.watch = snap.watch;
  // ---- Limits
  cache.limits = snap.limits;
  // Progress is not part of the snapshot: keep what is still live, drop the rest.
  pruneProgress(cache);
  const touched = new Set<Slice>();
  for (const s of ALL_SLICES) touch(cache, touched, s);
  return { resync: false, touched };
}

/**
 * Replaces the queue and the moments with the overlay page's snapshot (its first state, and on
 * resync). The overlay is not told the chats' states: the ones its `chatState` events said
 * (none yet: disconnected) place the moments, as in `applySnapshot`, so with none known they
 * all go to the main slot. Touches the queue, the progress and the chat slots it changed.
 */
export function applyOverlaySnapshot(cache: Cache, snap: OverlaySnapshot): ApplyOutcome {
  cache.queue = queueFromView(snap.queue);
  pruneProgress(cache);
  const { main, kick } = cache.chats;
  const changed = placeMoments(cache, { main: main.chat, kick: kick.chat }, snap.moments);
  cache.watch = snap.watch;
  const touched = new Set<Slice>();
  for (const s of ["queue", "progress", "watch", ...changed] as const) touch(cache, touched, s);
  return { resync: false, touched };
}

/** Applies a batch of events, in order. */
export function applyEvents(cache: Cache, events: readonly CoreEvent[]): ApplyOutcome {
  const out: ApplyOutcome = { resync: false, touched: new Set() };
  const t = (slice: Slice) => touch(cache, out.touched, slice);
  for (const ev of events) {
    switch (ev.kind) {
      case "chatState":
        applyChatState(cache, ev.slot, ev.state);
        t(ev.slot);
        // Queue counters are per (main) session: a new session starts them from zero.
        if (ev.slot === "main") t("queue");
        break;
      case "velocity": {
        // Counters ride along with the point; a stale (already seen) point must not roll them back.
        const chat = cache.chats[ev.slot];
        if (appendPoint(chat.velocity, ev.point)) {
          chat.counters = ev.counters;
          t(ev.slot);
        }
        break;
      }
      case "notice":
        cache.notices = [...cache.notices, ev.notice];
        t("notices");
        break;
      case "queueItem":
        upsertQueueItem(cache, ev.item);
        t("queue");
        t("progress");
        break;
      case "queueCounters":
        cache.queue = { ...cache.queue, counters: ev.counters };
        t("queue");
        break;
      case "queueSettings":
        cache.queue = { ...cache.queue, autoApprove: ev.autoApprove };
        t("queue");
        break;
      case "account":
        cache.account = ev.state;
        t("account");
        break;
      case "generationProgress":
        if (applyProgress(cache, ev.progress)) t("progress");
        break;
      case "generator":
        cache.generator = ev.status;
        t("generator");
        break;
      case "obs":
        if (cache.obs) {
          cache.obs = { ...cache.obs, state: ev.state };
          t("obs");
        }
        break;
      case "obsSettings":
        if (cache.obs) {
          cache.obs = { ...cache.obs, settings: ev.settings };
          t("obs");
        }
        break;
      case "moment":
        for (const s of upsertMoment(cache, ev.moment)) t(s);
        break;
      case "momentReadings": {
        const slot = applyReadings(cache, ev.readings);
        if (slot) t(slot);
        break;
      }
      case "momentSettings":
        cache.momentSettings = ev.settings;
        t("momentSettings");
        break;
      case "desktopSettings":
        cache.desktop = ev.settings;
        t("desktop");
        break;
      case "paths":
        cache.paths = ev.paths;
        t("meta");
        break;
      case "localServer":
        cache.localServer = ev.server;
        t("server");
        break;
      case "storage":
        cache.storage = ev.storage;
        t("storage");
        break;
      case "recorder":
        if (applyRecorderState(cache, ev.state)) t("recorder");
        break;
      case "recorderSettings":
        if (applyRecorderSettings(cache, ev.settings)) t("recorder");
        break;
      case "clip":
        if (upsertClip(cache, ev.clip)) t("recorder");
        break;
      case "cohost":
        if (cache.cohost !== ev.status) t("cohost");
        cache.cohost = ev.status;
        break;
      case "watch":
        if (cache.watch !== ev.view) t("watch");
        cache.watch = ev.view;
        break;
      // ---- Limits
      case "replyLimits":
        if (cache.limits) {
          cache.limits = { ...cache.limits, replies: ev.limits };
          t("limits");
        }
        break;
      case "cooldowns":
        if (cache.limits) {
          cache.limits = { ...cache.limits, cooldowns: ev.cooldowns };
          t("limits");
        }
        break;
      case "resync":
        out.resync = true;
        break;
    }
  }
  return out;
}

// ---- Chats -----------------------------------------------------------------------------------

/** A session is open (or being opened) in these states. */
export function hasSession(chat: ChatState): boolean {
  return chat.state === "connecting" || chat.state === "connected" || chat.state === "reconnecting";
}

function sessionOf(chat: ChatState): number | null {
  return chat.state === "connected" ? chat.sessionId : null;
}

/** A chat's new state (events, and a command's reply). */
export function applyChatState(cache: Cache, slot: ChatSlot, next: ChatState): void {
  const c = cache.chats[slot];
  // A new session starts from zero, like the snapshot does ("the current session's" history).
  if (next.state === "connecting" && !hasSession(c.chat)) {
    c.velocity = [];
    c.counters = { ...ZERO_COUNTERS };
    c.moments = [];
    c.sessionId = null;
    c.readings = null;
    // Queue counters are per (main) session too; the requests themselves carry over.
    if (slot === "main") cache.queue = { ...cache.queue, counters: { ...ZERO_QUEUE_COUNTERS } };
  }
  if (next.state === "connected" && next.sessionId !== c.sessionId) {
    // Connected to a session other than the one listed (e.g. the window missed the start).
    if (c.sessionId !== null) c.moments = c.moments.filter((m) => m.sessionId === next.sessionId);
    c.sessionId = next.sessionId;
  }
  if (!hasSession(next)) c.readings = null;
  c.chat = next;
  c.version++;
}

/** Appends a finished second if it is newer than the last one; trims to the window. */
export function appendPoint(v: VelocityPoint[], p: VelocityPoint): boolean {
  const last = v[v.length - 1];
  if (last !== undefined && p.second <= last.second) return false; // duplicate or out of order
  v.push(p);
  const oldest = p.second - WINDOW_SECS + 1;
  let drop = 0;
  while (drop < v.length && (v.length - drop > WINDOW_SECS || v[drop]!.second < oldest)) drop++;
  if (drop > 0) v.splice(0, drop);
  return true;
}

/** Average msg/s over the last 5 complete seconds (fewer if the session is younger). */
export function currentRate(velocity: readonly VelocityPoint[]): number {
  const n = Math.min(5, velocity.length);
  if (n === 0) return 0;
  let sum = 0;
  for (let i = velocity.length - n; i < velocity.length; i++) sum += velocity[i]!.count;
  return sum / n;
}

/** Highest msg/s in the window. */
export function peakRate(velocity: readonly VelocityPoint[]): number {
  let peak = 0;
  for (const p of velocity) if (p.count > peak) peak = p.count;
  return peak;
}

// ---- Queue and generation --------------------------------------------------------------------

/** Adds or replaces a request (from an event or a command's reply), dropping its progress once
 *  it is no longer being generated. */
export function upsertQueueItem(cache: Cache, item: QueueItem): void {
  const q = { ...cache.queue, items: [...cache.queue.items] };
  if (upsertItem(q, item)) cache.queue = q;
  pruneProgress(cache);
}

/** Keeps the latest progress of a request being generated. The core announces `generating`
 *  before any progress, so progress for a request in another state is stale (e.g. replayed
 *  after a snapshot that already shows it finished) and is ignored. */
function applyProgress(cache: Cache, p: GenerationProgress): boolean {
  const item = cache.queue.items.find((it) => it.id === p.id);
  if (item && item.state !== "generating") return false;
  cache.progress = new Map(cache.progress).set(p.id, p);
  return true;
}

/** Forgets progress of requests that are no longer `generating` (or no longer listed). */
function pruneProgress(cache: Cache): void {
  if (cache.progress.size === 0) return;
  let next: Map<number, GenerationProgress> | null = null;
  for (const id of cache.progress.keys()) {
    const item = cache.queue.items.find((it) => it.id === id);
    if (!item || item.state !== "generating") (next ??= new Map(cache.progress)).delete(id);
  }
  if (next) cache.progress = next;
}

/** OBS is connected (actions that drive it can work). */
export function obsConnected(cache: Cache): boolean {
  return cache.obs?.state.connection.state === "connected";
}

// ---- Moments ---------------------------------------------------------------------------------

/**
 * Puts a snapshot's moments (the latest sessions', either slot's) into the chat slots, given
 * the chats' states: each goes to the slot whose session it belongs to; a slot with no open
 * session keeps listing its last session's. Returns the slots whose list or session changed.
 */
function placeMoments(cache: Cache, states: Record<ChatSlot, ChatState>, all: readonly Moment[]): ChatSlot[] {
  const kickId = sessionOf(states.kick) ?? cache.chats.kick.sessionId;
  const byKick = all.filter((m) => kickId !== null && m.sessionId === kickId);
  const mainAll = all.filter((m) => kickId === null || m.sessionId !== kickId);
  const mainId = sessionOf(states.main) ?? mainAll[0]?.sessionId ?? null;
  const sessionIds: Record<ChatSlot, number | null> = { main: mainId, kick: kickId };
  const moments: Record<ChatSlot, Moment[]> = {
    main: mainAll.filter((m) => m.sessionId === mainId),
    kick: byKick,
  };
  const changed: ChatSlot[] = [];
  for (const slot of CHAT_SLOTS) {
    const c = cache.chats[slot];
    if (sessionIds[slot] !== c.sessionId || moments[slot].length > 0) {
      c.moments = sortMoments(moments[slot]);
      changed.push(slot);
    }
    c.sessionId = sessionIds[slot];
  }
  return changed;
}

/** Oldest first (by start, then id), in place. */
export function sortMoments(list: Moment[]): Moment[] {
  return list.sort((a, b) => a.startedAtMs - b.startedAtMs || a.id - b.id);
}

/** A copy with the moment replaced (same id) or added, oldest first. */
function withMoment(list: readonly Moment[], m: Moment): Moment[] {
  const next = list.filter((x) => x.id !== m.id);
  next.push(m);
  return sortMoments(next);
}

/**
 * A moment began, grew, ended or got a note (events, and `momentsSetNote`'s reply). It goes to
 * the list of the session it belongs to: a live slot's and/or the past session being looked
 * at; a moment of any other session is not shown anywhere, so it is dropped. Returns the
 * slices it changed.
 */
export function upsertMoment(cache: Cache, m: Moment): Slice[] {
  const touched: Slice[] = [];
  if (cache.history && cache.history.session.id === m.sessionId) {
    cache.history = { ...cache.history, moments: withMoment(cache.history.moments, m) };
    touched.push("history");
  }
  for (const slot of CHAT_SLOTS) {
    const c = cache.chats[slot];
    if (c.sessionId !== null && c.sessionId === m.sessionId) {
      c.moments = withMoment(c.moments, m);
      touched.push(slot);
      return touched;
    }
  }
  // A newer session's first moment while the main chat is (re)connecting: its id was not known
  // yet (e.g. the snapshot came while reconnecting and held no moments). Only a moment still
  // going on can be new; a finished one is an edit of an older session's (a note, from history).
  const main = cache.chats.main;
  const newer = main.sessionId === null || m.sessionId > main.sessionId;
  if (newer && hasSession(main.chat) && main.chat.state !== "connected" && m.endedAtMs === null) {
    main.sessionId = m.sessionId;
    main.moments = [m];
    touched.push("main");
  }
  return touched;
}

/** The detector's readings go to the live slot they are about; late ones are dropped. */
function applyReadings(cache: Cache, r: MomentReadings): ChatSlot | null {
  for (const slot of CHAT_SLOTS) {
    const c = cache.chats[slot];
    if (!hasSession(c.chat)) continue; // a late one after Disconnect
    if (c.chat.state === "connected" ? c.chat.sessionId === r.sessionId : c.sessionId === r.sessionId) {
      c.readings = r;
      return slot;
    }
  }
  // Before the slot knows its session id (connecting), readings belong to the main chat.
  const main = cache.chats.main;
  if (hasSession(main.chat) && main.chat.state !== "connected" && main.sessionId === null) {
    main.readings = r;
    return "main";
  }
  return null;
}

/** Shows a past session (from `momentsHistory`), or the live ones again (null). */
export function setHistory(cache: Cache, history: SessionHistory | null): void {
  cache.history = history ? { ...history, moments: sortMoments([...history.moments]) } : null;
  cache.versions.history++;
}

/** What the Moments list shows: a past session's, or both live slots', oldest first. */
export function listedMoments(cache: Cache): readonly Moment[] {
  if (cache.history) return cache.history.moments;
  const { main, kick } = cache.chats;
  if (kick.moments.length === 0) return main.moments;
  if (main.moments.length === 0) return kick.moments;
  return sortMoments([...main.moments, ...kick.moments]);
}

/** The live slot a moment belongs to, if any. */
export function slotOfMoment(cache: Cache, m: Moment): ChatSlot | null {
  for (const slot of CHAT_SLOTS) if (cache.chats[slot].sessionId === m.sessionId) return slot;
  return null;
}

// ---- Recorder --------------------------------------------------------------------------------

function applyRecorderState(cache: Cache, state: RecorderState): boolean {
  if (!cache.recorder) return false;
  cache.recorder = { ...cache.recorder, state };
  return true;
}

function applyRecorderSettings(cache: Cache, settings: RecorderSettings): boolean {
  if (!cache.recorder) return false;
  cache.recorder = { ...cache.recorder, settings };
  return true;
}

/** A new (or rewritten) clip; the list stays newest first. */
export function upsertClip(cache: Cache, clip: Clip): boolean {
  if (!cache.recorder) return false;
  const clips = cache.recorder.clips.filter((c) => c.id !== clip.id);
  clips.push(clip);
  clips.sort((a, b) => b.createdAtMs - a.createdAtMs || b.id - a.id);
  cache.recorder = { ...cache.recorder, clips: clips.slice(0, MAX_CLIPS) };
  return true;
}

/** A moment's clips, newest first. */
export function clipsOf(cache: Cache, momentId: number): Clip[] {
  return cache.recorder ? cache.recorder.clips.filter((c) => c.momentId === momentId) : [];
}
