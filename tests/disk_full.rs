//! A full data disk (a real, small tmpfs): writes fail while it is full and are never
//! announced; once space returns the database takes writes again by itself, and after a
//! restart every write that succeeded is there.

use streamcue::db::{Database, WriteTx};
use streamcue_testkit::tmpfs::Tmpfs;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_fails_writes_then_the_database_recovers_and_keeps_every_success() {
    let disk = match Tmpfs::mount(8 * 1024 * 1024) {
        Ok(d) => d,
        Err(why) => {
            println!("SKIP: {why}");
            return;
        }
    };
    let path = disk.path().join("streamcue.db");
    let db = Database::open(&path).await.unwrap();
    let big = "x".repeat(64 * 1024);
    let mut kept = Vec::new();
    for i in 0..5 {
        db.settings()
            .set(&format!("before.{i}"), &big)
            .await
            .unwrap();
        kept.push(format!("before.{i}"));
    }
    let filler = disk.fill();
    let mut failed = 0;
    for i in 0..20 {
        let key = format!("full.{i}");
        let write = async {
            // Two statements in one transaction, as the stores write requests and velocity.
            let mut tx = WriteTx::begin(db.pool()).await?;
            sqlx::query("INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)")
                .bind(&key)
                .bind(&big)
                .execute(&mut *tx)
                .await?;
            sqlx::query("INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)")
                .bind(format!("{key}.b"))
                .bind(&big)
                .execute(&mut *tx)
                .await?;
            tx.commit().await
        };
        match write.await.map_err(streamcue::db::DbError::from) {
            Ok(()) => kept.push(format!("full.{i}")),
            Err(e) => {
                failed += 1;
                println!("while full: {e}");
            }
        }
    }
    assert!(failed > 0, "writes on a full disk must fail");
    // The replaced connection took the exclusive lock again: a second opener is refused.
    match Database::open(&path).await {
        Err(streamcue::db::DbError::Locked { .. }) => {}
        other => panic!("a second open must be refused while this one runs: {other:?}"),
    }
    std::fs::remove_file(filler).unwrap();
    for i in 0..5 {
        db.settings()
            .set(&format!("after.{i}"), &big)
            .await
            .unwrap_or_else(|e| panic!("write {i} after space returned: {e}"));
        kept.push(format!("after.{i}"));
    }
    db.close().await;
    let db = Database::open(&path).await.unwrap();
    for key in &kept {
        assert!(
            db.settings().get(key).await.unwrap().is_some(),
            "{key} was written (Ok) but is gone after a restart"
        );
    }
    db.close().await;
}

/// The whole app on a data disk that fills up mid-stream: the window is told it cannot save
/// (and what is free), nothing is lost once space returns, and after a restart every request,
/// clip row and the chat session's end are there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_says_it_cannot_save_on_a_full_disk_and_keeps_everything_once_space_returns() {
    use streamcue::api::{CoreEvent, RequestState, StoragePhase};
    use streamcue_testkit::gen_rig::{GenRig, FAST};
    use streamcue_testkit::secs;

    let disk = match Tmpfs::mount(48 * 1024 * 1024) {
        Ok(d) => d,
        Err(why) => {
            println!("SKIP: {why}");
            return;
        }
    };
    let dir = tempfile::tempdir_in(disk.path()).unwrap();
    let data = dir.path().to_path_buf();
    let mut rig = GenRig::start_with(None, FAST, 60, Some(dir)).await;
    let storage = |log: &streamcue_testkit::EventLog| {
        log.all().iter().rev().find_map(|s| match &s.event {
            CoreEvent::Storage { storage } => Some(storage.clone()),
            _ => None,
        })
    };
    let first = rig.request("a red kite over the sea").await;
    assert_eq!(
        rig.finished(first, secs(60.0)).await.state,
        RequestState::Ready
    );

    let filler = disk.fill();
    let mut said = None;
    rig.h
        .events
        .wait(
            secs(15.0),
            "the window is told StreamCue cannot save",
            |log| {
                said = storage(log);
                said.as_ref()
                    .is_some_and(|s| s.phase == StoragePhase::CannotSave)
            },
        )
        .await;
    let said = said.unwrap();
    let message = said.message.unwrap();
    assert!(
        message.starts_with("StreamCue cannot save: the disk is full ("),
        "{message}"
    );
    assert!(message.contains(&data.display().to_string()), "{message}");
    assert_eq!(
        rig.h.snapshot().await.storage.phase,
        StoragePhase::CannotSave,
        "the snapshot says so too"
    );
    // Chat keeps going while nothing can be saved (its per-second writes fail meanwhile).
    tokio::time::sleep(secs(2.0)).await;

    std::fs::remove_file(filler).unwrap();
    rig.h
        .events
        .wait(secs(15.0), "saving works again", |log| {
            storage(log).is_some_and(|s| s.phase != StoragePhase::CannotSave)
        })
        .await;
    let second = rig.request("a lantern festival").await;
    assert_eq!(
        rig.finished(second, secs(60.0)).await.state,
        RequestState::Ready
    );

    rig.h.shutdown_within(secs(15.0)).await;
    let db = rig.h.reopen_db().await;
    for id in [first, second] {
        let row = db.requests().get(id.into()).await.unwrap();
        let row = row.unwrap_or_else(|| panic!("request {id} is gone after the restart"));
        assert_eq!(row.state, RequestState::Ready, "{row:?}");
        let file = row.file_path.clone().expect("its clip");
        assert!(std::path::Path::new(&file).exists(), "{file}");
    }
    let sessions = db.sessions().all().await.unwrap();
    assert!(
        sessions.iter().all(|s| s.ended_at_ms.is_some()),
        "every chat session has its end: {sessions:?}"
    );
    db.close().await;
}
