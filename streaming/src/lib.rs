//! kt-streaming: a Spark-Streaming-style micro-batch engine fed by Kafka.
//!
//! It replaces the PySpark DStream tutorial (`KafkaUtils.createDirectStream`,
//! `saveAsTextFiles`, word count, web-log counts) with Rust that reads like
//! it, and goes on where people outgrow the tutorial: windows, state across
//! batches, checkpoints, exactly-once files and several processes sharing a
//! topic.
//!
//! ```no_run
//! use std::time::Duration;
//! use kt_streaming::{KafkaSource, Stop, StreamingContext};
//! # async fn demo() -> Result<(), kt_streaming::StreamingError> {
//! let ssc = StreamingContext::new(Duration::from_secs(5)).checkpoint("checkpoints/wc");
//! let messages = ssc.kafka_stream(KafkaSource::new("127.0.0.1:9092").group("sparkit").topic("mytopic"));
//! let pairs = messages
//!     .map(|(_key, value)| value)
//!     .flat_map(|line| line.split(' ').map(str::to_owned).collect::<Vec<_>>())
//!     .map(|word| (word, 1u64));
//! pairs.reduce_by_key(|a, b| a + b).save_as_text_files("out/f", "log");
//! // Counts over the last 30 s, every 10 s, kept incrementally.
//! pairs
//!     .reduce_by_key_and_window(|a, b| a + b, Some(|a, b| a - b), Duration::from_secs(30), Duration::from_secs(10))?
//!     .print(10);
//! let running = ssc.start().await?;
//! running.stop(Stop::Gracefully).await?;
//! # Ok(()) }
//! ```
//!
//! # Operators
//!
//! Each links to its documentation and example; the PySpark name is in brackets.
//!
//! | kind | operators |
//! |---|---|
//! | element-wise | [`map`](DStream::map), [`flat_map`](DStream::flat_map) (`flatMap`), [`filter`](DStream::filter) |
//! | whole batch | [`transform`](DStream::transform), [`transform_with_time`](DStream::transform_with_time), [`union`](DStream::union), [`count`](DStream::count), [`count_by_value`](DStream::count_by_value) (`countByValue`) |
//! | keyed | [`map_values`](DStream::map_values), [`flat_map_values`](DStream::flat_map_values), [`reduce_by_key`](DStream::reduce_by_key), [`group_by_key`](DStream::group_by_key), [`join`](DStream::join), [`left_outer_join`](DStream::left_outer_join) |
//! | windows | [`window`](DStream::window), [`count_by_window`](DStream::count_by_window), [`reduce_by_window`](DStream::reduce_by_window), [`reduce_by_key_and_window`](DStream::reduce_by_key_and_window) (optional inverse), [`count_by_value_and_window`](DStream::count_by_value_and_window) |
//! | state | [`update_state_by_key`](DStream::update_state_by_key) (`updateStateByKey`; `None` drops the key) |
//! | outputs | [`foreach_batch`](DStream::foreach_batch) / [`foreach_batch_info`](DStream::foreach_batch_info) (`foreachRDD`), [`print`](DStream::print) / [`print_to`](DStream::print_to) (`pprint`), [`save_as_text_files`](DStream::save_as_text_files) (`saveAsTextFiles`) |
//!
//! Keyed results (`reduce_by_key`, `group_by_key`, joins, keyed windows,
//! state) are sorted by key, so output is deterministic; element-wise
//! operators keep the input order (partition, then offset).
//!
//! # Layout
//!
//! - [`context`](StreamingContext) (`context.rs`): the entry point; collects the graph, opens the checkpoint, starts the engine.
//! - [`dstream`]: [`DStream`] and its operators — `mod.rs` (element-wise,
//!   `transform`, `union`, counts), `pair.rs` (keyed), `join.rs`,
//!   `window.rs` (the window family), `state.rs` (`update_state_by_key`),
//!   `output.rs` (`foreach_batch`, `print`, `save_as_text_files`), `node.rs`
//!   (per-batch computation, memo and slide of one DStream).
//! - `graph.rs`: what the graph holds (inputs, internal feeders of stateful
//!   operators, outputs, stateful operators, listeners) and what a batch sees.
//! - `engine/`: the batch loop (`mod.rs`), one batch's stages (`batch.rs`),
//!   the commit, publication, abandonment and start-up recovery (`commit.rs`),
//!   offset-range decisions (`plan.rs`), back-pressure (`backpressure.rs`),
//!   [`RetryPolicy`] (`retry.rs`), stop signalling (`signal.rs`), tests (`tests/`).
//! - `checkpoint.rs`: the checkpoint file and the committed-or-not decision.
//! - [`source`]: the [`BatchSource`] trait the engine drives, its types
//!   ([`TopicPartition`], [`OffsetRange`], [`SourceRecord`]), [`MemorySource`]
//!   for tests, and [`KafkaSource`] over kt-client.
//! - [`sink`]: batch directories — staged, published, discarded.
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
//!   the batch's output. The first batch is the first tick after `start`
//!   (Spark does the same), so it completes at most one interval plus its
//!   processing time after start: milliseconds of start-up, not the seconds a
//!   JVM takes. A batch that overruns its interval is followed at once by one
//!   batch named after the latest missed tick; the skipped ticks and the
//!   scheduling delay are reported ([`BatchReport`]) and no data is skipped.
//! - **A batch** at time T: refresh the assignment; decide one range per
//!   assigned partition, `[position, latest offset at T)`, capped at
//!   `max_rate_per_partition × interval` records and by back-pressure if set;
//!   fetch exactly those ranges; run the operators and every output, in
//!   registration order (file outputs are *staged*); commit the range ends of
//!   **every** assigned partition, idle ones too; then publish the staged
//!   files and commit operator state. User code sees the ranges in
//!   [`BatchInfo`] ([`foreach_batch_info`](DStream::foreach_batch_info)).
//! - **Slides.** A windowed stream (and everything derived from it) has a
//!   batch only at multiples of its slide, aligned to the epoch so that every
//!   process and every restart agrees on window boundaries (Spark aligns to
//!   its start time); at other ticks its outputs do nothing. Window lengths
//!   and slides must be multiples of the parent's slide: anything else is a
//!   [`StreamingError::InvalidWindow`] when the window is built. A union or
//!   join of streams with different slides is refused by `start`
//!   ([`StreamingError::InvalidGraph`]).
//! - **State** (windows, `update_state_by_key`): a batch computes the next
//!   state from the committed one and keeps it pending; it becomes the
//!   committed state only when the batch's offsets are committed, and is
//!   dropped when the batch is abandoned. Stateful operators see every batch
//!   of their parent, whether or not an output reads them that batch. Their
//!   types must be [`Checkpointable`] (serde).
//! - **Starting offsets**: the group's committed offsets; else an explicit
//!   starting offset ([`KafkaSource::starting_offset`], assign mode); else
//!   the latest offset, or the earliest with `from_beginning(true)` (Kafka's
//!   `auto.offset.reset`, which also applies to committed offsets outside
//!   the log).
//! - **Errors** (policy): a failing stage (plan, fetch, output, commit) is
//!   retried with the same inputs — same ranges, same fetched records, same
//!   offsets — with exponential backoff, up to [`RetryPolicy::max_attempts`].
//!   On the output stage only the outputs that have not yet succeeded rerun.
//!   When the attempts run out the engine stops without committing the batch
//!   and [`RunningContext::wait`]/[`RunningContext::stop`] return
//!   [`StreamingError::BatchFailed`]. A panic in user code is such a failure,
//!   not a crash.
//! - **Stopping**: [`Stop::Gracefully`] finishes the batch in progress
//!   (outputs, commit, publication); [`Stop::Now`] abandons it.
//!   [`StreamingContext::stop_after_batches`] ends a run after N batches.
//! - **Null values.** [`kafka_stream`](StreamingContext::kafka_stream) gives
//!   `(Option<String>, String)` pairs and maps a null value (a tombstone) to
//!   `""`, so the tutorial's `map(|(_key, value)| value)` stays a string;
//!   PySpark's default decoder gives `None` there. Jobs that must tell the
//!   two apart use [`kafka_records`](StreamingContext::kafka_records), whose
//!   [`SourceRecord::value`] is `None` for a null value.
//!
//! # Exactly-once output
//!
//! `save_as_text_files` writes each batch exactly once, across crashes
//! (SIGKILL included) and rebalances, when the context has a
//! [checkpoint](StreamingContext::checkpoint). The argument:
//!
//! 1. A batch's directory is written complete under a hidden name
//!    (`.PREFIX-<ms>.SUFFIX.staged`) and synced; nothing is visible yet.
//! 2. The checkpoint records the batch as *pending* — its time, its offset
//!    ranges and the operator state it produced — atomically.
//! 3. The offsets are committed to the group. This is the decision point:
//!    Kafka applies the commit only if this member still belongs to the
//!    generation that owns the partitions.
//! 4. The staged directories are renamed into place, the state committed,
//!    and the checkpoint records the batch as *completed*.
//!
//! If the process dies before 3, the batch's offsets are not committed: the
//! next start finds the pending record, sees the committed offsets still at
//! the ranges' starts, deletes the staged directories (and any staged by a
//! run that died before 2) and restores the previous state; the records are
//! read again into a new batch. If it dies after 3, the next start sees the
//! offsets at the ranges' ends and publishes what is still staged (a batch
//! whose directory exists is not written again) and keeps the pending state.
//! So every record ends up in exactly one published directory. A commit the
//! group refuses (stale generation after a rebalance) abandons the batch the
//! same way while running. Two limits: `foreach_batch` and `print` effects
//! are at least once (they run before the commit and may run again); and if
//! the process dies in the instant between 3 and 4 *and* another member
//! takes its partitions and commits before it restarts, the committed
//! offsets no longer tell what happened — the staged batch is then published
//! with a warning (at least once, never lost). Without a checkpoint, a crash
//! between 1 and 4 leaves the staged directory unresolved (reported at the
//! next start); delivery is then at least once.
//!
//! # Checkpoint format
//!
//! `DIR/checkpoint.json`, replaced atomically (temporary file, fsync, rename,
//! directory fsync):
//!
//! ```text
//! {"format": 1, "batch_interval_ms": 5000,
//!  "completed": {"batch_time": 1700000005000,
//!                "inputs": [[{"topic": "mytopic", "partition": 0, "from": 10, "until": 42}]],
//!                "state": [{"kind": "window", "state": ...}, {"kind": "update_state_by_key", "state": ...}]},
//!  "pending": null}
//! ```
//!
//! `inputs` holds each input's offset ranges; `state` each stateful
//! operator's state as serde JSON, in creation order (`window`: `[[batch ms,
//! [elements]], ...]`; keyed windows: per-batch partial aggregates and the
//! last window; `update_state_by_key`: `[[key, state], ...]`). A checkpoint
//! written by a different graph or batch interval is refused at start.
//!
//! # Scale-out
//!
//! Several processes (on any machines) running the same job in one consumer
//! group share the topic's partitions. Each member rejoins the group at the
//! start of a batch, so partitions move at batch boundaries: a member that
//! sees a rebalance coming finishes its batch and commits it (Kafka accepts
//! commits from the current generation while the group prepares the
//! rebalance), then rejoins and starts each newly assigned partition at its
//! committed offset. A member whose commit is refused anyway (it was too
//! slow and the group moved on) drops the batch as described above, rejoins
//! and re-reads from the committed offsets — no record is lost or counted
//! twice. Each process writes its own files (give each its own output
//! prefix; writing an existing batch directory is refused). A word count
//! over several processes is therefore the sum of their files' counts.
//! Operator state is per process: windows, whose boundaries are aligned to
//! the epoch, sum correctly across processes; `update_state_by_key` state
//! stays with the process that built it when partitions move.
//!
//! # Back-pressure
//!
//! With [`KafkaSource::backpressure`] a PID controller (Spark's
//! `PIDRateEstimator`, P = 1, I = 0.2, D = 0, at least 100 records/s)
//! estimates after each batch the rate the job can sustain from the records
//! and processing time of the batch and the scheduling delay, and the next
//! batches read at most that many records per second, split over partitions
//! by lag and never more than `max_rate_per_partition`.
//!
//! # Output format
//!
//! `save_as_text_files(prefix, suffix)` writes, for every batch including
//! empty ones (for windowed streams: every slide), a directory
//! `PREFIX-<ms>.SUFFIX` (`PREFIX-<ms>` when the suffix is empty) holding
//! `part-00000` and an empty `_SUCCESS`. Each element is one line, Python
//! 3's `str(element)` as PySpark writes it, so tuples print as their `repr`:
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
//! `str()` does. Lines are ordered by partition then offset; keyed results
//! are sorted by key. `print(n)` writes Spark's layout: a rule, `Time: <ms>
//! ms`, a rule, the first `n` elements, `...` if there are more, an empty line.
//!
//! # References
//!
//! - Spark Streaming programming guide — DStreams, transformations, window
//!   operations, `updateStateByKey`, checkpointing, output operations,
//!   graceful shutdown, back-pressure:
//!   <https://spark.apache.org/docs/latest/streaming-programming-guide.html>
//! - Spark Streaming + Kafka integration guide (direct stream, consumer
//!   strategies, offset ranges, committing offsets, `maxRatePerPartition`):
//!   <https://spark.apache.org/docs/latest/streaming-kafka-0-10-integration.html>
//! - PySpark `DStream` API:
//!   <https://spark.apache.org/docs/latest/api/python/reference/pyspark.streaming.html>
//! - Spark's `PIDRateEstimator` (org.apache.spark.streaming.scheduler.rate).
//! - Kafka protocol guide — ListOffsets, Fetch, OffsetCommit, OffsetFetch,
//!   consumer groups: <https://kafka.apache.org/protocol>
//! - Kafka consumer configs `auto.offset.reset`, `enable.auto.commit`,
//!   `session.timeout.ms`, `group.instance.id` (KIP-345):
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
