//! kt-client against a 3-node kt-broker cluster with faults: leader moves, injected
//! retriable errors, lost requests and dropped connections, a node going down. Every
//! acknowledged record must be read back exactly once, in order per partition.
//!
//! The producer is idempotent (kt's default; kt-broker checks sequences as Kafka does), so
//! even responses lost *after* the write (the connection drops before the answer) are
//! retried without duplicates; a plain producer is shown to duplicate in the same scenario.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::time::Duration;

use kt_broker::{ApiKey, ClusterHandle, DropConnection, DropPoint, InjectError, ResponseError};
use kt_client::{
    Client, ConsumerConfig, Idempotence, OffsetReset, ProducerConfig, ProducerRecord,
    TopicPartition,
};

const TOPIC: &str = "failover";
const PARTITIONS: i32 = 3;

async fn cluster() -> (ClusterHandle, Client) {
    kt_tests::cluster_with_topic(3, Duration::from_secs(5), TOPIC, PARTITIONS).await
}

fn producer_config() -> ProducerConfig {
    ProducerConfig {
        idempotence: Idempotence::Required,
        linger: Duration::from_millis(2),
        batch_size: 2048,
        retry_backoff: Duration::from_millis(20),
        retry_backoff_max: Duration::from_millis(200),
        delivery_timeout: Duration::from_secs(60),
        ..Default::default()
    }
}

/// Reads everything of the topic and returns the values per partition in offset order.
async fn read_all(client: &Client, expected: usize) -> BTreeMap<i32, Vec<String>> {
    let mut c = client.consumer(ConsumerConfig {
        auto_offset_reset: OffsetReset::Earliest,
        fetch_max_wait: Duration::from_millis(50),
        ..Default::default()
    });
    c.assign(
        (0..PARTITIONS)
            .map(|p| TopicPartition::new(TOPIC, p))
            .collect(),
    )
    .unwrap();
    let mut out: BTreeMap<i32, Vec<String>> = BTreeMap::new();
    let mut n = 0;
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while n < expected {
        assert!(
            std::time::Instant::now() < deadline,
            "read {n} of {expected}; {:?}; positions {:?}",
            client.metrics(),
            c.positions()
        );
        for r in c.poll(Duration::from_millis(200)).await.unwrap() {
            out.entry(r.partition)
                .or_default()
                .push(String::from_utf8(r.value.unwrap().to_vec()).unwrap());
            n += 1;
        }
    }
    // Nothing more arrives: no duplicates hiding behind the count.
    assert!(c.poll(Duration::from_millis(300)).await.unwrap().is_empty());
    out
}

/// Asserts that what was read is exactly what was acknowledged, in order per partition.
fn assert_exactly_once(
    acked: &BTreeMap<i32, Vec<(i64, String)>>,
    read: &BTreeMap<i32, Vec<String>>,
) {
    for p in 0..PARTITIONS {
        let mut want = acked.get(&p).cloned().unwrap_or_default();
        want.sort();
        let want: Vec<String> = want.into_iter().map(|(_, v)| v).collect();
        let got = read.get(&p).cloned().unwrap_or_default();
        assert_eq!(
            got, want,
            "partition {p}: read back differs from what was acknowledged"
        );
        // Values carry a per-partition sequence: order by value index must be offset order.
        let idx: Vec<u32> = got
            .iter()
            .map(|v| v.rsplit('-').next().unwrap().parse().unwrap())
            .collect();
        assert!(
            idx.windows(2).all(|w| w[0] < w[1]),
            "partition {p} out of order: {idx:?}"
        );
    }
}

