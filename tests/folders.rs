//! Choosing the clips and recordings folders (Settings → Folders), and folders that go bad:
//! a chosen folder takes the next clip while earlier clips stay where they are; a folder that
//! cannot be used (relative, a file, read-only, a full disk) is refused in words and changes
//! nothing; a chosen folder removed while StreamCue runs is made again; a folder that fills up
//! fails the clip with "the disk is full" and the request is kept, to retry once there is space.
//!
//! Disks that really are read-only or full are small tmpfs mounts (root only: elsewhere those
//! tests say why they skip). Clips are rendered offline by the real ffmpeg.

use std::path::{Path, PathBuf};

use streamcue::api::{ErrorCode, PathsInfo, QueueAction, QueueItem, RequestState};
use streamcue::folders::FolderKind;
use streamcue_testkit::gen_rig::{GenRig, FAST};
use streamcue_testkit::secs;
use streamcue_testkit::tmpfs::Tmpfs;

async fn offline_rig(dir: Option<tempfile::TempDir>) -> GenRig {
    GenRig::start_with(None, FAST, 60, dir).await
}

/// A request rendered offline, finished in `want`.
async fn clip(rig: &mut GenRig, prompt: &str, want: RequestState) -> QueueItem {
    let id = rig.request(prompt).await;
    let item = rig.finished(id, secs(60.0)).await;
    assert_eq!(item.state, want, "{item:?}");
    item
}

fn file_of(item: &QueueItem) -> PathBuf {
    PathBuf::from(item.file_path.as_deref().expect("a file"))
}

