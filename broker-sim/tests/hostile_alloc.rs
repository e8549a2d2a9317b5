//! The shape guard keeps hostile counts away from `kafka_protocol`'s decoders, which would
//! otherwise call `Vec::with_capacity` with them.
//!
//! The test re-runs this test binary under `prlimit --as=2GiB` (an address-space cap) with an
//! in-process broker, and sends an 18-byte Metadata v0 request whose topic array claims 54
//! million entries. Decoding it unguarded would ask for 54M x 72 bytes (about 3.9 GB) and abort
//! the capped process; guarded, the broker answers and the child exits 0.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

mod common;

use std::process::Command;

use common::RawClient;
use kafka_protocol::messages::{ApiVersionsRequest, ApiVersionsResponse, MetadataResponse};
use kt_broker::{Broker, BrokerConfig};

const INNER: &str = "KT_BROKER_HOSTILE_INNER";

async fn hostile_round_trip() {
    let b = Broker::start(BrokerConfig::for_tests()).await.unwrap();
    let mut c = RawClient::connect(b.local_addr()).await;
    // size 18 | api key 3 (Metadata) v0 | correlation id 5 | null client id | topics: 54M | ...
    let mut frame = vec![0, 0, 0, 18, 0, 3, 0, 0, 0, 0, 0, 5, 0xff, 0xff];
    frame.extend_from_slice(&54_000_000i32.to_be_bytes());
    frame.extend_from_slice(&[0, 1, b'a', 0]);
    c.send_raw(&frame).await;
    let r: MetadataResponse = c.recv(0, 5).await;
    assert!(r.topics.is_empty());
    // Same connection still works.
    let r: ApiVersionsResponse = c
        .request(
            kafka_protocol::messages::ApiKey::ApiVersions,
            0,
            &ApiVersionsRequest::default(),
        )
        .await;
    assert_eq!(r.error_code, 0);
    b.shutdown().await;
}

#[test]
fn hostile_count_is_refused_under_an_address_space_cap() {
    if std::env::var_os(INNER).is_some() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(hostile_round_trip());
        return;
    }
    let Some(prlimit) = common::peer("/usr/bin/prlimit", "prlimit (util-linux)") else {
        return;
    };
    let exe = std::env::current_exe().unwrap();
    let out = Command::new(prlimit)
        .arg("--as=2147483648")
        .arg(&exe)
        .args([
            "--exact",
            "hostile_count_is_refused_under_an_address_space_cap",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(INNER, "1")
        .env("MALLOC_ARENA_MAX", "2")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "capped child failed ({:?}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
