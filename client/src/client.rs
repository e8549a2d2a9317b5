//! [`Client`]: the entry point. Holds the shared connection pool and metadata cache, and
//! hands out producers, consumers and the admin API.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use kafka_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use kafka_protocol::messages::{ApiKey, BrokerId, ListOffsetsRequest, TopicName};
use kafka_protocol::protocol::StrBytes;
use tokio::time::Instant;

use crate::admin::Admin;
use crate::cluster::{Cluster, Purpose, needs_metadata_refresh};
use crate::config::{ClientConfig, ConsumerConfig, ProducerConfig};
use crate::consumer::Consumer;
use crate::error::Error;
use crate::producer::Producer;
use crate::types::{OffsetSpec, TopicPartition};

/// A connection to a Kafka cluster. Cheap to clone: clones share connections and metadata.
#[derive(Clone, Debug)]
pub struct Client {
    pub(crate) cluster: Arc<Cluster>,
}

impl Client {
    /// Connects to the bootstrap servers and loads the cluster's broker list.
    ///
    /// Fails with [`Error::ConnectionRefused`] when nothing listens on any bootstrap address.
    pub async fn connect(config: ClientConfig) -> Result<Client, Error> {
        let cluster = Arc::new(Cluster::new(config)?);
        cluster.refresh(&[]).await?;
        Ok(Client { cluster })
    }

    /// The configuration this client was built with.
    pub fn config(&self) -> &ClientConfig {
        &self.cluster.config
    }

    /// A snapshot of the client's counters (requests, bytes, records, errors, retries,
    /// batch sizes), shared by everything created from this client.
    pub fn metrics(&self) -> crate::metrics::MetricsSnapshot {
        self.cluster.metrics().snapshot()
    }

    /// The admin API (topics).
    pub fn admin(&self) -> Admin {
        Admin::new(self.cluster.clone())
    }

    /// A new producer with its own background sender task. Must be called inside a tokio
    /// runtime. An invalid config makes every `send` fail with [`Error::Config`].
    pub fn producer(&self, config: ProducerConfig) -> Producer {
        Producer::new(self.cluster.clone(), config)
    }

    /// A new consumer.
    pub fn consumer(&self, config: ConsumerConfig) -> Consumer {
        Consumer::new(self.clone(), config)
    }

    /// Partition ids of `topic`, sorted.
    pub async fn partitions_for(&self, topic: &str) -> Result<Vec<i32>, Error> {
        let t = self.cluster.topic(topic).await?;
        Ok(t.partitions.keys().copied().collect())
    }

    /// Looks up offsets with ListOffsets at each partition's leader.
    ///
    /// For [`OffsetSpec::Timestamp`] the result is -1 when no record has a timestamp at or
    /// after the one asked for (Kafka's answer).
    pub async fn list_offsets(
        &self,
        specs: &[(TopicPartition, OffsetSpec)],
    ) -> Result<BTreeMap<TopicPartition, i64>, Error> {
        self.list_offsets_isolated(specs, false).await
    }

