//! One TCP connection to one broker, with pipelined requests.
//!
//! A writer task and a reader task own the two halves of the socket. A request registers a
//! oneshot under its correlation id *before* its bytes are queued for the writer (so a fast
//! answer always finds its waiter), then waits. The reader matches each response frame to its
//! waiter by correlation id; several requests can be in flight at once (Kafka answers them in
//! order, but nothing here depends on that).
//!
//! * A waiter whose future is dropped removes its entry (a drop guard); a late response for
//!   it is discarded.
//! * A failed read or write, a torn frame, or a timed-out request *poisons* the connection:
//!   every waiter gets the same error, later requests fail at once, and the pool replaces it
//!   (the Java client also disconnects on a request timeout).
//! * Response frames larger than `max_response_size` are rejected before allocating.
//! * Versions are negotiated at connect with ApiVersions (see [`versions`]).

mod frame;
pub(crate) mod versions;

use std::collections::HashMap;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use bytes::{Buf, Bytes};
use kafka_protocol::messages::{ApiKey, ApiVersionsRequest, ApiVersionsResponse};
use kafka_protocol::protocol::{Decodable, Request, StrBytes};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, BufReader, BufWriter};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::AbortHandle;
use tracing::Instrument;

use crate::error::{Error, KafkaCode};
use crate::metrics::Metrics;
pub(crate) use frame::{encode_request, skip_tagged_fields};
use versions::{API_VERSIONS_FIRST, ApiVersionTable};

/// Settings a connection needs.
#[derive(Debug, Clone)]
pub(crate) struct ConnectionConfig {
    pub(crate) client_id: StrBytes,
    pub(crate) connect_timeout: Duration,
    pub(crate) request_timeout: Duration,
    pub(crate) max_response_size: usize,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) security: crate::security::Prepared,
}

/// Requests queued for the writer before `send` waits.
const WRITE_QUEUE: usize = 256;

/// A connection to one broker. Cheap to clone; the socket closes when the last clone drops.
#[derive(Clone, Debug)]
pub(crate) struct Connection {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    broker: String,
    shared: Arc<Shared>,
    writer: mpsc::Sender<Outgoing>,
    client_id: StrBytes,
    versions: OnceLock<ApiVersionTable>,
    correlation: AtomicI32,
    tasks: [AbortHandle; 2],
}

impl Drop for Inner {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// State shared with the reader and writer tasks.
#[derive(Debug)]
struct Shared {
    broker: String,
    state: Mutex<State>,
    closed_tx: watch::Sender<bool>,
    metrics: Arc<Metrics>,
}

#[derive(Debug, Default)]
struct State {
    pending: HashMap<i32, Pending>,
    closed: Option<Error>,
}

#[derive(Debug)]
struct Pending {
    tx: oneshot::Sender<Result<Bytes, Error>>,
    response_header_version: i16,
}

#[derive(Debug)]
struct Outgoing {
    frame: Bytes,
    written: Option<oneshot::Sender<Result<(), Error>>>,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding this lock cannot leave State inconsistent (single inserts and
        // removals), so a poisoned mutex is still usable.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Fails every waiter with `err` and refuses new requests.
    fn poison(&self, err: Error) {
        let drained: Vec<Pending> = {
            let mut st = self.lock();
            if st.closed.is_none() {
                st.closed = Some(err.clone());
            }
            st.pending.drain().map(|(_, p)| p).collect()
        };
        for p in drained {
            let _ = p.tx.send(Err(err.clone()));
        }
        let _ = self.closed_tx.send(true);
    }

    fn closed_error(&self) -> Error {
        self.lock()
            .closed
            .clone()
            .unwrap_or_else(|| Error::ConnectionClosed {
                broker: self.broker.clone(),
                reason: "connection closed".into(),
            })
    }
}

/// Removes a waiter's entry when its future is dropped (or completes).
struct PendingGuard<'a> {
    shared: &'a Shared,
    correlation_id: i32,
}

impl Drop for PendingGuard<'_> {
    fn drop(&mut self) {
        self.shared.lock().pending.remove(&self.correlation_id);
    }
}

