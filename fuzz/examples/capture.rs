//! A recording Kafka proxy: seeds the fuzz corpora from real traffic.
//!
//! ```text
//! cargo run --release --manifest-path fuzz/Cargo.toml --example capture -- \
//!     --listen 127.0.0.1:PROXY --upstream 127.0.0.1:BROKER --out DIR
//! ```
//!
//! Clients connect to the proxy; every frame is forwarded unchanged except Metadata and
//! FindCoordinator responses, whose broker ports equal to the upstream's are rewritten to the
//! proxy's so clients keep talking through it (the recorded copy is the broker's original).
//! Written under `DIR`, one file per distinct input, named by a hash of its content, in the
//! layout of each fuzz target's input:
//!
//! - `broker_requests/`: each request frame with its size prefix, and each connection's first
//!   frames (up to 64 KiB) as one session;
//! - `client_responses/`: `[api key i16][version i16]` + each response frame after its prefix;
//! - `broker_batch/`: the first record batch of every Produce partition;
//! - `client_records/`: the record set of every Produce partition and non-empty Fetch partition;
//! - `consumer_protocol/`: JoinGroup protocol metadata and SyncGroup assignments, both ways.
//!
//! Captured traffic is trusted (we drive the clients), but nothing here panics on odd frames:
//! what cannot be decoded is forwarded and recorded raw.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::*;
use kafka_protocol::protocol::{Decodable, Encodable};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};

const SESSION_MAX: usize = 64 * 1024;
const FRAME_MAX: usize = 16 << 20;

#[derive(Debug, Clone)]
struct Config {
    listen: SocketAddr,
    upstream: SocketAddr,
    out: PathBuf,
}

fn parse_args() -> Result<Config, String> {
    let mut args = std::env::args().skip(1);
    let (mut listen, mut upstream, mut out) = (None, None, None);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--listen" => listen = Some(value.parse().map_err(|e| format!("--listen: {e}"))?),
            "--upstream" => upstream = Some(value.parse().map_err(|e| format!("--upstream: {e}"))?),
            "--out" => out = Some(PathBuf::from(value)),
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    let listen: SocketAddr = listen.ok_or("--listen is required")?;
    let upstream: SocketAddr = upstream.ok_or("--upstream is required")?;
    if !listen.ip().is_loopback() || !upstream.ip().is_loopback() {
        return Err("capture only proxies loopback addresses".into());
    }
    Ok(Config {
        listen,
        upstream,
        out: out.ok_or("--out is required")?,
    })
}

#[tokio::main]
async fn main() {
    let config = match parse_args() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("capture: {e}");
            std::process::exit(2);
        }
    };
    let listener = match TcpListener::bind(config.listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("capture: cannot listen on {}: {e}", config.listen);
            std::process::exit(1);
        }
    };
    eprintln!(
        "capture: {} -> {}, writing to {}",
        config.listen,
        config.upstream,
        config.out.display()
    );
    let config = Arc::new(config);
    loop {
        let Ok((client, _)) = listener.accept().await else {
            continue;
        };
        let config = Arc::clone(&config);
        tokio::spawn(async move {
            match TcpStream::connect(config.upstream).await {
                Ok(upstream) => proxy(client, upstream, &config).await,
                Err(e) => eprintln!("capture: upstream {}: {e}", config.upstream),
            }
        });
    }
}

/// (api key, version) of each request in flight, by correlation id.
type InFlight = Arc<Mutex<HashMap<i32, (i16, i16)>>>;

async fn proxy(client: TcpStream, upstream: TcpStream, config: &Config) {
    let _ = client.set_nodelay(true);
    let _ = upstream.set_nodelay(true);
    let (cr, cw) = client.into_split();
    let (ur, uw) = upstream.into_split();
    let in_flight: InFlight = Arc::default();
    let requests = requests(cr, uw, Arc::clone(&in_flight), config);
    let responses = responses(ur, cw, in_flight, config);
    tokio::join!(requests, responses);
}

async fn read_frame(r: &mut OwnedReadHalf) -> Option<Bytes> {
    let size = r.read_i32().await.ok()?;
    let size = usize::try_from(size).ok().filter(|s| *s <= FRAME_MAX)?;
    let mut buf = BytesMut::zeroed(size);
    r.read_exact(&mut buf).await.ok()?;
    Some(buf.freeze())
}

async fn write_frame(w: &mut OwnedWriteHalf, frame: &[u8]) -> bool {
    let Ok(size) = i32::try_from(frame.len()) else {
        return false;
    };
    w.write_all(&size.to_be_bytes()).await.is_ok() && w.write_all(frame).await.is_ok()
}

fn prefixed(frame: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(4 + frame.len());
    v.extend_from_slice(&(frame.len() as u32).to_be_bytes());
    v.extend_from_slice(frame);
    v
}

async fn requests(mut r: OwnedReadHalf, mut w: OwnedWriteHalf, in_flight: InFlight, c: &Config) {
    let mut session = Vec::new();
    while let Some(frame) = read_frame(&mut r).await {
        if frame.len() >= 8 {
            let key = i16::from_be_bytes([frame[0], frame[1]]);
            let version = i16::from_be_bytes([frame[2], frame[3]]);
            let correlation = i32::from_be_bytes([frame[4], frame[5], frame[6], frame[7]]);
            if let Ok(mut m) = in_flight.lock() {
                m.insert(correlation, (key, version));
            }
            record_request(key, version, &frame, c);
        }
        let one = prefixed(&frame);
        save(&c.out, "broker_requests", &one);
        if session.len() + one.len() <= SESSION_MAX {
            session.extend_from_slice(&one);
        }
        if !write_frame(&mut w, &frame).await {
            break;
        }
    }
    if !session.is_empty() {
        save(&c.out, "broker_requests", &session);
    }
    let _ = w.shutdown().await;
}

