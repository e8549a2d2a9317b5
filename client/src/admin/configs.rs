//! Configurations: DescribeConfigs and IncrementalAlterConfigs (KIP-339).
//!
//! Topic resources go to any broker; a broker's own configuration must be asked of that
//! broker. Altering uses IncrementalAlterConfigs (set / delete / append / subtract one key
//! at a time), which replaced the whole-resource AlterConfigs that Kafka 4 deprecates.

use kafka_protocol::messages::describe_configs_request::DescribeConfigsResource;
use kafka_protocol::messages::incremental_alter_configs_request::{
    AlterConfigsResource, AlterableConfig,
};
use kafka_protocol::messages::{ApiKey, DescribeConfigsRequest, IncrementalAlterConfigsRequest};
use kafka_protocol::protocol::StrBytes;

use super::{Admin, with_message};
use crate::cluster::Purpose;
use crate::connection::Connection;
use crate::error::{Error, KafkaCode};

/// Something that has a configuration.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ConfigResource {
    /// A topic (resource type 2).
    Topic(String),
    /// A broker by node id (resource type 4).
    Broker(i32),
}

impl ConfigResource {
    fn wire(&self) -> (i8, String) {
        match self {
            ConfigResource::Topic(t) => (2, t.clone()),
            ConfigResource::Broker(id) => (4, id.to_string()),
        }
    }
}

impl std::fmt::Display for ConfigResource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConfigResource::Topic(t) => write!(f, "topic '{t}'"),
            ConfigResource::Broker(id) => write!(f, "broker {id}"),
        }
    }
}

/// Where a configuration value comes from (DescribeConfigs v1+ `config_source`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfigSource {
    /// Set on the topic.
    DynamicTopic,
    /// Set dynamically for this broker.
    DynamicBroker,
    /// Set dynamically as the default for all brokers.
    DynamicDefaultBroker,
    /// From the broker's configuration file.
    StaticBroker,
    /// Kafka's default.
    Default,
    /// Any other source code.
    Other(i8),
}

impl From<i8> for ConfigSource {
    fn from(v: i8) -> Self {
        match v {
            1 => ConfigSource::DynamicTopic,
            2 => ConfigSource::DynamicBroker,
            3 => ConfigSource::DynamicDefaultBroker,
            4 => ConfigSource::StaticBroker,
            5 => ConfigSource::Default,
            other => ConfigSource::Other(other),
        }
    }
}

/// One configuration key and its value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigEntry {
    /// The key, e.g. `retention.ms`.
    pub name: String,
    /// The value (`None` for sensitive values and unset keys).
    pub value: Option<String>,
    /// Whether it cannot be changed.
    pub read_only: bool,
    /// Whether the value is secret (the broker hides it).
    pub sensitive: bool,
    /// Where the value comes from.
    pub source: ConfigSource,
}

/// One change of IncrementalAlterConfigs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AlterConfigOp {
    /// Sets `key` to `value` (operation 0).
    Set(String, String),
    /// Removes `key`, back to its default (operation 1).
    Delete(String),
    /// Appends `value` to a list-valued `key` (operation 2).
    Append(String, String),
    /// Removes `value` from a list-valued `key` (operation 3).
    Subtract(String, String),
}

impl AlterConfigOp {
    fn wire(&self) -> AlterableConfig {
        let (name, op, value) = match self {
            AlterConfigOp::Set(k, v) => (k, 0, Some(v)),
            AlterConfigOp::Delete(k) => (k, 1, None),
            AlterConfigOp::Append(k, v) => (k, 2, Some(v)),
            AlterConfigOp::Subtract(k, v) => (k, 3, Some(v)),
        };
        let mut c = AlterableConfig::default();
        c.name = StrBytes::from_string(name.clone());
        c.config_operation = op;
        c.value = value.map(|v| StrBytes::from_string(v.clone()));
        c
    }
}

impl Admin {
    async fn connection_for(&self, resource: &ConfigResource) -> Result<Connection, Error> {
        match resource {
            ConfigResource::Broker(id) => {
                self.cluster.broker_connection(*id, Purpose::Control).await
            }
            ConfigResource::Topic(_) => self.cluster.any_connection().await,
        }
    }

    /// Every configuration entry of each resource, in the order asked.
    pub async fn describe_configs(
        &self,
        resources: &[ConfigResource],
    ) -> Result<Vec<(ConfigResource, Vec<ConfigEntry>)>, Error> {
        let mut out = Vec::with_capacity(resources.len());
        for resource in resources {
            let conn = self.connection_for(resource).await?;
            let v = conn.version(ApiKey::DescribeConfigs)?;
            let (kind, name) = resource.wire();
            let mut r = DescribeConfigsResource::default();
            r.resource_type = kind;
            r.resource_name = StrBytes::from_string(name.clone());
            r.configuration_keys = None;
            let mut req = DescribeConfigsRequest::default();
            req.resources = vec![r];
            let resp = conn.send(&req, v, self.cluster.request_timeout()).await?;
            let Some(res) = resp
                .results
                .iter()
                .find(|x| x.resource_type == kind && x.resource_name.as_str() == name)
            else {
                return Err(Error::kafka(
                    KafkaCode::UnknownServerError,
                    format!(
                        "DescribeConfigs answer from {} lacks {resource}",
                        conn.broker()
                    ),
                ));
            };
            if res.error_code != 0 {
                return Err(Error::kafka(
                    res.error_code,
                    with_message(
                        format!("describe configs of {resource}"),
                        res.error_message.as_deref().unwrap_or(""),
                    ),
                ));
            }
            let entries = res
                .configs
                .iter()
                .map(|c| ConfigEntry {
                    name: c.name.to_string(),
                    value: c.value.as_ref().map(|v| v.to_string()),
                    read_only: c.read_only,
                    sensitive: c.is_sensitive,
                    source: ConfigSource::from(c.config_source),
                })
                .collect();
            out.push((resource.clone(), entries));
        }
        Ok(out)
    }

    /// Applies `ops` to `resource` (IncrementalAlterConfigs); with `validate_only` the
    /// broker only checks them.
    pub async fn alter_configs(
        &self,
        resource: &ConfigResource,
        ops: &[AlterConfigOp],
        validate_only: bool,
    ) -> Result<(), Error> {
        let conn = self.connection_for(resource).await?;
        let v = conn.version(ApiKey::IncrementalAlterConfigs)?;
        let (kind, name) = resource.wire();
        let mut r = AlterConfigsResource::default();
        r.resource_type = kind;
        r.resource_name = StrBytes::from_string(name.clone());
        r.configs = ops.iter().map(AlterConfigOp::wire).collect();
        let mut req = IncrementalAlterConfigsRequest::default();
        req.resources = vec![r];
        req.validate_only = validate_only;
        let resp = conn.send(&req, v, self.cluster.request_timeout()).await?;
        match resp
            .responses
            .iter()
            .find(|x| x.resource_type == kind && x.resource_name.as_str() == name)
        {
            Some(x) if x.error_code == 0 => Ok(()),
            Some(x) => Err(Error::kafka(
                x.error_code,
                with_message(
                    format!("alter configs of {resource}"),
                    x.error_message.as_deref().unwrap_or(""),
                ),
            )),
            None => Err(Error::kafka(
                KafkaCode::UnknownServerError,
                format!(
                    "IncrementalAlterConfigs answer from {} lacks {resource}",
                    conn.broker()
                ),
            )),
        }
    }
}
