//! Clip generation end to end: requests arrive as `!anime` lines from the fake Twitch IRC
//! server, are auto-approved, and the engine's `GenerationWorker` asks the fake generation
//! endpoint (real HTTP on 127.0.0.1, signed URLs that really expire, real MP4 bytes) or renders
//! with the real ffmpeg. Each fault checks the item's final state, its reason, the attempt
//! count, what the endpoint saw, and that no partial file is left in the clips folder.

use std::time::{Duration, Instant};

use streamcue::api::{
    CoreEvent, ErrorCode, GenerationPhase, GeneratorBackend, QueueAction, RequestState,
};
use streamcue_testkit::fake_gen::{FakeGen, Fault, HealthMode, UrlStyle, FIXTURE_CLIP};
use streamcue_testkit::fake_irc::{message_id, Privmsg};
use streamcue_testkit::secs;

use streamcue_testkit::gen_rig::{GenRig as Rig, CH, FAST};

/// GETs of the fake's redirect hops.
fn redirect_hops(gen: &FakeGen) -> usize {
    gen.requests()
        .iter()
        .filter(|r| r.path.starts_with("/__redirect/"))
        .count()
}

/// One fault scenario: what the endpoint does, then what must come of it.
struct Expect {
    state: RequestState,
    reason: Option<&'static str>,
    attempts: u32,
    generate_calls: usize,
    download_calls: usize,
}

async fn scenario(faults: Vec<Fault>, default: Option<Fault>, timeout_s: u32, want: Expect) -> Rig {
    let gen = FakeGen::start().await;
    gen.push_faults(faults);
    gen.set_default_fault(default);
    let mut rig = Rig::start(Some(gen), FAST, timeout_s).await;
    let id = rig.request("a cat surfing a wave").await;
    let item = rig.finished(id, secs(30.0)).await;
    assert_eq!(item.state, want.state, "{item:?}");
    match want.reason {
        Some(r) => assert_eq!(item.reason.as_deref(), Some(r), "{item:?}"),
        None => assert_eq!(item.reason, None),
    }
    assert_eq!(item.attempts, want.attempts, "attempts of {item:?}");
    assert_eq!(
        rig.gen().generate_calls(),
        want.generate_calls,
        "POST /generate calls"
    );
    assert_eq!(rig.gen().download_calls(), want.download_calls, "downloads");
    rig.assert_no_partial_files();
    let clip = rig.clips_dir().join(format!("request-{id}.mp4"));
    if want.state == RequestState::Ready {
        assert_eq!(item.file_path.as_deref(), Some(clip.to_str().unwrap()));
        assert_eq!(std::fs::read(&clip).expect("the clip"), FIXTURE_CLIP);
    } else {
        assert!(!clip.exists(), "no clip for a failed request");
        assert_eq!(item.file_path, None);
    }
    rig
}

