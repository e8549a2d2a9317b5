//! Producer ids and per-partition sequence numbers (idempotent delivery, KIP-98 / KIP-360).
//!
//! The broker remembers, per producer id and partition, the last five batches' sequence
//! numbers and rejects a batch that is not the next in line (OUT_OF_ORDER_SEQUENCE_NUMBER) or
//! answers a repeat with the original offsets. So a batch is stamped once (producer id,
//! epoch, base sequence) when it is first sent and keeps that stamp across retries: a retry
//! of a batch the broker already wrote cannot duplicate it.
//!
//! Rules, following the Java client's `TransactionManager` for non-transactional producers:
//!
//! * A partition gets sequences 0, n, ... under one (producer id, epoch); sequences wrap at
//!   `i32::MAX` like Java's `DefaultRecordBatch.incrementSequence`.
//! * UNKNOWN_PRODUCER_ID or OUT_OF_ORDER_SEQUENCE_NUMBER on the batch that is the *next* one
//!   the broker should see means the broker lost (or never had) our state: the producer
//!   gets a new identity ("epoch bump") and every queued batch is re-stamped from sequence 0.
//!   On any other batch it means an earlier batch is being retried: retry it behind that.
//! * A stamped batch that fails for good (non-retriable error, delivery timeout) leaves a
//!   gap the broker would reject forever, so it also asks for a new identity.
//! * The new identity is only taken when nothing is in flight and no queued batch is in an
//!   unknown state (sent, no answer): those are retried under the old stamp first, so a
//!   batch the broker may have written is never re-sent under a new stamp.
//!
//! Java bumps the epoch locally; kt asks for a fresh producer id with InitProducerId instead,
//! which every broker that supports idempotence accepts (an epoch bump needs KIP-360 brokers).

use std::collections::HashMap;

use crate::error::KafkaCode;
use crate::types::TopicPartition;

/// A producer id and epoch from InitProducerId.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ProducerId {
    pub(crate) id: i64,
    pub(crate) epoch: i16,
}

/// What a batch carries once it was first sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stamp {
    pub(crate) producer: ProducerId,
    pub(crate) base_sequence: i32,
    pub(crate) count: i32,
}

impl Stamp {
    /// The sequence of the record after this batch.
    pub(crate) fn next_sequence(&self) -> i32 {
        increment(self.base_sequence, self.count)
    }
}

/// `seq + n`, wrapping from `i32::MAX` to 0.
pub(crate) fn increment(seq: i32, n: i32) -> i32 {
    if seq > i32::MAX - n {
        n - (i32::MAX - seq) - 1
    } else {
        seq + n
    }
}

#[derive(Debug, Clone, Copy)]
struct PartitionSequence {
    producer: ProducerId,
    /// Sequence the next new batch gets.
    next: i32,
    /// Sequence the broker expects next (after the last acknowledged batch).
    expected: i32,
}

/// What to do with a batch that came back with an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Retry with the same stamp.
    Retry,
    /// Treat as written (DUPLICATE_SEQUENCE_NUMBER: the broker has it; offset unknown).
    Written,
    /// Fail the batch.
    Fail,
}

/// The producer's identity and sequence bookkeeping.
#[derive(Debug, Default)]
pub(crate) struct Sequences {
    current: Option<ProducerId>,
    partitions: HashMap<TopicPartition, PartitionSequence>,
    /// A new producer identity is needed before new batches may be stamped.
    pub(crate) reset_wanted: bool,
}

impl Sequences {
    /// The identity new batches are stamped with.
    pub(crate) fn current(&self) -> Option<ProducerId> {
        self.current
    }

    /// Installs a (new) identity; every partition starts again at sequence 0.
    pub(crate) fn install(&mut self, producer: ProducerId) {
        self.current = Some(producer);
        self.partitions.clear();
        self.reset_wanted = false;
    }

    /// Whether a batch stamped with `stamp` is still valid under the current identity.
    pub(crate) fn is_current(&self, stamp: &Stamp) -> bool {
        self.current == Some(stamp.producer)
    }

    /// Stamps a batch of `count` records for `tp` with the next sequence.
    pub(crate) fn stamp(&mut self, tp: &TopicPartition, count: i32) -> Option<Stamp> {
        let producer = self.current?;
        let p = self
            .partitions
            .entry(tp.clone())
            .or_insert(PartitionSequence {
                producer,
                next: 0,
                expected: 0,
            });
        let stamp = Stamp {
            producer,
            base_sequence: p.next,
            count,
        };
        p.next = stamp.next_sequence();
        Some(stamp)
    }

    /// The broker acknowledged a stamped batch.
    pub(crate) fn acknowledged(&mut self, tp: &TopicPartition, stamp: &Stamp) {
        if let Some(p) = self.partitions.get_mut(tp)
            && p.producer == stamp.producer
        {
            p.expected = stamp.next_sequence();
        }
    }

