//! The broker's state and every change to it: topics (with their partitions and logs) and the
//! group coordinator. API handlers are plain functions over [`BrokerState`], so they can be
//! unit-tested without sockets.
//!
//! - [`topics`]: the topic table and Kafka's naming rules.
//! - [`partition`]: one partition's log, leader fields and high-watermark notifier.
//! - [`create`]: CreateTopics validation (counts, replication, assignments, configs).

pub(crate) mod create;
pub(crate) mod partition;
pub(crate) mod topics;

use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};

use tokio::sync::watch;
use uuid::Uuid;

use crate::config::BrokerConfig;
use crate::group::{GroupConfig, GroupCoordinator};
pub(crate) use create::{NewTopic, TopicPlan};
pub(crate) use partition::{AppendError, Partition};
pub(crate) use topics::{KafkaError, Topic, TopicTable, validate_topic_name};

use kafka_protocol::ResponseError;

/// Locks a mutex, ignoring poisoning: state changes are single synchronous steps that leave
/// the state consistent, so a panic elsewhere must not take the whole broker down with it.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A broker node as advertised in Metadata and FindCoordinator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NodeInfo {
    pub(crate) node_id: i32,
    pub(crate) host: String,
    pub(crate) port: i32,
    pub(crate) rack: Option<String>,
}

/// Everything a request handler may read or change.
#[derive(Debug)]
pub(crate) struct BrokerState {
    pub(crate) node: NodeInfo,
    pub(crate) cluster_id: String,
    pub(crate) default_partitions: i32,
    pub(crate) auto_create_topics: bool,
    pub(crate) max_message_bytes: usize,
    pub(crate) fetch_max_bytes: usize,
    pub(crate) max_partitions_per_topic: i32,
    topics: RwLock<TopicTable>,
    /// Bumped on every topic creation or deletion; fetches waiting on a deleted topic wake.
    topics_changed: watch::Sender<u64>,
    pub(crate) groups: GroupCoordinator,
}

impl BrokerState {
    pub(crate) fn new(config: &BrokerConfig, node: NodeInfo) -> Self {
        BrokerState {
            node,
            cluster_id: config.cluster_id.clone(),
            default_partitions: config.default_partitions,
            auto_create_topics: config.auto_create_topics,
            max_message_bytes: config.max_message_bytes,
            fetch_max_bytes: config.fetch_max_bytes,
            max_partitions_per_topic: config.max_partitions_per_topic,
            topics: RwLock::new(TopicTable::default()),
            topics_changed: watch::Sender::new(0),
            groups: GroupCoordinator::new(GroupConfig {
                initial_rebalance_delay: config.group_initial_rebalance_delay,
                min_session_timeout: config.group_min_session_timeout,
                max_session_timeout: config.group_max_session_timeout,
            }),
        }
    }

    /// A state for unit tests: node 0 at 127.0.0.1:9092, no rebalance delay.
    #[cfg(test)]
    pub(crate) fn for_tests() -> Self {
        let config = BrokerConfig::for_tests();
        BrokerState::new(
            &config,
            NodeInfo {
                node_id: 0,
                host: "127.0.0.1".into(),
                port: 9092,
                rack: None,
            },
        )
    }

    fn read_topics(&self) -> std::sync::RwLockReadGuard<'_, TopicTable> {
        self.topics.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write_topics(&self) -> std::sync::RwLockWriteGuard<'_, TopicTable> {
        self.topics.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Every node of the cluster (one, this round).
    pub(crate) fn brokers(&self) -> Vec<NodeInfo> {
        vec![self.node.clone()]
    }

    /// The controller's node id.
    pub(crate) fn controller_id(&self) -> i32 {
        self.node.node_id
    }

    pub(crate) fn topic(&self, name: &str) -> Option<Arc<Topic>> {
        self.read_topics().get(name).cloned()
    }

    pub(crate) fn topic_by_id(&self, id: &Uuid) -> Option<Arc<Topic>> {
        self.read_topics().get_by_id(id).cloned()
    }

    pub(crate) fn all_topics(&self) -> Vec<Arc<Topic>> {
        self.read_topics().all()
    }

    /// Creates a topic after Kafka's CreateTopics checks; with `validate_only` it only checks.
    pub(crate) fn create_topic(
        &self,
        new: &NewTopic,
        validate_only: bool,
    ) -> Result<(TopicPlan, Option<Arc<Topic>>), KafkaError> {
        let mut table = self.write_topics();
        table.check_creatable(&new.name)?;
        let plan = create::plan(new, self)?;
        if validate_only {
            return Ok((plan, None));
        }
        let topic = table.insert(
            &new.name,
            plan.num_partitions,
            self.node.node_id,
            plan.configs.clone(),
        );
        drop(table);
        self.topics_changed.send_modify(|n| *n += 1);
        tracing::info!(topic = %new.name, partitions = plan.num_partitions, "created topic");
        Ok((plan, Some(topic)))
    }

    /// Returns the topic, creating it with `default_partitions` when auto-creation is on.
    pub(crate) fn get_or_auto_create(&self, name: &str) -> Result<Arc<Topic>, KafkaError> {
        if let Some(t) = self.topic(name) {
            return Ok(t);
        }
        validate_topic_name(name)?;
        if !self.auto_create_topics {
            return Err(KafkaError::new(
                ResponseError::UnknownTopicOrPartition,
                "unknown topic",
            ));
        }
        let new = NewTopic::with_defaults(name);
        match self.create_topic(&new, false) {
            Ok((_, Some(topic))) => Ok(topic),
            // Lost a race with another creator: use theirs.
            Err(e) if e.error == ResponseError::TopicAlreadyExists => self.topic(name).ok_or(
                KafkaError::new(ResponseError::UnknownTopicOrPartition, "topic vanished"),
            ),
            Err(e) => Err(e),
            Ok((_, None)) => Err(KafkaError::new(
                ResponseError::UnknownServerError,
                "topic not created",
            )),
        }
    }

    /// Deletes a topic and the committed offsets groups hold for it.
    pub(crate) fn delete_topic(&self, name: &str) -> Result<Arc<Topic>, KafkaError> {
        let removed = self.write_topics().remove(name);
        let topic = removed.ok_or_else(|| {
            KafkaError::new(
                ResponseError::UnknownTopicOrPartition,
                "This server does not host this topic-partition.",
            )
        })?;
        self.groups.remove_topic(name);
        self.topics_changed.send_modify(|n| *n += 1);
        tracing::info!(topic = %name, "deleted topic");
        Ok(topic)
    }

    pub(crate) fn subscribe_topics(&self) -> watch::Receiver<u64> {
        self.topics_changed.subscribe()
    }
}
