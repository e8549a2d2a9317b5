//! Fetch (key 1), versions 4–16.
//!
//! Serves stored batches by slicing the log: from the batch holding `fetch_offset`, whole
//! batches up to `partition_max_bytes` per partition and `max_bytes` (capped by the broker's
//! `fetch.max.bytes`) in total, except that the
//! first partition with data always gets at least one whole batch (KIP-74), so a batch larger
//! than the limits cannot stall a consumer. Nothing is decompressed or re-encoded.
//!
//! Long polling: when fewer than `min_bytes` are available the request waits up to
//! `max_wait_ms`, woken by appends (each partition's high-watermark `watch`) or topic
//! creation/deletion, never by polling. Any partition error answers at once.
//!
//! Per partition: NOT_LEADER_OR_FOLLOWER when the receiving node does not lead it (v12+ with
//! the tagged current leader, v16+ with its endpoint, KIP-951) or an injected fault's error
//! (`route::partition_gate`); UNKNOWN_TOPIC_OR_PARTITION (v13+: UNKNOWN_TOPIC_ID for an unknown topic id),
//! OFFSET_OUT_OF_RANGE outside [log_start_offset, high_watermark], FENCED_LEADER_EPOCH /
//! UNKNOWN_LEADER_EPOCH when `current_leader_epoch` (v9+) is older / newer than the leader's.
//! `last_stable_offset` equals the high watermark (no transactions); aborted transactions are
//! null (read_uncommitted) or empty (read_committed).
//!
//! Versions: v4 isolation level, LSO, aborted transactions. v5 log start offset. v7 fetch
//! sessions (KIP-227, see [`session`]): full and incremental fetches, session epochs,
//! FETCH_SESSION_ID_NOT_FOUND / INVALID_FETCH_SESSION_EPOCH, forgotten topics; an incremental
//! response omits exactly the partitions with no change.
//! v9 current leader epoch. v11 rack id, preferred read replica (-1). v12 flexible, tagged
//! diverging epoch / current leader / snapshot id (never set). v13 topic ids instead of names.
//! v15 replica state replaces replica id. v16 node endpoints (empty). v17 replica directory id,
//! v18 high watermark (both follower-only tagged fields, ignored).

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use kafka_protocol::ResponseError;
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::fetch_response::{FetchableTopicResponse, PartitionData};
use kafka_protocol::messages::{FetchRequest, FetchResponse, TopicName};
use tokio::sync::watch;
use tokio::time::Instant;

use super::RequestContext;
use super::route::{self, Refusal};
use crate::state::{BrokerState, Partition, Topic};

pub(crate) const VERSIONS: (i16, i16) = (4, 18);

const READ_COMMITTED: i8 = 1;

/// Checks a client's `current_leader_epoch` (-1: not given) against the leader's.
pub(crate) fn check_leader_epoch(requested: i32, leader_epoch: i32) -> Option<ResponseError> {
    if requested < 0 || requested == leader_epoch {
        None
    } else if requested < leader_epoch {
        Some(ResponseError::FencedLeaderEpoch)
    } else {
        Some(ResponseError::UnknownLeaderEpoch)
    }
}

fn error_partition(index: i32, e: ResponseError) -> PartitionData {
    PartitionData::default()
        .with_partition_index(index)
        .with_error_code(e.code())
        .with_high_watermark(-1)
        .with_last_stable_offset(-1)
        .with_log_start_offset(-1)
        .with_records(Some(Default::default()))
}

/// One pass over the request: the response as of now, the record bytes in it, whether any
/// partition failed, and receivers that fire on the next append to any requested partition.
struct Pass {
    response: FetchResponse,
    bytes: usize,
    any_error: bool,
    watchers: Vec<watch::Receiver<i64>>,
}

/// The partition answer to a routing refusal; v12+ carries the current leader.
fn refused(index: i32, r: Refusal, v: i16) -> PartitionData {
    let out = error_partition(index, r.error);
    match r.current_leader {
        Some((leader, epoch)) if v >= 12 => out.with_current_leader(
            kafka_protocol::messages::fetch_response::LeaderIdAndEpoch::default()
                .with_leader_id(kafka_protocol::messages::BrokerId(leader))
                .with_leader_epoch(epoch),
        ),
        _ => out,
    }
}

fn resolve(
    state: &BrokerState,
    v: i16,
    name: &TopicName,
    id: &uuid::Uuid,
) -> Result<Arc<Topic>, ResponseError> {
    if v >= 13 {
        state.topic_by_id(id).ok_or(ResponseError::UnknownTopicId)
    } else {
        state
            .topic(name.0.as_str())
            .ok_or(ResponseError::UnknownTopicOrPartition)
    }
}

fn read_partition(
    partition: &Partition,
    req: &FetchPartition,
    limit: usize,
    min_one_batch: bool,
    read_committed: bool,
) -> Result<PartitionData, ResponseError> {
    let (_, leader_epoch) = partition.leader();
    if let Some(e) = check_leader_epoch(req.current_leader_epoch, leader_epoch) {
        return Err(e);
    }
    match partition.read(req.fetch_offset, limit, min_one_batch) {
        Ok(read) => Ok(PartitionData::default()
            .with_partition_index(req.partition)
            .with_high_watermark(read.high_watermark)
            .with_last_stable_offset(read.high_watermark)
            .with_log_start_offset(read.log_start_offset)
            .with_aborted_transactions(read_committed.then(Vec::new))
            .with_records(Some(read.records))),
        Err(out) => Ok(
            error_partition(req.partition, ResponseError::OffsetOutOfRange)
                .with_high_watermark(out.log_end_offset)
                .with_last_stable_offset(out.log_end_offset)
                .with_log_start_offset(out.log_start_offset),
        ),
    }
}

