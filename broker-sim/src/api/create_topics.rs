//! CreateTopics (key 19), versions 2–7.
//!
//! Creates topics after Kafka's checks (see `state::create`): legal names (`[a-zA-Z0-9._-]`,
//! at most 249 characters, not "." or ".."), no collision with an existing topic (also after
//! '.'→'_'), partitions >= 1 (or -1 for the default, v4+), replication factor from 1 to the
//! number of live nodes (-1: 1, Kafka's `default.replication.factor`) else
//! INVALID_REPLICATION_FACTOR, manual assignments naming live nodes, each once, with as many
//! replicas for every partition, known topic config names. A name given twice in one request gets INVALID_REQUEST for each copy.
//! `validate_only` checks without creating. `timeout_ms` is irrelevant: creation is instant.
//! - v5+: flexible; the result carries partitions, replication factor and the configs set.
//! - v7: the result carries the new topic id.

use std::collections::HashMap;

use kafka_protocol::ResponseError;
use kafka_protocol::messages::create_topics_response::{
    CreatableTopicConfigs, CreatableTopicResult,
};
use kafka_protocol::messages::{CreateTopicsRequest, CreateTopicsResponse};

use super::{RequestContext, route, sb};
use crate::acl::{Operation, Resource};
use crate::state::{BrokerState, NewTopic};

pub(crate) const VERSIONS: (i16, i16) = (2, 7);

/// `ConfigSource.DYNAMIC_TOPIC_CONFIG`.
const DYNAMIC_TOPIC_CONFIG: i8 = 1;

pub(crate) fn handle(
    state: &BrokerState,
    ctx: &RequestContext,
    req: CreateTopicsRequest,
) -> CreateTopicsResponse {
    let mut seen: HashMap<String, usize> = HashMap::new();
    for t in &req.topics {
        *seen.entry(t.name.0.to_string()).or_default() += 1;
    }
    let topics = req
        .topics
        .into_iter()
        .map(|t| {
            let name = t.name.0.to_string();
            let result = CreatableTopicResult::default().with_name(t.name.clone());
            let may_create = route::authorized(state, ctx, Operation::Create, Resource::Cluster)
                || route::authorized(state, ctx, Operation::Create, Resource::Topic(&name));
            if !may_create {
                return result
                    .with_error_code(ResponseError::TopicAuthorizationFailed.code())
                    .with_error_message(Some(sb("Authorization failed.")));
            }
            if seen.get(&name).copied().unwrap_or(0) > 1 {
                return result
                    .with_error_code(ResponseError::InvalidRequest.code())
                    .with_error_message(Some(sb(format!(
                        "Create topics request from client contains a duplicate topic: {name}"
                    ))));
            }
            let new = NewTopic {
                name,
                num_partitions: t.num_partitions,
                replication_factor: t.replication_factor,
                assignments: t
                    .assignments
                    .into_iter()
                    .map(|a| {
                        (
                            a.partition_index,
                            a.broker_ids.into_iter().map(|b| b.0).collect(),
                        )
                    })
                    .collect(),
                configs: t
                    .configs
                    .into_iter()
                    .map(|c| (c.name.to_string(), c.value.map(|v| v.to_string())))
                    .collect(),
            };
            match state.create_topic(&new, req.validate_only) {
                Ok((plan, topic)) => {
                    let mut result = result;
                    if ctx.api_version >= 5 {
                        let configs = plan
                            .configs
                            .into_iter()
                            .map(|(n, v)| {
                                CreatableTopicConfigs::default()
                                    .with_name(sb(n))
                                    .with_value(Some(sb(v)))
                                    .with_config_source(DYNAMIC_TOPIC_CONFIG)
                            })
                            .collect();
                        result = result
                            .with_num_partitions(plan.num_partitions)
                            .with_replication_factor(plan.replication_factor)
                            .with_configs(Some(configs));
                    }
                    if let Some(topic) = topic.filter(|_| ctx.api_version >= 7) {
                        result = result.with_topic_id(topic.id);
                    }
                    result
                }
                Err(e) => result
                    .with_error_code(e.code())
                    .with_error_message(Some(sb(e.message))),
            }
        })
        .collect();
    CreateTopicsResponse::default().with_topics(topics)
}

pub(crate) fn error_response(_e: ResponseError, _v: i16) -> CreateTopicsResponse {
    CreateTopicsResponse::default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::test_util::{ctx, encode_all_versions};
    use kafka_protocol::messages::ApiKey;
    use kafka_protocol::messages::TopicName;
    use kafka_protocol::messages::create_topics_request::CreatableTopic;

    fn topic(name: &str, n: i32, rf: i16) -> CreatableTopic {
        CreatableTopic::default()
            .with_name(TopicName(sb(name)))
            .with_num_partitions(n)
            .with_replication_factor(rf)
    }

    #[test]
    fn creates_validates_and_reports() {
        let s = BrokerState::for_tests();
        let req = CreateTopicsRequest::default().with_topics(vec![
            topic("a", 4, 1),
            topic("b", 1, 3),
            topic("dup", 1, 1),
            topic("dup", 1, 1),
            topic("..", 1, 1),
        ]);
        let r = handle(&s, &ctx(ApiKey::CreateTopics, 7), req);
        let codes: Vec<i16> = r.topics.iter().map(|t| t.error_code).collect();
        assert_eq!(codes, vec![0, 38, 42, 42, 17]);
        assert_eq!(r.topics[0].num_partitions, 4);
        assert_eq!(r.topics[0].topic_id, s.topic("a").unwrap().id);
        let again = handle(
            &s,
            &ctx(ApiKey::CreateTopics, 2),
            CreateTopicsRequest::default().with_topics(vec![topic("a", 1, 1)]),
        );
        assert_eq!(
            again.topics[0].error_code,
            ResponseError::TopicAlreadyExists.code()
        );
        assert!(again.topics[0].error_message.is_some());
    }

    #[test]
    fn validate_only_creates_nothing() {
        let s = BrokerState::for_tests();
        let req = CreateTopicsRequest::default()
            .with_topics(vec![topic("v", 2, -1)])
            .with_validate_only(true);
        let r = handle(&s, &ctx(ApiKey::CreateTopics, 5), req);
        assert_eq!(r.topics[0].error_code, 0);
        assert_eq!(r.topics[0].num_partitions, 2);
        assert!(s.topic("v").is_none());
    }

    #[test]
    fn encodes_at_every_version() {
        encode_all_versions(ApiKey::CreateTopics, 0, |v| {
            let s = BrokerState::for_tests();
            handle(
                &s,
                &ctx(ApiKey::CreateTopics, v),
                CreateTopicsRequest::default()
                    .with_topics(vec![topic("x", 1, 1), topic("x.", 0, 1)]),
            )
        });
    }
}
