//! A small in-test fake broker, built only from kafka-protocol's message types.
//!
//! It is socket-level: it reads frames, decodes the request header and body with
//! kafka-protocol, and answers with correct responses from a tiny in-memory state (topics
//! with raw stored batches, one-member groups, committed offsets). It is deliberately
//! independent of kt-broker. Faults can be injected per API: error codes for the next N
//! requests, dropping the connection, delaying, or advertising an old ApiVersions.

mod admin_handlers;
mod handlers;
#[cfg(test)]
mod kcat;
pub(crate) mod sasl_server;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::messages::{ApiKey, RequestHeader, ResponseHeader};
use kafka_protocol::protocol::{Decodable, Encodable};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::Notify;
use uuid::Uuid;

/// What the fake does with one request.
pub(crate) enum Reply {
    /// Send this encoded response body.
    Body(Bytes),
    /// Send nothing (acks=0 produce).
    Nothing,
}

#[derive(Debug, Default)]
pub(crate) struct Log {
    /// (base offset, last offset, max timestamp, stored bytes)
    pub(crate) batches: Vec<(i64, i64, i64, Bytes)>,
    pub(crate) next_offset: i64,
    pub(crate) log_start: i64,
    /// Idempotent producers: id -> state.
    pub(crate) producers: HashMap<i64, ProducerState>,
}

/// What the fake remembers per idempotent producer and partition, as Kafka does.
#[derive(Debug, Default)]
pub(crate) struct ProducerState {
    pub(crate) epoch: i16,
    /// Sequence of the last record written.
    pub(crate) last_seq: i32,
    /// The last five batches: (first seq, last seq, base offset).
    pub(crate) recent: VecDeque<(i32, i32, i64)>,
}

#[derive(Debug)]
pub(crate) struct Topic {
    pub(crate) id: Uuid,
    pub(crate) partitions: Vec<Log>,
    pub(crate) configs: BTreeMap<String, String>,
}

#[derive(Debug, Default)]
pub(crate) struct Group {
    pub(crate) generation: i32,
    pub(crate) leader: String,
    pub(crate) protocol: String,
    /// member id -> [(protocol name, metadata)]
    pub(crate) members: BTreeMap<String, Vec<(String, Bytes)>>,
    pub(crate) assignments: HashMap<String, Bytes>,
    pub(crate) offsets: HashMap<(String, i32), i64>,
}

#[derive(Debug, Default)]
pub(crate) struct Data {
    pub(crate) topics: BTreeMap<String, Topic>,
    pub(crate) groups: HashMap<String, Group>,
    pub(crate) next_member: u32,
    pub(crate) next_producer_id: i64,
    pub(crate) next_session: i32,
    /// Fetch sessions: id -> (next epoch, partitions).
    #[allow(clippy::type_complexity)]
    pub(crate) sessions:
        HashMap<i32, (i32, BTreeMap<(String, i32), (String, Uuid, i32, i64, i32)>)>,
}

#[derive(Debug, Default)]
pub(crate) struct Faults {
    /// Error codes returned by the next requests of an API (one code per request).
    pub(crate) errors: HashMap<i16, VecDeque<i16>>,
    /// Drop the connection on the next N requests of an API.
    pub(crate) drops: HashMap<i16, usize>,
    /// Delay every response of an API.
    pub(crate) delays: HashMap<i16, Duration>,
    /// Pretend to be a broker whose highest ApiVersions version is this.
    pub(crate) api_versions_max: Option<i16>,
    /// Cut this many bytes off the end of every non-empty fetched record set.
    pub(crate) truncate_fetch: usize,
    /// Hold every response of an API until this many requests of it have arrived.
    pub(crate) hold_until: HashMap<i16, usize>,
    /// Handle the next N requests of an API, then close the connection instead of answering
    /// (the client cannot know whether they took effect).
    pub(crate) lose_responses: HashMap<i16, usize>,
    /// APIs left out of the ApiVersions answer (an older or limited broker).
    pub(crate) hidden_apis: Vec<i16>,
    /// Answer the next request of an API with these raw body bytes instead.
    pub(crate) raw_bodies: HashMap<i16, Bytes>,
    /// Create incremental fetch sessions (KIP-227) when asked.
    pub(crate) fetch_sessions: bool,
    /// Aborted transactions `(producer id, first offset)` listed in read_committed fetches.
    pub(crate) aborted: Vec<(i64, i64)>,
}

/// Shared state of a fake broker.
#[derive(Debug, Default)]
pub(crate) struct FakeState {
    pub(crate) data: Mutex<Data>,
    pub(crate) faults: Mutex<Faults>,
    /// (api key, version) of every request received, in order.
    pub(crate) seen: Mutex<Vec<(i16, i16)>>,
    /// How many partitions each Fetch request named.
    pub(crate) fetch_sizes: Mutex<Vec<usize>>,
    pub(crate) appended: Notify,
    /// Notified on every request received.
    pub(crate) received: Notify,
    pub(crate) host: String,
    pub(crate) port: i32,
}

