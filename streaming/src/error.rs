//! Errors of the streaming engine.
//!
//! [`SourceError`] is what a [`BatchSource`](crate::BatchSource) returns;
//! [`StreamingError`] is what the engine returns, wrapping the failure of a
//! batch stage with the batch time and the number of attempts made.

use std::time::Duration;

use thiserror::Error;

use crate::time::BatchTime;

/// Boxed error from user code or a backend.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A failure of a [`BatchSource`](crate::BatchSource) call.
#[derive(Debug, Error)]
pub enum SourceError {
    /// The Kafka client failed (connection, protocol or a Kafka error code).
    #[error("kafka client: {0}")]
    Client(#[source] BoxError),
    /// A requested offset is outside the partition's log (Kafka's
    /// OFFSET_OUT_OF_RANGE), e.g. retention deleted it.
    #[error("offset {offset} is out of range for {tp}")]
    OffsetOutOfRange {
        /// The partition.
        tp: crate::source::TopicPartition,
        /// The offset asked for.
        offset: i64,
    },
    /// The source answered something the engine cannot use.
    #[error("inconsistent answer from the source: {0}")]
    Inconsistent(String),
    /// The source is configured wrongly (missing group or topic).
    #[error("configuration: {0}")]
    Config(String),
    /// The group rejected a commit because this member's generation is stale
    /// (ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, REBALANCE_IN_PROGRESS,
    /// FENCED_INSTANCE_ID): the partitions may belong to another member now.
    /// The commit was not applied.
    #[error("commit refused by the group: {0}")]
    Fenced(String),
    /// A fault injected by a test source.
    #[error("injected fault: {0}")]
    Injected(String),
    /// The source was closed and cannot be used again.
    #[error("source is closed")]
    Closed,
}

/// The stage of a batch that failed, in execution order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Reading the assignment, committed and latest offsets to decide the ranges.
    Plan,
    /// Fetching the decided offset ranges.
    Fetch,
    /// Running the operator chain and the outputs.
    Output,
    /// Committing the new positions.
    Commit,
}

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Stage::Plan => "plan",
            Stage::Fetch => "fetch",
            Stage::Output => "output",
            Stage::Commit => "commit",
        })
    }
}

/// Errors of the streaming engine.
#[derive(Debug, Error)]
pub enum StreamingError {
    /// The batch interval must be a positive whole number of milliseconds.
    #[error("batch interval {0:?} is not a positive whole number of milliseconds")]
    InvalidBatchInterval(Duration),
    /// A window length or slide is not a positive multiple of the parent
    /// stream's slide (the batch interval for unwindowed streams).
    #[error(
        "{what} {duration:?} is not a positive multiple of {multiple_of:?} (the batch interval, or the slide of the stream being windowed)"
    )]
    InvalidWindow {
        /// `window length` or `slide`.
        what: &'static str,
        /// The duration given.
        duration: Duration,
        /// What it must be a multiple of.
        multiple_of: Duration,
    },
    /// The graph is inconsistent (e.g. a union of streams with different slides).
    #[error("invalid streaming graph: {0}")]
    InvalidGraph(String),
    /// The checkpoint cannot be read, written or applied.
    #[error("checkpoint: {0}")]
    Checkpoint(String),
    /// `start` was called with no output operation (Spark refuses this too:
    /// nothing would ever be computed).
    #[error("no output operations registered, so nothing to execute")]
    NoOutputs,
    /// An input or output was added after `start`; it would never run.
    #[error(
        "{operation} was called after the context started; define the whole graph before start()"
    )]
    GraphChangedAfterStart {
        /// The operation that was called too late.
        operation: &'static str,
    },
    /// A source call failed.
    #[error("input {input}: {source}")]
    Source {
        /// The input's description.
        input: String,
        /// The failure.
        #[source]
        source: SourceError,
    },
    /// Writing batch output failed.
    #[error("output {output}: {source}")]
    Output {
        /// The output's description.
        output: String,
        /// The failure.
        #[source]
        source: BoxError,
    },
    /// User code (an operator or an output function) panicked.
    #[error("{operation} panicked: {message}")]
    Panicked {
        /// The output in which the panic happened.
        operation: String,
        /// The panic message.
        message: String,
    },
    /// A batch stage failed on every attempt; the engine stopped without
    /// committing that batch, so a restart reads its ranges again.
    #[error("batch {batch_time}: {stage} failed after {attempts} attempt(s): {source}")]
    BatchFailed {
        /// The batch that failed.
        batch_time: BatchTime,
        /// The stage that failed.
        stage: Stage,
        /// How many attempts were made.
        attempts: u32,
        /// The last failure.
        #[source]
        source: Box<StreamingError>,
    },
    /// The batch was abandoned by `Stop::Now`.
    #[error("batch abandoned by Stop::Now")]
    Cancelled,
    /// The running context already returned its result.
    #[error("the streaming context already terminated")]
    AlreadyTerminated,
    /// The engine task ended abnormally (panicked or was aborted).
    #[error("engine task failed: {0}")]
    EngineTask(String),
    /// An internal invariant did not hold (a bug in kt-streaming).
    #[error("internal error: {0}")]
    Internal(&'static str),
}
