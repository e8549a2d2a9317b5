//! Helpers for the fault tests that run `kt` as real processes: a process whose stderr is
//! collected line by line (and which is SIGKILLed when dropped), `kt broker` on a free or a
//! given port, topics, and the published directories of `kt stream save`.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

pub(crate) const KT: &str = env!("CARGO_BIN_EXE_kt");
/// How long any condition is waited for before a test fails.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(90);

/// A `kt` process; SIGKILLed when dropped. Its stderr lines go to a channel (for `wait_for`)
/// and are also kept whole (for `log`).
pub(crate) struct Proc {
    pub(crate) child: Child,
    lines: mpsc::Receiver<String>,
    log: Arc<Mutex<Vec<String>>>,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `kt ARGS` with `env` added.
pub(crate) fn spawn(args: &[&str], env: &[(&str, &str)]) -> Proc {
    let mut cmd = Command::new(KT);
    cmd.args(args).stdout(Stdio::null()).stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("start kt");
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    let log = Arc::new(Mutex::new(Vec::new()));
    let keep = Arc::clone(&log);
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            keep.lock().unwrap().push(line.clone());
            let _ = tx.send(line);
        }
    });
    Proc {
        child,
        lines: rx,
        log,
    }
}

impl Proc {
    /// Waits for a stderr line containing `needle` and returns it.
    pub(crate) fn wait_for(&self, needle: &str) -> String {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return line,
                Ok(_) => {}
                Err(e) => panic!(
                    "no stderr line with {needle:?} ({e}); stderr so far:\n{}",
                    self.log().join("\n")
                ),
            }
        }
    }

    /// Every stderr line so far.
    pub(crate) fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// True while the process runs.
    pub(crate) fn running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// SIGTERM, then waits for a clean exit (status 0).
    pub(crate) fn terminate(mut self) {
        let term = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(term.success());
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(
                    status.success(),
                    "graceful stop exits 0: {status:?}; stderr:\n{}",
                    self.log().join("\n")
                );
                return;
            }
            assert!(Instant::now() < deadline, "no exit after SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends `signal` (`STOP`, `CONT`, ...) with kill(1).
    pub(crate) fn signal(&self, signal: &str) {
        let sent = Command::new("kill")
            .args([&format!("-{signal}"), &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success(), "kill -{signal}");
    }

    /// SIGKILL (`kill -9`) and reap.
    pub(crate) fn sigkill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

/// `kt broker --listen LISTEN EXTRA...`; returns the process and the address it printed.
pub(crate) fn start_broker(listen: &str, extra: &[&str]) -> (Proc, String) {
    let mut args = vec!["broker", "--listen", listen];
    args.extend_from_slice(extra);
    let broker = spawn(&args, &[]);
    let line = broker.wait_for("kt broker listening on ");
    let addr = line
        .split("kt broker listening on ")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    (broker, addr)
}

pub(crate) fn create_topic(bootstrap: &str, topic: &str, partitions: u32) {
    let out = Command::new(KT)
        .args(["-b", bootstrap, "topic", "create", topic, "--partitions"])
        .arg(partitions.to_string())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Every line of every published `STEM-<ms>` directory in `dir`, and the staged ones' names.
pub(crate) fn outputs(dir: &Path, stem: &str) -> (Vec<String>, Vec<String>) {
    let mut lines = Vec::new();
    let mut staged = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return (lines, staged);
    };
    for e in entries {
        let e = e.unwrap();
        let name = e.file_name().to_string_lossy().into_owned();
        if name.ends_with(".staged") {
            staged.push(name);
            continue;
        }
        let Some(ms) = name.strip_prefix(&format!("{stem}-")) else {
            continue;
        };
        if ms.parse::<i64>().is_err() {
            continue;
        }
        // A published directory is complete (renamed into place whole): its part and the
        // _SUCCESS marker, nothing else.
        let mut files: Vec<String> = std::fs::read_dir(e.path())
            .unwrap()
            .map(|f| f.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        files.sort();
        assert_eq!(files, ["_SUCCESS", "part-00000"], "{name}");
        let part = std::fs::read_to_string(e.path().join("part-00000")).unwrap();
        lines.extend(part.lines().map(str::to_owned));
    }
    (lines, staged)
}

/// Polls until `done` holds (or panics after the timeout, naming `what`).
pub(crate) fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + TIMEOUT;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}
