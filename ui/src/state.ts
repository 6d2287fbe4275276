// Client-side cache of the core's state: built from an AppSnapshot, then kept current by
// applying CoreEvents in order. Pure data; it never touches the DOM.

import type {
  AccountState,
  Clip,
  RecorderSettings,
  RecorderState,
  RecorderView,
  AppSnapshot,
  ChatCounters,
  ChatState,
  CoreEvent,
  GenerationProgress,
  GeneratorStatus,
  Moment,
  MomentReadings,
  MomentSettings,
  Notice,
  ObsSettings,
  ObsState,
  ObsView,
  PathsInfo,
  QueueItem,
  SessionHistory,
  VelocityPoint,
} from "./bindings";
import { emptyQueue, type QueueCache, queueFromView, upsertItem, ZERO_QUEUE_COUNTERS } from "./queue";

/** Seconds of velocity history kept (and plotted): ten minutes, one point per second. */
export const WINDOW_SECS = 600;

export interface Cache {
  chat: ChatState;
  /** Bumped on every chat state change, so a command's (older) reply can tell it is stale. */
  chatVersion: number;
  counters: ChatCounters;
  /** Oldest first, strictly increasing `second`, at most WINDOW_SECS points. */
  velocity: VelocityPoint[];
  notices: Notice[];
  paths: PathsInfo | null;
  keyringAvailable: boolean | null;
  /** Viewer requests (the generation queue). */
  queue: QueueCache;
  /** The Twitch login (needed for replies in chat). */
  account: AccountState;
  /** Whether `chat.twitch_client_id` is configured ("Log in with Twitch" needs it). */
  twitchClientIdSet: boolean;
  /** Clip generation: settings, degraded mode, counters; null until the first snapshot. */
  generator: GeneratorStatus | null;
  /** Bumped whenever `generator` is replaced, so a command's (older) reply can tell it is stale. */
  generatorVersion: number;
  /** The latest live progress per request id, kept only while that request is `generating`. */
  progress: Map<number, GenerationProgress>;
  /** OBS control: its settings and live state; null until the first snapshot. */
  obs: ObsView | null;
  /** Bumped whenever `obs` (settings or state) changes, so a command's (older) reply can tell
   *  it is stale. */
  obsVersion: number;
  /** The live (current, or else latest) session's moments, oldest first. */
  moments: Moment[];
  /** The session `moments` belong to; null until known (no session yet, or none detected). */
  momentsSessionId: number | null;
  /** The detector's readings for the last second of the live session; null when not live. */
  momentReadings: MomentReadings | null;
  /** What makes a moment; null until the first snapshot. */
  momentSettings: MomentSettings | null;
  /** Bumped whenever `momentSettings` is replaced, so a command's (older) reply can tell it is
   *  stale. */
  momentSettingsVersion: number;
  /** A past session picked in the history picker (its graph and moments), or null for "Live". */
  history: SessionHistory | null;
  /** The Kick chat (the second chat slot, beside the demo or Twitch). */
  kick: KickCache;
  /** The recorder: settings, state and the latest clips (newest first); null until known. */
  recorder: RecorderView | null;
  /** Bumped whenever `recorder` changes, so a command's (older) reply can tell it is stale. */
  recorderVersion: number;
}

export interface KickCache {
  chat: ChatState;
  /** Bumped on every Kick state change. */
  version: number;
  counters: ChatCounters;
  /** Oldest first, like `Cache.velocity`. */
  velocity: VelocityPoint[];
  /** The Kick session's moments, oldest first. */
  moments: Moment[];
  /** The session `moments` belong to (the live or last Kick session); null until known. */
  sessionId: number | null;
}

/** What applying events asks the caller to do besides re-rendering. */
export interface ApplyOutcome {
  /** A `resync` event arrived: fetch a fresh snapshot. */
  resync: boolean;
}

const ZERO_COUNTERS: ChatCounters = { messages: 0, malformedLines: 0, reconnects: 0 };

export function emptyCache(): Cache {
  return {
    chat: { state: "disconnected" },
    chatVersion: 0,
    counters: { ...ZERO_COUNTERS },
    velocity: [],
    notices: [],
    paths: null,
    keyringAvailable: null,
    queue: emptyQueue(),
    account: { state: "checking" },
    twitchClientIdSet: false,
    generator: null,
    generatorVersion: 0,
    progress: new Map(),
    obs: null,
    obsVersion: 0,
    moments: [],
    momentsSessionId: null,
    momentReadings: null,
    momentSettings: null,
    momentSettingsVersion: 0,
    history: null,
    kick: {
      chat: { state: "disconnected" },
      version: 0,
      counters: { ...ZERO_COUNTERS },
      velocity: [],
      moments: [],
      sessionId: null,
    },
    recorder: null,
    recorderVersion: 0,
  };
}

