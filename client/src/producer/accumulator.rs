//! The record accumulator: per-partition queues of batches waiting to be sent.
//!
//! Records are encoded into the open (last) batch of their partition as they are sent; a
//! batch is *ready* when it is full, has waited `linger`, is not the last in its queue, or a
//! flush/close asks for it.
//!
//! Order per partition: without idempotence a partition with a batch in flight is *muted*
//! until that batch completes (two batches in flight could be reordered by a retry). With
//! idempotence up to `max_in_flight` batches of a partition may be in flight, because the
//! broker rejects a batch whose sequence is not the next one; a batch coming back for a
//! retry is put back in creation order and retries go out one at a time.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use foldhash::fast::RandomState as FastHash;
use tokio::sync::{Notify, OwnedSemaphorePermit};
use tokio::time::{Duration, Instant};

use super::idempotence::{Sequences, Stamp};
use crate::config::{Compression, ProducerConfig};
use crate::error::Error;
use crate::partitioner::StickyPartitioner;
use crate::records::BatchBuilder;
use crate::types::TopicPartition;

use super::delivery::{BatchResult, BatchSignal};

/// A batch of records for one partition, plus everything needed to complete them.
#[derive(Debug)]
pub(crate) struct ProducerBatch {
    pub(crate) id: u64,
    pub(crate) tp: TopicPartition,
    pub(crate) builder: BatchBuilder,
    /// What every record's [`DeliveryFuture`](super::DeliveryFuture) waits on.
    pub(crate) signal: Arc<BatchSignal>,
    pub(crate) created: Instant,
    /// Buffer memory held by this batch; released when the batch is dropped.
    pub(crate) _memory: Option<OwnedSemaphorePermit>,
    pub(crate) attempts: u32,
    /// Encoded on first send and reused by retries.
    pub(crate) encoded: Option<Bytes>,
    pub(crate) retry_at: Option<Instant>,
    /// Producer id, epoch and sequence, set when an idempotent producer first sends it.
    pub(crate) stamp: Option<Stamp>,
    /// Records in the batch (the builder is consumed when the batch is encoded).
    pub(crate) record_count: u32,
    /// Sent, but no answer came back (connection lost, timeout): the broker may have it.
    pub(crate) outcome_unknown: bool,
}

impl ProducerBatch {
    /// Bytes the batch takes in a request: encoded, or as built so far.
    pub(crate) fn size(&self) -> usize {
        self.encoded
            .as_ref()
            .map_or_else(|| self.builder.size(), Bytes::len)
    }

    /// Completes every record: `Ok((base_offset, log_append_time))` gives record `i` offset
    /// `base + i`.
    pub(crate) fn complete(self, result: BatchResult) {
        self.signal.finish(result);
    }
}

impl Drop for ProducerBatch {
    /// A batch dropped without a result (the producer went away) fails its records rather
    /// than leaving their futures pending forever.
    fn drop(&mut self) {
        self.signal
            .finish(Err(Error::Closed("the producer dropped the record".into())));
    }
}

/// Where `append` put a record.
#[derive(Debug)]
pub(crate) struct Appended {
    /// The sender should look: a batch was opened (its linger timer must be scheduled) or one
    /// is now full.
    pub(crate) wake: bool,
    /// The open batch reached `batch_size` (KIP-480: the sticky partition moves on).
    pub(crate) full: bool,
    /// The record's batch and its index in it.
    pub(crate) signal: Arc<BatchSignal>,
    pub(crate) index: u32,
}

/// Queues, mutes and bookkeeping, behind one mutex shared by `send` and the sender task.
#[derive(Debug)]
pub(crate) struct Accumulator {
    /// Looked up twice per record by `append`: a fast hasher (keys are the application's
    /// own topic names, not input from the network). SipHash was a fifth of `kt produce`'s
    /// instructions.
    pub(crate) queues: HashMap<TopicPartition, VecDeque<ProducerBatch>, FastHash>,
    /// Batches in flight per partition.
    pub(crate) in_flight: HashMap<TopicPartition, usize, FastHash>,
    /// Producer id and sequence numbers (used when idempotent).
    pub(crate) sequences: Sequences,
    pub(crate) sticky: StickyPartitioner,
    next_batch_id: u64,
    /// Batches with an id up to this are ready regardless of linger (flush).
    pub(crate) flush_up_to: u64,
    pub(crate) closing: bool,
    batch_size: usize,
    linger: Duration,
    compression: Compression,
}

/// Ids of batches not yet completed, so `flush` can wait for exactly the batches that
/// existed when it was called.
#[derive(Debug, Default)]
pub(crate) struct Incomplete {
    ids: Mutex<BTreeSet<u64>>,
    pub(crate) changed: Notify,
}

impl Incomplete {
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeSet<u64>> {
        // Inserts and removes only; a poisoned lock still holds a valid set.
        self.ids.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn insert(&self, id: u64) {
        self.lock().insert(id);
    }

    pub(crate) fn remove(&self, id: u64) {
        self.lock().remove(&id);
        self.changed.notify_waiters();
    }

    pub(crate) fn any_up_to(&self, id: u64) -> bool {
        self.lock().range(..=id).next().is_some()
    }
}

/// What the sender should do next.
#[derive(Debug, Default)]
pub(crate) struct Scan {
    /// Partitions whose front batch is ready to send.
    pub(crate) ready: Vec<TopicPartition>,
    /// The earliest time a not-yet-ready batch becomes ready.
    pub(crate) next_wakeup: Option<Instant>,
    /// Batches that outlived the delivery timeout.
    pub(crate) expired: Vec<ProducerBatch>,
}

impl Accumulator {
    pub(crate) fn new(config: &ProducerConfig) -> Self {
        Accumulator {
            queues: HashMap::default(),
            in_flight: HashMap::default(),
            sequences: Sequences::default(),
            sticky: StickyPartitioner::default(),
            next_batch_id: 1,
            flush_up_to: 0,
            closing: false,
            batch_size: config.batch_size,
            linger: config.linger,
            compression: config.compression,
        }
    }

