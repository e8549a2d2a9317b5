//! Topic configs: the names Kafka accepts, their types and defaults, value validation, and the
//! few the broker acts on (`retention.ms`, `retention.bytes`, `cleanup.policy`,
//! `delete.retention.ms`, `max.message.bytes`). The others are stored and described so admin
//! tools round-trip them, but have no effect (documented in the crate docs).

use std::collections::BTreeMap;

use kafka_protocol::ResponseError;

use super::KafkaError;

/// A config's type as DescribeConfigs v3+ reports it (`ConfigType` in Kafka).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ConfigType {
    Boolean = 1,
    String = 2,
    Int = 3,
    Long = 5,
    Double = 6,
    List = 7,
}

/// One topic config definition: name, type, Kafka's default and a line of documentation.
#[derive(Debug)]
pub(crate) struct ConfigDef {
    pub(crate) name: &'static str,
    pub(crate) ty: ConfigType,
    pub(crate) default: &'static str,
    pub(crate) doc: &'static str,
}

const fn def(
    name: &'static str,
    ty: ConfigType,
    default: &'static str,
    doc: &'static str,
) -> ConfigDef {
    ConfigDef {
        name,
        ty,
        default,
        doc,
    }
}

use ConfigType::{Boolean, Double, Int, List, Long, String as Str};

/// `max.message.bytes` defaults to the broker's `message.max.bytes`; the entry's default is
/// Kafka's and is replaced by the broker's value when described.
pub(crate) const MAX_MESSAGE_BYTES: &str = "max.message.bytes";
pub(crate) const RETENTION_MS: &str = "retention.ms";
pub(crate) const RETENTION_BYTES: &str = "retention.bytes";
pub(crate) const CLEANUP_POLICY: &str = "cleanup.policy";
pub(crate) const DELETE_RETENTION_MS: &str = "delete.retention.ms";

/// Topic-level configs Kafka accepts (`TopicConfig` / `LogConfig`), sorted by name.
pub(crate) const TOPIC_CONFIGS: &[ConfigDef] = &[
    def(
        CLEANUP_POLICY,
        List,
        "delete",
        "delete, compact or both: enforced (whole batches).",
    ),
    def("compression.gzip.level", Int, "-1", "Stored only."),
    def("compression.lz4.level", Int, "9", "Stored only."),
    def(
        "compression.type",
        Str,
        "producer",
        "Stored only: batches are kept as the producer compressed them.",
    ),
    def("compression.zstd.level", Int, "3", "Stored only."),
    def(
        DELETE_RETENTION_MS,
        Long,
        "86400000",
        "How long tombstones survive compaction: enforced.",
    ),
    def("file.delete.delay.ms", Long, "60000", "Stored only."),
    def(
        "flush.messages",
        Long,
        "9223372036854775807",
        "Stored only.",
    ),
    def("flush.ms", Long, "9223372036854775807", "Stored only."),
    def(
        "follower.replication.throttled.replicas",
        List,
        "",
        "Stored only.",
    ),
    def("index.interval.bytes", Int, "4096", "Stored only."),
    def(
        "leader.replication.throttled.replicas",
        List,
        "",
        "Stored only.",
    ),
    def("local.retention.bytes", Long, "-2", "Stored only."),
    def("local.retention.ms", Long, "-2", "Stored only."),
    def(
        "max.compaction.lag.ms",
        Long,
        "9223372036854775807",
        "Stored only.",
    ),
    def(
        MAX_MESSAGE_BYTES,
        Int,
        "1048588",
        "Largest record batch accepted: enforced on produce.",
    ),
    def(
        "message.downconversion.enable",
        Boolean,
        "true",
        "Stored only.",
    ),
    def("message.format.version", Str, "3.0-IV1", "Stored only."),
    def(
        "message.timestamp.after.max.ms",
        Long,
        "3600000",
        "Stored only.",
    ),
    def(
        "message.timestamp.before.max.ms",
        Long,
        "9223372036854775807",
        "Stored only.",
    ),
    def(
        "message.timestamp.difference.max.ms",
        Long,
        "9223372036854775807",
        "Stored only.",
    ),
    def("message.timestamp.type", Str, "CreateTime", "Stored only."),
    def("min.cleanable.dirty.ratio", Double, "0.5", "Stored only."),
    def("min.compaction.lag.ms", Long, "0", "Stored only."),
    def(
        "min.insync.replicas",
        Int,
        "1",
        "Stored only (one replica).",
    ),
    def("preallocate", Boolean, "false", "Stored only."),
    def("remote.log.copy.disable", Boolean, "false", "Stored only."),
    def(
        "remote.log.delete.on.disable",
        Boolean,
        "false",
        "Stored only.",
    ),
    def("remote.storage.enable", Boolean, "false", "Stored only."),
    def(
        RETENTION_BYTES,
        Long,
        "-1",
        "Per-partition size limit, -1 unlimited: enforced (whole batches).",
    ),
    def(
        RETENTION_MS,
        Long,
        "604800000",
        "Age limit, -1 unlimited: enforced (whole batches).",
    ),
    def("segment.bytes", Int, "1073741824", "Stored only."),
    def("segment.index.bytes", Int, "10485760", "Stored only."),
    def("segment.jitter.ms", Long, "0", "Stored only."),
    def("segment.ms", Long, "604800000", "Stored only."),
    def(
        "unclean.leader.election.enable",
        Boolean,
        "false",
        "Stored only (one replica).",
    ),
];