#[tokio::test]
async fn a_healthy_endpoint_gives_a_verified_clip_with_credentials_and_progress() {
    let gen = FakeGen::start().await;
    gen.require_auth("wk-test-key", "ws-test-secret");
    let mut rig = Rig::start(None, FAST, 10).await;
    let status = rig
        .settings(
            GeneratorBackend::Remote,
            &format!("{}/", gen.base_url()),
            10,
            Some(("wk-test-key", "ws-test-secret")),
        )
        .await
        .expect("settings saved");
    assert!(status.settings.credentials_saved);
    assert_eq!(
        status.settings.base_url,
        gen.base_url(),
        "trailing slash dropped"
    );
    rig.gen = Some(gen);
    let id = rig.request("a cat surfing a wave").await;
    let item = rig.finished(id, secs(20.0)).await;
    assert_eq!(item.state, RequestState::Ready, "{item:?}");
    assert_eq!(item.attempts, 1);
    assert!(item.generation_ms.is_some_and(|ms| ms >= 0.0));
    let posted = rig.gen().requests_to("/generate");
    assert_eq!(posted.len(), 1);
    let body = posted[0].json().expect("JSON body");
    assert_eq!(body["prompt"], "a cat surfing a wave");
    assert_eq!(body["request_id"], format!("streamcue-{id}"));
    assert_eq!(posted[0].header("modal-key"), Some("wk-test-key"));
    // The download carries no credentials.
    let downloads = rig.gen().requests_to(&format!("/files/{}.mp4", 1));
    assert!(downloads.iter().all(|r| r.header("modal-key").is_none()));
    assert_eq!(
        std::fs::read(rig.clips_dir().join(format!("request-{id}.mp4"))).unwrap(),
        FIXTURE_CLIP
    );
    rig.assert_no_partial_files();
    // Progress went requesting → downloading 100 %, and the item passed through generating.
    let progress: Vec<_> = rig
        .h
        .events
        .all()
        .into_iter()
        .filter_map(|s| match s.event {
            CoreEvent::GenerationProgress { progress } if progress.id == id => Some(progress),
            _ => None,
        })
        .collect();
    assert_eq!(
        progress.first().map(|p| p.phase),
        Some(GenerationPhase::Requesting)
    );
    let last = progress.last().expect("progress events");
    assert_eq!(
        (last.phase, last.percent),
        (GenerationPhase::Downloading, Some(100.0))
    );
    assert_eq!(last.bytes as usize, FIXTURE_CLIP.len());
    assert!(rig
        .h
        .events
        .items()
        .iter()
        .any(|i| i.id == id && i.state == RequestState::Generating));
    // Counters.
    let status = rig.handle().generator().status().await.unwrap();
    assert_eq!((status.counters.ready, status.counters.failed), (1, 0));
    assert!(status.counters.p50_ms.is_some() && status.counters.p95_ms.is_some());
    assert_eq!(status.current, None);
}

#[tokio::test]
async fn timeouts_are_retried_then_fail_with_the_timeout_in_words() {
    scenario(
        vec![],
        Some(Fault::Slow(Duration::from_millis(2500))),
        1,
        Expect {
            state: RequestState::Failed,
            reason: Some("endpoint timed out after 1 s (3 attempts)"),
            attempts: 3,
            generate_calls: 3,
            download_calls: 0,
        },
    )
    .await;
}

#[tokio::test]
async fn server_errors_are_retried_and_a_later_success_wins() {
    scenario(
        vec![Fault::Status(500), Fault::Status(502)],
        None,
        5,
        Expect {
            state: RequestState::Ready,
            reason: None,
            attempts: 3,
            generate_calls: 3,
            download_calls: 1,
        },
    )
    .await;
}

#[tokio::test]
async fn persistent_500s_fail_after_the_bounded_retries() {
    let rig = scenario(
        vec![],
        Some(Fault::Status(500)),
        5,
        Expect {
            state: RequestState::Failed,
            reason: Some("endpoint failed with HTTP 500 (3 attempts): fake failure 500"),
            attempts: 3,
            generate_calls: 3,
            download_calls: 0,
        },
    )
    .await;
    // The viewer hears it, in words, once.
    let sorry = "@viewer1 sorry, I couldn't make that one: endpoint failed with HTTP 500";
    rig.said_within(secs(5.0), sorry).await;
    assert_eq!(rig.said().iter().filter(|l| l.contains("sorry")).count(), 1);
}

#[tokio::test]
async fn rate_limiting_waits_for_retry_after() {
    let rig = scenario(
        vec![Fault::TooMany {
            retry_after_secs: 1,
        }],
        None,
        5,
        Expect {
            state: RequestState::Ready,
            reason: None,
            attempts: 2,
            generate_calls: 2,
            download_calls: 1,
        },
    )
    .await;
    let posts = rig.gen().requests_to("/generate");
    let gap = posts[1].at - posts[0].at;
    assert!(
        gap >= Duration::from_millis(950),
        "Retry-After: 1 honoured, waited {gap:?}"
    );
}

