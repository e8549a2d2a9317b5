//! One node's listener lifecycle: bind, serve, stop (the port then refuses connections), and
//! bind again on the same address.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::error::BrokerError;
use crate::server::{self, NodeSignals, Shared};

/// Binds `addr`, naming the address in the error a user sees.
pub(crate) async fn bind(addr: SocketAddr) -> Result<TcpListener, BrokerError> {
    TcpListener::bind(addr).await.map_err(|source| {
        if source.kind() == std::io::ErrorKind::AddrInUse {
            BrokerError::AddrInUse { addr, source }
        } else {
            BrokerError::Bind { addr, source }
        }
    })
}

/// A node's serving tasks while it is up.
#[derive(Debug)]
struct Running {
    stop: watch::Sender<bool>,
    accept: JoinHandle<()>,
}

/// One node of the cluster: its fixed address and, while up, its accept loop.
#[derive(Debug)]
pub(crate) struct NodeRuntime {
    pub(crate) node_id: i32,
    /// The bound address; a restarted node binds it again.
    pub(crate) addr: SocketAddr,
    drop_all: watch::Sender<u64>,
    running: Option<Running>,
}

impl NodeRuntime {
    /// A node that starts serving on the already bound `listener`.
    pub(crate) fn start(
        node_id: i32,
        listener: TcpListener,
        shared: &Arc<Shared>,
    ) -> Result<Self, BrokerError> {
        let addr = listener.local_addr()?;
        let mut node = NodeRuntime {
            node_id,
            addr,
            drop_all: watch::Sender::new(0),
            running: None,
        };
        node.serve(listener, shared);
        Ok(node)
    }

    fn serve(&mut self, listener: TcpListener, shared: &Arc<Shared>) {
        let (stop, stop_rx) = watch::channel(false);
        let signals = NodeSignals {
            node_id: self.node_id,
            stop: stop_rx,
            drop_all: self.drop_all.subscribe(),
        };
        let accept = tokio::spawn(server::accept_loop(listener, Arc::clone(shared), signals));
        self.running = Some(Running { stop, accept });
    }

    pub(crate) fn is_up(&self) -> bool {
        self.running.is_some()
    }

    /// Closes the listener and every connection, and waits for them. False if already down.
    pub(crate) async fn stop(&mut self) -> bool {
        let Some(running) = self.running.take() else {
            return false;
        };
        let _ = running.stop.send(true);
        let _ = running.accept.await;
        true
    }

    /// Signals stop without waiting (for `Drop`).
    pub(crate) fn signal_stop(&self) {
        if let Some(r) = &self.running {
            let _ = r.stop.send(true);
        }
    }

    /// Binds the node's address again and serves. False if already up.
    pub(crate) async fn restart(&mut self, shared: &Arc<Shared>) -> Result<bool, BrokerError> {
        if self.running.is_some() {
            return Ok(false);
        }
        let listener = bind(self.addr).await?;
        self.serve(listener, shared);
        Ok(true)
    }

    /// Closes every connection open now; the listener keeps accepting.
    pub(crate) fn drop_connections(&self) {
        self.drop_all.send_modify(|n| *n += 1);
    }
}
