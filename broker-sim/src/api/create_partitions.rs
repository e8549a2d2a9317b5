//! CreatePartitions (key 37), versions 0–3.
//!
//! Grows a topic to `count` partitions. Checks as Kafka: the topic exists
//! (UNKNOWN_TOPIC_OR_PARTITION), `count` is larger than the current count and within the
//! broker's per-topic limit (INVALID_PARTITIONS), manual assignments (when given) name one
//! replica list per new partition holding exactly one live node (INVALID_REPLICA_ASSIGNMENT),
//! a topic named twice in one request is INVALID_REQUEST for each copy. `validate_only` checks
//! without changing anything. New partitions start empty; consumers see them at their next
//! metadata refresh.
//! - v1: throttle time. v2: flexible. v3: no schema change.

use std::collections::HashMap;

use kafka_protocol::ResponseError;
use kafka_protocol::messages::create_partitions_response::CreatePartitionsTopicResult;
use kafka_protocol::messages::{CreatePartitionsRequest, CreatePartitionsResponse};

use super::{RequestContext, sb};
use crate::state::{BrokerState, KafkaError};

pub(crate) const VERSIONS: (i16, i16) = (0, 3);

pub(crate) fn handle(
    state: &BrokerState,
    _ctx: &RequestContext,
    req: CreatePartitionsRequest,
) -> CreatePartitionsResponse {
    let mut seen: HashMap<String, usize> = HashMap::new();
    for t in &req.topics {
        *seen.entry(t.name.0.to_string()).or_default() += 1;
    }
    let results = req
        .topics
        .into_iter()
        .map(|t| {
            let name = t.name.0.to_string();
            let result = CreatePartitionsTopicResult::default().with_name(t.name.clone());
            let out = if seen.get(&name).copied().unwrap_or(0) > 1 {
                Err(KafkaError::new(
                    ResponseError::InvalidRequest,
                    format!("Duplicate topic in request: {name}"),
                ))
            } else {
                let assignments: Option<Vec<Vec<i32>>> = t.assignments.map(|a| {
                    a.into_iter()
                        .map(|x| x.broker_ids.into_iter().map(|b| b.0).collect())
                        .collect()
                });
                state.add_partitions(&name, t.count, assignments.as_deref(), req.validate_only)
            };
            match out {
                Ok(()) => result,
                Err(e) => result
                    .with_error_code(e.code())
                    .with_error_message(Some(sb(e.message))),
            }
        })
        .collect();
    CreatePartitionsResponse::default().with_results(results)
}

pub(crate) fn error_response(_e: ResponseError, _v: i16) -> CreatePartitionsResponse {
    CreatePartitionsResponse::default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::test_util::{ctx, encode_all_versions};
    use kafka_protocol::messages::create_partitions_request::{
        CreatePartitionsAssignment, CreatePartitionsTopic,
    };
    use kafka_protocol::messages::{ApiKey, BrokerId, TopicName};

    type Assignments = Option<Vec<Vec<i32>>>;

    fn req(topics: &[(&str, i32, Assignments)], validate_only: bool) -> CreatePartitionsRequest {
        CreatePartitionsRequest::default()
            .with_validate_only(validate_only)
            .with_topics(
                topics
                    .iter()
                    .map(|(n, c, a)| {
                        CreatePartitionsTopic::default()
                            .with_name(TopicName(sb(*n)))
                            .with_count(*c)
                            .with_assignments(a.clone().map(|a| {
                                a.into_iter()
                                    .map(|ids| {
                                        CreatePartitionsAssignment::default().with_broker_ids(
                                            ids.into_iter().map(BrokerId).collect(),
                                        )
                                    })
                                    .collect()
                            }))
                    })
                    .collect(),
            )
    }

    #[test]
    fn grows_topics_with_kafka_checks() {
        let s = BrokerState::for_tests();
        let mut t = crate::state::NewTopic::with_defaults("t");
        t.num_partitions = 2;
        s.create_topic(&t, false).unwrap();
        let old = s.topic("t").unwrap();
        old.partitions[0]
            .append(
                &crate::log::batch::tests::build_batch(&[(None, Some(b"x"), 1)]),
                1 << 20,
            )
            .unwrap();
        let c = ctx(ApiKey::CreatePartitions, 3);
        let codes = |r: CreatePartitionsResponse| {
            r.results.iter().map(|x| x.error_code).collect::<Vec<_>>()
        };
        assert_eq!(codes(handle(&s, &c, req(&[("t", 4, None)], true))), vec![0]);
        assert_eq!(s.topic("t").unwrap().partitions.len(), 2);
        assert_eq!(
            codes(handle(&s, &c, req(&[("t", 4, None)], false))),
            vec![0]
        );
        let now = s.topic("t").unwrap();
        assert_eq!(now.partitions.len(), 4);
        assert_eq!(now.id, old.id);
        assert_eq!(
            now.partitions[0].offsets(),
            (0, 1),
            "existing partitions keep their data"
        );
        let e = ResponseError::InvalidPartitions.code();
        assert_eq!(
            codes(handle(&s, &c, req(&[("t", 4, None)], false))),
            vec![e]
        );
        assert_eq!(
            codes(handle(&s, &c, req(&[("t", 3, None)], false))),
            vec![e]
        );
        assert_eq!(
            codes(handle(&s, &c, req(&[("t", 1_000_000, None)], false))),
            vec![e]
        );
        assert_eq!(
            codes(handle(&s, &c, req(&[("nope", 5, None)], false))),
            vec![ResponseError::UnknownTopicOrPartition.code()]
        );
        let bad = ResponseError::InvalidReplicaAssignment.code();
        assert_eq!(
            codes(handle(&s, &c, req(&[("t", 6, Some(vec![vec![0]]))], false))),
            vec![bad]
        );
        assert_eq!(
            codes(handle(&s, &c, req(&[("t", 5, Some(vec![vec![3]]))], false))),
            vec![bad]
        );
        assert_eq!(
            codes(handle(&s, &c, req(&[("t", 5, Some(vec![vec![0]]))], false))),
            vec![0]
        );
        let dup = ResponseError::InvalidRequest.code();
        assert_eq!(
            codes(handle(
                &s,
                &c,
                req(&[("t", 9, None), ("t", 9, None)], false)
            )),
            vec![dup, dup]
        );
    }

    #[test]
    fn encodes_at_every_version() {
        let s = BrokerState::for_tests();
        encode_all_versions(ApiKey::CreatePartitions, 0, |v| {
            handle(
                &s,
                &ctx(ApiKey::CreatePartitions, v),
                req(&[("x", 2, None)], false),
            )
        });
    }
}
