//! DescribeConfigs (key 32), versions 1–4.
//!
//! Topic resources (type 2): every topic config Kafka knows, with the topic's value where it
//! was set (source DYNAMIC_TOPIC_CONFIG) and the default otherwise (DEFAULT_CONFIG;
//! `max.message.bytes` defaults to the broker's `message.max.bytes`, as in Kafka), or only the
//! keys asked for. Broker resources (type 4, named by a node id, or "" for cluster defaults):
//! the broker's own settings, read-only. Other resource types: INVALID_REQUEST. Unknown topic:
//! UNKNOWN_TOPIC_OR_PARTITION. Synonyms, when asked for, list the entry's own source only.
//! - v1: config source and synonyms (v0 is not served: Kafka 4 removed it). v3: config type
//!   and documentation. v4: flexible.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::describe_configs_response::{
    DescribeConfigsResourceResult, DescribeConfigsResult, DescribeConfigsSynonym,
};
use kafka_protocol::messages::{DescribeConfigsRequest, DescribeConfigsResponse};

use super::{RequestContext, sb};
use crate::state::configs::{ConfigType, MAX_MESSAGE_BYTES, TOPIC_CONFIGS};
use crate::state::{BrokerState, KafkaError};

pub(crate) const VERSIONS: (i16, i16) = (1, 4);

pub(crate) const TOPIC: i8 = 2;
pub(crate) const BROKER: i8 = 4;

/// `ConfigSource` values.
const DYNAMIC_TOPIC_CONFIG: i8 = 1;
const STATIC_BROKER_CONFIG: i8 = 4;
const DEFAULT_CONFIG: i8 = 5;

/// One described entry before it is shaped for the version.
struct Entry {
    name: String,
    value: String,
    source: i8,
    read_only: bool,
    ty: ConfigType,
    doc: &'static str,
}

fn topic_entries(state: &BrokerState, name: &str) -> Result<Vec<Entry>, KafkaError> {
    let topic = state.topic(name).ok_or_else(|| {
        KafkaError::new(
            ResponseError::UnknownTopicOrPartition,
            format!("Topic '{name}' does not exist."),
        )
    })?;
    let configs = topic.configs();
    Ok(TOPIC_CONFIGS
        .iter()
        .map(|d| {
            let (value, source) = match configs.overrides().get(d.name) {
                Some(v) => (v.clone(), DYNAMIC_TOPIC_CONFIG),
                None if d.name == MAX_MESSAGE_BYTES => {
                    (state.max_message_bytes.to_string(), DEFAULT_CONFIG)
                }
                None => (d.default.to_owned(), DEFAULT_CONFIG),
            };
            Entry {
                name: d.name.to_owned(),
                value,
                source,
                read_only: false,
                ty: d.ty,
                doc: d.doc,
            }
        })
        .collect())
}

fn broker_entries(state: &BrokerState, name: &str) -> Result<Vec<Entry>, KafkaError> {
    let known = name.is_empty()
        || state
            .brokers()
            .iter()
            .any(|b| b.node_id.to_string() == name);
    if !known {
        return Err(KafkaError::new(
            ResponseError::InvalidRequest,
            format!(
                "Unexpected broker id, expected one of this cluster's node ids but received {name}"
            ),
        ));
    }
    Ok(state
        .broker_configs
        .iter()
        .map(|c| Entry {
            name: c.name.to_owned(),
            value: c.value.clone(),
            source: if c.is_default {
                DEFAULT_CONFIG
            } else {
                STATIC_BROKER_CONFIG
            },
            read_only: true,
            ty: c.ty,
            doc: "Set on the kt broker command line or by its defaults; read-only.",
        })
        .collect())
}

