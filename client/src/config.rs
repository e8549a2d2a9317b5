//! Configuration of the client, the producer and the consumer.
//!
//! Defaults follow Apache Kafka's Java client (4.x) unless a comment says otherwise; the
//! names are the Java property names with dots turned into underscores.

use std::time::Duration;

use crate::error::Error;

/// Settings shared by everything that talks to the cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientConfig {
    /// `host:port` pairs to bootstrap from (`bootstrap.servers`).
    pub bootstrap_servers: Vec<String>,
    /// Sent in every request header (`client.id`).
    pub client_id: String,
    /// How long to wait for a response (`request.timeout.ms`, 30 s). Long polls (Fetch,
    /// JoinGroup) add their own wait time on top.
    pub request_timeout: Duration,
    /// Metadata older than this is refreshed before use (`metadata.max.age.ms`, 5 min).
    pub metadata_max_age: Duration,
    /// TCP connect timeout (`socket.connection.setup.timeout.max.ms`, 10 s here).
    pub connect_timeout: Duration,
    /// Back-off between retries of a failed request (`retry.backoff.ms`, 100 ms).
    pub retry_backoff: Duration,
    /// Largest response frame accepted; anything bigger is rejected before allocating.
    pub max_response_size: usize,
    /// Whether Metadata requests may auto-create topics (`allow.auto.create.topics`); the
    /// broker must also allow it.
    pub allow_auto_topic_creation: bool,
    /// TLS and SASL (`security.protocol`, `ssl.*`, `sasl.*`); plaintext by default.
    pub security: crate::security::Security,
}

/// 100 MiB of payload plus room for the response's own fields.
pub const DEFAULT_MAX_RESPONSE_SIZE: usize = 100 * 1024 * 1024 + 1024 * 1024;

impl ClientConfig {
    /// A config for `"host:port[,host:port...]"` with defaults for everything else.
    pub fn new(bootstrap: impl Into<String>) -> Self {
        let bootstrap: String = bootstrap.into();
        ClientConfig {
            bootstrap_servers: bootstrap
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            client_id: "kt".to_owned(),
            request_timeout: Duration::from_secs(30),
            metadata_max_age: Duration::from_secs(300),
            connect_timeout: Duration::from_secs(10),
            retry_backoff: Duration::from_millis(100),
            max_response_size: DEFAULT_MAX_RESPONSE_SIZE,
            allow_auto_topic_creation: true,
            security: crate::security::Security::default(),
        }
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        if self.bootstrap_servers.is_empty() {
            return Err(Error::Config("bootstrap_servers is empty".into()));
        }
        for s in &self.bootstrap_servers {
            parse_host_port(s)?;
        }
        if self.max_response_size < 1024 || self.max_response_size > i32::MAX as usize {
            return Err(Error::Config(format!(
                "max_response_size {} is outside 1 KiB..2 GiB",
                self.max_response_size
            )));
        }
        Ok(())
    }
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig::new("127.0.0.1:9092")
    }
}

/// Splits `host:port` (IPv6 as `[::1]:9092`) and checks the port.
pub(crate) fn parse_host_port(s: &str) -> Result<(String, u16), Error> {
    let bad = || Error::Config(format!("'{s}' is not host:port"));
    let (host, port) = s.rsplit_once(':').ok_or_else(bad)?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return Err(bad());
    }
    let port: u16 = port.parse().map_err(|_| bad())?;
    Ok((host.to_owned(), port))
}

/// How many replicas must acknowledge a produce request (`acks`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Acks {
    /// `acks=0`: the broker sends no response; offsets are unknown (-1).
    None,
    /// `acks=1`: the leader has written the records.
    Leader,
    /// `acks=all` (-1): all in-sync replicas have the records. Java's default.
    All,
}

impl Acks {
    pub(crate) fn wire(self) -> i16 {
        match self {
            Acks::None => 0,
            Acks::Leader => 1,
            Acks::All => -1,
        }
    }
}

/// Record batch compression (`compression.type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Compression {
    /// No compression.
    #[default]
    None,
    /// gzip (attribute 1).
    Gzip,
    /// snappy, xerial-framed like the Java client (attribute 2).
    Snappy,
    /// LZ4 frame format (attribute 3).
    Lz4,
    /// zstd (attribute 4).
    Zstd,
}

