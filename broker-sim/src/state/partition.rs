//! One partition: its log, its leadership fields, and the notifier long-polling fetches wait on.

use std::sync::Mutex;

use bytes::Bytes;
use tokio::sync::watch;

use super::lock;
use crate::log::{self, BatchError, OffsetOutOfRange, PartitionLog, TimestampOffset};
use crate::storage::{StorageError, SyncHandle};

/// What an append tells the producer.
#[derive(Debug)]
pub(crate) struct AppendOutcome {
    pub(crate) base_offset: i64,
    pub(crate) log_start_offset: i64,
    /// For logs on disk: what acks=all waits on before answering (`storage::sync`).
    pub(crate) sync: Option<(SyncHandle, u64)>,
}

/// Why an append was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum AppendError {
    #[error(transparent)]
    Corrupt(#[from] BatchError),
    #[error("produce request for a partition must hold exactly one record batch, found {0}")]
    BatchCount(&'static str),
    #[error("record batch of {size} bytes exceeds message.max.bytes {max}")]
    TooLarge { size: usize, max: usize },
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Bytes read for a fetch, with the offsets the response reports.
#[derive(Debug, Clone)]
pub(crate) struct ReadOutcome {
    pub(crate) records: Bytes,
    pub(crate) high_watermark: i64,
    pub(crate) log_start_offset: i64,
}

#[derive(Debug)]
struct Inner {
    log: Box<dyn PartitionLog>,
    leader_id: i32,
    leader_epoch: i32,
    replicas: Vec<i32>,
}

/// A partition of a topic hosted by this broker.
#[derive(Debug)]
pub(crate) struct Partition {
    pub(crate) index: i32,
    inner: Mutex<Inner>,
    /// Carries the high watermark; every append publishes the new value, waking fetches.
    high_watermark: watch::Sender<i64>,
}

impl Partition {
    /// A partition led by the first of `replicas` (-1, no leader, when the list is empty).
    pub(crate) fn new(index: i32, replicas: Vec<i32>, log: Box<dyn PartitionLog>) -> Self {
        let leader = replicas.first().copied().unwrap_or(-1);
        Partition::restored(index, leader, replicas, log, 0)
    }

    /// A partition with a given leader and leader epoch (recovered from disk).
    pub(crate) fn restored(
        index: i32,
        leader_id: i32,
        replicas: Vec<i32>,
        log: Box<dyn PartitionLog>,
        leader_epoch: i32,
    ) -> Self {
        let hw = log.log_end_offset();
        Partition {
            index,
            inner: Mutex::new(Inner {
                log,
                leader_id,
                leader_epoch,
                replicas,
            }),
            high_watermark: watch::Sender::new(hw),
        }
    }

    /// Leader node id and leader epoch.
    pub(crate) fn leader(&self) -> (i32, i32) {
        let inner = lock(&self.inner);
        (inner.leader_id, inner.leader_epoch)
    }

    pub(crate) fn replicas(&self) -> Vec<i32> {
        lock(&self.inner).replicas.clone()
    }

    /// (leader, leader epoch, replicas) in one look, for persisting topic metadata.
    pub(crate) fn placement(&self) -> (i32, i32, Vec<i32>) {
        let inner = lock(&self.inner);
        (inner.leader_id, inner.leader_epoch, inner.replicas.clone())
    }

    /// Makes `node_id` the leader and bumps the leader epoch (also when the leader stays, as a
    /// Kafka re-election does). A leader outside the replica list replaces the old leader in it.
    /// Returns the new epoch.
    pub(crate) fn set_leader(&self, node_id: i32) -> i32 {
        let mut inner = lock(&self.inner);
        if node_id >= 0 && !inner.replicas.contains(&node_id) {
            let old = inner.leader_id;
            match inner.replicas.iter_mut().find(|r| **r == old) {
                Some(slot) => *slot = node_id,
                None => inner.replicas.insert(0, node_id),
            }
        }
        inner.leader_id = node_id;
        inner.leader_epoch += 1;
        inner.leader_epoch
    }

    /// (log_start_offset, high_watermark).
    pub(crate) fn offsets(&self) -> (i64, i64) {
        let inner = lock(&self.inner);
        (inner.log.log_start_offset(), inner.log.log_end_offset())
    }

    /// Validates `records` (one v2 batch) outside the lock, then appends it.
    pub(crate) fn append(
        &self,
        records: &[u8],
        max_message_bytes: usize,
    ) -> Result<AppendOutcome, AppendError> {
        if records.is_empty() {
            return Err(AppendError::BatchCount("none"));
        }
        // Message formats 0 and 1 carry their magic byte at the same position as format 2.
        if let Some(&magic) = records.get(16).filter(|m| **m != 2) {
            return Err(AppendError::Corrupt(BatchError::Magic(magic as i8)));
        }
        let first = log::batch::first_batch_len(records)?;
        if first != records.len() {
            return Err(AppendError::BatchCount("more than one"));
        }
        if records.len() > max_message_bytes {
            return Err(AppendError::TooLarge {
                size: records.len(),
                max: max_message_bytes,
            });
        }
        let header = log::batch::validate(records)?;
        let (outcome, end) = {
            let mut inner = lock(&self.inner);
            let epoch = inner.leader_epoch;
            let appended = inner.log.append(records, &header, epoch)?;
            let outcome = AppendOutcome {
                base_offset: appended.base_offset,
                log_start_offset: inner.log.log_start_offset(),
                sync: appended.sync,
            };
            (outcome, inner.log.log_end_offset())
        };
        self.high_watermark.send_replace(end);
        Ok(outcome)
    }

    pub(crate) fn read(
        &self,
        offset: i64,
        max_bytes: usize,
        min_one_batch: bool,
    ) -> Result<ReadOutcome, OffsetOutOfRange> {
        let inner = lock(&self.inner);
        let records = inner.log.read(offset, max_bytes, min_one_batch)?;
        Ok(ReadOutcome {
            records,
            high_watermark: inner.log.log_end_offset(),
            log_start_offset: inner.log.log_start_offset(),
        })
    }

    pub(crate) fn offset_for_timestamp(&self, timestamp: i64) -> Option<TimestampOffset> {
        lock(&self.inner).log.offset_for_timestamp(timestamp)
    }

    pub(crate) fn max_timestamp(&self) -> Option<TimestampOffset> {
        lock(&self.inner).log.max_timestamp()
    }

    /// Moves the log start offset forward (DeleteRecords, retention); see
    /// [`PartitionLog::advance_log_start`]. Returns the log start offset now in force.
    pub(crate) fn advance_log_start(&self, offset: i64) -> Result<i64, StorageError> {
        lock(&self.inner).log.advance_log_start(offset)
    }

    /// The log's storage units, oldest first (what retention deletes whole).
    pub(crate) fn segments(&self) -> Vec<log::SegmentInfo> {
        lock(&self.inner).log.segments()
    }

    /// A receiver that sees every later high watermark change.
    pub(crate) fn subscribe(&self) -> watch::Receiver<i64> {
        self.high_watermark.subscribe()
    }
}
