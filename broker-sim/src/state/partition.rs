//! One partition: its log, its leadership fields, and the notifier long-polling fetches wait on.

use std::sync::Mutex;

use bytes::Bytes;
use kafka_protocol::ResponseError;
use tokio::sync::watch;

use super::lock;
use crate::log::cleaner;
use crate::log::producer_state::{BatchMeta, ProducerStates, SequenceCheck, increment_sequence};
use crate::log::{self, BatchError, OffsetOutOfRange, PartitionLog, TimestampOffset};
use crate::storage::{StorageError, SyncHandle};

/// What an append tells the producer.
#[derive(Debug)]
pub(crate) struct AppendOutcome {
    pub(crate) base_offset: i64,
    pub(crate) log_start_offset: i64,
    /// For logs on disk: what acks=all waits on before answering (`storage::sync`).
    pub(crate) sync: Option<(SyncHandle, u64)>,
    /// A retried idempotent batch that was already appended: `base_offset` is the original's.
    pub(crate) duplicate: bool,
}

/// Why an append was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum AppendError {
    #[error(transparent)]
    Corrupt(#[from] BatchError),
    #[error("produce request for a partition must hold exactly one record batch, found {0}")]
    BatchCount(&'static str),
    #[error("record batch of {size} bytes exceeds max.message.bytes {max}")]
    TooLarge { size: usize, max: usize },
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("producer {producer_id} has a sequence number below 0 ({base_sequence})")]
    InvalidSequence {
        producer_id: i64,
        base_sequence: i32,
    },
    #[error("producer {producer_id} epoch {epoch} is older than the current epoch {current}")]
    InvalidProducerEpoch {
        producer_id: i64,
        epoch: i16,
        current: i16,
    },
    #[error(
        "out of order sequence number for producer {producer_id}: expected {expected}, got {got}"
    )]
    OutOfOrderSequence {
        producer_id: i64,
        expected: i32,
        got: i32,
    },
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
    producers: ProducerStates,
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

    /// A partition with a given leader and leader epoch (recovered from disk); idempotent
    /// producers' state is rebuilt from the batches the log holds.
    pub(crate) fn restored(
        index: i32,
        leader_id: i32,
        replicas: Vec<i32>,
        log: Box<dyn PartitionLog>,
        leader_epoch: i32,
    ) -> Self {
        let hw = log.log_end_offset();
        let producers = ProducerStates::rebuild(&log.batches());
        Partition {
            index,
            inner: Mutex::new(Inner {
                log,
                leader_id,
                leader_epoch,
                replicas,
                producers,
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
        let idempotent = header.producer_id >= 0;
        if idempotent && header.base_sequence < 0 {
            return Err(AppendError::InvalidSequence {
                producer_id: header.producer_id,
                base_sequence: header.base_sequence,
            });
        }
        let first_seq = header.base_sequence;
        let last_seq = increment_sequence(first_seq, header.last_offset_delta);
        let (outcome, end) = {
            let mut inner = lock(&self.inner);
            if idempotent {
                match inner.producers.check(
                    header.producer_id,
                    header.producer_epoch,
                    first_seq,
                    last_seq,
                ) {
                    SequenceCheck::Append => {}
                    SequenceCheck::Duplicate(meta) => {
                        return Ok(AppendOutcome {
                            base_offset: meta.first_offset,
                            log_start_offset: inner.log.log_start_offset(),
                            sync: None,
                            duplicate: true,
                        });
                    }
                    SequenceCheck::StaleEpoch { current } => {
                        return Err(AppendError::InvalidProducerEpoch {
                            producer_id: header.producer_id,
                            epoch: header.producer_epoch,
                            current,
                        });
                    }
                    SequenceCheck::OutOfOrder { expected, got } => {
                        return Err(AppendError::OutOfOrderSequence {
                            producer_id: header.producer_id,
                            expected,
                            got,
                        });
                    }
                }
            }
            let epoch = inner.leader_epoch;
            let appended = inner.log.append(records, &header, epoch)?;
            let base_offset = appended.base_offset;
            if idempotent {
                inner.producers.record(
                    header.producer_id,
                    header.producer_epoch,
                    BatchMeta {
                        first_seq,
                        last_seq,
                        first_offset: base_offset,
                        last_offset: base_offset + i64::from(header.last_offset_delta),
                    },
                );
            }
            let outcome = AppendOutcome {
                base_offset: appended.base_offset,
                log_start_offset: inner.log.log_start_offset(),
                sync: appended.sync,
                duplicate: false,
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

    /// DeleteRecords: moves the log start offset up to `offset` (-1: the high watermark) and
    /// returns the new log start offset. Offsets above the high watermark are out of range.
    /// Errors: OFFSET_OUT_OF_RANGE, or KAFKA_STORAGE_ERROR when the log cannot record the
    /// move; both with the log start offset in force.
    pub(crate) fn delete_records(&self, offset: i64) -> Result<i64, (ResponseError, i64)> {
        let mut inner = lock(&self.inner);
        let (start, end) = (inner.log.log_start_offset(), inner.log.log_end_offset());
        let target = if offset == -1 { end } else { offset };
        if target < 0 || target > end {
            return Err((ResponseError::OffsetOutOfRange, start));
        }
        if target > start {
            if let Err(e) = inner.log.advance_log_start(target) {
                tracing::error!("DeleteRecords: {e}");
                return Err((
                    ResponseError::KafkaStorageError,
                    inner.log.log_start_offset(),
                ));
            }
            inner.producers.truncate_before(target);
        }
        Ok(inner.log.log_start_offset())
    }

    /// Applies retention and compaction per `settings` at wall-clock `now_ms`. The work that
    /// reads records (compaction) runs outside the partition lock; the lock is taken only to
    /// snapshot the batches and to swap the rewritten ones in. Returns (new log start offset
    /// if retention moved it, batches rewritten or removed by compaction).
    pub(crate) fn clean(
        &self,
        settings: &crate::state::configs::CleanupSettings,
        now_ms: i64,
    ) -> (Option<i64>, usize) {
        let mut moved = None;
        if settings.delete {
            let (units, end) = {
                let inner = lock(&self.inner);
                (inner.log.segments(), inner.log.log_end_offset())
            };
            if let Some(target) = cleaner::retention_target(&units, end, settings, now_ms) {
                let mut inner = lock(&self.inner);
                if target > inner.log.log_start_offset() {
                    match inner.log.advance_log_start(target) {
                        Ok(start) => {
                            inner.producers.truncate_before(start);
                            moved = Some(start);
                        }
                        Err(e) => tracing::error!("retention: {e}"),
                    }
                }
            }
        }
        let mut rewritten = 0;
        if settings.compact {
            let batches = lock(&self.inner).log.batches();
            let rewrites = cleaner::compact(&batches, now_ms, settings.delete_retention_ms);
            if !rewrites.is_empty() {
                let mut inner = lock(&self.inner);
                for (base, len, new) in rewrites {
                    if inner.log.replace_batch(base, len, new) {
                        rewritten += 1;
                    }
                }
                if rewritten > 0
                    && let Err(e) = inner.log.flush_rewrites()
                {
                    // Memory is compacted; the files keep the old batches until the next try
                    // (a restart reads them back uncompacted, which loses nothing).
                    tracing::error!("compaction: {e}");
                }
            }
        }
        (moved, rewritten)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::batch::tests::build_batch;
    use crate::state::configs::{CLEANUP_POLICY, RETENTION_MS, TopicConfigs};
    use crate::state::{BrokerState, NewTopic};

    fn topic_with(
        s: &BrokerState,
        name: &str,
        configs: &[(&str, &str)],
    ) -> std::sync::Arc<crate::state::Topic> {
        let mut t = NewTopic::with_defaults(name);
        t.configs = configs
            .iter()
            .map(|(k, v)| (k.to_string(), Some(v.to_string())))
            .collect();
        s.create_topic(&t, false).unwrap().1.unwrap()
    }

    #[test]
    fn retention_by_time_runs_from_the_cleaner() {
        let s = BrokerState::for_tests();
        let t = topic_with(&s, "t", &[(RETENTION_MS, "1000")]);
        let p = &t.partitions[0];
        p.append(&build_batch(&[(None, Some(b"old"), 5_000)]), 1 << 20)
            .unwrap();
        p.append(&build_batch(&[(None, Some(b"new"), 9_500)]), 1 << 20)
            .unwrap();
        s.clean_logs(10_000);
        assert_eq!(p.offsets(), (1, 2));
        assert!(p.read(0, 100, true).is_err());
        // the default (7 days) keeps everything
        let u = topic_with(&s, "u", &[]);
        u.partitions[0]
            .append(&build_batch(&[(None, Some(b"x"), 1)]), 1 << 20)
            .unwrap();
        s.clean_logs(10_000);
        assert_eq!(u.partitions[0].offsets(), (0, 1));
    }

    #[test]
    fn compaction_from_topic_config_keeps_offsets() {
        let s = BrokerState::for_tests();
        let t = topic_with(&s, "c", &[(CLEANUP_POLICY, "compact")]);
        let p = &t.partitions[0];
        p.append(
            &build_batch(&[(Some(b"k"), Some(b"1"), 1), (Some(b"j"), Some(b"1"), 1)]),
            1 << 20,
        )
        .unwrap();
        p.append(&build_batch(&[(Some(b"k"), Some(b"2"), 2)]), 1 << 20)
            .unwrap();
        p.append(&build_batch(&[(Some(b"z"), Some(b"3"), 3)]), 1 << 20)
            .unwrap();
        s.clean_logs(10);
        assert_eq!(p.offsets(), (0, 4), "compaction moves neither end");
        let all = p.read(0, 1 << 20, true).unwrap().records;
        let first = crate::log::batch::parse_header(&all).unwrap();
        assert_eq!((first.base_offset, first.records_count), (0, 1));
        // a duplicate of "j" retried by an idempotent producer is not involved here; the
        // settings read per run: switching back to delete stops compaction
        t.update_configs(|c: &mut TopicConfigs| c.set(CLEANUP_POLICY, "delete"));
        assert!(!t.configs().cleanup().compact);
    }

    #[test]
    fn idempotent_duplicates_and_gaps() {
        let s = BrokerState::for_tests();
        let t = topic_with(&s, "i", &[]);
        let p = &t.partitions[0];
        let idem = |seq: i32, n: usize, epoch: i16| {
            let recs: Vec<_> = (0..n).map(|_| (None, Some(&b"v"[..]), 1)).collect();
            let mut b = build_batch(&recs);
            b[43..51].copy_from_slice(&77i64.to_be_bytes());
            b[51..53].copy_from_slice(&epoch.to_be_bytes());
            b[53..57].copy_from_slice(&seq.to_be_bytes());
            let crc = crc32c::crc32c(&b[21..]);
            b[17..21].copy_from_slice(&crc.to_be_bytes());
            b
        };
        assert_eq!(p.append(&idem(0, 2, 0), 1 << 20).unwrap().base_offset, 0);
        assert_eq!(p.append(&idem(2, 1, 0), 1 << 20).unwrap().base_offset, 2);
        let dup = p.append(&idem(0, 2, 0), 1 << 20).unwrap();
        assert!(dup.duplicate && dup.base_offset == 0);
        assert_eq!(p.offsets(), (0, 3), "a retried batch is not appended twice");
        assert!(matches!(
            p.append(&idem(5, 1, 0), 1 << 20),
            Err(AppendError::OutOfOrderSequence {
                expected: 3,
                got: 5,
                ..
            })
        ));
        assert_eq!(p.append(&idem(0, 1, 1), 1 << 20).unwrap().base_offset, 3);
        assert!(matches!(
            p.append(&idem(3, 1, 0), 1 << 20),
            Err(AppendError::InvalidProducerEpoch { current: 1, .. })
        ));
        assert!(matches!(
            p.append(&idem(-1, 1, 1), 1 << 20),
            Err(AppendError::InvalidSequence { .. })
        ));
    }
}
