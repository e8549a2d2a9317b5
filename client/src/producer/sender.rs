//! The producer's background task: drains ready batches into Produce requests.
//!
//! One request per broker carries every ready partition that broker leads (up to
//! `max_request_size`); up to `max_in_flight` requests per broker are outstanding at once,
//! each on the broker's produce connection (pipelined). Completions come back to this task,
//! which completes the records, or puts a batch back (in creation order) for a retriable
//! error after an exponential back-off with jitter that never outlasts the delivery timeout,
//! refreshing metadata when the leader moved.
//!
//! Idempotence (see `idempotence.rs`): before the first batch is sent the task asks for a
//! producer id; each batch is stamped when first sent. With [`Idempotence::Auto`] a broker
//! without InitProducerId (or one that refuses it) turns idempotence off, as Java does.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use tokio::sync::mpsc;
use tokio::time::Instant;

use super::Shared;
use super::accumulator::ProducerBatch;
use super::idempotence::Verdict;
use super::init::init_producer_id;
use super::request::{self, BatchResults};
use crate::backoff::backoff;
use crate::cluster::needs_metadata_refresh;
use crate::config::{Idempotence, MAX_IDEMPOTENT_IN_FLIGHT};
use crate::error::Error;
use crate::metrics::Metrics;
use crate::records::restamp;

/// The outcome of one Produce request.
struct Completion {
    node: i32,
    batches: Vec<ProducerBatch>,
    results: BatchResults,
}

/// Where idempotence stands.
#[derive(Debug, Clone)]
enum Mode {
    /// Wanted; on once a producer id arrived.
    Idempotent,
    /// Not idempotent (not asked for, `acks != all`, or the broker cannot).
    Plain,
    /// Required, but the broker cannot: every batch fails with this.
    Broken(Error),
}

