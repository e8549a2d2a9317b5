//! The DStream graph: what a context collects before `start` (inputs,
//! outputs, listeners) and what one batch's execution sees ([`BatchScope`]).
//!
//! Like Spark's `DStreamGraph`, the graph is driven from its outputs: each
//! batch the engine runs every output in registration order, and an output
//! pulls its DStream, which pulls its parents, down to the inputs. A DStream
//! used by several children computes once per batch (see
//! [`Node`](crate::dstream::node)). Later operators that need earlier batches
//! (windows, state) keep their own per-batch history in their node.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use crate::error::StreamingError;
use crate::report::{BatchInfo, BatchReport};
use crate::source::{DynSource, InputOptions, SourceRecord};
use crate::time::BatchTime;

/// Everything one batch's operators and outputs can see.
#[derive(Debug)]
pub(crate) struct BatchScope {
    pub(crate) info: Arc<BatchInfo>,
    /// Fetched records per input id, ordered by partition then offset. Kept
    /// behind an `Arc` so a retried output stage reuses them without a refetch
    /// (an `Arc<Vec>`, not an `Arc<[_]>`: making the latter copies the batch).
    pub(crate) inputs: Vec<Arc<Vec<SourceRecord>>>,
    pub(crate) cancel: Arc<AtomicBool>,
}

impl BatchScope {
    pub(crate) fn time(&self) -> BatchTime {
        self.info.batch_time
    }

    pub(crate) fn input(&self, id: usize) -> Result<&[SourceRecord], StreamingError> {
        self.inputs
            .get(id)
            .map(|r| &r[..])
            .ok_or(StreamingError::Internal("input stream has no records slot"))
    }

    /// Whether `Stop::Now` was requested; long outputs check this.
    pub(crate) fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Acquire)
    }
}

/// An output operation (Spark's `foreachRDD` family). Runs on a blocking
/// thread; outputs of one batch run one after another, in registration order.
pub(crate) trait OutputOp: Send {
    /// For errors and logs, e.g. `save_as_text_files(out/f-*.log)`.
    fn describe(&self) -> String;
    fn run(&mut self, scope: &BatchScope) -> Result<(), StreamingError>;
    /// Called after the batch's offsets are committed: makes staged output
    /// visible and returns the paths it published.
    fn publish(&mut self, _time: BatchTime) -> Result<Vec<PathBuf>, StreamingError> {
        Ok(Vec::new())
    }
    /// The batch was abandoned before its commit: drops staged output.
    fn discard(&mut self, _time: BatchTime) {}
    /// At start, for the batch the checkpoint recorded as in progress:
    /// publishes what it staged if its offsets were `committed`, else drops it.
    fn recover(&mut self, _time: BatchTime, _committed: bool) -> Result<(), StreamingError> {
        Ok(())
    }
    /// At start: staged output of batches other than `keep` that an earlier
    /// run left behind (it died before recording the batch as pending, so
    /// the batch was never committed). With `remove` they are deleted, else
    /// only listed. Returns their paths.
    fn orphans(&mut self, _keep: Option<BatchTime>, _remove: bool) -> Vec<PathBuf> {
        Vec::new()
    }
}

/// A node's per-batch memo, cleared after every batch attempt.
pub(crate) trait BatchCache: Send + Sync {
    fn clear(&self);
}

/// An operator that keeps state across batches (windows, `update_state_by_key`).
///
/// A batch computes the operator's next state from its *committed* state and
/// keeps it pending; the engine commits it only after the batch's offsets are
/// committed, and aborts it when the batch is abandoned (a fenced commit after
/// a rebalance, a failure, `Stop::Now`), so state never counts records whose
/// offsets were not committed. Recomputing a batch (an output retry) starts
/// from the same committed state, so it gives the same result.
pub(crate) trait StatefulOp: Send + Sync {
    /// The operator's kind, e.g. `window`; checked when a checkpoint is restored.
    fn kind(&self) -> &'static str;
    /// The state as it is after the pending batch (if any) is committed.
    fn snapshot(&self) -> Result<serde_json::Value, StreamingError>;
    /// Replaces the committed state (and drops anything pending).
    fn restore(&self, state: serde_json::Value) -> Result<(), StreamingError>;
    /// Makes the state computed for batch `time` the committed state.
    fn commit(&self, time: BatchTime);
    /// Drops the state computed for the batch in progress.
    fn abort(&self);
}

