//! The broker's state and every change to it: topics (with their partitions and logs) and the
//! group coordinator. API handlers are plain functions over [`BrokerState`], so they can be
//! unit-tested without sockets.
//!
//! - [`topics`]: the topic table and Kafka's naming rules.
//! - [`partition`]: one partition's log, leader fields and high-watermark notifier.
//! - [`create`]: CreateTopics validation (counts, replication, assignments, configs).
//! - [`nodes`]: the cluster's nodes, placement, coordinators, and leadership moves.
//! - [`configs`]: topic config names, types, defaults, validation and the enforced settings.

pub(crate) mod configs;
pub(crate) mod create;
pub(crate) mod nodes;
pub(crate) mod partition;
pub(crate) mod topics;

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};

use tokio::sync::watch;
use uuid::Uuid;

use crate::acl::Acl;
use crate::config::BrokerConfig;
use crate::fault::Faults;
use crate::group::{GroupConfig, GroupCoordinator, OffsetCommitEntry};
use crate::storage::{
    MemoryStorage, OffsetRecord, PartitionMeta, Storage, StorageError, TopicMeta,
};
pub(crate) use create::{NewTopic, TopicPlan};
pub(crate) use nodes::Nodes;
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

/// A partition leader that moved: (topic, partition, from, to, new leader epoch).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LeaderMove {
    pub(crate) topic: String,
    pub(crate) partition: i32,
    pub(crate) from: i32,
    pub(crate) to: i32,
    pub(crate) epoch: i32,
}

/// Everything a request handler may read or change. One state serves every node of a cluster:
/// handlers learn which node received the request from their `RequestContext`.
#[derive(Debug)]
pub(crate) struct BrokerState {
    pub(crate) nodes: Nodes,
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
    /// Armed fault-injection rules (`fault/`).
    pub(crate) faults: Faults,
    /// Where topics, logs and committed offsets are kept (`storage/`).
    pub(crate) storage: Box<dyn Storage>,
    /// Access control (`acl.rs`); None: everything is allowed.
    pub(crate) acl: Option<Acl>,
    /// Fetch sessions (KIP-227).
    pub(crate) fetch_sessions: crate::api::fetch::session::FetchSessions,
    /// SASL users; None: no authentication.
    pub(crate) users: Option<Arc<crate::sasl::Users>>,
    /// Broker settings as DescribeConfigs lists them.
    pub(crate) broker_configs: Vec<configs::BrokerConfigEntry>,
    /// The next id InitProducerId hands out.
    next_producer_id: AtomicI64,
}

/// A storage failure as the Kafka error a client gets.
fn storage_error(e: &StorageError) -> KafkaError {
    tracing::error!("{e}");
    KafkaError::new(ResponseError::KafkaStorageError, e.to_string())
}

impl BrokerState {
    /// A state kept in memory only.
    pub(crate) fn new(config: &BrokerConfig, nodes: Vec<NodeInfo>) -> Self {
        BrokerState::with_storage(config, nodes, Box::new(MemoryStorage))
    }

    /// A state over `storage`, with everything it holds loaded: topics (leader epochs resume
    /// above the last one stored) and committed offsets.
    pub(crate) fn open(
        config: &BrokerConfig,
        nodes: Vec<NodeInfo>,
        storage: Box<dyn Storage>,
    ) -> Result<Self, StorageError> {
        let state = BrokerState::with_storage(config, nodes, storage);
        let (topics, offsets) = state.storage.load()?;
        let mut table = state.write_topics();
        for loaded in topics {
            let meta = &loaded.meta;
            let partitions = meta
                .partitions
                .iter()
                .zip(loaded.logs)
                .zip(0..)
                .map(|((pm, log), i)| {
                    let (leader, replicas) = state.recover_placement(pm, i);
                    let epoch = pm.leader_epoch.max(log.max_leader_epoch()) + 1;
                    Arc::new(Partition::restored(i, leader, replicas, log, epoch))
                })
                .collect();
            let topic = table.insert(&meta.name, meta.id, partitions, meta.configs.clone());
            state.storage.save_topic(&topic.meta())?;
            tracing::info!(topic = %meta.name, partitions = topic.partitions.len(), "recovered topic");
        }
        drop(table);
        for record in offsets {
            if let OffsetRecord::Commit { group, entries } = record {
                state.groups.restore_offsets(&group, entries);
            }
        }
        Ok(state)
    }