impl Connection {
    /// Connects to `addr` (`host:port`): TCP, then TLS and SASL when configured, and
    /// negotiates API versions.
    pub(crate) async fn connect(
        addr: &str,
        config: &ConnectionConfig,
    ) -> Result<Connection, Error> {
        let stream =
            match tokio::time::timeout(config.connect_timeout, TcpStream::connect(addr)).await {
                Err(_) => {
                    return Err(Error::Timeout(format!(
                        "connecting to {addr} took longer than {:?}",
                        config.connect_timeout
                    )));
                }
                Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                    return Err(Error::ConnectionRefused {
                        broker: addr.to_owned(),
                    });
                }
                Ok(Err(e)) => {
                    return Err(Error::Connect {
                        broker: addr.to_owned(),
                        source: Arc::new(e),
                    });
                }
                Ok(Ok(s)) => s,
            };
        let _ = stream.set_nodelay(true);
        let conn = match &config.security.tls {
            None => Connection::from_io(stream, addr, config),
            Some(tls) => {
                let (host, _) = crate::config::parse_host_port(addr)?;
                let name = tls.server_name(&host)?;
                let handshake = tls.connector.connect(name, stream);
                let tls_stream = match tokio::time::timeout(config.connect_timeout, handshake).await
                {
                    Err(_) => {
                        return Err(Error::Timeout(format!(
                            "TLS handshake with {addr} took longer than {:?}",
                            config.connect_timeout
                        )));
                    }
                    Ok(Err(e)) => {
                        return Err(Error::Tls {
                            broker: addr.to_owned(),
                            reason: e.to_string(),
                        });
                    }
                    Ok(Ok(s)) => s,
                };
                Connection::from_io(tls_stream, addr, config)
            }
        };
        let table = conn.negotiate_versions(config.request_timeout).await?;
        let _ = conn.inner.versions.set(table);
        if let Some(sasl) = &config.security.sasl {
            crate::security::authenticate(&conn, sasl, config.request_timeout).await?;
        }
        Metrics::inc(&config.metrics.connections_opened);
        Ok(conn)
    }

    fn from_io<S>(io: S, addr: &str, config: &ConnectionConfig) -> Connection
    where
        S: AsyncRead + AsyncWrite + Send + 'static,
    {
        let (read_half, write_half) = tokio::io::split(io);
        let (closed_tx, closed_rx) = watch::channel(false);
        let shared = Arc::new(Shared {
            broker: addr.to_owned(),
            state: Mutex::new(State::default()),
            closed_tx,
            metrics: config.metrics.clone(),
        });
        let (tx, rx) = mpsc::channel(WRITE_QUEUE);
        let reader = tokio::spawn(read_loop(
            read_half,
            shared.clone(),
            closed_rx.clone(),
            config.max_response_size,
        ));
        let writer = tokio::spawn(write_loop(write_half, rx, shared.clone(), closed_rx));
        Connection {
            inner: Arc::new(Inner {
                broker: addr.to_owned(),
                shared,
                writer: tx,
                client_id: config.client_id.clone(),
                versions: OnceLock::new(),
                correlation: AtomicI32::new(1),
                tasks: [reader.abort_handle(), writer.abort_handle()],
            }),
        }
    }

    /// `host:port` of the broker.
    pub(crate) fn broker(&self) -> &str {
        &self.inner.broker
    }

    /// Whether the connection is poisoned or closed.
    pub(crate) fn is_closed(&self) -> bool {
        self.inner.shared.lock().closed.is_some()
    }

    /// The version to use for `key` with this broker.
    pub(crate) fn version(&self, key: ApiKey) -> Result<i16, Error> {
        match self.inner.versions.get() {
            Some(t) => t.pick(key, &self.inner.broker),
            None => Err(Error::Protocol("API versions not negotiated yet".into())),
        }
    }

    /// The broker's advertised range for `key` (for tests and diagnostics).
    #[cfg(test)]
    pub(crate) fn broker_range(&self, key: ApiKey) -> Option<(i16, i16)> {
        self.inner.versions.get().and_then(|t| t.broker_range(key))
    }

    fn next_correlation_id(&self) -> i32 {
        // Wraps after 2^31 requests; ids only need to be unique among requests in flight.
        self.inner.correlation.fetch_add(1, Ordering::Relaxed) & 0x7fff_ffff
    }

    /// Sends `req` at `version` and decodes the response, rejecting trailing bytes.
    pub(crate) async fn send<R: Request>(
        &self,
        req: &R,
        version: i16,
        timeout: Duration,
    ) -> Result<R::Response, Error> {
        let api_key = api_key_of::<R>()?;
        let correlation_id = self.next_correlation_id();
        let frame = encode_request(api_key, version, correlation_id, &self.inner.client_id, req)?;
        let span = tracing::debug_span!(
            "kafka_request",
            api = ?api_key,
            version,
            broker = %self.inner.broker,
            correlation_id,
            duration_us = tracing::field::Empty,
        );
        let started = std::time::Instant::now();
        let result = self
            .roundtrip(api_key, version, correlation_id, frame, timeout)
            .instrument(span.clone())
            .await;
        span.record(
            "duration_us",
            u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
        );
        let body = result.inspect_err(|e| {
            tracing::debug!(parent: &span, error = %e, "request failed");
        })?;
        self.guard(api_key, version, &body, false)?;
        decode_exact::<R::Response>(body, version, api_key, &self.inner.broker)
    }

    /// Sends `req` without waiting for a response (Produce with `acks=0`, where the broker
    /// sends none); returns once the bytes are written.
    pub(crate) async fn send_no_response<R: Request>(
        &self,
        req: &R,
        version: i16,
        timeout: Duration,
    ) -> Result<(), Error> {
        let api_key = api_key_of::<R>()?;
        let correlation_id = self.next_correlation_id();
        let frame = encode_request(api_key, version, correlation_id, &self.inner.client_id, req)?;
        if let Some(e) = self.inner.shared.lock().closed.clone() {
            return Err(e);
        }
        Metrics::inc(&self.inner.shared.metrics.requests);
        Metrics::add(&self.inner.shared.metrics.bytes_sent, frame.len() as u64);
        let (tx, rx) = oneshot::channel();
        let work = async {
            self.inner
                .writer
                .send(Outgoing {
                    frame,
                    written: Some(tx),
                })
                .await
                .map_err(|_| self.inner.shared.closed_error())?;
            rx.await.map_err(|_| self.inner.shared.closed_error())?
        };
        match tokio::time::timeout(timeout, work).await {
            Ok(r) => r,
            Err(_) => Err(self.timed_out(api_key, timeout)),
        }
    }

    fn timed_out(&self, api_key: ApiKey, timeout: Duration) -> Error {
        let e = Error::Timeout(format!(
            "{api_key:?} to {} got no response within {timeout:?}",
            self.inner.broker
        ));
        self.inner.shared.poison(e.clone());
        e
    }

    /// Registers a waiter, queues the frame, and waits for the response body (after the
    /// response header).
    async fn roundtrip(
        &self,
        api_key: ApiKey,
        version: i16,
        correlation_id: i32,
        frame: Bytes,
        timeout: Duration,
    ) -> Result<Bytes, Error> {
        let shared = &self.inner.shared;
        let (tx, rx) = oneshot::channel();
        {
            let mut st = shared.lock();
            if let Some(e) = &st.closed {
                return Err(e.clone());
            }
            st.pending.insert(
                correlation_id,
                Pending {
                    tx,
                    response_header_version: api_key.response_header_version(version),
                },
            );
        }
        let _guard = PendingGuard {
            shared,
            correlation_id,
        };
        Metrics::inc(&shared.metrics.requests);
        Metrics::add(&shared.metrics.bytes_sent, frame.len() as u64);
        let work = async {
            self.inner
                .writer
                .send(Outgoing {
                    frame,
                    written: None,
                })
                .await
                .map_err(|_| shared.closed_error())?;
            rx.await.map_err(|_| shared.closed_error())?
        };
        let result = match tokio::time::timeout(timeout, work).await {
            Ok(r) => r,
            Err(_) => Err(self.timed_out(api_key, timeout)),
        };
        if result.is_err() {
            Metrics::inc(&shared.metrics.request_errors);
        }
        result
    }

    /// ApiVersions handshake with the KIP-511 fallback: a broker that does not know our
    /// ApiVersions version answers UNSUPPORTED_VERSION in the v0 layout, with its table; we
    /// retry with the highest ApiVersions version it lists (or v0).
    async fn negotiate_versions(&self, timeout: Duration) -> Result<ApiVersionTable, Error> {
        let mut version = API_VERSIONS_FIRST;
        for _ in 0..3 {
            let mut req = ApiVersionsRequest::default();
            if version >= 3 {
                req.client_software_name = StrBytes::from_static_str("kt");
                req.client_software_version = StrBytes::from_static_str(env!("CARGO_PKG_VERSION"));
            }
            let correlation_id = self.next_correlation_id();
            let frame = encode_request(
                ApiKey::ApiVersions,
                version,
                correlation_id,
                &self.inner.client_id,
                &req,
            )?;
            let body = self
                .roundtrip(ApiKey::ApiVersions, version, correlation_id, frame, timeout)
                .await?;
            let code = if body.len() >= 2 {
                i16::from_be_bytes([body[0], body[1]])
            } else {
                return Err(Error::Protocol(format!(
                    "{} sent a {}-byte ApiVersions response",
                    self.inner.broker,
                    body.len()
                )));
            };
            if code == KafkaCode::UnsupportedVersion.code() && version > 0 {
                // The v0 layout; later fields (if any) are ignored on purpose.
                self.guard(ApiKey::ApiVersions, 0, &body, true)?;
                let mut b = body;
                let resp = decode_guarded::<ApiVersionsResponse>(&mut b, 0)
                    .map_err(|e| self.decode_error(ApiKey::ApiVersions, 0, e))?;
                let their_max = resp
                    .api_keys
                    .iter()
                    .find(|k| k.api_key == ApiKey::ApiVersions as i16)
                    .map_or(0, |k| k.max_version);
                version = if their_max < version {
                    their_max.max(0)
                } else {
                    0
                };
                tracing::debug!(broker = %self.inner.broker, version, "ApiVersions: stepping down (KIP-511)");
                continue;
            }
            self.guard(ApiKey::ApiVersions, version, &body, false)?;
            let resp = decode_exact::<ApiVersionsResponse>(
                body,
                version,
                ApiKey::ApiVersions,
                &self.inner.broker,
            )?;
            if resp.error_code != 0 {
                return Err(Error::kafka(
                    resp.error_code,
                    format!("ApiVersions v{version} to {}", self.inner.broker),
                ));
            }
            return Ok(ApiVersionTable::from_response(&resp));
        }
        Err(Error::Protocol(format!(
            "{} kept rejecting ApiVersions",
            self.inner.broker
        )))
    }

    /// Runs the response shape guard (see [`crate::guard`]) on a body before it is decoded.
    fn guard(
        &self,
        api: ApiKey,
        version: i16,
        body: &[u8],
        allow_trailing: bool,
    ) -> Result<(), Error> {
        crate::guard::check(api, version, body, allow_trailing).map_err(|why| {
            Error::Protocol(format!(
                "{api:?} v{version} response from {} refused before decoding: {why}",
                self.inner.broker
            ))
        })
    }

    fn decode_error(&self, api: ApiKey, version: i16, e: String) -> Error {
        Error::Protocol(format!(
            "cannot decode {api:?} v{version} response from {}: {e}",
            self.inner.broker
        ))
    }
}