/** Replaces everything with a snapshot (on load and on resync). */
export function applySnapshot(cache: Cache, snap: AppSnapshot): void {
  cache.chat = snap.chat;
  cache.chatVersion++;
  cache.counters = snap.counters;
  cache.velocity = [];
  for (const p of snap.velocity) appendPoint(cache, p);
  cache.notices = [...snap.notices];
  cache.paths = snap.paths;
  cache.keyringAvailable = snap.keyringAvailable;
  cache.queue = queueFromView(snap.queue);
  cache.account = snap.account;
  cache.twitchClientIdSet = snap.twitchClientIdSet;
  cache.generator = snap.generator;
  cache.generatorVersion++;
  cache.obs = snap.obs;
  cache.obsVersion++;
  // The Kick chat, and its moments (the snapshot's moments are the latest session's, which may
  // be the Kick one).
  const kick = snap.kick;
  cache.kick.chat = kick.state;
  cache.kick.version++;
  cache.kick.counters = kick.counters;
  cache.kick.velocity = [];
  for (const p of kick.velocity) appendTo(cache.kick.velocity, p);
  const kickId = kick.state.state === "connected" ? kick.state.sessionId : cache.kick.sessionId;
  if (kickId !== cache.kick.sessionId) cache.kick.moments = [];
  cache.kick.sessionId = kickId;
  const kickMoments = snap.moments.filter((m) => kickId !== null && m.sessionId === kickId);
  if (kickMoments.length > 0) cache.kick.moments = sortMoments(kickMoments);
  const main = snap.moments.filter((m) => kickId === null || m.sessionId !== kickId);
  const mainId = snap.chat.state === "connected" ? snap.chat.sessionId : (main[0]?.sessionId ?? null);
  cache.moments = sortMoments(main.filter((m) => m.sessionId === mainId));
  cache.momentsSessionId = mainId;
  cache.recorder = snap.recorder;
  cache.recorderVersion++;
  if (!hasSession(snap.chat)) cache.momentReadings = null;
  cache.momentSettings = snap.momentSettings;
  cache.momentSettingsVersion++;
  // Progress is not part of the snapshot: keep what is still live, drop the rest.
  pruneProgress(cache);
}

/** Applies a batch of events, in order. */
export function applyEvents(cache: Cache, events: readonly CoreEvent[]): ApplyOutcome {
  const out: ApplyOutcome = { resync: false };
  for (const ev of events) {
    switch (ev.kind) {
      case "kickChatState":
        applyKickState(cache, ev.state);
        break;
      case "kickVelocity":
        if (appendTo(cache.kick.velocity, ev.point)) cache.kick.counters = ev.counters;
        break;
      case "recorder":
        applyRecorderState(cache, ev.state);
        break;
      case "recorderSettings":
        applyRecorderSettings(cache, ev.settings);
        break;
      case "clip":
        upsertClip(cache, ev.clip);
        break;
      case "chatState":
        applyChatState(cache, ev.state);
        break;
      case "velocity":
        // Counters ride along with the point; a stale (already seen) point must not roll them back.
        if (appendPoint(cache, ev.point)) cache.counters = ev.counters;
        break;
      case "counters":
        cache.counters = ev.counters;
        break;
      case "notice":
        cache.notices = [...cache.notices, ev.notice];
        break;
      case "queueItem":
        upsertQueueItem(cache, ev.item);
        break;
      case "queueCounters":
        cache.queue.counters = ev.counters;
        break;
      case "queueSettings":
        cache.queue.autoApprove = ev.autoApprove;
        break;
      case "account":
        cache.account = ev.state;
        break;
      case "generationProgress":
        applyProgress(cache, ev.progress);
        break;
      case "generator":
        applyGeneratorStatus(cache, ev.status);
        break;
      case "obs":
        applyObsState(cache, ev.state);
        break;
      case "obsSettings":
        applyObsSettings(cache, ev.settings);
        break;
      case "moment":
        upsertMoment(cache, ev.moment);
        break;
      case "momentReadings":
        applyReadings(cache, ev.readings);
        break;
      case "momentSettings":
        applyMomentSettings(cache, ev.settings);
        break;
      case "resync":
        out.resync = true;
        break;
    }
  }
  return out;
}