    /// A recovered partition's (leader, replicas) on this cluster, which may have fewer nodes
    /// than the one that wrote it.
    fn recover_placement(&self, pm: &PartitionMeta, index: i32) -> (i32, Vec<i32>) {
        let mut replicas: Vec<i32> = pm
            .replicas
            .iter()
            .copied()
            .filter(|r| self.nodes.get(*r).is_some())
            .collect();
        if replicas.is_empty() {
            replicas = self.nodes.place(index + 1, 1).pop().unwrap_or_default();
        }
        let leader = if self.nodes.get(pm.leader).is_some() {
            pm.leader
        } else {
            replicas.first().copied().unwrap_or(-1)
        };
        (leader, replicas)
    }

    fn with_storage(
        config: &BrokerConfig,
        nodes: Vec<NodeInfo>,
        storage: Box<dyn Storage>,
    ) -> Self {
        BrokerState {
            nodes: Nodes::new(nodes),
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
            faults: Faults::default(),
            storage,
            acl: None,
            broker_configs: configs::broker_configs(config),
            users: config.users.clone(),
            fetch_sessions: Default::default(),
            next_producer_id: AtomicI64::new(first_producer_id()),
        }
    }

    /// A state for unit tests: node 0 at 127.0.0.1:9092, no rebalance delay.
    #[cfg(test)]
    pub(crate) fn for_tests() -> Self {
        let config = BrokerConfig::for_tests();
        BrokerState::new(
            &config,
            vec![NodeInfo {
                node_id: 0,
                host: "127.0.0.1".into(),
                port: 9092,
                rack: None,
            }],
        )
    }

    /// A state of `n` nodes (ids 0.., ports 9092..) for unit tests.
    #[cfg(test)]
    pub(crate) fn for_tests_cluster(n: i32) -> Self {
        let config = BrokerConfig::for_tests();
        let nodes = (0..n)
            .map(|id| NodeInfo {
                node_id: id,
                host: "127.0.0.1".into(),
                port: 9092 + id,
                rack: None,
            })
            .collect();
        BrokerState::new(&config, nodes)
    }

    fn read_topics(&self) -> std::sync::RwLockReadGuard<'_, TopicTable> {
        self.topics.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write_topics(&self) -> std::sync::RwLockWriteGuard<'_, TopicTable> {
        self.topics.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Every live node of the cluster.
    pub(crate) fn brokers(&self) -> Vec<NodeInfo> {
        self.nodes.live()
    }

    /// The controller's node id (the lowest live node id).
    pub(crate) fn controller_id(&self) -> i32 {
        self.nodes.controller_id()
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
        let meta = TopicMeta {
            name: new.name.clone(),
            id: table.new_id(),
            partitions: plan
                .replicas
                .iter()
                .map(|r| PartitionMeta {
                    replicas: r.clone(),
                    leader: r.first().copied().unwrap_or(-1),
                    leader_epoch: 0,
                })
                .collect(),
            configs: plan.configs.clone(),
        };
        let partitions = self.create_partitions(&meta)?;
        let topic = table.insert(&new.name, meta.id, partitions, plan.configs.clone());
        drop(table);
        self.topics_changed.send_modify(|n| *n += 1);
        tracing::info!(topic = %new.name, partitions = plan.num_partitions, "created topic");
        Ok((plan, Some(topic)))
    }

    /// The partitions of a new topic with their (empty) logs; the topic's metadata is
    /// persisted last, so a crash in between leaves no half-made topic (see `storage::disk`).
    fn create_partitions(&self, meta: &TopicMeta) -> Result<Vec<Arc<Partition>>, KafkaError> {
        let built: Result<Vec<Arc<Partition>>, StorageError> = meta
            .partitions
            .iter()
            .zip(0..)
            .map(|(pm, i)| {
                let log = self.storage.create_log(meta, i)?;
                Ok(Arc::new(Partition::new(i, pm.replicas.clone(), log)))
            })
            .collect();
        let saved = built.and_then(|p| self.storage.save_topic(meta).map(|()| p));
        saved.map_err(|e| {
            if let Err(cleanup) = self.storage.delete_topic(&meta.name) {
                tracing::warn!(
                    "cleaning up topic {} after a failed creation: {cleanup}",
                    meta.name
                );
            }
            storage_error(&e)
        })
    }