    /// Whether `stamp` is the batch the broker expects next for `tp`.
    fn is_next(&self, tp: &TopicPartition, stamp: &Stamp) -> bool {
        self.partitions
            .get(tp)
            .is_none_or(|p| p.producer != stamp.producer || p.expected == stamp.base_sequence)
    }

    /// Decides about a stamped batch that failed with `code` (`None`: no answer at all).
    /// `retriable` says whether the error is retriable by itself; `may_retry` whether the
    /// batch has attempts and time left.
    pub(crate) fn on_error(
        &mut self,
        tp: &TopicPartition,
        stamp: &Stamp,
        code: Option<KafkaCode>,
        retriable: bool,
        may_retry: bool,
    ) -> Verdict {
        let verdict = match code {
            Some(KafkaCode::DuplicateSequenceNumber) => return Verdict::Written,
            Some(KafkaCode::UnknownProducerId | KafkaCode::OutOfOrderSequenceNumber) => {
                if self.is_current(stamp) && self.is_next(tp, stamp) {
                    self.reset_wanted = true;
                }
                Verdict::Retry
            }
            _ if retriable => Verdict::Retry,
            _ => Verdict::Fail,
        };
        if verdict == Verdict::Fail || !may_retry {
            self.failed(stamp);
            return Verdict::Fail;
        }
        verdict
    }

    /// A stamped batch was given up (error or delivery timeout): its sequence range is a
    /// gap the broker will never fill, so later batches need a new identity.
    pub(crate) fn failed(&mut self, stamp: &Stamp) {
        if self.is_current(stamp) {
            self.reset_wanted = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tp() -> TopicPartition {
        TopicPartition::new("t", 0)
    }

    fn seqs() -> Sequences {
        let mut s = Sequences::default();
        s.install(ProducerId { id: 7, epoch: 0 });
        s
    }

    #[test]
    fn sequences_advance_per_partition_and_wrap() {
        let mut s = seqs();
        let a = s.stamp(&tp(), 3).unwrap();
        let b = s.stamp(&tp(), 2).unwrap();
        let other = s.stamp(&TopicPartition::new("t", 1), 1).unwrap();
        assert_eq!((a.base_sequence, b.base_sequence), (0, 3));
        assert_eq!(other.base_sequence, 0);
        assert_eq!(increment(i32::MAX, 1), 0);
        assert_eq!(increment(i32::MAX - 1, 3), 1);
        assert_eq!(increment(5, 3), 8);
    }

    #[test]
    fn out_of_order_on_the_next_batch_asks_for_a_new_identity() {
        let mut s = seqs();
        let a = s.stamp(&tp(), 2).unwrap();
        let b = s.stamp(&tp(), 2).unwrap();
        // b is not next (a is unacknowledged): retry it, no reset.
        let v = s.on_error(
            &tp(),
            &b,
            Some(KafkaCode::OutOfOrderSequenceNumber),
            false,
            true,
        );
        assert_eq!(v, Verdict::Retry);
        assert!(!s.reset_wanted);
        // a is next: the broker lost our state.
        let v = s.on_error(&tp(), &a, Some(KafkaCode::UnknownProducerId), false, true);
        assert_eq!(v, Verdict::Retry);
        assert!(s.reset_wanted);
        s.install(ProducerId { id: 8, epoch: 0 });
        assert!(!s.is_current(&a));
        assert_eq!(s.stamp(&tp(), 1).unwrap().base_sequence, 0);
    }

    #[test]
    fn acknowledged_batches_move_the_expected_sequence() {
        let mut s = seqs();
        let a = s.stamp(&tp(), 2).unwrap();
        let b = s.stamp(&tp(), 2).unwrap();
        s.acknowledged(&tp(), &a);
        let v = s.on_error(
            &tp(),
            &b,
            Some(KafkaCode::OutOfOrderSequenceNumber),
            false,
            true,
        );
        assert_eq!(v, Verdict::Retry);
        assert!(s.reset_wanted, "b was next after a, so the gap is real");
    }

    #[test]
    fn duplicates_count_as_written_and_failures_leave_a_gap() {
        let mut s = seqs();
        let a = s.stamp(&tp(), 1).unwrap();
        assert_eq!(
            s.on_error(
                &tp(),
                &a,
                Some(KafkaCode::DuplicateSequenceNumber),
                false,
                true
            ),
            Verdict::Written
        );
        assert!(!s.reset_wanted);
        let b = s.stamp(&tp(), 1).unwrap();
        assert_eq!(
            s.on_error(&tp(), &b, Some(KafkaCode::MessageTooLarge), false, true),
            Verdict::Fail
        );
        assert!(s.reset_wanted);
    }

    #[test]
    fn retriable_errors_retry_until_the_batch_runs_out() {
        let mut s = seqs();
        let a = s.stamp(&tp(), 1).unwrap();
        assert_eq!(s.on_error(&tp(), &a, None, true, true), Verdict::Retry);
        assert!(!s.reset_wanted);
        assert_eq!(s.on_error(&tp(), &a, None, true, false), Verdict::Fail);
        assert!(s.reset_wanted);
    }
}
