//! Idempotent producer state of one partition (Kafka's `ProducerStateManager` and
//! `ProducerAppendInfo`, without transactions).
//!
//! Per producer id: the current epoch and the metadata of its last
//! [`MAX_CACHED_BATCHES`] batches (sequence range and offsets). Before an idempotent batch
//! (producer id >= 0) is appended:
//! - a batch whose (epoch, first sequence, last sequence) equals a cached one is a retry of a
//!   batch already appended: it is not appended again and the producer gets the original
//!   offsets (Kafka's duplicate detection);
//! - an epoch older than the producer's current one: INVALID_PRODUCER_EPOCH;
//! - a newer epoch must start at sequence 0 (else OUT_OF_ORDER_SEQUENCE_NUMBER);
//! - the same epoch must continue at last sequence + 1 (wrapping after `i32::MAX` to 0), else
//!   OUT_OF_ORDER_SEQUENCE_NUMBER;
//! - a producer id this partition has no state for is accepted at any sequence, as Kafka 2.5+
//!   does (KIP-360: its state may have been removed with the records that held it), so
//!   UNKNOWN_PRODUCER_ID is never returned by Produce.
//!
//! The state is kept in memory beside the log. A log recovered from disk rebuilds it from the
//! stored batches' headers ([`ProducerStates::rebuild`]; Kafka reads its snapshots and the log
//! after them): a producer that retries, after a broker restart, a batch written just before
//! the crash (whose answer it never got) is answered with the original offsets instead of the
//! batch being stored twice.

use std::collections::{HashMap, VecDeque};

use bytes::Bytes;

use super::batch;

/// Kafka's `ProducerStateEntry.NUM_BATCHES_TO_RETAIN`: duplicates are detected among the last
/// five batches of a producer, matching `max.in.flight.requests.per.connection <= 5`.
pub(crate) const MAX_CACHED_BATCHES: usize = 5;

/// A bound on producer ids tracked per partition; the least recently written is dropped past
/// it (Kafka expires idle producers after `producer.id.expiration.ms`; this broker bounds
/// memory instead).
pub(crate) const MAX_PRODUCERS: usize = 10_000;

/// Offsets and sequences of an appended batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BatchMeta {
    pub(crate) first_seq: i32,
    pub(crate) last_seq: i32,
    pub(crate) first_offset: i64,
    pub(crate) last_offset: i64,
}

#[derive(Debug, Default)]
struct ProducerEntry {
    epoch: i16,
    batches: VecDeque<BatchMeta>,
    /// Append counter at the last write, for eviction.
    last_write: u64,
}

/// The verdict on an idempotent batch before it is appended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SequenceCheck {
    /// Append it.
    Append,
    /// Already appended: answer with these offsets, append nothing.
    Duplicate(BatchMeta),
    /// INVALID_PRODUCER_EPOCH.
    StaleEpoch { current: i16 },
    /// OUT_OF_ORDER_SEQUENCE_NUMBER.
    OutOfOrder { expected: i32, got: i32 },
}

/// Sequence number `n` positions after `seq`, wrapping like Kafka's
/// `DefaultRecordBatch.incrementSequence`.
pub(crate) fn increment_sequence(seq: i32, n: i32) -> i32 {
    if seq > i32::MAX - n {
        n - (i32::MAX - seq) - 1
    } else {
        seq + n
    }
}

/// Producer state of one partition.
#[derive(Debug, Default)]
pub(crate) struct ProducerStates {
    producers: HashMap<i64, ProducerEntry>,
    clock: u64,
}

impl ProducerStates {
    /// Decides what to do with a batch from `producer_id` at `epoch` carrying sequences
    /// `first_seq..=last_seq`.
    pub(crate) fn check(
        &self,
        producer_id: i64,
        epoch: i16,
        first_seq: i32,
        last_seq: i32,
    ) -> SequenceCheck {
        let Some(entry) = self.producers.get(&producer_id) else {
            return SequenceCheck::Append;
        };
        if epoch < entry.epoch {
            return SequenceCheck::StaleEpoch {
                current: entry.epoch,
            };
        }
        if epoch == entry.epoch
            && let Some(dup) = entry
                .batches
                .iter()
                .find(|b| b.first_seq == first_seq && b.last_seq == last_seq)
        {
            return SequenceCheck::Duplicate(*dup);
        }
        if epoch > entry.epoch {
            return if first_seq == 0 {
                SequenceCheck::Append
            } else {
                SequenceCheck::OutOfOrder {
                    expected: 0,
                    got: first_seq,
                }
            };
        }
        match entry.batches.back() {
            None => SequenceCheck::Append,
            Some(last) => {
                let expected = increment_sequence(last.last_seq, 1);
                if first_seq == expected {
                    SequenceCheck::Append
                } else {
                    SequenceCheck::OutOfOrder {
                        expected,
                        got: first_seq,
                    }
                }
            }
        }
    }

