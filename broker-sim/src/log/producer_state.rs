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
//! The state is kept in memory beside the log and is not rebuilt from the log after a
//! restart (a difference from Kafka, documented in the crate docs).

use std::collections::{HashMap, VecDeque};

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

    #[test]
    fn sequences_wrap_like_kafka() {
        assert_eq!(increment_sequence(i32::MAX, 1), 0);
        assert_eq!(increment_sequence(i32::MAX - 1, 3), 1);
        let mut s = ProducerStates::default();
        s.record(1, 0, meta(i32::MAX, i32::MAX, 0));
        assert_eq!(s.check(1, 0, 0, 3), SequenceCheck::Append);
    }
}