    /// The id the next batch will get; every existing batch has a smaller one.
    pub(crate) fn next_batch_id(&self) -> u64 {
        self.next_batch_id
    }

    /// Appends one record to `tp`'s open batch (opening a new batch if it is full).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn append(
        &mut self,
        tp: &TopicPartition,
        timestamp: i64,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        headers: &[(String, Option<Bytes>)],
        memory: OwnedSemaphorePermit,
        incomplete: &Incomplete,
    ) -> Result<Appended, Error> {
        // Look up without cloning the key; only a partition's first batch clones it.
        let (batch_size, compression) = (self.batch_size, self.compression);
        if !self.queues.contains_key(tp) {
            self.queues.insert(tp.clone(), VecDeque::new());
        }
        let Some(queue) = self.queues.get_mut(tp) else {
            return Err(Error::Encode("accumulator queue vanished".into()));
        };
        let size = BatchBuilder::record_size_upper_bound(key, value, headers);
        let fits = queue.back().is_some_and(|b| {
            b.attempts == 0 && b.encoded.is_none() && b.builder.size() + size <= batch_size
        });
        if !fits {
            let id = self.next_batch_id;
            self.next_batch_id += 1;
            incomplete.insert(id);
            queue.push_back(ProducerBatch {
                id,
                tp: tp.clone(),
                builder: BatchBuilder::with_capacity(compression, batch_size),
                signal: BatchSignal::new(tp.clone()),
                created: Instant::now(),
                _memory: None,
                attempts: 0,
                encoded: None,
                retry_at: None,
                stamp: None,
                record_count: 0,
                outcome_unknown: false,
            });
        }
        let queued = queue.len();
        let Some(batch) = queue.back_mut() else {
            return Err(Error::Encode("accumulator queue vanished".into()));
        };
        let index = u32::try_from(batch.builder.len())
            .map_err(|_| Error::Encode("too many records in one batch".into()))?;
        batch.builder.append(timestamp, key, value, headers)?;
        batch.record_count += 1;
        match batch._memory.as_mut() {
            Some(m) => m.merge(memory),
            None => batch._memory = Some(memory),
        }
        let full = batch.builder.size() >= batch_size;
        Ok(Appended {
            wake: !fits || full || queued > 1,
            full,
            signal: Arc::clone(&batch.signal),
            index,
        })
    }

    /// Finds ready batches and expired ones. `per_partition` is how many batches of one
    /// partition may be in flight (1 without idempotence).
    pub(crate) fn scan(
        &mut self,
        now: Instant,
        delivery_timeout: Duration,
        per_partition: usize,
    ) -> Scan {
        let mut scan = Scan::default();
        let wake = |t: Instant, scan: &mut Scan| {
            scan.next_wakeup = Some(scan.next_wakeup.map_or(t, |w| w.min(t)));
        };
        for (tp, queue) in &mut self.queues {
            let in_flight = self.in_flight.get(tp).copied().unwrap_or(0);
            // A stamped batch may only expire when nothing of its partition is in flight:
            // its fate decides whether later sequences are still valid.
            while queue.front().is_some_and(|b| {
                now.duration_since(b.created) >= delivery_timeout
                    && (b.stamp.is_none() || in_flight == 0)
            }) {
                if let Some(b) = queue.pop_front() {
                    scan.expired.push(b);
                }
            }
            let Some(front) = queue.front() else { continue };
            let limit = if front.attempts > 0 { 1 } else { per_partition };
            if in_flight >= limit {
                continue;
            }
            if let Some(at) = front.retry_at
                && at > now
            {
                wake(at, &mut scan);
                continue;
            }
            let linger_done = front.created + self.linger;
            let ready = queue.len() > 1
                || front.attempts > 0
                || front.size() >= self.batch_size
                || now >= linger_done
                || front.id <= self.flush_up_to
                || self.closing;
            if ready {
                scan.ready.push(tp.clone());
            } else {
                wake(linger_done, &mut scan);
            }
        }
        self.queues.retain(|_, q| !q.is_empty());
        scan
    }

    /// Puts a batch back for a retry, in creation order among its partition's batches.
    pub(crate) fn requeue(&mut self, batch: ProducerBatch) {
        let queue = self.queues.entry(batch.tp.clone()).or_default();
        let at = queue
            .iter()
            .position(|b| b.id > batch.id)
            .unwrap_or(queue.len());
        queue.insert(at, batch);
    }

    /// Counts a batch of `tp` as sent.
    pub(crate) fn sent(&mut self, tp: &TopicPartition) {
        *self.in_flight.entry(tp.clone()).or_default() += 1;
    }

    /// Counts a batch of `tp` as answered.
    pub(crate) fn answered(&mut self, tp: &TopicPartition) {
        if let Some(n) = self.in_flight.get_mut(tp) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.in_flight.remove(tp);
            }
        }
    }

    /// Whether some queued batch was sent without an answer (the broker may have it).
    pub(crate) fn any_outcome_unknown(&self) -> bool {
        self.queues
            .values()
            .any(|q| q.iter().any(|b| b.outcome_unknown))
    }

    /// Whether nothing is queued or in flight.
    pub(crate) fn is_idle(&self) -> bool {
        self.queues.is_empty() && self.in_flight.is_empty()
    }
}
