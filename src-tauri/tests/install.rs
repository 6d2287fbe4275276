//! The install test: StreamCue's .deb installs into a clean Debian 12, runs, makes a clip, and
//! uninstalls without touching the streamer's data.
//!
//! 1. `scripts/package.sh --debug --no-build` packages the debug build this test run was built
//!    with (the binary the window tests drive; a release package only differs by the profile).
//! 2. A throwaway view of the cached Debian 12 root (`scripts/deb-root.sh`: debootstrap minbase,
//!    never any StreamCue in it): an overlay whose upper layer is this run's temp dir, mounted
//!    in a private mount namespace per command, so the cached root stays clean and nothing
//!    stays mounted. `apt-get install --no-install-recommends ./streamcue_….deb` must resolve
//!    and install the package's dependencies (WebKitGTK 4.1, ffmpeg, …) by itself; then the
//!    installed files are checked (binary, desktop entry, icons, every library found).
//! 3. Test tools only: WebKitWebDriver (`webkit2gtk-driver`) is installed next; it must add
//!    nothing but itself, so the app runs with exactly what its package brought. tauri-driver
//!    stays on the host and starts WebKitWebDriver inside the root through a wrapper script.
//! 4. As a normal user (`streamer`) on a private Xvfb, `/usr/bin/streamcue` is started and
//!    driven through its window: Demo → Connect, wait for a viewer's `!anime` request, Approve,
//!    wait until the offline generator (the root's ffmpeg) made the clip; ffprobe checks it.
//! 5. `apt-get remove streamcue` removes the app and leaves the data dir (database, clips) and
//!    the config byte for byte as they were.
//!
//! Needs root (apt-get, chroot, mount namespaces), `unshare`, `chroot`, `Xvfb`, `tauri-driver`,
//! the Tauri CLI (`scripts/setup.sh`) and a ready root (`scripts/deb-root.sh`). Outside CI a
//! missing prerequisite skips with a printed reason; under CI (`CI` set) it fails.

use std::fs;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use streamcue_testkit::window::{artifacts_dir, Window};

/// The debug build of this run: what gets packaged.
const APP: &str = env!("CARGO_BIN_EXE_streamcue");
/// Default location of the Debian 12 root (see `scripts/deb-root.sh`).
const DEFAULT_ROOT: &str = "/var/cache/streamcue/deb-bookworm";
const READY_MARKER: &str = ".streamcue-ready";
/// The user who runs the installed app inside the root, and where the app keeps their data.
const USER: &str = "streamer";
const HOME: &str = "/home/streamer";
const DATA_DIR: &str = "/home/streamer/.local/share/streamcue";
const CONFIG_DIR: &str = "/home/streamer/.config/streamcue";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn deb_root() -> PathBuf {
    std::env::var_os("STREAMCUE_DEB_ROOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_ROOT))
}

fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|p| p.join(tool).is_file()))
        .unwrap_or(false)
}

/// `Some(reason)` when the install test cannot run on this machine.
fn missing_prerequisite() -> Option<String> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Some("needs root (apt-get, chroot and mount namespaces in the Debian root)".into());
    }
    for tool in [
        "unshare",
        "chroot",
        "Xvfb",
        "tauri-driver",
        "dpkg-deb",
        "readelf",
    ] {
        if !on_path(tool) {
            return Some(format!("{tool} is not on PATH (run scripts/setup.sh)"));
        }
    }
    if !repo().join("packaging/node_modules/.bin/tauri").exists() {
        return Some("the Tauri CLI is not installed in packaging/ (run scripts/setup.sh)".into());
    }
    let root = deb_root();
    if !root.join(READY_MARKER).is_file() {
        return Some(format!(
            "no Debian 12 root at {} (run scripts/deb-root.sh)",
            root.display()
        ));
    }
    None
}