/** Adds or replaces a request (from an event or a command's reply), dropping its progress once
 *  it is no longer being generated. */
export function upsertQueueItem(cache: Cache, item: QueueItem): void {
  upsertItem(cache.queue, item);
  pruneProgress(cache);
}

/** The generator's status, wholesale (events, and commands' replies). */
export function applyGeneratorStatus(cache: Cache, status: GeneratorStatus): void {
  cache.generator = status;
  cache.generatorVersion++;
}

/** OBS's live state (connection, scene, recording, what it shows), wholesale. Before the first
 *  snapshot there are no settings to pair it with: the snapshot brings both. */
export function applyObsState(cache: Cache, state: ObsState): void {
  if (!cache.obs) return;
  cache.obs = { ...cache.obs, state };
  cache.obsVersion++;
}

/** The OBS settings, wholesale (events). */
export function applyObsSettings(cache: Cache, settings: ObsSettings): void {
  if (!cache.obs) return;
  cache.obs = { ...cache.obs, settings };
  cache.obsVersion++;
}

/** Both (a command's reply). */
export function applyObsView(cache: Cache, view: ObsView): void {
  cache.obs = view;
  cache.obsVersion++;
}

/** OBS is connected (actions that drive it can work). */
export function obsConnected(cache: Cache): boolean {
  return cache.obs?.state.connection.state === "connected";
}

/** Keeps the latest progress of a request being generated. The core announces `generating`
 *  before any progress, so progress for a request in another state is stale (e.g. replayed
 *  after a snapshot that already shows it finished) and is ignored. */
function applyProgress(cache: Cache, p: GenerationProgress): void {
  const item = cache.queue.items.find((it) => it.id === p.id);
  if (item && item.state !== "generating") return;
  cache.progress.set(p.id, p);
}

/** Forgets progress of requests that are no longer `generating` (or no longer listed). */
function pruneProgress(cache: Cache): void {
  if (cache.progress.size === 0) return;
  for (const id of cache.progress.keys()) {
    const item = cache.queue.items.find((it) => it.id === id);
    if (!item || item.state !== "generating") cache.progress.delete(id);
  }
}

// ---- Moments -------------------------------------------------------------------------------

/** Oldest first (by start, then id), in place. */
function sortMoments(list: Moment[]): Moment[] {
  return list.sort((a, b) => a.startedAtMs - b.startedAtMs || a.id - b.id);
}

/** Replaces the moment with the same id, or adds it; keeps the list oldest first. */
function upsertInto(list: Moment[], m: Moment): void {
  const at = list.findIndex((x) => x.id === m.id);
  if (at >= 0) list[at] = m;
  else list.push(m);
  sortMoments(list);
}

/**
 * A moment began, grew, ended or got a note (events, and `momentsSetNote`'s reply). It goes to
 * the list of the session it belongs to: the live one and/or the past session being looked at;
 * a moment of any other session is not shown anywhere, so it is dropped.
 */
export function upsertMoment(cache: Cache, m: Moment): void {
  if (cache.history && cache.history.session.id === m.sessionId) upsertInto(cache.history.moments, m);
  if (cache.kick.sessionId !== null && cache.kick.sessionId === m.sessionId) {
    upsertInto(cache.kick.moments, m);
    return;
  }
  if (cache.momentsSessionId === m.sessionId) {
    upsertInto(cache.moments, m);
    return;
  }
  // A newer session's first moment while live (its id was not known yet: e.g. the snapshot came
  // while reconnecting and held no moments). Only a moment still going on can be new; a finished
  // one is an edit of an older session's moment (a note, from the history view).
  const newer = cache.momentsSessionId === null || m.sessionId > cache.momentsSessionId;
  if (newer && hasSession(cache.chat) && cache.chat.state !== "connected" && m.endedAtMs === null) {
    cache.momentsSessionId = m.sessionId;
    cache.moments = [m];
  }
}

function applyReadings(cache: Cache, r: MomentReadings): void {
  if (!hasSession(cache.chat)) return; // a late one after Disconnect
  if (cache.chat.state === "connected" && cache.chat.sessionId !== r.sessionId) return;
  cache.momentReadings = r;
}

/** The moment settings, wholesale (events, and `momentsSetSettings`'s reply). */
export function applyMomentSettings(cache: Cache, settings: MomentSettings): void {
  cache.momentSettings = settings;
  cache.momentSettingsVersion++;
}