fn api_key_of<R: Request>() -> Result<ApiKey, Error> {
    ApiKey::try_from(R::KEY).map_err(|_| Error::Encode(format!("unknown API key {}", R::KEY)))
}

/// Decodes with kafka-protocol, turning a panic inside the decoder into an error.
///
/// kafka-protocol's array decoders size `Vec`s from counts read off the wire, so every caller
/// first runs the response shape guard ([`crate::guard`]) on the body: counts are checked
/// against the bytes that follow before this allocates (fuzzed by `fuzz/` `client_responses`;
/// regression test `fuzzing::tests::produce_response_with_a_huge_topic_count_is_refused`).
pub(crate) fn decode_guarded<T: Decodable>(body: &mut Bytes, version: i16) -> Result<T, String> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| T::decode(body, version))) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("decoder panicked".into()),
    }
}

pub(crate) fn decode_exact<T: Decodable>(
    mut body: Bytes,
    version: i16,
    api: ApiKey,
    broker: &str,
) -> Result<T, Error> {
    let v = decode_guarded::<T>(&mut body, version).map_err(|e| {
        Error::Protocol(format!(
            "cannot decode {api:?} v{version} response from {broker}: {e}"
        ))
    })?;
    if body.has_remaining() {
        return Err(Error::Protocol(format!(
            "{api:?} v{version} response from {broker} has {} trailing bytes",
            body.remaining()
        )));
    }
    Ok(v)
}