impl Compression {
    /// The codec id stored in the low 3 bits of a batch's attributes.
    pub fn attribute(self) -> i16 {
        match self {
            Compression::None => 0,
            Compression::Gzip => 1,
            Compression::Snappy => 2,
            Compression::Lz4 => 3,
            Compression::Zstd => 4,
        }
    }

    /// The codec for attribute bits, if known.
    pub fn from_attribute(attr: i16) -> Option<Self> {
        match attr & 0x07 {
            0 => Some(Compression::None),
            1 => Some(Compression::Gzip),
            2 => Some(Compression::Snappy),
            3 => Some(Compression::Lz4),
            4 => Some(Compression::Zstd),
            _ => None,
        }
    }
}

impl std::str::FromStr for Compression {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s.to_ascii_lowercase().as_str() {
            "none" => Ok(Compression::None),
            "gzip" => Ok(Compression::Gzip),
            "snappy" => Ok(Compression::Snappy),
            "lz4" => Ok(Compression::Lz4),
            "zstd" => Ok(Compression::Zstd),
            other => Err(Error::Config(format!(
                "unknown compression '{other}' (none, gzip, snappy, lz4, zstd)"
            ))),
        }
    }
}

/// Producer settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProducerConfig {
    /// `acks` (default all).
    pub acks: Acks,
    /// How long a batch may wait for more records (`linger.ms`, 5 ms).
    pub linger: Duration,
    /// A batch is sent once it holds this many bytes (`batch.size`). 512 KiB here, larger than
    /// Java's 16 KiB, because kt keeps one batch per partition in flight.
    pub batch_size: usize,
    /// Largest produce request (`max.request.size`, 1 MiB); a record bigger than this fails.
    pub max_request_size: usize,
    /// Bytes of records waiting to be sent before `send` waits (`buffer.memory`, 32 MiB).
    pub buffer_memory: usize,
    /// Compression codec (`compression.type`, none).
    pub compression: Compression,
    /// Retries of a batch that failed with a retriable error (`retries`; Java's default,
    /// unbounded, so `delivery_timeout` is what ends retrying).
    pub retries: u32,
    /// First back-off between retries (`retry.backoff.ms`, 100 ms); it doubles per attempt up
    /// to `retry_backoff_max`, with ±20% jitter (KIP-580).
    pub retry_backoff: Duration,
    /// Give up on a record this long after `send` (`delivery.timeout.ms`, 120 s).
    pub delivery_timeout: Duration,
    /// Produce requests in flight per broker (`max.in.flight.requests.per.connection`, 5).
    /// With idempotence this is also the number of batches in flight per partition (at most
    /// 5, as Kafka keeps the last five batches per producer for de-duplication).
    pub max_in_flight: usize,
    /// Idempotent delivery (`enable.idempotence`, on by default as in Java 3.0+).
    pub idempotence: Idempotence,
    /// Upper bound of the exponential retry back-off (`retry.backoff.max.ms`, 1 s, KIP-580).
    pub retry_backoff_max: Duration,
}

/// Whether the producer is idempotent (`enable.idempotence`).
///
/// An idempotent producer gets a producer id (InitProducerId) and stamps every batch with a
/// per-partition sequence number, so the broker drops a retried batch it already has: retries
/// never duplicate records, and order per partition is kept with up to five batches in flight.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Idempotence {
    /// Java's default: idempotent when `acks = all`, `max_in_flight <= 5`, `retries > 0` and
    /// the broker offers InitProducerId; otherwise silently not.
    #[default]
    Auto,
    /// Idempotent, or an error: a config error for `acks != all`, `max_in_flight > 5` or
    /// `retries == 0`; records fail with UNSUPPORTED_VERSION if the broker lacks InitProducerId.
    Required,
    /// Not idempotent (`enable.idempotence=false`): a retry after a lost response can
    /// duplicate a batch.
    Disabled,
}

/// Largest `max_in_flight` idempotence allows (Kafka caches five batches per producer).
pub(crate) const MAX_IDEMPOTENT_IN_FLIGHT: usize = 5;