async fn responses(mut r: OwnedReadHalf, mut w: OwnedWriteHalf, in_flight: InFlight, c: &Config) {
    while let Some(frame) = read_frame(&mut r).await {
        let mut forward = frame.clone();
        if frame.len() >= 4 {
            let correlation = i32::from_be_bytes([frame[0], frame[1], frame[2], frame[3]]);
            let entry = in_flight
                .lock()
                .ok()
                .and_then(|mut m| m.remove(&correlation));
            if let Some((key, version)) = entry {
                let mut seed = Vec::with_capacity(4 + frame.len());
                seed.extend_from_slice(&key.to_be_bytes());
                seed.extend_from_slice(&version.to_be_bytes());
                seed.extend_from_slice(&frame);
                save(&c.out, "client_responses", &seed);
                if let Some(rewritten) = record_response(key, version, &frame, c) {
                    forward = rewritten;
                }
            }
        }
        if !write_frame(&mut w, &forward).await {
            break;
        }
    }
    let _ = w.shutdown().await;
}

fn decode<T: Decodable>(buf: &mut Bytes, version: i16) -> Option<T> {
    T::decode(buf, version).ok()
}

/// Splits a request frame into its body, after the header.
fn request_body(key: ApiKey, version: i16, frame: &Bytes) -> Option<Bytes> {
    let mut buf = frame.clone();
    let _: RequestHeader = decode(&mut buf, key.request_header_version(version))?;
    Some(buf)
}

fn record_request(key: i16, version: i16, frame: &Bytes, c: &Config) {
    let Ok(api) = ApiKey::try_from(key) else {
        return;
    };
    let Some(mut body) = request_body(api, version, frame) else {
        return;
    };
    match api {
        ApiKey::Produce => {
            let Some(req) = decode::<ProduceRequest>(&mut body, version) else {
                return;
            };
            for t in req.topic_data {
                for p in t.partition_data {
                    if let Some(records) = p.records {
                        save(&c.out, "client_records", &records);
                        save(&c.out, "broker_batch", first_batch(&records));
                    }
                }
            }
        }
        ApiKey::JoinGroup => {
            if let Some(req) = decode::<JoinGroupRequest>(&mut body, version) {
                for p in req.protocols {
                    save(&c.out, "consumer_protocol", &p.metadata);
                }
            }
        }
        ApiKey::SyncGroup => {
            if let Some(req) = decode::<SyncGroupRequest>(&mut body, version) {
                for a in req.assignments {
                    save(&c.out, "consumer_protocol", &a.assignment);
                }
            }
        }
        _ => {}
    }
}

/// The first batch of a record set, by its batchLength field.
fn first_batch(records: &[u8]) -> &[u8] {
    if records.len() < 12 {
        return records;
    }
    let len = i32::from_be_bytes([records[8], records[9], records[10], records[11]]);
    let end = usize::try_from(len).map_or(records.len(), |l| (l + 12).min(records.len()));
    &records[..end]
}

/// Records what a response carries; returns a rewritten frame for Metadata/FindCoordinator.
fn record_response(key: i16, version: i16, frame: &Bytes, c: &Config) -> Option<Bytes> {
    let api = ApiKey::try_from(key).ok()?;
    let header_version = api.response_header_version(version);
    let mut body = frame.clone();
    let header: ResponseHeader = decode(&mut body, header_version)?;
    let upstream_port = i32::from(c.upstream.port());
    let proxy_port = i32::from(c.listen.port());
    let encode = |header: &ResponseHeader, body: &dyn Fn(&mut BytesMut) -> Option<()>| {
        let mut out = BytesMut::new();
        header.encode(&mut out, header_version).ok()?;
        body(&mut out)?;
        Some(out.freeze())
    };
    match api {
        ApiKey::Fetch => {
            let resp: FetchResponse = decode(&mut body, version)?;
            for t in resp.responses {
                for p in t.partitions {
                    if let Some(records) = p.records.filter(|r| !r.is_empty()) {
                        save(&c.out, "client_records", &records);
                    }
                }
            }
            None
        }
        ApiKey::JoinGroup => {
            let resp: JoinGroupResponse = decode(&mut body, version)?;
            for m in resp.members {
                save(&c.out, "consumer_protocol", &m.metadata);
            }
            None
        }
        ApiKey::SyncGroup => {
            let resp: SyncGroupResponse = decode(&mut body, version)?;
            save(&c.out, "consumer_protocol", &resp.assignment);
            None
        }
        ApiKey::Metadata => {
            let mut resp: MetadataResponse = decode(&mut body, version)?;
            for b in &mut resp.brokers {
                if b.port == upstream_port {
                    b.port = proxy_port;
                }
            }
            encode(&header, &|out| resp.encode(out, version).ok())
        }
        ApiKey::FindCoordinator => {
            let mut resp: FindCoordinatorResponse = decode(&mut body, version)?;
            if resp.port == upstream_port {
                resp.port = proxy_port;
            }
            for co in &mut resp.coordinators {
                if co.port == upstream_port {
                    co.port = proxy_port;
                }
            }
            encode(&header, &|out| resp.encode(out, version).ok())
        }
        _ => None,
    }
}

/// FNV-1a, 64 bits: a stable content name without another dependency.
fn name(data: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in data {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}-{}", data.len())
}

fn save(out: &Path, target: &str, data: &[u8]) {
    if data.is_empty() {
        return;
    }
    let dir = out.join(target);
    if std::fs::create_dir_all(&dir).is_err() {
        return;
    }
    let path = dir.join(name(data));
    if !path.exists() {
        let _ = std::fs::write(path, data);
    }
}
