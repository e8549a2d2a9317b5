//! ACLs at the handlers: topic operations per partition, Metadata filtering and auto-creation,
//! CreateTopics / DeleteTopics, group and cluster operations through `route::refusal`.

use std::sync::Arc;

use kafka_protocol::ResponseError;
use kafka_protocol::messages::create_topics_request::CreatableTopic;
use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::messages::*;

use super::produce::tests::{handle_now, produce_req};
use super::route::{Routed, refusal};
use super::test_util::ctx;
use super::{RequestContext, create_topics, delete_topics, metadata, sb};
use crate::acl::Acl;
use crate::log::batch::tests::build_batch;
use crate::state::BrokerState;

const RULES: &str = "
    allow User:alice produce topic:orders
    allow User:alice read    group:app
    allow User:alice describe topic:pub
    allow User:ops   create  cluster
    allow User:ops   delete  topic:*
    allow User:ops   describe topic:*
";

fn state() -> BrokerState {
    let mut s = BrokerState::for_tests();
    for t in ["orders", "secret", "pub"] {
        s.get_or_auto_create(t).unwrap();
    }
    s.acl = Some(Acl::parse(RULES, "acl").unwrap());
    s
}

fn as_user(key: ApiKey, v: i16, user: &str) -> RequestContext {
    RequestContext {
        principal: Arc::from(format!("User:{user}")),
        ..ctx(key, v)
    }
}

#[test]
fn produce_needs_write_on_the_topic() {
    let s = state();
    let batch = build_batch(&[(None, Some(b"v"), 1)]);
    for (topic, user, want) in [
        ("orders", "alice", 0),
        (
            "secret",
            "alice",
            ResponseError::TopicAuthorizationFailed.code(),
        ),
        (
            "orders",
            "ANONYMOUS",
            ResponseError::TopicAuthorizationFailed.code(),
        ),
    ] {
        let r = handle_now(
            &s,
            &as_user(ApiKey::Produce, 9, user),
            produce_req(topic, vec![(0, batch.clone())], 1),
        )
        .unwrap();
        assert_eq!(
            r.responses[0].partition_responses[0].error_code, want,
            "{user} -> {topic}"
        );
    }
    assert_eq!(s.topic("secret").unwrap().partitions[0].offsets(), (0, 0));
}

#[test]
fn metadata_hides_what_cannot_be_described_and_create_needs_create() {
    let s = state();
    let r = metadata::handle(
        &s,
        &as_user(ApiKey::Metadata, 12, "alice"),
        MetadataRequest::default().with_topics(None),
    );
    let names: Vec<&str> = r
        .topics
        .iter()
        .map(|t| t.name.as_ref().unwrap().0.as_str())
        .collect();
    assert_eq!(names, ["orders", "pub"]);
    let named = |names: &[&str]| {
        MetadataRequest::default()
            .with_topics(Some(
                names
                    .iter()
                    .map(|n| MetadataRequestTopic::default().with_name(Some(TopicName(sb(*n)))))
                    .collect(),
            ))
            .with_allow_auto_topic_creation(true)
    };
    let r = metadata::handle(
        &s,
        &as_user(ApiKey::Metadata, 12, "alice"),
        named(&["secret"]),
    );
    assert_eq!(
        r.topics[0].error_code,
        ResponseError::TopicAuthorizationFailed.code()
    );
    // ops may describe and create: a new topic appears; alice may not create it
    let r = metadata::handle(&s, &as_user(ApiKey::Metadata, 12, "ops"), named(&["fresh"]));
    assert_eq!(r.topics[0].error_code, 0);
    assert!(s.topic("fresh").is_some());
    let r = metadata::handle(
        &s,
        &as_user(ApiKey::Metadata, 12, "ops"),
        named(&["fresh2"]),
    );
    assert_eq!(r.topics[0].error_code, 0);
    let r = metadata::handle(&s, &as_user(ApiKey::Metadata, 12, "alice"), named(&["pub"]));
    assert_eq!(r.topics[0].error_code, 0);
}

#[test]
fn create_and_delete_topics_check_each_topic() {
    let s = state();
    let req = CreateTopicsRequest::default().with_topics(vec![
        CreatableTopic::default()
            .with_name(TopicName(sb("new")))
            .with_num_partitions(1)
            .with_replication_factor(1),
    ]);
    let r = create_topics::handle(&s, &as_user(ApiKey::CreateTopics, 7, "alice"), req.clone());
    assert_eq!(
        r.topics[0].error_code,
        ResponseError::TopicAuthorizationFailed.code()
    );
    assert!(s.topic("new").is_none());
    let r = create_topics::handle(&s, &as_user(ApiKey::CreateTopics, 7, "ops"), req);
    assert_eq!(r.topics[0].error_code, 0);
    let del = DeleteTopicsRequest::default().with_topic_names(vec![TopicName(sb("orders"))]);
    let r = delete_topics::handle(&s, &as_user(ApiKey::DeleteTopics, 4, "alice"), del.clone());
    assert_eq!(
        r.responses[0].error_code,
        ResponseError::TopicAuthorizationFailed.code()
    );
    let r = delete_topics::handle(&s, &as_user(ApiKey::DeleteTopics, 4, "ops"), del);
    assert_eq!(r.responses[0].error_code, 0);
}

#[test]
fn group_requests_need_the_group_operation() {
    let s = state();
    let join = |g: &str| JoinGroupRequest::default().with_group_id(GroupId(sb(g)));
    let c = as_user(ApiKey::JoinGroup, 5, "alice");
    assert_eq!(refusal(&s, &c, &join("app")), None);
    assert_eq!(
        refusal(&s, &c, &join("other")),
        Some(ResponseError::GroupAuthorizationFailed)
    );
    // FindCoordinator needs Describe, implied by Read
    let find = FindCoordinatorRequest::default().with_key(sb("app"));
    assert_eq!(
        refusal(&s, &as_user(ApiKey::FindCoordinator, 3, "alice"), &find),
        None
    );
    let r = find.refuse(ResponseError::GroupAuthorizationFailed, 3);
    assert_eq!(r.error_code, ResponseError::GroupAuthorizationFailed.code());
    assert_eq!(
        refusal(&s, &as_user(ApiKey::FindCoordinator, 3, "bob"), &find),
        Some(ResponseError::GroupAuthorizationFailed)
    );
}

/// A request without groups: what refusal() sees of an InitProducerId.
struct NoGroups;

impl Routed for NoGroups {
    type Response = ();
    fn refuse(&self, _e: ResponseError, _v: i16) {}
}

#[test]
fn idempotence_needs_idempotent_write_or_write_on_some_topic() {
    let s = state();
    let req = NoGroups;
    assert_eq!(
        refusal(&s, &as_user(ApiKey::InitProducerId, 4, "alice"), &req),
        None,
        "alice may write orders (KIP-679)"
    );
    assert_eq!(
        refusal(&s, &as_user(ApiKey::InitProducerId, 4, "ops"), &req),
        Some(ResponseError::ClusterAuthorizationFailed)
    );
}