async fn read_loop<R: AsyncRead + Send + 'static>(
    read_half: tokio::io::ReadHalf<R>,
    shared: Arc<Shared>,
    mut closed: watch::Receiver<bool>,
    max: usize,
) {
    let mut reader = BufReader::with_capacity(64 * 1024, read_half);
    loop {
        let frame = tokio::select! {
            _ = closed.wait_for(|c| *c) => return,
            f = frame::read_frame(&mut reader, max, &shared.broker) => f,
        };
        let mut body = match frame {
            Ok(Some(b)) => b,
            Ok(None) => {
                shared.poison(Error::ConnectionClosed {
                    broker: shared.broker.clone(),
                    reason: "closed by the broker".into(),
                });
                return;
            }
            Err(e) => {
                shared.poison(e);
                return;
            }
        };
        Metrics::add(&shared.metrics.bytes_received, body.len() as u64 + 4);
        let correlation_id = body.get_i32();
        let Some(pending) = shared.lock().pending.remove(&correlation_id) else {
            tracing::debug!(broker = %shared.broker, correlation_id, "response for an abandoned request");
            continue;
        };
        if pending.response_header_version >= 1
            && let Err(e) = frame::skip_tagged_fields(&mut body)
        {
            let _ = pending.tx.send(Err(e.clone()));
            shared.poison(e);
            return;
        }
        let _ = pending.tx.send(Ok(body));
    }
}