#[tokio::test]
async fn persistent_429_fails_as_rate_limited() {
    scenario(
        vec![],
        Some(Fault::TooMany {
            retry_after_secs: 0,
        }),
        5,
        Expect {
            state: RequestState::Failed,
            reason: Some("endpoint is rate-limiting (HTTP 429, 3 attempts)"),
            attempts: 3,
            generate_calls: 3,
            download_calls: 0,
        },
    )
    .await;
}

#[tokio::test]
async fn malformed_json_and_answers_without_a_url_are_not_retried() {
    let gen = FakeGen::start().await;
    gen.push_faults([Fault::MalformedJson, Fault::WrongShape]);
    let mut rig = Rig::start(Some(gen), FAST, 5).await;
    let a = rig.request("malformed").await;
    let a = rig.finished(a, secs(20.0)).await;
    let b = rig.request("wrong shape").await;
    let b = rig.finished(b, secs(20.0)).await;
    for (item, says) in [
        (&a, "invalid JSON"),
        (&b, "neither `output_url` nor `call_id`"),
    ] {
        assert_eq!(item.state, RequestState::Failed);
        let reason = item.reason.as_deref().unwrap_or("");
        assert!(
            reason.starts_with("endpoint answered with something that is not the contract: ")
                && reason.contains(says),
            "{reason:?}"
        );
        assert_eq!(item.attempts, 1);
    }
    assert_eq!(rig.gen().generate_calls(), 2, "one call each: no retries");
    rig.assert_no_partial_files();
}

#[tokio::test]
async fn unauthorized_points_at_the_modal_key_and_is_not_retried() {
    scenario(
        vec![Fault::Unauthorized],
        None,
        5,
        Expect {
            state: RequestState::Failed,
            reason: Some("401: check the Modal key in Settings"),
            attempts: 1,
            generate_calls: 1,
            download_calls: 0,
        },
    )
    .await;
}

#[tokio::test]
async fn other_4xx_are_refusals_and_not_retried() {
    scenario(
        vec![Fault::Status(422)],
        None,
        5,
        Expect {
            state: RequestState::Failed,
            reason: Some("endpoint refused the prompt (HTTP 422): fake failure 422"),
            attempts: 1,
            generate_calls: 1,
            download_calls: 0,
        },
    )
    .await;
}

#[tokio::test]
async fn an_already_expired_url_is_replaced_without_downloading_it() {
    scenario(
        vec![Fault::ExpiredUrl],
        None,
        5,
        Expect {
            state: RequestState::Ready,
            reason: None,
            attempts: 2,
            generate_calls: 2,
            download_calls: 1,
        },
    )
    .await;
}

#[tokio::test]
async fn expiry_from_an_expires_parameter_is_read_too() {
    let gen = FakeGen::start().await;
    gen.set_url_style(UrlStyle::Expires);
    gen.push_faults([Fault::ExpiredUrl, Fault::ExpiredUrl]);
    let mut rig = Rig::start(Some(gen), FAST, 5).await;
    let id = rig.request("expires style").await;
    let item = rig.finished(id, secs(20.0)).await;
    assert_eq!(item.state, RequestState::Failed);
    assert_eq!(item.reason.as_deref(), Some("signed URL expired twice"));
    assert_eq!(rig.gen().generate_calls(), 2);
    assert_eq!(
        rig.gen().download_calls(),
        0,
        "expired URLs are never fetched"
    );
    rig.assert_no_partial_files();
}

#[tokio::test]
async fn a_url_that_expires_before_the_download_is_requested_again_once() {
    scenario(
        vec![Fault::ExpiresBeforeDownload],
        None,
        5,
        Expect {
            state: RequestState::Ready,
            reason: None,
            attempts: 2,
            generate_calls: 2,
            download_calls: 2,
        },
    )
    .await;
}

#[tokio::test]
async fn a_url_that_expires_twice_fails_with_that_reason() {
    scenario(
        vec![Fault::ExpiresBeforeDownload, Fault::ExpiresBeforeDownload],
        None,
        5,
        Expect {
            state: RequestState::Failed,
            reason: Some("signed URL expired twice"),
            attempts: 2,
            generate_calls: 2,
            download_calls: 2,
        },
    )
    .await;
}

