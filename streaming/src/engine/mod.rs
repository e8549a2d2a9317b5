//! The batch loop: waits for each tick, runs the batch, reports it.
//!
//! One engine task per running context. Between batches it sleeps until the
//! next aligned tick (or a stop request); a batch that overruns its interval
//! is followed at once by a batch named after the latest tick missed (see
//! [`due_batch_time`]), so ticks never pile up and no data is skipped — the
//! next batch's ranges simply start where the last one ended.

pub(crate) mod backpressure;
mod batch;
mod commit;
pub(crate) mod plan;
pub(crate) mod retry;
pub(crate) mod signal;

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::checkpoint::Checkpoint;
use crate::error::{Stage, StreamingError};
use crate::graph::{BatchCache, Listener, OutputOp, Shared, StatefulOp};
use crate::report::{BatchReport, OffsetResetEvent};
use crate::running::{RunSummary, StopReason};
use crate::source::{DynSource, InputOptions, TopicPartition};
use crate::time::{AnchoredClock, BatchTime, due_batch_time};

use retry::{Attempts, RetryPolicy};
use signal::{StopSignal, StopState};

/// How long closing a source (leaving the group) may take at shutdown.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(10);

/// One input stream's live state.
pub(crate) struct InputState {
    pub(crate) id: usize,
    pub(crate) name: String,
    pub(crate) source: Box<dyn DynSource>,
    pub(crate) options: InputOptions,
    /// Next offset to read per assigned partition.
    pub(crate) positions: BTreeMap<TopicPartition, i64>,
    /// Resets not yet reported (those made at start go into the first batch's report).
    pub(crate) pending_resets: Vec<OffsetResetEvent>,
    /// Back-pressure estimator, when enabled.
    pub(crate) rate: Option<backpressure::PidEstimator>,
    /// The rate (records/s for the whole input) back-pressure allows now.
    pub(crate) rate_limit: Option<f64>,
}

/// Progress visible to the running handle while the engine runs.
#[derive(Debug, Default)]
pub(crate) struct Progress {
    pub(crate) batches: AtomicU64,
    pub(crate) last_report: Mutex<Option<BatchReport>>,
}

pub(crate) struct Engine {
    pub(crate) interval_ms: i64,
    pub(crate) retry: RetryPolicy,
    pub(crate) max_batches: Option<u64>,
    pub(crate) clock: AnchoredClock,
    pub(crate) inputs: Vec<InputState>,
    /// Internal operations (feeding stateful operators) first, then the user's outputs.
    pub(crate) outputs: Vec<Box<dyn OutputOp>>,
    pub(crate) stateful: Arc<[Arc<dyn StatefulOp>]>,
    pub(crate) checkpoint: Option<Checkpoint>,
    pub(crate) caches: Arc<[Arc<dyn BatchCache>]>,
    pub(crate) listeners: Vec<Listener>,
    pub(crate) shared: Arc<Shared>,
    pub(crate) stop: StopSignal,
    pub(crate) progress: Arc<Progress>,
}

impl Engine {
    /// Reads each input's assignment and starting positions, with the same
    /// retries as a batch's plan stage. Called by `start` before it returns.
    pub(crate) async fn initialize(&mut self) -> Result<(), StreamingError> {
        let time = BatchTime::from_millis(self.clock.now_ms());
        for i in 0..self.inputs.len() {
            let mut attempts = Attempts::new(self.retry, Stage::Plan, time);
            loop {
                let input = &mut self.inputs[i];
                match batch::refresh_assignment(input, &mut self.stop).await {
                    Ok(()) => break,
                    Err(e) => attempts.failed(e, &mut self.stop).await?,
                }
            }
        }
        Ok(())
    }

    /// Runs batches from `first_ms` on until stopped, the batch limit, or an
    /// error; closes the sources in every case.
    pub(crate) async fn run(mut self, first_ms: i64) -> Result<RunSummary, StreamingError> {
        let mut summary = RunSummary::default();
        let mut next = first_ms;
        let outcome = loop {
            if self.max_batches.is_some_and(|max| summary.batches >= max) {
                break Ok(StopReason::BatchLimit);
            }
            let deadline = self.clock.instant_at(next);
            tokio::select! {
                biased;
                state = self.stop.any() => break Ok(stop_reason(state)),
                () = tokio::time::sleep_until(deadline) => {}
            }
            let time = due_batch_time(next, self.clock.now_ms(), self.interval_ms);
            let skipped = u64::try_from((time - next) / self.interval_ms).unwrap_or(0);
            match self.run_batch(BatchTime::from_millis(time), skipped).await {
                Ok(None) => summary.abandoned_batches += 1,
                Ok(Some(report)) => {
                    summary.batches += 1;
                    summary.records += report.info.records();
                    summary.last_batch_time = Some(report.info.batch_time);
                    self.publish(report);
                }
                Err(StreamingError::Cancelled) => break Ok(StopReason::Now),
                Err(e) => break Err(e),
            }
            match self.stop.state() {
                StopState::Running => {}
                state => break Ok(stop_reason(state)),
            }
            next = time + self.interval_ms;
        };
        self.close_sources().await;
        outcome.map(|stop_reason| RunSummary {
            stop_reason,
            ..summary
        })
    }

    fn publish(&mut self, report: BatchReport) {
        tracing::info!("{report}");
        for listener in &mut self.listeners {
            if catch_unwind(AssertUnwindSafe(|| listener(&report))).is_err() {
                tracing::error!(
                    "a batch listener panicked on batch {}",
                    report.info.batch_time
                );
            }
        }
        self.progress.batches.fetch_add(1, Ordering::Release);
        *self
            .progress
            .last_report
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(report);
    }

    pub(crate) async fn close_sources(&mut self) {
        for input in &mut self.inputs {
            match tokio::time::timeout(CLOSE_TIMEOUT, input.source.close()).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::warn!("closing input {}: {e}", input.name),
                Err(_) => tracing::warn!(
                    "closing input {} took longer than {CLOSE_TIMEOUT:?}",
                    input.name
                ),
            }
        }
    }
}

fn stop_reason(state: StopState) -> StopReason {
    match state {
        StopState::Now => StopReason::Now,
        StopState::Graceful | StopState::Running => StopReason::Gracefully,
    }
}

#[cfg(test)]
mod tests;
