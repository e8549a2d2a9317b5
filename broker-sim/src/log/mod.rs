//! Partition logs: record batches stored as received, with a small index beside them.
//!
//! - [`batch`]: v2 batch header parsing, validation (magic, length, CRC-32C, counts) and
//!   stamping of the broker-assigned base offset and leader epoch.
//! - [`records`]: walking uncompressed records (validation, timestamp lookup).
//! - [`memory`]: the in-memory [`PartitionLog`].
//! - [`codec`]: bounded decompression (cleaner and timestamp lookups only).
//! - [`cleaner`]: retention and compaction decisions (whole batches).
//! - [`producer_state`]: idempotent producers' epochs and last sequences per partition.
//!
//! Storage sits behind the [`PartitionLog`] trait: `storage::disk` wraps the in-memory log
//! with segment files under `--data-dir` without the API handlers noticing.

pub(crate) mod batch;
pub(crate) mod cleaner;
pub(crate) mod codec;
pub(crate) mod memory;
pub(crate) mod producer_state;
pub(crate) mod records;

use std::fmt::Debug;

use bytes::Bytes;

pub(crate) use batch::{BatchError, BatchHeader};
pub(crate) use memory::MemoryLog;

use crate::storage::{StorageError, SyncHandle};

/// What an append did: the base offset assigned and, for logs on disk, how to wait until the
/// batch is durable (acks=all waits on it; see `storage::sync`).
#[derive(Debug)]
pub(crate) struct Appended {
    pub(crate) base_offset: i64,
    pub(crate) sync: Option<(SyncHandle, u64)>,
}

/// A unit of storage that retention removes whole: a segment file on disk, a batch in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SegmentInfo {
    pub(crate) base_offset: i64,
    /// Offset after its last record.
    pub(crate) next_offset: i64,
    pub(crate) size_bytes: u64,
    /// Largest record timestamp in it (-1 when empty).
    pub(crate) max_timestamp: i64,
}

/// Offsets are outside `[log_start_offset, log_end_offset]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("offset {offset} is outside the log [{log_start_offset}, {log_end_offset}]")]
pub(crate) struct OffsetOutOfRange {
    pub(crate) offset: i64,
    pub(crate) log_start_offset: i64,
    pub(crate) log_end_offset: i64,
}

/// An offset found by timestamp (ListOffsets), with the timestamp of that record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TimestampOffset {
    pub(crate) offset: i64,
    pub(crate) timestamp: i64,
}

/// The storage of one partition replica.
///
/// Invariants every implementation keeps: offsets are dense and increasing; each stored batch
/// is byte-for-byte what the producer sent except baseOffset and partitionLeaderEpoch; reads
/// return whole batches.
pub(crate) trait PartitionLog: Debug + Send {
    /// First offset still stored.
    fn log_start_offset(&self) -> i64;
    /// Offset the next appended record gets (also the high watermark: one replica).
    fn log_end_offset(&self) -> i64;
    /// Appends a batch that passed [`batch::validate`]. A failed append (disk full, I/O
    /// error) leaves the log exactly as it was.
    fn append(
        &mut self,
        batch: &[u8],
        header: &BatchHeader,
        leader_epoch: i32,
    ) -> Result<Appended, StorageError>;
    /// Whole batches starting with the one holding `offset`, at most `max_bytes` in total
    /// unless `min_one_batch` (KIP-74: a batch larger than the limit is still returned alone so
    /// a consumer can make progress). `offset == log_end_offset` yields no bytes.
    fn read(
        &self,
        offset: i64,
        max_bytes: usize,
        min_one_batch: bool,
    ) -> Result<Bytes, OffsetOutOfRange>;
    /// The first record whose timestamp is >= `timestamp`.
    fn offset_for_timestamp(&self, timestamp: i64) -> Option<TimestampOffset>;
    /// The record with the largest timestamp (ListOffsets -3, KIP-734).
    fn max_timestamp(&self) -> Option<TimestampOffset>;
    /// Moves the log start offset forward to `offset` (DeleteRecords, retention; never back,
    /// never past the log end): what lies wholly below it is dropped — whole segments on disk,
    /// whole batches in memory. Returns the log start offset now in force.
    fn advance_log_start(&mut self, offset: i64) -> Result<i64, StorageError>;
    /// The storage units, oldest first: what retention deletes whole.
    fn segments(&self) -> Vec<SegmentInfo>;
    /// The largest partition leader epoch stamped on a stored batch (-1 when empty): a
    /// restarted broker resumes above it so clients never see an epoch go back.
    fn max_leader_epoch(&self) -> i32;
    /// The stored batches in offset order (cheap clones), for the cleaner to read outside the
    /// partition lock.
    fn batches(&self) -> Vec<Bytes>;
    /// Replaces (or with None removes) the batch at `base_offset`, if it is still the one of
    /// `expected_len` bytes the cleaner read (compaction). Offsets, log start and end do not
    /// change. Returns false when nothing was replaced (also: a log that cannot rewrite).
    fn replace_batch(&mut self, base_offset: i64, expected_len: usize, new: Option<Bytes>) -> bool;
    /// Makes the replacements since the last call durable (a log on disk rewrites the
    /// segments they touched, once each). Memory logs have nothing to do.
    fn flush_rewrites(&mut self) -> Result<(), StorageError> {
        Ok(())
    }
}