#[tokio::test]
async fn a_truncated_body_is_retried_then_fails_and_leaves_no_partial_file() {
    let half = FIXTURE_CLIP.len() / 2;
    let reason = format!(
        "download ended early: got {half} of {} bytes (3 attempts)",
        FIXTURE_CLIP.len()
    );
    let gen = FakeGen::start().await;
    gen.push_faults([Fault::TruncatedBody]);
    let mut rig = Rig::start(Some(gen), FAST, 5).await;
    let id = rig.request("truncated").await;
    let item = rig.finished(id, secs(20.0)).await;
    assert_eq!(item.state, RequestState::Failed);
    assert_eq!(item.reason.as_deref(), Some(reason.as_str()));
    assert_eq!(item.attempts, 3, "one request, two download retries");
    assert_eq!(
        (rig.gen().generate_calls(), rig.gen().download_calls()),
        (1, 3)
    );
    rig.assert_no_partial_files();
    assert!(rig.clip_files().is_empty(), "{:?}", rig.clip_files());
}

#[tokio::test]
async fn the_wrong_content_type_fails_without_retry() {
    scenario(
        vec![Fault::WrongContentType],
        None,
        5,
        Expect {
            state: RequestState::Failed,
            reason: Some("the download is text/html, not an MP4 video"),
            attempts: 1,
            generate_calls: 1,
            download_calls: 1,
        },
    )
    .await;
}

#[tokio::test]
async fn bytes_that_are_not_an_mp4_fail_the_signature_check() {
    scenario(
        vec![Fault::NotMp4],
        None,
        5,
        Expect {
            state: RequestState::Failed,
            reason: Some("the download is not an MP4 video (no `ftyp` header)"),
            attempts: 1,
            generate_calls: 1,
            download_calls: 1,
        },
    )
    .await;
}

#[tokio::test]
async fn redirect_chains_are_followed() {
    let rig = scenario(
        vec![Fault::Redirects { hops: 4 }],
        None,
        5,
        Expect {
            state: RequestState::Ready,
            reason: None,
            attempts: 1,
            generate_calls: 1,
            download_calls: 1,
        },
    )
    .await;
    assert_eq!(redirect_hops(rig.gen()), 4);
}

#[tokio::test]
async fn an_endless_redirect_chain_is_cut_off() {
    let rig = scenario(
        vec![Fault::Redirects { hops: u32::MAX }],
        None,
        5,
        Expect {
            state: RequestState::Failed,
            reason: Some("endpoint redirected more than 20 times"),
            attempts: 1,
            generate_calls: 1,
            download_calls: 0,
        },
    )
    .await;
    assert_eq!(redirect_hops(rig.gen()), 20);
}

#[tokio::test]
async fn job_style_endpoints_are_polled_until_done() {
    let rig = scenario(
        vec![Fault::Job { pending: 3 }],
        None,
        5,
        Expect {
            state: RequestState::Ready,
            reason: None,
            attempts: 1,
            generate_calls: 1,
            download_calls: 1,
        },
    )
    .await;
    assert_eq!(
        rig.gen().result_polls(),
        4,
        "three pending answers, then the result"
    );
    let waited = rig.h.events.all().into_iter().any(|s| {
        matches!(s.event, CoreEvent::GenerationProgress { progress } if progress.phase == GenerationPhase::Waiting)
    });
    assert!(waited, "the row said it was waiting for the job");
}

#[tokio::test]
async fn a_clips_folder_that_cannot_be_created_fails_the_item_clearly() {
    let gen = FakeGen::start().await;
    let mut rig = Rig::start(Some(gen), FAST, 5).await;
    std::fs::write(rig.clips_dir(), b"a file where the folder should be").unwrap();
    let id = rig.request("no room").await;
    let item = rig.finished(id, secs(20.0)).await;
    assert_eq!(item.state, RequestState::Failed);
    assert_eq!(
        item.reason.as_deref(),
        Some(
            format!(
                "cannot save the clip: cannot create {}: a file is in the way of the folder",
                rig.clips_dir().display()
            )
            .as_str()
        )
    );
    assert_eq!(
        rig.gen().generate_calls(),
        0,
        "nothing is asked for that cannot be saved"
    );
}

