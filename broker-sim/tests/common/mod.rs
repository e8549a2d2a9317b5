//! Test helpers: a raw Kafka client that encodes requests with `kafka-protocol` by hand (not
//! the kt client: the broker is checked against independent code), record batch building, and
//! peer-tool discovery.
#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::messages::{ApiKey, RequestHeader};
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion, StrBytes};
use kafka_protocol::records::{
    Compression, Record, RecordBatchEncoder, RecordEncodeOptions, TimestampType,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub const TIMEOUT: Duration = Duration::from_secs(30);

/// A bare protocol client over one TCP connection.
pub struct RawClient {
    pub stream: TcpStream,
    next_correlation_id: i32,
}

impl RawClient {
    pub async fn connect(addr: SocketAddr) -> Self {
        let stream = TcpStream::connect(addr).await.expect("connect to broker");
        stream.set_nodelay(true).unwrap();
        RawClient {
            stream,
            next_correlation_id: 1,
        }
    }

    /// Encodes header + body with a size prefix; returns the bytes and the correlation id.
    pub fn frame<R: Encodable + HeaderVersion>(
        &mut self,
        key: ApiKey,
        version: i16,
        req: &R,
    ) -> (Bytes, i32) {
        let correlation_id = self.next_correlation_id;
        self.next_correlation_id += 1;
        let header = RequestHeader::default()
            .with_request_api_key(key as i16)
            .with_request_api_version(version)
            .with_correlation_id(correlation_id)
            .with_client_id(Some(StrBytes::from_static_str("kt-broker-tests")));
        let mut body = BytesMut::new();
        header
            .encode(&mut body, R::header_version(version))
            .unwrap();
        req.encode(&mut body, version).unwrap();
        let mut framed = BytesMut::with_capacity(body.len() + 4);
        framed.put_i32(body.len() as i32);
        framed.extend_from_slice(&body);
        (framed.freeze(), correlation_id)
    }

    pub async fn send<R: Encodable + HeaderVersion>(
        &mut self,
        key: ApiKey,
        version: i16,
        req: &R,
    ) -> i32 {
        let (frame, id) = self.frame(key, version, req);
        self.stream.write_all(&frame).await.unwrap();
        id
    }

    pub async fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.unwrap();
    }

    /// Reads one response frame (without the size prefix); None on EOF.
    pub async fn recv_frame(&mut self) -> Option<Bytes> {
        let mut size = [0u8; 4];
        match tokio::time::timeout(TIMEOUT, self.stream.read_exact(&mut size))
            .await
            .expect("response in time")
        {
            Ok(_) => {}
            Err(_) => return None,
        }
        let mut buf = vec![0u8; i32::from_be_bytes(size) as usize];
        tokio::time::timeout(TIMEOUT, self.stream.read_exact(&mut buf))
            .await
            .expect("body in time")
            .ok()?;
        Some(Bytes::from(buf))
    }

    /// Reads a response and decodes it, checking the correlation id.
    pub async fn recv<Resp: Decodable + HeaderVersion>(
        &mut self,
        version: i16,
        correlation_id: i32,
    ) -> Resp {
        let mut frame = self.recv_frame().await.expect("a response, not EOF");
        let got = i32::from_be_bytes(frame[..4].try_into().unwrap());
        assert_eq!(got, correlation_id, "responses must come in request order");
        let header_len = if Resp::header_version(version) >= 1 {
            5
        } else {
            4
        };
        let _ = frame.split_to(header_len);
        let resp = Resp::decode(&mut frame, version).expect("decodable response");
        assert!(frame.is_empty(), "trailing bytes in response");
        resp
    }

    pub async fn request<Req, Resp>(&mut self, key: ApiKey, version: i16, req: &Req) -> Resp
    where
        Req: Encodable + HeaderVersion,
        Resp: Decodable + HeaderVersion,
    {
        let id = self.send(key, version, req).await;
        self.recv(version, id).await
    }

    /// True when the server closed the connection (EOF) within the timeout.
    pub async fn closed_by_server(&mut self) -> bool {
        let mut buf = [0u8; 64];
        loop {
            match tokio::time::timeout(TIMEOUT, self.stream.read(&mut buf)).await {
                Ok(Ok(0)) | Ok(Err(_)) => return true,
                Ok(Ok(_)) => continue,
                Err(_) => return false,
            }
        }
    }
}

