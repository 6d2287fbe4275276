//! A small tmpfs mounted on a temporary folder: a disk that really fills up, or really is
//! read-only, for the tests of disk trouble. Mounting needs root (CAP_SYS_ADMIN); where the
//! tests cannot mount, [`Tmpfs::mount`] says why and the caller skips with that reason.
//! Dropping it unmounts (lazily, so an open file cannot keep it) and removes the folder.

use std::path::{Path, PathBuf};
use std::process::Command;

pub struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    /// Mounts a tmpfs of `bytes` on a fresh temporary folder.
    pub fn mount(bytes: u64) -> Result<Tmpfs, String> {
        let dir = tempfile::tempdir().map_err(|e| format!("no temp folder: {e}"))?;
        run(&[
            "mount",
            "-t",
            "tmpfs",
            "-o",
            &format!("size={bytes},mode=0755"),
            "tmpfs",
            &dir.path().display().to_string(),
        ])
        .map_err(|e| format!("cannot mount a tmpfs here (root is needed): {e}"))?;
        Ok(Tmpfs { dir })
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Remounts it read-only (or writable again).
    pub fn set_read_only(&self, read_only: bool) {
        let opt = if read_only {
            "remount,ro"
        } else {
            "remount,rw"
        };
        run(&["mount", "-o", opt, &self.path().display().to_string()]).expect("remount");
    }

    /// Fills it with one file until the disk is full; returns that file (remove it to free
    /// the space again).
    pub fn fill(&self) -> PathBuf {
        use std::io::Write;
        let filler = self.path().join("filler.bin");
        let mut f = std::fs::File::create(&filler).expect("create the filler");
        let block = vec![0xA5u8; 64 * 1024];
        loop {
            match f.write(&block) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::StorageFull => break,
                Err(e) => panic!("filling the tmpfs: {e}"),
            }
        }
        // The last partial block: fill the space to the last byte.
        let mut small = [0u8; 512];
        while f.write(&small[..]).is_ok_and(|n| n > 0) {
            small[0] = small[0].wrapping_add(1);
        }
        filler
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = run(&["umount", "-l", &self.path().display().to_string()]);
    }
}

fn run(args: &[&str]) -> Result<(), String> {
    let out = Command::new(args[0])
        .args(&args[1..])
        .output()
        .map_err(|e| format!("{}: {e}", args[0]))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    }
}