/// The definition of a topic config, if Kafka knows the name.
pub(crate) fn topic_config_def(name: &str) -> Option<&'static ConfigDef> {
    TOPIC_CONFIGS.iter().find(|d| d.name == name)
}

fn invalid(name: &str, value: &str, why: &str) -> KafkaError {
    KafkaError::new(
        ResponseError::InvalidConfig,
        format!("Invalid value {value} for configuration {name}: {why}"),
    )
}

/// Checks a value against its config's type (and Kafka's range rules for the ones enforced).
pub(crate) fn validate_value(name: &str, value: &str) -> Result<(), KafkaError> {
    let Some(d) = topic_config_def(name) else {
        return Err(KafkaError::new(
            ResponseError::InvalidConfig,
            format!("Unknown topic config name: {name}"),
        ));
    };
    let v = value.trim();
    match d.ty {
        Boolean => {
            if !v.eq_ignore_ascii_case("true") && !v.eq_ignore_ascii_case("false") {
                return Err(invalid(
                    name,
                    value,
                    "Expected value to be either true or false",
                ));
            }
        }
        Int => {
            let n: i32 = v
                .parse()
                .map_err(|_| invalid(name, value, "Not a number of type INT"))?;
            if name == MAX_MESSAGE_BYTES && n < 0 {
                return Err(invalid(name, value, "Value must be at least 0"));
            }
        }
        Long => {
            let n: i64 = v
                .parse()
                .map_err(|_| invalid(name, value, "Not a number of type LONG"))?;
            if (name == RETENTION_MS || name == RETENTION_BYTES) && n < -1 {
                return Err(invalid(name, value, "Value must be at least -1"));
            }
            if name == DELETE_RETENTION_MS && n < 0 {
                return Err(invalid(name, value, "Value must be at least 0"));
            }
        }
        Double => {
            v.parse::<f64>()
                .map_err(|_| invalid(name, value, "Not a number of type DOUBLE"))?;
        }
        List => {
            if name == CLEANUP_POLICY {
                for item in v.split(',').map(str::trim) {
                    if item != "delete" && item != "compact" {
                        return Err(invalid(
                            name,
                            value,
                            "String must be one of: compact, delete",
                        ));
                    }
                }
            }
        }
        Str => {}
    }
    Ok(())
}

/// A broker setting as DescribeConfigs reports it (read-only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BrokerConfigEntry {
    pub(crate) name: &'static str,
    pub(crate) value: String,
    pub(crate) ty: ConfigType,
    /// True when the value is Kafka's default (source DEFAULT_CONFIG), else STATIC_BROKER_CONFIG.
    pub(crate) is_default: bool,
}

/// The broker settings DescribeConfigs lists for a broker resource, named as in Kafka.
pub(crate) fn broker_configs(c: &crate::config::BrokerConfig) -> Vec<BrokerConfigEntry> {
    let ms = |d: std::time::Duration| d.as_millis().to_string();
    let d = crate::config::BrokerConfig::default();
    let mut out = vec![
        (
            "node.id",
            c.node_id.to_string(),
            Int,
            c.node_id == d.node_id,
        ),
        (
            "broker.id",
            c.node_id.to_string(),
            Int,
            c.node_id == d.node_id,
        ),
        (
            "num.partitions",
            c.default_partitions.to_string(),
            Int,
            c.default_partitions == d.default_partitions,
        ),
        (
            "auto.create.topics.enable",
            c.auto_create_topics.to_string(),
            Boolean,
            c.auto_create_topics == d.auto_create_topics,
        ),
        ("default.replication.factor", "1".into(), Int, true),
        ("offsets.topic.replication.factor", "1".into(), Int, false),
        (
            "message.max.bytes",
            c.max_message_bytes.to_string(),
            Int,
            c.max_message_bytes == d.max_message_bytes,
        ),
        (
            "socket.request.max.bytes",
            c.max_request_size.to_string(),
            Int,
            c.max_request_size == d.max_request_size,
        ),
        (
            "fetch.max.bytes",
            c.fetch_max_bytes.to_string(),
            Int,
            c.fetch_max_bytes == d.fetch_max_bytes,
        ),
        (
            "group.initial.rebalance.delay.ms",
            ms(c.group_initial_rebalance_delay),
            Int,
            c.group_initial_rebalance_delay == d.group_initial_rebalance_delay,
        ),
        (
            "group.min.session.timeout.ms",
            ms(c.group_min_session_timeout),
            Int,
            c.group_min_session_timeout == d.group_min_session_timeout,
        ),
        (
            "group.max.session.timeout.ms",
            ms(c.group_max_session_timeout),
            Int,
            c.group_max_session_timeout == d.group_max_session_timeout,
        ),
        ("log.retention.ms", "604800000".into(), Long, false),
        ("log.retention.bytes", "-1".into(), Long, true),
        ("log.cleanup.policy", "delete".into(), List, true),
        (
            "log.retention.check.interval.ms",
            ms(c.log_cleanup_interval),
            Long,
            c.log_cleanup_interval == d.log_cleanup_interval,
        ),
    ];
    if let Some(rack) = &c.rack {
        out.push(("broker.rack", rack.clone(), Str, false));
    }
    out.into_iter()
        .map(|(name, value, ty, is_default)| BrokerConfigEntry {
            name,
            value,
            ty,
            is_default,
        })
        .collect()
}