impl Default for ProducerConfig {
    fn default() -> Self {
        ProducerConfig {
            acks: Acks::All,
            linger: Duration::from_millis(5),
            batch_size: 512 * 1024,
            max_request_size: 1024 * 1024,
            buffer_memory: 32 * 1024 * 1024,
            compression: Compression::None,
            retries: u32::MAX,
            retry_backoff: Duration::from_millis(100),
            delivery_timeout: Duration::from_secs(120),
            max_in_flight: 5,
            idempotence: Idempotence::Auto,
            retry_backoff_max: Duration::from_secs(1),
        }
    }
}

impl ProducerConfig {
    pub(crate) fn validate(&self) -> Result<(), Error> {
        if self.batch_size == 0 || self.max_request_size == 0 || self.max_in_flight == 0 {
            return Err(Error::Config(
                "batch_size, max_request_size and max_in_flight must be > 0".into(),
            ));
        }
        if self.buffer_memory < self.max_request_size {
            return Err(Error::Config(format!(
                "buffer_memory ({}) must be >= max_request_size ({})",
                self.buffer_memory, self.max_request_size
            )));
        }
        if self.idempotence == Idempotence::Required {
            if self.acks != Acks::All {
                return Err(Error::Config(
                    "idempotence requires acks = all (as in the Java client)".into(),
                ));
            }
            if self.max_in_flight > MAX_IDEMPOTENT_IN_FLIGHT {
                return Err(Error::Config(format!(
                    "idempotence allows at most {MAX_IDEMPOTENT_IN_FLIGHT} requests in flight, not {}",
                    self.max_in_flight
                )));
            }
            if self.retries == 0 {
                return Err(Error::Config("idempotence requires retries > 0".into()));
            }
        }
        Ok(())
    }

    /// Whether this config asks for idempotence (the broker must still support it).
    pub(crate) fn wants_idempotence(&self) -> bool {
        match self.idempotence {
            Idempotence::Required => true,
            Idempotence::Disabled => false,
            Idempotence::Auto => {
                self.acks == Acks::All
                    && self.max_in_flight <= MAX_IDEMPOTENT_IN_FLIGHT
                    && self.retries > 0
            }
        }
    }
}

/// What to do when a partition has no committed offset, or the position is out of range
/// (`auto.offset.reset`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OffsetReset {
    /// Start from the log start offset.
    Earliest,
    /// Start from the high watermark (Java's default).
    Latest,
    /// Fail with `OFFSET_OUT_OF_RANGE` / a missing-offset error.
    None,
}

/// A partition assignment strategy for consumer groups (`partition.assignment.strategy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AssignmentStrategy {
    /// `range`: per topic, consecutive partitions to members sorted by member id.
    Range,
    /// `roundrobin`: all topic-partitions dealt out in turn.
    RoundRobin,
    /// `cooperative-sticky` (KIP-429): balanced, keeps partitions where they are, and moves
    /// them in two incremental rebalances instead of stopping every member.
    CooperativeSticky,
}

impl AssignmentStrategy {
    /// The protocol name in JoinGroup, shared with the Java client and librdkafka.
    pub fn protocol_name(self) -> &'static str {
        match self {
            AssignmentStrategy::Range => "range",
            AssignmentStrategy::RoundRobin => "roundrobin",
            AssignmentStrategy::CooperativeSticky => "cooperative-sticky",
        }
    }

    pub(crate) fn from_protocol_name(name: &str) -> Option<Self> {
        match name {
            "range" => Some(AssignmentStrategy::Range),
            "roundrobin" => Some(AssignmentStrategy::RoundRobin),
            "cooperative-sticky" => Some(AssignmentStrategy::CooperativeSticky),
            _ => None,
        }
    }

    /// Whether the strategy supports the incremental (cooperative) rebalance protocol.
    pub fn is_cooperative(self) -> bool {
        self == AssignmentStrategy::CooperativeSticky
    }
}

/// Which records a consumer sees (`isolation.level`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum IsolationLevel {
    /// Every record, including those of open and aborted transactions (Java's default).
    #[default]
    ReadUncommitted,
    /// Only records of committed transactions (and non-transactional ones), up to the last
    /// stable offset; records of aborted transactions are filtered out.
    ReadCommitted,
}

impl IsolationLevel {
    pub(crate) fn wire(self) -> i8 {
        match self {
            IsolationLevel::ReadUncommitted => 0,
            IsolationLevel::ReadCommitted => 1,
        }
    }
}

