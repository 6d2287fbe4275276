//! Running the external programs StreamCue relies on (ffmpeg, ffprobe, streamlink).
//!
//! One place decides how a program is started and what its failures mean, so every caller
//! gets the same guarantees:
//!
//! * stdin is closed (`/dev/null`): a program never waits for a key press;
//! * the child is killed when its future is dropped (`kill_on_drop`), so a timeout or a
//!   cancelled caller never leaves a process behind;
//! * on Linux the child gets SIGTERM when StreamCue dies, even by SIGKILL
//!   (`PR_SET_PDEATHSIG`): no ffmpeg keeps writing after a crash. (The signal follows the
//!   thread that started the child; children are started from the engine's own thread, which
//!   lives as long as StreamCue.)
//! * [`run`] and [`Invocation::output`] bound the **whole** run (start to exit, output
//!   included) by a timeout;
//! * a program that cannot be found is [`ToolError::Missing`], whose text names the install
//!   command the caller gave in its [`Tool`]; other start failures keep their `io::Error`.
//!
//! Callers map [`ToolError`] to their own error types (their texts are what the streamer
//! reads). A long-running child (streamlink's recording) is started with
//! [`Invocation::spawn`] and supervised by its caller.

use std::ffi::OsStr;
use std::path::Path;
use std::process::{Output, Stdio};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::{Child, Command};

/// A program StreamCue runs, as the streamer knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tool {
    /// Its name in messages (`"ffmpeg"`), whatever path is actually run.
    pub name: &'static str,
    /// What to do when it is missing, e.g. `"sudo apt install ffmpeg"`.
    pub install_hint: &'static str,
}

/// Why a program did not run to completion. (Its exit status is the caller's business.)
#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    /// The program is not there (`ENOENT`).
    #[error("{tool} is not installed: {install_hint}")]
    Missing {
        tool: &'static str,
        program: String,
        install_hint: &'static str,
    },
    /// It exists but could not be started (not executable, bad format, ...).
    #[error("cannot start {tool}: {program}: {}", start_problem(source))]
    CannotStart {
        tool: &'static str,
        program: String,
        source: std::io::Error,
    },
    /// It did not finish in time (it has been killed).
    #[error("{tool} took longer than {} s", after.as_secs_f64())]
    Timeout { tool: &'static str, after: Duration },
    /// Waiting for it or reading its output failed.
    #[error("lost track of {tool}: {source}")]
    Wait {
        tool: &'static str,
        source: std::io::Error,
    },
}

impl ToolError {
    /// Whether a start failure is "permission denied" (the file is not executable).
    pub fn is_permission_denied(&self) -> bool {
        matches!(self, ToolError::CannotStart { source, .. }
            if source.kind() == std::io::ErrorKind::PermissionDenied)
    }
}

fn start_problem(e: &std::io::Error) -> String {
    if e.kind() == std::io::ErrorKind::PermissionDenied {
        "permission denied (is it executable?)".into()
    } else {
        e.to_string()
    }
}

/// Runs `program` (a name on `PATH` or a path) with `args` to completion within `timeout`,
/// capturing stdout and stderr.
pub async fn run<I, S>(
    tool: Tool,
    program: &str,
    args: I,
    timeout: Duration,
) -> Result<Output, ToolError>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    Invocation::new(tool, program)
        .args(args)
        .output(timeout)
        .await
}

/// One run of a program, configured before it starts.
pub struct Invocation {
    tool: Tool,
    program: String,
    command: Command,
}

