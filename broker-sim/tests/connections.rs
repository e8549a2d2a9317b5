//! Connection limits: `connections.max.idle.ms` (on a paused clock), `max.connections`, and
//! 1,000 concurrent clients served while a slow reader sits on a large fetch response and a
//! slow writer trickles a request.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

mod common;

use std::time::Duration;

use common::{RawClient, TIMEOUT, batch};
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::*;
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::records::Compression;
use kt_broker::{Broker, BrokerConfig, BrokerHandle};
use tokio::io::AsyncWriteExt;

fn name(s: &str) -> TopicName {
    TopicName(StrBytes::from_string(s.to_owned()))
}

fn fetch_req(offset: i64, max_wait_ms: i32, max_bytes: i32) -> FetchRequest {
    FetchRequest::default()
        .with_max_wait_ms(max_wait_ms)
        .with_min_bytes(1)
        .with_max_bytes(max_bytes)
        .with_topics(vec![
            FetchTopic::default()
                .with_topic(name("t"))
                .with_partitions(vec![
                    FetchPartition::default()
                        .with_fetch_offset(offset)
                        .with_partition_max_bytes(max_bytes),
                ]),
        ])
}

fn produce_req(values: &[&str]) -> ProduceRequest {
    ProduceRequest::default()
        .with_acks(1)
        .with_timeout_ms(5000)
        .with_topic_data(vec![
            TopicProduceData::default()
                .with_name(name("t"))
                .with_partition_data(vec![
                    PartitionProduceData::default()
                        .with_index(0)
                        .with_records(Some(batch(values, Compression::None))),
                ]),
        ])
}

async fn api_versions(c: &mut RawClient) {
    let r: ApiVersionsResponse = c
        .request(ApiKey::ApiVersions, 2, &ApiVersionsRequest::default())
        .await;
    assert_eq!(r.error_code, 0);
}

#[tokio::test(start_paused = true)]
async fn idle_connections_close_but_long_polls_do_not() {
    let b = Broker::start(BrokerConfig {
        connections_max_idle: Duration::from_secs(20),
        ..BrokerConfig::for_tests()
    })
    .await
    .unwrap();
    b.create_topic("t", 1).unwrap();
    let mut idle = RawClient::connect(b.local_addr()).await;
    api_versions(&mut idle).await;
    // a long poll of 25 s outlasts the idle limit: it is answered, not cut
    let mut polling = RawClient::connect(b.local_addr()).await;
    let start = tokio::time::Instant::now();
    let r: FetchResponse = polling
        .request(ApiKey::Fetch, 12, &fetch_req(0, 25_000, 1 << 20))
        .await;
    assert_eq!(r.responses[0].partitions[0].error_code, 0);
    assert!(start.elapsed() >= Duration::from_secs(25));
    // meanwhile the idle one was closed after 20 s
    assert!(idle.closed_by_server().await);
    // and the polling one is still usable, until it idles too
    api_versions(&mut polling).await;
    tokio::time::sleep(Duration::from_secs(21)).await;
    assert!(polling.closed_by_server().await);
    b.shutdown().await;
}

