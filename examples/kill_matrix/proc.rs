//! The driver's side of a child process: this binary re-executed with a mode flag, its stdout
//! read line by line on a task (every line kept with when it arrived, so nothing is missed
//! between two waits), its stdin for commands, SIGKILL, and bounded waits for everything.

use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};

/// A line the child printed, and when the driver read it.
#[derive(Clone, Debug)]
pub struct Line {
    pub at: Instant,
    pub words: Vec<String>,
}

impl Line {
    pub fn word(&self, i: usize) -> &str {
        self.words.get(i).map_or("", String::as_str)
    }
    pub fn num(&self, i: usize) -> i64 {
        self.word(i).parse().unwrap_or(-1)
    }
}

pub struct Proc {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Arc<Mutex<Vec<Line>>>,
    /// Lines before this index were consumed by [`Proc::wait_line`].
    cursor: usize,
    pub pid: u32,
}

impl Proc {
    /// Starts `<this binary> <args>`; stderr goes to the driver's stderr (the log).
    pub fn spawn(args: &[String], log_dir: Option<&Path>) -> Result<Proc, String> {
        let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
        let mut cmd = Command::new(exe);
        cmd.args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        if log_dir.is_some() {
            cmd.env("RUST_LOG", "info,sqlx=warn");
        }
        let mut child = cmd.spawn().map_err(|e| format!("spawn {args:?}: {e}"))?;
        let pid = child.id().unwrap_or(0);
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        tokio::spawn(async move {
            let mut reader = BufReader::new(stdout).lines();
            while let Ok(Some(l)) = reader.next_line().await {
                let words = l.split_whitespace().map(str::to_string).collect();
                let line = Line {
                    at: Instant::now(),
                    words,
                };
                sink.lock().unwrap_or_else(|p| p.into_inner()).push(line);
            }
        });
        Ok(Proc {
            child,
            stdin,
            lines,
            cursor: 0,
            pid,
        })
    }

    /// Every line so far (consumed or not).
    pub fn all(&self) -> Vec<Line> {
        self.lines.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub async fn send(&mut self, cmd: &str) -> bool {
        let Some(stdin) = self.stdin.as_mut() else {
            return false;
        };
        let wrote = stdin.write_all(format!("{cmd}\n").as_bytes()).await;
        wrote.is_ok() && stdin.flush().await.is_ok()
    }

    /// The next unconsumed line (after the cursor) for which `pred` holds; consumes up to it.
    pub async fn wait_line(
        &mut self,
        limit: Duration,
        pred: impl Fn(&Line) -> bool,
    ) -> Option<Line> {
        let deadline = Instant::now() + limit;
        loop {
            {
                let lines = self.lines.lock().unwrap_or_else(|p| p.into_inner());
                if let Some(k) = lines[self.cursor..].iter().position(&pred) {
                    self.cursor += k + 1;
                    return Some(lines[self.cursor - 1].clone());
                }
            }
            if Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Waits for a line starting with `first`.
    pub async fn wait_word(&mut self, limit: Duration, first: &str) -> Option<Line> {
        self.wait_line(limit, |l| l.word(0) == first).await
    }

    /// SIGKILL, then reaps it (at most 5 s). Returns when the kill was sent.
    pub async fn sigkill(&mut self) -> Instant {
        let at = Instant::now();
        // SAFETY: kill(2) on our own child's pid, which is not reaped yet (so not reused).
        unsafe {
            libc::kill(self.pid as i32, libc::SIGKILL);
        }
        let _ = tokio::time::timeout(Duration::from_secs(5), self.child.wait()).await;
        at
    }

    /// `QUIT`, then waits for the exit (at most `limit`; SIGKILL after that). Whether it
    /// stopped by itself.
    pub async fn quit(&mut self, limit: Duration) -> bool {
        self.send("QUIT").await;
        self.stdin = None;
        match tokio::time::timeout(limit, self.child.wait()).await {
            Ok(Ok(status)) => status.success(),
            _ => {
                self.sigkill().await;
                false
            }
        }
    }
}

/// Starts an engine child on `dir` and waits for its `READY` (at most 60 s: a cold start on a
/// busy machine plus chat). The `RETRIED n` count is returned with it.
pub async fn start_engine(
    dir: &Path,
    irc: &str,
    generator: &str,
    obs: Option<(u16, &str)>,
) -> Result<(Proc, i64), String> {
    let mut args = vec![
        "--engine".to_string(),
        dir.display().to_string(),
        irc.to_string(),
        generator.to_string(),
    ];
    if let Some((port, pw)) = obs {
        args.push(port.to_string());
        args.push(pw.to_string());
    }
    let mut p = Proc::spawn(&args, Some(dir))?;
    let retried = p.wait_word(Duration::from_secs(60), "RETRIED").await;
    let ready = p.wait_word(Duration::from_secs(60), "READY").await;
    match (retried, ready) {
        (Some(r), Some(_)) => Ok((p, r.num(1))),
        _ => {
            p.sigkill().await;
            Err("the engine child did not say READY within 60 s".into())
        }
    }
}