/// A record batch encoded by `kafka-protocol`'s own encoder (independent of the broker's).
pub fn batch(values: &[&str], compression: Compression) -> Bytes {
    let records: Vec<Record> = values
        .iter()
        .enumerate()
        .map(|(i, v)| Record {
            transactional: false,
            control: false,
            delete_horizon: false,
            partition_leader_epoch: -1,
            producer_id: -1,
            producer_epoch: -1,
            timestamp_type: TimestampType::Creation,
            offset: i as i64,
            sequence: i as i32,
            timestamp: 1_700_000_000_000 + i as i64,
            key: None,
            value: Some(Bytes::from(v.to_string())),
            headers: Default::default(),
        })
        .collect();
    let mut buf = BytesMut::new();
    let options = RecordEncodeOptions {
        version: 2,
        compression,
    };
    RecordBatchEncoder::encode(&mut buf, &records, &options).unwrap();
    buf.freeze()
}

/// Path of a peer tool, or None (the caller prints a SKIPPED line unless CI=true, where a
/// missing peer is a failure).
pub fn peer(path: &str, what: &str) -> Option<String> {
    if std::path::Path::new(path).exists() {
        return Some(path.to_owned());
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{what} not found at {path} and CI=true: interop tests must run in CI");
    }
    println!("SKIPPED: {what} not found at {path}");
    eprintln!("SKIPPED: {what} not found at {path}");
    None
}

/// Where `.ci/install-peers` put the peers: `$KT_PEERS_DIR`, else `<workspace>/target/peers`.
pub fn peers_dir() -> std::path::PathBuf {
    match std::env::var_os("KT_PEERS_DIR") {
        Some(dir) => dir.into(),
        None => std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/peers"),
    }
}

/// A broker on its own multi-thread runtime, for tests that drive external processes with
/// blocking std::process calls.
pub struct TestBroker {
    pub rt: tokio::runtime::Runtime,
    pub handle: Option<kt_broker::BrokerHandle>,
}

impl TestBroker {
    pub fn start() -> Self {
        TestBroker::start_with(kt_broker::BrokerConfig::for_tests())
    }

    pub fn start_with(config: kt_broker::BrokerConfig) -> Self {
        init_logging();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let handle = rt.block_on(kt_broker::Broker::start(config)).unwrap();
        TestBroker {
            rt,
            handle: Some(handle),
        }
    }

    pub fn handle(&self) -> &kt_broker::BrokerHandle {
        self.handle.as_ref().unwrap()
    }

    pub fn bootstrap(&self) -> String {
        self.handle().bootstrap()
    }
}

impl Drop for TestBroker {
    fn drop(&mut self) {
        if let Some(h) = self.handle.take() {
            self.rt.block_on(h.shutdown());
        }
    }
}

/// A child process whose stdout lines arrive on a channel (read by a thread), with the
/// stderr collected for failure messages.
pub struct Spawned {
    pub child: std::process::Child,
    pub lines: std::sync::mpsc::Receiver<String>,
    pub stderr: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Spawned {
    pub fn new(mut cmd: std::process::Command, stdin: Option<&str>) -> Self {
        use std::io::{BufRead, Read, Write};
        use std::process::Stdio;
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        let mut input = child.stdin.take().unwrap();
        if let Some(data) = stdin {
            input.write_all(data.as_bytes()).unwrap();
        }
        drop(input);
        let (tx, lines) = std::sync::mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let mut err_pipe = child.stderr.take().unwrap();
        let sink = std::sync::Arc::clone(&stderr);
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = err_pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        Spawned {
            child,
            lines,
            stderr,
        }
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Waits for the process to exit; collects all stdout lines. Kills it at the deadline.
    pub fn finish(mut self, timeout: Duration) -> (std::process::ExitStatus, Vec<String>, String) {
        let deadline = std::time::Instant::now() + timeout;
        let mut out = Vec::new();
        loop {
            match self.lines.recv_timeout(Duration::from_millis(50)) {
                Ok(line) => out.push(line),
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            }
            if std::time::Instant::now() > deadline {
                let _ = self.child.kill();
                panic!(
                    "process did not finish within {timeout:?}; stderr:\n{}",
                    self.stderr()
                );
            }
        }
        let status = self.child.wait().unwrap();
        // stdout closed; give the stderr thread the rest of the pipe
        let err = self.stderr();
        (status, out, err)
    }

    /// Sends SIGTERM (graceful stop) through the `kill` command.
    pub fn terminate(&self) {
        let _ = std::process::Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
    }
}

/// Runs a command to completion with a timeout: (status, stdout lines, stderr).
pub fn run(
    cmd: std::process::Command,
    stdin: Option<&str>,
    timeout: Duration,
) -> (std::process::ExitStatus, Vec<String>, String) {
    Spawned::new(cmd, stdin).finish(timeout)
}

/// Broker logs in test output, filtered by RUST_LOG (e.g. RUST_LOG=kt_broker=debug).
pub fn init_logging() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}