async fn choose(rig: &GenRig, kind: FolderKind, path: &Path) -> Result<PathsInfo, String> {
    rig.handle()
        .set_folder(kind, Some(path.display().to_string()))
        .await
        .map_err(|e| {
            assert_eq!(e.code, ErrorCode::Folder, "{e:?}");
            e.message
        })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chosen_folder_takes_the_next_clip_and_earlier_clips_stay_where_they_are() {
    let mut rig = offline_rig(None).await;
    let default_clips = rig.h.paths.clips_dir.clone();
    let first = file_of(&clip(&mut rig, "before", RequestState::Ready).await);
    assert!(first.starts_with(&default_clips), "{first:?}");

    let other = tempfile::tempdir().unwrap();
    let chosen = other.path().join("StreamCue clips");
    let info = choose(&rig, FolderKind::Clips, &chosen)
        .await
        .expect("usable");
    assert_eq!(info.clips_dir, chosen.display().to_string());
    assert!(!info.clips_dir_is_default && info.recordings_dir_is_default);
    rig.h
        .events
        .wait(secs(5.0), "the new paths are announced", |log| {
            log.pick(|e| match e {
                streamcue::api::CoreEvent::Paths { paths } => Some(paths),
                _ => None,
            })
            .last()
                == Some(&info)
        })
        .await;
    assert_eq!(rig.h.snapshot().await.paths, info);

    let second = file_of(&clip(&mut rig, "after", RequestState::Ready).await);
    assert_eq!(second.parent(), Some(chosen.as_path()));
    assert!(first.is_file(), "the earlier clip stays where it was");
    assert!(
        rig.handle()
            .paths()
            .revealable(&second.display().to_string())
            .is_ok(),
        "Show in folder works in the chosen folder"
    );

    // The choice survives a restart, and "Use the default" puts the default back.
    rig.h.shutdown_within(secs(15.0)).await;
    let dir = std::mem::replace(&mut rig.h.dir, tempfile::tempdir().unwrap());
    drop(rig);
    let rig = offline_rig(Some(dir)).await;
    assert_eq!(rig.h.snapshot().await.paths, info, "kept across a restart");
    let back = rig
        .handle()
        .set_folder(FolderKind::Clips, None)
        .await
        .expect("default");
    assert_eq!(back.clips_dir, default_clips.display().to_string());
    assert!(back.clips_dir_is_default);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn folders_that_cannot_be_used_are_refused_in_words_and_change_nothing() {
    let rig = offline_rig(None).await;
    let before = rig.h.snapshot().await.paths;
    let scratch = tempfile::tempdir().unwrap();
    let file = scratch.path().join("a file");
    std::fs::write(&file, b"x").unwrap();

    let mut refusals = vec![
        (
            "relative",
            choose(&rig, FolderKind::Clips, Path::new("clips")).await,
            "full path",
        ),
        (
            "a file",
            choose(&rig, FolderKind::Recordings, &file).await,
            "is a file, not a folder",
        ),
        (
            "under a file",
            choose(&rig, FolderKind::Clips, &file.join("clips")).await,
            "a file is in the way",
        ),
    ];
    match (
        Tmpfs::mount(64 * 1024 * 1024),
        Tmpfs::mount(4 * 1024 * 1024),
    ) {
        (Ok(read_only), Ok(small)) => {
            read_only.set_read_only(true);
            refusals.push((
                "read-only",
                choose(&rig, FolderKind::Clips, &read_only.path().join("clips")).await,
                "read-only",
            ));
            // Writable, but less free space than one recording needs.
            refusals.push((
                "nearly full",
                choose(&rig, FolderKind::Recordings, small.path()).await,
                "full or nearly full",
            ));
            small.fill();
            refusals.push((
                "full",
                choose(&rig, FolderKind::Clips, small.path()).await,
                "full or nearly full",
            ));
        }
        (Err(why), _) | (_, Err(why)) => {
            println!("SKIP the read-only and full-disk cases: {why}");
        }
    }
    for (case, result, words) in refusals {
        let message = result.expect_err(case);
        println!("{case}: {message}");
        assert!(message.contains(words), "{case}: {message}");
        assert!(
            message.contains("hoose") || message.contains("free some space"),
            "{case}: the next step is named: {message}"
        );
    }
    assert_eq!(rig.h.snapshot().await.paths, before, "nothing changed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chosen_folder_removed_while_running_is_made_again_for_the_next_clip() {
    let mut rig = offline_rig(None).await;
    let other = tempfile::tempdir().unwrap();
    let chosen = other.path().join("clips");
    choose(&rig, FolderKind::Clips, &chosen)
        .await
        .expect("usable");
    std::fs::remove_dir_all(&chosen).unwrap();
    let made = clip(&mut rig, "after removal", RequestState::Ready).await;
    assert_eq!(file_of(&made).parent(), Some(chosen.as_path()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chosen_folder_that_fills_up_fails_the_clip_in_words_and_the_request_is_kept() {
    let disk = match Tmpfs::mount(32 * 1024 * 1024) {
        Ok(d) => d,
        Err(why) => {
            println!("SKIP: {why}");
            return;
        }
    };
    let mut rig = offline_rig(None).await;
    choose(&rig, FolderKind::Clips, disk.path())
        .await
        .expect("usable while it has space");
    let filler = disk.fill();
    let failed = clip(&mut rig, "on a full disk", RequestState::Failed).await;
    assert_eq!(failed.file_path, None);
    let reason = failed.reason.as_deref().unwrap_or_default();
    assert!(reason.contains("the disk is full"), "{reason}");
    let leftovers: Vec<_> = std::fs::read_dir(disk.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .filter(|n| n != "filler.bin")
        .collect();
    assert!(leftovers.is_empty(), "no partial file: {leftovers:?}");

    // Space comes back: the same request is retried and becomes a clip on that disk.
    std::fs::remove_file(filler).unwrap();
    rig.handle()
        .queue()
        .act(failed.id, QueueAction::Retry)
        .await
        .expect("retry");
    let item = rig
        .finished_since(failed.id, failed.updated_at_ms, secs(60.0))
        .await;
    assert_eq!(item.state, RequestState::Ready, "{item:?}");
    let path = PathBuf::from(item.file_path.expect("a file"));
    assert_eq!(path.parent(), Some(disk.path()));
}