    /// Persists the placement of the topics named (after leader moves); failures are logged:
    /// the move already happened and a restart re-elects anyway.
    fn persist_placement(&self, topics: impl IntoIterator<Item = String>) {
        let mut names: Vec<String> = topics.into_iter().collect();
        names.sort();
        names.dedup();
        for name in names {
            if let Some(t) = self.topic(&name)
                && let Err(e) = self.storage.save_topic(&t.meta())
            {
                tracing::error!("{e}");
            }
        }
    }

    /// OffsetCommit: the coordinator's checks and commit, then the committed entries made
    /// durable. If storage fails, those entries answer KAFKA_STORAGE_ERROR (the client
    /// retries); they stay visible to OffsetFetch until a restart.
    pub(crate) fn commit_offsets(
        &self,
        group_id: &str,
        member_id: &str,
        group_instance_id: Option<&str>,
        generation_id: i32,
        entries: Vec<OffsetCommitEntry>,
    ) -> Vec<Option<ResponseError>> {
        let kept = entries.clone();
        let mut results = self.groups.commit(
            group_id,
            member_id,
            group_instance_id,
            generation_id,
            entries,
        );
        let committed: Vec<_> = kept
            .into_iter()
            .zip(&results)
            .filter(|(_, r)| r.is_none())
            .map(|(e, _)| {
                (
                    e.topic,
                    e.partition,
                    crate::group::CommittedOffset {
                        offset: e.offset,
                        leader_epoch: e.leader_epoch,
                        metadata: e.metadata.unwrap_or_default(),
                    },
                )
            })
            .collect();
        if committed.is_empty() {
            return results;
        }
        let record = OffsetRecord::Commit {
            group: group_id.to_owned(),
            entries: committed,
        };
        if let Err(e) = self.storage.append_offsets(&record) {
            storage_error(&e);
            for r in results.iter_mut().filter(|r| r.is_none()) {
                *r = Some(ResponseError::KafkaStorageError);
            }
        }
        results
    }

    /// Records a committed-offsets change made outside OffsetCommit (group or offset
    /// deletion) durably; Err when storage failed. For the API modules that delete groups'
    /// offsets (DeleteGroups, OffsetDelete).
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn persist_offsets(&self, record: &OffsetRecord) -> Result<(), KafkaError> {
        self.storage
            .append_offsets(record)
            .map_err(|e| storage_error(&e))
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
        let record = OffsetRecord::DeleteTopic {
            topic: name.to_owned(),
        };
        if let Err(e) = self
            .storage
            .delete_topic(name)
            .and_then(|()| self.storage.append_offsets(&record))
        {
            // The topic is gone from this broker; its files may come back after a restart.
            tracing::error!("deleting topic {name} from storage: {e}");
        }
        tracing::info!(topic = %name, "deleted topic");
        Ok(topic)
    }

