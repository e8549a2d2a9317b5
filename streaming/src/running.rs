//! The handle of a started context: stop it, wait for it, watch progress.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use tokio::task::JoinHandle;

use crate::engine::Progress;
use crate::engine::signal::{StopControl, StopState};
use crate::error::StreamingError;
use crate::report::BatchReport;
use crate::time::BatchTime;

/// How to stop a running context.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// Finish the batch in progress — outputs and commit — then stop
    /// (Spark's `stop(stopGracefully = true)`). Waits through that batch's
    /// retries if it is failing.
    Gracefully,
    /// Abandon the batch in progress without committing it: its outputs may
    /// or may not have been written, and a restart processes its ranges
    /// again. An output already running finishes its current file first
    /// (the write is not published).
    Now,
}

/// Why a run ended without an error.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum StopReason {
    /// `stop_after_batches(n)` batches were completed.
    #[default]
    BatchLimit,
    /// [`Stop::Gracefully`].
    Gracefully,
    /// [`Stop::Now`], or the handle was dropped.
    Now,
}

/// The totals of a finished run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunSummary {
    /// Completed (committed) batches.
    pub batches: u64,
    /// Records over all completed batches.
    pub records: u64,
    /// The last completed batch.
    pub last_batch_time: Option<BatchTime>,
    /// Batches dropped because their commit was refused after a rebalance
    /// (their records were read again; see the crate docs on scale-out).
    pub abandoned_batches: u64,
    /// Why the run ended.
    pub stop_reason: StopReason,
}

/// A started streaming context (see [`StreamingContext::start`](crate::StreamingContext::start)).
///
/// Dropping the handle without stopping requests [`Stop::Now`]; the engine
/// then winds down in the background.
#[derive(Debug)]
pub struct RunningContext {
    control: StopControl,
    task: Option<JoinHandle<Result<RunSummary, StreamingError>>>,
    progress: Arc<Progress>,
    first_batch_time: BatchTime,
    finished: Option<RunSummary>,
}

impl RunningContext {
    pub(crate) fn new(
        control: StopControl,
        task: JoinHandle<Result<RunSummary, StreamingError>>,
        progress: Arc<Progress>,
        first_batch_time: BatchTime,
    ) -> Self {
        RunningContext {
            control,
            task: Some(task),
            progress,
            first_batch_time,
            finished: None,
        }
    }

    /// The time of the first batch.
    pub fn first_batch_time(&self) -> BatchTime {
        self.first_batch_time
    }

    /// Batches completed (output and committed) so far.
    pub fn batches_completed(&self) -> u64 {
        self.progress.batches.load(Ordering::Acquire)
    }

    /// The report of the last completed batch.
    pub fn last_report(&self) -> Option<BatchReport> {
        self.progress
            .last_report
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Waits until the run ends by itself: the batch limit, or an error.
    /// Cancel-safe, so it can race a Ctrl-C in `tokio::select!` and be
    /// followed by [`stop`](Self::stop).
    pub async fn wait(&mut self) -> Result<RunSummary, StreamingError> {
        if let Some(summary) = &self.finished {
            return Ok(summary.clone());
        }
        let task = self
            .task
            .as_mut()
            .ok_or(StreamingError::AlreadyTerminated)?;
        let joined = task.await;
        self.task = None;
        let result = joined.map_err(|e| StreamingError::EngineTask(e.to_string()))?;
        if let Ok(summary) = &result {
            self.finished = Some(summary.clone());
        }
        result
    }

    /// Stops the run and waits until it has stopped (see [`Stop`]); returns
    /// the run's summary, or the error that ended it earlier.
    pub async fn stop(mut self, how: Stop) -> Result<RunSummary, StreamingError> {
        self.control.request(match how {
            Stop::Gracefully => StopState::Graceful,
            Stop::Now => StopState::Now,
        });
        self.wait().await
    }
}

impl Drop for RunningContext {
    fn drop(&mut self) {
        if self.task.is_some() {
            self.control.request(StopState::Now);
        }
    }
}
