//! **Set up OBS**: creates the scenes and sources StreamCue drives, if they are missing.
//! Idempotent: a second run creates nothing. Existing scenes are never changed.

use obws::requests::inputs::Create;
use obws::requests::scenes::SceneId;

use crate::api::{ApiError, ErrorCode, ObsNames, ObsSetupReport};

/// Text source kinds, best first (Linux/macOS FreeType, then Windows GDI+).
const TEXT_KINDS: [&str; 4] = [
    "text_ft2_source_v2",
    "text_gdiplus_v3",
    "text_gdiplus_v2",
    "text_ft2_source",
];

fn refused(e: obws::error::Error) -> ApiError {
    ApiError::new(ErrorCode::Obs, format!("OBS refused the set-up: {e}"))
}

async fn timed<T>(
    fut: impl std::future::Future<Output = obws::error::Result<T>>,
) -> Result<T, ApiError> {
    match tokio::time::timeout(std::time::Duration::from_secs(5), fut).await {
        Err(_) => Err(ApiError::new(
            ErrorCode::Obs,
            "OBS did not answer within 5 s.",
        )),
        Ok(r) => r.map_err(refused),
    }
}

pub async fn set_up_scenes(
    client: &obws::Client,
    names: &ObsNames,
) -> Result<ObsSetupReport, ApiError> {
    let mut report = ObsSetupReport {
        created: Vec::new(),
        existing: Vec::new(),
    };
    let scenes: Vec<String> = timed(client.scenes().list())
        .await?
        .scenes
        .into_iter()
        .map(|s| s.id.name)
        .collect();
    let mut hero_created = false;
    for scene in [
        &names.generating_scene,
        &names.result_scene,
        &names.hero_scene,
        &names.watch_scene,
    ] {
        let what = format!("scene {scene}");
        if scenes.contains(scene) {
            report.existing.push(what);
        } else {
            timed(client.scenes().create(scene)).await?;
            hero_created |= scene == &names.hero_scene;
            report.created.push(what);
        }
    }
    let inputs: Vec<String> = timed(client.inputs().list(None))
        .await?
        .into_iter()
        .map(|i| i.id.name)
        .collect();
    let kinds = timed(client.inputs().list_kinds(false)).await?;
    let text_kind = TEXT_KINDS
        .iter()
        .find(|k| kinds.iter().any(|have| have == *k))
        .copied()
        .ok_or_else(|| ApiError::new(ErrorCode::Obs, "This OBS has no text source kind."))?;
    let font =
        serde_json::json!({ "face": "DejaVu Sans", "size": 64, "style": "Bold", "flags": 1 });
    let wanted = [
        (
            &names.prompt_source,
            &names.generating_scene,
            text_kind,
            serde_json::json!({ "text": "Generating…", "font": font, "outline": true }),
            "text source",
        ),
        (
            &names.result_source,
            &names.result_scene,
            "ffmpeg_source",
            serde_json::json!({
                "is_local_file": true, "looping": false, "restart_on_activate": true,
                "clear_on_media_end": false, "close_when_inactive": false
            }),
            "media source",
        ),
        (
            &names.watch_source,
            &names.watch_scene,
            "ffmpeg_source",
            // A network input (the link, or what streamlink resolved it to); it keeps playing
            // while a clip interrupts, and shows nothing once it ended.
            serde_json::json!({
                "is_local_file": false, "input": "", "looping": false,
                "restart_on_activate": false, "clear_on_media_end": true,
                "close_when_inactive": false, "reconnect_delay_sec": 2
            }),
            "media source",
        ),
    ];
    for (input, scene, kind, settings, label) in wanted {
        let what = format!("{label} {input}");
        if inputs.contains(input) {
            report.existing.push(what);
            continue;
        }
        timed(client.inputs().create(Create {
            scene: SceneId::Name(scene),
            input,
            kind,
            settings: Some(settings),
            enabled: Some(true),
        }))
        .await?;
        report.created.push(what);
    }
    if hero_created {
        let input = format!("{} Text", names.hero_scene);
        if !inputs.contains(&input) {
            timed(client.inputs().create(Create {
                scene: SceneId::Name(&names.hero_scene),
                input: &input,
                kind: text_kind,
                settings: Some(serde_json::json!({ "text": "Back in a moment!", "font": font })),
                enabled: Some(true),
            }))
            .await?;
            report.created.push(format!("text source {input}"));
        }
    }
    Ok(report)
}