    /// CreatePartitions: grows `name` to `count` partitions after Kafka's checks. New
    /// partitions are placed round-robin over live nodes with the topic's replication factor
    /// (or as `assignments` say), their logs created through storage, the topic's metadata
    /// saved; then the topic table swaps in the longer partition list.
    pub(crate) fn add_partitions(
        &self,
        name: &str,
        count: i32,
        assignments: Option<&[Vec<i32>]>,
        validate_only: bool,
    ) -> Result<(), KafkaError> {
        let mut table = self.write_topics();
        let topic = table.get(name).cloned().ok_or_else(|| {
            KafkaError::new(
                ResponseError::UnknownTopicOrPartition,
                format!("The topic '{name}' does not exist."),
            )
        })?;
        let current = topic.partitions.len() as i32;
        let invalid = |m: String| Err(KafkaError::new(ResponseError::InvalidPartitions, m));
        if count < current {
            return invalid(format!(
                "Topic currently has {current} partitions, which is higher than the requested {count}."
            ));
        }
        if count == current {
            return invalid(format!("Topic already has {current} partitions."));
        }
        if count > self.max_partitions_per_topic {
            return invalid(format!(
                "Number of partitions {count} exceeds this broker's limit of {}.",
                self.max_partitions_per_topic
            ));
        }
        let rf = topic
            .partitions
            .first()
            .map_or(1, |p| p.replicas().len().max(1));
        let added = (count - current) as usize;
        let replicas: Vec<Vec<i32>> = match assignments {
            Some(a) => {
                let bad =
                    |m: String| Err(KafkaError::new(ResponseError::InvalidReplicaAssignment, m));
                if a.len() != added {
                    return bad(format!(
                        "Increasing the number of partitions by {added} but {} assignments provided.",
                        a.len()
                    ));
                }
                let live: Vec<i32> = self.nodes.live().iter().map(|b| b.node_id).collect();
                for ids in a {
                    let repeats = ids.iter().enumerate().any(|(i, b)| ids[..i].contains(b));
                    if ids.len() != rf || repeats || ids.iter().any(|b| !live.contains(b)) {
                        return bad(format!(
                            "Replica assignment {ids:?} must name {rf} distinct live brokers of {live:?}."
                        ));
                    }
                }
                a.to_vec()
            }
            None => self.nodes.place(count, rf)[current as usize..].to_vec(),
        };
        if validate_only {
            return Ok(());
        }
        let mut meta = topic.meta();
        meta.partitions
            .extend(replicas.iter().map(|r| crate::storage::PartitionMeta {
                replicas: r.clone(),
                leader: r.first().copied().unwrap_or(-1),
                leader_epoch: 0,
            }));
        let mut partitions = topic.partitions.clone();
        for (i, r) in (current..count).zip(&replicas) {
            let log = self
                .storage
                .create_log(&meta, i)
                .map_err(|e| storage_error(&e))?;
            partitions.push(Arc::new(Partition::new(i, r.clone(), log)));
        }
        self.storage
            .save_topic(&meta)
            .map_err(|e| storage_error(&e))?;
        table.replace_partitions(name, partitions);
        drop(table);
        self.topics_changed.send_modify(|n| *n += 1);
        tracing::info!(topic = %name, partitions = count, "partitions added");
        Ok(())
    }

    /// DeleteGroups for one group, made durable (a storage failure is KAFKA_STORAGE_ERROR;
    /// the group is gone from memory already and may come back after a restart).
    pub(crate) fn delete_group(&self, group_id: &str) -> Option<ResponseError> {
        if let Some(e) = self.groups.delete(group_id) {
            return Some(e);
        }
        let record = OffsetRecord::DeleteGroup {
            group: group_id.to_owned(),
        };
        self.persist_offsets(&record).err().map(|e| e.error)
    }

    /// OffsetDelete, made durable: one result per (topic, partition) or the group's error.
    pub(crate) fn delete_group_offsets(
        &self,
        group_id: &str,
        partitions: &[(String, i32)],
    ) -> Result<Vec<Option<ResponseError>>, ResponseError> {
        let mut results = self.groups.delete_offsets(group_id, partitions)?;
        let mut by_topic: std::collections::BTreeMap<&str, Vec<i32>> = Default::default();
        for ((topic, p), r) in partitions.iter().zip(&results) {
            if r.is_none() {
                by_topic.entry(topic.as_str()).or_default().push(*p);
            }
        }
        for (topic, ps) in by_topic {
            let record = OffsetRecord::DeletePartitions {
                group: group_id.to_owned(),
                topic: topic.to_owned(),
                partitions: ps,
            };
            if let Err(e) = self.persist_offsets(&record) {
                for ((t, _), r) in partitions.iter().zip(results.iter_mut()) {
                    if t == topic && r.is_none() {
                        *r = Some(e.error);
                    }
                }
            }
        }
        Ok(results)
    }

    /// Persists a topic's metadata after its configs changed (AlterConfigs).
    pub(crate) fn persist_topic(&self, topic: &Topic) -> Result<(), KafkaError> {
        self.storage
            .save_topic(&topic.meta())
            .map_err(|e| storage_error(&e))
    }

