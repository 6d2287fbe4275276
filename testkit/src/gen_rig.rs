//! `GenRig`: an engine on the fake Twitch IRC server, chat connected as a logged-in bot,
//! auto-approve on, generating through a [`FakeGen`] endpoint or offline with the real ffmpeg.
//! Viewers' `!anime` lines go in through the fake server; the rig waits for their requests to
//! finish and reads what StreamCue said back. Used by the generation and folder tests.

use std::path::PathBuf;
use std::time::Duration;

use streamcue::api::{
    CoreEvent, GeneratorBackend, GeneratorSettingsUpdate, GeneratorStatus, QueueItem, RequestState,
};

use crate::fake_gen::FakeGen;
use crate::fake_irc::{message_id, parse_client_line, FakeIrc, Privmsg};
use crate::{is_connected, secs, Harness, HarnessOptions};

pub const CH: &str = "genchan";
pub const BOT: &str = "cuebot";

/// An engine on the fake IRC server, chat connected, auto-approve on, generating through
/// `gen` (or offline when `None`).
pub struct GenRig {
    pub h: Harness,
    pub irc: FakeIrc,
    pub gen: Option<FakeGen>,
    pub sent: u64,
}

/// `[generator]` lines for fast tests: short backoff, no probe unless asked.
pub const FAST: &str = "retry_backoff_ms = 50\nprobe_every_seconds = 0\n";

impl GenRig {
    pub async fn start(gen: Option<FakeGen>, generator_toml: &str, timeout_seconds: u32) -> GenRig {
        Self::start_with(gen, generator_toml, timeout_seconds, None).await
    }

    pub async fn start_with(
        gen: Option<FakeGen>,
        generator_toml: &str,
        timeout_seconds: u32,
        dir: Option<tempfile::TempDir>,
    ) -> GenRig {
        let irc = FakeIrc::start().await.expect("fake IRC binds");
        let config = format!(
            "[chat]\ntwitch_login = \"{BOT}\"\n\n[queue]\ncooldown_seconds = 0\nmax_waiting = 50\n\n[generator]\n{generator_toml}\n"
        );
        let h = Harness::start(HarnessOptions {
            twitch_irc_addr: Some(irc.addr_string()),
            config_toml: Some(config.into_bytes()),
            twitch_token: Some("gen_test_token".into()),
            dir,
            // The local server on a free port (the control API and overlay tests use it).
            local_server: streamcue::server::PortChoice::Fixed(Some(0)),
            ..Default::default()
        })
        .await;
        let rig = GenRig {
            h,
            irc,
            gen,
            sent: 0,
        };
        if let Some(g) = &rig.gen {
            rig.settings(
                GeneratorBackend::Remote,
                &g.base_url(),
                timeout_seconds,
                None,
            )
            .await
            .expect("remote settings");
        }
        rig.handle()
            .queue()
            .set_auto_approve(true)
            .await
            .expect("auto-approve");
        rig.handle()
            .connect_chat(streamcue::api::ChatTarget::Twitch { channel: CH.into() })
            .await
            .expect("connect");
        rig.h
            .events
            .wait_state(secs(5.0), 1, "Connected", is_connected)
            .await;
        assert!(rig.irc.wait_joins(CH, 1, secs(5.0)).await, "joined");
        rig
    }

    pub fn handle(&self) -> streamcue::EngineHandle {
        self.h.engine().handle()
    }

    pub fn gen(&self) -> &FakeGen {
        self.gen.as_ref().expect("a fake endpoint")
    }

    pub async fn settings(
        &self,
        backend: GeneratorBackend,
        base_url: &str,
        timeout_seconds: u32,
        credentials: Option<(&str, &str)>,
    ) -> Result<GeneratorStatus, streamcue::api::ApiError> {
        self.handle()
            .generator()
            .update_settings(GeneratorSettingsUpdate {
                backend,
                base_url: base_url.into(),
                timeout_seconds,
                modal_key: credentials.map(|c| c.0.to_string()),
                modal_secret: credentials.map(|c| c.1.to_string()),
            })
            .await
    }

    /// A viewer asks for `prompt`; returns the request's id once it is announced.
    pub async fn request(&mut self, prompt: &str) -> i32 {
        self.sent += 1;
        let login = format!("viewer{}", self.sent);
        let line = Privmsg::new(CH, &login, &format!("!anime {prompt}"))
            .id(&message_id(self.sent))
            .line();
        assert_eq!(self.irc.broadcast(CH, &line), 1);
        let mut found = None;
        self.h
            .events
            .wait(secs(5.0), "the request is announced", |log| {
                found = log
                    .items()
                    .iter()
                    .find(|i| i.user_login == login)
                    .map(|i| i.id);
                found.is_some()
            })
            .await;
        found.expect("seen")
    }

    /// Waits until request `id` is announced in a final state (ready, failed, interrupted).
    pub async fn finished(&self, id: i32, limit: Duration) -> QueueItem {
        self.finished_since(id, f64::NEG_INFINITY, limit).await
    }

    /// Like [`Self::finished`], for a final state reached after `after_ms` (the request's
    /// `updated_at_ms` before a retry).
    pub async fn finished_since(&self, id: i32, after_ms: f64, limit: Duration) -> QueueItem {
        let mut last = None;
        self.h
            .events
            .wait(limit, &format!("request #{id} finishes"), |log| {
                last = log.items().into_iter().rev().find(|i| {
                    i.id == id
                        && i.updated_at_ms > after_ms
                        && matches!(
                            i.state,
                            RequestState::Ready | RequestState::Failed | RequestState::Interrupted
                        )
                });
                last.is_some()
            })
            .await;
        last.expect("seen")
    }

    pub fn clips_dir(&self) -> PathBuf {
        self.h.paths.clips_dir.clone()
    }

    /// The clips folder's file names, sorted.
    pub fn clip_files(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.clips_dir())
            .map(|rd| {
                rd.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }

    pub fn assert_no_partial_files(&self) {
        let files = self.clip_files();
        assert!(
            files.iter().all(|f| !f.starts_with('.')),
            "partial files left behind: {files:?}"
        );
    }

    /// Chat lines StreamCue sent to the channel (twitch-irc's `. ` escape removed).
    pub fn said(&self) -> Vec<String> {
        self.irc
            .received()
            .iter()
            .filter_map(|l| {
                let (cmd, params) = parse_client_line(l)?;
                (cmd == "PRIVMSG").then(|| params[1].trim_start_matches(". ").to_string())
            })
            .collect()
    }

    /// Waits until StreamCue has said something containing `text` in chat.
    pub async fn said_within(&self, limit: Duration, text: &str) {
        let ok = self
            .irc
            .wait_until(limit, |_| self.said().iter().any(|l| l.contains(text)))
            .await;
        assert!(ok, "StreamCue never said {text:?}; said {:#?}", self.said());
    }

    pub fn statuses(&self) -> Vec<GeneratorStatus> {
        self.h
            .events
            .all()
            .into_iter()
            .filter_map(|s| match s.event {
                CoreEvent::Generator { status } => Some(status),
                _ => None,
            })
            .collect()
    }

    pub async fn wait_status(&self, what: &str, pred: impl Fn(&GeneratorStatus) -> bool) {
        self.h
            .events
            .wait(secs(10.0), what, |_| {
                self.statuses().last().is_some_and(&pred)
            })
            .await;
    }
}
