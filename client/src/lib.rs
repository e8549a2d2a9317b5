//! kt-client: an async (tokio) Kafka client in pure Rust, built to work against real Kafka
//! clusters (Apache Kafka, Redpanda, Tansu, ...) and not only against kt's own broker.
//!
//! Every request and response schema comes from the `kafka-protocol` crate; framing,
//! version negotiation, the record batch codec, partitioning, batching, fetching and group
//! membership are kt's own.
//!
//! # Layout
//!
//! | module | what lives there |
//! |---|---|
//! | [`client`](Client) | [`Client`]: bootstrap, `list_offsets`, `partitions_for`; hands out the parts below |
//! | `connection/` | one socket per broker: framing (`frame.rs`), pipelined requests with correlation ids, poisoning, ApiVersions negotiation with the KIP-511 fallback (`versions.rs`) |
//! | `cluster/` | connection pool (per broker and purpose) and the metadata cache (`metadata.rs`): brokers, leaders, topic ids |
//! | [`records`] | kt's own record batch v2 codec: bounded, zero-copy decode, CRC-32C, encoder |
//! | [`compression`] | gzip, snappy (xerial + raw), lz4 (frame), zstd; decompression-bomb limit |
//! | [`partitioner`] | Java-compatible murmur2 for keys, sticky partitions for unkeyed records (KIP-480) |
//! | [`producer`] | [`Producer`]: accumulator (`accumulator.rs`), sender task (`sender.rs`), delivery futures |
//! | [`consumer`] | [`Consumer`]: fetcher, group membership (`group.rs`), range/roundrobin assignors and consumer-protocol bytes (`assignor.rs`), commits (`offsets.rs`) |
//! | [`admin`] | [`Admin`]: CreateTopics, DeleteTopics, topic listing and description |
//! | [`config`], [`types`], [`error`] | settings, plain data types, [`Error`] and [`KafkaCode`] |
//!
//! # References
//!
//! * The Kafka protocol guide: <https://kafka.apache.org/protocol> (framing, request
//!   headers, error codes, API schemas) and the record batch format:
//!   <https://kafka.apache.org/documentation/#recordbatch>.
//! * KIP-74 (Fetch `max_bytes`; a fetch may end in a partial batch):
//!   <https://cwiki.apache.org/confluence/display/KAFKA/KIP-74%3A+Add+Fetch+Response+Size+Limit+in+Bytes>
//! * KIP-480 (sticky partitioner):
//!   <https://cwiki.apache.org/confluence/display/KAFKA/KIP-480%3A+Sticky+Partitioner>
//! * KIP-511 (client name/version in ApiVersions, UNSUPPORTED_VERSION fallback):
//!   <https://cwiki.apache.org/confluence/display/KAFKA/KIP-511%3A+Collect+and+Expose+Client%27s+Name+and+Version+in+the+Brokers>
//! * KIP-394 (MEMBER_ID_REQUIRED on the first JoinGroup):
//!   <https://cwiki.apache.org/confluence/display/KAFKA/KIP-394%3A+Require+member.id+for+initial+join+group+request>
//! * KIP-345 (static membership, `group_instance_id`):
//!   <https://cwiki.apache.org/confluence/display/KAFKA/KIP-345%3A+Introduce+static+membership+protocol+to+reduce+consumer+rebalances>
//! * KIP-227 (fetch sessions; not used yet — fetches are sessionless),
//!   KIP-896 (removal of old protocol versions in Kafka 4.0).
//!
//! # Examples
//!
//! Produce (keyed records land where the Java client would put them):
//!
//! ```no_run
//! use kt_client::{Client, ClientConfig, ProducerConfig, ProducerRecord};
//!
//! # async fn run() -> Result<(), kt_client::Error> {
//! let client = Client::connect(ClientConfig::new("127.0.0.1:9092")).await?;
//! let producer = client.producer(ProducerConfig::default());
//! let delivery = producer
//!     .send(ProducerRecord::new("mytopic", "message1").with_key("key1"))
//!     .await?; // waits only for buffer space
//! let meta = delivery.await?; // waits for the broker's acknowledgement
//! println!("{}-{} @ {}", meta.topic, meta.partition, meta.offset);
//! producer.close().await?;
//! # Ok(()) }
//! ```
//!
//! Consume as a member of a group, committing explicitly:
//!
//! ```no_run
//! use std::time::Duration;
//! use kt_client::{Client, ClientConfig, ConsumerConfig, OffsetReset};
//!
//! # async fn run() -> Result<(), kt_client::Error> {
//! let client = Client::connect(ClientConfig::new("127.0.0.1:9092")).await?;
//! let mut consumer = client.consumer(ConsumerConfig {
//!     auto_offset_reset: OffsetReset::Earliest,
//!     enable_auto_commit: false,
//!     ..ConsumerConfig::with_group("sparkit")
//! });
//! consumer.subscribe(&["mytopic"]).await?;
//! for _ in 0..10 {
//!     for record in consumer.poll(Duration::from_secs(1)).await? {
//!         println!("{} {:?} {:?}", record.offset, record.key, record.value);
//!     }
//!     consumer.commit_positions().await?;
//! }
//! consumer.close().await?;
//! # Ok(()) }
//! ```
//!
//! Micro-batches (Spark-style direct stream): decide ranges, read exactly them, commit.
//!
//! ```no_run
//! use std::collections::BTreeMap;
//! use kt_client::{Client, ClientConfig, ConsumerConfig, OffsetRange, OffsetSpec};
//!
//! # async fn run() -> Result<(), kt_client::Error> {
//! let client = Client::connect(ClientConfig::new("127.0.0.1:9092")).await?;
//! let mut consumer = client.consumer(ConsumerConfig::with_group("sparkit"));
//! consumer.subscribe(&["mytopic"]).await?;
//! let assigned = consumer.join().await?;
//! let committed = consumer.committed(&assigned).await?;
//! let specs: Vec<_> = assigned.iter().map(|tp| (tp.clone(), OffsetSpec::Latest)).collect();
//! let latest = client.list_offsets(&specs).await?;
//! let ranges: Vec<OffsetRange> = assigned
//!     .iter()
//!     .map(|tp| OffsetRange {
//!         tp: tp.clone(),
//!         from: committed[tp].unwrap_or(0),
//!         until: latest[tp],
//!     })
//!     .collect();
//! let records = consumer.fetch_ranges(&ranges).await?;
//! println!("{} records in this batch", records.len());
//! let done: BTreeMap<_, _> = ranges.iter().map(|r| (r.tp.clone(), r.until)).collect();
//! consumer.commit(&done).await?;
//! # Ok(()) }
//! ```
//!
//! Administer topics:
//!
//! ```no_run
//! use kt_client::{Client, ClientConfig, Error, KafkaCode, NewTopic};
//!
//! # async fn run() -> Result<(), Error> {
//! let client = Client::connect(ClientConfig::new("127.0.0.1:9092")).await?;
//! let admin = client.admin();
//! match admin.create_topics(&[NewTopic::new("mytopic", 3, 1)]).await {
//!     Ok(()) => {}
//!     Err(e) if e.kafka_code() == Some(KafkaCode::TopicAlreadyExists) => {}
//!     Err(e) => return Err(e),
//! }
//! println!("{:?}", admin.list_topics().await?);
//! for t in admin.describe_topics(&["mytopic"]).await? {
//!     for p in t.partitions {
//!         println!("{} {} leader {} isr {:?}", t.name, p.partition, p.leader, p.isr);
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! # Supported features
//!
//! | feature | status |
//! |---|---|
//! | ApiVersions negotiation, KIP-511 fallback | yes; per API `min(kt max, broker max)`, clear error without overlap |
//! | pipelined requests, per-purpose connections | yes (produce / control pooled per broker; each consumer owns its fetch and coordinator sockets) |
//! | metadata cache, refresh on leader errors and `metadata_max_age` | yes |
//! | record batch v2 (magic 2) | yes; magic 0/1 rejected with a clear error |
//! | compression gzip / snappy / lz4 / zstd | yes, pure Rust, both directions, bomb limit |
//! | producer acks 0 / 1 / all, linger, batch size, retries, back-pressure | yes |
//! | idempotent / transactional producer | no (batch fields for producer id / epoch / sequence are ready) |
//! | murmur2 keyed partitioning, sticky unkeyed (KIP-480) | yes |
//! | consumer assign / subscribe, range and roundrobin assignors | yes (eager rebalances) |
//! | cooperative-sticky assignor, KIP-848 consumer protocol | no |
//! | MEMBER_ID_REQUIRED (KIP-394), static membership (KIP-345) | yes |
//! | commits (sync, auto), committed offsets | yes |
//! | `read_committed` isolation | no (`read_uncommitted`; control batches are skipped) |
//! | fetch sessions (KIP-227) | no (full fetches) |
//! | TLS, SASL | no |
//!
//! # Untrusted input
//!
//! Nothing read from the network may panic or hang the client. Frames above
//! `max_response_size` are rejected before allocating; response decoders reject trailing
//! bytes; record batches are decoded by kt's own bounded codec; consumer-protocol bytes
//! from other group members pass a shape guard before kafka-protocol decodes them.
//!
//! **Remaining risk**: other responses are decoded by kafka-protocol, whose array decoders
//! call `Vec::with_capacity(n)` with `n` read off the wire. A frame is bounded, but a hostile
//! broker could still put a huge count in a small frame and ask for a large allocation. A
//! shape guard for responses (walking the schema and checking counts against the bytes left)
//! is planned for the reliability round. Decoder panics, if any, are caught and turned into
//! [`Error::Protocol`].

