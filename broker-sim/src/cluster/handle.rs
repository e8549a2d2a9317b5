//! [`ClusterHandle`]: addresses, inspection, the fault-injection control API, and shutdown.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use kafka_protocol::messages::ApiKey;
use tokio::sync::{Mutex, watch};
use tokio::task::JoinHandle;

use super::node::NodeRuntime;
use super::reachable;
use crate::error::BrokerError;
use crate::fault::{DropConnection, InjectError};
use crate::group::GroupSummary;
use crate::server::Shared;
use crate::state::{KafkaError, LeaderMove, NewTopic};

/// A node's address and whether it is serving.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeStatus {
    /// The node id clients see in Metadata.
    pub node_id: i32,
    /// The bound address (kept while the node is down, and bound again when it comes back).
    pub addr: SocketAddr,
    /// False while the node is down (its port refuses connections).
    pub up: bool,
}

/// A running broker or cluster. Dropping it signals shutdown without waiting; prefer
/// [`ClusterHandle::shutdown`].
///
/// Besides addresses and inspection helpers it carries the fault-injection control API:
///
/// ```no_run
/// # async fn demo() -> Result<(), kt_broker::BrokerError> {
/// use std::time::Duration;
/// use kt_broker::{ApiKey, Cluster, ClusterConfig, DropConnection, DropPoint, InjectError, ResponseError};
///
/// let cluster = Cluster::start(ClusterConfig::for_tests(3)).await?;
/// cluster.create_topic("t", 3)?;
/// // the next two Produce requests for t-0 fail with a retriable error
/// cluster.inject_error(InjectError::new(ApiKey::Produce, ResponseError::NotLeaderOrFollower)
///     .times(2).partition("t", 0))?;
/// // every Fetch waits 200 ms
/// cluster.set_latency(ApiKey::Fetch, Some(Duration::from_millis(200)));
/// // the next Produce takes effect but its response is lost with the connection
/// cluster.drop_connection_on(DropConnection::new(ApiKey::Produce, DropPoint::AfterHandling));
/// // t-1 moves to node 2 (leader epoch bumps); node 0 goes down and comes back
/// cluster.move_leader("t", 1, 2)?;
/// cluster.stop_node(0).await?;
/// cluster.start_node(0).await?;
/// cluster.shutdown().await;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct ClusterHandle {
    nodes: Mutex<Vec<NodeRuntime>>,
    /// Node addresses, fixed at start (a restarted node binds the same one).
    addrs: Vec<(i32, SocketAddr)>,
    shared: Arc<Shared>,
    shutdown: watch::Sender<bool>,
    timers: Option<JoinHandle<()>>,
}

/// The handle of a single broker: a cluster of one.
pub type BrokerHandle = ClusterHandle;

fn topic_error(name: &str, e: KafkaError) -> BrokerError {
    BrokerError::Topic {
        name: name.to_owned(),
        code: e.code(),
        message: e.message,
    }
}

impl ClusterHandle {
    pub(super) fn new(
        nodes: Vec<NodeRuntime>,
        shared: Arc<Shared>,
        shutdown: watch::Sender<bool>,
        timers: JoinHandle<()>,
    ) -> Self {
        let addrs = nodes.iter().map(|n| (n.node_id, n.addr)).collect();
        ClusterHandle {
            nodes: Mutex::new(nodes),
            addrs,
            shared,
            shutdown,
            timers: Some(timers),
        }
    }

