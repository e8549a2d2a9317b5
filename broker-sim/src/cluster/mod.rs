//! Starting a broker or a cluster of nodes in one process, and the handle that inspects,
//! faults and stops it.
//!
//! - [`Cluster::start`] binds one listener per node (ports `listen`, `listen+1`, ... or each
//!   chosen by the OS when `listen` has port 0), builds one shared [`BrokerState`] and serves.
//!   [`crate::Broker::start`] is a cluster of one.
//! - `node.rs`: a node's listener lifecycle (stop: the port refuses connections; restart: the
//!   same address again).
//! - `handle.rs`: [`ClusterHandle`], including the fault-injection control API.

mod handle;
mod node;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use tokio::sync::watch;

use crate::config::BrokerConfig;
use crate::error::BrokerError;
use crate::server::Shared;
use crate::state::{BrokerState, NodeInfo};
use crate::storage::disk::{DiskStorage, RollPolicy};
pub use handle::{BrokerHandle, ClusterHandle, NodeStatus};
use node::NodeRuntime;

/// The most nodes one process runs (each is a listener and a set of tasks; more is not a
/// cluster anyone needs in a test).
pub const MAX_NODES: usize = 64;

/// A cluster of `nodes` nodes sharing one configuration.
///
/// Node `i` gets id `broker.node_id + i` and listens on `broker.listen`'s IP at port
/// `broker.listen.port() + i`, or at a port the OS picks when that port is 0.
#[derive(Debug, Clone)]
pub struct ClusterConfig {
    /// Number of nodes, 1 to [`MAX_NODES`].
    pub nodes: usize,
    /// Settings every node shares (listen address and node id of the first node).
    pub broker: BrokerConfig,
}

impl ClusterConfig {
    /// `nodes` nodes with [`BrokerConfig::for_tests`] (loopback, OS-chosen ports).
    pub fn for_tests(nodes: usize) -> Self {
        ClusterConfig {
            nodes,
            broker: BrokerConfig::for_tests(),
        }
    }
}

/// Starts clusters. See [`Cluster::start`].
#[derive(Debug)]
pub struct Cluster;

impl Cluster {
    /// Binds every node's port, starts serving and the group timers, and returns once all
    /// ports are bound (clients may connect as soon as this returns).
    pub async fn start(config: ClusterConfig) -> Result<ClusterHandle, BrokerError> {
        let ClusterConfig { nodes, broker } = config;
        broker.validate()?;
        if nodes == 0 || nodes > MAX_NODES {
            return Err(BrokerError::Config(format!(
                "nodes must be in 1..={MAX_NODES}, got {nodes}"
            )));
        }
        let base = broker.listen;
        let last_id = i64::from(broker.node_id) + nodes as i64 - 1;
        if last_id > i64::from(i32::MAX) {
            return Err(BrokerError::Config("node ids overflow i32".to_owned()));
        }
        let mut listeners = Vec::with_capacity(nodes);
        for i in 0..nodes {
            let port = if base.port() == 0 {
                0
            } else {
                u16::try_from(usize::from(base.port()) + i).map_err(|_| {
                    BrokerError::Config(format!(
                        "{nodes} nodes from port {} run past port 65535",
                        base.port()
                    ))
                })?
            };
            let addr = SocketAddr::new(base.ip(), port);
            listeners.push(node::bind(addr).await?);
        }
        let mut infos = Vec::with_capacity(nodes);
        for (i, l) in listeners.iter().enumerate() {
            let addr = l.local_addr()?;
            infos.push(NodeInfo {
                node_id: broker.node_id + i as i32,
                host: broker
                    .advertised_host
                    .clone()
                    .unwrap_or_else(|| reachable(addr).ip().to_string()),
                port: i32::from(addr.port()),
                rack: broker.rack.clone(),
            });
        }
        let tls = match (&broker.tls_cert, &broker.tls_key) {
            (Some(cert), Some(key)) => Some(crate::tls::server_config(cert, key)?),
            _ => None,
        };
        let acl = match &broker.acl_file {
            Some(path) => {
                Some(crate::acl::Acl::load(path).map_err(|e| BrokerError::Acl(e.to_string()))?)
            }
            None => None,
        };
        let mut state = match &broker.data_dir {
            None => BrokerState::new(&broker, infos),
            Some(dir) => {
                let roll = RollPolicy {
                    segment_bytes: broker.segment_bytes,
                    segment_age: broker.segment_age,
                };
                let storage = DiskStorage::open(dir, roll)
                    .map_err(|e| BrokerError::Storage(e.to_string()))?;
                BrokerState::open(&broker, infos, Box::new(storage))
                    .map_err(|e| BrokerError::Storage(e.to_string()))?
            }
        };
        state.acl = acl;
        let state = Arc::new(state);
        let shared = Arc::new(Shared {
            state: Arc::clone(&state),
            max_request_size: broker.max_request_size,
            max_idle: broker.connections_max_idle,
            max_connections: broker.max_connections,
            failed_authentication_delay: broker.failed_authentication_delay,
            tls,
        });
        let (shutdown, shutdown_rx) = watch::channel(false);
        // The group timers and the log cleaner (retention, compaction) share one task.
        let timers = {
            let state = Arc::clone(&state);
            let cleaner_rx = shutdown_rx.clone();
            let interval = broker.log_cleanup_interval;
            tokio::spawn(async move {
                tokio::join!(
                    state.groups.run_timers(shutdown_rx),
                    state.run_cleaner(interval, cleaner_rx)
                );
            })
        };
        let mut runtimes = Vec::with_capacity(nodes);
        for (i, listener) in listeners.into_iter().enumerate() {
            let node = NodeRuntime::start(broker.node_id + i as i32, listener, &shared)?;
            tracing::info!(addr = %node.addr, node_id = node.node_id, "kt broker listening");
            runtimes.push(node);
        }
        Ok(ClusterHandle::new(runtimes, shared, shutdown, timers))
    }
}

/// `addr` with an unspecified IP (0.0.0.0, ::) replaced by 127.0.0.1, for clients.
pub(crate) fn reachable(addr: SocketAddr) -> SocketAddr {
    if addr.ip().is_unspecified() {
        SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), addr.port())
    } else {
        addr
    }
}

/// Starts single brokers. See [`Broker::start`].
#[derive(Debug)]
pub struct Broker;

impl Broker {
    /// Binds `config.listen`, starts accepting connections and the group timers, and returns
    /// a handle once the port is bound: a [`Cluster`] of one node.
    pub async fn start(config: BrokerConfig) -> Result<ClusterHandle, BrokerError> {
        Cluster::start(ClusterConfig {
            nodes: 1,
            broker: config,
        })
        .await
    }
}