/// An input registered before start.
pub(crate) struct PendingInput {
    pub(crate) id: usize,
    pub(crate) source: Box<dyn DynSource>,
    pub(crate) options: InputOptions,
}

pub(crate) type Listener = Box<dyn FnMut(&BatchReport) + Send>;

#[derive(Default)]
pub(crate) struct GraphState {
    pub(crate) started: bool,
    pub(crate) next_input: usize,
    pub(crate) inputs: Vec<PendingInput>,
    /// Run every batch before the outputs: stateful operators that must see
    /// every batch of their parent even when nothing reads them that batch.
    pub(crate) internal: Vec<Box<dyn OutputOp>>,
    pub(crate) outputs: Vec<Box<dyn OutputOp>>,
    pub(crate) stateful: Vec<Arc<dyn StatefulOp>>,
    /// Graph mistakes found while building (e.g. a union of streams with
    /// different slides); `start` reports the first.
    pub(crate) errors: Vec<String>,
    pub(crate) caches: Vec<Arc<dyn BatchCache>>,
    pub(crate) listeners: Vec<Listener>,
    /// The first operation attempted after start, reported by the engine.
    pub(crate) late: Option<&'static str>,
}

impl std::fmt::Debug for GraphState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GraphState")
            .field("started", &self.started)
            .field("inputs", &self.inputs.len())
            .field(
                "outputs",
                &self
                    .outputs
                    .iter()
                    .map(|o| o.describe())
                    .collect::<Vec<_>>(),
            )
            .field("nodes", &self.caches.len())
            .field("stateful", &self.stateful.len())
            .finish()
    }
}

/// The graph shared by a context and all its DStreams.
#[derive(Debug)]
pub(crate) struct Shared {
    /// The context's batch interval: windows are checked against it when built.
    pub(crate) interval: Duration,
    state: Mutex<GraphState>,
}

impl Shared {
    pub(crate) fn new(interval: Duration) -> Self {
        Shared {
            interval,
            state: Mutex::default(),
        }
    }

    /// The batch interval in ms, if it is a positive whole number of ms
    /// (`start` rejects other intervals).
    pub(crate) fn interval_ms(&self) -> Option<i64> {
        i64::try_from(self.interval.as_millis())
            .ok()
            .filter(|ms| *ms > 0 && Duration::from_millis(*ms as u64) == self.interval)
    }

    /// Records a graph mistake, reported by `start`.
    pub(crate) fn graph_error(&self, message: String) {
        self.lock().errors.push(message);
    }

    pub(crate) fn register_stateful(&self, op: Arc<dyn StatefulOp>) {
        self.lock().stateful.push(op);
    }

    pub(crate) fn add_internal(&self, op: Box<dyn OutputOp>) {
        self.before_start("stateful operator", |state| state.internal.push(op));
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, GraphState> {
        // Graph registration does not panic midway; keep going if a user
        // closure panicked elsewhere while holding it.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` unless the context started, in which case the attempt is
    /// recorded and reported by the engine at its next batch.
    pub(crate) fn before_start(&self, operation: &'static str, f: impl FnOnce(&mut GraphState)) {
        let mut state = self.lock();
        if state.started {
            tracing::error!("{operation} called after the streaming context started; ignored");
            state.late.get_or_insert(operation);
        } else {
            f(&mut state);
        }
    }

    pub(crate) fn register_cache(&self, cache: Arc<dyn BatchCache>) {
        self.lock().caches.push(cache);
    }

    pub(crate) fn late_operation(&self) -> Option<&'static str> {
        self.lock().late
    }
}
