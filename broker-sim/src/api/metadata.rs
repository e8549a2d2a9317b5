//! Metadata (key 3), versions 0–12.
//!
//! Lists the live nodes of the cluster, the controller (lowest live node id), the cluster id and
//! topics with their partitions, leaders, leader epochs, replicas, in-sync replicas (the live
//! ones: the log is shared, so a live replica is never behind) and offline replicas (v5+). A
//! partition without a live node has leader -1 and LEADER_NOT_AVAILABLE. Any node answers.
//! - v0: an empty topic list means all topics. v1+: null means all topics, empty means none;
//!   adds rack, controller id and `is_internal`. v2+: cluster id. v3+: throttle time.
//! - v4+: `allow_auto_topic_creation` (before v4 always allowed). Unknown topics are created
//!   with `default_partitions` partitions when allowed and `auto_create_topics` is on, else
//!   UNKNOWN_TOPIC_OR_PARTITION; invalid names get INVALID_TOPIC_EXCEPTION. Creation is
//!   instant, so a created topic is answered as ready rather than LEADER_NOT_AVAILABLE.
//! - v5+: offline replicas. v7+: leader epoch. v8+: authorized operations (not computed here:
//!   INT32_MIN, "not requested", for cluster and topics). v9+: flexible.
//! - v10+: topic ids; a topic requested by id only (null name) is looked up by id
//!   (UNKNOWN_TOPIC_ID when absent). v11: cluster authorized operations removed. v12: topic name
//!   nullable in the response.

use std::sync::Arc;

use kafka_protocol::ResponseError;
use kafka_protocol::messages::metadata_response::{
    MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
};
use kafka_protocol::messages::{BrokerId, MetadataRequest, MetadataResponse, TopicName};
use uuid::Uuid;

use super::{RequestContext, route, sb};
use crate::acl::{Operation, Resource};
use crate::state::{BrokerState, KafkaError, Topic};

pub(crate) const VERSIONS: (i16, i16) = (0, 12);

fn topic_response(state: &BrokerState, topic: &Topic, v: i16) -> MetadataResponseTopic {
    let partitions = topic
        .partitions
        .iter()
        .map(|p| {
            let (leader, epoch) = p.leader();
            let replicas = p.replicas();
            let (isr, offline): (Vec<i32>, Vec<i32>) =
                replicas.iter().partition(|r| state.nodes.is_up(**r));
            let r = MetadataResponsePartition::default()
                .with_partition_index(p.index)
                .with_leader_id(BrokerId(leader))
                .with_leader_epoch(epoch)
                .with_isr_nodes(isr.into_iter().map(BrokerId).collect())
                .with_replica_nodes(replicas.into_iter().map(BrokerId).collect());
            let r = if leader < 0 {
                r.with_error_code(ResponseError::LeaderNotAvailable.code())
            } else {
                r
            };
            if v >= 5 {
                r.with_offline_replicas(offline.into_iter().map(BrokerId).collect())
            } else {
                r
            }
        })
        .collect();
    MetadataResponseTopic::default()
        .with_name(Some(TopicName(sb(topic.name.clone()))))
        .with_topic_id(topic.id)
        .with_partitions(partitions)
}

fn error_topic(name: Option<&str>, id: Uuid, e: &KafkaError) -> MetadataResponseTopic {
    MetadataResponseTopic::default()
        .with_error_code(e.code())
        .with_name(name.map(|n| TopicName(sb(n))))
        .with_topic_id(id)
}