#[tokio::test]
async fn a_finished_clip_is_never_fetched_twice_even_after_a_crash() {
    let gen = FakeGen::start().await;
    let mut rig = Rig::start(Some(gen), FAST, 5).await;
    let id = rig.request("fetch me once").await;
    assert_eq!(
        rig.finished(id, secs(20.0)).await.state,
        RequestState::Ready
    );
    assert_eq!(
        (rig.gen().generate_calls(), rig.gen().download_calls()),
        (1, 1)
    );

    // As if StreamCue died after renaming the clip but before writing `ready`.
    let gen = rig.gen.take();
    rig.h.shutdown_within(secs(5.0)).await;
    let db = rig.h.reopen_db().await;
    db.requests()
        .set_state(
            id.into(),
            RequestState::Ready,
            RequestState::Generating,
            None,
            0,
        )
        .await
        .unwrap()
        .expect("was ready");
    db.close().await;
    let dir = std::mem::replace(&mut rig.h.dir, tempfile::tempdir().unwrap());
    drop(rig);
    let mut rig = Rig::start_with(gen, FAST, 5, Some(dir)).await;
    let view = rig.handle().queue().view().await.unwrap();
    let item = view.items.iter().find(|i| i.id == id).unwrap();
    assert_eq!(item.state, RequestState::Interrupted);
    assert_eq!(
        item.reason.as_deref(),
        Some("StreamCue stopped while this was generating")
    );

    rig.handle()
        .queue()
        .act(id, QueueAction::Retry)
        .await
        .unwrap();
    let ready = rig.finished_since(id, item.updated_at_ms, secs(20.0)).await;
    assert_eq!(ready.state, RequestState::Ready, "{ready:?}");
    assert_eq!(ready.attempts, 0, "served from disk");
    assert_eq!(
        (rig.gen().generate_calls(), rig.gen().download_calls()),
        (1, 1),
        "not asked or downloaded again"
    );
    rig.sent = 100;
    let other = rig.request("a new one still works").await;
    assert_eq!(
        rig.finished(other, secs(20.0)).await.state,
        RequestState::Ready
    );
}

#[tokio::test]
async fn shutdown_during_a_download_interrupts_the_item_and_removes_the_partial_file() {
    let gen = FakeGen::start().await;
    gen.set_synthetic_clip(4_000_000);
    gen.push_faults([Fault::SlowBody]);
    let mut rig = Rig::start(Some(gen), FAST, 5).await;
    let id = rig.request("slow body").await;
    rig.h
        .events
        .wait(secs(10.0), "the download is under way", |log| {
            log.all().iter().any(|s| {
                matches!(&s.event, CoreEvent::GenerationProgress { progress }
                    if progress.id == id && progress.phase == GenerationPhase::Downloading && progress.bytes > 0.0)
            })
        })
        .await;
    assert!(
        rig.clip_files().iter().any(|f| f.ends_with(".part")),
        "a partial file exists mid-download: {:?}",
        rig.clip_files()
    );
    let took = rig.h.shutdown_within(secs(5.0)).await;
    assert!(
        took < secs(3.0),
        "shutdown did not wait for the download: {took:?}"
    );
    assert!(rig.clip_files().is_empty(), "{:?}", rig.clip_files());
    let db = rig.h.reopen_db().await;
    let item = db.requests().get(id.into()).await.unwrap().unwrap();
    assert_eq!(item.state, RequestState::Interrupted);
    assert_eq!(
        item.reason.as_deref(),
        Some("StreamCue stopped while this was generating")
    );
    db.close().await;
}

/// Peak resident memory of this process, in bytes (`VmHWM`).
fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    let kb: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kb * 1024
}