/// Consumer settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsumerConfig {
    /// Consumer group (`group.id`); needed for `subscribe` and commits.
    pub group_id: Option<String>,
    /// Static membership id (`group.instance.id`, KIP-345).
    pub group_instance_id: Option<String>,
    /// `auto.offset.reset` (latest).
    pub auto_offset_reset: OffsetReset,
    /// Commit positions periodically from `poll` and on close (`enable.auto.commit`, true).
    pub enable_auto_commit: bool,
    /// `auto.commit.interval.ms` (5 s).
    pub auto_commit_interval: Duration,
    /// `session.timeout.ms` (45 s).
    pub session_timeout: Duration,
    /// How long the coordinator waits for members to rejoin (`max.poll.interval.ms`, 5 min).
    pub rebalance_timeout: Duration,
    /// `heartbeat.interval.ms` (3 s).
    pub heartbeat_interval: Duration,
    /// Long-poll time of a Fetch (`fetch.max.wait.ms`, 500 ms).
    pub fetch_max_wait: Duration,
    /// `fetch.min.bytes` (1).
    pub fetch_min_bytes: i32,
    /// `fetch.max.bytes` (50 MiB).
    pub fetch_max_bytes: i32,
    /// `max.partition.fetch.bytes` (1 MiB).
    pub max_partition_fetch_bytes: i32,
    /// Assignors offered in JoinGroup, in order of preference.
    pub assignment_strategies: Vec<AssignmentStrategy>,
    /// Largest decompressed size of one record batch; bigger batches are rejected as a
    /// decompression bomb.
    pub max_decompressed_batch_bytes: usize,
    /// `isolation.level` (read_uncommitted).
    pub isolation_level: IsolationLevel,
    /// Most records one `poll` returns (`max.poll.records`, 500); the rest stay buffered.
    pub max_poll_records: usize,
    /// Use incremental fetch sessions (KIP-227) with brokers that offer them (on; Java has
    /// no switch, librdkafka has no sessions).
    pub fetch_sessions: bool,
}

impl Default for ConsumerConfig {
    fn default() -> Self {
        ConsumerConfig {
            group_id: None,
            group_instance_id: None,
            auto_offset_reset: OffsetReset::Latest,
            enable_auto_commit: true,
            auto_commit_interval: Duration::from_secs(5),
            session_timeout: Duration::from_secs(45),
            rebalance_timeout: Duration::from_secs(300),
            heartbeat_interval: Duration::from_secs(3),
            fetch_max_wait: Duration::from_millis(500),
            fetch_min_bytes: 1,
            fetch_max_bytes: 50 * 1024 * 1024,
            max_partition_fetch_bytes: 1024 * 1024,
            assignment_strategies: vec![AssignmentStrategy::Range, AssignmentStrategy::RoundRobin],
            max_decompressed_batch_bytes: 128 * 1024 * 1024,
            isolation_level: IsolationLevel::ReadUncommitted,
            max_poll_records: 500,
            fetch_sessions: true,
        }
    }
}

impl ConsumerConfig {
    /// Defaults with a group id.
    pub fn with_group(group_id: impl Into<String>) -> Self {
        ConsumerConfig {
            group_id: Some(group_id.into()),
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bootstrap_list_is_split() {
        let c = ClientConfig::new("127.0.0.1:9092, localhost:9093");
        assert_eq!(
            c.bootstrap_servers,
            vec!["127.0.0.1:9092", "localhost:9093"]
        );
        assert!(c.validate().is_ok());
        assert!(ClientConfig::new("").validate().is_err());
        assert!(ClientConfig::new("nohost").validate().is_err());
        assert!(ClientConfig::new("h:99999").validate().is_err());
    }

    #[test]
    fn host_port_handles_ipv6() {
        assert_eq!(parse_host_port("[::1]:9092").unwrap(), ("::1".into(), 9092));
        assert_eq!(
            parse_host_port("localhost:1").unwrap(),
            ("localhost".into(), 1)
        );
    }

    #[test]
    fn compression_names() {
        assert_eq!("LZ4".parse::<Compression>().unwrap(), Compression::Lz4);
        assert!("brotli".parse::<Compression>().is_err());
        for c in [
            Compression::None,
            Compression::Gzip,
            Compression::Snappy,
            Compression::Lz4,
            Compression::Zstd,
        ] {
            assert_eq!(Compression::from_attribute(c.attribute()), Some(c));
        }
        assert_eq!(Compression::from_attribute(5), None);
    }
}