    /// Records an appended batch.
    pub(crate) fn record(&mut self, producer_id: i64, epoch: i16, meta: BatchMeta) {
        self.clock += 1;
        if !self.producers.contains_key(&producer_id)
            && self.producers.len() >= MAX_PRODUCERS
            && let Some(oldest) = self
                .producers
                .iter()
                .min_by_key(|(_, e)| e.last_write)
                .map(|(id, _)| *id)
        {
            self.producers.remove(&oldest);
        }
        let entry = self.producers.entry(producer_id).or_default();
        if epoch != entry.epoch {
            entry.epoch = epoch;
            entry.batches.clear();
        }
        if entry.batches.len() == MAX_CACHED_BATCHES {
            entry.batches.pop_front();
        }
        entry.batches.push_back(meta);
        entry.last_write = self.clock;
    }

    /// The state a log's stored batches (oldest first) leave behind: each idempotent batch is
    /// recorded as if it had just been appended, so the last [`MAX_CACHED_BATCHES`] batches and
    /// the epoch of every producer are what they were before a restart. Batches without a
    /// producer id (or whose header cannot be read; recovery already checked them) are skipped.
    pub(crate) fn rebuild(batches: &[Bytes]) -> ProducerStates {
        let mut states = ProducerStates::default();
        for b in batches {
            let Ok(h) = batch::parse_header(b) else {
                continue;
            };
            if h.producer_id < 0 || h.base_sequence < 0 {
                continue;
            }
            states.record(
                h.producer_id,
                h.producer_epoch,
                BatchMeta {
                    first_seq: h.base_sequence,
                    last_seq: increment_sequence(h.base_sequence, h.last_offset_delta),
                    first_offset: h.base_offset,
                    last_offset: h.base_offset + i64::from(h.last_offset_delta),
                },
            );
        }
        states
    }

