//! [`KafkaSource`]: the direct-stream source over kt-client.
//!
//! As Spark's direct stream (Kafka 0.10 integration), it uses one consumer
//! in the group, never auto-commits, and reads exactly the offset ranges the
//! engine decides: the engine owns positions; Kafka holds the committed
//! offsets. Membership is refreshed every batch through
//! `Consumer::join` (rejoining after a rebalance), so several `kt stream`
//! processes in one group share the partitions.
//!
//! Three ways to say what to read (Spark's `ConsumerStrategies`):
//! [`topic`](KafkaSource::topic)/[`topics`](KafkaSource::topics) subscribe in
//! the group (`Subscribe`); [`topic_pattern`](KafkaSource::topic_pattern)
//! subscribes to every topic whose whole name matches a regex, re-checked
//! every [`PATTERN_REFRESH`] (`SubscribePattern`); [`assign`](KafkaSource::assign)
//! reads exactly the given partitions without group membership, optionally
//! from explicit starting offsets (`Assign`), still committing to the group.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use kt_client::{
    Client, ClientConfig, Consumer, ConsumerConfig, OffsetRange as ClientRange,
    OffsetReset as ClientOffsetReset, OffsetSpec, TopicPartition as ClientTp,
};

use super::{BatchSource, InputOptions, OffsetRange, OffsetReset, SourceRecord, TopicPartition};
use crate::error::SourceError;

/// A Kafka topic subscription for [`StreamingContext::kafka_stream`](crate::StreamingContext::kafka_stream)
/// (PySpark's `KafkaUtils.createDirectStream(ssc, [topic], {"metadata.broker.list": ..., "group.id": ...})`).
///
/// ```no_run
/// use kt_streaming::KafkaSource;
/// let source = KafkaSource::new("127.0.0.1:9092")
///     .group("sparkit")
///     .topic("mytopic")
///     .from_beginning(true)
///     .max_rate_per_partition(10_000);
/// ```
pub struct KafkaSource {
    config: ClientConfig,
    group: Option<String>,
    topics: Vec<String>,
    pattern: Option<regex::Regex>,
    assigned: Vec<TopicPartition>,
    starting: BTreeMap<TopicPartition, i64>,
    pattern_checked: Option<tokio::time::Instant>,
    options: InputOptions,
    session_timeout: Option<std::time::Duration>,
    instance_id: Option<String>,
    connected: Option<Connected>,
}

struct Connected {
    client: Client,
    consumer: Consumer,
}

impl std::fmt::Debug for KafkaSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaSource")
            .field("bootstrap", &self.config.bootstrap_servers)
            .field("group", &self.group)
            .field("topics", &self.topics)
            .field("options", &self.options)
            .field("connected", &self.connected.is_some())
            .finish()
    }
}

impl KafkaSource {
    /// A source reading from the cluster at `bootstrap` (`host:port[,host:port...]`).
    pub fn new(bootstrap: impl Into<String>) -> Self {
        Self::with_client_config(ClientConfig::new(bootstrap))
    }

    /// A source using a full client configuration (TLS, SASL, timeouts).
    pub fn with_client_config(config: ClientConfig) -> Self {
        KafkaSource {
            config,
            group: None,
            topics: Vec::new(),
            pattern: None,
            assigned: Vec::new(),
            starting: BTreeMap::new(),
            pattern_checked: None,
            options: InputOptions::default(),
            session_timeout: None,
            instance_id: None,
            connected: None,
        }
    }

    /// The consumer group (`group.id`) whose committed offsets are read and written. Required.
    pub fn group(mut self, group: impl Into<String>) -> Self {
        self.group = Some(group.into());
        self
    }

    /// Adds a topic to the subscription.
    pub fn topic(mut self, topic: impl Into<String>) -> Self {
        self.topics.push(topic.into());
        self
    }

    /// Adds topics to the subscription.
    pub fn topics(mut self, topics: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.topics.extend(topics.into_iter().map(Into::into));
        self
    }