/// The settings a topic was given (its overrides); everything else is the default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct TopicConfigs {
    overrides: BTreeMap<String, String>,
}

/// What retention and compaction act on, read from a topic's configs in one go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CleanupSettings {
    /// None: unlimited.
    pub(crate) retention_ms: Option<i64>,
    /// None: unlimited.
    pub(crate) retention_bytes: Option<u64>,
    pub(crate) delete: bool,
    pub(crate) compact: bool,
    pub(crate) delete_retention_ms: i64,
}

impl TopicConfigs {
    /// Builds from validated (name, value) pairs.
    pub(crate) fn from_pairs(pairs: &[(String, String)]) -> Self {
        TopicConfigs {
            overrides: pairs.iter().cloned().collect(),
        }
    }

    pub(crate) fn overrides(&self) -> &BTreeMap<String, String> {
        &self.overrides
    }

    pub(crate) fn set(&mut self, name: &str, value: &str) {
        self.overrides.insert(name.to_owned(), value.to_owned());
    }

    pub(crate) fn remove(&mut self, name: &str) {
        self.overrides.remove(name);
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.overrides.get(name).map(|s| s.trim())
    }

    fn long(&self, name: &str, default: i64) -> i64 {
        self.get(name)
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    }

    /// `max.message.bytes`, or the broker's `message.max.bytes` when not overridden.
    pub(crate) fn max_message_bytes(&self, broker_default: usize) -> usize {
        self.get(MAX_MESSAGE_BYTES)
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or(broker_default)
    }

    pub(crate) fn cleanup(&self) -> CleanupSettings {
        let policy = self.get(CLEANUP_POLICY).unwrap_or("delete");
        let has = |p: &str| policy.split(',').any(|x| x.trim() == p);
        let retention_ms = self.long(RETENTION_MS, 604_800_000);
        let retention_bytes = self.long(RETENTION_BYTES, -1);
        CleanupSettings {
            retention_ms: (retention_ms >= 0).then_some(retention_ms),
            retention_bytes: u64::try_from(retention_bytes).ok(),
            delete: has("delete"),
            compact: has("compact"),
            delete_retention_ms: self.long(DELETE_RETENTION_MS, 86_400_000).max(0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_unique() {
        for w in TOPIC_CONFIGS.windows(2) {
            assert!(w[0].name < w[1].name, "{} / {}", w[0].name, w[1].name);
        }
    }

    #[test]
    fn values_are_checked_by_type() {
        validate_value(RETENTION_MS, "1000").unwrap();
        validate_value(RETENTION_MS, "-1").unwrap();
        assert!(validate_value(RETENTION_MS, "-2").is_err());
        assert!(validate_value(RETENTION_MS, "soon").is_err());
        validate_value(CLEANUP_POLICY, "compact,delete").unwrap();
        assert!(validate_value(CLEANUP_POLICY, "shred").is_err());
        assert!(validate_value("preallocate", "yes").is_err());
        assert!(validate_value(MAX_MESSAGE_BYTES, "99999999999").is_err());
        assert_eq!(
            validate_value("no.such", "1").unwrap_err().error,
            ResponseError::InvalidConfig
        );
    }

    #[test]
    fn cleanup_settings_read_overrides() {
        let c = TopicConfigs::default().cleanup();
        assert_eq!(c.retention_ms, Some(604_800_000));
        assert_eq!(c.retention_bytes, None);
        assert!(c.delete && !c.compact);
        let c = TopicConfigs::from_pairs(&[
            (CLEANUP_POLICY.into(), "compact".into()),
            (RETENTION_MS.into(), "-1".into()),
            (RETENTION_BYTES.into(), "100".into()),
        ])
        .cleanup();
        assert_eq!(
            (c.retention_ms, c.retention_bytes, c.delete, c.compact),
            (None, Some(100), false, true)
        );
        let m = TopicConfigs::from_pairs(&[(MAX_MESSAGE_BYTES.into(), "100".into())]);
        assert_eq!(m.max_message_bytes(5), 100);
        assert_eq!(TopicConfigs::default().max_message_bytes(5), 5);
    }
}
