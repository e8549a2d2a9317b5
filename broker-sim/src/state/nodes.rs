//! The nodes of the cluster: who is up, where partitions and group coordinators are placed, and
//! how leadership moves when a node goes down or comes back.
//!
//! All nodes of a cluster live in one process and share one logical log per partition, so
//! "replication" is bookkeeping: a partition's replica list says which nodes Metadata reports as
//! holding it, its leader is the node that accepts produce and fetch requests for it, and the
//! leader epoch bumps on every move, exactly the signals a client sees from Kafka. Nothing is
//! copied between nodes and no acknowledged record can be lost by a move.
//!
//! Placement is deterministic so tests can predict it: partition `p` of a topic with
//! replication factor `rf` gets replicas `live[(p + i) % n]` for `i in 0..rf`, the first being
//! the leader (Kafka starts at a random index). Group coordinators follow Kafka: the group
//! id's Java `hashCode`, made non-negative, modulo 50 (`offsets.topic.num.partitions`) picks a
//! partition of the (virtual) offsets topic, and that partition's leader coordinates the group.

use std::sync::{PoisonError, RwLock};

use super::NodeInfo;

/// Kafka's `offsets.topic.num.partitions` default.
pub(crate) const OFFSETS_PARTITIONS: usize = 50;

/// A node and whether it is serving.
#[derive(Debug, Clone)]
struct Node {
    info: NodeInfo,
    up: bool,
}

#[derive(Debug)]
struct Inner {
    nodes: Vec<Node>,
    /// Leader of each partition of the virtual `__consumer_offsets` topic (-1: none alive).
    coordinators: Vec<i32>,
}

/// The cluster's membership. Reads vastly outnumber changes (a change is a test's fault
/// injection), hence the `RwLock`.
#[derive(Debug)]
pub(crate) struct Nodes {
    inner: RwLock<Inner>,
}

/// Kafka's `Utils.abs(groupId.hashCode()) % partitions`: Java's `String.hashCode` over UTF-16
/// code units, with `Integer.MIN_VALUE` mapped to 0.
pub(crate) fn offsets_partition_for(group_id: &str) -> usize {
    let mut h: i32 = 0;
    for unit in group_id.encode_utf16() {
        h = h.wrapping_mul(31).wrapping_add(i32::from(unit));
    }
    let abs = if h == i32::MIN { 0 } else { h.unsigned_abs() };
    abs as usize % OFFSETS_PARTITIONS
}

