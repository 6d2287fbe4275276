//! `MomentDetector`: the actor that runs a `SpikeDetector` per chat session and keeps moments.
//!
//! Chat hands it one summary per finished second (`try_send`: chat never waits); it matches
//! keywords and emotes, feeds the detector, writes each moment (and its updates) to SQLite
//! before announcing it, keeps each channel's baseline in SQLite, and publishes the live
//! readings for the settings' preview. Invariants: it is the only writer of `moments` and
//! `detector_baselines`; on shutdown it drains what chat already sent and closes open moments.

use std::collections::HashMap;

use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use crate::actor::Mailbox;
use tokio_util::task::TaskTracker;

use super::detector::{Baseline, MomentEvent, SecondSummary, SpikeDetector};
use super::matcher::Matcher;
use super::rules::{check_note, validate};
use crate::api::rows;
use crate::api::{
    ApiError, CoreEvent, ErrorCode, Moment, MomentReadings, MomentSettings, MomentTrigger,
    SessionHistory, SessionSummary, SupportCounts, TriggerKind,
};
use crate::db::{announce_written, write_then_announce, Database, MomentRow, Setting};
use crate::events::EventBus;

const SETTINGS: Setting<MomentSettings> = Setting::new("moments.settings");
/// A saved baseline older than this is not trusted.
const BASELINE_FRESH_MS: i64 = 6 * 3600 * 1000;
const BASELINE_SAVE_EVERY_S: u32 = 60;
/// Message texts kept per second for matching (the count is always exact).
pub const MAX_SAMPLES_PER_SECOND: usize = 2000;

/// One chat line as the detector needs it.
#[derive(Debug, Clone)]
pub struct Sample {
    pub text: String,
    pub emotes: Vec<String>,
}

/// What chat sends the detector.
#[derive(Debug)]
pub enum DetectorInput {
    SessionStarted {
        session_id: i64,
        /// e.g. `twitch:shroud` (whose baseline to use).
        channel_key: String,
        started_at_ms: i64,
    },
    Second(Box<SecondOfChat>),
    SessionEnded {
        session_id: i64,
    },
}

/// One finished second of a session's chat.
#[derive(Debug, Default)]
pub struct SecondOfChat {
    pub session_id: i64,
    pub second_ms: i64,
    pub messages: u32,
    /// Up to [`MAX_SAMPLES_PER_SECOND`] of its messages (texts are never stored).
    pub samples: Vec<Sample>,
    /// Subs, gifts, raids and bits in this second.
    pub support: SupportCounts,
    /// A viewer-count reading that arrived in this second.
    pub viewers: Option<u32>,
}

/// The channel chat uses (bounded; chat only `try_send`s).
pub fn detector_channel() -> (mpsc::Sender<DetectorInput>, mpsc::Receiver<DetectorInput>) {
    mpsc::channel(256)
}

type Reply<T> = oneshot::Sender<Result<T, ApiError>>;

enum Command {
    Settings(Reply<MomentSettings>),
    SetSettings(Box<MomentSettings>, Reply<MomentSettings>),
    SetNote(i64, String, Reply<Moment>),
    Mark(String, Reply<Moment>),
    Latest(Reply<Vec<Moment>>),
    Sessions(Reply<Vec<SessionSummary>>),
    History(i64, Reply<SessionHistory>),
}

#[derive(Clone, Debug)]
pub struct MomentDetector {
    mailbox: Mailbox<Command>,
}

impl MomentDetector {
    pub fn spawn(
        db: Database,
        events: EventBus,
        inbound: mpsc::Receiver<DetectorInput>,
        cancel: CancellationToken,
        tracker: &TaskTracker,
    ) -> (Self, tokio::task::JoinHandle<()>) {
        let (mailbox, rx) = Mailbox::new(32);
        let settings = MomentSettings::default();
        let actor = Actor {
            db,
            events,
            matcher: Matcher::new(&settings),
            settings,
            sessions: HashMap::new(),
            latest_session: None,
        };
        (
            Self { mailbox },
            tracker.spawn(actor.run(rx, inbound, cancel)),
        )
    }