/// Returns false (after printing why) when the test should be skipped; panics under CI.
fn can_run(test: &str) -> bool {
    match missing_prerequisite() {
        None => true,
        Some(why) if std::env::var_os("CI").is_some() => {
            panic!("{test}: the install test must run in CI but cannot: {why}")
        }
        Some(why) => {
            eprintln!("SKIPPED {test}: {why}");
            false
        }
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs a command to completion; panics with its output unless it succeeded.
fn run_ok(what: &str, cmd: &mut Command) -> String {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot start: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}\n{}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// A shared lock on the root's lock file while the test uses it: `scripts/deb-root.sh` takes
/// it exclusively before it rebuilds or updates the root.
struct RootLock {
    _held: fs::File,
}

impl RootLock {
    fn take(root: &Path) -> RootLock {
        let mut name = root.as_os_str().to_owned();
        name.push(".lock");
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&name)
            .unwrap_or_else(|e| panic!("open {}: {e}", Path::new(&name).display()));
        use std::os::fd::AsRawFd;
        // SAFETY: a valid open descriptor; flock has no other preconditions.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_SH) };
        assert_eq!(rc, 0, "flock {}", Path::new(&name).display());
        RootLock { _held: file }
    }
}

/// This run's view of the Debian root: the cached root as the overlay's lower layer, a temp dir
/// (under /var/tmp) for the upper layer, and scripts that run a command inside it. Each command
/// mounts the view in its own private mount namespace (gone when the command ends), so views
/// are never mounted twice at once as long as commands run one after another.
struct RootView {
    layers: tempfile::TempDir,
    /// Under /tmp, which every command sees at the same path (the .deb, the X socket).
    shared: tempfile::TempDir,
    /// The start of every script: mount the view in a new private mount namespace, then the
    /// script's own `exec chroot …` line.
    prelude: String,
}

impl RootView {
    fn new(lower: &Path) -> RootView {
        remove_leftovers();
        let prefix = format!("{LEFTOVER_PREFIX}{}-", std::process::id());
        let layers = tempfile::Builder::new()
            .prefix(&prefix)
            .tempdir_in("/var/tmp")
            .expect("temp dir under /var/tmp");
        let shared = tempfile::Builder::new()
            .prefix(&prefix)
            .tempdir_in("/tmp")
            .expect("temp dir under /tmp");
        // apt reads the .deb as its unprivileged `_apt` user.
        fs::set_permissions(shared.path(), fs::Permissions::from_mode(0o755)).unwrap();
        for dir in ["upper", "work", "merged"] {
            fs::create_dir(layers.path().join(dir)).unwrap();
        }
        for p in [lower, layers.path(), shared.path()] {
            let s = p.to_str().expect("UTF-8 path");
            assert!(
                s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"/._-".contains(&b)),
                "{s}: the scripts below quote paths by hand"
            );
        }
        let prelude = format!(
            "#!/bin/sh\n\
             # Written by src-tauri/tests/install.rs: runs a command in this run's view of the\n\
             # Debian root, in a private mount namespace that vanishes with the command.\n\
             exec unshare --mount --propagation private /bin/sh -e -c '\n\
             mount -t overlay overlay -o lowerdir={lower},upperdir={layers}/upper,workdir={layers}/work {layers}/merged\n\
             mount -t proc proc {layers}/merged/proc\n\
             mount --rbind /dev {layers}/merged/dev\n\
             mount -t sysfs sys {layers}/merged/sys\n\
             mount --rbind /tmp {layers}/merged/tmp\n",
            lower = lower.display(),
            layers = layers.path().display(),
        );
        let view = RootView {
            layers,
            shared,
            prelude,
        };
        let as_root = format!(
            "{prelude}exec chroot {layers}/merged /usr/bin/env -i \
             PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
             DEBIAN_FRONTEND=noninteractive \"$@\"' sh \"$@\"\n",
            prelude = view.prelude,
            layers = view.layers.path().display(),
        );
        view.write_script("as-root.sh", &as_root);
        view
    }

    fn write_script(&self, name: &str, body: &str) -> PathBuf {
        let path = self.shared.path().join(name);
        fs::write(&path, body).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    /// Runs `args` as root inside the view.
    fn root_cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(self.shared.path().join("as-root.sh"));
        cmd.args(args);
        cmd
    }

    fn root_output(&self, args: &[&str]) -> Output {
        self.root_cmd(args)
            .stdin(Stdio::null())
            .output()
            .expect("run a command in the root")
    }

    /// Runs a shell script as root inside the view; panics unless it succeeds.
    fn sh(&self, what: &str, script: &str) -> String {
        run_ok(what, &mut self.root_cmd(&["/bin/sh", "-e", "-c", script]))
    }

    /// A native-driver wrapper for tauri-driver: WebKitWebDriver inside the view, as `uid:gid`,
    /// on `display`, with the variables tauri-driver sets for it (the webview only allows
    /// automation when `TAURI_WEBVIEW_AUTOMATION` is set) and no others from the host.
    fn webdriver_script(&self, uid: &str, gid: &str, display: &str) -> PathBuf {
        let body = format!(
            "{prelude}exec chroot --userspec={uid}:{gid} {layers}/merged /usr/bin/env -i \
             PATH=/usr/bin:/bin HOME={HOME} USER={USER} LOGNAME={USER} LANG=C.UTF-8 \
             DISPLAY={display} TAURI_WEBVIEW_AUTOMATION=true RUST_LOG=info \
             WebKitWebDriver \"$@\"' sh \"$@\"\n",
            prelude = self.prelude,
            layers = self.layers.path().display(),
        );
        self.write_script("webdriver.sh", &body)
    }
}