pub(crate) fn handle(
    state: &BrokerState,
    ctx: &RequestContext,
    req: MetadataRequest,
) -> MetadataResponse {
    let v = ctx.api_version;
    let allow_auto = (v < 4 || req.allow_auto_topic_creation) && state.auto_create_topics;
    // With ACLs: topics the principal may not describe are left out of "all topics" and
    // answered TOPIC_AUTHORIZATION_FAILED when named; auto-creation needs Create.
    let describe =
        |name: &str| route::authorized(state, ctx, Operation::Describe, Resource::Topic(name));
    let denied = || KafkaError::new(ResponseError::TopicAuthorizationFailed, "");
    let all = || {
        state
            .all_topics()
            .iter()
            .filter(|t| describe(&t.name))
            .map(|t| topic_response(state, t, v))
            .collect()
    };
    let topics: Vec<MetadataResponseTopic> = match req.topics {
        None => all(),
        Some(list) if list.is_empty() && v == 0 => all(),
        Some(list) => list
            .into_iter()
            .map(|t| match t.name {
                Some(name) => {
                    let name = name.0.as_str();
                    if !describe(name) {
                        return error_topic(Some(name), Uuid::nil(), &denied());
                    }
                    let may_create = || {
                        route::authorized(state, ctx, Operation::Create, Resource::Cluster)
                            || route::authorized(
                                state,
                                ctx,
                                Operation::Create,
                                Resource::Topic(name),
                            )
                    };
                    let found: Result<Arc<Topic>, KafkaError> = if allow_auto && may_create() {
                        state.get_or_auto_create(name)
                    } else {
                        state.topic(name).ok_or_else(|| {
                            KafkaError::new(ResponseError::UnknownTopicOrPartition, "unknown topic")
                        })
                    };
                    match found {
                        Ok(topic) => topic_response(state, &topic, v),
                        Err(e) => error_topic(Some(name), Uuid::nil(), &e),
                    }
                }
                None => match state.topic_by_id(&t.topic_id) {
                    Some(topic) if !describe(&topic.name) => {
                        error_topic(None, t.topic_id, &denied())
                    }
                    Some(topic) => topic_response(state, &topic, v),
                    None => error_topic(
                        None,
                        t.topic_id,
                        &KafkaError::new(ResponseError::UnknownTopicId, ""),
                    ),
                },
            })
            .collect(),
    };
    let brokers = state
        .brokers()
        .into_iter()
        .map(|n| {
            MetadataResponseBroker::default()
                .with_node_id(BrokerId(n.node_id))
                .with_host(sb(n.host))
                .with_port(n.port)
                .with_rack(n.rack.map(sb))
        })
        .collect();
    MetadataResponse::default()
        .with_brokers(brokers)
        .with_cluster_id(Some(sb(state.cluster_id.clone())))
        .with_controller_id(BrokerId(state.controller_id()))
        .with_topics(topics)
}

pub(crate) fn error_response(_e: ResponseError, _v: i16) -> MetadataResponse {
    // Metadata responses have no top-level error code before v13: answer with no topics.
    MetadataResponse::default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::test_util::{ctx, encode_all_versions};
    use kafka_protocol::messages::ApiKey;
    use kafka_protocol::messages::metadata_request::MetadataRequestTopic;

    fn req(names: &[&str], auto: bool) -> MetadataRequest {
        MetadataRequest::default()
            .with_topics(Some(
                names
                    .iter()
                    .map(|n| MetadataRequestTopic::default().with_name(Some(TopicName(sb(*n)))))
                    .collect(),
            ))
            .with_allow_auto_topic_creation(auto)
    }

    #[test]
    fn auto_create_and_unknown() {
        let s = BrokerState::for_tests();
        let r = handle(&s, &ctx(ApiKey::Metadata, 12), req(&["new"], true));
        assert_eq!(r.topics[0].error_code, 0);
        assert_eq!(r.topics[0].partitions.len(), 1);
        assert!(!r.topics[0].topic_id.is_nil());
        let r = handle(&s, &ctx(ApiKey::Metadata, 12), req(&["other"], false));
        assert_eq!(
            r.topics[0].error_code,
            ResponseError::UnknownTopicOrPartition.code()
        );
        let r = handle(&s, &ctx(ApiKey::Metadata, 12), req(&["bad/name"], true));
        assert_eq!(
            r.topics[0].error_code,
            ResponseError::InvalidTopicException.code()
        );
        // v0 with an empty list: all topics
        let r = handle(
            &s,
            &ctx(ApiKey::Metadata, 0),
            MetadataRequest::default().with_topics(Some(vec![])),
        );
        assert_eq!(r.topics.len(), 1);
        // v1+ with an empty list: none
        let r = handle(
            &s,
            &ctx(ApiKey::Metadata, 1),
            MetadataRequest::default().with_topics(Some(vec![])),
        );
        assert!(r.topics.is_empty());
        assert_eq!(r.brokers[0].port, 9092);
    }

    #[test]
    fn lookup_by_id() {
        let s = BrokerState::for_tests();
        let id = s.get_or_auto_create("t").unwrap().id;
        let by_id = MetadataRequest::default().with_topics(Some(vec![
            MetadataRequestTopic::default()
                .with_topic_id(id)
                .with_name(None),
        ]));
        let r = handle(&s, &ctx(ApiKey::Metadata, 12), by_id);
        assert_eq!(r.topics[0].name.as_ref().unwrap().0.as_str(), "t");
        let unknown = MetadataRequest::default().with_topics(Some(vec![
            MetadataRequestTopic::default()
                .with_topic_id(Uuid::from_u128(7))
                .with_name(None),
        ]));
        let r = handle(&s, &ctx(ApiKey::Metadata, 12), unknown);
        assert_eq!(r.topics[0].error_code, ResponseError::UnknownTopicId.code());
    }

    #[test]
    fn encodes_at_every_version() {
        let s = BrokerState::for_tests();
        s.get_or_auto_create("t").unwrap();
        encode_all_versions(ApiKey::Metadata, 0, |v| {
            handle(
                &s,
                &ctx(ApiKey::Metadata, v),
                MetadataRequest::default().with_topics(None),
            )
        });
    }
}
