//! Where batches come from: the [`BatchSource`] trait the engine drives, the
//! types it speaks in, and its implementations ([`MemorySource`] for tests,
//! `KafkaSource` over kt-client).
//!
//! The trait is the seam that keeps the engine testable without a broker: it
//! names exactly the operations a direct stream needs (Spark's
//! `DirectKafkaInputDStream` does the same through a Kafka consumer) and
//! nothing else.

mod kafka;
mod memory;

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;

use crate::error::SourceError;

pub use kafka::{KafkaSource, PATTERN_REFRESH};
pub use memory::{MemorySource, SourceOp};

/// A partition of a topic. The topic name is shared (`Arc<str>`) because
/// every fetched record carries one.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TopicPartition {
    /// Topic name.
    pub topic: Arc<str>,
    /// Partition index.
    pub partition: i32,
}

impl TopicPartition {
    /// A topic partition.
    pub fn new(topic: impl Into<Arc<str>>, partition: i32) -> Self {
        TopicPartition {
            topic: topic.into(),
            partition,
        }
    }
}

/// Prints as Kafka tools do: `mytopic-0`.
impl std::fmt::Display for TopicPartition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.topic, self.partition)
    }
}

/// The offsets `[from, until)` of one partition that a batch reads (Spark's
/// `OffsetRange` with `fromOffset`/`untilOffset`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OffsetRange {
    /// The partition.
    pub tp: TopicPartition,
    /// First offset read.
    pub from: i64,
    /// One past the last offset read; the position committed after the batch.
    pub until: i64,
}

impl OffsetRange {
    /// Number of offsets in the range (records, unless the log has gaps from
    /// compaction or transaction markers).
    pub fn len(&self) -> u64 {
        u64::try_from(self.until.saturating_sub(self.from)).unwrap_or(0)
    }

    /// Whether the range is empty.
    pub fn is_empty(&self) -> bool {
        self.until <= self.from
    }
}

impl std::fmt::Display for OffsetRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} [{}, {})", self.tp, self.from, self.until)
    }
}

/// One fetched record, as the source returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceRecord {
    /// The partition it was read from.
    pub tp: TopicPartition,
    /// Its offset.
    pub offset: i64,
    /// Key bytes; `None` for a null key.
    pub key: Option<Bytes>,
    /// Value bytes; `None` for a null value (a tombstone).
    pub value: Option<Bytes>,
    /// Record timestamp, ms since the epoch.
    pub timestamp: i64,
}

impl SourceRecord {
    /// The stream element for this record: `(key, value)` with bytes that
    /// are not UTF-8 replaced by U+FFFD.
    ///
    /// A null value (a tombstone) becomes `""`: the tutorial's element type,
    /// `(Option<String>, String)`, keeps `map(|(_key, value)| value)` a
    /// string, and text output shows `(None, '')`. PySpark's default decoder
    /// gives `None` there (printed `(None, None)`); a job that must tell the
    /// two apart reads [`StreamingContext::input_records`](crate::StreamingContext::input_records)
    /// or [`kafka_records`](crate::StreamingContext::kafka_records), whose
    /// `value` is `None` for a null value.
    pub fn to_element(&self) -> (Option<String>, String) {
        let text = |b: &Bytes| String::from_utf8_lossy(b).into_owned();
        (
            self.key.as_ref().map(text),
            self.value.as_ref().map(text).unwrap_or_default(),
        )
    }
}

/// What to do for a partition with no usable committed offset (Kafka's
/// `auto.offset.reset`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum OffsetReset {
    /// Start at the log end: only records produced after the start are read.
    #[default]
    Latest,
    /// Start at the log start: everything still retained is read.
    Earliest,
}

/// Per-input options of the engine.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InputOptions {
    /// Where partitions without a committed offset start.
    pub offset_reset: OffsetReset,
    /// At most this many records per partition per second of batch interval
    /// (Spark's `spark.streaming.kafka.maxRatePerPartition`); `None` or 0 is
    /// unlimited. A batch reads at least one record per partition when any
    /// are available, as Spark does.
    pub max_rate_per_partition: Option<u64>,
    /// Adapt the rate to how fast batches are processed (Spark's
    /// `spark.streaming.backpressure.enabled`; see the crate docs,
    /// "Back-pressure"). Off by default, as in Spark.
    pub backpressure: bool,
}