    /// Subscribes to every topic whose whole name matches `pattern` (a Rust
    /// `regex`), including topics created later (checked every
    /// [`PATTERN_REFRESH`]). An invalid pattern fails at `start`.
    pub fn topic_pattern(mut self, pattern: &str) -> Result<Self, SourceError> {
        let anchored = format!("^(?:{pattern})$");
        let re = regex::Regex::new(&anchored)
            .map_err(|e| SourceError::Config(format!("topic pattern {pattern:?}: {e}")))?;
        self.pattern = Some(re);
        Ok(self)
    }

    /// Reads exactly these partitions, without joining the group (Spark's
    /// `Assign`). Offsets are still read from and committed to the group,
    /// which must then have no active members. Partitions the group has no
    /// committed offset for start at their [`starting_offset`](Self::starting_offset),
    /// else per `auto.offset.reset`.
    pub fn assign(mut self, partitions: impl IntoIterator<Item = TopicPartition>) -> Self {
        self.assigned.extend(partitions);
        self
    }

    /// Where an assigned partition starts when the group has no committed
    /// offset for it (the group's offset wins so a restart continues).
    pub fn starting_offset(mut self, tp: TopicPartition, offset: i64) -> Self {
        self.starting.insert(tp, offset);
        self
    }

    /// Partitions without a committed offset start at the earliest offset
    /// (`auto.offset.reset=earliest`) instead of the latest.
    pub fn from_beginning(mut self, yes: bool) -> Self {
        self.options.offset_reset = if yes {
            OffsetReset::Earliest
        } else {
            OffsetReset::Latest
        };
        self
    }

    /// At most `records_per_second` per partition per second of batch
    /// interval (Spark's `spark.streaming.kafka.maxRatePerPartition`); 0 is unlimited.
    pub fn max_rate_per_partition(mut self, records_per_second: u64) -> Self {
        self.options.max_rate_per_partition = Some(records_per_second);
        self
    }

    /// Lowers the rate when batches take longer than the batch interval and
    /// raises it again when they keep up (Spark's back-pressure; see the crate docs).
    pub fn backpressure(mut self, yes: bool) -> Self {
        self.options.backpressure = yes;
        self
    }

    /// The group session timeout (`session.timeout.ms`; default 45 s): how
    /// long the group waits for a member that stopped without leaving (a
    /// crash) before giving its partitions to others. Heartbeats go out every
    /// third of it (at most every 3 s).
    pub fn session_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.session_timeout = Some(timeout);
        self
    }

    /// Static group membership (`group.instance.id`, KIP-345): a process
    /// restarted with the same id takes its old place at once, without a
    /// rebalance and without waiting for the session timeout. Give each
    /// process of a group its own id.
    pub fn instance_id(mut self, id: impl Into<String>) -> Self {
        self.instance_id = Some(id.into());
        self
    }

    /// The engine options this source was configured with.
    pub fn options(&self) -> InputOptions {
        self.options
    }

    async fn connect(&mut self) -> Result<&mut Connected, SourceError> {
        if self.connected.is_none() {
            let group = self.group.clone().ok_or_else(|| {
                SourceError::Config("KafkaSource needs a consumer group: .group(\"name\")".into())
            })?;
            let ways = usize::from(!self.topics.is_empty())
                + usize::from(self.pattern.is_some())
                + usize::from(!self.assigned.is_empty());
            if ways != 1 {
                return Err(SourceError::Config(
                    "KafkaSource needs exactly one of .topic(\"name\"), .topic_pattern(\"re\") \
                     or .assign(partitions)"
                        .into(),
                ));
            }
            let client = Client::connect(self.config.clone())
                .await
                .map_err(client_error)?;
            let defaults = ConsumerConfig::default();
            let session_timeout = self.session_timeout.unwrap_or(defaults.session_timeout);
            let mut consumer = client.consumer(ConsumerConfig {
                group_id: Some(group),
                group_instance_id: self.instance_id.clone(),
                session_timeout,
                heartbeat_interval: defaults.heartbeat_interval.min(session_timeout / 3),
                auto_offset_reset: match self.options.offset_reset {
                    OffsetReset::Earliest => ClientOffsetReset::Earliest,
                    OffsetReset::Latest => ClientOffsetReset::Latest,
                },
                // The engine commits after each batch's outputs; never the consumer.
                enable_auto_commit: false,
                // A batch reads known ranges to their end, one fetch after another: the
                // consumer's 1 MiB per partition made a 4 M-line batch 260 round trips.
                max_partition_fetch_bytes: 8 << 20,
                fetch_max_bytes: 64 << 20,
                ..ConsumerConfig::default()
            });
            if !self.assigned.is_empty() {
                consumer
                    .assign(self.assigned.iter().map(to_client).collect())
                    .map_err(client_error)?;
            } else if self.pattern.is_none() {
                let topics: Vec<&str> = self.topics.iter().map(String::as_str).collect();
                consumer.subscribe(&topics).await.map_err(client_error)?;
            }
            self.connected = Some(Connected { client, consumer });
        }
        self.connected.as_mut().ok_or(SourceError::Closed)
    }

    async fn list_offsets(
        &mut self,
        tps: &[TopicPartition],
        spec: OffsetSpec,
    ) -> Result<BTreeMap<TopicPartition, i64>, SourceError> {
        let conn = self.connect().await?;
        let specs: Vec<(ClientTp, OffsetSpec)> =
            tps.iter().map(|tp| (to_client(tp), spec)).collect();
        let found = conn
            .client
            .list_offsets(&specs)
            .await
            .map_err(client_error)?;
        Ok(found
            .into_iter()
            .map(|(tp, o)| (from_client(&tp), o))
            .collect())
    }
}