    /// [`list_offsets`](Self::list_offsets) with `read_committed` isolation when
    /// `committed_only`: `Latest` is then the last stable offset (the end of the committed
    /// data), not the high watermark.
    pub async fn list_offsets_isolated(
        &self,
        specs: &[(TopicPartition, OffsetSpec)],
        committed_only: bool,
    ) -> Result<BTreeMap<TopicPartition, i64>, Error> {
        let cluster = &self.cluster;
        let deadline = Instant::now() + cluster.request_timeout();
        let mut out = BTreeMap::new();
        let mut remaining: Vec<(TopicPartition, OffsetSpec)> = specs.to_vec();
        loop {
            let mut retry = Vec::new();
            let mut last_err = None;
            let mut by_leader: HashMap<i32, Vec<(TopicPartition, OffsetSpec)>> = HashMap::new();
            for (tp, spec) in remaining.drain(..) {
                match cluster.leader(&tp.topic, tp.partition).await {
                    Ok(l) => by_leader.entry(l).or_default().push((tp, spec)),
                    Err(e) if e.is_retriable() => {
                        last_err = Some(e);
                        retry.push((tp, spec));
                    }
                    Err(e) => return Err(e),
                }
            }
            let calls = by_leader.into_iter().map(|(leader, items)| async move {
                let r = list_offsets_on(cluster, leader, &items, committed_only).await;
                (items, r)
            });
            for (items, result) in futures::future::join_all(calls).await {
                match result {
                    Ok(per_partition) => {
                        for ((tp, spec), r) in items.into_iter().zip(per_partition) {
                            match r {
                                Ok(offset) => {
                                    out.insert(tp, offset);
                                }
                                Err(e) if e.is_retriable() => {
                                    if e.kafka_code().is_some_and(needs_metadata_refresh) {
                                        cluster.invalidate();
                                    }
                                    last_err = Some(e);
                                    retry.push((tp, spec));
                                }
                                Err(e) => return Err(e),
                            }
                        }
                    }
                    Err(e) if e.is_retriable() => {
                        cluster.invalidate();
                        last_err = Some(e);
                        retry.extend(items);
                    }
                    Err(e) => return Err(e),
                }
            }
            if retry.is_empty() {
                return Ok(out);
            }
            if Instant::now() + cluster.config.retry_backoff >= deadline {
                return Err(last_err.unwrap_or_else(|| Error::Timeout("ListOffsets".into())));
            }
            tokio::time::sleep(cluster.config.retry_backoff).await;
            remaining = retry;
        }
    }
}

/// One ListOffsets request to `leader`; results in the order of `items`.
async fn list_offsets_on(
    cluster: &Cluster,
    leader: i32,
    items: &[(TopicPartition, OffsetSpec)],
    committed_only: bool,
) -> Result<Vec<Result<i64, Error>>, Error> {
    let conn = cluster.broker_connection(leader, Purpose::Control).await?;
    let v = conn.version(ApiKey::ListOffsets)?;
    let mut by_topic: BTreeMap<&str, Vec<ListOffsetsPartition>> = BTreeMap::new();
    for (tp, spec) in items {
        let mut p = ListOffsetsPartition::default();
        p.partition_index = tp.partition;
        p.timestamp = spec.wire_timestamp();
        by_topic.entry(tp.topic.as_str()).or_default().push(p);
    }
    let mut req = ListOffsetsRequest::default();
    req.replica_id = BrokerId(-1);
    req.topics = by_topic
        .into_iter()
        .map(|(name, partitions)| {
            let mut t = ListOffsetsTopic::default();
            t.name = TopicName(StrBytes::from_string(name.to_owned()));
            t.partitions = partitions;
            t
        })
        .collect();
    if v >= 2 {
        req.isolation_level = i8::from(committed_only);
    }
    if v >= 10 {
        req.timeout_ms = i32::try_from(cluster.request_timeout().as_millis()).unwrap_or(i32::MAX);
    }
    let resp = conn.send(&req, v, cluster.request_timeout()).await?;
    let mut found: HashMap<(&str, i32), (i16, i64)> = HashMap::new();
    for t in &resp.topics {
        for p in &t.partitions {
            found.insert(
                (t.name.0.as_str(), p.partition_index),
                (p.error_code, p.offset),
            );
        }
    }
    Ok(items
        .iter()
        .map(
            |(tp, _)| match found.get(&(tp.topic.as_str(), tp.partition)) {
                Some((0, offset)) => Ok(*offset),
                Some((code, _)) => Err(Error::kafka(*code, format!("ListOffsets {tp}"))),
                None => Err(Error::Protocol(format!(
                    "ListOffsets response from {} lacks {tp}",
                    conn.broker()
                ))),
            },
        )
        .collect())
}
