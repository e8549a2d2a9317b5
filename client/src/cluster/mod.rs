//! The connection pool and the metadata cache, shared by every part of a [`Client`].
//!
//! * One connection per broker *per purpose* (produce, fetch, control), so a long-polling
//!   Fetch cannot hold up a Produce or a Heartbeat behind it on the same socket (brokers
//!   answer one request per connection at a time, in order).
//! * Metadata covers the topics the client has used (its "interest"); it is refreshed when
//!   older than `metadata_max_age` (the producer's sender and the consumer check before
//!   routing), when a caller asks for a topic it lacks, and when a request fails with
//!   NOT_LEADER_OR_FOLLOWER / UNKNOWN_TOPIC_OR_PARTITION / LEADER_NOT_AVAILABLE and the like
//!   (callers call [`Cluster::invalidate`]).
//!
//! [`Client`]: crate::Client

pub(crate) mod metadata;

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::messages::{ApiKey, MetadataRequest, TopicName};
use kafka_protocol::protocol::StrBytes;
use tokio::time::Instant;

use crate::config::ClientConfig;
use crate::connection::{Connection, ConnectionConfig};
use crate::error::{Error, KafkaCode};
use crate::metrics::Metrics;
use metadata::{Metadata, TopicMetadata};

/// What a pooled connection is used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Purpose {
    Produce,
    /// Metadata, admin, group coordination, offsets.
    Control,
}

/// How long a topic the cluster does not know is waited for.
const UNKNOWN_TOPIC_PATIENCE: Duration = Duration::from_secs(2);

type Slot = Arc<tokio::sync::Mutex<Option<Connection>>>;

/// Pool + metadata cache.
#[derive(Debug)]
pub(crate) struct Cluster {
    pub(crate) config: ClientConfig,
    conn_config: ConnectionConfig,
    metadata: RwLock<Arc<Metadata>>,
    /// When the current snapshot was fetched.
    fetched_at: Mutex<Option<Instant>>,
    /// Bumped on each successful refresh (single-flight check).
    generation: AtomicU64,
    stale: AtomicBool,
    interest: Mutex<BTreeSet<String>>,
    pool: Mutex<HashMap<(String, Purpose), Slot>>,
    refresh_lock: tokio::sync::Mutex<()>,
    /// When the last background refresh started (at most one per `retry_backoff`).
    background_refresh: Mutex<Option<Instant>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Every critical section here is a plain read or replace; a panic elsewhere cannot leave
    // the data half-updated, so recovering a poisoned lock is safe.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Cluster {
    pub(crate) fn new(config: ClientConfig) -> Result<Cluster, Error> {
        config.validate()?;
        let conn_config = ConnectionConfig {
            client_id: StrBytes::from_string(config.client_id.clone()),
            connect_timeout: config.connect_timeout,
            request_timeout: config.request_timeout,
            max_response_size: config.max_response_size,
            metrics: Arc::new(Metrics::default()),
            security: config.security.prepare()?,
        };
        Ok(Cluster {
            config,
            conn_config,
            metadata: RwLock::new(Arc::new(Metadata::default())),
            fetched_at: Mutex::new(None),
            generation: AtomicU64::new(0),
            stale: AtomicBool::new(true),
            interest: Mutex::new(BTreeSet::new()),
            pool: Mutex::new(HashMap::new()),
            refresh_lock: tokio::sync::Mutex::new(()),
            background_refresh: Mutex::new(None),
        })
    }

    /// The client's counters.
    pub(crate) fn metrics(&self) -> &Arc<Metrics> {
        &self.conn_config.metrics
    }

    pub(crate) fn request_timeout(&self) -> Duration {
        self.config.request_timeout
    }