/// This run's temp dirs are `<prefix><pid>-…` in /var/tmp (the upper layer: about 1 GB once the
/// package and its dependencies are installed) and /tmp.
const LEFTOVER_PREFIX: &str = "streamcue-install-";

/// Removes the temp dirs of earlier runs whose process is gone (a run killed by a timeout never
/// runs its destructors). Their mounts lived in private namespaces that died with them.
fn remove_leftovers() {
    for parent in ["/var/tmp", "/tmp"] {
        for entry in fs::read_dir(parent).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(pid) = name
                .strip_prefix(LEFTOVER_PREFIX)
                .and_then(|rest| rest.split('-').next())
                .and_then(|pid| pid.parse::<u32>().ok())
            else {
                continue;
            };
            if !Path::new(&format!("/proc/{pid}")).exists() {
                eprintln!("removing {} (its run is gone)", entry.path().display());
                let _ = Command::new("rm")
                    .args(["-rf", "--one-file-system"])
                    .arg(entry.path())
                    .status();
            }
        }
    }
}

/// A private X server (`-displayfd`), killed on drop (and when this test process dies).
struct Xvfb {
    child: Child,
    display: String,
}

impl Xvfb {
    fn start() -> Xvfb {
        let mut cmd = Command::new("Xvfb");
        // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let mut child = cmd
            .args(["-displayfd", "1", "-screen", "0", "1280x800x24"])
            .args(["-nolisten", "tcp", "-noreset"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start Xvfb");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(Duration::from_secs(15)).unwrap_or_default();
        let number = line.trim().to_owned();
        if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
            let _ = child.kill();
            panic!("Xvfb did not report a display");
        }
        Xvfb {
            child,
            display: format!(":{number}"),
        }
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Builds the .deb of this run's debug binary with `scripts/package.sh` and returns its path.
fn package_this_build() -> PathBuf {
    let stdout = run_ok(
        "bash scripts/package.sh --debug --no-build",
        Command::new("bash")
            .args(["scripts/package.sh", "--debug", "--no-build"])
            .current_dir(repo())
            .stderr(Stdio::inherit()),
    );
    let deb = stdout
        .lines()
        .find(|l| l.ends_with(".deb"))
        .unwrap_or_else(|| panic!("package.sh printed no .deb path: {stdout:?}"));
    let deb = PathBuf::from(deb);
    // It packaged the very binary this run built (package.sh finds the target dir itself),
    // without its debug info (the build keeps line tables; packages do not).
    let unpacked = tempfile::tempdir().unwrap();
    run_ok(
        "dpkg-deb -x",
        Command::new("dpkg-deb")
            .arg("-x")
            .arg(&deb)
            .arg(unpacked.path()),
    );
    let packaged = unpacked.path().join("usr/bin/streamcue");
    assert_eq!(
        build_id(&packaged),
        build_id(Path::new(APP)),
        "the package holds another binary than {APP}"
    );
    let sections = run_ok(
        "readelf -S",
        Command::new("readelf").arg("-SW").arg(&packaged),
    );
    assert!(
        !sections.contains(".debug_line") && !sections.contains(".debug_info"),
        "the packaged binary still has debug info:\n{sections}"
    );
    deb
}

/// The GNU build ID of an ELF file (kept when debug info is stripped).
fn build_id(elf: &Path) -> String {
    let notes = run_ok("readelf -n", Command::new("readelf").arg("-n").arg(elf));
    notes
        .lines()
        .find_map(|l| l.trim().strip_prefix("Build ID: "))
        .unwrap_or_else(|| panic!("{} has no build ID:\n{notes}", elf.display()))
        .to_owned()
}

/// `Status` of each package in the view, e.g. "install ok installed" (empty: never installed).
fn statuses(view: &RootView, packages: &[&str]) -> Vec<(String, String)> {
    let mut args = vec!["dpkg-query", "-W", "-f=${Package}\t${Status}\n"];
    args.extend_from_slice(packages);
    // dpkg-query exits 1 when a package is unknown; its answer for the others still counts.
    let out = view.root_output(&args);
    let known = text(&out.stdout);
    packages
        .iter()
        .map(|p| {
            let status = known
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{p}\t")))
                .unwrap_or("")
                .to_owned();
            (p.to_string(), status)
        })
        .collect()
}

/// Every file of the streamer's StreamCue data and config, with its SHA-256.
fn data_snapshot(view: &RootView) -> String {
    view.sh(
        "list the user's data",
        &format!(
            "cd / && find {DATA_DIR} {CONFIG_DIR} -type f -print0 | sort -z | xargs -0 sha256sum"
        ),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_deb_installs_on_a_clean_debian_12_makes_a_clip_and_uninstalls_keeping_the_data() {
    const TEST: &str =
        "the_deb_installs_on_a_clean_debian_12_makes_a_clip_and_uninstalls_keeping_the_data";
    if !can_run(TEST) {
        return;
    }
    let started = Instant::now();
    let phase = |what: &str| eprintln!("install test: {what} ({} s)", started.elapsed().as_secs());

    // 1. The package.
    let deb = package_this_build();
    let fields = run_ok(
        "dpkg-deb -f",
        Command::new("dpkg-deb")
            .arg("-f")
            .arg(&deb)
            .args(["Package", "Depends", "Recommends"]),
    );
    eprintln!("{}: {fields}", deb.display());
    assert!(fields.contains("Package: streamcue\n"), "{fields}");
    let depends = fields
        .lines()
        .find_map(|l| l.strip_prefix("Depends: "))
        .unwrap_or("");
    for dep in ["libwebkit2gtk-4.1-0", "ffmpeg"] {
        assert!(
            depends.split(", ").any(|d| d == dep),
            "Depends lacks {dep}: {fields}"
        );
    }
    assert!(fields.contains("Recommends: streamlink"), "{fields}");
    phase("packaged");

    // 2. A clean Debian 12 where apt installs it and what it depends on.
    let root = deb_root();
    let _lock = RootLock::take(&root);
    let view = RootView::new(&root);
    let before = statuses(
        &view,
        &["streamcue", "libwebkit2gtk-4.1-0", "libgtk-3-0", "ffmpeg"],
    );
    for (p, status) in &before {
        assert_ne!(
            status,
            "install ok installed",
            "{p} is already installed in the clean root {}",
            root.display()
        );
    }
    let deb_in_root = view.shared.path().join(deb.file_name().unwrap());
    fs::copy(&deb, &deb_in_root).unwrap();
    fs::set_permissions(&deb_in_root, fs::Permissions::from_mode(0o644)).unwrap();
    let apt = view.root_output(&[
        "apt-get",
        "install",
        "-y",
        "--no-install-recommends",
        "-o",
        "Dpkg::Use-Pty=0",
        deb_in_root.to_str().unwrap(),
    ]);
    let apt_log = format!("{}{}", text(&apt.stdout), text(&apt.stderr));
    assert!(
        apt.status.success(),
        "apt-get install ./{} failed:\n{apt_log}",
        deb.file_name().unwrap().to_string_lossy()
    );
    let summary = apt_log
        .lines()
        .find(|l| l.contains("newly installed"))
        .unwrap_or("")
        .to_owned();
    eprintln!("apt-get install: {summary}");
    for (p, status) in statuses(
        &view,
        &["streamcue", "libwebkit2gtk-4.1-0", "libgtk-3-0", "ffmpeg"],
    ) {
        assert_eq!(
            status, "install ok installed",
            "{p} after apt-get install:\n{apt_log}"
        );
    }
    // What Recommends names exists in Debian 12 (apt would install it by default).
    run_ok(
        "apt-get -s install streamlink",
        &mut view.root_cmd(&["apt-get", "-s", "install", "streamlink"]),
    );
    phase("installed with its dependencies");

    // What landed on disk: the binary, the menu entry, the icons, every library resolved.
    let files = view.sh(
        "inspect the installed files",
        "stat -c 'binary %a %U:%G' /usr/bin/streamcue
         cat /usr/share/applications/streamcue.desktop
         for s in 32x32 64x64 128x128 256x256 512x512; do
           test -s /usr/share/icons/hicolor/$s/apps/streamcue.png && echo icon $s
         done
         ldd /usr/bin/streamcue | grep 'not found' || echo 'libraries: all found'",
    );
    eprintln!("{files}");
    for line in [
        "binary 755 root:root",
        "Exec=streamcue",
        "Icon=streamcue",
        "Name=StreamCue",
        "Categories=AudioVideo;Video;Network;",
        "icon 32x32",
        "icon 64x64",
        "icon 128x128",
        "icon 256x256",
        "icon 512x512",
        "libraries: all found",
    ] {
        assert!(files.lines().any(|l| l == line), "no {line:?} in:\n{files}");
    }

    // 3. Test tools: WebKitWebDriver, which must bring nothing the app did not already have.
    let tools = view.root_output(&[
        "apt-get",
        "install",
        "-y",
        "--no-install-recommends",
        "-o",
        "Dpkg::Use-Pty=0",
        "webkit2gtk-driver",
    ]);
    let tools_log = format!("{}{}", text(&tools.stdout), text(&tools.stderr));
    assert!(
        tools.status.success(),
        "install webkit2gtk-driver:\n{tools_log}"
    );
    assert!(
        tools_log.contains(" 1 newly installed"),
        "webkit2gtk-driver brought more than itself (the app would not run on its own \
         dependencies alone):\n{tools_log}"
    );
    view.sh(
        "add the streamer's account",
        &format!("useradd --create-home --home-dir {HOME} --shell /bin/sh {USER}"),
    );
    let ids = view.sh(
        "read the streamer's ids",
        &format!("id -u {USER}; id -g {USER}"),
    );
    let mut ids = ids.split_whitespace();
    let (uid, gid) = (ids.next().unwrap(), ids.next().unwrap());
    phase("test tools and user ready");

    // 4. The installed app, driven through its window.
    let x = Xvfb::start();
    let native = view.webdriver_script(uid, gid, &x.display);
    let mut w = Window::launch(
        "/usr/bin/streamcue",
        Some(&native),
        &[],
        &artifacts_dir(),
        "install",
    )
    .await;
    w.until("the idle window", Duration::from_secs(30), || async {
        w.attr_now("#chat-state", "data-state").await.as_deref() == Some("disconnected")
    })
    .await;
    w.click("#source-demo").await;
    w.click("#connect-btn").await;
    w.until("connected to the demo", Duration::from_secs(20), || async {
        w.attr_now("#chat-state", "data-state").await.as_deref() == Some("connected")
    })
    .await;
    // The demo script's first `!anime` request comes about 25 s in.
    w.until(
        "a viewer's request from the demo chat",
        Duration::from_secs(90),
        || async {
            w.attr_now(".queue-item[data-state='pending']", "data-id")
                .await
                .is_some()
        },
    )
    .await;
    let id = w
        .attr_now(".queue-item[data-state='pending']", "data-id")
        .await
        .unwrap();
    let row = format!(".queue-item[data-id='{id}']");
    w.click(&format!("{row} [data-action='approve']")).await;
    w.until(
        "the approved request to become a clip",
        Duration::from_secs(120),
        || async { w.attr_now(&row, "data-state").await.as_deref() == Some("ready") },
    )
    .await;
    let clip = w
        .attr_now(&row, "data-file")
        .await
        .expect("the ready row names its clip");
    assert_eq!(clip, format!("{DATA_DIR}/clips/request-{id}.mp4"));
    w.screenshot("clip-ready").await;
    phase("demo connected, request approved, clip ready");
    w.quit_app().await;
    w.close().await;
    drop(x);

    // The clip plays: ffprobe (the root's, from the ffmpeg the package depends on).
    let probe = view.sh(
        "ffprobe the clip",
        &format!(
            "ffprobe -v error -select_streams v:0 -show_entries \
             stream=codec_name:format=duration -of default=nw=1 {clip}"
        ),
    );
    assert!(probe.contains("codec_name=h264"), "{probe}");
    let duration: f64 = probe
        .lines()
        .find_map(|l| l.strip_prefix("duration="))
        .and_then(|d| d.parse().ok())
        .unwrap_or(0.0);
    assert!(duration > 0.0, "{probe}");

    // 5. Uninstall: the app goes, the streamer's data stays exactly as it was.
    let data_before = data_snapshot(&view);
    eprintln!("the streamer's data before apt-get remove:\n{data_before}");
    for file in [
        format!("{DATA_DIR}/streamcue.db"),
        clip.clone(),
        format!("{CONFIG_DIR}/config.toml"),
    ] {
        assert!(
            data_before
                .lines()
                .any(|l| l.ends_with(&format!("  {file}"))),
            "{file} is missing before the removal:\n{data_before}"
        );
    }
    run_ok(
        "apt-get remove streamcue",
        &mut view.root_cmd(&[
            "apt-get",
            "remove",
            "-y",
            "-o",
            "Dpkg::Use-Pty=0",
            "streamcue",
        ]),
    );
    let status = statuses(&view, &["streamcue"]).remove(0).1;
    assert!(
        status.is_empty() || status.contains("not-installed") || status.starts_with("deinstall"),
        "streamcue after apt-get remove: {status:?}"
    );
    let gone = view.sh(
        "look for the app's files",
        "for f in /usr/bin/streamcue /usr/share/applications/streamcue.desktop \
                  /usr/share/icons/hicolor/512x512/apps/streamcue.png; do
           test -e $f && echo still there: $f
         done; true",
    );
    assert!(gone.trim().is_empty(), "{gone}");
    let data_after = data_snapshot(&view);
    assert_eq!(
        data_after, data_before,
        "apt-get remove changed the streamer's data"
    );
    phase("removed; the data is untouched");
}
