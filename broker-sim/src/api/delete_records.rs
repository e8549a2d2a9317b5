//! DeleteRecords (key 21), versions 0–2.
//!
//! Moves a partition's log start offset up to the requested offset (-1: the high watermark),
//! dropping every stored batch that ends below it; the answer's low watermark is the new log
//! start offset. Fetches and ListOffsets then see it: a fetch below it gets
//! OFFSET_OUT_OF_RANGE, "earliest" answers it. An offset above the high watermark (or negative
//! other than -1) gets OFFSET_OUT_OF_RANGE; an offset at or below the current log start offset
//! changes nothing. Unknown partitions: UNKNOWN_TOPIC_OR_PARTITION; a partition this node does
//! not lead: NOT_LEADER_OR_FOLLOWER (admin clients send DeleteRecords to each leader).
//! - v1: throttle time. v2: flexible.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::delete_records_response::{
    DeleteRecordsPartitionResult, DeleteRecordsTopicResult,
};
use kafka_protocol::messages::{DeleteRecordsRequest, DeleteRecordsResponse};

use super::{RequestContext, route};
use crate::state::BrokerState;

pub(crate) const VERSIONS: (i16, i16) = (0, 2);

pub(crate) fn handle(
    state: &BrokerState,
    ctx: &RequestContext,
    req: DeleteRecordsRequest,
) -> DeleteRecordsResponse {
    let topics = req
        .topics
        .into_iter()
        .map(|t| {
            let topic = state.topic(t.name.0.as_str());
            let partitions = t
                .partitions
                .into_iter()
                .map(|p| {
                    let r = DeleteRecordsPartitionResult::default()
                        .with_partition_index(p.partition_index);
                    let Some(partition) =
                        topic.as_ref().and_then(|t| t.partition(p.partition_index))
                    else {
                        return r
                            .with_error_code(ResponseError::UnknownTopicOrPartition.code())
                            .with_low_watermark(-1);
                    };
                    if let Err(refusal) = route::partition_gate(state, ctx, t.name.0.as_str(), partition) {
                        return r.with_error_code(refusal.error.code()).with_low_watermark(-1);
                    }
                    match partition.delete_records(p.offset) {
                        Ok(low) => {
                            tracing::info!(client = %ctx.client_host, topic = %t.name.0.as_str(), partition = p.partition_index, log_start_offset = low, "records deleted");
                            r.with_low_watermark(low)
                        }
                        Err((e, low)) => r.with_error_code(e.code()).with_low_watermark(low),
                    }
                })
                .collect();
            DeleteRecordsTopicResult::default()
                .with_name(t.name)
                .with_partitions(partitions)
        })
        .collect();
    DeleteRecordsResponse::default().with_topics(topics)
}

pub(crate) fn error_response(_e: ResponseError, _v: i16) -> DeleteRecordsResponse {
    DeleteRecordsResponse::default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::test_util::{ctx, encode_all_versions};
    use crate::log::batch::tests::build_batch;
    use kafka_protocol::messages::delete_records_request::{
        DeleteRecordsPartition, DeleteRecordsTopic,
    };
    use kafka_protocol::messages::{ApiKey, TopicName};

    fn req(parts: &[(i32, i64)]) -> DeleteRecordsRequest {
        DeleteRecordsRequest::default().with_topics(vec![
            DeleteRecordsTopic::default()
                .with_name(TopicName(crate::api::sb("t")))
                .with_partitions(
                    parts
                        .iter()
                        .map(|(p, o)| {
                            DeleteRecordsPartition::default()
                                .with_partition_index(*p)
                                .with_offset(*o)
                        })
                        .collect(),
                ),
        ])
    }

    #[test]
    fn moves_log_start_and_fetch_below_is_out_of_range() {
        let s = BrokerState::for_tests();
        let t = s.get_or_auto_create("t").unwrap();
        let p = &t.partitions[0];
        for _ in 0..3 {
            p.append(
                &build_batch(&[(None, Some(b"a"), 1), (None, Some(b"b"), 2)]),
                1 << 20,
            )
            .unwrap();
        }
        let c = ctx(ApiKey::DeleteRecords, 2);
        let r = handle(&s, &c, req(&[(0, 3), (1, 0)]));
        let got: Vec<_> = r.topics[0]
            .partitions
            .iter()
            .map(|x| (x.error_code, x.low_watermark))
            .collect();
        assert_eq!(
            got,
            vec![(0, 3), (ResponseError::UnknownTopicOrPartition.code(), -1)]
        );
        assert_eq!(p.offsets(), (3, 6));
        assert!(
            p.read(2, 1 << 20, true).is_err(),
            "below the log start offset"
        );
        // the batch holding offset 3 (offsets 2..=3) is still served whole
        let b = p.read(3, 1 << 20, true).unwrap().records;
        assert_eq!(crate::log::batch::parse_header(&b).unwrap().base_offset, 2);
        assert_eq!(
            handle(&s, &c, req(&[(0, 1)])).topics[0].partitions[0].low_watermark,
            3
        );
        let r = handle(&s, &c, req(&[(0, 7)]));
        assert_eq!(
            r.topics[0].partitions[0].error_code,
            ResponseError::OffsetOutOfRange.code()
        );
        let r = handle(&s, &c, req(&[(0, -1)]));
        assert_eq!(r.topics[0].partitions[0].low_watermark, 6);
        assert_eq!(p.offsets(), (6, 6));
        assert!(p.read(6, 100, true).unwrap().records.is_empty());
    }

    #[test]
    fn encodes_at_every_version() {
        let s = BrokerState::for_tests();
        s.get_or_auto_create("t").unwrap();
        encode_all_versions(ApiKey::DeleteRecords, 0, |v| {
            handle(&s, &ctx(ApiKey::DeleteRecords, v), req(&[(0, 0)]))
        });
    }
}
