//! The accept loop, one task per connection, and the handle that stops them.
//!
//! Each connection task reads a frame, handles it, and queues the response, strictly in
//! request order (Kafka's guarantee, and what clients rely on). While a long-poll Fetch or a
//! JoinGroup waits, that connection waits too, as in Kafka; other connections are separate
//! tasks and carry on. Responses are flushed when no further complete request is buffered, so
//! pipelined requests share a write.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

use crate::api::{self, Outcome};
use crate::config::BrokerConfig;
use crate::connection::{Connection, FrameError};
use crate::error::BrokerError;
use crate::group::GroupSummary;
use crate::protocol::{self, HeaderError};
use crate::state::{BrokerState, NewTopic, NodeInfo};

/// Starts brokers. See [`Broker::start`].
#[derive(Debug)]
pub struct Broker;

impl Broker {
    /// Binds `config.listen`, starts accepting connections and the group timers, and returns
    /// a handle once the port is bound (clients may connect as soon as this returns).
    pub async fn start(config: BrokerConfig) -> Result<BrokerHandle, BrokerError> {
        config.validate()?;
        let addr = config.listen;
        let listener = TcpListener::bind(addr).await.map_err(|source| {
            if source.kind() == std::io::ErrorKind::AddrInUse {
                BrokerError::AddrInUse { addr, source }
            } else {
                BrokerError::Bind { addr, source }
            }
        })?;
        let local_addr = listener.local_addr()?;
        let reachable_ip = if local_addr.ip().is_unspecified() {
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        } else {
            local_addr.ip()
        };
        let node = NodeInfo {
            node_id: config.node_id,
            host: config
                .advertised_host
                .clone()
                .unwrap_or_else(|| reachable_ip.to_string()),
            port: i32::from(local_addr.port()),
            rack: config.rack.clone(),
        };
        let state = Arc::new(BrokerState::new(&config, node));
        let (shutdown, shutdown_rx) = watch::channel(false);
        let timers = {
            let state = Arc::clone(&state);
            let rx = shutdown_rx.clone();
            tokio::spawn(async move { state.groups.run_timers(rx).await })
        };
        let accept = tokio::spawn(accept_loop(
            listener,
            Arc::clone(&state),
            shutdown_rx,
            config.max_request_size,
        ));
        tracing::info!(%local_addr, node_id = config.node_id, "kt broker listening");
        Ok(BrokerHandle {
            local_addr,
            reachable: SocketAddr::new(reachable_ip, local_addr.port()),
            shutdown,
            accept,
            timers,
            state,
        })
    }
}

/// A running broker. Dropping it signals shutdown without waiting; prefer
/// [`BrokerHandle::shutdown`].
#[derive(Debug)]
pub struct BrokerHandle {
    local_addr: SocketAddr,
    /// `local_addr` with an unspecified IP (0.0.0.0, ::) replaced by 127.0.0.1.
    reachable: SocketAddr,
    shutdown: watch::Sender<bool>,
    accept: JoinHandle<()>,
    timers: JoinHandle<()>,
    state: Arc<BrokerState>,
}

impl BrokerHandle {
    /// The bound address (the real port when the config asked for port 0; the IP as bound,
    /// so 0.0.0.0 stays 0.0.0.0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// `"IP:PORT"` for clients' `bootstrap.servers`: the bound address, with an unspecified IP
    /// (0.0.0.0) replaced by 127.0.0.1.
    pub fn bootstrap(&self) -> String {
        self.reachable.to_string()
    }

    /// Stops accepting, closes every connection (interrupting long polls and pending joins),
    /// stops the group timers, and waits for all of it.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        let _ = (&mut self.accept).await;
        let _ = (&mut self.timers).await;
    }

    /// Creates a topic as CreateTopics would (replication factor 1).
    pub fn create_topic(&self, name: &str, partitions: i32) -> Result<(), BrokerError> {
        let new = NewTopic {
            num_partitions: partitions,
            ..NewTopic::with_defaults(name)
        };
        self.state
            .create_topic(&new, false)
            .map(|_| ())
            .map_err(|e| BrokerError::Topic {
                name: name.to_owned(),
                code: e.code(),
                message: e.message,
            })
    }

    /// (log start offset, high watermark) of a partition, if it exists.
    pub fn partition_offsets(&self, topic: &str, partition: i32) -> Option<(i64, i64)> {
        self.state
            .topic(topic)?
            .partition(partition)
            .map(|p| p.offsets())
    }

    /// A snapshot of a consumer group, if the coordinator knows it.
    pub fn describe_group(&self, group_id: &str) -> Option<GroupSummary> {
        self.state.groups.describe(group_id)
    }
}

impl Drop for BrokerHandle {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}

/// Resolves once shutdown was requested (or the handle is gone).
async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}

async fn accept_loop(
    listener: TcpListener,
    state: Arc<BrokerState>,
    mut shutdown: watch::Receiver<bool>,
    max_request_size: usize,
) {
    let mut connections = JoinSet::new();
    let for_connections = shutdown.clone();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let _ = stream.set_nodelay(true);
                    connections.spawn(serve(stream, peer, Arc::clone(&state), for_connections.clone(), max_request_size));
                }
                Err(e) => {
                    // EMFILE and the like: back off briefly instead of spinning on the error.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            _ = stopped(&mut shutdown) => break,
        }
    }
    drop(listener);
    while connections.join_next().await.is_some() {}
    tracing::info!("kt broker stopped");
}

/// Serves one connection until EOF, a framing error, or shutdown.
async fn serve(
    stream: TcpStream,
    peer: SocketAddr,
    state: Arc<BrokerState>,
    mut shutdown: watch::Receiver<bool>,
    max: usize,
) {
    let mut conn = Connection::new(stream, peer, max);
    let client_host = peer.ip().to_string();
    tracing::debug!(%peer, "connection opened");
    loop {
        let frame = tokio::select! {
            frame = conn.read_frame() => frame,
            _ = stopped(&mut shutdown) => break,
        };
        let frame = match frame {
            Ok(Some(frame)) => frame,
            Ok(None) => {
                tracing::debug!(%peer, "connection closed by client");
                break;
            }
            Err(e @ (FrameError::Io { .. } | FrameError::Truncated { .. })) => {
                tracing::debug!("{e}");
                break;
            }
            Err(e) => {
                tracing::warn!("{e}; closing the connection");
                break;
            }
        };
        let outcome = match protocol::decode_request_header(&frame) {
            Ok((header, body)) => {
                tokio::select! {
                    outcome = api::dispatch(&state, &header, &client_host, body) => outcome,
                    _ = stopped(&mut shutdown) => break,
                }
            }
            Err(HeaderError::TooShort(len)) => {
                tracing::warn!(%peer, "request of {len} bytes is too short for a request header; closing the connection");
                break;
            }
            Err(
                e @ HeaderError::Malformed {
                    api_key,
                    api_version,
                    correlation_id,
                    ..
                },
            ) => {
                tracing::warn!(%peer, "{e}");
                api::header_error(api_key, api_version, correlation_id)
            }
        };
        let written = match outcome {
            Ok(Outcome::Respond(bytes)) => conn.write(&bytes).await,
            Ok(Outcome::NoResponse) => Ok(()),
            Err(e) => {
                tracing::error!(%peer, "{e}; closing the connection");
                break;
            }
        };
        let flushed = match written {
            Ok(()) if !conn.has_buffered_frame() => conn.flush().await,
            other => other,
        };
        if let Err(e) = flushed {
            tracing::debug!(peer = %conn.peer(), "write failed: {e}");
            break;
        }
    }
    let _ = conn.flush().await;
}