/// How often a pattern subscription looks for new or deleted topics.
pub const PATTERN_REFRESH: std::time::Duration = std::time::Duration::from_secs(30);

impl KafkaSource {
    /// For a pattern subscription: lists the topics (at the first call and
    /// every [`PATTERN_REFRESH`]) and subscribes to the matching ones.
    async fn refresh_pattern(&mut self) -> Result<(), SourceError> {
        let Some(pattern) = self.pattern.clone() else {
            return Ok(());
        };
        let due = self
            .pattern_checked
            .is_none_or(|at| at.elapsed() >= PATTERN_REFRESH);
        if !due {
            return Ok(());
        }
        let conn = self.connect().await?;
        let mut matching: Vec<String> = conn
            .client
            .admin()
            .list_topics()
            .await
            .map_err(client_error)?
            .into_iter()
            .filter(|t| pattern.is_match(t))
            .collect();
        matching.sort();
        if matching.is_empty() {
            tracing::debug!("no topic matches {}", pattern.as_str());
        } else {
            let topics: Vec<&str> = matching.iter().map(String::as_str).collect();
            conn.consumer
                .subscribe(&topics)
                .await
                .map_err(client_error)?;
        }
        self.pattern_checked = Some(tokio::time::Instant::now());
        Ok(())
    }
}

fn client_error(e: kt_client::Error) -> SourceError {
    SourceError::Client(Box::new(e))
}

fn to_client(tp: &TopicPartition) -> ClientTp {
    ClientTp::new(&*tp.topic, tp.partition)
}

fn from_client(tp: &ClientTp) -> TopicPartition {
    TopicPartition::new(tp.topic.as_str(), tp.partition)
}

impl BatchSource for KafkaSource {
    fn describe(&self) -> String {
        let what = if let Some(p) = &self.pattern {
            format!("topics matching {}", p.as_str())
        } else if !self.assigned.is_empty() {
            let list: Vec<String> = self.assigned.iter().map(ToString::to_string).collect();
            format!("partitions {}", list.join(","))
        } else {
            format!("topics {}", self.topics.join(","))
        };
        format!(
            "kafka {} group {} {what}",
            self.config.bootstrap_servers.join(","),
            self.group.as_deref().unwrap_or("<none>"),
        )
    }

    fn starting_offsets(&self) -> BTreeMap<TopicPartition, i64> {
        self.starting.clone()
    }

    async fn assignment(&mut self) -> Result<Vec<TopicPartition>, SourceError> {
        self.refresh_pattern().await?;
        let conn = self.connect().await?;
        let assigned = conn.consumer.join().await.map_err(client_error)?;
        Ok(assigned.iter().map(from_client).collect())
    }

