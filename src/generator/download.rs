//! Streams a clip to disk: a temporary `.part` file in the clips folder, written chunk by chunk
//! (memory stays flat whatever the size), checked (length, MP4 signature), then renamed into
//! place. Invariant: a `.part` file never outlives its download: [`PartFile`] removes it when
//! dropped unless it was renamed, so errors and cancellation leave nothing half-written.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tempfile::TempPath;
use tokio::io::AsyncWriteExt;

use super::error::GenerationError;

/// The largest chunk a download has held in memory at once, process-wide (the memory test
/// reads it; the app logs it).
pub static PEAK_CHUNK_BYTES: AtomicU64 = AtomicU64::new(0);

/// Content types accepted for a clip (besides none at all).
const CLIP_TYPES: [&str; 4] = [
    "video/mp4",
    "application/mp4",
    "application/octet-stream",
    "binary/octet-stream",
];

/// A temporary file that is deleted when dropped (a `tempfile::TempPath`), unless
/// [`PartFile::commit`] renamed it into place.
pub struct PartFile {
    path: TempPath,
}

impl PartFile {
    /// `.request-42.mp4.part` beside `final_path` (the name is fixed so that the stale-file
    /// sweep at start, `.*.part`, finds what a crash left).
    pub fn for_final(final_path: &Path) -> Result<Self, GenerationError> {
        let name = final_path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let path = final_path.with_file_name(format!(".{name}.part"));
        let path = TempPath::try_from_path(path)
            .map_err(|e| GenerationError::disk("cannot write", final_path, &e))?;
        Ok(Self { path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Checks the MP4 signature, then renames into place (atomic: same folder).
    pub async fn commit(self, final_path: &Path) -> Result<(), GenerationError> {
        check_mp4(&self.path).await?;
        self.path
            .persist(final_path)
            .map_err(|e| GenerationError::disk("cannot rename into", final_path, &e.error))
    }
}

/// Whether `path` starts like an MP4 (`ftyp` box first) and has more than its header.
pub async fn check_mp4(path: &Path) -> Result<(), GenerationError> {
    use tokio::io::AsyncReadExt;
    let mut head = [0u8; 12];
    let mut file = tokio::fs::File::open(path)
        .await
        .map_err(|e| GenerationError::disk("cannot read", path, &e))?;
    let n = file.read(&mut head).await.unwrap_or(0);
    if n < 12 || &head[4..8] != b"ftyp" {
        return Err(GenerationError::NotMp4);
    }
    Ok(())
}

/// Why one download attempt did not produce a file.
#[derive(Debug)]
pub enum DownloadFail {
    /// 403/410, or the URL's own expiry: ask for a fresh URL.
    Expired,
    /// Worth another try with the same URL (network error, 5xx, truncated body, stall).
    Retry(RetryCause),
    Fatal(GenerationError),
}

#[derive(Debug, Clone)]
pub enum RetryCause {
    Status(u16),
    Truncated { got: u64, expected: u64 },
    Broken(String),
}

impl RetryCause {
    pub fn into_error(self, attempts: u32) -> GenerationError {
        match self {
            RetryCause::Status(status) => GenerationError::DownloadStatus { status, attempts },
            RetryCause::Truncated { got, expected } => GenerationError::Truncated {
                got,
                expected,
                attempts,
            },
            RetryCause::Broken(detail) => GenerationError::DownloadBroken { detail, attempts },
        }
    }
}

/// Limits of one download.
#[derive(Debug, Clone, Copy)]
pub struct DownloadLimits {
    /// Longest wait for the next chunk (or the headers).
    pub idle: Duration,
    pub max_bytes: u64,
}

/// One GET of `url` into `part`; returns the byte count. `progress(bytes, total)` is called
/// after each chunk.
pub async fn fetch_once(
    client: &reqwest::Client,
    url: &reqwest::Url,
    part: &PartFile,
    limits: DownloadLimits,
    progress: &mut (dyn FnMut(u64, Option<u64>) + Send),
) -> Result<u64, DownloadFail> {
    let sent = tokio::time::timeout(limits.idle, client.get(url.clone()).send()).await;
    let response = match sent {
        Err(_) => {
            return Err(DownloadFail::Retry(RetryCause::Broken(format!(
                "no answer within {} s",
                limits.idle.as_secs()
            ))))
        }
        Ok(Err(e)) => return Err(DownloadFail::Retry(RetryCause::Broken(short_error(&e)))),
        Ok(Ok(r)) => r,
    };
    let status = response.status().as_u16();
    match status {
        200 => {}
        403 | 410 => return Err(DownloadFail::Expired),
        408 | 429 | 500..=599 => return Err(DownloadFail::Retry(RetryCause::Status(status))),
        _ => {
            return Err(DownloadFail::Fatal(GenerationError::DownloadStatus {
                status,
                attempts: 1,
            }))
        }
    }
    if let Some(ct) = response.headers().get(reqwest::header::CONTENT_TYPE) {
        let ct = ct.to_str().unwrap_or("an unreadable content type");
        let essence = ct
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if !CLIP_TYPES.contains(&essence.as_str()) {
            return Err(DownloadFail::Fatal(GenerationError::WrongContentType {
                content_type: essence.chars().take(60).collect(),
            }));
        }
    }
    let expected = response.content_length();
    if expected.is_some_and(|n| n > limits.max_bytes) {
        return Err(DownloadFail::Fatal(too_large(limits.max_bytes)));
    }
    let mut file = tokio::fs::File::create(part.path())
        .await
        .map_err(|e| DownloadFail::Fatal(GenerationError::disk("cannot write", part.path(), &e)))?;
    let mut response = response;
    let mut got: u64 = 0;
    let mut head = Vec::with_capacity(8);
    loop {
        let chunk = match tokio::time::timeout(limits.idle, response.chunk()).await {
            Err(_) => {
                return Err(DownloadFail::Retry(RetryCause::Broken(format!(
                    "the download stalled for {} s",
                    limits.idle.as_secs()
                ))))
            }
            Ok(Err(e)) => {
                return Err(match expected {
                    Some(expected) => DownloadFail::Retry(RetryCause::Truncated { got, expected }),
                    None => DownloadFail::Retry(RetryCause::Broken(short_error(&e))),
                })
            }
            Ok(Ok(None)) => break,
            Ok(Ok(Some(chunk))) => chunk,
        };
        PEAK_CHUNK_BYTES.fetch_max(chunk.len() as u64, Ordering::Relaxed);
        if head.len() < 8 {
            let take = (8 - head.len()).min(chunk.len());
            head.extend_from_slice(&chunk[..take]);
            if head.len() == 8 && &head[4..8] != b"ftyp" {
                return Err(DownloadFail::Fatal(GenerationError::NotMp4));
            }
        }
        got += chunk.len() as u64;
        if got > limits.max_bytes {
            return Err(DownloadFail::Fatal(too_large(limits.max_bytes)));
        }
        file.write_all(&chunk).await.map_err(|e| {
            DownloadFail::Fatal(GenerationError::disk("cannot write", part.path(), &e))
        })?;
        progress(got, expected);
    }
    if let Some(expected) = expected.filter(|&n| n != got) {
        return Err(DownloadFail::Retry(RetryCause::Truncated { got, expected }));
    }
    file.flush()
        .await
        .and(file.sync_all().await)
        .map_err(|e| DownloadFail::Fatal(GenerationError::disk("cannot write", part.path(), &e)))?;
    Ok(got)
}

fn too_large(max: u64) -> GenerationError {
    GenerationError::TooLarge {
        limit_mb: max / 1_000_000,
    }
}

/// A reqwest error in a few words, without the URL (signed URLs carry credentials): the
/// innermost cause (e.g. "Connection refused (os error 111)"), or the kind when there is none.
pub fn short_error(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        return "timed out".into();
    }
    let mut innermost = None;
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        innermost = Some(s.to_string());
        source = s.source();
    }
    let text = innermost.unwrap_or_else(|| {
        if e.is_connect() {
            "connection failed"
        } else if e.is_body() || e.is_decode() {
            "the connection broke during the body"
        } else {
            "request failed"
        }
        .to_string()
    });
    text.chars().take(160).collect()
}
