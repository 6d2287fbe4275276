//! The clip the fake serves: the fixture, bytes a test set, or a synthetic clip of any size
//! generated on the fly; and the body hyper sends it as ([`body`]), whole, slowly, or cut off
//! halfway.
//!
//! Invariant: a synthetic clip's bytes depend only on their position, so any chunking yields
//! the same bytes, and a test can compute them ([`synthetic_chunks`]).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;

use crate::http::{Body, BoxError};
use crate::ids::splitmix64;

/// The real clip served by default: a 1 s, 160x90 H.264 MP4 (`ftyp` at offset 4).
pub const FIXTURE_CLIP: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/fixtures/clip.mp4"
));

/// Chunk size of healthy downloads (and of [`synthetic_chunks`]).
pub const CHUNK: usize = 64 * 1024;

/// The bytes of a clip, without holding synthetic ones in memory.
#[derive(Debug, Clone)]
pub(super) enum Clip {
    Bytes(Arc<Vec<u8>>),
    /// The fixture's `ftyp` box, then pseudo-random filler, `len` bytes in all.
    Synthetic(u64),
}

impl Clip {
    pub(super) fn len(&self) -> u64 {
        match self {
            Clip::Bytes(b) => b.len() as u64,
            Clip::Synthetic(len) => *len,
        }
    }

    fn chunk(&self, offset: u64, n: usize) -> Vec<u8> {
        match self {
            Clip::Bytes(b) => {
                let start = (offset as usize).min(b.len());
                let end = start.saturating_add(n).min(b.len());
                b[start..end].to_vec()
            }
            Clip::Synthetic(len) => synthetic_chunk(*len, offset, n),
        }
    }
}

/// The fixture's leading `ftyp` box (what synthetic clips start with).
fn fixture_header() -> &'static [u8] {
    let declared = FIXTURE_CLIP
        .get(..4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
        .unwrap_or(0);
    let n = if (8..=4096).contains(&declared) {
        declared
    } else {
        32
    };
    &FIXTURE_CLIP[..n.min(FIXTURE_CLIP.len())]
}

/// Bytes `offset..offset+n` (clamped to `len`) of the synthetic clip of `len` bytes. The
/// content depends only on the position, so any chunking yields the same bytes.
pub fn synthetic_chunk(len: u64, offset: u64, n: usize) -> Vec<u8> {
    let end = offset.saturating_add(n as u64).min(len);
    if offset >= end {
        return Vec::new();
    }
    let mut out = Vec::with_capacity((end - offset) as usize);
    let mut pos = offset;
    while pos < end {
        let word = splitmix64(0x5EED ^ (pos / 8)).to_le_bytes();
        let from = (pos % 8) as usize;
        let take = ((8 - from) as u64).min(end - pos) as usize;
        out.extend_from_slice(&word[from..from + take]);
        pos += take as u64;
    }
    let header = fixture_header();
    if (offset as usize) < header.len() {
        let start = offset as usize;
        let stop = header.len().min(end as usize);
        out[..stop - start].copy_from_slice(&header[start..stop]);
    }
    out
}

/// The synthetic clip of `len` bytes in chunks of [`CHUNK`], generated on the fly (what
/// [`FakeGen::set_synthetic_clip`] serves).
pub fn synthetic_chunks(len: u64) -> impl Iterator<Item = Vec<u8>> {
    let mut offset = 0u64;
    std::iter::from_fn(move || {
        let chunk = synthetic_chunk(len, offset, CHUNK);
        if chunk.is_empty() {
            return None;
        }
        offset += chunk.len() as u64;
        Some(chunk)
    })
}

/// How the body of a download is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Delivery {
    /// All of it, in chunks of [`CHUNK`].
    Whole,
    /// Only the first half, then the connection is cut (the head still says the full length).
    Truncated,
    /// Chunks of 1/8 of the clip (16 KiB at most), one every 100 ms.
    Slow,
}

/// After the half of a truncated body, hyper must have flushed it before the body fails: a body
/// error makes hyper drop the connection at once, unsent bytes included. The stream waits this
/// long (hyper flushes while the body is pending) before it fails.
const FLUSH_BEFORE_CUT: Duration = Duration::from_millis(200);

/// `clip` as a body streamed as `delivery` says, generated chunk by chunk (a synthetic clip is
/// never held in memory whole). Send it with `Content-Length: clip.len()`.
///
/// A truncated body is a stream that fails after half the bytes: hyper then closes the
/// connection without finishing the message, which is what a dropped download looks like.
pub(super) fn body(clip: Clip, delivery: Delivery) -> Body {
    let total = clip.len();
    let (limit, step, pause) = match delivery {
        Delivery::Whole => (total, CHUNK as u64, None),
        Delivery::Truncated => (total / 2, CHUNK as u64, None),
        Delivery::Slow => (
            total,
            total.div_ceil(8).clamp(1, 16 * 1024),
            Some(Duration::from_millis(100)),
        ),
    };
    // The state is the next offset; `None` once the body has failed.
    let frames = futures_util::stream::unfold(Some(0u64), move |offset| {
        let clip = clip.clone();
        async move {
            let offset = offset?;
            if offset >= limit {
                if limit == total {
                    return None;
                }
                tokio::time::sleep(FLUSH_BEFORE_CUT).await;
                let cut: BoxError = "the fake cuts this download halfway".into();
                return Some((Err(cut), None));
            }
            if let (Some(pause), true) = (pause, offset > 0) {
                tokio::time::sleep(pause).await;
            }
            let bytes = clip.chunk(offset, step.min(limit - offset) as usize);
            let next = offset + bytes.len() as u64;
            Some((Ok(Frame::data(Bytes::from(bytes))), Some(next)))
        }
    });
    StreamBody::new(frames).boxed()
}
