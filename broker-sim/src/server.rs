//! One node's accept loop and the task serving each of its connections.
//!
//! Each connection task reads a frame, handles it, and queues the response, strictly in
//! request order (Kafka's guarantee, and what clients rely on). While a long-poll Fetch or a
//! JoinGroup waits, that connection waits too, as in Kafka; other connections are separate
//! tasks and carry on. Responses are flushed when no further complete request is buffered, so
//! pipelined requests share a write.
//!
//! A connection ends on EOF, a framing error, its node stopping (node down or cluster
//! shutdown), a "drop connections" fault, a drop-on-request fault, or `connections.max.idle.ms`
//! without a request (the clock runs only while waiting for the next request, so a long poll
//! or a slow response is never cut). Injected latency is applied here, before the request is
//! handled.
//!
//! Slow clients stall only themselves: a connection's task holds no lock while it reads or
//! writes, and it reads no further request while a response is still being written (Kafka
//! mutes such a channel the same way), so what a slow reader costs is bounded by one response
//! and the 64 KiB write buffer. A node past `max.connections` closes new connections at once,
//! with a warning (at most one per second).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kafka_protocol::messages::ApiKey;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::api::{self, Outcome};
use crate::connection::{Connection, FrameError};
use crate::fault::DropPoint;
use crate::protocol::{self, HeaderError};
use crate::sasl::Session;
use crate::state::BrokerState;

/// What every node's connections share.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) state: Arc<BrokerState>,
    pub(crate) max_request_size: usize,
    /// `connections.max.idle.ms`.
    pub(crate) max_idle: Duration,
    /// `max.connections`, per node.
    pub(crate) max_connections: usize,
    /// `connection.failed.authentication.delay.ms`.
    pub(crate) failed_authentication_delay: Duration,
    /// Set when the listeners speak TLS (`tls.rs`).
    pub(crate) tls: Option<Arc<rustls::ServerConfig>>,
}

/// How long a client has to complete a TLS handshake.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);

/// The signals one node's tasks listen to.
#[derive(Debug, Clone)]
pub(crate) struct NodeSignals {
    pub(crate) node_id: i32,
    /// Flips to true when the node stops (down, or the cluster shuts down).
    pub(crate) stop: watch::Receiver<bool>,
    /// Bumped to close every open connection of the node now.
    pub(crate) drop_all: watch::Receiver<u64>,
}

/// Resolves once `stop` flips to true (or its sender is gone).
pub(crate) async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stop| *stop).await;
}

/// Accepts connections until the node stops, then closes the listener (the port refuses
/// connections from then on) and waits for every connection task to end.
pub(crate) async fn accept_loop(listener: TcpListener, shared: Arc<Shared>, signals: NodeSignals) {
    let mut connections = JoinSet::new();
    let mut stop = signals.stop.clone();
    let mut refused = 0u64;
    let mut last_warning: Option<Instant> = None;
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) if connections.len() >= shared.max_connections => {
                    drop(stream);
                    refused += 1;
                    if last_warning.is_none_or(|t| t.elapsed() >= Duration::from_secs(1)) {
                        tracing::warn!(node = signals.node_id, %peer,
                            "connection closed: {} connections open, the max.connections limit ({refused} refused so far)",
                            connections.len());
                        last_warning = Some(Instant::now());
                    }
                }
                Ok((stream, peer)) => {
                    let _ = stream.set_nodelay(true);
                    connections.spawn(serve(stream, peer, Arc::clone(&shared), signals.clone()));
                }
                Err(e) => {
                    // EMFILE and the like: back off briefly instead of spinning on the error.
                    tracing::warn!(node = signals.node_id, "accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            _ = stopped(&mut stop) => break,
        }
    }
    drop(listener);
    while connections.join_next().await.is_some() {}
    tracing::info!(node = signals.node_id, "kt broker node stopped");
}

/// Why a connection task stops reading.
enum Interrupt {
    Stop,
    Dropped,
}

async fn interrupted(signals: &mut NodeSignals) -> Interrupt {
    let NodeSignals { stop, drop_all, .. } = signals;
    tokio::select! {
        _ = stopped(stop) => Interrupt::Stop,
        r = drop_all.changed() => match r {
            Ok(()) => Interrupt::Dropped,
            Err(_) => {
                // The node's handle is gone: wait for the stop signal alone.
                stopped(stop).await;
                Interrupt::Stop
            }
        },
    }
}