impl Invocation {
    pub fn new(tool: Tool, program: &str) -> Self {
        let mut command = Command::new(program);
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        #[cfg(target_os = "linux")]
        {
            let parent = std::process::id() as libc::pid_t;
            // SAFETY: only async-signal-safe calls (prctl, getppid) run between fork and exec.
            unsafe {
                command.pre_exec(move || {
                    if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    // StreamCue died before the prctl took effect: do not run at all.
                    if libc::getppid() != parent {
                        return Err(std::io::Error::other("StreamCue has exited"));
                    }
                    Ok(())
                });
            }
        }
        Self {
            tool,
            program: program.to_string(),
            command,
        }
    }

    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.command.arg(arg);
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.command.args(args);
        self
    }

    /// Runs it in `dir` (relative paths in its arguments are then relative to `dir`).
    pub fn current_dir(mut self, dir: &Path) -> Self {
        self.command.current_dir(dir);
        self
    }

    /// Makes it lead its own process group (unix), so a Ctrl-C in our terminal reaches only
    /// us, and a signal to the group also reaches the program's own children.
    pub fn own_process_group(mut self) -> Self {
        #[cfg(unix)]
        self.command.process_group(0);
        self
    }

    /// Starts it and hands the child over (stdout and stderr piped; killed when dropped).
    pub fn spawn(mut self) -> Result<Child, ToolError> {
        let (tool, program) = (self.tool, self.program);
        self.command
            .spawn()
            .map_err(|source| start_error(tool, program, source))
    }

    /// Runs it to completion within `timeout`, capturing its output.
    pub async fn output(self, timeout: Duration) -> Result<Output, ToolError> {
        let tool = self.tool.name;
        let child = self.spawn()?;
        // On timeout the child is dropped, and `kill_on_drop` ends it.
        match tokio::time::timeout(timeout, child.wait_with_output()).await {
            Err(_) => Err(ToolError::Timeout {
                tool,
                after: timeout,
            }),
            Ok(Err(source)) => Err(ToolError::Wait { tool, source }),
            Ok(Ok(output)) => Ok(output),
        }
    }

    /// Runs it to completion within `timeout`, handing each stdout line to `on_line` as it
    /// comes (progress reports); the returned `Output` has stderr, and an empty stdout.
    pub async fn output_by_line(
        self,
        timeout: Duration,
        on_line: &mut (dyn FnMut(&str) + Send),
    ) -> Result<Output, ToolError> {
        let tool = self.tool.name;
        let mut child = self.spawn()?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut stderr = child.stderr.take().expect("stderr is piped");
        let run = async {
            let errors = async {
                let mut bytes = Vec::new();
                stderr.read_to_end(&mut bytes).await.map(|_| bytes)
            };
            let lines = async {
                let mut lines = BufReader::new(stdout).lines();
                while let Some(line) = lines.next_line().await? {
                    on_line(&line);
                }
                Ok::<(), std::io::Error>(())
            };
            let (stderr, lines) = tokio::join!(errors, lines);
            // A line that is not UTF-8 ends the reading, not the run.
            let _ = lines;
            let stderr = stderr.unwrap_or_default();
            let status = child.wait().await?;
            Ok::<Output, std::io::Error>(Output {
                status,
                stdout: Vec::new(),
                stderr,
            })
        };
        match tokio::time::timeout(timeout, run).await {
            Err(_) => Err(ToolError::Timeout {
                tool,
                after: timeout,
            }),
            Ok(Err(source)) => Err(ToolError::Wait { tool, source }),
            Ok(Ok(output)) => Ok(output),
        }
    }
}

