//! Produce (key 0), versions 0–11.
//!
//! Appends each partition's record batch to its log as received: the batch must be exactly
//! one magic-2 batch whose length, CRC-32C and record count check out (uncompressed batches
//! also have their records' framing walked); compressed batches are stored compressed. The
//! broker stamps the base offset and partition leader epoch and nothing else.
//! - Per-partition errors, the rest of the request proceeds: UNKNOWN_TOPIC_OR_PARTITION (topics
//!   are never auto-created by Produce, as in Kafka), CORRUPT_MESSAGE (bad length, magic, CRC,
//!   counts or record framing), INVALID_RECORD (not exactly one batch; transactional or control
//!   batches, since transactions are not supported; an idempotent batch with a negative
//!   sequence), MESSAGE_TOO_LARGE (> the topic's `max.message.bytes`, which defaults to the
//!   broker's `message.max.bytes`).
//! - Idempotent batches (producer id >= 0, from InitProducerId) are checked per (producer id,
//!   epoch, partition) before they are appended (see `log::producer_state`): a retried batch
//!   already appended is answered with its original base offset and not appended again;
//!   a sequence gap gets OUT_OF_ORDER_SEQUENCE_NUMBER, an older epoch INVALID_PRODUCER_EPOCH.
//! - acks must be -1, 0 or 1 (else INVALID_REQUIRED_ACKS). With a data directory, acks=-1
//!   answers once the batch is synced to disk (`storage`), acks=1 once it is written. With
//!   acks=0 no response is written at all; if any partition failed (unknown topic, not the
//!   leader, too large, a sequence error...) the connection is closed instead, as Kafka does,
//!   so the client notices and refreshes its metadata. A write that fails (disk full) answers
//!   KAFKA_STORAGE_ERROR and leaves the log unchanged.
//! - v0–2: served because librdkafka before 2.10 only compresses gzip, snappy and lz4 when a
//!   broker's Produce range includes v0. The bodies are v3 bodies without the transactional id
//!   and are answered in their own layouts ([`legacy`]). Clients that really speak v0–2 send
//!   message format 0/1, which is refused with UNSUPPORTED_FOR_MESSAGE_FORMAT (the broker
//!   stores format 2 only, like Kafka 4).
//! - A partition the receiving node does not lead gets NOT_LEADER_OR_FOLLOWER; an injected
//!   fault's error pre-empts the append (`route::partition_gate`).
//! - v3: transactional id (ignored unless batches are transactional). v5+: log start offset.
//!   v8+: per-partition error message (record_errors stay empty). v9+: flexible. v10+: with
//!   NOT_LEADER_OR_FOLLOWER, the current leader (tagged `current_leader`) and its endpoint
//!   (`node_endpoints`), KIP-951.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::produce_response::{PartitionProduceResponse, TopicProduceResponse};
use kafka_protocol::messages::{ProduceRequest, ProduceResponse};

use bytes::Bytes;

use super::route::{self, Refusal};
use super::{Outcome, RequestContext, sb};
use crate::log::{self, BatchError};
use crate::protocol::EncodeError;
use crate::state::{AppendError, BrokerState};

mod legacy;

pub(crate) const VERSIONS: (i16, i16) = (0, 11);

/// Decodes a Produce body of any served version into the crate's request type.
pub(crate) fn decode(ctx: &RequestContext, body: Bytes) -> Result<ProduceRequest, ResponseError> {
    if ctx.api_version < 3 {
        legacy::decode(ctx, body)
    } else {
        super::decode(ctx, body)
    }
}

/// Encodes a Produce response in the request's version.
pub(crate) fn encode(
    ctx: &RequestContext,
    response: &ProduceResponse,
) -> Result<Outcome, EncodeError> {
    if ctx.api_version < 3 {
        Ok(Outcome::Respond(legacy::encode(ctx, response)))
    } else {
        super::encode(ctx, response)
    }
}

fn partition_error(
    index: i32,
    e: ResponseError,
    message: String,
    v: i16,
) -> PartitionProduceResponse {
    let r = PartitionProduceResponse::default()
        .with_index(index)
        .with_error_code(e.code())
        .with_base_offset(-1)
        .with_log_append_time_ms(-1)
        .with_log_start_offset(-1);
    if v >= 8 {
        r.with_error_message(Some(sb(message)))
    } else {
        r
    }
}