    async fn latest_offsets(
        &mut self,
        tps: &[TopicPartition],
    ) -> Result<BTreeMap<TopicPartition, i64>, SourceError> {
        self.list_offsets(tps, OffsetSpec::Latest).await
    }

    async fn earliest_offsets(
        &mut self,
        tps: &[TopicPartition],
    ) -> Result<BTreeMap<TopicPartition, i64>, SourceError> {
        self.list_offsets(tps, OffsetSpec::Earliest).await
    }

    async fn committed_offsets(
        &mut self,
        tps: &[TopicPartition],
    ) -> Result<BTreeMap<TopicPartition, Option<i64>>, SourceError> {
        let conn = self.connect().await?;
        let tps: Vec<ClientTp> = tps.iter().map(to_client).collect();
        let committed = conn.consumer.committed(&tps).await.map_err(client_error)?;
        Ok(committed
            .into_iter()
            .map(|(tp, o)| (from_client(&tp), o))
            .collect())
    }

    async fn fetch_ranges(
        &mut self,
        ranges: &[OffsetRange],
    ) -> Result<Vec<SourceRecord>, SourceError> {
        let conn = self.connect().await?;
        let wanted: Vec<ClientRange> = ranges
            .iter()
            .map(|r| ClientRange {
                tp: to_client(&r.tp),
                from: r.from,
                until: r.until,
            })
            .collect();
        let records = conn
            .consumer
            .fetch_ranges(&wanted)
            .await
            .map_err(client_error)?;
        // Share one topic name per partition instead of one string per record.
        let topics: HashMap<&str, Arc<str>> = ranges
            .iter()
            .map(|r| (&*r.tp.topic, Arc::clone(&r.tp.topic)))
            .collect();
        records
            .into_iter()
            .map(|r| {
                let topic = topics.get(r.topic.as_str()).cloned().ok_or_else(|| {
                    SourceError::Inconsistent(format!(
                        "fetch returned a record of unrequested topic {}",
                        r.topic
                    ))
                })?;
                Ok(SourceRecord {
                    tp: TopicPartition {
                        topic,
                        partition: r.partition,
                    },
                    offset: r.offset,
                    key: r.key,
                    value: r.value,
                    timestamp: r.timestamp,
                })
            })
            .collect()
    }

    async fn commit(&mut self, offsets: &BTreeMap<TopicPartition, i64>) -> Result<(), SourceError> {
        let conn = self.connect().await?;
        let offsets: BTreeMap<ClientTp, i64> =
            offsets.iter().map(|(tp, o)| (to_client(tp), *o)).collect();
        conn.consumer.commit(&offsets).await.map_err(|e| {
            use kt_client::KafkaCode::{
                FencedInstanceId, IllegalGeneration, RebalanceInProgress, UnknownMemberId,
            };
            match e.kafka_code() {
                Some(
                    IllegalGeneration | UnknownMemberId | RebalanceInProgress | FencedInstanceId,
                ) => SourceError::Fenced(e.to_string()),
                _ => client_error(e),
            }
        })
    }

    async fn close(&mut self) -> Result<(), SourceError> {
        match self.connected.take() {
            Some(conn) => conn.consumer.close().await.map_err(client_error),
            None => Ok(()),
        }
    }
}

impl crate::StreamingContext {
    /// A stream of `(key, value)` records from Kafka topics, read in
    /// batches by offset range (PySpark's `KafkaUtils.createDirectStream`).
    /// Keys and values that are not UTF-8 have their bad bytes replaced by U+FFFD.
    pub fn kafka_stream(&self, source: KafkaSource) -> crate::DStream<(Option<String>, String)> {
        let options = source.options();
        self.input_stream(source, options)
    }

    /// The Kafka records themselves (partition, offset, timestamp, raw key
    /// and value, `None` for a null value); see [`input_records`](Self::input_records).
    pub fn kafka_records(&self, source: KafkaSource) -> crate::DStream<SourceRecord> {
        let options = source.options();
        self.input_records(source, options)
    }
}
