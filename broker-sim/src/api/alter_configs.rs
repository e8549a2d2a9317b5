//! AlterConfigs (key 33), versions 0–2.
//!
//! Replaces a topic's whole set of config overrides with the ones given (Kafka's legacy,
//! non-incremental semantics: a config not named goes back to its default). Every name and
//! value is checked first (INVALID_CONFIG for an unknown name or a value of the wrong type or
//! range, INVALID_REQUEST for a null value); nothing changes unless all are valid, and nothing
//! changes with `validate_only`. Broker resources are read-only here (INVALID_REQUEST with a
//! message); other resource types get INVALID_REQUEST. Changes take effect at once: produce
//! reads `max.message.bytes` per request, the cleaner reads the retention settings per run.
//! - v1: throttle time. v2: flexible.

use std::collections::HashSet;

use kafka_protocol::ResponseError;
use kafka_protocol::messages::alter_configs_response::AlterConfigsResourceResponse;
use kafka_protocol::messages::{AlterConfigsRequest, AlterConfigsResponse};

use super::describe_configs::{BROKER, TOPIC};
use super::{RequestContext, sb};
use crate::state::configs::{TopicConfigs, validate_value};
use crate::state::{BrokerState, KafkaError, Topic};

pub(crate) const VERSIONS: (i16, i16) = (0, 2);

/// Looks up the topic a config change is for, refusing non-topic resources.
pub(crate) fn target_topic(
    state: &BrokerState,
    resource_type: i8,
    name: &str,
) -> Result<std::sync::Arc<Topic>, KafkaError> {
    match resource_type {
        TOPIC => state.topic(name).ok_or_else(|| {
            KafkaError::new(
                ResponseError::UnknownTopicOrPartition,
                format!("Topic '{name}' does not exist."),
            )
        }),
        BROKER => Err(KafkaError::new(
            ResponseError::InvalidRequest,
            "kt broker's broker configs are read-only: set them on the kt broker command line",
        )),
        other => Err(KafkaError::new(
            ResponseError::InvalidRequest,
            format!("kt broker alters topic (2) configs only, not resource type {other}"),
        )),
    }
}

/// Rejects a name given twice in one resource, as Kafka does.
pub(crate) fn check_duplicates<'a>(names: impl Iterator<Item = &'a str>) -> Result<(), KafkaError> {
    let mut seen = HashSet::new();
    for n in names {
        if !seen.insert(n) {
            return Err(KafkaError::new(
                ResponseError::InvalidRequest,
                format!("Error due to duplicate config keys: {n}"),
            ));
        }
    }
    Ok(())
}

fn alter(
    state: &BrokerState,
    resource_type: i8,
    name: &str,
    configs: &[(String, Option<String>)],
    validate_only: bool,
) -> Result<(), KafkaError> {
    let topic = target_topic(state, resource_type, name)?;
    check_duplicates(configs.iter().map(|(n, _)| n.as_str()))?;
    let mut pairs = Vec::with_capacity(configs.len());
    for (n, v) in configs {
        let Some(v) = v else {
            return Err(KafkaError::new(
                ResponseError::InvalidRequest,
                format!("Null value not supported for : {n}"),
            ));
        };
        validate_value(n, v)?;
        pairs.push((n.clone(), v.clone()));
    }
    if !validate_only {
        let new = TopicConfigs::from_pairs(&pairs);
        topic.update_configs(|c| *c = new);
        tracing::info!(topic = %name, configs = ?pairs, "topic configs replaced");
        state.persist_topic(&topic)?;
    }
    Ok(())
}