pub mod admin;
mod backoff;
mod client;
pub(crate) mod cluster;
pub mod compression;
pub mod config;
pub(crate) mod connection;
pub mod consumer;
pub mod error;
mod guard;
pub mod metrics;
pub mod partitioner;
pub mod producer;
pub mod records;
pub mod security;
#[cfg(test)]
pub(crate) mod testing;
pub mod types;

pub use admin::{
    Admin, AlterConfigOp, ConfigEntry, ConfigResource, ConfigSource, GroupDescription,
    GroupListing, GroupMember,
};
pub use client::Client;
pub use config::{
    Acks, AssignmentStrategy, ClientConfig, Compression, ConsumerConfig, Idempotence,
    IsolationLevel, OffsetReset, ProducerConfig,
};
pub use consumer::{CommitFuture, Consumer, PartitionRecords, RebalanceListener};
pub use error::{Error, KafkaCode};
pub use metrics::MetricsSnapshot;
pub use producer::{DeliveryFuture, Producer};
pub use security::{
    ClientCert, PemSource, SaslConfig, SaslMechanism, Security, TlsConfig, TrustRoots,
};
pub use types::{
    ConsumerRecord, NewTopic, OffsetRange, OffsetSpec, PartitionDescription, ProducerRecord,
    RecordMetadata, TopicDescription, TopicPartition,
};
