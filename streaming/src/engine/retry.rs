//! The retry policy for batch stages.
//!
//! A failed stage is retried with exactly the same inputs — the same offset
//! ranges for a fetch, the same fetched records for the outputs, the same
//! positions for a commit — so a retry never skips or reorders data. After
//! `max_attempts` failures of one stage the engine gives up: it stops
//! without committing the batch and returns the error from the running
//! handle; a restart reads the batch's ranges again (at least once).

use std::time::Duration;

use crate::error::{Stage, StreamingError};
use crate::time::BatchTime;

use super::signal::StopSignal;

/// How often and how patiently a failing batch stage is retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per stage, the first included (at least 1).
    pub max_attempts: u32,
    /// Wait before the first retry; doubles on each further retry.
    pub initial_backoff: Duration,
    /// Upper bound of the wait between retries.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    /// 5 attempts, waiting 200 ms, 400 ms, 800 ms, 1.6 s in between.
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(10),
        }
    }
}

impl RetryPolicy {
    /// The wait after the `failures`-th failure (1-based).
    pub fn backoff(&self, failures: u32) -> Duration {
        let factor = 2u32.saturating_pow(failures.saturating_sub(1));
        self.initial_backoff
            .saturating_mul(factor)
            .min(self.max_backoff)
    }
}

/// Attempt bookkeeping for one stage of one batch.
#[derive(Debug)]
pub(crate) struct Attempts {
    policy: RetryPolicy,
    stage: Stage,
    batch_time: BatchTime,
    failures: u32,
}

impl Attempts {
    pub(crate) fn new(policy: RetryPolicy, stage: Stage, batch_time: BatchTime) -> Self {
        Attempts {
            policy,
            stage,
            batch_time,
            failures: 0,
        }
    }

    /// Failed attempts so far.
    pub(crate) fn failures(&self) -> u32 {
        self.failures
    }

    /// 1-based number of the attempt about to run.
    pub(crate) fn attempt(&self) -> u32 {
        self.failures + 1
    }

    /// Records a failure: waits the backoff (abandoned by `Stop::Now`) when
    /// another attempt is allowed, or returns the final error.
    pub(crate) async fn failed(
        &mut self,
        error: StreamingError,
        stop: &mut StopSignal,
    ) -> Result<(), StreamingError> {
        if matches!(error, StreamingError::Cancelled) {
            return Err(error);
        }
        self.failures += 1;
        if self.failures >= self.policy.max_attempts.max(1) {
            return Err(StreamingError::BatchFailed {
                batch_time: self.batch_time,
                stage: self.stage,
                attempts: self.failures,
                source: Box::new(error),
            });
        }
        let wait = self.policy.backoff(self.failures);
        tracing::warn!(
            "batch {}: {} attempt {} failed, retrying in {wait:?}: {error}",
            self.batch_time,
            self.stage,
            self.failures
        );
        stop.unless_now(tokio::time::sleep(wait)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let p = RetryPolicy {
            max_attempts: 10,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(500),
        };
        let waits: Vec<_> = (1..=5).map(|n| p.backoff(n).as_millis()).collect();
        assert_eq!(waits, vec![100, 200, 400, 500, 500]);
        assert_eq!(p.backoff(u32::MAX), Duration::from_millis(500));
    }
}
