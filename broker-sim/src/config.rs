//! Broker configuration, named after the Apache Kafka settings each field mirrors.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::error::BrokerError;
use crate::sasl::Users;

/// `socket.request.max.bytes`: the largest request frame accepted (Kafka's default, 100 MiB).
pub const DEFAULT_MAX_REQUEST_SIZE: usize = 100 * 1024 * 1024;
/// `message.max.bytes`: the largest record batch accepted (Kafka's default, 1 MiB + 12).
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 1_048_588;
/// `fetch.max.bytes`: the most a Fetch response carries, whatever the client asks (55 MiB).
pub const DEFAULT_FETCH_MAX_BYTES: usize = 57_671_680;
/// `log.segment.bytes`: a segment file rolls before it grows past this (Kafka's 1 GiB).
pub const DEFAULT_SEGMENT_BYTES: u64 = 1 << 30;
/// `connections.max.idle.ms`: idle connections are closed after this long (Kafka's 10 min).
pub const DEFAULT_CONNECTIONS_MAX_IDLE: Duration = Duration::from_secs(600);
/// `max.connections`: open connections per node beyond which new ones are closed at once.
/// Kafka has no limit by default; a cap keeps a runaway client from exhausting file
/// descriptors.
pub const DEFAULT_MAX_CONNECTIONS: usize = 10_000;
/// `connection.failed.authentication.delay.ms`: how long the answer to a failed SASL login
/// (and the close after it) is held back (Kafka's 100 ms), which slows password guessing.
pub const DEFAULT_FAILED_AUTHENTICATION_DELAY: Duration = Duration::from_millis(100);
/// `log.roll.ms`: a segment file rolls once this old (Kafka's 7 days).
pub const DEFAULT_SEGMENT_AGE: Duration = Duration::from_secs(7 * 24 * 3600);

/// How one broker node listens and behaves.
///
/// Every field has a default matching a single-node Apache Kafka started with stock settings,
/// except `listen` which is loopback only: this broker is a development and test tool.
#[derive(Debug, Clone)]
pub struct BrokerConfig {
    /// Address to bind. Port 0 picks a free port; read it back with `BrokerHandle::local_addr`.
    pub listen: SocketAddr,
    /// Host put in Metadata and FindCoordinator answers (default: the listen IP).
    pub advertised_host: Option<String>,
    /// `node.id`.
    pub node_id: i32,
    /// `num.partitions`: partitions of auto-created topics and of CreateTopics with -1.
    pub default_partitions: i32,
    /// `auto.create.topics.enable`: create unknown topics named in Metadata requests that allow it.
    pub auto_create_topics: bool,
    /// The cluster id reported in Metadata v2+.
    pub cluster_id: String,
    /// `broker.rack`, reported in Metadata v1+.
    pub rack: Option<String>,
    /// `group.initial.rebalance.delay.ms`: how long the first rebalance of an empty group waits
    /// for more members. Kafka's default is 3 s; tests usually want zero.
    pub group_initial_rebalance_delay: Duration,
    /// `group.min.session.timeout.ms`.
    pub group_min_session_timeout: Duration,
    /// `group.max.session.timeout.ms`.
    pub group_max_session_timeout: Duration,
    /// `socket.request.max.bytes`: larger frames are refused before any allocation.
    pub max_request_size: usize,
    /// `message.max.bytes`: larger record batches get MESSAGE_TOO_LARGE.
    pub max_message_bytes: usize,
    /// `fetch.max.bytes`: caps a Fetch request's `max_bytes` (the first batch is still
    /// returned whole when larger, KIP-74).
    pub fetch_max_bytes: usize,
    /// Upper bound on partitions per topic. Kafka has none; an in-memory broker needs one so a
    /// CreateTopics request cannot make it allocate millions of partitions.
    pub max_partitions_per_topic: i32,
    /// `connections.max.idle.ms`: a connection with no request for this long is closed.
    pub connections_max_idle: Duration,
    /// `connection.failed.authentication.delay.ms`: a failed SASL login is answered (and its
    /// connection closed) only after this long, so each guess costs a guesser that much.
    pub failed_authentication_delay: Duration,
    /// `max.connections`: a node closes new connections at once while it has this many open
    /// (with a warning in the log).
    pub max_connections: usize,
    /// `ssl.keystore` as PEM: the server certificate chain. With [`BrokerConfig::tls_key`],
    /// every node listens with TLS only (see the crate docs).
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key of `tls_cert`.
    pub tls_key: Option<PathBuf>,
    /// ACL file (see the crate docs for its format): with it, every request is checked
    /// against the rules for its principal, and anything not allowed is refused.
    pub acl_file: Option<PathBuf>,
    /// `log.dirs`: keep topics, segment files and committed offsets here so a restart loses
    /// nothing acknowledged (None: memory only). See the crate docs for the layout and the
    /// durability policy.
    pub data_dir: Option<PathBuf>,
    /// `log.segment.bytes` (topics may override with `segment.bytes`).
    pub segment_bytes: u64,
    /// `log.roll.ms` (topics may override with `segment.ms`).
    pub segment_age: Duration,
    /// `log.retention.check.interval.ms`: how often retention and compaction run (Kafka's
    /// default, 5 minutes).
    pub log_cleanup_interval: Duration,
    /// SASL users (`--users FILE`): when set, every connection must authenticate with PLAIN or
    /// SCRAM-SHA-256/512 before anything but ApiVersions and the SASL requests.
    pub users: Option<Arc<Users>>,
}

