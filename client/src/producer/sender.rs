//! The producer's background task: drains ready batches into Produce requests.
//!
//! One request per broker carries every ready partition that broker leads (up to
//! `max_request_size`); up to `max_in_flight` requests per broker are outstanding at once,
//! each on the broker's produce connection (pipelined). Completions come back to this task,
//! which completes the records, or re-queues a batch (at the front of its partition's queue)
//! for a retriable error after `retry_backoff`, refreshing metadata when the leader moved.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use bytes::Bytes;
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::{ApiKey, ProduceRequest, TopicName};
use kafka_protocol::protocol::StrBytes;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::Shared;
use super::accumulator::ProducerBatch;
use crate::cluster::{Purpose, needs_metadata_refresh};
use crate::config::{Acks, Compression};
use crate::error::{Error, KafkaCode};
use crate::records::BatchBuilder;

/// The outcome of one Produce request.
struct Completion {
    node: i32,
    batches: Vec<ProducerBatch>,
    /// Per batch (same order): `(base_offset, log_append_time)` or the error.
    results: Vec<Result<(i64, i64), Error>>,
}

pub(crate) async fn run(shared: Arc<Shared>) {
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<Completion>();
    let mut in_flight: HashMap<i32, usize> = HashMap::new();
    let mut refresh_wanted = false;
    loop {
        if refresh_wanted {
            refresh_wanted = false;
            shared.cluster.invalidate();
            // Wanted for every topic with queued batches; the interest set has them all.
            if let Err(e) = shared.cluster.refresh(&[]).await {
                tracing::debug!(error = %e, "producer metadata refresh failed");
            }
        }
        let now = Instant::now();
        let (requests, next_wakeup, unroutable) = {
            let mut acc = shared.lock_acc();
            let scan = acc.scan(now, shared.config.delivery_timeout);
            for b in scan.expired {
                let id = b.id;
                b.complete(Err(Error::Timeout(format!(
                    "record not delivered within delivery_timeout {:?}",
                    shared.config.delivery_timeout
                ))));
                shared.incomplete.remove(id);
            }
            let mut unroutable = false;
            let mut by_node: BTreeMap<i32, Vec<ProducerBatch>> = BTreeMap::new();
            let mut sizes: HashMap<i32, usize> = HashMap::new();
            for tp in scan.ready {
                let Some(leader) = shared.cluster.cached_leader(&tp.topic, tp.partition) else {
                    unroutable = true;
                    continue;
                };
                if in_flight.get(&leader).copied().unwrap_or(0) >= shared.config.max_in_flight {
                    continue;
                }
                let size = sizes.entry(leader).or_default();
                let Some(queue) = acc.queues.get_mut(&tp) else {
                    continue;
                };
                let next_size = queue.front().map_or(0, ProducerBatch::size);
                if *size > 0 && *size + next_size > shared.config.max_request_size {
                    continue;
                }
                let Some(batch) = queue.pop_front() else {
                    continue;
                };
                *size += next_size;
                acc.in_flight.insert(tp.clone());
                if let Some(n) = shared.cluster.cached_partition_count(&tp.topic) {
                    acc.sticky.on_new_batch(&tp.topic, tp.partition, n);
                }
                by_node.entry(leader).or_default().push(batch);
            }
            let wake = scan.next_wakeup;
            (by_node, wake, unroutable)
        };
        for (node, batches) in requests {
            *in_flight.entry(node).or_default() += 1;
            let tx = done_tx.clone();
            let sh = shared.clone();
            tokio::spawn(async move {
                let c = send_request(&sh, node, batches).await;
                let _ = tx.send(c);
            });
        }
        if unroutable {
            refresh_wanted = true;
        }

        let idle = shared.lock_acc().is_idle();
        if idle && shared.stopping.load(Ordering::Acquire) {
            return;
        }
        let sleep_until = if unroutable {
            Some(Instant::now() + shared.config.retry_backoff)
        } else {
            next_wakeup
        };
        tokio::select! {
            _ = shared.wakeup.notified() => {}
            Some(c) = done_rx.recv() => {
                if let Some(n) = in_flight.get_mut(&c.node) {
                    *n = n.saturating_sub(1);
                }
                refresh_wanted |= handle_completion(&shared, c);
                // Drain any other completions without waiting.
                while let Ok(c) = done_rx.try_recv() {
                    if let Some(n) = in_flight.get_mut(&c.node) {
                        *n = n.saturating_sub(1);
                    }
                    refresh_wanted |= handle_completion(&shared, c);
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

/// Completes or re-queues the batches of one request; returns whether metadata is stale.
fn handle_completion(shared: &Shared, c: Completion) -> bool {
    let mut refresh = false;
    let mut acc = shared.lock_acc();
    for (mut batch, result) in c.batches.into_iter().zip(c.results) {
        acc.in_flight.remove(&batch.tp);
        match result {
            Ok(r) => {
                let id = batch.id;
                batch.complete(Ok(r));
                shared.incomplete.remove(id);
            }
            Err(e) => {
                let code = e.kafka_code();
                if code.is_none_or(needs_metadata_refresh) {
                    refresh = true;
                }
                let expired = batch.created.elapsed() >= shared.config.delivery_timeout;
                if e.is_retriable() && batch.attempts < shared.config.retries && !expired {
                    tracing::debug!(tp = %batch.tp, error = %e, attempt = batch.attempts + 1, "retrying batch");
                    batch.attempts += 1;
                    batch.retry_at = Some(Instant::now() + shared.config.retry_backoff);
                    acc.queues
                        .entry(batch.tp.clone())
                        .or_default()
                        .push_front(batch);
                } else {
                    let id = batch.id;
                    batch.complete(Err(e));
                    shared.incomplete.remove(id);
                }
            }
        }
    }
    drop(acc);
    shared.wakeup.notify_one();
    refresh
}

/// Encodes the batches into one Produce request, sends it, and maps the response.
async fn send_request(shared: &Shared, node: i32, mut batches: Vec<ProducerBatch>) -> Completion {
    let results = match try_send(shared, node, &mut batches).await {
        Ok(r) => r,
        Err(e) => batches.iter().map(|_| Err(e.clone())).collect(),
    };
    Completion {
        node,
        batches,
        results,
    }
}

/// `(error code, base offset, log append time, error message)` of one partition.
type PartitionOutcome = (i16, i64, i64, Option<String>);

async fn try_send(
    shared: &Shared,
    node: i32,
    batches: &mut [ProducerBatch],
) -> Result<Vec<Result<(i64, i64), Error>>, Error> {
    let mut encoded: Vec<Bytes> = Vec::with_capacity(batches.len());
    for b in batches.iter_mut() {
        let bytes = match &b.encoded {
            Some(e) => e.clone(),
            None => {
                // Encoded once, in place (no copy of uncompressed records); retries reuse it.
                let builder =
                    std::mem::replace(&mut b.builder, BatchBuilder::new(Compression::None));
                let e = builder.finish(0)?;
                b.encoded = Some(e.clone());
                e
            }
        };
        encoded.push(bytes);
    }
    let conn = shared
        .cluster
        .broker_connection(node, Purpose::Produce)
        .await?;
    let v = conn.version(ApiKey::Produce)?;
    let mut by_topic: BTreeMap<&str, Vec<PartitionProduceData>> = BTreeMap::new();
    for (b, bytes) in batches.iter().zip(&encoded) {
        let mut p = PartitionProduceData::default();
        p.index = b.tp.partition;
        p.records = Some(bytes.clone());
        by_topic.entry(b.tp.topic.as_str()).or_default().push(p);
    }
    let mut req = ProduceRequest::default();
    req.acks = shared.config.acks.wire();
    let timeout = shared.cluster.request_timeout();
    req.timeout_ms = i32::try_from(timeout.as_millis()).unwrap_or(i32::MAX);
    req.topic_data = by_topic
        .into_iter()
        .map(|(name, partitions)| {
            let mut t = TopicProduceData::default();
            t.name = TopicName(StrBytes::from_string(name.to_owned()));
            t.partition_data = partitions;
            t
        })
        .collect();
    if shared.config.acks == Acks::None {
        conn.send_no_response(&req, v, timeout).await?;
        return Ok(batches.iter().map(|_| Ok((-1, -1))).collect());
    }
    let resp = conn.send(&req, v, timeout).await?;
    let mut found: HashMap<(&str, i32), PartitionOutcome> = HashMap::new();
    for t in &resp.responses {
        for p in &t.partition_responses {
            found.insert(
                (t.name.0.as_str(), p.index),
                (
                    p.error_code,
                    p.base_offset,
                    p.log_append_time_ms,
                    p.error_message.as_ref().map(|m| m.to_string()),
                ),
            );
        }
    }
    Ok(batches
        .iter()
        .map(
            |b| match found.get(&(b.tp.topic.as_str(), b.tp.partition)) {
                Some((0, base, lat, _)) => Ok((*base, *lat)),
                Some((code, _, _, msg)) => {
                    let mut ctx = format!("produce to {}", b.tp);
                    if let Some(m) = msg.as_deref().filter(|m| !m.is_empty()) {
                        ctx = format!("{ctx} ({m})");
                    }
                    Err(Error::kafka(KafkaCode::from(*code), ctx))
                }
                None => Err(Error::Protocol(format!(
                    "Produce response from {} lacks {}",
                    conn.broker(),
                    b.tp
                ))),
            },
        )
        .collect())
}
