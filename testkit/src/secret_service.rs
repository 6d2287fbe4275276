//! A real Secret Service for tests: GNOME Keyring (`gnome-keyring-daemon`, Debian's
//! `gnome-keyring`) on a private D-Bus session bus of its own (`dbus-daemon`), with a fresh
//! `login` keyring unlocked by a test password. [`SecretService::freeze`] stops the daemon with
//! SIGSTOP, so every call to it waits for an answer that never comes (a keyring left waiting on
//! its unlock prompt). Dropping it stops both processes.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct SecretService {
    dir: tempfile::TempDir,
    bus: Child,
    keyring: Child,
    address: String,
}

impl SecretService {
    /// Starts the bus and the keyring; `Err(reason)` when they are not installed.
    pub fn start() -> Result<SecretService, String> {
        for tool in ["dbus-daemon", "gnome-keyring-daemon", "secret-tool"] {
            if which(tool).is_none() {
                return Err(format!(
                    "{tool} is not installed (scripts/setup.sh installs it)"
                ));
            }
        }
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let socket = dir.path().join("bus");
        let mut bus = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--print-address=1"])
            .arg(format!("--address=unix:path={}", socket.display()))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("dbus-daemon: {e}"))?;
        let mut line = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(bus.stdout.take().expect("piped")),
            &mut line,
        )
        .map_err(|e| e.to_string())?;
        let address = line.trim().to_string();
        let data = dir.path().join("data");
        std::fs::create_dir_all(&data).map_err(|e| e.to_string())?;
        let mut keyring = Command::new("gnome-keyring-daemon")
            .args(["--foreground", "--unlock", "--components=secrets"])
            .env("DBUS_SESSION_BUS_ADDRESS", &address)
            .env("XDG_DATA_HOME", &data)
            .env("XDG_RUNTIME_DIR", dir.path())
            .env("HOME", dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("gnome-keyring-daemon: {e}"))?;
        // The login keyring's password, as PAM would hand it over.
        let mut stdin = keyring.stdin.take().expect("piped");
        stdin
            .write_all(b"streamcue-test")
            .map_err(|e| e.to_string())?;
        drop(stdin);
        let service = SecretService {
            dir,
            bus,
            keyring,
            address,
        };
        // Ready once a secret can be stored and read back (the login keyring exists).
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if service.store_and_read_back() {
                return Ok(service);
            }
            if Instant::now() > deadline {
                return Err("gnome-keyring-daemon did not answer within 20 s".into());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The bus address, for `DBUS_SESSION_BUS_ADDRESS`.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// Where the keyring files are.
    pub fn keyring_dir(&self) -> PathBuf {
        self.dir.path().join("data/keyrings")
    }

    /// The secret stored with these attributes (`secret-tool lookup`), if any.
    pub fn lookup(&self, attributes: &[&str]) -> Option<String> {
        let mut args = vec!["lookup"];
        args.extend_from_slice(attributes);
        self.secret_tool(&args).filter(|s| !s.is_empty())
    }

    /// Stops the daemon (SIGSTOP): calls to it wait for ever.
    pub fn freeze(&self) {
        signal(self.keyring.id(), "-STOP");
    }

    /// Lets it run again (SIGCONT).
    pub fn thaw(&self) {
        signal(self.keyring.id(), "-CONT");
    }

    fn store_and_read_back(&self) -> bool {
        let stored = Command::new("timeout")
            .args([
                "5",
                "secret-tool",
                "store",
                "--label=ready",
                "service",
                "testkit-ready",
            ])
            .env("DBUS_SESSION_BUS_ADDRESS", &self.address)
            .stdin(Stdio::piped())
            .spawn()
            .and_then(|mut c| {
                c.stdin.take().expect("piped").write_all(b"yes")?;
                c.wait()
            })
            .is_ok_and(|s| s.success());
        stored && self.lookup(&["service", "testkit-ready"]).as_deref() == Some("yes")
    }

    fn secret_tool(&self, args: &[&str]) -> Option<String> {
        let out = Command::new("timeout")
            .arg("5")
            .arg("secret-tool")
            .args(args)
            .env("DBUS_SESSION_BUS_ADDRESS", &self.address)
            .output()
            .ok()?;
        // `search` and `lookup` exit 1 when nothing matches: still an answer.
        matches!(out.status.code(), Some(0 | 1))
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    }
}

impl Drop for SecretService {
    fn drop(&mut self) {
        self.thaw();
        for child in [&mut self.keyring, &mut self.bus] {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn signal(pid: u32, sig: &str) {
    let _ = Command::new("kill").args([sig, &pid.to_string()]).status();
}

fn which(tool: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| Path::new(d).join(tool))
        .find(|p| p.is_file())
}
