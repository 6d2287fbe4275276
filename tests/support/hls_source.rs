//! A local live-style HLS source on 127.0.0.1 for recorder tests.
//!
//! ffmpeg renders a test pattern with a tone in real time (`-re`) into 1-second H.264/AAC
//! segments (a sliding window of 6) in a temp dir, and a tiny hand-written HTTP/1.1 server
//! (one request per connection, `Connection: close`) serves that dir. The server can be told
//! to answer 404 to everything (the stream "goes away") and to serve again; ffmpeg can be
//! stopped cleanly (it then ends the playlist with `#EXT-X-ENDLIST`, like a stream that ends).
//! Dropping the source kills ffmpeg and the server.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::process::{Child, Command};

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
    addr: SocketAddr,
    shared: Arc<Shared>,
    ffmpeg: Option<Child>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for HlsSource {
    fn drop(&mut self) {
        self.server.abort();
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

        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind HLS");
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared {
            dir: dir.clone(),
            serving: AtomicBool::new(true),
            requests: AtomicU64::new(0),
        });
        let sh = shared.clone();
        let server = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let sh = sh.clone();
                tokio::spawn(async move {
                    let _ = tokio::time::timeout(Duration::from_secs(10), serve(stream, sh)).await;
                });
            }
        });
        let source = HlsSource {
            _temp: temp,
            addr,
            shared,
            ffmpeg: Some(ffmpeg),
            server,
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
        format!("http://{}/live.m3u8", self.addr)
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

async fn serve(mut stream: TcpStream, shared: Arc<Shared>) -> std::io::Result<()> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut chunk).await?;
        if n == 0 || buf.len() > 16 * 1024 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    shared.requests.fetch_add(1, Ordering::SeqCst);
    let head = String::from_utf8_lossy(&buf);
    let mut parts = head.lines().next().unwrap_or("").split_whitespace();
    let method = parts.next().unwrap_or("");
    let target = parts.next().unwrap_or("/");
    let path = target.split(['?', '#']).next().unwrap_or("/");
    let name = path.trim_start_matches('/');

    let file = if !shared.serving.load(Ordering::SeqCst)
        || !(method == "GET" || method == "HEAD")
        || name.is_empty()
        || name.contains('/')
        || name.contains("..")
    {
        None
    } else {
        tokio::fs::read(shared.dir.join(name)).await.ok()
    };
    match file {
        Some(body) => {
            let content_type = match Path::new(name).extension().and_then(|e| e.to_str()) {
                Some("m3u8") => "application/vnd.apple.mpegurl",
                Some("ts") => "video/mp2t",
                _ => "application/octet-stream",
            };
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
                 Cache-Control: no-cache\r\nConnection: close\r\n\r\n",
                body.len()
            );
            stream.write_all(head.as_bytes()).await?;
            if method == "GET" {
                stream.write_all(&body).await?;
            }
        }
        None => {
            let body = b"not found\n";
            let head = format!(
                "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n",
                body.len()
            );
            stream.write_all(head.as_bytes()).await?;
            stream.write_all(body).await?;
        }
    }
    stream.shutdown().await
}
