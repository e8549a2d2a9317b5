//! IncrementalAlterConfigs (key 44), versions 0–1.
//!
//! Changes individual topic configs: SET (0), DELETE (1, back to the default), APPEND (2) and
//! SUBTRACT (3) for list-typed configs (`cleanup.policy`, the throttled-replica lists).
//! Checks as AlterConfigs ([`super::alter_configs`]): all operations of a resource are
//! validated against the resulting values before any is applied; a name given twice is
//! INVALID_REQUEST; APPEND/SUBTRACT on a non-list config is INVALID_CONFIG; an unknown
//! operation is INVALID_REQUEST. Broker resources are read-only.
//! - v1: flexible.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::incremental_alter_configs_response::AlterConfigsResourceResponse;
use kafka_protocol::messages::{IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse};

use super::alter_configs::{check_duplicates, target_topic};
use super::{RequestContext, sb};
use crate::state::configs::{ConfigType, topic_config_def, validate_value};
use crate::state::{BrokerState, KafkaError};

pub(crate) const VERSIONS: (i16, i16) = (0, 1);

const SET: i8 = 0;
const DELETE: i8 = 1;
const APPEND: i8 = 2;
const SUBTRACT: i8 = 3;

/// (name, operation, value) of one requested change.
type Op = (String, i8, Option<String>);

fn list_items(v: &str) -> Vec<String> {
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn alter(
    state: &BrokerState,
    resource_type: i8,
    name: &str,
    ops: &[Op],
    validate_only: bool,
) -> Result<(), KafkaError> {
    let topic = target_topic(state, resource_type, name)?;
    check_duplicates(ops.iter().map(|(n, _, _)| n.as_str()))?;
    let mut configs = topic.configs();
    for (n, op, value) in ops {
        let def = topic_config_def(n).ok_or_else(|| {
            KafkaError::new(
                ResponseError::InvalidConfig,
                format!("Unknown topic config name: {n}"),
            )
        })?;
        let is_list = def.ty == ConfigType::List;
        match *op {
            DELETE => configs.remove(n),
            SET | APPEND | SUBTRACT => {
                let Some(value) = value else {
                    return Err(KafkaError::new(
                        ResponseError::InvalidRequest,
                        format!("Null value not supported for : {n}"),
                    ));
                };
                if *op != SET && !is_list {
                    return Err(KafkaError::new(
                        ResponseError::InvalidConfig,
                        format!(
                            "Config value append/subtract is not allowed for config key {n} of type {:?}",
                            def.ty
                        ),
                    ));
                }
                let new = if *op == SET {
                    value.clone()
                } else {
                    let current = configs
                        .overrides()
                        .get(n.as_str())
                        .cloned()
                        .unwrap_or_else(|| def.default.to_owned());
                    let mut items = list_items(&current);
                    for item in list_items(value) {
                        if *op == APPEND && !items.contains(&item) {
                            items.push(item);
                        } else if *op == SUBTRACT {
                            items.retain(|x| *x != item);
                        }
                    }
                    items.join(",")
                };
                validate_value(n, &new)?;
                configs.set(n, &new);
            }
            other => {
                return Err(KafkaError::new(
                    ResponseError::InvalidRequest,
                    format!("Unknown config operation {other} for {n}"),
                ));
            }
        }
    }
    if !validate_only {
        tracing::info!(topic = %name, configs = ?configs.overrides(), "topic configs changed");
        topic.update_configs(|c| *c = configs);
        state.persist_topic(&topic)?;
    }
    Ok(())
}

pub(crate) fn handle(
    state: &BrokerState,
    _ctx: &RequestContext,
    req: IncrementalAlterConfigsRequest,
) -> IncrementalAlterConfigsResponse {
    let responses = req
        .resources
        .into_iter()
        .map(|r| {
            let ops: Vec<Op> = r
                .configs
                .iter()
                .map(|c| {
                    (
                        c.name.to_string(),
                        c.config_operation,
                        c.value.as_ref().map(|v| v.to_string()),
                    )
                })
                .collect();
            let out = alter(
                state,
                r.resource_type,
                r.resource_name.as_str(),
                &ops,
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
    IncrementalAlterConfigsResponse::default().with_responses(responses)
}

pub(crate) fn error_response(_e: ResponseError, _v: i16) -> IncrementalAlterConfigsResponse {
    IncrementalAlterConfigsResponse::default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::describe_configs::TOPIC;
    use crate::api::test_util::{ctx, encode_all_versions};
    use kafka_protocol::messages::ApiKey;
    use kafka_protocol::messages::incremental_alter_configs_request::{
        AlterConfigsResource, AlterableConfig,
    };

    fn req(ops: &[(&str, i8, Option<&str>)]) -> IncrementalAlterConfigsRequest {
        IncrementalAlterConfigsRequest::default().with_resources(vec![
            AlterConfigsResource::default()
                .with_resource_type(TOPIC)
                .with_resource_name(sb("t"))
                .with_configs(
                    ops.iter()
                        .map(|(n, op, v)| {
                            AlterableConfig::default()
                                .with_name(sb(*n))
                                .with_config_operation(*op)
                                .with_value(v.map(sb))
                        })
                        .collect(),
                ),
        ])
    }

    #[test]
    fn set_delete_append_subtract() {
        let s = BrokerState::for_tests();
        s.get_or_auto_create("t").unwrap();
        let c = ctx(ApiKey::IncrementalAlterConfigs, 1);
        let ov = || s.topic("t").unwrap().configs().overrides().clone();
        let r = handle(
            &s,
            &c,
            req(&[
                ("retention.ms", SET, Some("5")),
                ("cleanup.policy", APPEND, Some("compact")),
            ]),
        );
        assert_eq!(r.responses[0].error_code, 0);
        assert_eq!(ov().get("cleanup.policy").unwrap(), "delete,compact");
        assert_eq!(ov().get("retention.ms").unwrap(), "5");
        handle(
            &s,
            &c,
            req(&[
                ("cleanup.policy", SUBTRACT, Some("delete")),
                ("retention.ms", DELETE, None),
            ]),
        );
        assert_eq!(ov().get("cleanup.policy").unwrap(), "compact");
        assert!(!ov().contains_key("retention.ms"));
        let r = handle(&s, &c, req(&[("retention.ms", APPEND, Some("5"))]));
        assert_eq!(
            r.responses[0].error_code,
            ResponseError::InvalidConfig.code()
        );
        let r = handle(&s, &c, req(&[("retention.ms", 9, Some("5"))]));
        assert_eq!(
            r.responses[0].error_code,
            ResponseError::InvalidRequest.code()
        );
        let r = handle(
            &s,
            &c,
            req(&[
                ("retention.ms", SET, Some("5")),
                ("max.message.bytes", SET, Some("x")),
            ]),
        );
        assert_eq!(
            r.responses[0].error_code,
            ResponseError::InvalidConfig.code()
        );
        assert!(
            !ov().contains_key("retention.ms"),
            "nothing applied when one op fails"
        );
    }

    #[test]
    fn encodes_at_every_version() {
        let s = BrokerState::for_tests();
        encode_all_versions(ApiKey::IncrementalAlterConfigs, 0, |v| {
            handle(&s, &ctx(ApiKey::IncrementalAlterConfigs, v), req(&[]))
        });
    }
}