    /// Forgets batches wholly below `log_start_offset` (DeleteRecords, retention); a producer
    /// left with no batches keeps its epoch, so stale epochs are still fenced.
    pub(crate) fn truncate_before(&mut self, log_start_offset: i64) {
        for e in self.producers.values_mut() {
            e.batches.retain(|b| b.last_offset >= log_start_offset);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(first_seq: i32, last_seq: i32, first_offset: i64) -> BatchMeta {
        BatchMeta {
            first_seq,
            last_seq,
            first_offset,
            last_offset: first_offset + i64::from(last_seq - first_seq),
        }
    }

    #[test]
    fn in_order_duplicates_gaps_and_epochs() {
        let mut s = ProducerStates::default();
        assert_eq!(
            s.check(7, 0, 5, 9),
            SequenceCheck::Append,
            "unknown: any seq"
        );
        s.record(7, 0, meta(0, 4, 0));
        assert_eq!(s.check(7, 0, 5, 9), SequenceCheck::Append);
        s.record(7, 0, meta(5, 9, 5));
        assert_eq!(s.check(7, 0, 0, 4), SequenceCheck::Duplicate(meta(0, 4, 0)));
        assert_eq!(
            s.check(7, 0, 11, 12),
            SequenceCheck::OutOfOrder {
                expected: 10,
                got: 11
            }
        );
        assert_eq!(
            s.check(7, 0, 3, 9),
            SequenceCheck::OutOfOrder {
                expected: 10,
                got: 3
            }
        );
        assert_eq!(
            s.check(7, 1, 3, 4),
            SequenceCheck::OutOfOrder {
                expected: 0,
                got: 3
            }
        );
        assert_eq!(s.check(7, 1, 0, 4), SequenceCheck::Append);
        s.record(7, 1, meta(0, 4, 10));
        assert_eq!(
            s.check(7, 0, 10, 11),
            SequenceCheck::StaleEpoch { current: 1 }
        );
        // another producer is independent
        assert_eq!(s.check(8, 0, 42, 42), SequenceCheck::Append);
    }

    #[test]
    fn only_last_five_batches_are_remembered() {
        let mut s = ProducerStates::default();
        for i in 0..7 {
            s.record(1, 0, meta(i, i, i64::from(i)));
        }
        assert!(matches!(s.check(1, 0, 2, 2), SequenceCheck::Duplicate(_)));
        assert!(matches!(
            s.check(1, 0, 1, 1),
            SequenceCheck::OutOfOrder { .. }
        ));
        s.truncate_before(6);
        assert!(matches!(
            s.check(1, 0, 5, 5),
            SequenceCheck::OutOfOrder { expected: 7, .. }
        ));
        assert!(matches!(s.check(1, 0, 6, 6), SequenceCheck::Duplicate(_)));
    }

    /// A stored batch from producer `pid` at `epoch` with `n` records from sequence `seq`, at
    /// offset `base`.
    fn stored(pid: i64, epoch: i16, seq: i32, n: usize, base: i64) -> Bytes {
        let recs: Vec<_> = (0..n).map(|_| (None, Some(&b"v"[..]), 1)).collect();
        let mut b = crate::log::batch::tests::build_batch(&recs);
        b[43..51].copy_from_slice(&pid.to_be_bytes());
        b[51..53].copy_from_slice(&epoch.to_be_bytes());
        b[53..57].copy_from_slice(&seq.to_be_bytes());
        let crc = crc32c::crc32c(&b[21..]);
        b[17..21].copy_from_slice(&crc.to_be_bytes());
        crate::log::batch::stamp(&b, base, 0)
    }

    #[test]
    fn rebuilt_from_stored_batches_as_they_were_appended() {
        let plain = crate::log::batch::stamp(
            &crate::log::batch::tests::build_batch(&[(None, Some(b"x"), 1)]),
            0,
            0,
        );
        let mut batches = vec![plain];
        let mut offset = 1;
        // producer 7: seven batches of two records (only the last five are remembered);
        // producer 8: epoch 0, then epoch 1 from sequence 0
        for i in 0..7 {
            batches.push(stored(7, 3, i * 2, 2, offset));
            offset += 2;
        }
        batches.push(stored(8, 0, 0, 1, offset));
        batches.push(stored(8, 1, 0, 3, offset + 1));
        let s = ProducerStates::rebuild(&batches);
        // the last batch retried after a restart: its original offsets
        assert_eq!(
            s.check(7, 3, 12, 13),
            SequenceCheck::Duplicate(meta(12, 13, 13))
        );
        assert!(matches!(s.check(7, 3, 4, 5), SequenceCheck::Duplicate(_)));
        assert_eq!(
            s.check(7, 3, 2, 3),
            SequenceCheck::OutOfOrder {
                expected: 14,
                got: 2
            },
            "older than the last five"
        );
        assert_eq!(s.check(7, 3, 14, 20), SequenceCheck::Append);
        assert_eq!(
            s.check(7, 2, 14, 14),
            SequenceCheck::StaleEpoch { current: 3 }
        );
        assert_eq!(
            s.check(8, 0, 1, 1),
            SequenceCheck::StaleEpoch { current: 1 }
        );
        assert!(matches!(
            s.check(8, 1, 0, 2),
            SequenceCheck::Duplicate(BatchMeta {
                first_offset: 16,
                ..
            })
        ));
        assert_eq!(s.check(8, 1, 3, 3), SequenceCheck::Append);
        // a producer never seen is still accepted at any sequence
        assert_eq!(s.check(9, 0, 40, 41), SequenceCheck::Append);
        assert!(
            ProducerStates::rebuild(&[Bytes::from_static(b"short")])
                .producers
                .is_empty()
        );
    }

    #[test]
    fn sequences_wrap_like_kafka() {
        assert_eq!(increment_sequence(i32::MAX, 1), 0);
        assert_eq!(increment_sequence(i32::MAX - 1, 3), 1);
        let mut s = ProducerStates::default();
        s.record(1, 0, meta(i32::MAX, i32::MAX, 0));
        assert_eq!(s.check(1, 0, 0, 3), SequenceCheck::Append);
    }
}
