//! One Produce request: encoding the batches of one broker and mapping its response.

use std::collections::{BTreeMap, HashMap};

use bytes::Bytes;
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::{ApiKey, ProduceRequest, TopicName};
use kafka_protocol::protocol::StrBytes;

use super::Shared;
use super::accumulator::ProducerBatch;
use crate::cluster::Purpose;
use crate::config::{Acks, Compression};
use crate::error::{Error, KafkaCode};
use crate::records::BatchBuilder;

/// `(error code, base offset, log append time, error message)` of one partition.
type PartitionOutcome = (i16, i64, i64, Option<String>);

/// Per batch: `(base_offset, log_append_time)` or the error.
pub(crate) type BatchResults = Vec<Result<(i64, i64), Error>>;

/// Encodes `batches` (each already stamped if idempotent) into one Produce request to
/// `node`, sends it and maps the answer per batch. An error for the request as a whole
/// (connection, timeout) is returned as `Err`.
pub(crate) async fn send(
    shared: &Shared,
    node: i32,
    batches: &mut [ProducerBatch],
) -> Result<BatchResults, Error> {
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