/// The operations a direct stream needs from Kafka.
///
/// The engine calls these from one task, one at a time, in the order: at start
/// `assignment` → `committed_offsets` → `earliest_offsets`/`latest_offsets`;
/// each batch `assignment` → (for new partitions the same as at start) →
/// `latest_offsets` → `fetch_ranges` → `commit`; at the end `close`.
/// Any call may be retried with the same arguments after an error.
pub trait BatchSource: Send + 'static {
    /// A short description for reports and errors, e.g. `kafka 127.0.0.1:9092 group sparkit`.
    fn describe(&self) -> String;

    /// The partitions this member currently owns. In a consumer group this
    /// also keeps the membership alive (joins or rejoins when needed).
    fn assignment(
        &mut self,
    ) -> impl Future<Output = Result<Vec<TopicPartition>, SourceError>> + Send;

    /// The log end offset (high watermark) of each partition.
    fn latest_offsets(
        &mut self,
        tps: &[TopicPartition],
    ) -> impl Future<Output = Result<BTreeMap<TopicPartition, i64>, SourceError>> + Send;

    /// The log start offset of each partition.
    fn earliest_offsets(
        &mut self,
        tps: &[TopicPartition],
    ) -> impl Future<Output = Result<BTreeMap<TopicPartition, i64>, SourceError>> + Send;

    /// The group's committed offset of each partition (`None`: nothing committed).
    fn committed_offsets(
        &mut self,
        tps: &[TopicPartition],
    ) -> impl Future<Output = Result<BTreeMap<TopicPartition, Option<i64>>, SourceError>> + Send;

    /// Every record with an offset in each `[from, until)` range, and no
    /// others. (Records outside the ranges are dropped by the engine anyway.)
    fn fetch_ranges(
        &mut self,
        ranges: &[OffsetRange],
    ) -> impl Future<Output = Result<Vec<SourceRecord>, SourceError>> + Send;

    /// Where to start partitions the group has no committed offset for, when
    /// the source was given explicit starting offsets (assign mode). The
    /// default: none, so `auto.offset.reset` applies.
    fn starting_offsets(&self) -> BTreeMap<TopicPartition, i64> {
        BTreeMap::new()
    }

    /// Commits the given positions (next offset to read) for the group.
    fn commit(
        &mut self,
        offsets: &BTreeMap<TopicPartition, i64>,
    ) -> impl Future<Output = Result<(), SourceError>> + Send;

    /// Leaves the group and releases connections.
    fn close(&mut self) -> impl Future<Output = Result<(), SourceError>> + Send;
}

pub(crate) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Object-safe mirror of [`BatchSource`], so the engine can hold sources of
/// different types in one list.
pub(crate) trait DynSource: Send {
    fn describe(&self) -> String;
    fn assignment(&mut self) -> BoxFuture<'_, Result<Vec<TopicPartition>, SourceError>>;
    fn latest_offsets<'a>(
        &'a mut self,
        tps: &'a [TopicPartition],
    ) -> BoxFuture<'a, Result<BTreeMap<TopicPartition, i64>, SourceError>>;
    fn earliest_offsets<'a>(
        &'a mut self,
        tps: &'a [TopicPartition],
    ) -> BoxFuture<'a, Result<BTreeMap<TopicPartition, i64>, SourceError>>;
    fn committed_offsets<'a>(
        &'a mut self,
        tps: &'a [TopicPartition],
    ) -> BoxFuture<'a, Result<BTreeMap<TopicPartition, Option<i64>>, SourceError>>;
    fn fetch_ranges<'a>(
        &'a mut self,
        ranges: &'a [OffsetRange],
    ) -> BoxFuture<'a, Result<Vec<SourceRecord>, SourceError>>;
    fn commit<'a>(
        &'a mut self,
        offsets: &'a BTreeMap<TopicPartition, i64>,
    ) -> BoxFuture<'a, Result<(), SourceError>>;
    fn close(&mut self) -> BoxFuture<'_, Result<(), SourceError>>;
    fn starting_offsets(&self) -> BTreeMap<TopicPartition, i64>;
}

impl<S: BatchSource> DynSource for S {
    fn describe(&self) -> String {
        BatchSource::describe(self)
    }
    fn assignment(&mut self) -> BoxFuture<'_, Result<Vec<TopicPartition>, SourceError>> {
        Box::pin(BatchSource::assignment(self))
    }
    fn latest_offsets<'a>(
        &'a mut self,
        tps: &'a [TopicPartition],
    ) -> BoxFuture<'a, Result<BTreeMap<TopicPartition, i64>, SourceError>> {
        Box::pin(BatchSource::latest_offsets(self, tps))
    }
    fn earliest_offsets<'a>(
        &'a mut self,
        tps: &'a [TopicPartition],
    ) -> BoxFuture<'a, Result<BTreeMap<TopicPartition, i64>, SourceError>> {
        Box::pin(BatchSource::earliest_offsets(self, tps))
    }
    fn committed_offsets<'a>(
        &'a mut self,
        tps: &'a [TopicPartition],
    ) -> BoxFuture<'a, Result<BTreeMap<TopicPartition, Option<i64>>, SourceError>> {
        Box::pin(BatchSource::committed_offsets(self, tps))
    }
    fn fetch_ranges<'a>(
        &'a mut self,
        ranges: &'a [OffsetRange],
    ) -> BoxFuture<'a, Result<Vec<SourceRecord>, SourceError>> {
        Box::pin(BatchSource::fetch_ranges(self, ranges))
    }
    fn commit<'a>(
        &'a mut self,
        offsets: &'a BTreeMap<TopicPartition, i64>,
    ) -> BoxFuture<'a, Result<(), SourceError>> {
        Box::pin(BatchSource::commit(self, offsets))
    }
    fn close(&mut self) -> BoxFuture<'_, Result<(), SourceError>> {
        Box::pin(BatchSource::close(self))
    }
    fn starting_offsets(&self) -> BTreeMap<TopicPartition, i64> {
        BatchSource::starting_offsets(self)
    }
}