/// Sends `per_partition` records to each partition in rounds, calling `fault` between
/// rounds; returns the acknowledged `(offset, value)` per partition.
async fn produce_with<F, Fut>(
    client: &Client,
    config: ProducerConfig,
    rounds: usize,
    per_round: usize,
    mut fault: F,
) -> BTreeMap<i32, Vec<(i64, String)>>
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let p = client.producer(config);
    let mut futs = Vec::new();
    let mut seq = [0u32; PARTITIONS as usize];
    for round in 0..rounds {
        fault(round).await;
        for i in 0..per_round {
            let part = (i % PARTITIONS as usize) as i32;
            let value = format!("p{part}-{}", seq[part as usize]);
            seq[part as usize] += 1;
            let r = ProducerRecord::new(TOPIC, value.clone()).with_partition(part);
            futs.push((value, p.send(r).await.unwrap()));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let mut acked: BTreeMap<i32, Vec<(i64, String)>> = BTreeMap::new();
    for (value, f) in futs {
        let md = f
            .await
            .unwrap_or_else(|e| panic!("{value} not delivered: {e}"));
        acked
            .entry(md.partition)
            .or_default()
            .push((md.offset, value));
    }
    p.close().await.unwrap();
    acked
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leader_moves_and_retriable_errors_lose_and_duplicate_nothing() {
    let (cluster, client) = cluster().await;
    let acked = produce_with(&client, producer_config(), 12, 30, |round| {
        let cluster = &cluster;
        async move {
            match round % 4 {
                1 => {
                    // Move partition 0's leader to the next node.
                    let (leader, _) = cluster.partition_leader(TOPIC, 0).unwrap();
                    cluster.move_leader(TOPIC, 0, (leader + 1) % 3).unwrap();
                }
                2 => cluster
                    .inject_error(
                        InjectError::new(ApiKey::Produce, ResponseError::NotLeaderOrFollower)
                            .times(2)
                            .partition(TOPIC, 1),
                    )
                    .unwrap(),
                3 => cluster.drop_connection_on(
                    DropConnection::new(ApiKey::Produce, DropPoint::BeforeHandling).times(1),
                ),
                _ => {
                    let (leader, _) = cluster.partition_leader(TOPIC, 2).unwrap();
                    cluster.move_leader(TOPIC, 2, (leader + 2) % 3).unwrap();
                }
            }
        }
    })
    .await;
    assert_eq!(acked.values().map(Vec::len).sum::<usize>(), 360);
    assert!(
        client.metrics().retries > 0,
        "the faults made the producer retry"
    );
    // Move leaders once more so the consumer fails over too.
    for p in 0..PARTITIONS {
        let (leader, _) = cluster.partition_leader(TOPIC, p).unwrap();
        cluster.move_leader(TOPIC, p, (leader + 1) % 3).unwrap();
    }
    cluster
        .inject_error(InjectError::new(ApiKey::Fetch, ResponseError::NotLeaderOrFollower).times(3))
        .unwrap();
    let read = read_all(&client, 360).await;
    assert_exactly_once(&acked, &read);
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_going_down_and_coming_back_loses_nothing() {
    let (cluster, client) = cluster().await;
    let (victim, _) = cluster.partition_leader(TOPIC, 1).unwrap();
    let acked = produce_with(&client, producer_config(), 10, 30, |round| {
        let cluster = &cluster;
        async move {
            if round == 3 {
                cluster.stop_node(victim).await.unwrap();
            }
            if round == 7 {
                cluster.start_node(victim).await.unwrap();
            }
        }
    })
    .await;
    assert_eq!(acked.values().map(Vec::len).sum::<usize>(), 300);
    // Every connection dropped now, while the consumer reads.
    cluster.drop_connections(None).await;
    let read = read_all(&client, 300).await;
    assert_exactly_once(&acked, &read);
    cluster.shutdown().await;
}

/// A consumer group keeps consuming through coordinator moves and leader moves; committed
/// offsets survive and a restarted member continues exactly where the group stopped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_consumption_survives_failover() {
    let (cluster, client) = cluster().await;
    let acked = produce_with(&client, producer_config(), 4, 30, |_| async {}).await;
    let config = || ConsumerConfig {
        auto_offset_reset: OffsetReset::Earliest,
        fetch_max_wait: Duration::from_millis(50),
        heartbeat_interval: Duration::from_millis(100),
        session_timeout: Duration::from_secs(6),
        enable_auto_commit: false,
        ..ConsumerConfig::with_group("failover-group")
    };
    let mut c = client.consumer(config());
    c.subscribe(&[TOPIC]).await.unwrap();
    let mut read: BTreeMap<i32, Vec<String>> = BTreeMap::new();
    let mut n = 0;
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while n < 60 {
        assert!(std::time::Instant::now() < deadline);
        for r in c.poll(Duration::from_millis(200)).await.unwrap() {
            read.entry(r.partition)
                .or_default()
                .push(String::from_utf8(r.value.unwrap().to_vec()).unwrap());
            n += 1;
        }
    }
    c.commit_positions().await.unwrap();
    c.close().await.unwrap();
    // The group's coordinator node goes down; leaders move off it.
    let coordinator = cluster.group_coordinator("failover-group").unwrap();
    cluster.stop_node(coordinator).await.unwrap();
    let mut c = client.consumer(config());
    c.subscribe(&[TOPIC]).await.unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while n < 120 {
        assert!(std::time::Instant::now() < deadline, "read {n} of 120");
        for r in c.poll(Duration::from_millis(200)).await.unwrap() {
            read.entry(r.partition)
                .or_default()
                .push(String::from_utf8(r.value.unwrap().to_vec()).unwrap());
            n += 1;
        }
    }
    assert!(c.poll(Duration::from_millis(300)).await.unwrap().is_empty());
    c.close().await.unwrap();
    assert_exactly_once(&acked, &read);
    cluster.shutdown().await;
}

/// Responses lost after the broker wrote the batch: the idempotent producer's retries carry
/// the same sequence numbers and the broker answers them from its cache, so every record is
/// there exactly once. The same faults with idempotence off duplicate records (the test
/// would catch a producer that silently stopped being idempotent).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_responses_never_duplicate_with_idempotence() {
    for idempotence in [Idempotence::Required, Idempotence::Disabled] {
        let (cluster, client) = cluster().await;
        let config = ProducerConfig {
            idempotence,
            ..producer_config()
        };
        let acked = produce_with(&client, config, 8, 30, |round| {
            let cluster = &cluster;
            async move {
                if round % 2 == 1 {
                    cluster.drop_connection_on(
                        DropConnection::new(ApiKey::Produce, DropPoint::AfterHandling).times(2),
                    );
                }
                if round == 4 {
                    let (leader, _) = cluster.partition_leader(TOPIC, 0).unwrap();
                    cluster.move_leader(TOPIC, 0, (leader + 1) % 3).unwrap();
                }
            }
        })
        .await;
        let total: usize = (0..PARTITIONS)
            .map(|p| {
                let (start, end) = cluster.partition_offsets(TOPIC, p).unwrap();
                usize::try_from(end - start).unwrap()
            })
            .sum();
        if idempotence == Idempotence::Required {
            assert_eq!(total, 240, "the log holds each record once");
            let read = read_all(&client, 240).await;
            assert_exactly_once(&acked, &read);
        } else {
            assert!(
                total > 240,
                "a plain producer duplicates after lost responses ({total})"
            );
        }
        cluster.shutdown().await;
    }
}
