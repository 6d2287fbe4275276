//! Reads an MP4's duration from its `moov/mvhd` box (the fallback for when OBS's media-ended
//! event does not come). Walks top-level boxes by their sizes, so `moov` may be anywhere.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::time::Duration;

/// The duration the file declares, or `None` if it is not a readable MP4.
pub fn duration(path: &Path) -> Option<Duration> {
    let mut file = std::fs::File::open(path).ok()?;
    let len = file.metadata().ok()?.len();
    let (start, size) = find_box(&mut file, 0, len, b"moov")?;
    let (mvhd, _) = find_box(&mut file, start, start + size, b"mvhd")?;
    file.seek(SeekFrom::Start(mvhd)).ok()?;
    let mut head = [0u8; 4];
    file.read_exact(&mut head).ok()?;
    let (timescale, units) = if head[0] == 1 {
        let mut b = [0u8; 28];
        file.read_exact(&mut b).ok()?;
        (
            u32::from_be_bytes(b[16..20].try_into().ok()?),
            u64::from_be_bytes(b[20..28].try_into().ok()?),
        )
    } else {
        let mut b = [0u8; 16];
        file.read_exact(&mut b).ok()?;
        (
            u32::from_be_bytes(b[8..12].try_into().ok()?),
            u32::from_be_bytes(b[12..16].try_into().ok()?) as u64,
        )
    };
    if timescale == 0 {
        return None;
    }
    Some(Duration::from_secs_f64(units as f64 / timescale as f64))
        .filter(|d| *d < Duration::from_secs(24 * 3600))
}

/// Finds box `kind` among the boxes in `[from, to)`; returns (payload start, payload size).
fn find_box(file: &mut std::fs::File, from: u64, to: u64, kind: &[u8; 4]) -> Option<(u64, u64)> {
    let mut at = from;
    for _ in 0..10_000 {
        if at + 8 > to {
            return None;
        }
        file.seek(SeekFrom::Start(at)).ok()?;
        let mut h = [0u8; 8];
        file.read_exact(&mut h).ok()?;
        let mut size = u32::from_be_bytes(h[0..4].try_into().ok()?) as u64;
        let mut header = 8;
        if size == 1 {
            let mut big = [0u8; 8];
            file.read_exact(&mut big).ok()?;
            size = u64::from_be_bytes(big);
            header = 16;
        } else if size == 0 {
            size = to - at;
        }
        if size < header || at.checked_add(size)? > to {
            return None;
        }
        if &h[4..8] == kind {
            return Some((at + header, size - header));
        }
        at += size;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_fixture_and_refuses_junk() {
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/clip.mp4");
        let d = duration(&fixture).expect("the fixture's duration");
        assert!((d.as_secs_f64() - 1.0).abs() < 0.05, "{d:?}");
        let dir = tempfile::tempdir().unwrap();
        for (name, bytes) in [
            ("empty", &b""[..]),
            ("text", &b"hello, this is not a video at all"[..]),
            ("loop", &[0, 0, 0, 0, b'm', b'o', b'o', b'v'][..]),
            ("short", &[0, 0, 0, 200, b'm', b'o', b'o', b'v', 0, 0][..]),
        ] {
            let p = dir.path().join(name);
            std::fs::write(&p, bytes).unwrap();
            assert_eq!(duration(&p), None, "{name}");
        }
    }
}
