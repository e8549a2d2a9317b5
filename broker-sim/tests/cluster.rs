//! A 3-node cluster in one process and the fault-injection API, over real sockets with
//! requests encoded by hand: leaders per node, injected errors (exact counts), latency on a
//! paused clock, dropped connections before and after handling, leader moves, nodes going
//! down (port refused) and coming back. `fault_log.rs` checks the `fault:` log lines.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

mod common;

use std::time::Duration;

use bytes::Bytes;
use common::{RawClient, batch};
use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::*;
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::records::Compression;
use kt_broker::{
    Cluster, ClusterConfig, ClusterHandle, DropConnection, DropPoint, InjectError, ResponseError,
};

async fn cluster(n: usize) -> ClusterHandle {
    let c = Cluster::start(ClusterConfig::for_tests(n)).await.unwrap();
    c.create_topic("t", 3).unwrap();
    c
}

fn name(s: &str) -> TopicName {
    TopicName(StrBytes::from_string(s.to_owned()))
}

fn produce_req(partition: i32, records: Bytes) -> ProduceRequest {
    ProduceRequest::default()
        .with_acks(-1)
        .with_timeout_ms(5000)
        .with_topic_data(vec![
            TopicProduceData::default()
                .with_name(name("t"))
                .with_partition_data(vec![
                    PartitionProduceData::default()
                        .with_index(partition)
                        .with_records(Some(records)),
                ]),
        ])
}

async fn connect(c: &ClusterHandle, node: i32) -> RawClient {
    RawClient::connect(c.node_addr(node).unwrap()).await
}

/// Produces one record to partition `p` through node `node`; returns the partition's error.
async fn produce(c: &ClusterHandle, node: i32, p: i32) -> i16 {
    let mut client = connect(c, node).await;
    let r: ProduceResponse = client
        .request(
            ApiKey::Produce,
            9,
            &produce_req(p, batch(&["x"], Compression::None)),
        )
        .await;
    r.responses[0].partition_responses[0].error_code
}

async fn metadata(client: &mut RawClient) -> MetadataResponse {
    client
        .request(
            ApiKey::Metadata,
            12,
            &MetadataRequest::default().with_topics(Some(vec![
                MetadataRequestTopic::default().with_name(Some(name("t"))),
            ])),
        )
        .await
}

#[tokio::test]
async fn every_node_answers_metadata_and_only_leaders_take_produce() {
    let c = cluster(3).await;
    assert_eq!(c.bootstrap().split(',').count(), 3);
    for node in 0..3 {
        let mut client = connect(&c, node).await;
        let m = metadata(&mut client).await;
        let ports: Vec<i32> = m.brokers.iter().map(|b| b.port).collect();
        let want: Vec<i32> = c.nodes().iter().map(|n| i32::from(n.addr.port())).collect();
        assert_eq!(ports, want);
        for p in m.topics[0].partitions.iter() {
            assert_eq!(p.leader_id.0, p.partition_index, "round-robin leaders");
        }
    }
    for p in 0..3 {
        for node in 0..3 {
            let want = if node == p {
                0
            } else {
                ResponseError::NotLeaderOrFollower.code()
            };
            assert_eq!(
                produce(&c, node, p).await,
                want,
                "partition {p} via node {node}"
            );
        }
        assert_eq!(c.partition_offsets("t", p), Some((0, 1)));
    }
    c.shutdown().await;
}

