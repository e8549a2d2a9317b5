//! Retention and compaction run in the background on the kt broker (issue 3: "Retention and
//! compaction run in the background"), driven only by topic configs set through CreateTopics
//! and the broker's cleanup interval: no one calls the cleaner. Their per-batch logic is
//! unit-tested in `broker-sim/src/log/cleaner.rs`; this shows the timer drives it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use kt_broker::{Broker, BrokerConfig};
use kt_client::{Client, ConsumerConfig, NewTopic, OffsetReset, TopicPartition};
use kt_tests::{TIMEOUT, client, produce};

/// Every record of partition 0 of `topic` as (offset, key, value), read from the start.
async fn read_all(kt: &Client, topic: &str, end: i64) -> Vec<(i64, String, String)> {
    let mut c = kt.consumer(ConsumerConfig {
        auto_offset_reset: OffsetReset::Earliest,
        ..ConsumerConfig::default()
    });
    c.assign(vec![TopicPartition::new(topic, 0)]).unwrap();
    let mut out = Vec::new();
    let deadline = Instant::now() + TIMEOUT;
    while out.last().is_none_or(|(o, _, _)| *o + 1 < end) {
        for r in c.poll(Duration::from_millis(100)).await.unwrap() {
            let text = |b: Option<bytes::Bytes>| String::from_utf8_lossy(&b.unwrap()).into_owned();
            out.push((r.offset, text(r.key), text(r.value)));
        }
        assert!(Instant::now() < deadline, "read {out:?} of {topic}");
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_and_compaction_run_on_their_own() {
    let broker = Broker::start(BrokerConfig {
        listen: ([127, 0, 0, 1], 0).into(),
        log_cleanup_interval: Duration::from_millis(100),
        ..BrokerConfig::default()
    })
    .await
    .unwrap();
    let kt = client(&broker.bootstrap()).await;
    let mut sized = NewTopic::new("sized", 1, 1);
    sized.configs = vec![("retention.bytes".into(), "1".into())];
    let mut compacted = NewTopic::new("compacted", 1, 1);
    compacted.configs = vec![("cleanup.policy".into(), "compact".into())];
    kt.admin().create_topics(&[sized, compacted]).await.unwrap();

    // One batch per record (each produce call is flushed on its own).
    for (k, v) in [("k0", "a"), ("k0", "b"), ("k1", "x"), ("k0", "c")] {
        produce(&kt, "sized", &[(Some(k), v)]).await;
        produce(&kt, "compacted", &[(Some(k), v)]).await;
    }

    // retention.bytes=1: every stored batch is over the limit, so the cleaner drops them all
    // (in memory a unit is one batch; see the crate docs) and the log start reaches the end.
    let deadline = Instant::now() + TIMEOUT;
    while broker.partition_offsets("sized", 0) != Some((4, 4)) {
        assert!(
            Instant::now() < deadline,
            "retention never ran: {:?}",
            broker.partition_offsets("sized", 0)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // cleanup.policy=compact: the batches whose key has a later value go; offsets are kept.
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let read = read_all(&kt, "compacted", 4).await;
        let expected = vec![
            (2, "k1".to_owned(), "x".to_owned()),
            (3, "k0".into(), "c".into()),
        ];
        if read == expected {
            break;
        }
        assert!(Instant::now() < deadline, "compaction never ran: {read:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(broker.partition_offsets("compacted", 0), Some((0, 4)));
    broker.shutdown().await;
}
