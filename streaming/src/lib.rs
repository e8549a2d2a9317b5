//! kt-streaming (WIP)
mod context;
pub mod dstream;
mod engine;
mod error;
mod graph;
mod report;
pub mod repr;
mod running;
pub mod sink;
pub mod source;
pub mod testing;
mod time;
pub mod weblog;

pub use context::StreamingContext;
pub use dstream::{DStream, Element, OutputResult};
pub use engine::retry::RetryPolicy;
pub use error::{BoxError, SourceError, Stage, StreamingError};
pub use report::{BatchInfo, BatchReport, InputBatch, OffsetResetEvent};
pub use repr::PyRepr;
pub use running::{RunSummary, RunningContext, Stop, StopReason};
pub use source::{
    BatchSource, InputOptions, MemorySource, OffsetRange, OffsetReset, SourceOp, SourceRecord,
    TopicPartition,
};
pub use time::{BatchTime, Clock};