    async fn ask<T>(&self, make: impl FnOnce(Reply<T>) -> Command) -> Result<T, ApiError> {
        self.mailbox.ask(make).await?
    }

    pub async fn settings(&self) -> Result<MomentSettings, ApiError> {
        self.ask(Command::Settings).await
    }

    pub async fn set_settings(&self, s: MomentSettings) -> Result<MomentSettings, ApiError> {
        self.ask(|r| Command::SetSettings(Box::new(s), r)).await
    }

    pub async fn set_note(&self, id: i32, note: String) -> Result<Moment, ApiError> {
        self.ask(|r| Command::SetNote(id.into(), note, r)).await
    }

    /// Marks a moment by hand now, in the live chat session, with `note` (may be empty).
    pub async fn mark(&self, note: String) -> Result<Moment, ApiError> {
        self.ask(|r| Command::Mark(note, r)).await
    }

    /// The moments of the current (or most recent) session.
    pub async fn latest(&self) -> Result<Vec<Moment>, ApiError> {
        self.ask(Command::Latest).await
    }

    pub async fn sessions(&self) -> Result<Vec<SessionSummary>, ApiError> {
        self.ask(Command::Sessions).await
    }

    pub async fn history(&self, session_id: i32) -> Result<SessionHistory, ApiError> {
        self.ask(|r| Command::History(session_id.into(), r)).await
    }
}

struct Session {
    detector: SpikeDetector,
    channel_key: String,
    started_at_ms: i64,
    open: Option<i64>,
    seconds: u32,
    last_second_ms: i64,
}

struct Actor {
    db: Database,
    events: EventBus,
    settings: MomentSettings,
    matcher: Matcher,
    sessions: HashMap<i64, Session>,
    latest_session: Option<i64>,
}

impl Actor {
    async fn run(
        mut self,
        mut rx: mpsc::Receiver<Command>,
        mut inbound: mpsc::Receiver<DetectorInput>,
        cancel: CancellationToken,
    ) {
        if let Err(e) = self.db.moments().close_open().await {
            tracing::error!(error = %e, "could not close moments left open");
        }
        let settings = SETTINGS.load(&self.db).await;
        self.apply_settings(settings);
        loop {
            tokio::select! {
                biased;
                _ = cancel.cancelled() => break,
                Some(cmd) = rx.recv() => self.on_command(cmd).await,
                Some(input) = inbound.recv() => self.on_input(input).await,
                else => break,
            }
        }
        // Chat has stopped before us: take what it already sent, then close what is open.
        while let Ok(input) = inbound.try_recv() {
            self.on_input(input).await;
        }
        let open: Vec<i64> = self.sessions.keys().copied().collect();
        for id in open {
            self.end_session(id).await;
        }
        tracing::info!("moment detector stopped");
    }

    fn apply_settings(&mut self, s: MomentSettings) {
        self.matcher = Matcher::new(&s);
        for session in self.sessions.values_mut() {
            session.detector.set_settings(s.clone());
        }
        self.settings = s;
    }

    async fn on_input(&mut self, input: DetectorInput) {
        match input {
            DetectorInput::SessionStarted {
                session_id,
                channel_key,
                started_at_ms,
            } => {
                let baseline = self
                    .db
                    .moments()
                    .load_baseline(&channel_key, started_at_ms - BASELINE_FRESH_MS)
                    .await
                    .ok()
                    .flatten()
                    .unwrap_or(Baseline::EMPTY);
                self.sessions.insert(
                    session_id,
                    Session {
                        detector: SpikeDetector::new(self.settings.clone(), baseline),
                        channel_key,
                        started_at_ms,
                        open: None,
                        seconds: 0,
                        last_second_ms: started_at_ms,
                    },
                );
                self.latest_session = Some(session_id);
            }
            DetectorInput::Second(second) => self.on_second(*second).await,
            DetectorInput::SessionEnded { session_id } => self.end_session(session_id).await,
        }
    }

