//! Engine start-up against a damaged or busy data folder, and the demo chat source.

use std::time::Duration;

use streamcue::api::{
    ChatCounters, ChatPlatform, ChatSlot, ChatState, ChatTarget, NoticeCode, NoticeLevel,
};
use streamcue::config::Config;
use streamcue::db::{Database, DbError, MinuteCounts, Platform};
use streamcue::engine::StartError;
use streamcue::paths::AppPaths;
use streamcue::secrets::MemoryStore;
use streamcue::{Engine, EngineOptions};
use streamcue_testkit::{
    is_connected, now_ms, secs, short_backoff, within, Harness, HarnessOptions, SnapshotSlots,
};

async fn start_in(dir: &std::path::Path) -> Result<Engine, StartError> {
    within(
        secs(15.0),
        "Engine::start",
        Engine::start(EngineOptions {
            paths: AppPaths::under(dir),
            secrets: std::sync::Arc::new(MemoryStore::default()),
            twitch_irc_addr: None,
            backoff: short_backoff(),
            local_server: streamcue::server::PortChoice::Fixed(None),
            ui_assets: None,
        }),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_in_use_is_reported_as_locked() {
    let mut h = Harness::start(HarnessOptions::default()).await;
    let path = h.paths.database_file.clone();

    let err = within(secs(10.0), "second Database::open", Database::open(&path))
        .await
        .expect_err("a second open must fail while the engine holds the database");
    match &err {
        DbError::Locked { path: p } => assert_eq!(p, &path.display().to_string()),
        other => panic!("expected Locked, got {other:?}"),
    }
    assert!(err.to_string().contains("in use"), "{err}");

    // A second engine on the same folder gets the same clear error.
    match start_in(h.dir.path()).await {
        Err(StartError::Database(DbError::Locked { .. })) => {}
        Err(other) => panic!("expected Locked, got {other:?}"),
        Ok(_) => panic!("a second engine started on a locked database"),
    }

    // The first engine is unaffected.
    h.engine().connect_chat(ChatTarget::Demo).await.unwrap();
    h.events
        .wait_state(secs(5.0), 1, "Connected", is_connected)
        .await;
    h.shutdown_within(secs(5.0)).await;
    let db = h.reopen_db().await;
    assert_eq!(db.sessions().all().await.unwrap().len(), 1);
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_from_a_newer_version_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = AppPaths::under(dir.path()).database_file;
    let db = Database::open(&path).await.unwrap();
    let id = db
        .sessions()
        .start(Platform::Twitch, "keepme", now_ms())
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, installed_on, success, checksum, execution_time) \
         VALUES (99999, 'from the future', CURRENT_TIMESTAMP, 1, X'00', 0)",
    )
    .execute(db.pool())
    .await
    .unwrap();
    db.close().await;

    let err = within(secs(10.0), "Database::open", Database::open(&path))
        .await
        .expect_err("a newer schema must be refused");
    match &err {
        DbError::NewerSchema { path: p, found } => {
            assert_eq!(*found, 99999);
            assert_eq!(p, &path.display().to_string());
        }
        other => panic!("expected NewerSchema, got {other:?}"),
    }
    assert!(err.to_string().contains("newer StreamCue"), "{err}");
    match start_in(dir.path()).await {
        Err(StartError::Database(DbError::NewerSchema { found: 99999, .. })) => {}
        Err(other) => panic!("expected NewerSchema, got {other:?}"),
        Ok(_) => panic!("the engine started on a newer schema"),
    }

    // Nothing was migrated away or deleted.
    use sqlx::ConnectOptions;
    let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&path)
        .connect()
        .await
        .unwrap();
    let versions: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations ORDER BY version")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    assert_eq!(versions.last(), Some(&99999));
    let channel: String = sqlx::query_scalar("SELECT channel FROM chat_sessions WHERE id = ?")
        .bind(id)
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(channel, "keepme");
}