/// The connection over `stream`: plaintext, or after a TLS handshake. None (logged) when the
/// handshake fails, times out, or the node stops first.
async fn open(
    stream: TcpStream,
    peer: SocketAddr,
    shared: &Shared,
    signals: &mut NodeSignals,
) -> Option<Connection> {
    let Some(tls) = &shared.tls else {
        return Some(Connection::new(stream, peer, shared.max_request_size));
    };
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::clone(tls));
    let handshake = async {
        let mut first = [0u8; 1];
        match stream.peek(&mut first).await {
            Ok(0) => return Err("closed the connection before the TLS handshake".to_owned()),
            // A TLS record starts with 0x16 (handshake); a Kafka size prefix starts with 0x00.
            Ok(_) if first[0] != 0x16 => {
                return Err("sent plaintext (not a TLS handshake) to the TLS listener; \
                     configure it with security.protocol=SSL"
                    .to_owned());
            }
            Ok(_) => {}
            Err(e) => return Err(e.to_string()),
        }
        acceptor
            .accept(stream)
            .await
            .map_err(|e| format!("TLS handshake failed: {e}"))
    };
    let outcome = tokio::select! {
        r = tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, handshake) => r,
        _ = interrupted(signals) => return None,
    };
    match outcome {
        Ok(Ok(tls)) => Some(Connection::over(tls, peer, shared.max_request_size)),
        Ok(Err(why)) => {
            tracing::warn!(%peer, node = signals.node_id, "client {why}; closing the connection");
            None
        }
        Err(_) => {
            tracing::warn!(%peer, node = signals.node_id, "no TLS handshake within {TLS_HANDSHAKE_TIMEOUT:?}; closing the connection");
            None
        }
    }
}

/// Serves one connection until EOF, a framing error, its node stopping, or a fault.
async fn serve(stream: TcpStream, peer: SocketAddr, shared: Arc<Shared>, mut signals: NodeSignals) {
    let node_id = signals.node_id;
    let state = &shared.state;
    // Only drops requested after this connection opened apply to it.
    signals.drop_all.mark_unchanged();
    let Some(mut conn) = open(stream, peer, &shared, &mut signals).await else {
        return;
    };
    let client_host = peer.ip().to_string();
    let mut session = Session::new(shared.state.users.clone(), peer.to_string());
    tracing::debug!(%peer, node = node_id, "connection opened");
    loop {
        let frame = tokio::select! {
            frame = conn.read_frame() => frame,
            why = interrupted(&mut signals) => {
                if matches!(why, Interrupt::Dropped) {
                    tracing::debug!(target: "kt_broker::fault", %peer, node = node_id, "fault: connection dropped");
                }
                break;
            }
            _ = tokio::time::sleep(shared.max_idle) => {
                tracing::debug!(%peer, node = node_id, "closing a connection idle for {:?} (connections.max.idle.ms)", shared.max_idle);
                break;
            }
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
        let mut drop_after = false;
        let outcome = if session.expects_raw_token() {
            // After a v0 SaslHandshake the client sends raw SASL tokens, not requests.
            Ok(api::raw_sasl_token(&mut session, &frame))
        } else {
            match protocol::decode_request_header(&frame) {
                Ok((header, body)) => {
                    let api = ApiKey::try_from(header.api_key).ok();
                    match state.faults.take_drop(header.api_key, node_id) {
                        Some(DropPoint::BeforeHandling) => {
                            tracing::debug!(target: "kt_broker::fault", %peer, node = node_id, ?api,
                            correlation_id = header.correlation_id, "fault: connection dropped before handling the request");
                            break;
                        }
                        Some(DropPoint::AfterHandling) => drop_after = true,
                        None => {}
                    }
                    let handled = async {
                        if let Some(delay) = state.faults.latency(header.api_key) {
                            tracing::debug!(target: "kt_broker::fault", %peer, node = node_id, ?api, "fault: delaying the request by {delay:?}");
                            tokio::time::sleep(delay).await;
                        }
                        api::dispatch(state, node_id, &mut session, &header, &client_host, body)
                            .await
                    };
                    tokio::select! {
                        outcome = handled => outcome,
                        _ = interrupted(&mut signals) => break,
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
            }
        };
        if drop_after {
            tracing::debug!(target: "kt_broker::fault", %peer, node = node_id,
                "fault: connection dropped after handling the request, without its response");
            break;
        }
        let response = match outcome {
            Ok(Outcome::Respond(bytes)) => Some(bytes),
            Ok(Outcome::NoResponse) => None,
            Ok(Outcome::RespondAndClose(bytes)) => {
                // Kafka's connection.failed.authentication.delay.ms: each failed guess costs
                // the guesser this long (a stop still ends the wait).
                let delay = shared.failed_authentication_delay;
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = interrupted(&mut signals) => break,
                }
                let _ = conn.write(&bytes).await;
                let _ = conn.flush().await;
                tracing::debug!(%peer, "closing the connection after a failed SASL authentication");
                break;
            }
            Ok(Outcome::Close) => break,
            Err(e) => {
                tracing::error!(%peer, "{e}; closing the connection");
                break;
            }
        };
        // A client that does not read blocks only this write; a stop still ends it.
        let io = async {
            if let Some(bytes) = &response {
                conn.write(bytes).await?;
            }
            if conn.has_buffered_frame() {
                Ok(())
            } else {
                conn.flush().await
            }
        };
        let flushed = tokio::select! {
            r = io => r,
            _ = interrupted(&mut signals) => break,
        };
        if let Err(e) = flushed {
            tracing::debug!(peer = %conn.peer(), "write failed: {e}");
            break;
        }
    }
    // Responses still buffered (a pipelined request after them was refused) go out, unless
    // the node is stopping or the client does not read them within the idle limit.
    tokio::select! {
        _ = conn.flush() => {}
        _ = interrupted(&mut signals) => {}
        _ = tokio::time::sleep(shared.max_idle) => {}
    }
}