impl FakeState {
    pub(crate) fn data(&self) -> std::sync::MutexGuard<'_, Data> {
        self.data.lock().unwrap()
    }

    pub(crate) fn faults(&self) -> std::sync::MutexGuard<'_, Faults> {
        self.faults.lock().unwrap()
    }

    pub(crate) fn next_error(&self, api: ApiKey) -> i16 {
        self.faults()
            .errors
            .get_mut(&(api as i16))
            .and_then(VecDeque::pop_front)
            .unwrap_or(0)
    }

    pub(crate) fn inject_errors(&self, api: ApiKey, codes: &[i16]) {
        self.faults()
            .errors
            .entry(api as i16)
            .or_default()
            .extend(codes.iter().copied());
    }

    pub(crate) fn create_topic(&self, name: &str, partitions: usize) {
        let mut d = self.data();
        d.topics.entry(name.to_owned()).or_insert_with(|| Topic {
            id: Uuid::new_v4(),
            partitions: (0..partitions).map(|_| Log::default()).collect(),
            configs: BTreeMap::new(),
        });
    }

    /// Appends an already-built batch whose base offset is the log's next offset.
    pub(crate) fn push_batch(&self, topic: &str, partition: usize, batch: Bytes) {
        let mut d = self.data();
        let log = &mut d.topics.get_mut(topic).unwrap().partitions[partition];
        let base = i64::from_be_bytes(batch[0..8].try_into().unwrap());
        assert_eq!(base, log.next_offset, "batch must start at the log end");
        let last = base + i64::from(i32::from_be_bytes(batch[23..27].try_into().unwrap()));
        log.batches.push((base, last, 0, batch));
        log.next_offset = last + 1;
        drop(d);
        self.appended.notify_waiters();
    }

    /// Forgets every idempotent producer (as a broker does when their state expires).
    pub(crate) fn forget_producers(&self) {
        for t in self.data().topics.values_mut() {
            for p in &mut t.partitions {
                p.producers.clear();
            }
        }
    }

    /// Every record value of a partition, in offset order, decoded.
    pub(crate) fn values(&self, topic: &str, partition: usize) -> Vec<Bytes> {
        let d = self.data();
        let mut out = Vec::new();
        for (_, _, _, bytes) in &d.topics[topic].partitions[partition].batches {
            let set = crate::records::decode_record_set(bytes, 1 << 24).unwrap();
            for b in set.batches {
                out.extend(b.records.into_iter().filter_map(|r| r.value));
            }
        }
        out
    }

    pub(crate) fn count(&self, api: ApiKey) -> usize {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|(k, _)| *k == api as i16)
            .count()
    }
}

