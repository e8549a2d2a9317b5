//! kt-streaming: a Spark-Streaming-style micro-batch engine fed by Kafka.
//!
//! It replaces the PySpark DStream tutorial (`KafkaUtils.createDirectStream`,
//! `saveAsTextFiles`, word count, web-log counts) with Rust that reads like
//! it:
//!
//! ```no_run
//! use std::time::Duration;
//! use kt_streaming::{KafkaSource, Stop, StreamingContext};
//! # async fn demo() -> Result<(), kt_streaming::StreamingError> {
//! let ssc = StreamingContext::new(Duration::from_secs(5));
//! let messages = ssc.kafka_stream(KafkaSource::new("127.0.0.1:9092").group("sparkit").topic("mytopic"));
//! let counts = messages
//!     .map(|(_key, value)| value)
//!     .flat_map(|line| line.split(' ').map(str::to_owned).collect::<Vec<_>>())
//!     .map(|word| (word, 1))
//!     .reduce_by_key(|a, b| a + b);
//! counts.save_as_text_files("out/f", "log");
//! let running = ssc.start().await?;
//! running.stop(Stop::Gracefully).await?;
//! # Ok(()) }
//! ```
//!
//! # Layout
//!
//! - [`context`](StreamingContext) (`context.rs`): the entry point; collects the graph, starts the engine.
//! - [`dstream`]: [`DStream`] and its operators — `mod.rs` (`map`, `flat_map`,
//!   `filter`, `count`, `count_by_value`), `pair.rs` (`reduce_by_key`),
//!   `output.rs` (`foreach_batch`, `foreach_batch_info`, `save_as_text_files`),
//!   `node.rs` (per-batch computation and memo of one DStream).
//! - `graph.rs`: what the graph holds (inputs, outputs, listeners) and what a
//!   batch's operators see.
//! - `engine/`: the batch loop (`mod.rs`), one batch's stages (`batch.rs`),
//!   offset-range decisions (`plan.rs`), [`RetryPolicy`] (`retry.rs`), stop
//!   signalling (`signal.rs`), and the engine's tests (`tests/`).
//! - [`source`]: the [`BatchSource`] trait the engine drives, its types
//!   ([`TopicPartition`], [`OffsetRange`], [`SourceRecord`]), [`MemorySource`]
//!   for tests, and [`KafkaSource`] over kt-client.
//! - [`sink`]: `save_as_text_files`' atomic batch directories.
//! - [`repr`]: [`PyRepr`], Python 3 `repr`/`str` of Rust values (with a
//!   printability table generated from CPython by `tools/gen_printable.py`).
//! - [`weblog`]: Apache access-log parser (nom) and the web-log job helpers.
//! - `report.rs`: [`BatchInfo`] (given to user code) and [`BatchReport`] (one
//!   line per batch for the CLI); `running.rs`: [`RunningContext`], [`Stop`];
//!   `time.rs`: [`BatchTime`] and the clock; `error.rs`; [`testing`].
//!
//! # Semantics
//!
//! - **Ticks.** A context ticks every batch interval, aligned to multiples of
//!   the interval since the Unix epoch (as Spark); the batch time in ms names
//!   the batch's output. The first batch is the first tick after `start`. A
//!   batch that overruns its interval is followed at once by one batch named
//!   after the latest missed tick; the skipped ticks are reported
//!   ([`BatchReport::skipped_ticks`]) and no data is skipped.
//! - **A batch** at time T: refresh the assignment; decide one range per
//!   assigned partition, `[position, latest offset at T)`, capped at
//!   `max_rate_per_partition × interval` records if set; fetch exactly those
//!   ranges; run the operators and every output, in registration order; then
//!   commit the range ends of **every** assigned partition, idle ones too.
//!   Outputs happen before the commit, so delivery is at least once; after a
//!   graceful stop a restart neither loses nor repeats anything.
//! - **Starting offsets**: the group's committed offsets; a partition without
//!   one, or whose committed offset is outside the log, starts at the latest
//!   offset, or the earliest with `from_beginning(true)` (Kafka's
//!   `auto.offset.reset`). A position found beyond the log end later
//!   (truncated or recreated topic) is reset the same way and reported.
//! - **Errors** (policy): a failing stage (plan, fetch, output, commit) is
//!   retried with the same inputs — same ranges, same fetched records, same
//!   offsets — with exponential backoff, up to [`RetryPolicy::max_attempts`].
//!   On the output stage only the outputs that have not yet succeeded rerun.
//!   When the attempts run out the engine stops without committing the batch
//!   and [`RunningContext::wait`]/[`RunningContext::stop`] return
//!   [`StreamingError::BatchFailed`]. A panic in user code is such a failure,
//!   not a crash.
//! - **Stopping**: [`Stop::Gracefully`] finishes the batch in progress
//!   (outputs and commit); [`Stop::Now`] abandons it uncommitted.
//!   [`StreamingContext::stop_after_batches`] ends a run after N batches.
//!
//! # Output format
//!
//! `save_as_text_files(prefix, suffix)` writes, for every batch including
//! empty ones, a directory `PREFIX-<ms>.SUFFIX` (`PREFIX-<ms>` when the
//! suffix is empty) holding `part-00000` and an empty `_SUCCESS`, written
//! under a hidden temporary name and renamed into place. Each element is one
//! line, Python 3's `str(element)` as PySpark writes it, so tuples print as
//! their `repr`:
//!
//! ```text
//! (None, 'message1')          <- an unkeyed Kafka record: (Option<String>, String)
//! ('key1', 'message1')        <- a keyed one
//! ('message', 2)              <- a word count: (String, u64)
//! ("it's", 1)                 <- quotes and escapes exactly as CPython's repr
//! ('tab\there', 1)
//! 42                          <- count(): a number
//! ```
//!
//! A DStream of bare strings writes the strings unquoted, as PySpark's
//! `str()` does. Lines are ordered by partition then offset;
//! `reduce_by_key` and `count_by_value` output is sorted by key.
//!
//! # References
//!
//! - Spark Streaming programming guide — DStreams, batch intervals, output
//!   operations (`saveAsTextFiles`, `foreachRDD`), graceful shutdown:
//!   <https://spark.apache.org/docs/latest/streaming-programming-guide.html>
//! - Spark Streaming + Kafka integration guide (direct stream, offset ranges,
//!   committing offsets, `maxRatePerPartition`):
//!   <https://spark.apache.org/docs/latest/streaming-kafka-0-10-integration.html>
//! - PySpark `DStream` API (`map`, `flatMap`, `filter`, `reduceByKey`,
//!   `countByValue`, `count`, `saveAsTextFiles`):
//!   <https://spark.apache.org/docs/latest/api/python/reference/pyspark.streaming.html>
//! - Kafka protocol guide — ListOffsets, Fetch, OffsetCommit, OffsetFetch,
//!   consumer groups: <https://kafka.apache.org/protocol>
//! - Kafka consumer configs `auto.offset.reset`, `enable.auto.commit`:
//!   <https://kafka.apache.org/documentation/#consumerconfigs>
//! - CPython `unicode_repr` and `Py_UNICODE_ISPRINTABLE` (Objects/unicodeobject.c),
//!   `float_repr` (Python/pystrtod.c) for [`PyRepr`].
//! - Apache log formats (Common/Combined):
//!   <https://httpd.apache.org/docs/current/logs.html#accesslog>

mod checkpoint;
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
pub use dstream::{Checkpointable, DStream, Element, OutputResult};
pub use engine::retry::RetryPolicy;
pub use error::{BoxError, SourceError, Stage, StreamingError};
pub use report::{BatchInfo, BatchReport, InputBatch, OffsetResetEvent};
pub use repr::PyRepr;
pub use running::{RunSummary, RunningContext, Stop, StopReason};
pub use source::{
    BatchSource, InputOptions, KafkaSource, MemorySource, OffsetRange, OffsetReset, SourceOp,
    SourceRecord, TopicPartition,
};
pub use time::{BatchTime, Clock};
