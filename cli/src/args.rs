//! Command-line arguments (clap derive). Every flag is documented here; `kt <cmd> --help`
//! shows the same text.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// kt — a Kafka toolkit in pure Rust: a Kafka-compatible broker, a client, and a
/// Spark-Streaming-style micro-batch engine.
///
/// Start with `kt quickstart` to see the whole "Spark Streaming with Kafka" tutorial run in one
/// process, or `kt broker` to start a broker other programs can use.
#[derive(Debug, Parser)]
#[command(name = "kt", version, about, long_about, propagate_version = true)]
pub(crate) struct Cli {
    /// Kafka bootstrap server(s), `HOST:PORT[,HOST:PORT…]`.
    #[arg(
        short = 'b',
        long = "bootstrap-server",
        global = true,
        env = "KT_BOOTSTRAP",
        default_value = "127.0.0.1:9092"
    )]
    pub(crate) bootstrap: String,

    /// More log output on stderr (-v: debug, -vv: trace). `RUST_LOG` overrides it.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub(crate) verbose: u8,

    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Run a Kafka-compatible broker (in memory, or on disk with --data-dir) until Ctrl-C.
    Broker(BrokerArgs),
    /// Create, list, describe and delete topics.
    #[command(subcommand)]
    Topic(TopicCommand),
    /// Send lines from stdin (or a terminal prompt) as records, like kafka-console-producer.
    Produce(ProduceArgs),
    /// Print records, like kafka-console-consumer.
    Consume(ConsumeArgs),
    /// Run a micro-batch streaming job over a topic (the tutorial's Spark jobs).
    #[command(subcommand)]
    Stream(StreamCommand),
    /// Run the whole tutorial in one process on an embedded broker, narrated.
    Quickstart(QuickstartArgs),
    /// Measure throughput and latency (like kafka-producer-perf-test / kafka-consumer-perf-test).
    #[command(subcommand)]
    Bench(BenchCommand),
}

