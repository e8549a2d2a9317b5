//! OffsetDelete (key 47), version 0.
//!
//! Removes a group's committed offsets for the given partitions. As in Kafka: an unknown group
//! is GROUP_ID_NOT_FOUND (top level); partitions of a topic that members of a non-empty
//! consumer group subscribe to get GROUP_SUBSCRIBED_TO_TOPIC (their offsets stay); partitions
//! of unknown topics get UNKNOWN_TOPIC_OR_PARTITION; other partitions succeed whether or not
//! an offset was committed.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::offset_delete_response::{
    OffsetDeleteResponsePartition, OffsetDeleteResponseTopic,
};
use kafka_protocol::messages::{OffsetDeleteRequest, OffsetDeleteResponse};

use super::{RequestContext, code};
use crate::state::BrokerState;

pub(crate) const VERSIONS: (i16, i16) = (0, 0);

pub(crate) fn handle(
    state: &BrokerState,
    _ctx: &RequestContext,
    req: OffsetDeleteRequest,
) -> OffsetDeleteResponse {
    let mut known = Vec::new();
    for t in &req.topics {
        let topic = state.topic(t.name.0.as_str());
        for p in &t.partitions {
            if topic
                .as_ref()
                .and_then(|x| x.partition(p.partition_index))
                .is_some()
            {
                known.push((t.name.0.to_string(), p.partition_index));
            }
        }
    }
    let results = match state.delete_group_offsets(req.group_id.0.as_str(), &known) {
        Ok(r) => r,
        Err(e) => return error_response(e, 0),
    };
    let mut results = known.into_iter().zip(results);
    let mut next = results.next();
    let topics = req
        .topics
        .into_iter()
        .map(|t| {
            let partitions = t
                .partitions
                .iter()
                .map(|p| {
                    let e = match &next {
                        Some(((name, idx), e))
                            if name == t.name.0.as_str() && *idx == p.partition_index =>
                        {
                            let e = *e;
                            next = results.next();
                            e
                        }
                        _ => Some(ResponseError::UnknownTopicOrPartition),
                    };
                    OffsetDeleteResponsePartition::default()
                        .with_partition_index(p.partition_index)
                        .with_error_code(code(e))
                })
                .collect();
            OffsetDeleteResponseTopic::default()
                .with_name(t.name)
                .with_partitions(partitions)
        })
        .collect();
    OffsetDeleteResponse::default().with_topics(topics)
}

pub(crate) fn error_response(e: ResponseError, _v: i16) -> OffsetDeleteResponse {
    OffsetDeleteResponse::default().with_error_code(e.code())
}