    /// One run of the log cleaner over every partition (retention, compaction), at wall-clock
    /// `now_ms`.
    pub(crate) fn clean_logs(&self, now_ms: i64) {
        for topic in self.all_topics() {
            let settings = topic.configs().cleanup();
            for p in &topic.partitions {
                let (moved, rewritten) = p.clean(&settings, now_ms);
                if let Some(start) = moved {
                    tracing::info!(topic = %topic.name, partition = p.index, log_start_offset = start, "retention deleted old batches");
                }
                if rewritten > 0 {
                    tracing::info!(topic = %topic.name, partition = p.index, batches = rewritten, "compaction rewrote batches");
                }
            }
        }
    }

    /// The cleaner task: runs [`BrokerState::clean_logs`] every `interval` until `shutdown`.
    pub(crate) async fn run_cleaner(
        &self,
        interval: std::time::Duration,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticks.tick().await;
        loop {
            tokio::select! {
                _ = ticks.tick() => self.clean_logs(now_ms()),
                r = shutdown.changed() => if r.is_err() || *shutdown.borrow() { return },
            }
        }
    }

    /// A producer id never handed out before by this process.
    pub(crate) fn new_producer_id(&self) -> i64 {
        self.next_producer_id.fetch_add(1, Ordering::Relaxed)
    }

    pub(crate) fn subscribe_topics(&self) -> watch::Receiver<u64> {
        self.topics_changed.subscribe()
    }

    /// Takes a node down (`up == false`) or brings it back. Down: every partition it leads
    /// gets a new leader (a live replica first, else any live node; the log is shared so no
    /// record is lost) or none when no node is up; up: leaderless partitions elect it. Returns
    /// the moves, or None when the node is unknown or already in that state.
    pub(crate) fn set_node_up(&self, node_id: i32, up: bool) -> Option<Vec<LeaderMove>> {
        if !self.nodes.set_up(node_id, up) {
            return None;
        }
        let mut moves = Vec::new();
        for topic in self.all_topics() {
            for p in &topic.partitions {
                let (leader, _) = p.leader();
                let to = if !up && leader == node_id {
                    self.nodes.elect(&p.replicas(), leader).unwrap_or(-1)
                } else if up && leader == -1 {
                    node_id
                } else {
                    continue;
                };
                let epoch = p.set_leader(to);
                moves.push(LeaderMove {
                    topic: topic.name.clone(),
                    partition: p.index,
                    from: leader,
                    to,
                    epoch,
                });
            }
        }
        // Fetches long-polling on a node that lost leadership must answer now.
        self.topics_changed.send_modify(|n| *n += 1);
        self.persist_placement(moves.iter().map(|m| m.topic.clone()));
        Some(moves)
    }

    /// Moves a partition's leadership to `to` (a live node), bumping the leader epoch.
    pub(crate) fn move_leader(
        &self,
        topic: &str,
        partition: i32,
        to: i32,
    ) -> Result<LeaderMove, KafkaError> {
        let t = self.topic(topic).ok_or_else(|| {
            KafkaError::new(ResponseError::UnknownTopicOrPartition, "unknown topic")
        })?;
        let p = t.partition(partition).ok_or_else(|| {
            KafkaError::new(ResponseError::UnknownTopicOrPartition, "unknown partition")
        })?;
        if !self.nodes.is_up(to) {
            return Err(KafkaError::new(
                ResponseError::BrokerNotAvailable,
                format!("node {to} is not a live node of this cluster"),
            ));
        }
        let (from, _) = p.leader();
        let epoch = p.set_leader(to);
        self.topics_changed.send_modify(|n| *n += 1);
        self.persist_placement([topic.to_owned()]);
        Ok(LeaderMove {
            topic: topic.to_owned(),
            partition,
            from,
            to,
            epoch,
        })
    }
}

/// Producer ids start at the wall clock in milliseconds: a restarted broker (whose logs may
/// persist) does not hand out an id it gave before, short of a clock going backwards.
fn first_producer_id() -> i64 {
    now_ms().max(0)
}

/// Wall-clock milliseconds since the epoch (record timestamps are wall-clock).
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
