//! DeleteTopics (key 20), versions 1–6.
//!
//! Deletes topics (their logs and the committed offsets groups hold for them). Fetches
//! waiting on a deleted topic wake and see UNKNOWN_TOPIC_OR_PARTITION.
//! - v1–5: by name (`topic_names`); unknown names get UNKNOWN_TOPIC_OR_PARTITION.
//! - v4+: flexible. v5+: error messages.
//! - v6: `topics` entries carry a name or (null name) a topic id; unknown ids get
//!   UNKNOWN_TOPIC_ID; the result carries both name and id.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::delete_topics_response::DeletableTopicResult;
use kafka_protocol::messages::{DeleteTopicsRequest, DeleteTopicsResponse, TopicName};
use uuid::Uuid;

use super::{RequestContext, route, sb};
use crate::acl::{Operation, Resource};
use crate::state::BrokerState;

pub(crate) const VERSIONS: (i16, i16) = (1, 6);

fn delete(
    state: &BrokerState,
    ctx: &RequestContext,
    name: Option<String>,
    id: Uuid,
) -> DeletableTopicResult {
    let v = ctx.api_version;
    let name = name.or_else(|| state.topic_by_id(&id).map(|t| t.name.clone()));
    let Some(name) = name else {
        return DeletableTopicResult::default()
            .with_topic_id(id)
            .with_error_code(ResponseError::UnknownTopicId.code())
            .with_error_message(Some(sb("This server does not host this topic ID.")));
    };
    let result = DeletableTopicResult::default().with_name(Some(TopicName(sb(name.clone()))));
    if !route::authorized(state, ctx, Operation::Delete, Resource::Topic(&name)) {
        return result.with_error_code(ResponseError::TopicAuthorizationFailed.code());
    }
    match state.delete_topic(&name) {
        Ok(topic) => {
            if v >= 6 {
                result.with_topic_id(topic.id)
            } else {
                result
            }
        }
        Err(e) => {
            let result = result.with_error_code(e.code());
            if v >= 5 {
                result.with_error_message(Some(sb(e.message)))
            } else {
                result
            }
        }
    }
}

pub(crate) fn handle(
    state: &BrokerState,
    ctx: &RequestContext,
    req: DeleteTopicsRequest,
) -> DeleteTopicsResponse {
    let v = ctx.api_version;
    let responses = if v >= 6 {
        req.topics
            .into_iter()
            .map(|t| delete(state, ctx, t.name.map(|n| n.0.to_string()), t.topic_id))
            .collect()
    } else {
        req.topic_names
            .into_iter()
            .map(|n| delete(state, ctx, Some(n.0.to_string()), Uuid::nil()))
            .collect()
    };
    DeleteTopicsResponse::default().with_responses(responses)
}

pub(crate) fn error_response(_e: ResponseError, _v: i16) -> DeleteTopicsResponse {
    DeleteTopicsResponse::default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::test_util::{ctx, encode_all_versions};
    use kafka_protocol::messages::ApiKey;
    use kafka_protocol::messages::delete_topics_request::DeleteTopicState;

    #[test]
    fn by_name_and_by_id() {
        let s = BrokerState::for_tests();
        s.get_or_auto_create("a").unwrap();
        let id_b = s.get_or_auto_create("b").unwrap().id;
        let r = handle(
            &s,
            &ctx(ApiKey::DeleteTopics, 1),
            DeleteTopicsRequest::default()
                .with_topic_names(vec![TopicName(sb("a")), TopicName(sb("zz"))]),
        );
        assert_eq!(r.responses[0].error_code, 0);
        assert_eq!(
            r.responses[1].error_code,
            ResponseError::UnknownTopicOrPartition.code()
        );
        let r = handle(
            &s,
            &ctx(ApiKey::DeleteTopics, 6),
            DeleteTopicsRequest::default().with_topics(vec![
                DeleteTopicState::default()
                    .with_name(None)
                    .with_topic_id(id_b),
                DeleteTopicState::default()
                    .with_name(None)
                    .with_topic_id(Uuid::from_u128(9)),
            ]),
        );
        assert_eq!(r.responses[0].error_code, 0);
        assert_eq!(r.responses[0].name.as_ref().unwrap().0.as_str(), "b");
        assert_eq!(
            r.responses[1].error_code,
            ResponseError::UnknownTopicId.code()
        );
        assert!(s.all_topics().is_empty());
    }

    #[test]
    fn encodes_at_every_version() {
        encode_all_versions(ApiKey::DeleteTopics, 0, |v| {
            let s = BrokerState::for_tests();
            s.get_or_auto_create("a").unwrap();
            let req = if v >= 6 {
                DeleteTopicsRequest::default().with_topics(vec![
                    DeleteTopicState::default().with_name(Some(TopicName(sb("a")))),
                ])
            } else {
                DeleteTopicsRequest::default()
                    .with_topic_names(vec![TopicName(sb("a")), TopicName(sb("b"))])
            };
            handle(&s, &ctx(ApiKey::DeleteTopics, v), req)
        });
    }
}