fn pass(
    state: &BrokerState,
    ctx: &RequestContext,
    req: &FetchRequest,
    topics: &[FetchTopic],
) -> Pass {
    let v = ctx.api_version;
    let mut refusals = Vec::new();
    let mut remaining = usize::try_from(req.max_bytes)
        .unwrap_or(0)
        .min(state.fetch_max_bytes);
    let read_committed = req.isolation_level == READ_COMMITTED;
    let mut bytes = 0usize;
    let mut any_error = false;
    let mut watchers = Vec::new();
    let mut responses = Vec::with_capacity(topics.len());
    for t in topics {
        let topic = resolve(state, v, &t.topic, &t.topic_id);
        let mut partitions = Vec::with_capacity(t.partitions.len());
        for p in &t.partitions {
            let partition = topic.as_ref().map_err(|e| *e).and_then(|topic| {
                topic
                    .partition(p.partition)
                    .cloned()
                    .ok_or(ResponseError::UnknownTopicOrPartition)
            });
            let data = partition.and_then(|partition| {
                if let Err(r) =
                    route::partition_gate(state, ctx, &topic_name(&topic, t), &partition)
                {
                    refusals.push(r);
                    return Ok(refused(p.partition, r, v));
                }
                watchers.push(partition.subscribe());
                let limit = usize::try_from(p.partition_max_bytes)
                    .unwrap_or(0)
                    .min(remaining);
                read_partition(&partition, p, limit, bytes == 0, read_committed)
            });
            let data = data.unwrap_or_else(|e| error_partition(p.partition, e));
            if data.error_code != 0 {
                any_error = true;
            }
            let len = data.records.as_ref().map_or(0, |r| r.len());
            bytes += len;
            remaining = remaining.saturating_sub(len);
            partitions.push(data);
        }
        let mut response = FetchableTopicResponse::default().with_partitions(partitions);
        if v >= 13 {
            response = response.with_topic_id(t.topic_id);
        } else {
            response = response.with_topic(t.topic.clone());
        }
        responses.push(response);
    }
    let mut response = FetchResponse::default().with_responses(responses);
    if v >= 16 {
        response.node_endpoints = route::leader_endpoints(state, refusals)
            .iter()
            .map(|n| {
                let (id, host, port) = route::endpoint_fields(n);
                kafka_protocol::messages::fetch_response::NodeEndpoint::default()
                    .with_node_id(id)
                    .with_host(host)
                    .with_port(port)
                    .with_rack(n.rack.clone().map(super::sb))
            })
            .collect();
    }
    Pass {
        response,
        bytes,
        any_error,
        watchers,
    }
}

/// The topic's name, whether the request named it or gave its id.
fn topic_name(topic: &Result<Arc<Topic>, ResponseError>, t: &FetchTopic) -> String {
    match topic {
        Ok(topic) => topic.name.clone(),
        Err(_) => t.topic.0.to_string(),
    }
}

pub(crate) async fn handle(
    state: &BrokerState,
    ctx: &RequestContext,
    req: FetchRequest,
) -> FetchResponse {
    let v = ctx.api_version;
    let (mode, topics) = if v >= 7 {
        match state.fetch_sessions.prepare(&req) {
            Ok(plan) => plan,
            Err(e) => {
                tracing::debug!(client = %ctx.client_host, session_id = req.session_id, epoch = req.session_epoch, "fetch session error {e:?}");
                return error_response(e, v);
            }
        }
    } else {
        (session::Mode::Sessionless, req.topics.clone())
    };
    let wait = Duration::from_millis(u64::try_from(req.max_wait_ms).unwrap_or(0));
    let deadline = Instant::now() + wait;
    let min_bytes = usize::try_from(req.min_bytes).unwrap_or(0);
    let mut topics_changed = state.subscribe_topics();
    loop {
        // Receivers are taken before the log is read, so no append between the two is missed.
        let Pass {
            response,
            bytes,
            any_error,
            mut watchers,
        } = pass(state, ctx, &req, &topics);
        if bytes >= min_bytes || any_error || topics.is_empty() || Instant::now() >= deadline {
            return state.fetch_sessions.finish(mode, response);
        }
        let any_append = async {
            let mut changes: FuturesUnordered<_> =
                watchers.iter_mut().map(|w| w.changed()).collect();
            if changes.is_empty() {
                std::future::pending::<()>().await;
            }
            changes.next().await;
        };
        let topic_change = async {
            if topics_changed.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
        };
        tokio::select! {
            _ = any_append => {}
            _ = topic_change => {}
            _ = tokio::time::sleep_until(deadline) => {}
        }
    }
}

pub(crate) fn error_response(e: ResponseError, _v: i16) -> FetchResponse {
    FetchResponse::default()
        .with_error_code(e.code())
        .with_session_id(0)
}

pub(crate) mod session;
#[cfg(test)]
mod tests;