impl Default for BrokerConfig {
    fn default() -> Self {
        BrokerConfig {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 9092)),
            advertised_host: None,
            node_id: 0,
            default_partitions: 1,
            auto_create_topics: true,
            cluster_id: "kt-broker-cluster".to_owned(),
            rack: None,
            group_initial_rebalance_delay: Duration::from_millis(3000),
            group_min_session_timeout: Duration::from_millis(6000),
            group_max_session_timeout: Duration::from_millis(1_800_000),
            max_request_size: DEFAULT_MAX_REQUEST_SIZE,
            max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES,
            fetch_max_bytes: DEFAULT_FETCH_MAX_BYTES,
            max_partitions_per_topic: 10_000,
            connections_max_idle: DEFAULT_CONNECTIONS_MAX_IDLE,
            failed_authentication_delay: DEFAULT_FAILED_AUTHENTICATION_DELAY,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            acl_file: None,
            tls_cert: None,
            tls_key: None,
            data_dir: None,
            segment_bytes: DEFAULT_SEGMENT_BYTES,
            segment_age: DEFAULT_SEGMENT_AGE,
            log_cleanup_interval: Duration::from_secs(300),
            users: None,
        }
    }
}

impl BrokerConfig {
    /// A config for tests: port 0 on loopback and no initial rebalance delay.
    pub fn for_tests() -> Self {
        BrokerConfig {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            group_initial_rebalance_delay: Duration::ZERO,
            ..BrokerConfig::default()
        }
    }

    /// Rejects values the broker cannot run with.
    pub fn validate(&self) -> Result<(), BrokerError> {
        let fail = |msg: String| Err(BrokerError::Config(msg));
        if self.node_id < 0 {
            return fail(format!("node_id must be >= 0, got {}", self.node_id));
        }
        if self.max_partitions_per_topic < 1 {
            return fail("max_partitions_per_topic must be >= 1".to_owned());
        }
        if self.default_partitions < 1 || self.default_partitions > self.max_partitions_per_topic {
            return fail(format!(
                "default_partitions must be in 1..={}, got {}",
                self.max_partitions_per_topic, self.default_partitions
            ));
        }
        if self.max_request_size < 64 || self.max_request_size > i32::MAX as usize {
            return fail(format!(
                "max_request_size must be in 64..=2^31-1, got {}",
                self.max_request_size
            ));
        }
        if self.max_message_bytes < 61 {
            return fail("max_message_bytes must hold at least a batch header (61)".to_owned());
        }
        if self.fetch_max_bytes == 0 {
            return fail("fetch_max_bytes must be positive".to_owned());
        }
        if self.group_min_session_timeout > self.group_max_session_timeout {
            return fail("group_min_session_timeout exceeds group_max_session_timeout".to_owned());
        }
        if self.tls_cert.is_some() != self.tls_key.is_some() {
            return fail("tls_cert and tls_key go together: give both or neither".to_owned());
        }
        if self.connections_max_idle.is_zero() {
            return fail("connections_max_idle must be positive".to_owned());
        }
        if self.max_connections == 0 {
            return fail("max_connections must be >= 1".to_owned());
        }
        if self.segment_bytes < 1024 {
            return fail(format!(
                "segment_bytes must be >= 1024, got {}",
                self.segment_bytes
            ));
        }
        if self.segment_age.is_zero() {
            return fail("segment_age must be positive".to_owned());
        }
        if self.log_cleanup_interval.is_zero() {
            return fail("log_cleanup_interval must be positive".to_owned());
        }
        if self.cluster_id.is_empty() {
            return fail("cluster_id must not be empty".to_owned());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_match_kafka() {
        let c = BrokerConfig::default();
        c.validate().unwrap();
        assert_eq!(c.listen.port(), 9092);
        assert_eq!(c.group_initial_rebalance_delay, Duration::from_secs(3));
        assert_eq!(c.max_request_size, 104_857_600);
        BrokerConfig::for_tests().validate().unwrap();
    }

    #[test]
    fn rejects_bad_partition_count() {
        let c = BrokerConfig {
            default_partitions: 0,
            ..BrokerConfig::default()
        };
        assert!(matches!(c.validate(), Err(BrokerError::Config(_))));
    }
}