/// Transactions are not supported; Kafka also refuses control batches from clients.
fn reject_transactional(records: &[u8]) -> Option<String> {
    let header = log::batch::parse_header(records).ok()?;
    if header.is_control() {
        Some("control batches may not be produced by clients".into())
    } else if header.is_transactional() {
        Some("transactional batches are not supported by the kt broker".into())
    } else {
        None
    }
}

/// The partition answer to a routing refusal; v10+ carries the current leader.
fn refused(index: i32, r: Refusal, v: i16) -> PartitionProduceResponse {
    let out = partition_error(index, r.error, format!("{:?}", r.error), v);
    match r.current_leader {
        Some((leader, epoch)) if v >= 10 => out.with_current_leader(
            kafka_protocol::messages::produce_response::LeaderIdAndEpoch::default()
                .with_leader_id(kafka_protocol::messages::BrokerId(leader))
                .with_leader_epoch(epoch),
        ),
        _ => out,
    }
}

/// What a Produce request gets back.
#[derive(Debug)]
pub(crate) enum Answer {
    Response(ProduceResponse),
    /// acks=0, all appended: nothing is written back.
    Nothing,
    /// acks=0 and some partition failed: the connection is closed (Kafka's way of telling an
    /// acks=0 client something went wrong).
    Close,
}

pub(crate) async fn handle(
    state: &BrokerState,
    ctx: &RequestContext,
    req: ProduceRequest,
) -> Answer {
    let v = ctx.api_version;
    let acks_valid = matches!(req.acks, -1..=1);
    let mut refusals = Vec::new();
    // (topic position, partition position, durability to wait for with acks=all)
    let mut syncs = Vec::new();
    let mut responses: Vec<TopicProduceResponse> = req
        .topic_data
        .into_iter()
        .enumerate()
        .map(|(ti, t)| {
            let topic = state.topic(t.name.0.as_str());
            let max_message_bytes = topic
                .as_ref()
                .map_or(state.max_message_bytes, |t| t.configs().max_message_bytes(state.max_message_bytes));
            let partitions = t
                .partition_data
                .into_iter()
                .enumerate()
                .map(|(pi, p)| {
                    if !acks_valid {
                        return partition_error(p.index, ResponseError::InvalidRequiredAcks, "acks must be -1, 0 or 1".into(), v);
                    }
                    let Some(partition) = topic.as_ref().and_then(|t| t.partition(p.index)) else {
                        return partition_error(
                            p.index,
                            ResponseError::UnknownTopicOrPartition,
                            "This server does not host this topic-partition.".into(),
                            v,
                        );
                    };
                    if let Err(r) = route::partition_gate(state, ctx, t.name.0.as_str(), partition) {
                        refusals.push(r);
                        return refused(p.index, r, v);
                    }
                    let records = p.records.unwrap_or_default();
                    if let Some(why) = reject_transactional(&records) {
                        return partition_error(p.index, ResponseError::InvalidRecord, why, v);
                    }
                    match partition.append(&records, max_message_bytes) {
                        Ok(out) => {
                            if out.duplicate {
                                tracing::debug!(client = %ctx.client_host, topic = %t.name.0.as_str(), partition = p.index, base_offset = out.base_offset, "duplicate idempotent batch answered with its original offsets");
                            }
                            if let Some(sync) = out.sync {
                                syncs.push((ti, pi, sync));
                            }
                            PartitionProduceResponse::default()
                                .with_index(p.index)
                                .with_base_offset(out.base_offset)
                                .with_log_append_time_ms(-1)
                                .with_log_start_offset(out.log_start_offset)
                        }
                        Err(e) => {
                            tracing::debug!(client = %ctx.client_host, topic = %t.name.0.as_str(), partition = p.index, "produce rejected: {e}");
                            let code = match e {
                                AppendError::Corrupt(BatchError::Magic(_)) if v < 3 => {
                                    ResponseError::UnsupportedForMessageFormat
                                }
                                AppendError::Corrupt(_) => ResponseError::CorruptMessage,
                                AppendError::BatchCount(_) => ResponseError::InvalidRecord,
                                AppendError::TooLarge { .. } => ResponseError::MessageTooLarge,
                                AppendError::Storage(_) => {
                                    tracing::error!(topic = %t.name.0.as_str(), partition = p.index, "produce failed: {e}");
                                    ResponseError::KafkaStorageError
                                }
                                AppendError::InvalidSequence { .. } => ResponseError::InvalidRecord,
                                AppendError::InvalidProducerEpoch { .. } => ResponseError::InvalidProducerEpoch,
                                AppendError::OutOfOrderSequence { .. } => ResponseError::OutOfOrderSequenceNumber,
                            };
                            partition_error(p.index, code, e.to_string(), v)
                        }
                    }
                })
                .collect();
            TopicProduceResponse::default().with_name(t.name).with_partition_responses(partitions)
        })
        .collect();
    if req.acks == 0 {
        // Nothing is written back; a failure closes the connection instead, as Kafka does, so
        // the client notices (and refreshes its metadata) rather than losing records silently.
        let failed: Vec<String> = responses
            .iter()
            .flat_map(|t| {
                t.partition_responses
                    .iter()
                    .filter(|p| p.error_code != 0)
                    .map(move |p| {
                        format!("{}-{} (error {})", t.name.0.as_str(), p.index, p.error_code)
                    })
            })
            .collect();
        if !failed.is_empty() {
            tracing::info!(client = %ctx.client_host, client_id = %ctx.client_id, partitions = ?failed, "acks=0 produce failed; closing the connection so the client notices");
            return Answer::Close;
        }
        return Answer::Nothing;
    }
    if req.acks == -1 {
        // acks=all: answered once durable (storage::sync; a no-op for memory logs).
        for (ti, pi, (handle, target)) in syncs {
            if let Err(e) = handle.wait(target).await {
                tracing::error!("acks=all produce not durable: {e}");
                let slot = &mut responses[ti].partition_responses[pi];
                *slot = partition_error(
                    slot.index,
                    ResponseError::KafkaStorageError,
                    e.to_string(),
                    v,
                );
            }
        }
    }
    let mut response = ProduceResponse::default().with_responses(responses);
    if v >= 10 {
        response.node_endpoints = route::leader_endpoints(state, refusals)
            .iter()
            .map(|n| {
                let (id, host, port) = route::endpoint_fields(n);
                kafka_protocol::messages::produce_response::NodeEndpoint::default()
                    .with_node_id(id)
                    .with_host(host)
                    .with_port(port)
                    .with_rack(n.rack.clone().map(sb))
            })
            .collect();
    }
    Answer::Response(response)
}

