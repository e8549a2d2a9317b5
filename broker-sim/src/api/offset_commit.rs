//! OffsetCommit (key 8), versions 2–8.
//!
//! Stores committed offsets (offset, leader epoch, metadata string) per group, topic and
//! partition. Partitions of unknown topics get UNKNOWN_TOPIC_OR_PARTITION; metadata over 4096
//! bytes gets OFFSET_METADATA_TOO_LARGE. The group checks follow Kafka: a "simple" commit
//! (generation -1, empty member id, from consumers using `assign()`) is accepted into a group
//! without members and refused with UNKNOWN_MEMBER_ID otherwise; a member's commit needs its
//! current generation (ILLEGAL_GENERATION), is refused with REBALANCE_IN_PROGRESS while the
//! leader computes assignments, and counts as a heartbeat.
//! - v2–4: retention time (ignored: offsets are kept until the topic is deleted). v3: throttle
//!   time. v6: committed leader epoch. v7: group instance id (FENCED_INSTANCE_ID for a replaced static member). v8: flexible.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::offset_commit_response::{
    OffsetCommitResponsePartition, OffsetCommitResponseTopic,
};
use kafka_protocol::messages::{OffsetCommitRequest, OffsetCommitResponse};

use super::{RequestContext, code};
use crate::group::OffsetCommitEntry;
use crate::state::BrokerState;

pub(crate) const VERSIONS: (i16, i16) = (2, 8);

pub(crate) fn handle(
    state: &BrokerState,
    _ctx: &RequestContext,
    req: OffsetCommitRequest,
) -> OffsetCommitResponse {
    // First pass: which partitions exist; they are committed together below.
    let mut entries = Vec::new();
    let mut slots: Vec<Vec<Option<usize>>> = Vec::with_capacity(req.topics.len());
    for t in &req.topics {
        let topic = state.topic(t.name.0.as_str());
        let mut topic_slots = Vec::with_capacity(t.partitions.len());
        for p in &t.partitions {
            if topic
                .as_ref()
                .and_then(|tp| tp.partition(p.partition_index))
                .is_some()
            {
                topic_slots.push(Some(entries.len()));
                entries.push(OffsetCommitEntry {
                    topic: t.name.0.to_string(),
                    partition: p.partition_index,
                    offset: p.committed_offset,
                    leader_epoch: p.committed_leader_epoch,
                    metadata: p.committed_metadata.as_ref().map(|m| m.to_string()),
                });
            } else {
                topic_slots.push(None);
            }
        }
        slots.push(topic_slots);
    }
    let results = state.commit_offsets(
        req.group_id.0.as_str(),
        req.member_id.as_str(),
        req.group_instance_id.as_ref().map(|s| s.as_str()),
        req.generation_id_or_member_epoch,
        entries,
    );
    let topics = req
        .topics
        .into_iter()
        .zip(slots)
        .map(|(t, topic_slots)| {
            let partitions = t
                .partitions
                .iter()
                .zip(topic_slots)
                .map(|(p, slot)| {
                    let e = match slot {
                        Some(i) => results.get(i).copied().flatten(),
                        None => Some(ResponseError::UnknownTopicOrPartition),
                    };
                    OffsetCommitResponsePartition::default()
                        .with_partition_index(p.partition_index)
                        .with_error_code(code(e))
                })
                .collect();
            OffsetCommitResponseTopic::default()
                .with_name(t.name)
                .with_partitions(partitions)
        })
        .collect();
    OffsetCommitResponse::default().with_topics(topics)
}

pub(crate) fn error_response(_e: ResponseError, _v: i16) -> OffsetCommitResponse {
    OffsetCommitResponse::default()
}