#[tokio::test]
async fn connections_past_the_limit_are_closed() {
    let b = Broker::start(BrokerConfig {
        max_connections: 3,
        ..BrokerConfig::for_tests()
    })
    .await
    .unwrap();
    let mut open = Vec::new();
    for _ in 0..3 {
        let mut c = RawClient::connect(b.local_addr()).await;
        api_versions(&mut c).await;
        open.push(c);
    }
    let mut over = RawClient::connect(b.local_addr()).await;
    assert!(over.closed_by_server().await);
    // one closes: a new connection gets in (once the broker has seen it go)
    drop(open.pop());
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    loop {
        let mut c = RawClient::connect(b.local_addr()).await;
        let (frame, _) = c.frame(ApiKey::ApiVersions, 2, &ApiVersionsRequest::default());
        c.send_raw(&frame).await;
        if c.recv_frame().await.is_some() {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no room after a close"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    b.shutdown().await;
}

/// Raises this process's soft open-file limit when it is too low for `needed` descriptors
/// (up to the hard limit, which needs no privilege).
fn ensure_fd_limit(needed: u64) -> bool {
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap_or_default();
    let field = |i: usize| {
        limits
            .lines()
            .find(|l| l.starts_with("Max open files"))
            .and_then(|l| l.split_whitespace().nth(i))
            .map(|v| v.parse::<u64>().unwrap_or(u64::MAX))
            .unwrap_or(0)
    };
    let (soft, hard) = (field(3), field(4));
    if soft >= needed {
        return true;
    }
    let ok = hard >= needed
        && std::process::Command::new("prlimit")
            .args(["--pid", &std::process::id().to_string()])
            .arg(format!("--nofile={needed}:{hard}"))
            .status()
            .is_ok_and(|s| s.success());
    if !ok {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("cannot raise the open-file limit to {needed} (soft {soft}, hard {hard})");
        }
        println!("SKIPPED: open-file limit {soft} (hard {hard}) < {needed}");
    }
    ok
}

async fn broker_with_big_partition() -> BrokerHandle {
    let b = Broker::start(BrokerConfig::for_tests()).await.unwrap();
    b.create_topic("t", 1).unwrap();
    let mut c = RawClient::connect(b.local_addr()).await;
    let big = "z".repeat(900 * 1024);
    for _ in 0..16 {
        let r: ProduceResponse = c.request(ApiKey::Produce, 9, &produce_req(&[&big])).await;
        assert_eq!(r.responses[0].partition_responses[0].error_code, 0);
    }
    b
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_clients_are_served_while_a_slow_reader_and_writer_stall() {
    if !ensure_fd_limit(2400) {
        return;
    }
    let b = broker_with_big_partition().await;
    let addr = b.local_addr();

    // The slow reader asks for ~14 MiB and does not read: the response cannot all go out.
    let mut slow_reader = RawClient::connect(addr).await;
    slow_reader
        .send(ApiKey::Fetch, 12, &fetch_req(0, 0, 16 << 20))
        .await;
    // The slow writer sends half a request and stops.
    let mut slow_writer = RawClient::connect(addr).await;
    let (frame, _) = slow_writer.frame(ApiKey::Metadata, 12, &MetadataRequest::default());
    slow_writer
        .stream
        .write_all(&frame[..frame.len() / 2])
        .await
        .unwrap();

    // 1,000 connections open at once, each doing a round trip while the others stay open.
    let mut clients = Vec::with_capacity(1000);
    for _ in 0..1000 {
        clients.push(RawClient::connect(addr).await);
    }
    let started = std::time::Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for (i, mut c) in clients.into_iter().enumerate() {
        tasks.spawn(async move {
            api_versions(&mut c).await;
            if i % 10 == 0 {
                let r: ProduceResponse = c.request(ApiKey::Produce, 9, &produce_req(&["x"])).await;
                assert_eq!(r.responses[0].partition_responses[0].error_code, 0);
                let r: FetchResponse = c
                    .request(ApiKey::Fetch, 12, &fetch_req(16, 0, 1 << 20))
                    .await;
                assert_eq!(r.responses[0].partitions[0].error_code, 0);
            }
            c
        });
    }
    let mut done = Vec::new();
    while let Some(c) = tokio::time::timeout(TIMEOUT, tasks.join_next())
        .await
        .expect("every client answered while the slow ones stall")
    {
        done.push(c.unwrap());
    }
    assert_eq!(done.len(), 1000);
    println!(
        "1000 clients served in {:?} with a slow reader and writer connected",
        started.elapsed()
    );
    assert_eq!(b.partition_offsets("t", 0), Some((0, 16 + 100)));

    // The slow writer finishes its request late and is answered; the slow reader still gets
    // every byte of its response.
    slow_writer
        .stream
        .write_all(&frame[frame.len() / 2..])
        .await
        .unwrap();
    assert!(slow_writer.recv_frame().await.is_some());
    let response = slow_reader.recv_frame().await.unwrap();
    assert!(response.len() > 14 << 20);
    // Shutdown does not wait on anyone.
    tokio::time::timeout(TIMEOUT, b.shutdown()).await.unwrap();
}

#[tokio::test]
async fn shutdown_is_not_held_up_by_a_client_that_never_reads() {
    let b = broker_with_big_partition().await;
    let mut stuck = RawClient::connect(b.local_addr()).await;
    stuck
        .send(ApiKey::Fetch, 12, &fetch_req(0, 0, 16 << 20))
        .await;
    // Whether the broker is still reading the request or already blocked writing ~14 MiB
    // into full socket buffers, shutdown must end it.
    tokio::time::timeout(TIMEOUT, b.shutdown())
        .await
        .expect("shutdown does not wait for a reader that never reads");
}