    async fn on_second(&mut self, second: SecondOfChat) {
        let SecondOfChat {
            session_id,
            second_ms,
            messages,
            samples,
            support,
            viewers,
        } = second;
        let Some(session) = self.sessions.get_mut(&session_id) else {
            return;
        };
        let mut summary = SecondSummary {
            second_ms,
            messages,
            support,
            viewers,
            ..SecondSummary::default()
        };
        for s in &samples {
            if self.matcher.scan(
                &s.text,
                &s.emotes,
                &mut summary.keywords,
                &mut summary.emotes,
            ) {
                summary.keyword_messages += 1;
            }
        }
        let events = session.detector.on_second(summary);
        session.seconds += 1;
        session.last_second_ms = second_ms;
        let readings = session.detector.readings();
        let save_baseline = session.seconds % BASELINE_SAVE_EVERY_S == 0;
        let (key, baseline) = (session.channel_key.clone(), session.detector.baseline());
        for event in events {
            self.record(session_id, event).await;
        }
        if save_baseline {
            if let Err(e) = self
                .db
                .moments()
                .save_baseline(&key, &baseline, second_ms)
                .await
            {
                tracing::warn!(error = %e, "could not save the chat baseline");
            }
        }
        self.events.publish(CoreEvent::MomentReadings {
            readings: MomentReadings {
                session_id: session_id as i32,
                rate: readings.rate,
                baseline: readings.baseline,
                threshold: readings.threshold,
                keyword_hits: readings.keyword_hits,
                top_emote_count: readings.top_emote_count,
            },
        });
    }

    /// Writes a detector event, then announces the moment.
    async fn record(&mut self, session_id: i64, event: MomentEvent) {
        let Some(session) = self.sessions.get_mut(&session_id) else {
            return;
        };
        let written = match event {
            MomentEvent::Opened {
                started_ms,
                triggers,
                strength,
            } => {
                let offset = (started_ms - session.started_at_ms).max(0);
                let m = self
                    .db
                    .moments()
                    .insert(session_id, started_ms, offset, &triggers, strength)
                    .await;
                if let Ok(m) = &m {
                    session.open = Some(m.id);
                    let labels: Vec<&str> = m.triggers.iter().map(|t| t.label.as_str()).collect();
                    tracing::info!(moment_id = m.id, session_id, triggers = ?labels, "moment");
                }
                m.map(Some)
            }
            MomentEvent::Updated { triggers, strength } => match session.open {
                Some(id) => {
                    self.db
                        .moments()
                        .update(id, &triggers, strength, None)
                        .await
                }
                None => Ok(None),
            },
            MomentEvent::Closed {
                ended_ms,
                triggers,
                strength,
            } => match session.open.take() {
                Some(id) => {
                    self.db
                        .moments()
                        .update(id, &triggers, strength, Some(ended_ms))
                        .await
                }
                None => Ok(None),
            },
        };
        let _ = announce_written(&self.events, "a moment", written, moment_event);
    }

    async fn end_session(&mut self, session_id: i64) {
        let Some(session) = self.sessions.remove(&session_id) else {
            return;
        };
        if let Some(id) = session.open {
            if let Ok(Some(m)) = self.db.moments().get(id).await {
                let ended = Some(session.last_second_ms + 1000);
                let write = self.db.moments().update(id, &m.triggers, m.strength, ended);
                let _ =
                    write_then_announce(&self.events, "a moment's end", write, moment_event).await;
            }
        }
        let baseline = session.detector.baseline();
        if baseline.samples > 0 {
            if let Err(e) = self
                .db
                .moments()
                .save_baseline(&session.channel_key, &baseline, session.last_second_ms)
                .await
            {
                tracing::warn!(error = %e, "could not save the chat baseline");
            }
        }
    }