pub(crate) fn error_response(_e: ResponseError, _v: i16) -> ProduceResponse {
    ProduceResponse::default()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::api::test_util::{ctx, encode_all_versions};
    use crate::log::batch::tests::{build_batch, build_batch_with};
    use bytes::Bytes;
    use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
    use kafka_protocol::messages::{ApiKey, TopicName};

    /// Runs the handler to completion (memory logs never wait for a sync).
    pub(crate) fn handle_now(
        s: &BrokerState,
        c: &RequestContext,
        r: ProduceRequest,
    ) -> Option<ProduceResponse> {
        match futures::executor::block_on(handle(s, c, r)) {
            Answer::Response(r) => Some(r),
            Answer::Nothing | Answer::Close => None,
        }
    }

    pub(crate) fn produce_req(
        topic: &str,
        parts: Vec<(i32, Vec<u8>)>,
        acks: i16,
    ) -> ProduceRequest {
        ProduceRequest::default()
            .with_acks(acks)
            .with_topic_data(vec![
                TopicProduceData::default()
                    .with_name(TopicName(sb(topic)))
                    .with_partition_data(
                        parts
                            .into_iter()
                            .map(|(i, b)| {
                                PartitionProduceData::default()
                                    .with_index(i)
                                    .with_records(Some(Bytes::from(b)))
                            })
                            .collect(),
                    ),
            ])
    }

    #[test]
    fn offsets_advance_and_errors_are_per_partition() {
        let s = BrokerState::for_tests();
        let mut t = crate::state::NewTopic::with_defaults("t");
        t.num_partitions = 2;
        s.create_topic(&t, false).unwrap();
        let batch = build_batch(&[(None, Some(b"a"), 1), (None, Some(b"b"), 2)]);
        let mut corrupt = batch.clone();
        let at = corrupt.len() - 1;
        corrupt[at] ^= 1;
        let r = handle_now(
            &s,
            &ctx(ApiKey::Produce, 9),
            produce_req(
                "t",
                vec![(0, batch.clone()), (1, corrupt), (7, batch.clone())],
                1,
            ),
        )
        .unwrap();
        let p = &r.responses[0].partition_responses;
        assert_eq!((p[0].error_code, p[0].base_offset), (0, 0));
        assert_eq!(p[1].error_code, ResponseError::CorruptMessage.code());
        assert!(
            p[1].error_message
                .as_ref()
                .unwrap()
                .as_str()
                .contains("CRC")
        );
        assert_eq!(
            p[2].error_code,
            ResponseError::UnknownTopicOrPartition.code()
        );
        let r = handle_now(
            &s,
            &ctx(ApiKey::Produce, 9),
            produce_req("t", vec![(0, batch.clone())], -1),
        )
        .unwrap();
        assert_eq!(r.responses[0].partition_responses[0].base_offset, 2);
        assert_eq!(s.topic("t").unwrap().partitions[0].offsets(), (0, 4));
        // the corrupt batch was not appended
        assert_eq!(s.topic("t").unwrap().partitions[1].offsets(), (0, 0));
    }

    #[test]
    fn unknown_topic_is_not_created_and_acks_zero_is_silent() {
        let s = BrokerState::for_tests();
        let batch = build_batch(&[(None, Some(b"a"), 1)]);
        let r = handle_now(
            &s,
            &ctx(ApiKey::Produce, 7),
            produce_req("nope", vec![(0, batch.clone())], 1),
        )
        .unwrap();
        assert_eq!(
            r.responses[0].partition_responses[0].error_code,
            ResponseError::UnknownTopicOrPartition.code()
        );
        assert!(s.topic("nope").is_none());
        s.get_or_auto_create("t").unwrap();
        assert!(
            handle_now(
                &s,
                &ctx(ApiKey::Produce, 7),
                produce_req("t", vec![(0, batch)], 0)
            )
            .is_none()
        );
        assert_eq!(s.topic("t").unwrap().partitions[0].offsets(), (0, 1));
    }

    #[test]
    fn invalid_acks_two_batches_transactional_and_too_large() {
        let s = BrokerState::for_tests();
        s.get_or_auto_create("t").unwrap();
        let batch = build_batch(&[(None, Some(b"a"), 1)]);
        let r = handle_now(
            &s,
            &ctx(ApiKey::Produce, 8),
            produce_req("t", vec![(0, batch.clone())], 2),
        )
        .unwrap();
        assert_eq!(
            r.responses[0].partition_responses[0].error_code,
            ResponseError::InvalidRequiredAcks.code()
        );
        let two = [batch.clone(), batch.clone()].concat();
        let r = handle_now(
            &s,
            &ctx(ApiKey::Produce, 8),
            produce_req("t", vec![(0, two)], 1),
        )
        .unwrap();
        assert_eq!(
            r.responses[0].partition_responses[0].error_code,
            ResponseError::InvalidRecord.code()
        );
        let tx = build_batch_with(&[(None, Some(b"a"), 1)], 0x10);
        let r = handle_now(
            &s,
            &ctx(ApiKey::Produce, 8),
            produce_req("t", vec![(0, tx)], 1),
        )
        .unwrap();
        assert_eq!(
            r.responses[0].partition_responses[0].error_code,
            ResponseError::InvalidRecord.code()
        );
        let big = vec![0u8; 2_000_000];
        let big = build_batch(&[(None, Some(&big), 1)]);
        let r = handle_now(
            &s,
            &ctx(ApiKey::Produce, 8),
            produce_req("t", vec![(0, big)], 1),
        )
        .unwrap();
        assert_eq!(
            r.responses[0].partition_responses[0].error_code,
            ResponseError::MessageTooLarge.code()
        );
        let r = handle_now(
            &s,
            &ctx(ApiKey::Produce, 8),
            produce_req("t", vec![(0, vec![])], 1),
        )
        .unwrap();
        assert_eq!(
            r.responses[0].partition_responses[0].error_code,
            ResponseError::InvalidRecord.code()
        );
    }

    #[test]
    fn encodes_at_every_version_from_3() {
        let batch = build_batch(&[(None, Some(b"a"), 1)]);
        encode_all_versions(ApiKey::Produce, 3, |v| {
            let s = BrokerState::for_tests();
            s.get_or_auto_create("t").unwrap();
            handle_now(
                &s,
                &ctx(ApiKey::Produce, v),
                produce_req("t", vec![(0, batch.clone()), (1, batch.clone())], 1),
            )
            .unwrap()
        });
    }
}
