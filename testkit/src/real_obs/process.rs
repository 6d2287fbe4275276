//! The processes of a [`RealObs`]: its Xvfb and OBS itself (chrooted in a private mount
//! namespace), each leading its own process group so that stopping kills the whole group.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::{RealObs, COLLECTION, PROFILE};

impl RealObs {
    pub(super) fn start_xvfb(&mut self) -> Result<(), String> {
        let log = self.log_file("xvfb.log")?;
        let mut child = group_command("Xvfb")
            .args([
                "-displayfd",
                "1",
                "-screen",
                "0",
                "1280x720x24",
                "-nolisten",
                "tcp",
                "-noreset",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("Xvfb: {e}"))?;
        let stdout = child.stdout.take().expect("piped stdout");
        // `-displayfd` writes the display number once the server accepts clients.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(Duration::from_secs(15)).unwrap_or_default();
        let number = line.trim();
        if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
            kill_group(child);
            return Err(format!(
                "Xvfb did not report a display; its log:\n{}",
                self.log_tail("xvfb.log")
            ));
        }
        self.display = format!(":{number}");
        self.xvfb = Some(child);
        Ok(())
    }

    pub(super) fn spawn_obs(&mut self) -> Result<(), String> {
        let dir = self.dir.path();
        let log = self.log_file("obs-stdout.log")?;
        let log_err = log.try_clone().map_err(|e| e.to_string())?;
        let port = self.port.to_string();
        // Mounts live in this process's private namespace only and vanish with it.
        const SCRIPT: &str = r#"set -e
R="$1"; shift
mount -t proc proc "$R/proc"
mount --rbind /dev "$R/dev"
mount -t sysfs sys "$R/sys"
mount --rbind /tmp "$R/tmp"
exec chroot "$R" "$@""#;
        let mut cmd = group_command("unshare");
        cmd.args([
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-c",
            SCRIPT,
            "sh",
        ])
        .arg(&self.root)
        .arg("env")
        .arg("-i")
        .arg(format!("HOME={}", dir.display()))
        .arg(format!("XDG_CONFIG_HOME={}", dir.join("config").display()))
        .arg(format!("XDG_RUNTIME_DIR={}", dir.join("run").display()))
        .arg(format!("DISPLAY={}", self.display))
        .args([
            "PATH=/usr/local/bin:/usr/bin:/bin",
            "LANG=C.UTF-8",
            "LIBGL_ALWAYS_SOFTWARE=1",
            "QT_QPA_PLATFORM=xcb",
            "obs",
            "--multi",
            "--disable-updater",
            "--disable-missing-files-check",
            "--disable-shutdown-check",
            "--profile",
            PROFILE,
            "--collection",
            COLLECTION,
            "--websocket_port",
            &port,
            "--websocket_password",
            &self.password,
        ])
        .current_dir("/")
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err);
        let child = cmd.spawn().map_err(|e| format!("unshare: {e}"))?;
        self.obs_pid = child.id();
        self.obs = Some(child);
        self.launches += 1;
        Ok(())
    }
}

/// A process that leads its own process group and gets SIGKILL if the spawning thread dies.
fn group_command(program: &str) -> Command {
    let mut cmd = Command::new(program);
    cmd.process_group(0);
    // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    cmd
}

/// SIGKILLs the child's whole process group and reaps the child.
pub(super) fn kill_group(mut child: Child) {
    // SAFETY: plain syscall; the group id is the child's PID (`process_group(0)`), and the
    // child is not reaped yet, so the id cannot have been reused.
    unsafe { libc::kill(-(child.id() as libc::pid_t), libc::SIGKILL) };
    let _ = child.kill();
    let _ = child.wait();
}

/// A port free on every interface, for obs-websocket.
///
/// The one socket of the kit not bound to 127.0.0.1, on purpose: obs-websocket 5.5 listens on
/// every interface (`ss` shows `*:PORT`) and has no bind-address setting (only `ipv4_only`),
/// so a port free on loopback alone could be taken on another interface and OBS would fail to
/// start. This listener never accepts and is closed before OBS starts.
pub(super) fn free_port() -> Result<u16, String> {
    TcpListener::bind("0.0.0.0:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}

pub(super) fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|p| p.join(tool).is_file()))
        .unwrap_or(false)
}
