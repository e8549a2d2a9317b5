//! The TLS listener: a certificate made at test time (rcgen: a CA and a server certificate for
//! 127.0.0.1), a raw rustls client doing produce and fetch, a plaintext client refused, and
//! kcat with `security.protocol=ssl` on librdkafka 2.0.2 (Debian) and 2.16 (the peers folder).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use common::{RawClient, TestBroker, batch, run};
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::*;
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion, StrBytes};
use kafka_protocol::records::{Compression, RecordBatchDecoder};
use kt_broker::{Broker, BrokerConfig};
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// A CA and a server certificate for 127.0.0.1 / localhost signed by it, as PEM files.
struct Certs {
    _dir: tempfile::TempDir,
    ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
    ca_der: CertificateDer<'static>,
}

fn certs() -> Certs {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "kt test CA");
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let params =
        rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .unwrap();
    let cert = params.signed_by(&key, &ca, &ca_key).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, pem: String| {
        let p = dir.path().join(name);
        std::fs::write(&p, pem).unwrap();
        p
    };
    Certs {
        ca: write("ca.pem", ca.pem()),
        cert: write("server.pem", cert.pem()),
        key: write("server.key", key.serialize_pem()),
        ca_der: ca.der().clone(),
        _dir: dir,
    }
}

fn tls_config(c: &Certs) -> BrokerConfig {
    BrokerConfig {
        tls_cert: Some(c.cert.clone()),
        tls_key: Some(c.key.clone()),
        ..BrokerConfig::for_tests()
    }
}

/// One request/response over any stream (the TLS session here).
async fn request<S, Req, Resp>(s: &mut S, key: ApiKey, v: i16, id: i32, req: &Req) -> Resp
where
    S: AsyncRead + AsyncWrite + Unpin,
    Req: Encodable + HeaderVersion,
    Resp: Decodable + HeaderVersion,
{
    let header = RequestHeader::default()
        .with_request_api_key(key as i16)
        .with_request_api_version(v)
        .with_correlation_id(id)
        .with_client_id(Some(StrBytes::from_static_str("tls-test")));
    let mut body = BytesMut::new();
    header.encode(&mut body, Req::header_version(v)).unwrap();
    req.encode(&mut body, v).unwrap();
    let mut frame = BytesMut::new();
    frame.put_i32(body.len() as i32);
    frame.extend_from_slice(&body);
    s.write_all(&frame).await.unwrap();
    let mut size = [0u8; 4];
    s.read_exact(&mut size).await.unwrap();
    let mut buf = vec![0u8; i32::from_be_bytes(size) as usize];
    s.read_exact(&mut buf).await.unwrap();
    let mut buf = Bytes::from(buf);
    assert_eq!(buf.get_i32(), id);
    if Resp::header_version(v) >= 1 {
        buf.advance(1);
    }
    Resp::decode(&mut buf, v).unwrap()
}

fn name(s: &str) -> TopicName {
    TopicName(StrBytes::from_string(s.to_owned()))
}

