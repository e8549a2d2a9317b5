//! kt-client: an async (tokio) Kafka client in pure Rust, built to work against real Kafka
//! clusters (Apache Kafka, Redpanda, Tansu, ...) and not only against kt's own broker.
//!
//! Every request and response schema comes from the `kafka-protocol` crate; framing,
//! version negotiation, the response shape guard, the record batch codec, partitioning,
//! batching, idempotence, fetch sessions, group membership, assignors, TLS/SASL wiring and
//! SCRAM are kt's own.
//!
//! # Layout
//!
//! | module | what lives there |
//! |---|---|
//! | [`client`](Client) | [`Client`]: bootstrap, `list_offsets`, `partitions_for`, [`Client::metrics`]; hands out the parts below |
//! | `connection/` | one socket per broker (TCP, or rustls TLS): framing (`frame.rs`), pipelined requests with correlation ids, poisoning, ApiVersions with the KIP-511 fallback (`versions.rs`), SASL at connect, a tracing span per request |
//! | `guard/` | the response shape guard: every response walked against its schema before decoding (`data.rs`, `groups.rs`, `admin.rs`), cross-checked against kafka-protocol's encoders (`tests.rs`, `fill.rs`) |
//! | [`security`] | [`Security`]: TLS settings and roots (`tls.rs`), SaslHandshake + SaslAuthenticate (`sasl.rs`), SCRAM-SHA-256/512 (`scram.rs`) |
//! | `cluster/` | connection pool (per broker and purpose) and the metadata cache (`metadata.rs`): brokers, leaders, topic ids; refresh on leader errors and when older than `metadata_max_age` |
//! | [`records`] | kt's own record batch v2 codec: bounded, zero-copy decode, CRC-32C, encoder, control markers |
//! | [`compression`] | gzip, snappy (xerial + raw), lz4 (frame), zstd; decompression-bomb limit |
//! | [`partitioner`] | Java-compatible murmur2 for keys, sticky partitions for unkeyed records (KIP-480) |
//! | [`producer`] | [`Producer`]: accumulator, sender task, Produce requests (`request.rs`), idempotence (`idempotence.rs`, `init.rs`), per-batch delivery futures (`delivery.rs`) |
//! | [`consumer`] | [`Consumer`]: fetching (`fetching.rs`, `fetcher.rs`, `session.rs`), groups (`group.rs`, `rebalance.rs`, `listener.rs`), assignors (`assignor.rs`, `sticky.rs`), commits (`commit.rs`, `offsets.rs`), exact ranges (`ranges.rs`) |
//! | [`admin`] | [`Admin`]: topics (`mod.rs`), partitions and records (`partitions.rs`), configs (`configs.rs`), groups (`groups.rs`) |
//! | [`metrics`] | [`MetricsSnapshot`]: request, byte, record, retry, batch-size counters |
//! | `backoff` | exponential back-off with ±20% jitter (KIP-580) |
//! | [`config`], [`types`], [`error`] | settings, plain data types, [`Error`] and [`KafkaCode`] |
//! | `fuzzing.rs` | hidden entry points for the cargo-fuzz targets in `fuzz/`: a response frame through the client's decode and processing path |
//!
//! # References
//!
//! * The Kafka protocol guide: <https://kafka.apache.org/protocol> (framing, request
//!   headers, error codes, API schemas) and the record batch format:
//!   <https://kafka.apache.org/documentation/#recordbatch>.
//! * KIP-98 (idempotent producer, producer ids and sequences), KIP-360 (what to do when the
//!   broker loses producer state), KIP-679 (idempotence on by default):
//!   <https://cwiki.apache.org/confluence/display/KAFKA/KIP-98+-+Exactly+Once+Delivery+and+Transactional+Messaging>
//! * KIP-580 (exponential back-off with jitter):
//!   <https://cwiki.apache.org/confluence/display/KAFKA/KIP-580%3A+Exponential+Backoff+for+Kafka+Clients>
//! * KIP-74 (Fetch `max_bytes`), KIP-227 (incremental fetch sessions):
//!   <https://cwiki.apache.org/confluence/display/KAFKA/KIP-227%3A+Introduce+Incremental+FetchRequests+to+Increase+Partition+Scalability>
//! * KIP-516 (topic ids; Fetch v13+), KIP-447 / KIP-98 (read_committed, aborted transactions).
//! * KIP-480 (sticky partitioner), KIP-511 (ApiVersions fallback), KIP-394
//!   (MEMBER_ID_REQUIRED), KIP-345 (static membership).
//! * KIP-429 (incremental cooperative rebalancing, cooperative-sticky):
//!   <https://cwiki.apache.org/confluence/display/KAFKA/KIP-429%3A+Kafka+Consumer+Incremental+Rebalance+Protocol>
//! * KIP-339 (IncrementalAlterConfigs), KIP-107 (DeleteRecords), KIP-195 (CreatePartitions).
//! * KIP-152 (SaslAuthenticate), KIP-84 (SCRAM), RFC 5802 / RFC 7677 (SCRAM), RFC 4616 (PLAIN).
//! * KIP-896 (removal of old protocol versions in Kafka 4.0).
//!
//! # Examples
//!
//! Runnable programs live in `client/examples/`, one per component; start a broker
//! (`kt broker`, or point them at any Kafka) and run, for instance,
//! `cargo run -p kt-client --example producer -- 127.0.0.1:9092 greetings 10`:
//!
//! | example | shows |
//! |---|---|
//! | `producer` | keyed records with headers, lz4, `acks=all`, idempotence, delivery futures, metrics |
//! | `consumer_group` | a cooperative-sticky group member with a rebalance listener, batches, manual commits |
//! | `admin` | create topics and partitions, alter/describe configs, list offsets, delete records, groups and their offsets, delete topics |
//! | `tls_sasl` | SSL, SASL_PLAINTEXT and SASL_SSL settings (CA file or system roots; PLAIN, SCRAM-SHA-256/512) |
//!
//! kt-tests runs each of them against kt-broker (`tests/tests/client_examples.rs`). The
//! snippets below are compiled, not run:
//!
//! Produce (idempotent by default; keyed records land where the Java client would put them):
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
//! println!("{:?}", client.metrics());
//! # Ok(()) }
//! ```
//!
//! A consumer group with the cooperative-sticky assignor and a rebalance listener that
//! commits what was processed before partitions move away:
//!
//! ```no_run
//! use std::time::Duration;
//! use futures::future::BoxFuture;
//! use kt_client::{
//!     AssignmentStrategy, Client, ClientConfig, Consumer, ConsumerConfig, OffsetReset,
//!     RebalanceListener, TopicPartition,
//! };
//!
//! struct CommitOnRevoke;
//!
//! impl RebalanceListener for CommitOnRevoke {
//!     fn on_partitions_revoked<'a>(
//!         &'a mut self,
//!         consumer: &'a mut Consumer,
//!         _revoked: &'a [TopicPartition],
//!     ) -> BoxFuture<'a, ()> {
//!         Box::pin(async move {
//!             if let Err(e) = consumer.commit_positions().await {
//!                 eprintln!("commit before revocation failed: {e}");
//!             }
//!         })
//!     }
//! }
//!
//! # async fn run() -> Result<(), kt_client::Error> {
//! let client = Client::connect(ClientConfig::new("127.0.0.1:9092")).await?;
//! let mut consumer = client.consumer(ConsumerConfig {
//!     auto_offset_reset: OffsetReset::Earliest,
//!     enable_auto_commit: false,
//!     assignment_strategies: vec![AssignmentStrategy::CooperativeSticky],
//!     ..ConsumerConfig::with_group("sparkit")
//! });
//! consumer.set_rebalance_listener(CommitOnRevoke);
//! consumer.subscribe_pattern("events-.*").await?;
//! for _ in 0..10 {
//!     for batch in consumer.poll_batches(Duration::from_secs(1)).await? {
//!         println!("{}: {} records", batch.tp, batch.records.len());
//!     }
//!     let done = consumer.positions();
//!     let pending = consumer.commit_async(done).await?; // in order, not waited for
//!     drop(pending);
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
//! Administer topics, configs and groups:
//!
//! ```no_run
//! use kt_client::{AlterConfigOp, Client, ClientConfig, ConfigResource, Error, KafkaCode, NewTopic};
//!
//! # async fn run() -> Result<(), Error> {
//! let client = Client::connect(ClientConfig::new("127.0.0.1:9092")).await?;
//! let admin = client.admin();
//! match admin.create_topics(&[NewTopic::new("mytopic", 3, 1)]).await {
//!     Ok(()) => {}
//!     Err(e) if e.kafka_code() == Some(KafkaCode::TopicAlreadyExists) => {}
//!     Err(e) => return Err(e),
//! }
//! admin.create_partitions(&[("mytopic", 6)]).await?;
//! let topic = ConfigResource::Topic("mytopic".into());
//! admin
//!     .alter_configs(&topic, &[AlterConfigOp::Set("retention.ms".into(), "86400000".into())], false)
//!     .await?;
//! for (resource, entries) in admin.describe_configs(&[topic]).await? {
//!     for e in entries {
//!         println!("{resource} {} = {:?} ({:?})", e.name, e.value, e.source);
//!     }
//! }
//! for g in admin.list_groups().await? {
//!     let d = admin.describe_groups(&[&g.group_id]).await?;
//!     println!("{} {} members {}", g.group_id, d[0].state, d[0].members.len());
//! }
//! # Ok(()) }
//! ```
//!
//! TLS and SASL (SASL_SSL with SCRAM-SHA-512; mutual TLS with a client certificate):
//!
//! ```no_run
//! use kt_client::{
//!     Client, ClientCert, ClientConfig, PemSource, SaslConfig, SaslMechanism, Security, TlsConfig,
//! };
//!
//! # async fn run() -> Result<(), kt_client::Error> {
//! let mut config = ClientConfig::new("broker1.example.com:9093");
//! config.security = Security {
//!     tls: Some(TlsConfig::with_ca_file("/etc/kafka/ca.pem")), // or TlsConfig::system_roots()
//!     sasl: Some(SaslConfig::new(SaslMechanism::ScramSha512, "alice", "secret")),
//! };
//! let client = Client::connect(config).await?;
//!
//! let mut mtls = ClientConfig::new("broker1.example.com:9094");
//! mtls.security.tls = Some(TlsConfig {
//!     client_cert: Some(ClientCert {
//!         cert_chain: PemSource::File("/etc/kafka/client.pem".into()),
//!         key: PemSource::File("/etc/kafka/client.key".into()),
//!     }),
//!     ..TlsConfig::with_ca_file("/etc/kafka/ca.pem")
//! });
//! let _other = Client::connect(mtls).await?;
//! # drop(client); Ok(()) }
//! ```
//!
//! # Supported features
//!
//! | feature | status |
//! |---|---|
//! | ApiVersions negotiation, KIP-511 fallback | yes; per API `min(kt max, broker max)`, clear error without overlap |
//! | pipelined requests, per-purpose connections | yes: produce and control connections pooled per broker; each consumer owns its fetch connection per broker and its coordinator connection |
//! | metadata cache; refresh on leader errors and `metadata_max_age` | yes (checked before the producer and the consumer route requests) |
//! | leader failover without loss or duplicates | yes; tested on a 3-node kt-broker cluster with leader moves, injected errors, lost requests, responses lost after the write (idempotent producer), node outages, coordinator loss |
//! | record batch v2 (magic 2) | yes; magic 0/1 rejected with a clear error |
//! | compression gzip / snappy / lz4 / zstd | yes, pure Rust, both directions, bomb limit |
//! | producer acks 0 / 1 / all, linger, batch size, back-pressure, headers, timestamps | yes; `send` waits while `buffer_memory` is full (no `max.block.ms`: bound it with `tokio::time::timeout`) |
//! | idempotent producer (KIP-98, on by default as KIP-679) | yes: InitProducerId, sequences, 5 in flight per partition in order, new producer id when the broker loses state (KIP-360 rules; a fresh id instead of a local epoch bump); `acks != all` turns `Auto` off as in Java |
//! | retries with exponential back-off and jitter (KIP-580), bounded by `delivery_timeout` | yes |
//! | transactional producer | no |
//! | murmur2 keyed partitioning, sticky unkeyed (KIP-480) | yes |
//! | consumer assign / subscribe (names or regex) | yes |
//! | range, roundrobin, cooperative-sticky (KIP-429) assignors | yes; standard consumer-protocol bytes (v2 subscriptions with owned partitions and generation for cooperative), shared with Java / librdkafka members |
//! | rebalance callbacks (async: assigned / revoked / lost) | yes |
//! | static membership (KIP-345), MEMBER_ID_REQUIRED (KIP-394) | yes |
//! | commits: sync, async (ordered), auto; committed offsets (OffsetFetch v9) | yes |
//! | seek, pause / resume, `max_poll_records`, `poll_batches`, `Stream` | yes |
//! | fetch sessions (KIP-227) | yes (incremental; full fetch again after any session error) |
//! | Fetch v13+ with topic ids (KIP-516) | yes (up to v16; v12 when a topic has no id) |
//! | `read_committed` isolation | yes: LSO-bounded fetches, aborted transactions filtered, `Latest` resets at the LSO, `require_stable` offsets |
//! | admin: topics, partitions, configs (describe, incremental alter), groups (list, describe, delete, offsets), list offsets, delete records | yes |
//! | TLS (rustls: CA file/PEM, system roots, Mozilla roots, mTLS) | yes |
//! | SASL PLAIN, SCRAM-SHA-256/512 over plaintext and TLS | yes; no GSSAPI / OAUTHBEARER, no re-authentication (KIP-368) |
//! | KIP-848 consumer protocol, share groups | no |
//! | request spans (`tracing`) and counters ([`Client::metrics`]) | yes |
//!
//! # Untrusted input
//!
//! Nothing read from the network may panic, abort or hang the client. Frames above
//! `max_response_size` are rejected before allocating; every response body is walked by the
//! shape guard (`guard/`) before kafka-protocol decodes it, so a count read off the wire can
//! never size an allocation beyond what the bytes hold; response decoders reject trailing
//! bytes; record batches are decoded by kt's own bounded codec; consumer-protocol bytes from
//! other group members pass their own shape guard; SCRAM refuses iteration counts outside
//! Kafka's bounds. Decoder panics, if any, are caught and turned into [`Error::Protocol`].

pub mod admin;
mod backoff;
mod client;
pub(crate) mod cluster;
pub mod compression;
pub mod config;
pub(crate) mod connection;
pub mod consumer;
pub mod error;
#[doc(hidden)]
pub mod fuzzing;
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