#[tokio::test]
async fn a_200_mb_clip_streams_to_disk_in_flat_memory() {
    const SIZE: u64 = 200_000_000;
    let gen = FakeGen::start().await;
    gen.set_synthetic_clip(SIZE);
    let mut rig = Rig::start(Some(gen), FAST, 30).await;
    let before = peak_rss();
    let id = rig.request("a very large clip").await;
    let item = rig.finished(id, secs(120.0)).await;
    assert_eq!(item.state, RequestState::Ready, "{item:?}");
    let path = rig.clips_dir().join(format!("request-{id}.mp4"));
    assert_eq!(std::fs::metadata(&path).unwrap().len(), SIZE);
    let peak_chunk =
        streamcue::generator::download::PEAK_CHUNK_BYTES.load(std::sync::atomic::Ordering::Relaxed);
    let grew = peak_rss().saturating_sub(before);
    println!(
        "200 MB download: largest chunk held {peak_chunk} B, peak RSS grew {} MB",
        grew / 1_000_000
    );
    assert!(
        peak_chunk <= 1 << 20,
        "a chunk of {peak_chunk} B was held at once"
    );
    assert!(
        grew < 64_000_000,
        "peak RSS grew by {grew} B while downloading 200 MB"
    );
    rig.assert_no_partial_files();
    std::fs::remove_file(path).unwrap();
}

#[tokio::test]
async fn degraded_mode_enters_once_pauses_intake_and_leaves_on_a_passing_probe() {
    let gen = FakeGen::start().await;
    gen.set_default_fault(Some(Fault::Status(500)));
    let config = "retry_backoff_ms = 20\nmax_attempts = 1\nfailures_to_degrade = 2\n\
                  pause_intake_when_degraded = true\nprobe_every_seconds = 1\n";
    let mut rig = Rig::start(Some(gen), config, 5).await;
    rig.gen().set_health(HealthMode::Failing);
    let a = rig.request("first").await;
    assert_eq!(
        rig.finished(a, secs(10.0)).await.state,
        RequestState::Failed
    );
    assert!(
        rig.statuses().iter().all(|s| s.degraded.is_none()),
        "one failure is not enough"
    );
    let b = rig.request("second").await;
    assert_eq!(
        rig.finished(b, secs(10.0)).await.state,
        RequestState::Failed
    );
    rig.wait_status("degraded", |s| s.degraded.is_some()).await;
    let status = rig.statuses().last().cloned().unwrap();
    let degraded = status.degraded.unwrap();
    assert!(degraded.intake_paused);
    assert_eq!(
        degraded.reason,
        "2 generations failed in a row (last: endpoint failed with HTTP 500 (1 attempts): fake failure 500)"
    );
    assert_eq!(status.counters.degraded_activations, 1);
    // Chat is told once; new requests are refused with a reply while paused.
    rig.said_within(secs(5.0), "having trouble").await;
    rig.sent += 1;
    let login = format!("viewer{}", rig.sent);
    let line = Privmsg::new(CH, &login, "!anime while paused")
        .id(&message_id(rig.sent))
        .line();
    rig.irc.broadcast(CH, &line);
    rig.said_within(secs(5.0), "requests are paused").await;
    assert!(
        !rig.h.events.items().iter().any(|i| i.user_login == login),
        "not queued"
    );
    // The endpoint recovers: the probe (every second) sees it and degraded mode ends.
    rig.gen().set_health(HealthMode::Ok);
    rig.gen().set_default_fault(None);
    rig.wait_status("degraded mode left", |s| s.degraded.is_none())
        .await;
    rig.said_within(secs(5.0), "generation is back").await;
    let said = rig.said();
    assert_eq!(
        said.iter().filter(|l| l.contains("having trouble")).count(),
        1,
        "{said:#?}"
    );
    let c = rig.handle().queue().view().await.unwrap().counters;
    assert_eq!(c.paused_rejects, 1);
    // Requests are open again and generate.
    let c = rig.request("after recovery").await;
    assert_eq!(rig.finished(c, secs(10.0)).await.state, RequestState::Ready);
}