    /// The current snapshot (possibly stale).
    pub(crate) fn metadata(&self) -> Arc<Metadata> {
        self.metadata
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Marks metadata stale; the next lookup refreshes it.
    pub(crate) fn invalidate(&self) {
        self.stale.store(true, Ordering::Relaxed);
    }

    /// Refreshes the metadata of the interest set when it was invalidated (after a leader
    /// error) or is older than `metadata_max_age`: the "timer" of Kafka clients, checked by
    /// the producer's sender and the consumer before they route requests.
    pub(crate) async fn refresh_if_stale(&self) -> Result<(), Error> {
        if self.is_stale() {
            self.refresh(&[]).await?;
        }
        Ok(())
    }

    pub(crate) fn is_stale(&self) -> bool {
        if self.stale.load(Ordering::Relaxed) {
            return true;
        }
        match *lock(&self.fetched_at) {
            None => true,
            Some(t) => t.elapsed() >= self.config.metadata_max_age,
        }
    }

    /// A pooled connection to `addr` for `purpose`, connecting (or replacing a closed one)
    /// if needed.
    pub(crate) async fn connection(
        &self,
        addr: &str,
        purpose: Purpose,
    ) -> Result<Connection, Error> {
        let slot = lock(&self.pool)
            .entry((addr.to_owned(), purpose))
            .or_default()
            .clone();
        let mut guard = slot.lock().await;
        if let Some(c) = guard.as_ref()
            && !c.is_closed()
        {
            return Ok(c.clone());
        }
        let c = Connection::connect(addr, &self.conn_config).await?;
        *guard = Some(c.clone());
        Ok(c)
    }

    /// A new connection owned by the caller (not pooled), e.g. a consumer's own coordinator
    /// connection.
    pub(crate) async fn dedicated_connection(&self, addr: &str) -> Result<Connection, Error> {
        Connection::connect(addr, &self.conn_config).await
    }

    /// A connection to broker `node`.
    pub(crate) async fn broker_connection(
        &self,
        node: i32,
        purpose: Purpose,
    ) -> Result<Connection, Error> {
        let addr = match self.metadata().broker_addr(node) {
            Some(a) => a.to_owned(),
            None => {
                self.refresh(&[]).await?;
                self.metadata()
                    .broker_addr(node)
                    .ok_or_else(|| {
                        Error::Protocol(format!("broker {node} is not in the cluster metadata"))
                    })?
                    .to_owned()
            }
        };
        self.connection(&addr, purpose).await
    }

    /// A control connection to any reachable broker: known brokers first, then bootstrap.
    pub(crate) async fn any_connection(&self) -> Result<Connection, Error> {
        let md = self.metadata();
        let mut candidates: Vec<String> = md.brokers.values().cloned().collect();
        candidates.sort();
        for b in &self.config.bootstrap_servers {
            if !candidates.contains(b) {
                candidates.push(b.clone());
            }
        }
        let mut first_err = None;
        for addr in candidates {
            match self.connection(&addr, Purpose::Control).await {
                Ok(c) => return Ok(c),
                Err(e) => {
                    tracing::debug!(broker = %addr, error = %e, "broker unreachable");
                    first_err.get_or_insert(e);
                }
            }
        }
        Err(first_err.unwrap_or_else(|| Error::Config("no brokers to connect to".into())))
    }

    /// Adds topics to the set metadata refreshes cover.
    pub(crate) fn add_interest(&self, topics: &[String]) {
        let mut i = lock(&self.interest);
        for t in topics {
            i.insert(t.clone());
        }
    }

    /// Refreshes metadata for the interest set plus `extra` topics.
    pub(crate) async fn refresh(&self, extra: &[String]) -> Result<Arc<Metadata>, Error> {
        self.add_interest(extra);
        let seen_generation = self.generation.load(Ordering::Acquire);
        let _single_flight = self.refresh_lock.lock().await;
        if self.generation.load(Ordering::Acquire) != seen_generation && !self.is_stale() {
            // Someone refreshed while we waited; good enough if it covered our topics.
            let md = self.metadata();
            if extra.iter().all(|t| md.topics.contains_key(t)) {
                return Ok(md);
            }
        }
        let topics: Vec<String> = lock(&self.interest).iter().cloned().collect();
        let fresh = self
            .fetch_metadata(Some(&topics), self.config.allow_auto_topic_creation)
            .await?;
        let merged = Arc::new(self.metadata().merged(fresh, false));
        self.install(merged.clone());
        Ok(merged)
    }

    fn install(&self, md: Arc<Metadata>) {
        *self.metadata.write().unwrap_or_else(|p| p.into_inner()) = md;
        *lock(&self.fetched_at) = Some(Instant::now());
        self.stale.store(false, Ordering::Relaxed);
        self.generation.fetch_add(1, Ordering::Release);
    }

    /// One Metadata request to any broker; `None` asks for every topic.
    pub(crate) async fn fetch_metadata(
        &self,
        topics: Option<&[String]>,
        allow_auto_create: bool,
    ) -> Result<Metadata, Error> {
        let conn = self.any_connection().await?;
        let v = conn.version(ApiKey::Metadata)?;
        let mut req = MetadataRequest::default();
        req.topics = topics.map(|ts| {
            ts.iter()
                .map(|t| {
                    let mut rt = MetadataRequestTopic::default();
                    rt.name = Some(TopicName(StrBytes::from_string(t.clone())));
                    rt
                })
                .collect()
        });
        if v >= 4 {
            req.allow_auto_topic_creation = allow_auto_create;
        }
        let resp = conn.send(&req, v, self.config.request_timeout).await?;
        if resp.error_code != 0 {
            return Err(Error::kafka(
                resp.error_code,
                format!("Metadata from {}", conn.broker()),
            ));
        }
        Ok(Metadata::from_response(&resp))
    }

    /// Metadata for every topic (admin listing); also refreshes the cache's brokers.
    pub(crate) async fn all_topics(&self) -> Result<Metadata, Error> {
        let md = self.fetch_metadata(None, false).await?;
        let merged = Arc::new(self.metadata().merged(md.clone(), false));
        self.install(merged);
        Ok(md)
    }

    /// The metadata of `topic`, refreshing if it is unknown, stale or has no leader yet.
    /// Retriable topic errors (a topic just created has no leader for a moment) are retried
    /// until the request timeout; UNKNOWN_TOPIC_OR_PARTITION only briefly (a new topic takes
    /// a moment to reach every broker), so a missing topic is reported quickly.
    pub(crate) async fn topic(&self, topic: &str) -> Result<TopicMetadata, Error> {
        let start = Instant::now();
        let deadline = start + self.config.request_timeout;
        let unknown_deadline = start + self.config.request_timeout.min(UNKNOWN_TOPIC_PATIENCE);
        let mut force = false;
        loop {
            let md = if force || self.is_stale() || !self.metadata().topics.contains_key(topic) {
                self.refresh(&[topic.to_owned()]).await?
            } else {
                self.metadata()
            };
            let err = match md.topics.get(topic) {
                Some(t) if t.error_code == 0 && !t.partitions.is_empty() => {
                    let leaderless = t.partitions.values().any(|p| p.leader < 0);
                    if !leaderless {
                        return Ok(t.clone());
                    }
                    KafkaCode::LeaderNotAvailable
                }
                Some(t) if t.error_code != 0 => KafkaCode::from(t.error_code),
                _ => KafkaCode::UnknownTopicOrPartition,
            };
            let give_up_at = if err == KafkaCode::UnknownTopicOrPartition {
                unknown_deadline
            } else {
                deadline
            };
            if !err.is_retriable() || Instant::now() + self.config.retry_backoff >= give_up_at {
                // A topic with some leaderless partitions is still usable.
                if let Some(t) = md.topics.get(topic)
                    && t.error_code == 0
                    && !t.partitions.is_empty()
                {
                    return Ok(t.clone());
                }
                return Err(Error::kafka(err, format!("metadata for topic '{topic}'")));
            }
            force = true;
            tokio::time::sleep(self.config.retry_backoff).await;
        }
    }

    /// The partition count of `topic` from fresh cached metadata, without any I/O.
    pub(crate) fn cached_partition_count(&self, topic: &str) -> Option<i32> {
        if self.is_stale() {
            return None;
        }
        let md = self.metadata.read().unwrap_or_else(|p| p.into_inner());
        md.topics
            .get(topic)
            .filter(|t| t.error_code == 0 && !t.partitions.is_empty())
            .map(TopicMetadata::partition_count)
    }

    /// The partition count of `topic` in the metadata snapshot, however old: for callers that
    /// can go on with it while a refresh runs ([`Cluster::refresh_in_background`]).
    pub(crate) fn known_partition_count(&self, topic: &str) -> Option<i32> {
        let md = self.metadata.read().unwrap_or_else(|p| p.into_inner());
        md.topics
            .get(topic)
            .filter(|t| t.error_code == 0 && !t.partitions.is_empty())
            .map(TopicMetadata::partition_count)
    }

    /// Refreshes metadata on a task of its own, at most once per `retry_backoff`: a producer's
    /// `send` with a stale snapshot goes on with it instead of waiting for (or failing on) a
    /// broker that is briefly away, as Java's `send` does with the partition count it knows.
    pub(crate) fn refresh_in_background(self: &Arc<Self>) {
        {
            let mut last = lock(&self.background_refresh);
            if last.is_some_and(|t| t.elapsed() < self.config.retry_backoff) {
                return;
            }
            *last = Some(Instant::now());
        }
        let cluster = Arc::clone(self);
        tokio::spawn(async move {
            if let Err(e) = cluster.refresh(&[]).await {
                tracing::debug!(error = %e, "background metadata refresh failed");
            }
        });
    }

    /// The leader of a partition from cached metadata, without any I/O.
    pub(crate) fn cached_leader(&self, topic: &str, partition: i32) -> Option<i32> {
        let md = self.metadata.read().unwrap_or_else(|p| p.into_inner());
        md.topics
            .get(topic)?
            .partitions
            .get(&partition)
            .map(|p| p.leader)
            .filter(|l| *l >= 0)
    }

    /// The leader of a partition.
    pub(crate) async fn leader(&self, topic: &str, partition: i32) -> Result<i32, Error> {
        let t = self.topic(topic).await?;
        match t.partitions.get(&partition) {
            Some(p) if p.leader >= 0 => Ok(p.leader),
            Some(_) => Err(Error::kafka(
                KafkaCode::LeaderNotAvailable,
                format!("{topic}-{partition}"),
            )),
            None => Err(Error::kafka(
                KafkaCode::UnknownTopicOrPartition,
                format!(
                    "{topic}-{partition} (topic has {} partitions)",
                    t.partition_count()
                ),
            )),
        }
    }
}

/// Errors after which metadata should be refreshed before retrying.
pub(crate) fn needs_metadata_refresh(code: KafkaCode) -> bool {
    matches!(
        code,
        KafkaCode::NotLeaderOrFollower
            | KafkaCode::UnknownTopicOrPartition
            | KafkaCode::LeaderNotAvailable
            | KafkaCode::FencedLeaderEpoch
            | KafkaCode::UnknownLeaderEpoch
            | KafkaCode::UnknownTopicId
            | KafkaCode::InconsistentTopicId
            | KafkaCode::NotController
            | KafkaCode::KafkaStorageError
    )
}
