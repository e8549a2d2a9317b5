//! The progress bar `kt bench` draws on a terminal (stderr), and number formatting.
//!
//! Off a terminal nothing is drawn: benchmark logs and scripts get only the summary.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Redraws a bar from a shared counter until dropped.
#[derive(Debug)]
pub(crate) struct Progress {
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Progress {
    /// Starts drawing `label` with `done` out of `total` when stderr is a terminal.
    pub(crate) fn start(label: &'static str, done: Arc<AtomicU64>, total: u64) -> Progress {
        if !std::io::stderr().is_terminal() {
            return Progress { task: None };
        }
        let started = Instant::now();
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(100));
            loop {
                tick.tick().await;
                let line = bar(
                    label,
                    done.load(Ordering::Relaxed),
                    total,
                    started.elapsed(),
                );
                let mut err = std::io::stderr().lock();
                let _ = write!(err, "\r{line}\x1b[K");
                let _ = err.flush();
            }
        });
        Progress { task: Some(task) }
    }

    /// Stops drawing and clears the line.
    pub(crate) fn finish(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[K");
            let _ = err.flush();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.stop();
    }
}

/// `label [=====>    ]  45%  450,000/1,000,000  1,234,567 rec/s`
fn bar(label: &str, done: u64, total: u64, elapsed: Duration) -> String {
    const WIDTH: u64 = 30;
    let total = total.max(1);
    let done = done.min(total);
    let filled = done * WIDTH / total;
    let mut b = String::with_capacity(WIDTH as usize + 2);
    for i in 0..WIDTH {
        b.push(if i < filled {
            '='
        } else if i == filled {
            '>'
        } else {
            ' '
        });
    }
    let rate = done as f64 / elapsed.as_secs_f64().max(1e-9);
    format!(
        "{label} [{b}] {:>3}%  {}/{}  {} rec/s",
        done * 100 / total,
        thousands(done),
        thousands(total),
        thousands(rate as u64)
    )
}

/// `1234567` -> `1,234,567`.
pub(crate) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_bar() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
        let b = bar("produce", 50, 100, Duration::from_secs(1));
        assert!(b.starts_with("produce [===============>"), "{b}");
        assert!(b.contains(" 50%  50/100  50 rec/s"), "{b}");
        assert!(bar("x", 0, 0, Duration::ZERO).contains("0%"));
    }
}