pub(crate) async fn run(shared: Arc<Shared>) {
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<Completion>();
    let mut requests_in_flight: HashMap<i32, usize> = HashMap::new();
    let mut refresh_wanted = false;
    let mut mode = if shared.config.wants_idempotence() {
        Mode::Idempotent
    } else {
        Mode::Plain
    };
    let mut init_attempts = 0u32;
    let mut init_retry_at: Option<Instant> = None;
    loop {
        while let Ok(c) = done_rx.try_recv() {
            if let Some(n) = requests_in_flight.get_mut(&c.node) {
                *n = n.saturating_sub(1);
            }
            refresh_wanted |= handle_completion(&shared, c);
        }
        if refresh_wanted {
            refresh_wanted = false;
            shared.cluster.invalidate();
        }
        // Wanted for every topic with queued batches; the interest set has them all. Also
        // the periodic refresh (`metadata_max_age`) while the producer is busy.
        if !shared.lock_acc().queues.is_empty()
            && let Err(e) = shared.cluster.refresh_if_stale().await
        {
            tracing::debug!(error = %e, "producer metadata refresh failed");
        }
        if matches!(mode, Mode::Idempotent) && init_retry_at.is_none_or(|t| t <= Instant::now()) {
            init_retry_at = None;
            if needs_producer_id(&shared, &requests_in_flight) {
                match init_producer_id(&shared.cluster).await {
                    Ok(pid) => {
                        init_attempts = 0;
                        let mut acc = shared.lock_acc();
                        if acc.sequences.current().is_some() {
                            Metrics::inc(&shared.cluster.metrics().producer_id_resets);
                        }
                        tracing::debug!(
                            producer_id = pid.id,
                            epoch = pid.epoch,
                            "idempotent producer id"
                        );
                        acc.sequences.install(pid);
                    }
                    Err(e) if e.is_retriable() => {
                        init_attempts += 1;
                        let wait = backoff(
                            shared.config.retry_backoff,
                            shared.config.retry_backoff_max,
                            init_attempts,
                        );
                        tracing::debug!(error = %e, "InitProducerId failed, retrying");
                        init_retry_at = Some(Instant::now() + wait);
                    }
                    Err(e) => {
                        if shared.config.idempotence == Idempotence::Required {
                            tracing::warn!(error = %e, "idempotence required but unavailable");
                            mode = Mode::Broken(e);
                        } else {
                            tracing::info!(error = %e, "broker offers no idempotence; producing without it");
                            mode = Mode::Plain;
                        }
                    }
                }
            }
        }

        let now = Instant::now();
        let (requests, next_wakeup, unroutable) = {
            let mut acc = shared.lock_acc();
            let per_partition = match mode {
                Mode::Idempotent if acc.sequences.current().is_some() => {
                    shared.config.max_in_flight.min(MAX_IDEMPOTENT_IN_FLIGHT)
                }
                _ => 1,
            };
            let scan = acc.scan(now, shared.config.delivery_timeout, per_partition);
            for b in scan.expired {
                if let Some(st) = &b.stamp {
                    acc.sequences.failed(st);
                }
                fail(
                    &shared,
                    b,
                    Error::Timeout(format!(
                        "record not delivered within delivery_timeout {:?}",
                        shared.config.delivery_timeout
                    )),
                );
            }
            let mut unroutable = false;
            let mut by_node: BTreeMap<i32, Vec<ProducerBatch>> = BTreeMap::new();
            let mut sizes: HashMap<i32, usize> = HashMap::new();
            for tp in scan.ready {
                if let Mode::Broken(e) = &mode {
                    if let Some(q) = acc.queues.remove(&tp) {
                        for b in q {
                            fail(&shared, b, e.clone());
                        }
                    }
                    continue;
                }
                let Some(leader) = shared.cluster.cached_leader(&tp.topic, tp.partition) else {
                    unroutable = true;
                    continue;
                };
                if requests_in_flight.get(&leader).copied().unwrap_or(0)
                    >= shared.config.max_in_flight
                {
                    continue;
                }
                let idempotent = matches!(mode, Mode::Idempotent);
                let Some(front) = acc.queues.get(&tp).and_then(|q| q.front()) else {
                    continue;
                };
                if idempotent {
                    if acc.sequences.current().is_none() {
                        continue;
                    }
                    // While a new producer id is pending only batches whose fate is unknown
                    // go out (with their old stamp), so they are never re-stamped unresolved.
                    let resend_as_is = front.outcome_unknown
                        && front.stamp.is_some_and(|st| acc.sequences.is_current(&st));
                    if acc.sequences.reset_wanted && !resend_as_is {
                        continue;
                    }
                }
                let next_size = front.size();
                let size = sizes.entry(leader).or_default();
                if *size > 0 && *size + next_size > shared.config.max_request_size {
                    continue;
                }
                let Some(mut batch) = acc.queues.get_mut(&tp).and_then(|q| q.pop_front()) else {
                    continue;
                };
                *size += next_size;
                if idempotent && batch.stamp.is_none_or(|st| !acc.sequences.is_current(&st)) {
                    let count = i32::try_from(batch.record_count).unwrap_or(i32::MAX);
                    if let Some(st) = acc.sequences.stamp(&tp, count) {
                        let (id, epoch, seq) =
                            (st.producer.id, st.producer.epoch, st.base_sequence);
                        match batch.encoded.take() {
                            // Encoded under an old producer id: patch the header in place.
                            Some(bytes) => match restamp(&bytes, id, epoch, seq) {
                                Ok(b) => batch.encoded = Some(b),
                                Err(e) => {
                                    fail(&shared, batch, e);
                                    continue;
                                }
                            },
                            None => batch.builder.set_producer(id, epoch, seq),
                        }
                        batch.stamp = Some(st);
                    }
                }
                acc.sent(&tp);
                if let Some(n) = shared.cluster.cached_partition_count(&tp.topic) {
                    acc.sticky.on_new_batch(&tp.topic, tp.partition, n);
                }
                by_node.entry(leader).or_default().push(batch);
            }
            (by_node, scan.next_wakeup, unroutable)
        };
        let drained_any = !requests.is_empty();
        for (node, mut batches) in requests {
            *requests_in_flight.entry(node).or_default() += 1;
            let tx = done_tx.clone();
            let sh = shared.clone();
            tokio::spawn(async move {
                let results = match request::send(&sh, node, &mut batches).await {
                    Ok(r) => r,
                    Err(e) => batches.iter().map(|_| Err(e.clone())).collect(),
                };
                let _ = tx.send(Completion {
                    node,
                    batches,
                    results,
                });
            });
        }
        if unroutable {
            refresh_wanted = true;
        }

        let idle = shared.lock_acc().is_idle();
        if idle && shared.stopping.load(Ordering::Acquire) {
            return;
        }
        if drained_any {
            // A request carries one batch per partition: look again for the next batches
            // of the same partitions (idempotence allows several in flight).
            tokio::task::yield_now().await;
            continue;
        }
        let mut sleep_until = if unroutable {
            Some(Instant::now() + shared.config.retry_backoff)
        } else {
            next_wakeup
        };
        if let Some(t) = init_retry_at {
            sleep_until = Some(sleep_until.map_or(t, |s| s.min(t)));
        }
        tokio::select! {
            _ = shared.wakeup.notified() => {}
            Some(c) = done_rx.recv() => {
                let mut next = Some(c);
                while let Some(c) = next {
                    if let Some(n) = requests_in_flight.get_mut(&c.node) {
                        *n = n.saturating_sub(1);
                    }
                    refresh_wanted |= handle_completion(&shared, c);
                    next = done_rx.try_recv().ok();
                }
            }
            _ = async {
                match sleep_until {
                    Some(t) => tokio::time::sleep_until(t).await,
                    None => std::future::pending().await,
                }
            } => {}
        }
    }
}

