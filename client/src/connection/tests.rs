//! Socket tests of [`Connection`] against the in-test fake broker.

use std::time::Duration;

use kafka_protocol::messages::{ApiKey, MetadataRequest};
use kafka_protocol::protocol::StrBytes;

use super::{Connection, ConnectionConfig};
use crate::error::Error;
use crate::testing::FakeBroker;

fn config() -> ConnectionConfig {
    ConnectionConfig {
        client_id: StrBytes::from_static_str("kt-test"),
        connect_timeout: Duration::from_secs(5),
        request_timeout: Duration::from_secs(5),
        max_response_size: 1 << 20,
        metrics: Default::default(),
        security: Default::default(),
    }
}

fn metadata_all() -> MetadataRequest {
    let mut r = MetadataRequest::default();
    r.topics = None;
    r
}

#[tokio::test]
async fn negotiates_and_sends_requests() {
    let b = FakeBroker::start().await;
    b.state.create_topic("t", 3);
    let c = Connection::connect(&b.addr, &config()).await.unwrap();
    let v = c.version(ApiKey::Metadata).unwrap();
    assert_eq!(v, 12);
    let resp = c
        .send(&metadata_all(), v, Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(resp.topics.len(), 1);
    assert_eq!(resp.topics[0].partitions.len(), 3);
    // ApiVersions v3 was accepted first time.
    assert_eq!(
        b.state.seen.lock().unwrap()[0],
        (ApiKey::ApiVersions as i16, 3)
    );
}

#[tokio::test]
async fn several_requests_in_flight() {
    let b = FakeBroker::start().await;
    b.state.create_topic("t", 1);
    // The fake answers no Metadata request before it has received eight: a client that
    // waited for each response before sending the next request would never finish.
    b.state
        .faults()
        .hold_until
        .insert(ApiKey::Metadata as i16, 8);
    let c = Connection::connect(&b.addr, &config()).await.unwrap();
    let v = c.version(ApiKey::Metadata).unwrap();
    let req = metadata_all();
    let futs = (0..8).map(|_| c.send(&req, v, Duration::from_secs(10)));
    let results = futures::future::join_all(futs).await;
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(b.state.count(ApiKey::Metadata), 8);
}

#[tokio::test]
async fn dropped_socket_poisons_every_waiter() {
    let b = FakeBroker::start().await;
    b.state
        .faults()
        .delays
        .insert(ApiKey::Metadata as i16, Duration::from_millis(300));
    let c = Connection::connect(&b.addr, &config()).await.unwrap();
    let v = c.version(ApiKey::Metadata).unwrap();
    let req = metadata_all();
    // Two slow requests in flight, then a third whose arrival makes the fake drop the socket.
    let first = c.send(&req, v, Duration::from_secs(10));
    let second = c.send(&req, v, Duration::from_secs(10));
    let dropper = async {
        // Wait until the two requests reached the broker before arming the drop.
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while b.state.count(ApiKey::Metadata) < 2 {
            assert!(std::time::Instant::now() < deadline);
            tokio::task::yield_now().await;
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        b.state.faults().drops.insert(ApiKey::Metadata as i16, 1);
        c.send(&req, v, Duration::from_secs(10)).await
    };
    let (r1, r2, r3) = tokio::join!(first, second, dropper);
    for r in [r1.map(|_| ()), r2.map(|_| ()), r3.map(|_| ())] {
        assert!(
            matches!(
                r,
                Err(Error::ConnectionClosed { .. }) | Err(Error::Io { .. })
            ),
            "{r:?}"
        );
    }
    assert!(c.is_closed());
    let again = c.send(&req, v, Duration::from_secs(1)).await;
    assert!(matches!(
        again,
        Err(Error::ConnectionClosed { .. }) | Err(Error::Io { .. })
    ));
}

#[tokio::test]
async fn kip_511_fallback_to_older_api_versions() {
    let b = FakeBroker::start().await;
    b.state.faults().api_versions_max = Some(2);
    let c = Connection::connect(&b.addr, &config()).await.unwrap();
    let seen: Vec<(i16, i16)> = b.state.seen.lock().unwrap().clone();
    assert_eq!(seen, vec![(18, 3), (18, 2)]);
    assert_eq!(c.broker_range(ApiKey::ApiVersions), Some((0, 2)));
    assert!(c.version(ApiKey::Fetch).is_ok());
}

#[tokio::test]
async fn refused_connection_is_its_own_error() {
    // Bind then drop a listener to get a port nobody listens on.
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap().to_string();
    drop(l);
    let e = Connection::connect(&addr, &config()).await.unwrap_err();
    assert!(matches!(e, Error::ConnectionRefused { .. }), "{e:?}");
}

#[tokio::test]
async fn timeout_poisons_and_dropped_waiters_are_forgotten() {
    let b = FakeBroker::start().await;
    b.state
        .faults()
        .delays
        .insert(ApiKey::Metadata as i16, Duration::from_millis(500));
    let c = Connection::connect(&b.addr, &config()).await.unwrap();
    let v = c.version(ApiKey::Metadata).unwrap();
    // A caller that gives up early (future dropped): its entry is removed.
    let dropped = tokio::time::timeout(
        Duration::from_millis(20),
        c.send(&metadata_all(), v, Duration::from_secs(10)),
    )
    .await;
    assert!(dropped.is_err());
    assert!(c.inner.shared.lock().pending.is_empty());
    assert!(!c.is_closed());
    // A request timeout poisons the connection.
    let e = c
        .send(&metadata_all(), v, Duration::from_millis(50))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Timeout(_)), "{e:?}");
    assert!(c.is_closed());
}

#[tokio::test]
async fn oversized_frames_are_rejected() {
    let b = FakeBroker::start().await;
    for i in 0..50 {
        b.state
            .create_topic(&format!("topic-with-a-long-name-{i}"), 20);
    }
    let mut cfg = config();
    cfg.max_response_size = 2048;
    let c = Connection::connect(&b.addr, &cfg).await.unwrap();
    let v = c.version(ApiKey::Metadata).unwrap();
    let e = c
        .send(&metadata_all(), v, Duration::from_secs(5))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("limit"), "{e}");
}

/// A broker that answers Metadata with a count of a billion brokers in a 10-byte body: the
/// client refuses it before decoding (no huge allocation, no abort) and says why.
#[tokio::test]
async fn hostile_response_counts_are_refused_before_decoding() {
    let b = FakeBroker::start().await;
    let c = Connection::connect(&b.addr, &config()).await.unwrap();
    let v = c.version(ApiKey::Metadata).unwrap();
    // v12: throttle (4 bytes), then a compact array count of 2^30 and a few bytes.
    let mut body = vec![0, 0, 0, 0];
    body.extend_from_slice(&[0x81, 0x80, 0x80, 0x80, 0x04, 0, 0]);
    b.state
        .faults()
        .raw_bodies
        .insert(ApiKey::Metadata as i16, bytes::Bytes::from(body));
    let e = c
        .send(&metadata_all(), v, Duration::from_secs(5))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Protocol(_)), "{e:?}");
    assert!(e.to_string().contains("refused before decoding"), "{e}");
    // The connection stays usable.
    c.send(&metadata_all(), v, Duration::from_secs(5))
        .await
        .unwrap();
}
