//! A local live-style HLS source on 127.0.0.1 for recorder tests.
//!
//! ffmpeg renders a test pattern with a tone in real time (`-re`) into 1-second H.264/AAC
//! segments (a sliding window of 6) in a temp dir, and hyper serves that dir over HTTP/1.1 on
//! 127.0.0.1 (one request per connection). The server can be told to answer 404 to everything
//! (the stream "goes away") and to serve again; ffmpeg can be stopped cleanly (it then ends the
//! playlist with `#EXT-X-ENDLIST`, like a stream that ends).
//!
//! Invariants: only plain file names in the temp dir are served (no `/`, no `..`); every
//! request is counted, whatever its answer; dropping the source kills ffmpeg and the server.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hyper::body::Incoming;
use hyper::{Method, Request, Response};
use tokio::io::AsyncWriteExt;
use tokio::process::{Child, Command};

use crate::http::{answer, with_header, Body};
use crate::serve::{serve_http, Loopback};

/// How long `start` waits for ffmpeg to have written enough segments to be "live".
const READY_TIMEOUT: Duration = Duration::from_secs(20);
/// Segments in the playlist before `start` returns (streamlink starts 3 from the live edge).
const READY_SEGMENTS: usize = 3;

struct Shared {
    dir: PathBuf,
    serving: AtomicBool,
    requests: AtomicU64,
}

pub struct HlsSource {
    _temp: tempfile::TempDir,
    server: Loopback,
    shared: Arc<Shared>,
    ffmpeg: Option<Child>,
}

impl Drop for HlsSource {
    fn drop(&mut self) {
        if let Some(child) = self.ffmpeg.as_mut() {
            let _ = child.start_kill();
        }
    }
}

impl HlsSource {
    /// Starts ffmpeg and the server; returns once the playlist has a few segments.
    /// Panics (with ffmpeg's log) if that takes longer than 20 s.
    pub async fn start() -> HlsSource {
        let temp = tempfile::tempdir().expect("temp dir for HLS");
        let dir = temp.path().to_path_buf();
        let log = std::fs::File::create(dir.join("ffmpeg.log")).expect("ffmpeg log");
        let ffmpeg = Command::new("ffmpeg")
            .current_dir(&dir)
            .args(["-hide_banner", "-loglevel", "error", "-re"])
            .args(["-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25"])
            .args(["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"])
            .args([
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",
                "-tune",
                "zerolatency",
            ])
            .args(["-pix_fmt", "yuv420p", "-g", "25", "-keyint_min", "25"])
            .args(["-sc_threshold", "0", "-c:a", "aac", "-b:a", "64k"])
            .args(["-f", "hls", "-hls_time", "1", "-hls_list_size", "6"])
            // No `append_list`: on a fresh list it only adds a leading discontinuity tag.
            .args(["-hls_flags", "delete_segments+temp_file"])
            .args(["-hls_segment_filename", "seg%05d.ts", "live.m3u8"])
            // `q` on stdin stops ffmpeg cleanly (see `stop_ffmpeg`).
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::from(log))
            .kill_on_drop(true)
            .spawn()
            .expect("ffmpeg must be installed (sudo apt install ffmpeg)");

        let shared = Arc::new(Shared {
            dir: dir.clone(),
            serving: AtomicBool::new(true),
            requests: AtomicU64::new(0),
        });
        let sh = shared.clone();
        let server = serve_http(move |req| serve(sh.clone(), req))
            .await
            .expect("bind HLS");
        let source = HlsSource {
            _temp: temp,
            server,
            shared,
            ffmpeg: Some(ffmpeg),
        };
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            let segments = std::fs::read_to_string(dir.join("live.m3u8"))
                .map(|p| p.matches("#EXTINF").count())
                .unwrap_or(0);
            if segments >= READY_SEGMENTS {
                break;
            }
            if Instant::now() > deadline {
                let log = std::fs::read_to_string(dir.join("ffmpeg.log")).unwrap_or_default();
                panic!(
                    "the HLS source did not start within {READY_TIMEOUT:?}; ffmpeg says:\n{log}"
                );
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        source
    }

    /// `http://127.0.0.1:PORT/live.m3u8`
    pub fn url(&self) -> String {
        format!("http://{}/live.m3u8", self.server.addr())
    }

    pub fn dir(&self) -> &Path {
        &self.shared.dir
    }

    /// Requests answered so far (any status).
    pub fn requests(&self) -> u64 {
        self.shared.requests.load(Ordering::SeqCst)
    }

    /// From now on every request gets 404 (the stream is gone as far as a client can tell).
    /// ffmpeg keeps running.
    pub fn stop_serving(&self) {
        self.shared.serving.store(false, Ordering::SeqCst);
    }

    /// Serves the (still live) playlist and segments again.
    pub fn resume_serving(&self) {
        self.shared.serving.store(true, Ordering::SeqCst);
    }

    /// Stops ffmpeg cleanly (`q`, so the playlist gets `#EXT-X-ENDLIST`: the stream ended),
    /// killing it if it has not exited within 5 s. The files stay and are still served.
    pub async fn stop_ffmpeg(&mut self) {
        let Some(mut child) = self.ffmpeg.take() else {
            return;
        };
        if let Some(mut stdin) = child.stdin.take() {
            let _ = stdin.write_all(b"q").await;
            let _ = stdin.flush().await;
        }
        if tokio::time::timeout(Duration::from_secs(5), child.wait())
            .await
            .is_err()
        {
            let _ = child.start_kill();
            let _ = tokio::time::timeout(Duration::from_secs(5), child.wait()).await;
        }
    }
}

async fn serve(shared: Arc<Shared>, req: Request<Incoming>) -> Response<Body> {
    shared.requests.fetch_add(1, Ordering::SeqCst);
    let name = req.uri().path().trim_start_matches('/');
    let readable = shared.serving.load(Ordering::SeqCst)
        && (req.method() == Method::GET || req.method() == Method::HEAD)
        && !name.is_empty()
        && !name.contains('/')
        && !name.contains("..");
    let file = match readable {
        true => tokio::fs::read(shared.dir.join(name)).await.ok(),
        false => None,
    };
    let Some(body) = file else {
        return answer(404, "text/plain", "not found\n");
    };
    let content_type = match Path::new(name).extension().and_then(|e| e.to_str()) {
        Some("m3u8") => "application/vnd.apple.mpegurl",
        Some("ts") => "video/mp2t",
        _ => "application/octet-stream",
    };
    // hyper sends the head only (with this body's length) to a HEAD request.
    with_header(answer(200, content_type, body), "Cache-Control", "no-cache")
}