#[tokio::test]
async fn injected_errors_fail_exactly_the_requests_asked_for() {
    let c = cluster(1).await;
    c.inject_error(
        InjectError::new(ApiKey::Produce, ResponseError::NotEnoughReplicas)
            .times(2)
            .partition("t", 1),
    )
    .unwrap();
    // partition 0 is not affected and does not use the rule
    let mut client = connect(&c, 0).await;
    let leader_of = |p| produce_req(p, batch(&["x"], Compression::None));
    let r: ProduceResponse = client.request(ApiKey::Produce, 9, &leader_of(0)).await;
    assert_eq!(r.responses[0].partition_responses[0].error_code, 0);
    for _ in 0..2 {
        let r: ProduceResponse = client.request(ApiKey::Produce, 9, &leader_of(1)).await;
        assert_eq!(
            r.responses[0].partition_responses[0].error_code,
            ResponseError::NotEnoughReplicas.code()
        );
    }
    assert_eq!(c.pending_injected_errors(), 0);
    let r: ProduceResponse = client.request(ApiKey::Produce, 9, &leader_of(1)).await;
    assert_eq!(r.responses[0].partition_responses[0].error_code, 0);
    // the failed requests appended nothing
    assert_eq!(c.partition_offsets("t", 1), Some((0, 1)));

    // a whole-request error on an API without partitions
    c.inject_error(InjectError::new(
        ApiKey::FindCoordinator,
        ResponseError::CoordinatorLoadInProgress,
    ))
    .unwrap();
    let find = FindCoordinatorRequest::default().with_key(StrBytes::from_static_str("g"));
    let r: FindCoordinatorResponse = client.request(ApiKey::FindCoordinator, 3, &find).await;
    assert_eq!(
        r.error_code,
        ResponseError::CoordinatorLoadInProgress.code()
    );
    let r: FindCoordinatorResponse = client.request(ApiKey::FindCoordinator, 3, &find).await;
    assert_eq!(r.error_code, 0);
    // a filter that cannot apply is refused
    assert!(
        c.inject_error(
            InjectError::new(ApiKey::Heartbeat, ResponseError::NotCoordinator).topic("t")
        )
        .is_err()
    );
    c.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn latency_delays_every_request_of_the_api_on_tokio_time() {
    let c = cluster(1).await;
    // Below the raw client's 30 s response timeout, which runs on the same paused clock.
    c.set_latency(ApiKey::Metadata, Some(Duration::from_secs(5)));
    let mut client = connect(&c, 0).await;
    let start = tokio::time::Instant::now();
    metadata(&mut client).await;
    assert!(start.elapsed() >= Duration::from_secs(5));
    // other APIs are not delayed
    let start = tokio::time::Instant::now();
    let _: ApiVersionsResponse = client
        .request(ApiKey::ApiVersions, 3, &ApiVersionsRequest::default())
        .await;
    assert!(start.elapsed() < Duration::from_secs(5));
    c.set_latency(ApiKey::Metadata, None);
    let start = tokio::time::Instant::now();
    metadata(&mut client).await;
    assert!(start.elapsed() < Duration::from_secs(5));
    c.shutdown().await;
}

#[tokio::test]
async fn dropped_requests_before_handling_have_no_effect_after_handling_they_do() {
    let c = cluster(1).await;
    c.drop_connection_on(DropConnection::new(
        ApiKey::Produce,
        DropPoint::BeforeHandling,
    ));
    let mut client = connect(&c, 0).await;
    client
        .send(
            ApiKey::Produce,
            9,
            &produce_req(0, batch(&["lost"], Compression::None)),
        )
        .await;
    assert!(client.closed_by_server().await);
    assert_eq!(c.partition_offsets("t", 0), Some((0, 0)));

    c.drop_connection_on(DropConnection::new(
        ApiKey::Produce,
        DropPoint::AfterHandling,
    ));
    let mut client = connect(&c, 0).await;
    client
        .send(
            ApiKey::Produce,
            9,
            &produce_req(0, batch(&["kept"], Compression::None)),
        )
        .await;
    assert!(client.closed_by_server().await);
    assert_eq!(c.partition_offsets("t", 0), Some((0, 1)));
    // spent: the next one is answered
    assert_eq!(produce(&c, 0, 0).await, 0);
    c.shutdown().await;
}

#[tokio::test]
async fn drop_connections_closes_open_ones_and_new_ones_work() {
    let c = cluster(2).await;
    let mut on0 = connect(&c, 0).await;
    let mut on1 = connect(&c, 1).await;
    metadata(&mut on0).await;
    metadata(&mut on1).await;
    c.drop_connections(Some(0)).await;
    assert!(on0.closed_by_server().await);
    // node 1's connection is untouched
    metadata(&mut on1).await;
    let mut again = connect(&c, 0).await;
    metadata(&mut again).await;
    c.drop_connections(None).await;
    assert!(on1.closed_by_server().await);
    assert!(again.closed_by_server().await);
    c.shutdown().await;
}

#[tokio::test]
async fn moving_a_leader_redirects_produce_and_bumps_the_epoch() {
    let c = cluster(3).await;
    assert_eq!(c.partition_leader("t", 0), Some((0, 0)));
    assert_eq!(c.move_leader("t", 0, 2).unwrap(), 1);
    let mut client = connect(&c, 0).await;
    let r: ProduceResponse = client
        .request(
            ApiKey::Produce,
            10,
            &produce_req(0, batch(&["x"], Compression::None)),
        )
        .await;
    let p = &r.responses[0].partition_responses[0];
    assert_eq!(p.error_code, ResponseError::NotLeaderOrFollower.code());
    assert_eq!(
        (p.current_leader.leader_id.0, p.current_leader.leader_epoch),
        (2, 1)
    );
    assert_eq!(
        r.node_endpoints[0].port,
        i32::from(c.node_addr(2).unwrap().port())
    );
    let m = metadata(&mut client).await;
    let p0 = &m.topics[0].partitions[0];
    assert_eq!((p0.leader_id.0, p0.leader_epoch), (2, 1));
    assert_eq!(produce(&c, 2, 0).await, 0);
    assert!(c.move_leader("t", 0, 9).is_err());
    c.shutdown().await;
}

#[tokio::test]
async fn a_node_down_refuses_connections_and_keeps_its_data() {
    let c = cluster(3).await;
    assert_eq!(produce(&c, 1, 1).await, 0);
    let mut open = connect(&c, 1).await;
    let addr = c.node_addr(1).unwrap();
    c.stop_node(1).await.unwrap();
    assert!(open.closed_by_server().await);
    let refused = tokio::net::TcpStream::connect(addr).await.unwrap_err();
    assert_eq!(refused.kind(), std::io::ErrorKind::ConnectionRefused);
    assert!(c.stop_node(1).await.is_err());
    assert!(!c.nodes()[1].up);
    // the partition moved, with its record, and the survivors say so
    let (leader, epoch) = c.partition_leader("t", 1).unwrap();
    assert!(leader == 0 || leader == 2);
    assert_eq!(epoch, 1);
    let mut client = connect(&c, 0).await;
    let m = metadata(&mut client).await;
    assert_eq!(m.brokers.len(), 2);
    assert_eq!(m.topics[0].partitions[1].leader_id.0, leader);
    assert_eq!(produce(&c, leader, 1).await, 0);
    assert_eq!(c.partition_offsets("t", 1), Some((0, 2)));

    c.start_node(1).await.unwrap();
    assert!(c.start_node(1).await.is_err());
    let mut back = connect(&c, 1).await;
    let m = metadata(&mut back).await;
    assert_eq!(m.brokers.len(), 3);
    // leadership stays where it moved
    assert_eq!(c.partition_leader("t", 1), Some((leader, 1)));
    c.shutdown().await;
}