#[tokio::test]
async fn a_rustls_client_produces_and_fetches_and_plaintext_is_refused() {
    let c = certs();
    let b = Broker::start(tls_config(&c)).await.unwrap();
    b.create_topic("t", 1).unwrap();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(c.ca_der.clone()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(b.local_addr())
        .await
        .unwrap();
    let server = ServerName::try_from("127.0.0.1").unwrap();
    let mut s = connector.connect(server, tcp).await.unwrap();

    let produce = ProduceRequest::default()
        .with_acks(-1)
        .with_timeout_ms(5000)
        .with_topic_data(vec![
            TopicProduceData::default()
                .with_name(name("t"))
                .with_partition_data(vec![
                    PartitionProduceData::default()
                        .with_index(0)
                        .with_records(Some(batch(&["over", "tls"], Compression::None))),
                ]),
        ]);
    let r: ProduceResponse = request(&mut s, ApiKey::Produce, 9, 1, &produce).await;
    assert_eq!(r.responses[0].partition_responses[0].error_code, 0);
    let fetch = FetchRequest::default()
        .with_max_bytes(1 << 20)
        .with_topics(vec![
            FetchTopic::default()
                .with_topic(name("t"))
                .with_partitions(vec![
                    FetchPartition::default().with_partition_max_bytes(1 << 20),
                ]),
        ]);
    let r: FetchResponse = request(&mut s, ApiKey::Fetch, 12, 2, &fetch).await;
    let mut records = r.responses[0].partitions[0].records.clone().unwrap();
    let values: Vec<Bytes> = RecordBatchDecoder::decode_all(&mut records)
        .unwrap()
        .into_iter()
        .flat_map(|b| b.records)
        .map(|r| r.value.unwrap())
        .collect();
    assert_eq!(values, vec![Bytes::from("over"), Bytes::from("tls")]);

    // plaintext Kafka on the TLS port: closed, and the TLS client carries on
    let mut plain = RawClient::connect(b.local_addr()).await;
    plain
        .send(ApiKey::ApiVersions, 2, &ApiVersionsRequest::default())
        .await;
    assert!(plain.closed_by_server().await);
    let r: ApiVersionsResponse = request(
        &mut s,
        ApiKey::ApiVersions,
        2,
        3,
        &ApiVersionsRequest::default(),
    )
    .await;
    assert_eq!(r.error_code, 0);
    b.shutdown().await;
}

#[test]
fn tls_config_needs_both_files() {
    let config = BrokerConfig {
        tls_cert: Some("cert.pem".into()),
        ..BrokerConfig::for_tests()
    };
    assert!(config.validate().is_err());
}

/// kcat over TLS with `lib` (None: Debian's librdkafka) producing then consuming.
fn kcat_round_trip(kcat: &str, lib: Option<&Path>, c: &Certs) {
    let b = TestBroker::start_with(tls_config(c));
    b.handle().create_topic("secure", 1).unwrap();
    let base = |args: &[&str]| {
        let mut cmd = Command::new(kcat);
        if let Some(lib) = lib {
            cmd.env("LD_LIBRARY_PATH", lib);
        }
        cmd.arg("-b")
            .arg(b.bootstrap())
            .args(["-X", "security.protocol=ssl", "-X"])
            .arg(format!("ssl.ca.location={}", c.ca.display()))
            .args(args);
        cmd
    };
    let (status, _, err) = run(
        base(&["-P", "-t", "secure"]),
        Some("one\ntwo\nthree\n"),
        Duration::from_secs(60),
    );
    assert!(status.success(), "kcat -P over TLS failed: {err}");
    let (status, lines, err) = run(
        base(&["-C", "-t", "secure", "-o", "beginning", "-e", "-q"]),
        None,
        Duration::from_secs(60),
    );
    assert!(status.success(), "kcat -C over TLS failed: {err}");
    assert_eq!(lines, vec!["one", "two", "three"]);
    // and without TLS configured, kcat cannot talk to it
    let mut plain = Command::new(kcat);
    if let Some(lib) = lib {
        plain.env("LD_LIBRARY_PATH", lib);
    }
    plain.arg("-b").arg(b.bootstrap()).args(["-L", "-m", "3"]);
    let (status, _, _) = run(plain, None, Duration::from_secs(60));
    assert!(!status.success(), "plaintext kcat must not get metadata");
}

#[test]
fn kcat_over_tls_on_librdkafka_2_0() {
    let Some(kcat) = common::peer("/usr/bin/kcat", "kcat") else {
        return;
    };
    kcat_round_trip(&kcat, None, &certs());
}

#[test]
fn kcat_over_tls_on_librdkafka_2_16() {
    let Some(kcat) = common::peer("/usr/bin/kcat", "kcat") else {
        return;
    };
    let lib = common::peers_dir().join("librdkafka-2.16");
    let Some(_) = common::peer(
        &lib.join("librdkafka.so.1").to_string_lossy(),
        "librdkafka 2.16 (.ci/install-peers)",
    ) else {
        return;
    };
    kcat_round_trip(&kcat, Some(&lib), &certs());
}
