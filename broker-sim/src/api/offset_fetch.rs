//! OffsetFetch (key 9), versions 1–8.
//!
//! Returns committed offsets: for the listed partitions (-1 and empty metadata where nothing
//! is committed, also for unknown groups), or with a null topic list (v2+) every partition
//! the group has committed. `require_stable` (v7) needs no waiting: there are no transactions.
//! - v2: top-level error code, null topics. v3: throttle time. v5: committed leader epoch.
//!   v6: flexible. v8: several groups per request, answered per group.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::offset_fetch_response::{
    OffsetFetchResponseGroup, OffsetFetchResponsePartition, OffsetFetchResponsePartitions,
    OffsetFetchResponseTopic, OffsetFetchResponseTopics,
};
use kafka_protocol::messages::{OffsetFetchRequest, OffsetFetchResponse, TopicName};

use super::{RequestContext, sb};
use crate::group::{CommittedOffset, TopicOffsets};
use crate::state::BrokerState;

pub(crate) const VERSIONS: (i16, i16) = (1, 8);

type Found = Vec<TopicOffsets>;

fn lookup(
    state: &BrokerState,
    group_id: &str,
    topics: Option<Vec<(String, Vec<i32>)>>,
) -> Result<Found, ResponseError> {
    if group_id.is_empty() {
        return Err(ResponseError::InvalidGroupId);
    }
    Ok(state.groups.fetch_offsets(group_id, topics.as_deref()))
}

/// (offset, leader epoch, metadata) with Kafka's "nothing committed" values.
fn values(o: Option<CommittedOffset>) -> (i64, i32, String) {
    o.map_or((-1, -1, String::new()), |o| {
        (o.offset, o.leader_epoch, o.metadata)
    })
}

pub(crate) fn handle(
    state: &BrokerState,
    ctx: &RequestContext,
    req: OffsetFetchRequest,
) -> OffsetFetchResponse {
    let v = ctx.api_version;
    if v >= 8 {
        let groups = req
            .groups
            .into_iter()
            .map(|g| {
                let topics = g.topics.map(|ts| {
                    ts.into_iter()
                        .map(|t| (t.name.0.to_string(), t.partition_indexes))
                        .collect()
                });
                let response =
                    OffsetFetchResponseGroup::default().with_group_id(g.group_id.clone());
                match lookup(state, g.group_id.0.as_str(), topics) {
                    Err(e) => response.with_error_code(e.code()),
                    Ok(found) => response.with_topics(
                        found
                            .into_iter()
                            .map(|(name, parts)| {
                                let partitions = parts
                                    .into_iter()
                                    .map(|(p, o)| {
                                        let (offset, epoch, metadata) = values(o);
                                        OffsetFetchResponsePartitions::default()
                                            .with_partition_index(p)
                                            .with_committed_offset(offset)
                                            .with_committed_leader_epoch(epoch)
                                            .with_metadata(Some(sb(metadata)))
                                    })
                                    .collect();
                                OffsetFetchResponseTopics::default()
                                    .with_name(TopicName(sb(name)))
                                    .with_partitions(partitions)
                            })
                            .collect(),
                    ),
                }
            })
            .collect();
        return OffsetFetchResponse::default().with_groups(groups);
    }
    let topics = req.topics.map(|ts| {
        ts.into_iter()
            .map(|t| (t.name.0.to_string(), t.partition_indexes))
            .collect()
    });
    match lookup(state, req.group_id.0.as_str(), topics) {
        Err(e) => error_response(e, v),
        Ok(found) => {
            let topics = found
                .into_iter()
                .map(|(name, parts)| {
                    let partitions = parts
                        .into_iter()
                        .map(|(p, o)| {
                            let (offset, epoch, metadata) = values(o);
                            let r = OffsetFetchResponsePartition::default()
                                .with_partition_index(p)
                                .with_committed_offset(offset)
                                .with_metadata(Some(sb(metadata)));
                            if v >= 5 {
                                r.with_committed_leader_epoch(epoch)
                            } else {
                                r
                            }
                        })
                        .collect();
                    OffsetFetchResponseTopic::default()
                        .with_name(TopicName(sb(name)))
                        .with_partitions(partitions)
                })
                .collect();
            OffsetFetchResponse::default().with_topics(topics)
        }
    }
}

pub(crate) fn error_response(e: ResponseError, v: i16) -> OffsetFetchResponse {
    if v >= 8 {
        // v8 errors are per group; without a decodable request there is no group to name.
        return OffsetFetchResponse::default();
    }
    OffsetFetchResponse::default().with_error_code(e.code())
}
