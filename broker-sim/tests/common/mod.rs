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