pub(crate) fn handle(
    state: &BrokerState,
    _ctx: &RequestContext,
    req: AlterConfigsRequest,
) -> AlterConfigsResponse {
    let responses = req
        .resources
        .into_iter()
        .map(|r| {
            let configs: Vec<(String, Option<String>)> = r
                .configs
                .iter()
                .map(|c| (c.name.to_string(), c.value.as_ref().map(|v| v.to_string())))
                .collect();
            let out = alter(
                state,
                r.resource_type,
                r.resource_name.as_str(),
                &configs,
                req.validate_only,
            );
            let response = AlterConfigsResourceResponse::default()
                .with_resource_type(r.resource_type)
                .with_resource_name(r.resource_name);
            match out {
                Ok(()) => response,
                Err(e) => response
                    .with_error_code(e.code())
                    .with_error_message(Some(sb(e.message))),
            }
        })
        .collect();
    AlterConfigsResponse::default().with_responses(responses)
}

pub(crate) fn error_response(_e: ResponseError, _v: i16) -> AlterConfigsResponse {
    AlterConfigsResponse::default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::test_util::{ctx, encode_all_versions};
    use kafka_protocol::messages::ApiKey;
    use kafka_protocol::messages::alter_configs_request::{AlterConfigsResource, AlterableConfig};

    fn req(
        ty: i8,
        name: &str,
        configs: &[(&str, &str)],
        validate_only: bool,
    ) -> AlterConfigsRequest {
        AlterConfigsRequest::default()
            .with_resources(vec![
                AlterConfigsResource::default()
                    .with_resource_type(ty)
                    .with_resource_name(sb(name))
                    .with_configs(
                        configs
                            .iter()
                            .map(|(n, v)| {
                                AlterableConfig::default()
                                    .with_name(sb(*n))
                                    .with_value(Some(sb(*v)))
                            })
                            .collect(),
                    ),
            ])
            .with_validate_only(validate_only)
    }

    #[test]
    fn replaces_all_overrides_after_checking_every_value() {
        let s = BrokerState::for_tests();
        let mut t = crate::state::NewTopic::with_defaults("t");
        t.configs = vec![("retention.ms".into(), Some("1000".into()))];
        s.create_topic(&t, false).unwrap();
        let c = ctx(ApiKey::AlterConfigs, 1);
        let r = handle(
            &s,
            &c,
            req(TOPIC, "t", &[("max.message.bytes", "100")], true),
        );
        assert_eq!(r.responses[0].error_code, 0);
        assert_eq!(
            s.topic("t").unwrap().configs().overrides().len(),
            1,
            "validate_only"
        );
        let r = handle(
            &s,
            &c,
            req(
                TOPIC,
                "t",
                &[("max.message.bytes", "100"), ("retention.ms", "x")],
                false,
            ),
        );
        assert_eq!(
            r.responses[0].error_code,
            ResponseError::InvalidConfig.code()
        );
        assert_eq!(
            s.topic("t")
                .unwrap()
                .configs()
                .overrides()
                .get("retention.ms")
                .unwrap(),
            "1000"
        );
        let r = handle(
            &s,
            &c,
            req(TOPIC, "t", &[("max.message.bytes", "100")], false),
        );
        assert_eq!(r.responses[0].error_code, 0);
        let now = s.topic("t").unwrap().configs();
        assert_eq!(now.overrides().len(), 1);
        assert_eq!(now.max_message_bytes(7), 100);
        let r = handle(
            &s,
            &c,
            req(
                TOPIC,
                "t",
                &[("retention.ms", "1"), ("retention.ms", "2")],
                false,
            ),
        );
        assert_eq!(
            r.responses[0].error_code,
            ResponseError::InvalidRequest.code()
        );
        let r = handle(&s, &c, req(TOPIC, "nope", &[], false));
        assert_eq!(
            r.responses[0].error_code,
            ResponseError::UnknownTopicOrPartition.code()
        );
        let r = handle(
            &s,
            &c,
            req(BROKER, "0", &[("message.max.bytes", "5")], false),
        );
        assert_eq!(
            r.responses[0].error_code,
            ResponseError::InvalidRequest.code()
        );
    }

    #[test]
    fn encodes_at_every_version() {
        let s = BrokerState::for_tests();
        encode_all_versions(ApiKey::AlterConfigs, 0, |v| {
            handle(
                &s,
                &ctx(ApiKey::AlterConfigs, v),
                req(TOPIC, "t", &[], false),
            )
        });
    }
}