#[derive(Debug, Args)]
pub(crate) struct BrokerArgs {
    /// Address to listen on. Loopback by default: this is a development broker (see --tls-cert,
    /// --users and --acl before exposing it). With --nodes N, node i listens on this port + i
    /// (port 0: each node gets a free port).
    #[arg(long, default_value = "127.0.0.1:9092")]
    pub(crate) listen: SocketAddr,
    /// Run a cluster of N nodes in this process (ports listen, listen+1, ...), node ids from
    /// --node-id up; partition leaders and group coordinators are spread across them. They
    /// share one copy of the data (no real replication).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub(crate) nodes: u16,
    /// Host name advertised to clients in Metadata (defaults to the listen IP).
    #[arg(long)]
    pub(crate) advertised_host: Option<String>,
    /// Partitions of topics created automatically (on Metadata requests that allow it).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(i32).range(1..=10_000))]
    pub(crate) partitions: i32,
    /// Do not create topics automatically; clients must create them first.
    #[arg(long)]
    pub(crate) no_auto_create: bool,
    /// The cluster id clients see in Metadata (v2+) and DescribeCluster.
    #[arg(long, default_value = "kt-broker-cluster")]
    pub(crate) cluster_id: String,
    /// This broker's rack (Kafka's broker.rack), shown to clients in Metadata (v1+).
    #[arg(long)]
    pub(crate) rack: Option<String>,
    /// This broker's node id (the first node's, with --nodes).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(i32).range(0..))]
    pub(crate) node_id: i32,
    /// Close connections that send no request for this long (Kafka's
    /// connections.max.idle.ms), e.g. `10m`, `30s`.
    #[arg(long, value_parser = parse_duration, default_value = "10m")]
    pub(crate) connections_max_idle: Duration,
    /// Hold back the answer to a failed SASL login (and the close after it) this long, to slow
    /// password guessing (Kafka's connection.failed.authentication.delay.ms), e.g. `100ms`.
    #[arg(long, value_parser = parse_duration, default_value = "100ms")]
    pub(crate) failed_authentication_delay: Duration,
    /// Close new connections at once while a node has this many open (Kafka's
    /// max.connections; a warning is logged).
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) max_connections: u32,
    /// Check every request against the access rules in FILE; anything not allowed is refused
    /// (TOPIC/GROUP/CLUSTER_AUTHORIZATION_FAILED). One rule a line:
    /// `allow|deny User:NAME|User:* OPERATIONS RESOURCE`, e.g. `allow User:alice produce
    /// topic:orders`, `allow User:* consume topic:logs-*`, `allow User:bob read group:app`,
    /// `super User:admin`. Clients without SASL are User:ANONYMOUS. Full format: the kt-broker
    /// crate docs.
    #[arg(long, value_name = "FILE")]
    pub(crate) acl: Option<std::path::PathBuf>,
    /// Serve TLS only (Kafka's SSL listener), with this PEM certificate chain (server
    /// certificate first). Needs --tls-key. Clients need the issuing CA, e.g. kcat
    /// `-X security.protocol=ssl -X ssl.ca.location=ca.pem`.
    #[arg(long, value_name = "PEM", requires = "tls_key")]
    pub(crate) tls_cert: Option<std::path::PathBuf>,
    /// The PEM private key of --tls-cert (PKCS#8, PKCS#1 or SEC1).
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    pub(crate) tls_key: Option<std::path::PathBuf>,
    /// Keep topics, segment files and committed offsets in DIR, so a restart (even kill -9)
    /// loses nothing acknowledged: acks=all is answered after an fsync, acks=1 after the
    /// write. Without it everything is in memory and lost on exit. One broker per DIR.
    #[arg(long, value_name = "DIR")]
    pub(crate) data_dir: Option<std::path::PathBuf>,
    /// Roll segment files at this size in bytes (Kafka's log.segment.bytes; topics may set
    /// segment.bytes). Only with --data-dir.
    #[arg(long, default_value_t = kt_broker::DEFAULT_SEGMENT_BYTES, value_parser = clap::value_parser!(u64).range(1024..))]
    pub(crate) segment_bytes: u64,
    /// Roll a segment file once it is this old, e.g. `1h`, `7d` (Kafka's log.roll.ms; topics
    /// may set segment.ms; age counts from broker start). Only with --data-dir.
    #[arg(long, value_parser = parse_duration, default_value = "7d")]
    pub(crate) segment_age: Duration,
    /// Delay before the first rebalance of a new consumer group completes
    /// (Kafka's group.initial.rebalance.delay.ms), e.g. `3s`, `0s`.
    #[arg(long, value_parser = parse_duration, default_value = "3s")]
    pub(crate) group_initial_rebalance_delay: Duration,
    /// The shortest session timeout a group member may ask for (Kafka's
    /// group.min.session.timeout.ms); lower it to let tests detect crashed members fast.
    #[arg(long, value_parser = parse_duration, default_value = "6s")]
    pub(crate) group_min_session_timeout: Duration,
    /// The longest session timeout a group member may ask for (Kafka's
    /// group.max.session.timeout.ms); longer requests get INVALID_SESSION_TIMEOUT.
    #[arg(long, value_parser = parse_duration, default_value = "30m")]
    pub(crate) group_max_session_timeout: Duration,
    /// Require SASL authentication (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512) with the users in
    /// FILE: one `USER:PASSWORD` per line (the first ':' separates them), '#' starts a comment.
    /// Without it, clients connect without authentication.
    #[arg(long, value_name = "FILE")]
    pub(crate) users: Option<std::path::PathBuf>,
    /// Largest record batch accepted (Kafka's message.max.bytes; topics may lower or raise it
    /// with max.message.bytes).
    #[arg(long, default_value_t = kt_broker::DEFAULT_MAX_MESSAGE_BYTES as u32, value_parser = clap::value_parser!(u32).range(61..))]
    pub(crate) message_max_bytes: u32,
    /// Largest request frame accepted in bytes (Kafka's socket.request.max.bytes); a bigger
    /// size prefix closes the connection before anything is allocated.
    #[arg(long, default_value_t = kt_broker::DEFAULT_MAX_REQUEST_SIZE as u32, value_parser = clap::value_parser!(u32).range(1024..=i32::MAX as i64))]
    pub(crate) max_request_size: u32,
    /// Most bytes one Fetch response carries (Kafka's fetch.max.bytes); the first batch is
    /// still sent whole when larger (KIP-74).
    #[arg(long, default_value_t = kt_broker::DEFAULT_FETCH_MAX_BYTES as u32, value_parser = clap::value_parser!(u32).range(1..=i32::MAX as i64))]
    pub(crate) fetch_max_bytes: u32,
    /// Most partitions a topic may have (CreateTopics, CreatePartitions and --partitions above
    /// it are refused). Kafka has no such bound; an in-memory broker needs one.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(i32).range(1..=1_000_000))]
    pub(crate) max_partitions_per_topic: i32,
    /// How often retention (retention.ms, retention.bytes) and compaction
    /// (cleanup.policy=compact) run (Kafka's log.retention.check.interval.ms), e.g. `5m`, `10s`.
    #[arg(long, value_parser = parse_duration, default_value = "5m")]
    pub(crate) log_cleanup_interval: Duration,
}

