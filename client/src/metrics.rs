//! Counters a [`Client`](crate::Client) keeps, readable at any time with
//! [`Client::metrics`](crate::Client::metrics).
//!
//! Plain relaxed atomics: incrementing one costs a few nanoseconds, so they are always on.
//! A snapshot is not taken atomically across counters (each is exact by itself).

use std::sync::atomic::{AtomicU64, Ordering};

/// The live counters, shared by every part of one client.
#[derive(Debug, Default)]
pub(crate) struct Metrics {
    pub(crate) requests: AtomicU64,
    pub(crate) request_errors: AtomicU64,
    pub(crate) bytes_sent: AtomicU64,
    pub(crate) bytes_received: AtomicU64,
    pub(crate) connections_opened: AtomicU64,
    pub(crate) records_produced: AtomicU64,
    pub(crate) record_errors: AtomicU64,
    pub(crate) batches_produced: AtomicU64,
    pub(crate) batch_bytes_total: AtomicU64,
    pub(crate) batch_bytes_max: AtomicU64,
    pub(crate) retries: AtomicU64,
    pub(crate) producer_id_resets: AtomicU64,
    pub(crate) records_consumed: AtomicU64,
    pub(crate) record_bytes_consumed: AtomicU64,
    pub(crate) fetches: AtomicU64,
    pub(crate) rebalances: AtomicU64,
    pub(crate) commits: AtomicU64,
}

impl Metrics {
    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn inc(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one acknowledged batch of `records` records and `bytes` encoded bytes.
    pub(crate) fn batch(&self, records: u64, bytes: u64) {
        Self::inc(&self.batches_produced);
        Self::add(&self.records_produced, records);
        Self::add(&self.batch_bytes_total, bytes);
        self.batch_bytes_max.fetch_max(bytes, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> MetricsSnapshot {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        MetricsSnapshot {
            requests: get(&self.requests),
            request_errors: get(&self.request_errors),
            bytes_sent: get(&self.bytes_sent),
            bytes_received: get(&self.bytes_received),
            connections_opened: get(&self.connections_opened),
            records_produced: get(&self.records_produced),
            record_errors: get(&self.record_errors),
            batches_produced: get(&self.batches_produced),
            batch_bytes_total: get(&self.batch_bytes_total),
            batch_bytes_max: get(&self.batch_bytes_max),
            retries: get(&self.retries),
            producer_id_resets: get(&self.producer_id_resets),
            records_consumed: get(&self.records_consumed),
            record_bytes_consumed: get(&self.record_bytes_consumed),
            fetches: get(&self.fetches),
            rebalances: get(&self.rebalances),
            commits: get(&self.commits),
        }
    }
}

/// A copy of a client's counters. Everything counts since the client was created and is
/// shared by all producers, consumers and admin calls made from it (and its clones).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct MetricsSnapshot {
    /// Requests sent (every API, including ApiVersions and SASL).
    pub requests: u64,
    /// Requests that failed without a response (I/O error, timeout, closed connection).
    /// Kafka error codes inside responses are not counted here.
    pub request_errors: u64,
    /// Bytes written to brokers, frame headers included.
    pub bytes_sent: u64,
    /// Bytes read from brokers, frame headers included.
    pub bytes_received: u64,
    /// TCP connections opened (after TLS/SASL succeeded).
    pub connections_opened: u64,
    /// Records the broker acknowledged.
    pub records_produced: u64,
    /// Records whose delivery failed for good.
    pub record_errors: u64,
    /// Batches the broker acknowledged.
    pub batches_produced: u64,
    /// Encoded (possibly compressed) bytes of those batches.
    pub batch_bytes_total: u64,
    /// The largest acknowledged batch, in encoded bytes.
    pub batch_bytes_max: u64,
    /// Batch retries (each retried send of a batch counts once).
    pub retries: u64,
    /// New producer ids taken after the broker lost sequence state (idempotence).
    pub producer_id_resets: u64,
    /// Records handed to the application by consumers.
    pub records_consumed: u64,
    /// Key plus value bytes of those records.
    pub record_bytes_consumed: u64,
    /// Fetch requests sent by consumers.
    pub fetches: u64,
    /// Consumer group joins completed (first join included).
    pub rebalances: u64,
    /// Offset commits that succeeded.
    pub commits: u64,
}

impl MetricsSnapshot {
    /// Average encoded batch size, 0 before the first batch.
    pub fn batch_bytes_avg(&self) -> u64 {
        self.batch_bytes_total
            .checked_div(self.batches_produced)
            .unwrap_or(0)
    }
}