/** Shows a past session (from `momentsHistory`), or the live one again (null). */
export function setHistory(cache: Cache, history: SessionHistory | null): void {
  cache.history = history ? { ...history, moments: sortMoments([...history.moments]) } : null;
}

/** The session the graph shows: a past one, or the live one. */
export function shownMoments(cache: Cache): readonly Moment[] {
  return cache.history ? cache.history.moments : cache.moments;
}

/** What the Moments list shows: a past session's, or both live sessions' (main and Kick), oldest
 *  first. */
export function listedMoments(cache: Cache): readonly Moment[] {
  if (cache.history) return cache.history.moments;
  if (cache.kick.moments.length === 0) return cache.moments;
  return sortMoments([...cache.moments, ...cache.kick.moments]);
}

/** Whether a moment belongs to the Kick session. */
export function isKickMoment(cache: Cache, m: Moment): boolean {
  return cache.kick.sessionId !== null && m.sessionId === cache.kick.sessionId;
}

// ---- Kick ----------------------------------------------------------------------------------

export function applyKickState(cache: Cache, next: ChatState): void {
  const k = cache.kick;
  if (next.state === "connecting" && !hasSession(k.chat)) {
    k.velocity = [];
    k.counters = { ...ZERO_COUNTERS };
    k.moments = [];
    k.sessionId = null;
  }
  if (next.state === "connected" && next.sessionId !== k.sessionId) {
    k.moments = k.moments.filter((m) => m.sessionId === next.sessionId);
    k.sessionId = next.sessionId;
  }
  k.chat = next;
  k.version++;
}

// ---- Recorder ------------------------------------------------------------------------------

export function applyRecorderState(cache: Cache, state: RecorderState): void {
  if (!cache.recorder) return;
  cache.recorder = { ...cache.recorder, state };
  cache.recorderVersion++;
}

export function applyRecorderSettings(cache: Cache, settings: RecorderSettings): void {
  if (!cache.recorder) return;
  cache.recorder = { ...cache.recorder, settings };
  cache.recorderVersion++;
}

/** Most clips kept (the core sends the latest ones; new ones arrive as events). */
const MAX_CLIPS = 200;

/** A new (or rewritten) clip; the list stays newest first. */
export function upsertClip(cache: Cache, clip: Clip): void {
  if (!cache.recorder) return;
  const clips = cache.recorder.clips.filter((c) => c.id !== clip.id);
  clips.push(clip);
  clips.sort((a, b) => b.createdAtMs - a.createdAtMs || b.id - a.id);
  cache.recorder = { ...cache.recorder, clips: clips.slice(0, MAX_CLIPS) };
  cache.recorderVersion++;
}

/** A moment's clips, newest first. */
export function clipsOf(cache: Cache, momentId: number): Clip[] {
  return cache.recorder ? cache.recorder.clips.filter((c) => c.momentId === momentId) : [];
}

/** A session is open (or being opened) in these states. */
export function hasSession(chat: ChatState): boolean {
  return chat.state === "connecting" || chat.state === "connected" || chat.state === "reconnecting";
}

export function applyChatState(cache: Cache, next: ChatState): void {
  // A new session starts from zero, like the snapshot does ("the current session's" history).
  if (next.state === "connecting" && !hasSession(cache.chat)) {
    cache.velocity = [];
    cache.counters = { ...ZERO_COUNTERS };
    // Queue counters are per session too (the requests themselves carry over).
    cache.queue.counters = { ...ZERO_QUEUE_COUNTERS };
    // So are moments: the list starts empty, and the readings are the old session's.
    cache.moments = [];
    cache.momentsSessionId = null;
    cache.momentReadings = null;
  }
  if (next.state === "connected" && next.sessionId !== cache.momentsSessionId) {
    // Connected to a session other than the one listed (e.g. the window missed the start).
    if (cache.momentsSessionId !== null) cache.moments = cache.moments.filter((m) => m.sessionId === next.sessionId);
    cache.momentsSessionId = next.sessionId;
  }
  if (!hasSession(next)) cache.momentReadings = null;
  cache.chat = next;
  cache.chatVersion++;
}

/** Appends a finished second if it is newer than the last one; trims to the window. */
function appendPoint(cache: Cache, p: VelocityPoint): boolean {
  return appendTo(cache.velocity, p);
}

function appendTo(v: VelocityPoint[], p: VelocityPoint): boolean {
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
