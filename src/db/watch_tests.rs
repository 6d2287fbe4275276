//! The store on a real SQLite file: one active session, compare-and-set, crash recovery, and a
//! property test over random sequences of starts and events.

use super::*;
use crate::db::Database;
use proptest::prelude::*;

async fn db() -> (tempfile::TempDir, Database) {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(&dir.path().join("t.sqlite")).await.unwrap();
    (dir, db)
}

fn new(id: &str, now_ms: i64) -> NewWatchSession {
    NewWatchSession {
        id: id.into(),
        requester: "mod_amy".into(),
        source: "twitch".into(),
        executor: "obs".into(),
        target: "Watch-along".into(),
        url: "https://youtu.be/abc".into(),
        now_ms,
    }
}

fn failed(code: WatchErrorCode) -> WatchEvent {
    WatchEvent::Failed {
        code,
        message: "it broke".into(),
    }
}

#[tokio::test]
async fn a_second_session_is_busy_until_the_first_ends() {
    let (_dir, db) = db().await;
    let w = db.watch();
    let Created::Started(first) = w.create(&new("a", 1)).await.unwrap() else {
        panic!("the first one starts")
    };
    assert_eq!(first.status, WatchStatus::Pending);
    match w.create(&new("b", 2)).await.unwrap() {
        Created::Busy(running) => assert_eq!(running.id, "a"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        w.apply("a", &WatchEvent::Streaming, 3).await.unwrap(),
        Applied::Moved(WatchSessionRow {
            status: WatchStatus::Streaming,
            ..
        })
    ));
    // A late `starting` webhook does not move it back.
    assert!(matches!(
        w.apply("a", &WatchEvent::Starting, 4).await.unwrap(),
        Applied::Refused(_, StepRefusal::Backwards { .. })
    ));
    assert!(matches!(
        w.apply("a", &WatchEvent::Streaming, 4).await.unwrap(),
        Applied::Same(_)
    ));
    assert!(matches!(
        w.apply("a", &WatchEvent::Ended, 5).await.unwrap(),
        Applied::Moved(_)
    ));
    assert_eq!(w.active().await.unwrap(), None);
    assert!(matches!(
        w.create(&new("b", 6)).await.unwrap(),
        Created::Started(_)
    ));
    assert!(matches!(
        w.apply("nope", &WatchEvent::Ended, 7).await.unwrap(),
        Applied::NotFound
    ));
    let ids: Vec<String> = w
        .recent(10)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(ids, ["b", "a"]);
}

#[tokio::test]
async fn a_failure_keeps_its_code_and_message_and_frees_the_place() {
    let (_dir, db) = db().await;
    let w = db.watch();
    w.create(&new("a", 1)).await.unwrap();
    let Applied::Moved(row) = w
        .apply("a", &failed(WatchErrorCode::ShareFailed), 2)
        .await
        .unwrap()
    else {
        panic!()
    };
    assert_eq!(row.status, WatchStatus::Failed);
    assert_eq!(row.error_code, Some(WatchErrorCode::ShareFailed));
    assert_eq!(row.error_message.as_deref(), Some("it broke"));
    assert_eq!(row.updated_ms, 2);
    assert!(matches!(
        w.apply("a", &WatchEvent::Ended, 3).await.unwrap(),
        Applied::Refused(_, StepRefusal::Final(WatchStatus::Failed))
    ));
    assert!(matches!(
        w.create(&new("b", 4)).await.unwrap(),
        Created::Started(_)
    ));
}

#[tokio::test]
async fn a_session_left_running_by_a_crash_comes_back_failed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.sqlite");
    {
        let db = Database::open(&path).await.unwrap();
        db.watch().create(&new("a", 1)).await.unwrap();
        db.watch()
            .apply("a", &WatchEvent::Streaming, 2)
            .await
            .unwrap();
        // No clean end: the process "dies" here.
        db.close().await;
    }
    let db = Database::open(&path).await.unwrap();
    let failed = db.watch().fail_interrupted(10).await.unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].status, WatchStatus::Failed);
    assert_eq!(failed[0].error_code, Some(WatchErrorCode::Unknown));
    assert!(failed[0]
        .error_message
        .as_deref()
        .unwrap()
        .contains("StreamCue stopped"));
    assert_eq!(db.watch().active().await.unwrap(), None);
    assert!(db.watch().fail_interrupted(11).await.unwrap().is_empty());
}

#[derive(Debug, Clone)]
enum Op {
    Create(u8),
    Event(u8, WatchEvent),
}

fn any_op() -> impl Strategy<Value = Op> {
    let event = prop_oneof![
        Just(WatchEvent::Starting),
        Just(WatchEvent::Streaming),
        Just(WatchEvent::StopRequested),
        Just(WatchEvent::Ended),
        Just(failed(WatchErrorCode::Timeout)),
    ];
    prop_oneof![
        (0u8..4).prop_map(Op::Create),
        ((0u8..4), event).prop_map(|(id, e)| Op::Event(id, e)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Any sequence of starts and events (webhooks out of order, repeats, unknown ids): never
    /// two active sessions, and no session ever moves back or leaves a final state.
    #[test]
    fn never_two_active_and_never_backwards(ops in proptest::collection::vec(any_op(), 1..40)) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let (_dir, db) = db().await;
            let w = db.watch();
            let mut seen: std::collections::HashMap<String, WatchStatus> = Default::default();
            for (t, op) in ops.iter().enumerate() {
                match op {
                    Op::Create(id) => {
                        // A taken id is an error (ids are random UUIDs in the app); busy is not.
                        let _ = w.create(&new(&id.to_string(), t as i64)).await;
                    }
                    Op::Event(id, e) => { let _ = w.apply(&id.to_string(), e, t as i64).await.unwrap(); }
                }
                let all = w.recent(100).await.unwrap();
                let active = all.iter().filter(|r| r.status.is_active()).count();
                assert!(active <= 1, "{all:?}");
                for r in &all {
                    if let Some(before) = seen.insert(r.id.clone(), r.status) {
                        if !before.is_active() {
                            assert_eq!(r.status, before, "{} left a final state", r.id);
                        }
                        let order = |s: WatchStatus| WatchStatus::ALL.iter().position(|x| *x == s).unwrap().min(4);
                        assert!(order(r.status) >= order(before), "{}: {before:?} → {:?}", r.id, r.status);
                    }
                }
            }
        });
    }
}