    async fn on_command(&mut self, cmd: Command) {
        match cmd {
            Command::Settings(reply) => {
                let _ = reply.send(Ok(self.settings.clone()));
            }
            Command::SetSettings(s, reply) => {
                let result = match validate(*s) {
                    Err(e) => Err(e),
                    Ok(s) => match SETTINGS.save(&self.db, &s).await {
                        Ok(()) => {
                            self.apply_settings(s.clone());
                            self.events.publish(CoreEvent::MomentSettings {
                                settings: s.clone(),
                            });
                            Ok(s)
                        }
                        Err(e) => Err(ApiError::from(e)),
                    },
                };
                let _ = reply.send(result);
            }
            Command::SetNote(id, note, reply) => {
                let result = match check_note(&note) {
                    Err(e) => Err(e),
                    Ok(note) => match self.db.moments().set_note(id, &note).await {
                        Ok(Some(m)) => {
                            let moment = Moment::from(m);
                            self.events.publish(CoreEvent::Moment {
                                moment: moment.clone(),
                            });
                            Ok(moment)
                        }
                        Ok(None) => Err(ApiError::new(
                            ErrorCode::UnknownMoment,
                            format!("No moment #{id}."),
                        )),
                        Err(e) => Err(ApiError::from(e)),
                    },
                };
                let _ = reply.send(result);
            }
            Command::Mark(note, reply) => {
                let _ = reply.send(self.mark(note).await);
            }
            Command::Latest(reply) => {
                let latest = match self.latest_session {
                    Some(id) => Some(id),
                    None => self
                        .db
                        .sessions()
                        .summaries(1)
                        .await
                        .ok()
                        .and_then(|s| s.first().map(|s| s.id)),
                };
                let result = match latest {
                    Some(id) => self
                        .db
                        .moments()
                        .of_session(id)
                        .await
                        .map(rows::all)
                        .map_err(ApiError::from),
                    None => Ok(Vec::new()),
                };
                let _ = reply.send(result);
            }
            Command::Sessions(reply) => {
                let listed = self.db.sessions().summaries(50).await;
                let _ = reply.send(listed.map(rows::all).map_err(ApiError::from));
            }
            Command::History(id, reply) => {
                let _ = reply.send(self.history(id).await);
            }
        }
    }

    /// A moment marked by hand: it starts and ends now (the recorder cuts around it like any
    /// other), written with its note before it is announced.
    async fn mark(&mut self, note: String) -> Result<Moment, ApiError> {
        let note = check_note(&note)?;
        let live = self
            .latest_session
            .and_then(|id| self.sessions.get(&id).map(|s| (id, s.started_at_ms)));
        let Some((session_id, started_at_ms)) = live else {
            return Err(ApiError::new(
                ErrorCode::NotConnected,
                "No chat session is running: connect chat first, then mark moments.",
            ));
        };
        let now = crate::clock::now_ms();
        let triggers = [MomentTrigger {
            kind: TriggerKind::Manual,
            label: "marked by hand".into(),
            name: None,
            value: 1.0,
            threshold: 1.0,
            baseline: None,
        }];
        let offset = (now - started_at_ms).max(0);
        let row = self
            .db
            .moments()
            .insert_marked(session_id, now, offset, &triggers, &note)
            .await?;
        tracing::info!(moment_id = row.id, session_id, "moment marked by hand");
        let moment = Moment::from(row);
        self.events.publish(CoreEvent::Moment {
            moment: moment.clone(),
        });
        Ok(moment)
    }

    async fn history(&self, id: i64) -> Result<SessionHistory, ApiError> {
        let session = self
            .db
            .sessions()
            .summary(id)
            .await
            .map_err(ApiError::from)?
            .ok_or_else(|| {
                ApiError::new(ErrorCode::UnknownSession, format!("No session #{id}."))
            })?;
        let end_ms = session.ended_at_ms.unwrap_or_else(crate::clock::now_ms);
        let from = session.started_at_ms.max(end_ms - 6 * 3600 * 1000);
        let velocity = self
            .db
            .velocity()
            .points(id, from.div_euclid(1000), end_ms.div_euclid(1000))
            .await
            .map_err(ApiError::from)?;
        let moments = self
            .db
            .moments()
            .of_session(id)
            .await
            .map_err(ApiError::from)?;
        Ok(SessionHistory {
            session: session.into(),
            velocity,
            moments: rows::all(moments),
        })
    }
}

/// The event that announces a stored moment (none when the write changed nothing).
fn moment_event(row: &Option<MomentRow>) -> Vec<CoreEvent> {
    row.iter()
        .map(|m| CoreEvent::Moment {
            moment: m.clone().into(),
        })
        .collect()
}
