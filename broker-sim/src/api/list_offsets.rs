//! ListOffsets (key 2), versions 1–7.
//!
//! Per partition, by the requested timestamp:
//! - -1 (latest): the high watermark (= last stable offset: no transactions), timestamp -1.
//! - -2 (earliest): the log start offset, timestamp -1.
//! - -3 (max timestamp, KIP-734, v7): the record with the largest timestamp and that timestamp.
//! - t >= 0: the first record whose timestamp is >= t, found through the batch index (batch
//!   max timestamp) and, for uncompressed batches, the records' timestamps; a compressed batch
//!   stands for its base offset since it is never decompressed. None: offset and timestamp -1.
//!
//! Errors: UNKNOWN_TOPIC_OR_PARTITION; NOT_LEADER_OR_FOLLOWER when the receiving node does not
//! lead the partition, or an injected fault's error (`route::partition_gate`);
//! FENCED_LEADER_EPOCH / UNKNOWN_LEADER_EPOCH (v4+).
//!
//! - v2: isolation level. v4: current leader epoch in, leader epoch out. v6: flexible.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::list_offsets_response::{
    ListOffsetsPartitionResponse, ListOffsetsTopicResponse,
};
use kafka_protocol::messages::{ListOffsetsRequest, ListOffsetsResponse};

use super::RequestContext;
use super::fetch::check_leader_epoch;
use super::route;
use crate::state::{BrokerState, Partition};

pub(crate) const VERSIONS: (i16, i16) = (1, 7);

const LATEST: i64 = -1;
const EARLIEST: i64 = -2;
const MAX_TIMESTAMP: i64 = -3;

/// (offset, timestamp) for one lookup.
fn lookup(partition: &Partition, timestamp: i64) -> (i64, i64) {
    let (log_start, high_watermark) = partition.offsets();
    let found = match timestamp {
        LATEST => return (high_watermark, -1),
        EARLIEST => return (log_start, -1),
        MAX_TIMESTAMP => partition.max_timestamp(),
        t => partition.offset_for_timestamp(t),
    };
    found.map_or((-1, -1), |f| (f.offset, f.timestamp))
}

pub(crate) fn handle(
    state: &BrokerState,
    ctx: &RequestContext,
    req: ListOffsetsRequest,
) -> ListOffsetsResponse {
    let v = ctx.api_version;
    let topics = req
        .topics
        .into_iter()
        .map(|t| {
            let topic = state.topic(t.name.0.as_str());
            let partitions = t
                .partitions
                .into_iter()
                .map(|p| {
                    let response = ListOffsetsPartitionResponse::default()
                        .with_partition_index(p.partition_index);
                    let Some(partition) =
                        topic.as_ref().and_then(|t| t.partition(p.partition_index))
                    else {
                        return response
                            .with_error_code(ResponseError::UnknownTopicOrPartition.code())
                            .with_offset(-1)
                            .with_timestamp(-1);
                    };
                    if let Err(r) = route::partition_gate(state, ctx, t.name.0.as_str(), partition)
                    {
                        return response
                            .with_error_code(r.error.code())
                            .with_offset(-1)
                            .with_timestamp(-1);
                    }
                    let (_, leader_epoch) = partition.leader();
                    if let Some(e) = check_leader_epoch(p.current_leader_epoch, leader_epoch) {
                        return response
                            .with_error_code(e.code())
                            .with_offset(-1)
                            .with_timestamp(-1);
                    }
                    let (offset, timestamp) = lookup(partition, p.timestamp);
                    let response = response.with_offset(offset).with_timestamp(timestamp);
                    if v >= 4 {
                        response.with_leader_epoch(leader_epoch)
                    } else {
                        response
                    }
                })
                .collect();
            ListOffsetsTopicResponse::default()
                .with_name(t.name)
                .with_partitions(partitions)
        })
        .collect();
    ListOffsetsResponse::default().with_topics(topics)
}

pub(crate) fn error_response(_e: ResponseError, _v: i16) -> ListOffsetsResponse {
    ListOffsetsResponse::default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::test_util::{ctx, encode_all_versions};
    use crate::log::batch::tests::build_batch;
    use kafka_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
    use kafka_protocol::messages::{ApiKey, TopicName};

    fn req(topic: &str, queries: &[(i32, i64)]) -> ListOffsetsRequest {
        ListOffsetsRequest::default().with_topics(vec![
            ListOffsetsTopic::default()
                .with_name(TopicName(crate::api::sb(topic)))
                .with_partitions(
                    queries
                        .iter()
                        .map(|&(p, ts)| {
                            ListOffsetsPartition::default()
                                .with_partition_index(p)
                                .with_timestamp(ts)
                        })
                        .collect(),
                ),
        ])
    }

    #[test]
    fn earliest_latest_timestamp_and_max() {
        let s = BrokerState::for_tests();
        let t = s.get_or_auto_create("t").unwrap();
        let p = &t.partitions[0];
        p.append(
            &build_batch(&[(None, Some(b"a"), 1000), (None, Some(b"b"), 3000)]),
            1 << 20,
        )
        .unwrap();
        p.append(&build_batch(&[(None, Some(b"c"), 2000)]), 1 << 20)
            .unwrap();
        let r = handle(
            &s,
            &ctx(ApiKey::ListOffsets, 7),
            req(
                "t",
                &[
                    (0, -2),
                    (0, -1),
                    (0, 1500),
                    (0, 2500),
                    (0, 9999),
                    (0, -3),
                    (5, -1),
                ],
            ),
        );
        let got: Vec<(i16, i64, i64)> = r.topics[0]
            .partitions
            .iter()
            .map(|p| (p.error_code, p.offset, p.timestamp))
            .collect();
        assert_eq!(
            got,
            vec![
                (0, 0, -1),
                (0, 3, -1),
                (0, 1, 3000),
                (0, 1, 3000),
                (0, -1, -1),
                (0, 1, 3000),
                (3, -1, -1)
            ]
        );
        let r = handle(&s, &ctx(ApiKey::ListOffsets, 1), req("missing", &[(0, -1)]));
        assert_eq!(
            r.topics[0].partitions[0].error_code,
            ResponseError::UnknownTopicOrPartition.code()
        );
    }

    #[test]
    fn leader_epoch_checks() {
        let s = BrokerState::for_tests();
        s.get_or_auto_create("t").unwrap();
        let mut r = req("t", &[(0, -1)]);
        r.topics[0].partitions[0].current_leader_epoch = 3;
        let out = handle(&s, &ctx(ApiKey::ListOffsets, 4), r);
        assert_eq!(
            out.topics[0].partitions[0].error_code,
            ResponseError::UnknownLeaderEpoch.code()
        );
    }

    #[test]
    fn encodes_at_every_version() {
        let s = BrokerState::for_tests();
        s.get_or_auto_create("t").unwrap();
        encode_all_versions(ApiKey::ListOffsets, 0, |v| {
            handle(
                &s,
                &ctx(ApiKey::ListOffsets, v),
                req("t", &[(0, -1), (1, -2)]),
            )
        });
    }
}