fn start_error(tool: Tool, program: String, source: std::io::Error) -> ToolError {
    match source.kind() {
        std::io::ErrorKind::NotFound => ToolError::Missing {
            tool: tool.name,
            program,
            install_hint: tool.install_hint,
        },
        _ => ToolError::CannotStart {
            tool: tool.name,
            program,
            source,
        },
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    const SH: Tool = Tool {
        name: "sh",
        install_hint: "it comes with the system",
    };

    /// Re-run as a "StreamCue" that starts `sleep 60` through `Invocation` and is then killed
    /// with SIGKILL: the sleep must end with it.
    #[test]
    fn a_child_dies_with_streamcue_even_by_sigkill() {
        const CHILD_ENV: &str = "STREAMCUE_TEST_PDEATHSIG_PIDFILE";
        if let Ok(pid_file) = std::env::var(CHILD_ENV) {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                let child = Invocation::new(SH, "sleep").arg("60").spawn().unwrap();
                std::fs::write(&pid_file, child.id().unwrap().to_string()).unwrap();
                std::future::pending::<()>().await;
            });
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("sleep.pid");
        let mut app = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "tools::tests::a_child_dies_with_streamcue_even_by_sigkill",
                "--nocapture",
            ])
            .env(CHILD_ENV, &pid_file)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        let sleep_pid = loop {
            if let Some(pid) = std::fs::read_to_string(&pid_file)
                .ok()
                .and_then(|t| t.trim().parse::<u32>().ok())
            {
                break pid;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the child never started"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        app.kill().unwrap(); // SIGKILL
        app.wait().unwrap();
        let alive = |pid: u32| {
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|s| s.rsplit_once(')').map(|(_, r)| r.trim_start().to_string()))
                .is_some_and(|r| !r.starts_with('Z'))
        };
        let deadline = std::time::Instant::now() + Duration::from_secs(3);
        while alive(sleep_pid) {
            assert!(
                std::time::Instant::now() < deadline,
                "sleep {sleep_pid} outlived the SIGKILLed app by 3 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    #[tokio::test]
    async fn runs_to_completion_and_captures_output() {
        let out = run(
            SH,
            "sh",
            ["-c", "echo out; echo err >&2; exit 3"],
            Duration::from_secs(10),
        )
        .await
        .unwrap();
        assert_eq!(out.status.code(), Some(3));
        assert_eq!(out.stdout, b"out\n");
        assert_eq!(out.stderr, b"err\n");
    }

    #[tokio::test]
    async fn a_missing_program_names_the_install_command() {
        let err = run(SH, "/nonexistent/sh", ["-c", ":"], Duration::from_secs(10))
            .await
            .unwrap_err();
        assert!(
            matches!(err, ToolError::Missing { tool: "sh", .. }),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            "sh is not installed: it comes with the system"
        );
    }

    #[tokio::test]
    async fn a_non_executable_file_is_not_missing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plain");
        std::fs::write(&path, "not a program").unwrap();
        let program = path.to_string_lossy().into_owned();
        let err = run(SH, &program, [""; 0], Duration::from_secs(10))
            .await
            .unwrap_err();
        assert!(err.is_permission_denied(), "{err:?}");
        assert_eq!(
            err.to_string(),
            format!("cannot start sh: {program}: permission denied (is it executable?)")
        );
    }

    #[tokio::test]
    async fn the_timeout_covers_the_whole_run_and_kills_it() {
        let started = std::time::Instant::now();
        let err = run(SH, "sh", ["-c", "sleep 30"], Duration::from_millis(200))
            .await
            .unwrap_err();
        assert!(
            matches!(err, ToolError::Timeout { tool: "sh", .. }),
            "{err:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(10));

        let mut lines = Vec::new();
        let err = Invocation::new(SH, "sh")
            .args(["-c", "echo one; sleep 30"])
            .output_by_line(Duration::from_millis(500), &mut |l| {
                lines.push(l.to_string())
            })
            .await
            .unwrap_err();
        assert!(matches!(err, ToolError::Timeout { .. }), "{err:?}");
        assert_eq!(lines, ["one"]);
    }

    #[tokio::test]
    async fn lines_arrive_one_by_one_in_the_given_folder() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("f.txt"), "a\nb\n").unwrap();
        let mut lines = Vec::new();
        let out = Invocation::new(SH, "sh")
            .args(["-c", "cat f.txt; echo oops >&2"])
            .current_dir(dir.path())
            .output_by_line(Duration::from_secs(10), &mut |l| lines.push(l.to_string()))
            .await
            .unwrap();
        assert!(out.status.success());
        assert_eq!(lines, ["a", "b"]);
        assert!(out.stdout.is_empty());
        assert_eq!(out.stderr, b"oops\n");
    }
}