#[tokio::test]
async fn degraded_mode_from_timeouts_and_long_waits_leaves_after_healthy_clips() {
    let gen = FakeGen::start().await;
    gen.set_health(HealthMode::Missing); // no probe can end it: only healthy clips
    gen.push_faults([
        Fault::Slow(Duration::from_millis(3000)),
        Fault::Slow(Duration::from_millis(3000)),
    ]);
    let config = "retry_backoff_ms = 20\nmax_attempts = 1\nfailures_to_degrade = 5\n\
                  max_wait_seconds = 1\nhealthy_to_recover = 2\nprobe_every_seconds = 1\n";
    let mut rig = Rig::start(Some(gen), config, 2).await;
    let a = rig.request("times out").await;
    let b = rig.request("waits behind it").await;
    // While `a` times out, `b` waits longer than max_wait.
    rig.wait_status("degraded by the wait", |s| s.degraded.is_some())
        .await;
    let reason = rig
        .statuses()
        .last()
        .unwrap()
        .degraded
        .clone()
        .unwrap()
        .reason;
    assert!(
        reason.starts_with("a request has waited ") && reason.ends_with(" s for its clip"),
        "{reason}"
    );
    assert_eq!(
        rig.finished(a, secs(10.0)).await.reason.as_deref(),
        Some("endpoint timed out after 2 s (1 attempts)")
    );
    assert_eq!(
        rig.finished(b, secs(10.0)).await.state,
        RequestState::Failed
    );
    let c = rig.request("healthy one").await;
    assert_eq!(rig.finished(c, secs(10.0)).await.state, RequestState::Ready);
    assert!(
        rig.statuses().last().unwrap().degraded.is_some(),
        "one healthy clip is not enough"
    );
    let d = rig.request("healthy two").await;
    assert_eq!(rig.finished(d, secs(10.0)).await.state, RequestState::Ready);
    rig.wait_status("left after two healthy clips", |s| s.degraded.is_none())
        .await;
    let counters = rig.handle().generator().status().await.unwrap().counters;
    assert_eq!(
        (
            counters.ready,
            counters.failed,
            counters.degraded_activations
        ),
        (2, 2, 1)
    );
}

#[tokio::test]
async fn test_connection_and_settings_say_what_is_wrong() {
    let gen = FakeGen::start().await;
    let rig = Rig::start(None, FAST, 5).await;
    let g = rig.handle().generator().clone();
    // Offline: ffmpeg is there.
    let ok = g.test_connection().await.expect("offline check");
    assert!(ok.message.contains("ffmpeg"), "{}", ok.message);
    // Bad settings are refused with a code and nothing is saved.
    for (backend, url, timeout) in [
        (GeneratorBackend::Remote, "", 5),
        (GeneratorBackend::Remote, "gen.example", 5),
        (GeneratorBackend::Remote, "ftp://gen.example", 5),
        (GeneratorBackend::Remote, "https://user:pw@gen.example", 5),
        (GeneratorBackend::Offline, "", 0),
        (GeneratorBackend::Offline, "", 100_000),
    ] {
        let e = rig.settings(backend, url, timeout, None).await.unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidSettings, "{url} {timeout}: {e:?}");
    }
    assert_eq!(
        g.status().await.unwrap().settings.backend,
        GeneratorBackend::Offline
    );
    // Remote, healthy.
    rig.settings(GeneratorBackend::Remote, &gen.base_url(), 5, None)
        .await
        .unwrap();
    let ok = g.test_connection().await.expect("healthy");
    assert!(ok.message.contains("answered OK"), "{}", ok.message);
    // No /health.
    gen.set_health(HealthMode::Missing);
    let ok = g.test_connection().await.expect("reachable");
    assert!(ok.message.contains("no /health"), "{}", ok.message);
    // Unhealthy, then wrong credentials, then nothing listening.
    gen.set_health(HealthMode::Failing);
    let e = g.test_connection().await.unwrap_err();
    assert_eq!(e.code, ErrorCode::Generator);
    assert!(e.message.contains("HTTP 503"), "{}", e.message);
    gen.set_health(HealthMode::Ok);
    gen.require_auth("right-key", "right-secret");
    let e = g.test_connection().await.unwrap_err();
    assert_eq!(e.message, "401: check the Modal key in Settings");
    rig.settings(
        GeneratorBackend::Remote,
        &gen.base_url(),
        5,
        Some(("right-key", "right-secret")),
    )
    .await
    .unwrap();
    assert!(g.test_connection().await.is_ok());
    let base = gen.base_url();
    drop(gen);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let e = g.test_connection().await.unwrap_err();
    assert!(
        e.message.starts_with("cannot reach the endpoint"),
        "{}",
        e.message
    );
    // Settings persist; the credentials only as "saved" (they are in the keyring, not SQLite).
    let mut rig = rig;
    rig.h.shutdown_within(secs(5.0)).await;
    let db_bytes = std::fs::read(&rig.h.paths.database_file).unwrap();
    let wal = std::fs::read(rig.h.paths.database_file.with_extension("db-wal")).unwrap_or_default();
    for hay in [&db_bytes, &wal] {
        assert!(
            !hay.windows(9).any(|w| w == b"right-key"),
            "the key is not in SQLite"
        );
        assert!(
            !hay.windows(12).any(|w| w == b"right-secret"),
            "the secret is not in SQLite"
        );
    }
    let db = rig.h.reopen_db().await;
    let saved = db
        .settings()
        .get("generator.settings")
        .await
        .unwrap()
        .unwrap();
    assert!(saved.contains(&base), "{saved}");
    db.close().await;
}