    /// The first node's bound address (the real port when the config asked for port 0; the
    /// IP as bound, so 0.0.0.0 stays 0.0.0.0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addrs[0].1
    }

    /// `bootstrap.servers` for clients: every node's `IP:PORT`, comma-separated, with an
    /// unspecified IP (0.0.0.0) replaced by 127.0.0.1.
    pub fn bootstrap(&self) -> String {
        self.addrs
            .iter()
            .map(|(_, a)| reachable(*a).to_string())
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Every node with its address and whether it is up.
    pub fn nodes(&self) -> Vec<NodeStatus> {
        self.addrs
            .iter()
            .map(|(id, addr)| NodeStatus {
                node_id: *id,
                addr: reachable(*addr),
                up: self.shared.state.nodes.is_up(*id),
            })
            .collect()
    }

    /// The address clients reach node `node_id` at.
    pub fn node_addr(&self, node_id: i32) -> Option<SocketAddr> {
        self.addrs
            .iter()
            .find(|(id, _)| *id == node_id)
            .map(|(_, a)| reachable(*a))
    }

    /// Stops every node (closing connections, interrupting long polls and pending joins),
    /// stops the group timers, and waits for all of it.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        for node in self.nodes.get_mut().iter_mut() {
            node.stop().await;
        }
        if let Some(timers) = self.timers.take() {
            let _ = timers.await;
        }
    }

    /// Runs retention and compaction over every partition now (they also run every
    /// `log_cleanup_interval`), for tests and tools that cannot wait for the timer.
    pub fn run_log_cleaner(&self) {
        self.shared.state.clean_logs(crate::state::now_ms());
    }

    /// Creates a topic as CreateTopics would (replication factor 1, leaders round-robin).
    pub fn create_topic(&self, name: &str, partitions: i32) -> Result<(), BrokerError> {
        let new = NewTopic {
            num_partitions: partitions,
            ..NewTopic::with_defaults(name)
        };
        self.shared
            .state
            .create_topic(&new, false)
            .map(|_| ())
            .map_err(|e| topic_error(name, e))
    }

    /// (log start offset, high watermark) of a partition, if it exists.
    pub fn partition_offsets(&self, topic: &str, partition: i32) -> Option<(i64, i64)> {
        self.shared
            .state
            .topic(topic)?
            .partition(partition)
            .map(|p| p.offsets())
    }

    /// (leader node id, leader epoch) of a partition, if it exists; the leader is -1 while no
    /// node is up.
    pub fn partition_leader(&self, topic: &str, partition: i32) -> Option<(i32, i32)> {
        self.shared
            .state
            .topic(topic)?
            .partition(partition)
            .map(|p| p.leader())
    }

    /// Moves a partition's log start offset forward to `offset` as DeleteRecords would (never
    /// back, never past the high watermark); storage drops whole segments below it. Returns
    /// the log start offset now in force.
    pub fn delete_records(
        &self,
        topic: &str,
        partition: i32,
        offset: i64,
    ) -> Result<i64, BrokerError> {
        let p = self
            .shared
            .state
            .topic(topic)
            .and_then(|t| t.partition(partition).cloned())
            .ok_or_else(|| {
                topic_error(
                    topic,
                    KafkaError::new(
                        kafka_protocol::ResponseError::UnknownTopicOrPartition,
                        "unknown topic or partition",
                    ),
                )
            })?;
        p.advance_log_start(offset)
            .map_err(|e| BrokerError::Storage(e.to_string()))
    }

    /// The storage units of a partition's log, oldest first, as (base offset, next offset,
    /// bytes): segment files with a data directory, batches in memory.
    pub fn log_segments(&self, topic: &str, partition: i32) -> Option<Vec<(i64, i64, u64)>> {
        let t = self.shared.state.topic(topic)?;
        let p = t.partition(partition)?;
        Some(
            p.segments()
                .into_iter()
                .map(|s| (s.base_offset, s.next_offset, s.size_bytes))
                .collect(),
        )
    }

    /// The data directory in use (None: memory only).
    pub fn data_dir(&self) -> Option<std::path::PathBuf> {
        self.shared.state.storage.location().map(|p| p.to_owned())
    }

    /// The node coordinating `group_id` (None while no node is up to do it).
    pub fn group_coordinator(&self, group_id: &str) -> Option<i32> {
        self.shared
            .state
            .nodes
            .coordinator_for(group_id)
            .map(|n| n.node_id)
    }

    /// A snapshot of a consumer group, if the coordinator knows it.
    pub fn describe_group(&self, group_id: &str) -> Option<GroupSummary> {
        self.shared.state.groups.describe(group_id)
    }

    // ---- fault injection ----

    /// Arms an injected error (see [`InjectError`]). A topic or partition filter on an API
    /// that is not partition-level (Produce, Fetch, ListOffsets) is refused.
    pub fn inject_error(&self, rule: InjectError) -> Result<(), BrokerError> {
        self.shared.state.faults.inject_error(rule)
    }

    /// Requests still to be failed by armed [`InjectError`] rules.
    pub fn pending_injected_errors(&self) -> u32 {
        self.shared.state.faults.pending_errors()
    }

    /// Every request of `api_key` waits `latency` before it is handled; None removes it.
    /// The wait is tokio time, so tests with a paused clock control it.
    pub fn set_latency(&self, api_key: ApiKey, latency: Option<Duration>) {
        self.shared.state.faults.set_latency(api_key, latency);
    }

    /// Arms a connection drop on the next requests of an API (see [`DropConnection`]).
    pub fn drop_connection_on(&self, rule: DropConnection) {
        self.shared.state.faults.drop_connection_on(rule);
    }

    /// Closes every open connection now (of one node, or of all with None); listeners keep
    /// accepting, so clients reconnect.
    pub async fn drop_connections(&self, node_id: Option<i32>) {
        for n in self.nodes.lock().await.iter() {
            if node_id.is_none_or(|id| id == n.node_id) {
                tracing::debug!(target: "kt_broker::fault", node = n.node_id, "fault: dropping every connection");
                n.drop_connections();
            }
        }
    }

    /// Disarms every injected error, latency and connection drop.
    pub fn clear_faults(&self) {
        self.shared.state.faults.clear();
    }

    /// Moves a partition's leadership to node `to` (which must be up); the leader epoch bumps.
    /// Returns the new epoch. Requests for it to the old leader get NOT_LEADER_OR_FOLLOWER.
    pub fn move_leader(&self, topic: &str, partition: i32, to: i32) -> Result<i32, BrokerError> {
        let m = self
            .shared
            .state
            .move_leader(topic, partition, to)
            .map_err(|e| topic_error(topic, e))?;
        log_move(&m, "moved by the fault API");
        Ok(m.epoch)
    }

    /// Takes node `node_id` down: its listener closes (the port refuses connections), its
    /// connections close, and every partition and group it led moves to a live node (epochs
    /// bump). Its data stays: the log is shared. Errors when the node is unknown or down.
    pub async fn stop_node(&self, node_id: i32) -> Result<(), BrokerError> {
        let mut nodes = self.nodes.lock().await;
        let node = find(&mut nodes, node_id)?;
        if !node.stop().await {
            return Err(BrokerError::Config(format!(
                "node {node_id} is already down"
            )));
        }
        tracing::info!(target: "kt_broker::fault", node = node_id, "fault: node down");
        for m in self
            .shared
            .state
            .set_node_up(node_id, false)
            .unwrap_or_default()
        {
            log_move(&m, "its leader went down");
        }
        Ok(())
    }

    /// Brings node `node_id` back on its address. Partitions without a live leader elect it;
    /// others stay where they are (Kafka would move preferred leaders back later). Errors when
    /// the node is unknown or up, or its port cannot be bound again.
    pub async fn start_node(&self, node_id: i32) -> Result<(), BrokerError> {
        let mut nodes = self.nodes.lock().await;
        let node = find(&mut nodes, node_id)?;
        if node.is_up() {
            return Err(BrokerError::Config(format!("node {node_id} is already up")));
        }
        node.restart(&self.shared).await?;
        tracing::info!(target: "kt_broker::fault", node = node_id, addr = %node.addr, "fault: node up");
        for m in self
            .shared
            .state
            .set_node_up(node_id, true)
            .unwrap_or_default()
        {
            log_move(&m, "it had no live leader");
        }
        Ok(())
    }
}

fn find(nodes: &mut [NodeRuntime], node_id: i32) -> Result<&mut NodeRuntime, BrokerError> {
    nodes
        .iter_mut()
        .find(|n| n.node_id == node_id)
        .ok_or_else(|| BrokerError::Config(format!("no node {node_id} in this cluster")))
}

fn log_move(m: &LeaderMove, why: &str) {
    tracing::info!(target: "kt_broker::fault",
        "fault: leader of {}-{} moved from node {} to node {} (epoch {}): {why}",
        m.topic, m.partition, m.from, m.to, m.epoch);
}

impl Drop for ClusterHandle {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
        for node in self.nodes.get_mut().iter() {
            node.signal_stop();
        }
    }
}