/// Whether a (new) producer id must be fetched now: none yet and something is queued, or a
/// reset is wanted and nothing is in flight or of unknown fate.
fn needs_producer_id(shared: &Shared, requests_in_flight: &HashMap<i32, usize>) -> bool {
    let acc = shared.lock_acc();
    if acc.queues.is_empty() {
        return false;
    }
    match acc.sequences.current() {
        None => true,
        Some(_) => {
            acc.sequences.reset_wanted
                && requests_in_flight.values().all(|n| *n == 0)
                && acc.in_flight.is_empty()
                && !acc.any_outcome_unknown()
        }
    }
}

/// Fails every record of `batch` with `e`.
fn fail(shared: &Shared, batch: ProducerBatch, e: Error) {
    let id = batch.id;
    Metrics::add(
        &shared.cluster.metrics().record_errors,
        u64::from(batch.record_count),
    );
    batch.complete(Err(e));
    shared.incomplete.remove(id);
}

/// Completes or re-queues the batches of one request; returns whether metadata is stale.
fn handle_completion(shared: &Shared, c: Completion) -> bool {
    let mut refresh = false;
    let metrics = shared.cluster.metrics();
    let mut acc = shared.lock_acc();
    for (mut batch, result) in c.batches.into_iter().zip(c.results) {
        acc.answered(&batch.tp);
        let e = match result {
            Ok(r) => {
                if let Some(st) = &batch.stamp {
                    acc.sequences.acknowledged(&batch.tp, st);
                }
                let bytes = batch.encoded.as_ref().map_or(0, |b| b.len() as u64);
                metrics.batch(u64::from(batch.record_count), bytes);
                let id = batch.id;
                batch.complete(Ok(r));
                shared.incomplete.remove(id);
                continue;
            }
            Err(e) => e,
        };
        let code = e.kafka_code();
        if code.is_none_or(needs_metadata_refresh) {
            refresh = true;
        }
        let deadline = batch.created + shared.config.delivery_timeout;
        let now = Instant::now();
        let may_retry = batch.attempts < shared.config.retries && now < deadline;
        let verdict = match &batch.stamp {
            Some(st) => {
                let st = *st;
                acc.sequences
                    .on_error(&batch.tp, &st, code, e.is_retriable(), may_retry)
            }
            None if e.is_retriable() && may_retry => Verdict::Retry,
            None => Verdict::Fail,
        };
        match verdict {
            Verdict::Written => {
                if let Some(st) = &batch.stamp {
                    acc.sequences.acknowledged(&batch.tp, st);
                }
                let id = batch.id;
                batch.complete(Ok((-1, -1)));
                shared.incomplete.remove(id);
            }
            Verdict::Retry => {
                tracing::debug!(tp = %batch.tp, error = %e, attempt = batch.attempts + 1, "retrying batch");
                Metrics::inc(&metrics.retries);
                batch.attempts += 1;
                let wait = backoff(
                    shared.config.retry_backoff,
                    shared.config.retry_backoff_max,
                    batch.attempts,
                );
                batch.retry_at = Some((now + wait).min(deadline));
                // Without an answer the broker may have written it (it must keep its stamp);
                // a refused connection means it never left.
                batch.outcome_unknown = code.is_none()
                    && !matches!(e, Error::ConnectionRefused { .. } | Error::Connect { .. });
                acc.requeue(batch);
            }
            Verdict::Fail => fail(shared, batch, e),
        }
    }
    drop(acc);
    shared.wakeup.notify_one();
    refresh
}
