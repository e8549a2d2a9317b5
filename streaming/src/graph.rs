//! The DStream graph: what a context collects before `start` (inputs,
//! outputs, listeners) and what one batch's execution sees ([`BatchScope`]).
//!
//! Like Spark's `DStreamGraph`, the graph is driven from its outputs: each
//! batch the engine runs every output in registration order, and an output
//! pulls its DStream, which pulls its parents, down to the inputs. A DStream
//! used by several children computes once per batch (see
//! [`Node`](crate::dstream::node)). Later operators that need earlier batches
//! (windows, state) keep their own per-batch history in their node.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::error::StreamingError;
use crate::report::{BatchInfo, BatchReport};
use crate::source::{DynSource, InputOptions, SourceRecord};
use crate::time::BatchTime;

/// Everything one batch's operators and outputs can see.
#[derive(Debug)]
pub(crate) struct BatchScope {
    pub(crate) info: Arc<BatchInfo>,
    /// Fetched records per input id, ordered by partition then offset. Kept
    /// behind an `Arc` so a retried output stage reuses them without a refetch.
    pub(crate) inputs: Vec<Arc<[SourceRecord]>>,
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
}

/// A node's per-batch memo, cleared after every batch attempt.
pub(crate) trait BatchCache: Send + Sync {
    fn clear(&self);
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
    pub(crate) outputs: Vec<Box<dyn OutputOp>>,
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
            .finish()
    }
}

/// The graph shared by a context and all its DStreams.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    state: Mutex<GraphState>,
}

impl Shared {
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