#[tokio::test]
async fn the_offline_backend_renders_a_playable_h264_clip_of_any_prompt() {
    let started = Instant::now();
    let mut rig = Rig::start(None, FAST, 60).await;
    let prompt = r#"100% "quoted" it's a: test \ {x} ; drawtext=boom [0] ✨ 猫"#;
    let id = rig.request(prompt).await;
    let item = rig.finished(id, secs(60.0)).await;
    assert_eq!(item.state, RequestState::Ready, "{item:?}");
    assert_eq!(item.attempts, 1);
    let path = item.file_path.expect("a file");
    let probe = std::process::Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v:0", "-show_entries"])
        .args([
            "stream=codec_name,width,height:format=duration",
            "-of",
            "default=nw=1",
        ])
        .arg(&path)
        .output()
        .expect("ffprobe runs");
    let out = String::from_utf8_lossy(&probe.stdout);
    assert!(out.contains("codec_name=h264"), "{out}");
    let duration: f64 = out
        .lines()
        .find_map(|l| l.strip_prefix("duration="))
        .and_then(|d| d.parse().ok())
        .expect("a duration");
    assert!((3.5..=4.5).contains(&duration), "{duration}");
    rig.assert_no_partial_files();
    assert_eq!(
        rig.clip_files(),
        vec![format!("request-{id}.mp4")],
        "no text file left either"
    );
    println!("offline clip rendered in {:?}", started.elapsed());
}

#[tokio::test]
async fn a_job_that_never_finishes_hits_the_overall_timeout() {
    let gen = FakeGen::start().await;
    gen.set_job_retry_after(Some(1));
    gen.push_faults([Fault::Job { pending: u32::MAX }]);
    let config = format!("{FAST}overall_timeout_seconds = 2\n");
    let mut rig = Rig::start(Some(gen), &config, 5).await;
    let started = Instant::now();
    let id = rig.request("forever").await;
    let item = rig.finished(id, secs(10.0)).await;
    assert_eq!(item.state, RequestState::Failed);
    assert_eq!(
        item.reason.as_deref(),
        Some("generation took longer than 2 s in all")
    );
    assert!(started.elapsed() < secs(4.0), "{:?}", started.elapsed());
    assert!(
        (2..=4).contains(&rig.gen().result_polls()),
        "polled every Retry-After: {}",
        rig.gen().result_polls()
    );
    rig.assert_no_partial_files();
}