/// A config file with mistakes: each bad line is reported (with its line), every good setting
/// is still used, and the file is never rewritten.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_config_is_reported_line_by_line_and_left_alone() {
    let cases: [(&[u8], &str, &str); 3] = [
        (
            b"# R\xc3\xa9glages \xe2\x9c\xa8\r\n[chat]\r\ndefault_channel = \"shroud\"\r\n\r\n[logging]\r\nkeep_days = \"seven\"\r\nprotocol_debug = false",
            "[logging] keep_days (line 6)",
            "shroud",
        ),
        (
            b"[chat]\ndefault_channel = \"x\"\ndefualt_channel = \"y\"\n",
            "[chat] defualt_channel (line 3): unknown setting — did you mean default_channel?",
            "x",
        ),
        (
            b"[chat]\ndefault_channel = \"caf\xe9\"\n",
            "not UTF-8",
            "",
        ),
    ];
    for (text, expected, channel) in cases {
        let mut h = Harness::start(HarnessOptions {
            config_toml: Some(text.to_vec()),
            ..Default::default()
        })
        .await;
        let mut want = Config::default();
        want.chat.default_channel = channel.to_string();
        assert_eq!(h.engine().config(), &want, "the good settings are kept");
        let snap = h.snapshot().await;
        let notice = snap
            .notices
            .iter()
            .find(|n| n.code == NoticeCode::ConfigInvalid)
            .unwrap_or_else(|| panic!("no ConfigInvalid notice in {:?}", snap.notices));
        assert_eq!(notice.level, NoticeLevel::Warning);
        assert!(
            notice.message.contains(expected),
            "{expected:?} not in {:?}",
            notice.message
        );
        assert!(
            notice
                .message
                .contains(&h.paths.config_file.display().to_string()),
            "the notice names the file: {:?}",
            notice.message
        );
        assert_eq!(snap.slot(ChatSlot::Main).state, ChatState::Disconnected);
        assert_eq!(
            std::fs::read(&h.paths.config_file).unwrap(),
            text,
            "file untouched at start"
        );
        h.shutdown_within(secs(5.0)).await;
        assert_eq!(
            std::fs::read(&h.paths.config_file).unwrap(),
            text,
            "file untouched at shutdown"
        );
    }

    // For contrast: a missing file is created, and a good one gives no notice.
    let mut h = Harness::start(HarnessOptions::default()).await;
    assert!(h.paths.config_file.exists());
    assert!(!h
        .snapshot()
        .await
        .notices
        .iter()
        .any(|n| n.code == NoticeCode::ConfigInvalid));
    h.shutdown_within(secs(5.0)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_left_open_are_closed_as_interrupted() {
    let dir = tempfile::tempdir().unwrap();
    let path = AppPaths::under(dir.path()).database_file;
    let t0 = now_ms() - 3_600_000;
    let db = Database::open(&path).await.unwrap();
    // A crash mid-session: a row never ended, with two minutes of velocity saved.
    let crashed = db
        .sessions()
        .start(Platform::Twitch, "crashy", t0)
        .await
        .unwrap();
    let first_minute = t0.div_euclid(60_000);
    for minute in [first_minute, first_minute + 1] {
        let mut m = MinuteCounts::new(minute);
        m.counts[10] = 3;
        m.counts[59] = 2;
        let counters = ChatCounters {
            messages: 10,
            malformed_lines: 1,
            reconnects: 0,
            ..ChatCounters::default()
        };
        db.velocity()
            .save_minutes(crashed, &[m], counters)
            .await
            .unwrap();
    }
    // A crash right after connecting: inserted by hand, no velocity at all.
    let bare: i64 = sqlx::query_scalar(
        "INSERT INTO chat_sessions (platform, channel, started_at_ms, ended_at_ms) VALUES ('demo', 'demo', ?, NULL) RETURNING id",
    )
    .bind(t0 + 1000)
    .fetch_one(db.pool())
    .await
    .unwrap();
    // A session that ended normally stays as it was.
    let fine = db
        .sessions()
        .start(Platform::Twitch, "fine", t0 + 2000)
        .await
        .unwrap();
    let fine_counters = ChatCounters {
        messages: 4,
        malformed_lines: 0,
        reconnects: 1,
        ..ChatCounters::default()
    };
    db.sessions()
        .end(fine, t0 + 5000, "disconnected", fine_counters)
        .await
        .unwrap();
    db.close().await;

    let mut h = Harness::start(HarnessOptions {
        dir: Some(dir),
        ..Default::default()
    })
    .await;
    assert_eq!(
        h.chat_state().await,
        ChatState::Disconnected,
        "nothing resumes by itself"
    );
    h.shutdown_within(secs(5.0)).await;

    let db = h.reopen_db().await;
    let row = db.sessions().get(crashed).await.unwrap().unwrap();
    assert_eq!(row.end_reason.as_deref(), Some("interrupted"));
    assert_eq!(
        row.ended_at_ms,
        Some((first_minute + 2) * 60_000),
        "ends after its last recorded minute"
    );
    assert_eq!(
        (row.messages, row.malformed_lines),
        (10, 1),
        "totals saved before the crash are kept"
    );
    let row = db.sessions().get(bare).await.unwrap().unwrap();
    assert_eq!(row.end_reason.as_deref(), Some("interrupted"));
    assert_eq!(
        row.ended_at_ms,
        Some(t0 + 1000),
        "no velocity: ends where it started"
    );
    let row = db.sessions().get(fine).await.unwrap().unwrap();
    assert_eq!(row.end_reason.as_deref(), Some("disconnected"));
    assert_eq!(row.ended_at_ms, Some(t0 + 5000));
    assert_eq!((row.messages, row.reconnects), (4, 1));
    assert!(db
        .sessions()
        .all()
        .await
        .unwrap()
        .iter()
        .all(|s| s.ended_at_ms.is_some()));
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_chat_connects_and_counts() {
    let mut h = Harness::start(HarnessOptions::default()).await;
    let state = h.engine().connect_chat(ChatTarget::Demo).await.unwrap();
    assert_eq!(
        state,
        ChatState::Connecting {
            platform: ChatPlatform::Demo,
            channel: "demo".into()
        }
    );
    let connected = h
        .events
        .wait_state(secs(5.0), 1, "Connected", is_connected)
        .await;
    let ChatState::Connected {
        channel,
        session_id,
        ..
    } = connected
    else {
        unreachable!()
    };
    assert_eq!(channel, "demo");
    let seen = h
        .wait_counters(secs(10.0), "demo messages", |c| c.messages >= 3)
        .await;
    assert_eq!((seen.malformed_lines, seen.reconnects), (0, 0));
    h.events
        .wait(secs(5.0), "a velocity point with demo messages", |log| {
            log.velocity().iter().any(|(p, _)| p.count > 0)
        })
        .await;

    let state = h.engine().disconnect_chat(ChatSlot::Main).await.unwrap();
    assert_eq!(state, ChatState::Disconnected);
    let after = h.counters().await;
    assert_eq!(after, ChatCounters::default());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        h.counters().await,
        ChatCounters::default(),
        "nothing counted after disconnect"
    );

    h.shutdown_within(secs(5.0)).await;
    let db = h.reopen_db().await;
    let row = db
        .sessions()
        .get(i64::from(session_id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (row.platform.as_str(), row.channel.as_str()),
        ("demo", "demo")
    );
    assert_eq!(row.end_reason.as_deref(), Some("disconnected"));
    assert!(
        row.messages >= i64::from(seen.messages),
        "{} < {}",
        row.messages,
        seen.messages
    );
    let points = db
        .velocity()
        .points(
            row.id,
            row.started_at_ms / 1000 - 1,
            row.ended_at_ms.unwrap() / 1000 + 1,
        )
        .await
        .unwrap();
    let stored: i64 = points.iter().map(|p| i64::from(p.count)).sum();
    assert_eq!(
        stored, row.messages,
        "every demo message is in a stored second"
    );
    db.close().await;
}

/// StreamCue's folders are the user's alone (0700) and its files 0600: made so, and repaired
/// at start when an older StreamCue (or a copy) left them readable by everyone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_data_folder_and_its_files_are_private_and_repaired_at_start() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let engine = start_in(&data).await.unwrap();
    engine.shutdown().await;
    let paths = AppPaths::under(&data);
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&paths.log_dir), 0o700);
    assert_eq!(mode(&paths.database_file), 0o600);
    assert_eq!(mode(&paths.config_file), 0o600);

    // Opened up by someone else: repaired at the next start. Clips stay as they are.
    let open = |p: &std::path::Path, m: u32| {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap()
    };
    open(&data, 0o755);
    open(&paths.database_file, 0o644);
    open(&paths.config_file, 0o666);
    std::fs::create_dir_all(&paths.clips_dir).unwrap();
    open(&paths.clips_dir, 0o755);
    let engine = start_in(&data).await.unwrap();
    engine.shutdown().await;
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&paths.database_file), 0o600);
    assert_eq!(mode(&paths.config_file), 0o600);
    assert_eq!(
        mode(&paths.clips_dir),
        0o755,
        "the streamer's clips folder is left alone"
    );
}