impl Nodes {
    /// Every node starts up; offsets partitions are spread round-robin like any topic's.
    pub(crate) fn new(nodes: Vec<NodeInfo>) -> Self {
        let coordinators = (0..OFFSETS_PARTITIONS)
            .map(|p| {
                if nodes.is_empty() {
                    -1
                } else {
                    nodes[p % nodes.len()].node_id
                }
            })
            .collect();
        Nodes {
            inner: RwLock::new(Inner {
                nodes: nodes
                    .into_iter()
                    .map(|info| Node { info, up: true })
                    .collect(),
                coordinators,
            }),
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Every node that is up, in node order (what Metadata lists).
    pub(crate) fn live(&self) -> Vec<NodeInfo> {
        self.read()
            .nodes
            .iter()
            .filter(|n| n.up)
            .map(|n| n.info.clone())
            .collect()
    }

    pub(crate) fn get(&self, node_id: i32) -> Option<NodeInfo> {
        self.read()
            .nodes
            .iter()
            .find(|n| n.info.node_id == node_id)
            .map(|n| n.info.clone())
    }

    pub(crate) fn is_up(&self, node_id: i32) -> bool {
        self.read()
            .nodes
            .iter()
            .any(|n| n.info.node_id == node_id && n.up)
    }

    /// The lowest live node id, or -1 when every node is down (Kafka: no controller).
    pub(crate) fn controller_id(&self) -> i32 {
        self.read()
            .nodes
            .iter()
            .filter(|n| n.up)
            .map(|n| n.info.node_id)
            .min()
            .unwrap_or(-1)
    }

    /// Replica lists for `partitions` partitions with `rf` replicas each, over live nodes.
    /// The caller has checked `1 <= rf <= live nodes`.
    pub(crate) fn place(&self, partitions: i32, rf: usize) -> Vec<Vec<i32>> {
        let live: Vec<i32> = self
            .read()
            .nodes
            .iter()
            .filter(|n| n.up)
            .map(|n| n.info.node_id)
            .collect();
        (0..partitions.max(0) as usize)
            .map(|p| {
                if live.is_empty() {
                    return Vec::new();
                }
                (0..rf.min(live.len()))
                    .map(|i| live[(p + i) % live.len()])
                    .collect()
            })
            .collect()
    }

    /// The node coordinating `group_id`, if that offsets partition has a live leader.
    pub(crate) fn coordinator_for(&self, group_id: &str) -> Option<NodeInfo> {
        let inner = self.read();
        let leader = inner.coordinators[offsets_partition_for(group_id)];
        inner
            .nodes
            .iter()
            .find(|n| n.info.node_id == leader && n.up)
            .map(|n| n.info.clone())
    }

    /// Marks a node down or up. Returns false when the node is unknown or already so.
    /// Coordinators of offsets partitions led by a downed node move to the next live node;
    /// a node coming up takes the offsets partitions that had no live leader.
    pub(crate) fn set_up(&self, node_id: i32, up: bool) -> bool {
        let mut inner = self.write();
        let Some(node) = inner.nodes.iter_mut().find(|n| n.info.node_id == node_id) else {
            return false;
        };
        if node.up == up {
            return false;
        }
        node.up = up;
        let live: Vec<i32> = inner
            .nodes
            .iter()
            .filter(|n| n.up)
            .map(|n| n.info.node_id)
            .collect();
        for (p, leader) in inner.coordinators.iter_mut().enumerate() {
            if (!up && *leader == node_id) || (up && *leader == -1) {
                *leader = if live.is_empty() {
                    -1
                } else {
                    live[p % live.len()]
                };
            }
        }
        true
    }

    /// A new leader for a partition whose leader is gone: its first live replica, else (the log
    /// is shared, so this loses nothing) the first live node after the old leader. None when no
    /// node is up.
    pub(crate) fn elect(&self, replicas: &[i32], old_leader: i32) -> Option<i32> {
        let inner = self.read();
        let up = |id: i32| inner.nodes.iter().any(|n| n.info.node_id == id && n.up);
        if let Some(r) = replicas
            .iter()
            .copied()
            .find(|r| *r != old_leader && up(*r))
        {
            return Some(r);
        }
        let ids: Vec<i32> = inner.nodes.iter().map(|n| n.info.node_id).collect();
        let start = ids.iter().position(|id| *id == old_leader).unwrap_or(0);
        (1..=ids.len())
            .map(|i| ids[(start + i) % ids.len()])
            .find(|id| up(*id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nodes(n: i32) -> Nodes {
        Nodes::new(
            (0..n)
                .map(|id| NodeInfo {
                    node_id: id,
                    host: "127.0.0.1".into(),
                    port: 9092 + id,
                    rack: None,
                })
                .collect(),
        )
    }

    #[test]
    fn java_hash_code_partitioning_matches_kafka() {
        // Java: "".hashCode() == 0, "a".hashCode() == 97, "abcdefghijk".hashCode() ==
        // 1810989158, "sparkit".hashCode() == -2011710264 (negative: Utils.abs).
        assert_eq!(offsets_partition_for(""), 0);
        assert_eq!(offsets_partition_for("a"), 97 % 50);
        assert_eq!(offsets_partition_for("abcdefghijk"), 1_810_989_158 % 50);
        assert_eq!(offsets_partition_for("sparkit"), 2_011_710_264 % 50);
        // "polygenelubricants".hashCode() == Integer.MIN_VALUE: Utils.abs maps it to 0.
        assert_eq!(offsets_partition_for("polygenelubricants"), 0);
    }

    #[test]
    fn placement_is_round_robin_over_live_nodes() {
        let n = nodes(3);
        assert_eq!(
            n.place(4, 2),
            vec![vec![0, 1], vec![1, 2], vec![2, 0], vec![0, 1]]
        );
        assert!(n.set_up(1, false));
        assert!(!n.set_up(1, false));
        assert_eq!(n.place(3, 1), vec![vec![0], vec![2], vec![0]]);
        assert_eq!(n.controller_id(), 0);
        assert_eq!(n.live().len(), 2);
    }

    #[test]
    fn coordinators_move_away_from_a_down_node_and_back_to_an_empty_slot() {
        let n = nodes(3);
        let group = (0..1000)
            .map(|i| format!("g{i}"))
            .find(|g| n.coordinator_for(g).map(|c| c.node_id) == Some(1))
            .unwrap();
        let other = (0..1000)
            .map(|i| format!("g{i}"))
            .find(|g| n.coordinator_for(g).map(|c| c.node_id) == Some(2))
            .unwrap();
        n.set_up(1, false);
        let moved = n.coordinator_for(&group).unwrap().node_id;
        assert_ne!(moved, 1);
        // groups of live nodes stay where they are
        assert_eq!(n.coordinator_for(&other).unwrap().node_id, 2);
        n.set_up(0, false);
        n.set_up(2, false);
        assert!(n.coordinator_for(&group).is_none());
        assert_eq!(n.controller_id(), -1);
        n.set_up(1, true);
        assert_eq!(n.coordinator_for(&group).unwrap().node_id, 1);
        assert_eq!(n.coordinator_for(&other).unwrap().node_id, 1);
    }

    #[test]
    fn election_prefers_live_replicas_then_any_live_node() {
        let n = nodes(3);
        n.set_up(0, false);
        assert_eq!(n.elect(&[0, 2], 0), Some(2));
        assert_eq!(n.elect(&[0], 0), Some(1));
        n.set_up(1, false);
        assert_eq!(n.elect(&[0], 0), Some(2));
        n.set_up(2, false);
        assert_eq!(n.elect(&[0], 0), None);
    }
}