async fn write_loop<W: AsyncWrite + Send + 'static>(
    write_half: tokio::io::WriteHalf<W>,
    mut rx: mpsc::Receiver<Outgoing>,
    shared: Arc<Shared>,
    mut closed: watch::Receiver<bool>,
) {
    let mut writer = BufWriter::with_capacity(64 * 1024, write_half);
    let mut batch: Vec<Outgoing> = Vec::new();
    loop {
        let first = tokio::select! {
            _ = closed.wait_for(|c| *c) => break,
            m = rx.recv() => match m { Some(m) => m, None => break },
        };
        batch.push(first);
        while batch.len() < 64 {
            match rx.try_recv() {
                Ok(m) => batch.push(m),
                Err(_) => break,
            }
        }
        let mut result = Ok(());
        for m in &batch {
            if let Err(e) = writer.write_all(&m.frame).await {
                result = Err(e);
                break;
            }
        }
        if result.is_ok() {
            result = writer.flush().await;
        }
        match result {
            Ok(()) => {
                for m in batch.drain(..) {
                    if let Some(w) = m.written {
                        let _ = w.send(Ok(()));
                    }
                }
            }
            Err(e) => {
                let err = Error::Io {
                    broker: shared.broker.clone(),
                    source: Arc::new(e),
                };
                for m in batch.drain(..) {
                    if let Some(w) = m.written {
                        let _ = w.send(Err(err.clone()));
                    }
                }
                shared.poison(err);
                break;
            }
        }
    }
    let _ = writer.shutdown().await;
}

#[cfg(test)]
mod tests;