#[derive(Debug, Subcommand)]
pub(crate) enum TopicCommand {
    /// Create a topic.
    Create {
        /// Topic name: letters, digits, '.', '_' and '-', at most 249 characters.
        name: String,
        /// Number of partitions.
        #[arg(short, long, default_value_t = 1, value_parser = clap::value_parser!(i32).range(1..=100_000))]
        partitions: i32,
        /// Replication factor (kt broker keeps one replica; real clusters may use more).
        #[arg(short = 'r', long, default_value_t = 1, value_parser = clap::value_parser!(i16).range(1..))]
        replication_factor: i16,
        /// Succeed without doing anything if the topic already exists.
        #[arg(long)]
        if_not_exists: bool,
    },
    /// List topic names.
    List,
    /// Show a topic's partitions, leaders and earliest/latest offsets.
    Describe {
        /// Topic name.
        name: String,
    },
    /// Delete a topic and its records.
    Delete {
        /// Topic name.
        name: String,
        /// Succeed without doing anything if the topic does not exist.
        #[arg(long)]
        if_exists: bool,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum Acks {
    /// Do not wait for the broker.
    #[value(name = "0")]
    None,
    /// Wait for the leader.
    #[value(name = "1")]
    Leader,
    /// Wait for all in-sync replicas.
    #[value(name = "all", alias = "-1")]
    All,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum CompressionArg {
    None,
    Gzip,
    Snappy,
    Lz4,
    Zstd,
}

#[derive(Debug, Args)]
pub(crate) struct ProduceArgs {
    /// Topic to send to.
    #[arg(short, long)]
    pub(crate) topic: String,
    /// Each line is `KEY<separator>VALUE`; without it lines are values with a null key.
    #[arg(short = 'k', long)]
    pub(crate) key: bool,
    /// Separator between key and value when --key is given (the first occurrence splits).
    #[arg(long, default_value = ":")]
    pub(crate) key_separator: String,
    /// Send every record to this partition instead of using the partitioner.
    #[arg(short, long)]
    pub(crate) partition: Option<i32>,
    /// Acknowledgements to wait for.
    #[arg(long, value_enum, default_value = "all")]
    pub(crate) acks: Acks,
    /// Compression codec for record batches.
    #[arg(short = 'z', long, value_enum, default_value = "none")]
    pub(crate) compression: CompressionArg,
    /// How long to wait for more records before sending a batch, e.g. `5ms`.
    #[arg(long, value_parser = parse_duration, default_value = "5ms")]
    pub(crate) linger: Duration,
    /// Maximum bytes of records in one batch.
    #[arg(long, default_value_t = 1 << 20)]
    pub(crate) batch_size: usize,
    /// Read lines from this file instead of stdin.
    #[arg(short, long)]
    pub(crate) file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct ConsumeArgs {
    /// Topic to read.
    #[arg(short, long)]
    pub(crate) topic: String,
    /// Start at the earliest offset (when there is no committed offset for the group).
    #[arg(long)]
    pub(crate) from_beginning: bool,
    /// Consume as a member of this consumer group and commit offsets.
    #[arg(short, long)]
    pub(crate) group: Option<String>,
    /// Read only this partition (not with --group).
    #[arg(short, long, conflicts_with = "group")]
    pub(crate) partition: Option<i32>,
    /// Start at this offset of --partition.
    #[arg(long, requires = "partition")]
    pub(crate) offset: Option<i64>,
    /// Exit after printing this many records.
    #[arg(short = 'n', long)]
    pub(crate) max_messages: Option<u64>,
    /// Exit when no record arrives for this long, e.g. `10s`.
    #[arg(long, value_parser = parse_duration)]
    pub(crate) timeout: Option<Duration>,
    /// Exit once the end of every partition (as of start) has been printed.
    #[arg(short = 'e', long)]
    pub(crate) exit_at_end: bool,
    /// Output line format: %k key, %v value, %p partition, %o offset, %t timestamp (ms),
    /// %T topic, %% a percent sign; \n and \t escapes. A null key or value prints as `null`.
    #[arg(short, long, default_value = "%v")]
    pub(crate) format: String,
}

#[derive(Debug, Subcommand)]
pub(crate) enum StreamCommand {
    /// Tutorial step 1: save each batch's raw (key, value) pairs.
    Save(StreamArgs),
    /// Tutorial step 2: count words (values split on spaces) per batch.
    Wordcount(StreamArgs),
    /// Tutorial step 3: count HTTP methods and endpoints in access-log lines per batch.
    Weblog(WeblogArgs),
}

#[derive(Debug, Clone, Args)]
pub(crate) struct WeblogArgs {
    #[command(flatten)]
    pub(crate) stream: StreamArgs,
    /// Also write the N most requested endpoints per batch (or window) to `PREFIX-top-<ms>`.
    #[arg(long)]
    pub(crate) top: Option<usize>,
}

#[derive(Debug, Clone, Args)]
pub(crate) struct StreamArgs {
    /// Topic to read.
    #[arg(short, long)]
    pub(crate) topic: String,
    /// Batch interval, e.g. `5s`, `500ms`. Batch times are multiples of it.
    #[arg(long, value_parser = parse_duration, default_value = "5s")]
    pub(crate) batch: Duration,
    /// Output prefix: each batch writes `PREFIX-<batch ms>.<suffix>/part-00000`.
    #[arg(short, long)]
    pub(crate) out: PathBuf,
    /// Output suffix (Spark's `saveAsTextFiles(prefix, suffix)`); empty for none.
    #[arg(short, long, default_value = "")]
    pub(crate) suffix: String,
    /// Consumer group whose committed offsets the job starts from and commits to.
    #[arg(short, long, default_value = "sparkit")]
    pub(crate) group: String,
    /// Partitions without a committed offset start at the earliest offset (default: latest).
    #[arg(long)]
    pub(crate) from_beginning: bool,
    /// Stop after this many batches (default: run until Ctrl-C / SIGTERM).
    #[arg(long)]
    pub(crate) batches: Option<u64>,
    /// At most this many records per second per partition (Spark's maxRatePerPartition).
    #[arg(long)]
    pub(crate) max_rate: Option<u64>,
    /// Lower the rate while batches take longer than the interval (Spark's back-pressure).
    #[arg(long)]
    pub(crate) backpressure: bool,
    /// Count (or save) over a sliding window this long, e.g. `30s`; a multiple of --batch.
    #[arg(long, value_parser = parse_duration)]
    pub(crate) window: Option<Duration>,
    /// How often the window moves, e.g. `10s` (default: every batch); a multiple of --batch.
    #[arg(long, value_parser = parse_duration, requires = "window")]
    pub(crate) slide: Option<Duration>,
    /// Keep state and offsets here; a restart resumes from it, and output is exactly once
    /// even across crashes.
    #[arg(long)]
    pub(crate) checkpoint: Option<PathBuf>,
    /// Append one JSON line per completed batch (records, offset ranges, delays, outputs).
    #[arg(long)]
    pub(crate) metrics_json: Option<PathBuf>,
    /// Show a status line with rate and lag on stderr after every batch.
    #[arg(long)]
    pub(crate) progress: bool,
    /// Static group membership id (group.instance.id): a restart with the same id takes its
    /// place at once instead of waiting for the session timeout. One per process.
    #[arg(long)]
    pub(crate) instance_id: Option<String>,
    /// How long the group waits for a crashed member before moving its partitions, e.g. `10s`.
    #[arg(long, value_parser = parse_duration)]
    pub(crate) session_timeout: Option<Duration>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum BenchCommand {
    /// Send records as fast as possible; print records/s, MB/s and send-to-ack latency.
    Produce(BenchProduceArgs),
    /// Read a topic from the beginning to its end; print records/s and MB/s.
    Consume(BenchConsumeArgs),
    /// Word count through the streaming engine (the `kt stream wordcount` job): processing
    /// rate, the rate sustained with every batch within the interval, end-to-end latency.
    Stream(BenchStreamArgs),
}

#[derive(Debug, Clone, Args)]
pub(crate) struct BenchStreamArgs {
    /// Lines to preload (the backlog the rate is measured on).
    #[arg(short = 'n', long, default_value_t = 2_000_000)]
    pub(crate) records: u64,
    /// Words per line.
    #[arg(long, default_value_t = 10)]
    pub(crate) words: usize,
    /// Batch interval, e.g. `1s`, `500ms`.
    #[arg(long, value_parser = parse_duration, default_value = "1s")]
    pub(crate) batch: Duration,
    /// Lines per batch per partition to sustain (default: 90 % of the calibrated rate).
    #[arg(long)]
    pub(crate) rate: Option<u64>,
    /// At most this many batches in the sustain phase.
    #[arg(long, default_value_t = 5)]
    pub(crate) batches: u64,
    /// Marker records whose end-to-end latency is measured.
    #[arg(long, default_value_t = 10)]
    pub(crate) latency_samples: u32,
    /// Topic to use (created with --partitions if it does not exist).
    #[arg(short, long, default_value = "kt-bench-words")]
    pub(crate) topic: String,
    /// Partitions of the topic when it is created.
    #[arg(short, long, default_value_t = 1, value_parser = clap::value_parser!(i32).range(1..=10_000))]
    pub(crate) partitions: i32,
    /// Use the broker at -b instead of one embedded in this process.
    #[arg(long)]
    pub(crate) external: bool,
}

#[derive(Debug, Clone, Args)]
pub(crate) struct BenchProduceArgs {
    /// Topic to send to (created with --partitions if it does not exist).
    #[arg(short, long, default_value = "kt-bench")]
    pub(crate) topic: String,
    /// Number of records to send.
    #[arg(short = 'n', long, default_value_t = 1_000_000)]
    pub(crate) records: u64,
    /// Bytes per record value.
    #[arg(short = 's', long, default_value_t = 100)]
    pub(crate) record_size: usize,
    /// Acknowledgements to wait for.
    #[arg(long, value_enum, default_value = "all")]
    pub(crate) acks: Acks,
    /// Compression codec for record batches.
    #[arg(short = 'z', long, value_enum, default_value = "none")]
    pub(crate) compression: CompressionArg,
    /// How long a batch waits for more records, in milliseconds.
    #[arg(long, default_value_t = 5)]
    pub(crate) linger_ms: u64,
    /// Maximum bytes of records in one batch.
    #[arg(long, default_value_t = 1 << 20)]
    pub(crate) batch_size: usize,
    /// Partitions of the topic when it is created.
    #[arg(short, long, default_value_t = 1, value_parser = clap::value_parser!(i32).range(1..=10_000))]
    pub(crate) partitions: i32,
    /// Start a broker in this process instead of using -b.
    #[arg(long)]
    pub(crate) embedded: bool,
}

#[derive(Debug, Clone, Args)]
pub(crate) struct BenchConsumeArgs {
    /// Topic to read (every partition, from the beginning).
    #[arg(short, long, default_value = "kt-bench")]
    pub(crate) topic: String,
    /// Stop after this many records (or at the end of the topic, if it holds fewer).
    #[arg(short = 'n', long, default_value_t = 1_000_000)]
    pub(crate) records: u64,
    /// Start a broker in this process and fill the topic first (--records records).
    #[arg(long)]
    pub(crate) embedded: bool,
    /// With --embedded: bytes per record value.
    #[arg(short = 's', long, default_value_t = 100)]
    pub(crate) record_size: usize,
    /// With --embedded: partitions of the topic.
    #[arg(short, long, default_value_t = 1, value_parser = clap::value_parser!(i32).range(1..=10_000))]
    pub(crate) partitions: i32,
}

#[derive(Debug, Args)]
pub(crate) struct QuickstartArgs {
    /// Keep the output here instead of a temporary directory that is removed afterwards.
    #[arg(long)]
    pub(crate) dir: Option<PathBuf>,
    /// Batch interval of the streaming jobs.
    #[arg(long, value_parser = parse_duration, default_value = "1s")]
    pub(crate) batch: Duration,
}

/// Parses `5s`, `500ms`, `1m`, `1h30m`; a bare number is seconds.
pub(crate) fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    if let Ok(secs) = s.parse::<u64>() {
        return Ok(Duration::from_secs(secs));
    }
    humantime::parse_duration(s).map_err(|e| format!("{e} (examples: 5s, 500ms, 1m)"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2"), Ok(Duration::from_secs(2)));
        assert!(parse_duration("five").is_err());
    }

    #[test]
    fn global_bootstrap_anywhere() {
        let cli = Cli::try_parse_from(["kt", "topic", "list", "-b", "127.0.0.1:1"]).unwrap();
        assert_eq!(cli.bootstrap, "127.0.0.1:1");
    }
}