pub(crate) fn handle(
    state: &BrokerState,
    ctx: &RequestContext,
    req: DescribeConfigsRequest,
) -> DescribeConfigsResponse {
    let v = ctx.api_version;
    let results = req
        .resources
        .into_iter()
        .map(|r| {
            let name = r.resource_name.to_string();
            let entries = match r.resource_type {
                TOPIC => topic_entries(state, &name),
                BROKER => broker_entries(state, &name),
                other => Err(KafkaError::new(
                    ResponseError::InvalidRequest,
                    format!(
                        "kt broker describes topic (2) and broker (4) configs, not type {other}"
                    ),
                )),
            };
            let result = DescribeConfigsResult::default()
                .with_resource_type(r.resource_type)
                .with_resource_name(r.resource_name);
            match entries {
                Err(e) => result
                    .with_error_code(e.code())
                    .with_error_message(Some(sb(e.message))),
                Ok(entries) => {
                    let wanted = r.configuration_keys.as_ref();
                    let configs = entries
                        .into_iter()
                        .filter(|e| {
                            wanted.is_none_or(|keys| keys.iter().any(|k| k.as_str() == e.name))
                        })
                        .map(|e| {
                            let synonyms = if req.include_synonyms {
                                vec![
                                    DescribeConfigsSynonym::default()
                                        .with_name(sb(e.name.clone()))
                                        .with_value(Some(sb(e.value.clone())))
                                        .with_source(e.source),
                                ]
                            } else {
                                Vec::new()
                            };
                            let c = DescribeConfigsResourceResult::default()
                                .with_name(sb(e.name))
                                .with_value(Some(sb(e.value)))
                                .with_read_only(e.read_only)
                                .with_config_source(e.source)
                                .with_is_sensitive(false)
                                .with_synonyms(synonyms);
                            if v >= 3 {
                                c.with_config_type(e.ty as i8).with_documentation(
                                    req.include_documentation.then(|| sb(e.doc)),
                                )
                            } else {
                                c
                            }
                        })
                        .collect();
                    result.with_configs(configs)
                }
            }
        })
        .collect();
    DescribeConfigsResponse::default().with_results(results)
}

pub(crate) fn error_response(_e: ResponseError, _v: i16) -> DescribeConfigsResponse {
    DescribeConfigsResponse::default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::test_util::{ctx, encode_all_versions};
    use kafka_protocol::messages::ApiKey;
    use kafka_protocol::messages::describe_configs_request::DescribeConfigsResource;

    fn req(ty: i8, name: &str, keys: Option<Vec<&str>>) -> DescribeConfigsRequest {
        DescribeConfigsRequest::default()
            .with_resources(vec![
                DescribeConfigsResource::default()
                    .with_resource_type(ty)
                    .with_resource_name(sb(name))
                    .with_configuration_keys(keys.map(|k| k.into_iter().map(sb).collect())),
            ])
            .with_include_synonyms(true)
            .with_include_documentation(true)
    }

    #[test]
    fn topic_values_defaults_and_errors() {
        let s = BrokerState::for_tests();
        let mut t = crate::state::NewTopic::with_defaults("t");
        t.configs = vec![("retention.ms".into(), Some("1000".into()))];
        s.create_topic(&t, false).unwrap();
        let r = handle(&s, &ctx(ApiKey::DescribeConfigs, 4), req(TOPIC, "t", None));
        let res = &r.results[0];
        assert_eq!(res.error_code, 0);
        assert_eq!(res.configs.len(), TOPIC_CONFIGS.len());
        let get = |n: &str| res.configs.iter().find(|c| c.name.as_str() == n).unwrap();
        assert_eq!(get("retention.ms").value.as_ref().unwrap().as_str(), "1000");
        assert_eq!(get("retention.ms").config_source, DYNAMIC_TOPIC_CONFIG);
        assert_eq!(get("cleanup.policy").config_source, DEFAULT_CONFIG);
        assert_eq!(
            get("max.message.bytes").value.as_ref().unwrap().as_str(),
            "1048588"
        );
        assert_eq!(get("retention.ms").config_type, ConfigType::Long as i8);
        let r = handle(
            &s,
            &ctx(ApiKey::DescribeConfigs, 1),
            req(TOPIC, "t", Some(vec!["cleanup.policy"])),
        );
        assert_eq!(r.results[0].configs.len(), 1);
        let r = handle(
            &s,
            &ctx(ApiKey::DescribeConfigs, 1),
            req(TOPIC, "nope", None),
        );
        assert_eq!(
            r.results[0].error_code,
            ResponseError::UnknownTopicOrPartition.code()
        );
        let r = handle(&s, &ctx(ApiKey::DescribeConfigs, 1), req(BROKER, "0", None));
        assert_eq!(r.results[0].error_code, 0);
        assert!(r.results[0].configs.iter().all(|c| c.read_only));
        assert!(
            r.results[0]
                .configs
                .iter()
                .any(|c| c.name.as_str() == "message.max.bytes")
        );
        let r = handle(&s, &ctx(ApiKey::DescribeConfigs, 1), req(BROKER, "9", None));
        assert_eq!(
            r.results[0].error_code,
            ResponseError::InvalidRequest.code()
        );
        let r = handle(&s, &ctx(ApiKey::DescribeConfigs, 1), req(8, "0", None));
        assert_eq!(
            r.results[0].error_code,
            ResponseError::InvalidRequest.code()
        );
    }

    #[test]
    fn encodes_at_every_version() {
        let s = BrokerState::for_tests();
        s.get_or_auto_create("t").unwrap();
        encode_all_versions(ApiKey::DescribeConfigs, 0, |v| {
            handle(&s, &ctx(ApiKey::DescribeConfigs, v), req(TOPIC, "t", None))
        });
    }
}