/// A damaged file, a folder in the database's place, and an empty file: each gets its own
/// code and words; the damaged one can be moved aside (renamed, never deleted) and a new
/// start works; an empty one starts a new history and says so, counting the clips from before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_database_files_are_each_explained_and_a_damaged_one_can_be_moved_aside() {
    use streamcue::api::{ApiError, ErrorCode, NoticeCode};
    let code = |e: &StartError| ApiError::from(e).code;

    // Garbage where the database should be.
    let dir = tempfile::tempdir().unwrap();
    let paths = AppPaths::under(dir.path());
    std::fs::write(&paths.database_file, vec![0x5Au8; 64 * 1024]).unwrap();
    let e = start_in(dir.path())
        .await
        .err()
        .expect("a damaged database is refused");
    assert_eq!(code(&e), ErrorCode::DatabaseCorrupt, "{e}");
    assert!(e.to_string().contains("Move it aside"), "{e}");
    let moved = streamcue::db::move_aside(&paths.database_file).unwrap();
    assert!(moved.exists() && !paths.database_file.exists());
    assert_eq!(
        std::fs::read(&moved).unwrap().len(),
        64 * 1024,
        "kept whole"
    );
    let engine = start_in(dir.path())
        .await
        .expect("a fresh start after moving it aside");
    engine.shutdown().await;

    // A folder in its place.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(AppPaths::under(dir.path()).database_file).unwrap();
    let e = start_in(dir.path())
        .await
        .err()
        .expect("a folder is refused");
    assert_eq!(code(&e), ErrorCode::DatabaseUnusable, "{e}");

    // An empty file (a crash during a copy, a full disk): a new history, said, clips counted.
    let dir = tempfile::tempdir().unwrap();
    let paths = AppPaths::under(dir.path());
    std::fs::write(&paths.database_file, b"").unwrap();
    std::fs::create_dir_all(&paths.clips_dir).unwrap();
    for name in ["request-1.mp4", "request-2.mp4", ".request-3.mp4.part"] {
        std::fs::write(paths.clips_dir.join(name), b"x").unwrap();
    }
    let engine = start_in(dir.path()).await.unwrap();
    let notices = engine.handle().snapshot().await.unwrap().notices;
    let said = notices
        .iter()
        .find(|n| n.code == NoticeCode::DatabaseWasEmpty)
        .unwrap_or_else(|| panic!("{notices:?}"));
    assert!(
        said.message
            .contains("The 2 clips made before are still in"),
        "{}",
        said.message
    );
    engine.shutdown().await;
}