/// A running fake broker on 127.0.0.1.
pub(crate) struct FakeBroker {
    pub(crate) addr: String,
    pub(crate) state: Arc<FakeState>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeBroker {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Security of a fake broker's listener.
#[derive(Default)]
pub(crate) struct Listener {
    /// Speak TLS with this acceptor.
    pub(crate) tls: Option<tokio_rustls::TlsAcceptor>,
    /// Require SASL with these users (name -> password) and mechanisms.
    pub(crate) sasl: Option<sasl_server::Users>,
}

impl FakeBroker {
    pub(crate) async fn start() -> FakeBroker {
        Self::start_with(Listener::default()).await
    }

    pub(crate) async fn start_with(security: Listener) -> FakeBroker {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        Self::serve_on(listener, security)
    }

    /// A fresh fake (empty state) on `addr`, e.g. where a dropped one listened: a broker that
    /// came back. Binding is retried until the old listener's task has let go of the port.
    pub(crate) async fn start_on(addr: &str) -> FakeBroker {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            match TcpListener::bind(addr).await {
                Ok(listener) => return Self::serve_on(listener, Listener::default()),
                Err(_) if tokio::time::Instant::now() < deadline => {
                    tokio::task::yield_now().await;
                }
                Err(e) => panic!("bind {addr}: {e}"),
            }
        }
    }

    fn serve_on(listener: TcpListener, security: Listener) -> FakeBroker {
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(FakeState {
            host: addr.ip().to_string(),
            port: i32::from(addr.port()),
            ..Default::default()
        });
        let st = state.clone();
        let users = security.sasl.map(Arc::new);
        let tls = security.tls;
        let task = tokio::spawn(async move {
            let mut conns = tokio::task::JoinSet::new();
            while let Ok((sock, _)) = listener.accept().await {
                let st = st.clone();
                let users = users.clone();
                match tls.clone() {
                    None => {
                        conns.spawn(serve(sock, st, users));
                    }
                    Some(acceptor) => {
                        conns.spawn(async move {
                            if let Ok(s) = acceptor.accept(sock).await {
                                serve(s, st, users).await;
                            }
                        });
                    }
                }
            }
        });
        FakeBroker {
            addr: addr.to_string(),
            state,
            task,
        }
    }
}

async fn serve<S>(sock: S, st: Arc<FakeState>, users: Option<Arc<sasl_server::Users>>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + 'static,
{
    let (mut rd, wr) = tokio::io::split(sock);
    let mut sasl = sasl_server::Session::default();
    let wr = Arc::new(tokio::sync::Mutex::new(wr));
    let mut tasks = tokio::task::JoinSet::new();
    // Requests are handled and answered in order, as Kafka does (it reads no further request
    // of a connection until the previous one is answered): each request's task waits for
    // the previous one's turn before it is handled. Handling them concurrently let two
    // pipelined Produce requests of librdkafka append out of order.
    let mut prev: Option<tokio::sync::oneshot::Receiver<()>> = None;
    loop {
        let mut len = [0u8; 4];
        if rd.read_exact(&mut len).await.is_err() {
            return;
        }
        let len = i32::from_be_bytes(len) as usize;
        if len > 64 << 20 {
            return; // not a Kafka client (a TLS hello, HTTP, ...)
        }
        let mut buf = vec![0u8; len];
        if rd.read_exact(&mut buf).await.is_err() {
            return;
        }
        let mut buf = Bytes::from(buf);
        let header = kafka_protocol::protocol::decode_request_header_from_buffer(&mut buf).unwrap();
        st.seen
            .lock()
            .unwrap()
            .push((header.request_api_key, header.request_api_version));
        st.received.notify_waiters();
        let key = header.request_api_key;
        {
            let mut f = st.faults();
            if let Some(n) = f.drops.get_mut(&key)
                && *n > 0
            {
                *n -= 1;
                return;
            }
        }
        // SASL is per connection: answered here, in order, before anything else is allowed.
        let sasl_reply = match (&users, key) {
            (Some(u), 17 | 36) => Some(sasl.handle(u, &header, buf.clone())),
            (Some(_), 18) => None,
            (Some(_), _) if !sasl.authenticated => return, // Kafka closes the connection
            _ => None,
        };
        let (done_tx, done_rx) = tokio::sync::oneshot::channel();
        let my_turn = prev.replace(done_rx);
        let st2 = st.clone();
        let wr2 = wr.clone();
        tasks.spawn(async move {
            if let Some(t) = my_turn {
                let _ = t.await;
            }
            let delay = st2.faults().delays.get(&key).copied();
            let raw = st2.faults().raw_bodies.remove(&key);
            let reply = match (raw, sasl_reply) {
                (Some(b), _) => Reply::Body(b),
                (None, Some(r)) => r,
                (None, None) => handlers::handle(&st2, &header, buf).await,
            };
            if let Some(d) = delay {
                tokio::time::sleep(d).await;
            }
            let hold = st2.faults().hold_until.get(&key).copied();
            if let Some(n) = hold {
                let api = ApiKey::try_from(key).unwrap();
                loop {
                    let received = st2.received.notified();
                    if st2.count(api) >= n {
                        break;
                    }
                    received.await;
                }
            }
            let lose = {
                let mut f = st2.faults();
                match f.lose_responses.get_mut(&key) {
                    Some(n) if *n > 0 => {
                        *n -= 1;
                        true
                    }
                    _ => false,
                }
            };
            if lose {
                let _ = wr2.lock().await.shutdown().await;
                let _ = done_tx.send(());
                return;
            }
            match reply {
                Reply::Body(body) => {
                    let api = ApiKey::try_from(key).unwrap();
                    let hv = api.response_header_version(header.request_api_version);
                    let mut rh = ResponseHeader::default();
                    rh.correlation_id = header.correlation_id;
                    let mut out = BytesMut::new();
                    let size = rh.compute_size(hv).unwrap() + body.len();
                    out.put_i32(size as i32);
                    rh.encode(&mut out, hv).unwrap();
                    out.put_slice(&body);
                    let _ = wr2.lock().await.write_all(&out).await;
                }
                Reply::Nothing => {}
            }
            let _ = done_tx.send(());
        });
    }
}

/// Encodes a response body at `version`.
pub(crate) fn body<T: Encodable>(resp: &T, version: i16) -> Reply {
    let mut b = BytesMut::new();
    resp.encode(&mut b, version).unwrap();
    Reply::Body(b.freeze())
}

/// Decodes a request body at `version`.
pub(crate) fn decode<T: Decodable>(mut buf: Bytes, version: i16) -> T {
    T::decode(&mut buf, version).unwrap()
}

#[allow(dead_code)]
pub(crate) fn header_of(h: &RequestHeader) -> (i16, i16) {
    (h.request_api_key, h.request_api_version)
}
