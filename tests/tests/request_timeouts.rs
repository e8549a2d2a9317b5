//! Produce requests that time out at the client while the broker still carries them out (an
//! injected latency longer than the client's request timeout): the idempotent producer
//! retries, the broker writes the delayed originals anyway, and still every record is in the
//! log exactly once, at the offset it was acknowledged with.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::time::Duration;

use kt_broker::ApiKey;
use kt_client::{
    ConsumerConfig, Idempotence, OffsetReset, OffsetSpec, ProducerConfig, ProducerRecord,
    TopicPartition,
};

const TOPIC: &str = "slow";
const PARTITIONS: i32 = 2;
const RECORDS: u32 = 200;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn produce_requests_that_time_out_but_were_written_are_not_duplicated() {
    let (cluster, client) =
        kt_tests::cluster_with_topic(1, Duration::from_millis(500), TOPIC, PARTITIONS).await;

    // Every Produce waits 1.5 s in the broker before it is handled: the client gives up on
    // each after 0.5 s, while the broker goes on to append it.
    cluster.set_latency(ApiKey::Produce, Some(Duration::from_millis(1500)));
    let producer = client.producer(ProducerConfig {
        idempotence: Idempotence::Required,
        linger: Duration::from_millis(2),
        batch_size: 1024,
        retry_backoff: Duration::from_millis(20),
        retry_backoff_max: Duration::from_millis(200),
        delivery_timeout: Duration::from_secs(60),
        ..Default::default()
    });
    let mut pending = Vec::new();
    for i in 0..RECORDS {
        let mut r = ProducerRecord::new(TOPIC, format!("v{i:04}"));
        r.partition = Some(i as i32 % PARTITIONS);
        pending.push((i, producer.send(r).await.unwrap()));
    }
    // Wait until requests timed out at the client and the delayed originals were written.
    let specs: Vec<_> = (0..PARTITIONS)
        .map(|p| (TopicPartition::new(TOPIC, p), OffsetSpec::Latest))
        .collect();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let written: i64 = client.list_offsets(&specs).await.unwrap().values().sum();
        let m = client.metrics();
        if written > 0 && m.retries > 0 && m.request_errors > 0 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{m:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    cluster.set_latency(ApiKey::Produce, None);

    let mut acked: BTreeMap<(i32, i64), String> = BTreeMap::new();
    for (i, d) in pending {
        let meta = tokio::time::timeout(Duration::from_secs(60), d)
            .await
            .expect("delivered")
            .expect("acknowledged");
        let again = acked.insert((meta.partition, meta.offset), format!("v{i:04}"));
        assert!(again.is_none(), "two records acknowledged at {meta:?}");
    }
    producer.close().await.unwrap();
    let m = client.metrics();
    println!(
        "{} requests, {} request errors, {} retries",
        m.requests, m.request_errors, m.retries
    );

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
    let end: i64 = client.list_offsets(&specs).await.unwrap().values().sum();
    assert_eq!(end, i64::from(RECORDS), "no record stored twice");
    let mut read: BTreeMap<(i32, i64), String> = BTreeMap::new();
    while read.len() < RECORDS as usize {
        assert!(
            tokio::time::Instant::now() < deadline,
            "read {}",
            read.len()
        );
        for r in c.poll(Duration::from_millis(200)).await.unwrap() {
            let v = String::from_utf8(r.value.unwrap().to_vec()).unwrap();
            read.insert((r.partition, r.offset), v);
        }
    }
    assert_eq!(read, acked, "every record once, where it was acknowledged");
    cluster.shutdown().await;
}
