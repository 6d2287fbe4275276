//! What a [`RealObs`] starts with: its config dir (global.ini, a profile recording in Simple
//! output mode, obs-websocket's settings, a scene collection) and random credentials.

use std::fmt::Write as _;
use std::fs;
use std::io::Read;
use std::path::PathBuf;

use super::{ObsSetup, RealObs, COLLECTION, PROFILE};

impl RealObs {
    pub(super) fn write_config(&self, setup: &ObsSetup) -> Result<(), String> {
        let dir = self.dir.path();
        let obs_dir = dir.join("config/obs-studio");
        let recordings = self.recordings_dir();
        let run = dir.join("run");
        for d in [
            obs_dir.join("basic/profiles").join(PROFILE),
            obs_dir.join("basic/scenes"),
            obs_dir.join("plugin_config/obs-websocket"),
            recordings.clone(),
            run.clone(),
        ] {
            fs::create_dir_all(&d).map_err(|e| format!("{}: {e}", d.display()))?;
        }
        use std::os::unix::fs::PermissionsExt;
        let _ = fs::set_permissions(&run, fs::Permissions::from_mode(0o700));

        let global = format!(
            "[General]\nFirstRun=true\nConfirmOnExit=false\nEnableAutoUpdates=false\n\
             \n[Basic]\nProfile={PROFILE}\nProfileDir={PROFILE}\n\
             SceneCollection={COLLECTION}\nSceneCollectionFile={COLLECTION}\n\
             \n[BasicWindow]\nPreviewEnabled=false\nSysTrayEnabled=false\n\
             \n[OBSWebSocket]\nFirstLoad=false\nServerEnabled=true\nServerPort={port}\n\
             AlertsEnabled=false\nAuthRequired={auth}\nServerPassword={password}\n",
            port = self.port,
            password = self.password,
            auth = setup.auth,
        );
        let profile = format!(
            "[General]\nName={PROFILE}\n\
             \n[Output]\nMode=Simple\n\
             \n[SimpleOutput]\nFilePath={rec}\nRecFormat=mkv\nRecFormat2=mkv\nRecEncoder=x264\n\
             StreamEncoder=x264\nPreset=ultrafast\nRecQuality=Stream\n\
             \n[Video]\nBaseCX=1280\nBaseCY=720\nOutputCX=1280\nOutputCY=720\nFPSType=0\n\
             FPSCommon=30\n\
             \n[Audio]\nSampleRate=48000\nChannelSetup=Stereo\n",
            rec = recordings.display(),
        );
        let websocket = serde_json::json!({
            "alerts_enabled": false,
            "auth_required": setup.auth,
            "first_load": false,
            "server_enabled": true,
            "server_password": self.password,
            "server_port": self.port,
        });
        let mut collection = match &setup.collection {
            Some(c) => c.clone(),
            None => empty_collection(&setup.scenes),
        };
        collection["name"] = COLLECTION.into();

        let files: [(PathBuf, String); 4] = [
            (obs_dir.join("global.ini"), global),
            (
                obs_dir
                    .join("basic/profiles")
                    .join(PROFILE)
                    .join("basic.ini"),
                profile,
            ),
            (
                obs_dir.join("plugin_config/obs-websocket/config.json"),
                websocket.to_string(),
            ),
            (
                obs_dir.join(format!("basic/scenes/{COLLECTION}.json")),
                serde_json::to_string_pretty(&collection).unwrap_or_default(),
            ),
        ];
        for (path, text) in files {
            fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        }
        Ok(())
    }
}

/// A scene collection with these empty scenes; the first is current.
pub fn empty_collection(scenes: &[String]) -> serde_json::Value {
    let first = scenes.first().cloned().unwrap_or_default();
    let sources: Vec<serde_json::Value> = scenes
        .iter()
        .map(|name| {
            serde_json::json!({
                "id": "scene",
                "versioned_id": "scene",
                "name": name,
                "uuid": random_uuid(),
                "enabled": true,
                "flags": 0,
                "mixers": 0,
                "settings": {"custom_size": false, "id_counter": 0, "items": []},
                "private_settings": {},
            })
        })
        .collect();
    serde_json::json!({
        "name": COLLECTION,
        "current_scene": first,
        "current_program_scene": first,
        "scene_order": scenes.iter().map(|n| serde_json::json!({"name": n})).collect::<Vec<_>>(),
        "sources": sources,
        "groups": [],
        "transitions": [],
        "current_transition": "Fade",
        "transition_duration": 300,
        "preview_locked": false,
        "scaling_enabled": false,
        "quick_transitions": [],
        "saved_projectors": [],
        "modules": {},
    })
}

fn random_bytes(n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .expect("/dev/urandom");
    buf
}

pub(super) fn random_hex(n: usize) -> String {
    random_bytes(n).iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn random_uuid() -> String {
    let mut b = random_bytes(16);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().fold(String::new(), |mut s, x| {
        let _ = write!(s, "{x:02x}");
        s
    });
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}
