//! Consumer tests against the in-test fake broker.

use std::collections::BTreeMap;
use std::time::Duration;

use futures::StreamExt;
use kafka_protocol::messages::ApiKey;

use crate::Client;
use crate::config::{ConsumerConfig, OffsetReset, ProducerConfig};
use crate::error::KafkaCode;
use crate::producer::tests::client_for;
use crate::testing::FakeBroker;
use crate::types::{OffsetRange, ProducerRecord, TopicPartition};

/// Produces `n` records `prefix-i` to partition `p`, in batches of `per_batch`.
pub(super) async fn produce(
    client: &Client,
    topic: &str,
    p: i32,
    n: usize,
    per_batch: usize,
    prefix: &str,
) {
    let producer = client.producer(ProducerConfig {
        linger: Duration::from_secs(3600),
        ..Default::default()
    });
    let mut futs = Vec::new();
    for i in 0..n {
        let r = ProducerRecord::new(topic, format!("{prefix}-{i}")).with_partition(p);
        futs.push(producer.send(r).await.unwrap());
        if (i + 1) % per_batch == 0 {
            producer.flush().await.unwrap();
        }
    }
    producer.close().await.unwrap();
    for f in futs {
        f.await.unwrap();
    }
}

pub(super) fn earliest(group: Option<&str>) -> ConsumerConfig {
    ConsumerConfig {
        group_id: group.map(str::to_owned),
        auto_offset_reset: OffsetReset::Earliest,
        fetch_max_wait: Duration::from_millis(50),
        heartbeat_interval: Duration::from_millis(50),
        ..Default::default()
    }
}

pub(super) fn values(recs: &[crate::ConsumerRecord]) -> Vec<String> {
    recs.iter()
        .map(|r| String::from_utf8(r.value.clone().unwrap().to_vec()).unwrap())
        .collect()
}

/// Polls until `n` records arrived (or panics after 10 s).
pub(super) async fn poll_n(c: &mut crate::Consumer, n: usize) -> Vec<crate::ConsumerRecord> {
    let mut out = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while out.len() < n {
        assert!(
            std::time::Instant::now() < deadline,
            "got only {} of {n}",
            out.len()
        );
        out.extend(c.poll(Duration::from_millis(200)).await.unwrap());
    }
    out
}

#[tokio::test]
async fn assign_reads_from_earliest_and_seek_moves() {
    let b = FakeBroker::start().await;
    b.state.create_topic("t", 2);
    let client = client_for(&b).await;
    produce(&client, "t", 1, 10, 4, "v").await;
    let mut c = client.consumer(earliest(None));
    let tp = TopicPartition::new("t", 1);
    c.assign(vec![tp.clone()]).unwrap();
    let recs = poll_n(&mut c, 10).await;
    assert_eq!(
        values(&recs),
        (0..10).map(|i| format!("v-{i}")).collect::<Vec<_>>()
    );
    assert_eq!(
        recs.iter().map(|r| r.offset).collect::<Vec<_>>(),
        (0..10).collect::<Vec<_>>()
    );
    assert_eq!(c.position(&tp), Some(10));
    // Seek into the middle of a batch: earlier records of the batch are trimmed.
    c.seek(&tp, 5).unwrap();
    let recs = poll_n(&mut c, 5).await;
    assert_eq!(recs[0].offset, 5);
    assert_eq!(recs.len(), 5);
    assert!(
        c.seek(&TopicPartition::new("t", 0), 0).is_err(),
        "not assigned"
    );
    assert!(c.seek(&TopicPartition::new("other", 0), 0).is_err());
}

#[tokio::test]
async fn latest_reset_skips_old_records() {
    let b = FakeBroker::start().await;
    b.state.create_topic("t", 1);
    let client = client_for(&b).await;
    produce(&client, "t", 0, 3, 3, "old").await;
    let mut cfg = earliest(None);
    cfg.auto_offset_reset = OffsetReset::Latest;
    let mut c = client.consumer(cfg);
    c.assign(vec![TopicPartition::new("t", 0)]).unwrap();
    assert!(c.poll(Duration::from_millis(100)).await.unwrap().is_empty());
    assert_eq!(c.position(&TopicPartition::new("t", 0)), Some(3));
    produce(&client, "t", 0, 2, 2, "new").await;
    assert_eq!(values(&poll_n(&mut c, 2).await), vec!["new-0", "new-1"]);
}

#[tokio::test]
async fn out_of_range_resets_or_fails_per_policy() {
    let b = FakeBroker::start().await;
    b.state.create_topic("t", 1);
    let client = client_for(&b).await;
    produce(&client, "t", 0, 3, 3, "v").await;
    let tp = TopicPartition::new("t", 0);
    let mut c = client.consumer(earliest(None));
    c.assign(vec![tp.clone()]).unwrap();
    c.seek(&tp, 1000).unwrap();
    assert_eq!(values(&poll_n(&mut c, 3).await), vec!["v-0", "v-1", "v-2"]);

    let mut cfg = earliest(None);
    cfg.auto_offset_reset = OffsetReset::None;
    let mut strict = client.consumer(cfg);
    strict.assign(vec![tp.clone()]).unwrap();
    let e = strict.poll(Duration::from_millis(100)).await.unwrap_err();
    assert_eq!(e.kafka_code(), Some(KafkaCode::OffsetOutOfRange), "{e}");
    strict.seek(&tp, 1000).unwrap();
    let e = strict.poll(Duration::from_millis(100)).await.unwrap_err();
    assert_eq!(e.kafka_code(), Some(KafkaCode::OffsetOutOfRange), "{e}");
}

#[tokio::test]
async fn truncated_fetches_are_not_errors() {
    let b = FakeBroker::start().await;
    b.state.create_topic("t", 1);
    let client = client_for(&b).await;
    produce(&client, "t", 0, 6, 3, "v").await;
    b.state.faults().truncate_fetch = 5;
    let mut c = client.consumer(earliest(None));
    c.assign(vec![TopicPartition::new("t", 0)]).unwrap();
    // The second batch always arrives cut short: only the first is delivered.
    let recs = poll_n(&mut c, 3).await;
    assert_eq!(recs.len(), 3);
    assert!(c.poll(Duration::from_millis(100)).await.unwrap().is_empty());
    b.state.faults().truncate_fetch = 0;
    assert_eq!(values(&poll_n(&mut c, 3).await), vec!["v-3", "v-4", "v-5"]);
}

#[tokio::test]
async fn group_subscribe_join_commit_and_leave() {
    let b = FakeBroker::start().await;
    b.state.create_topic("t", 3);
    let client = client_for(&b).await;
    for p in 0..3 {
        produce(&client, "t", p, 4, 4, &format!("p{p}")).await;
    }
    let mut c = client.consumer(earliest(Some("g")));
    c.subscribe(&["t"]).await.unwrap();
    let assignment = c.join().await.unwrap();
    assert_eq!(assignment.len(), 3);
    // MEMBER_ID_REQUIRED (JoinGroup v4+) was answered by a second JoinGroup.
    assert_eq!(b.state.count(ApiKey::JoinGroup), 2);
    let recs = poll_n(&mut c, 12).await;
    assert_eq!(recs.len(), 12);
    c.commit_positions().await.unwrap();
    let committed = c.committed(&assignment).await.unwrap();
    assert!(committed.values().all(|o| *o == Some(4)), "{committed:?}");
    // A join when stable is cheap: no new JoinGroup.
    c.join().await.unwrap();
    assert_eq!(b.state.count(ApiKey::JoinGroup), 2);
    c.close().await.unwrap();
    assert_eq!(b.state.count(ApiKey::LeaveGroup), 1);

    // A new member of the same group starts from the committed offsets.
    produce(&client, "t", 0, 1, 1, "later").await;
    let mut c2 = client.consumer(earliest(Some("g")));
    c2.subscribe(&["t"]).await.unwrap();
    assert_eq!(values(&poll_n(&mut c2, 1).await), vec!["later-0"]);
}

#[tokio::test]
async fn heartbeat_signals_a_rebalance() {
    let b = FakeBroker::start().await;
    b.state.create_topic("t", 1);
    let client = client_for(&b).await;
    let mut c = client.consumer(earliest(Some("g")));
    c.subscribe(&["t"]).await.unwrap();
    c.join().await.unwrap();
    let joins = b.state.count(ApiKey::JoinGroup);
    b.state.inject_errors(ApiKey::Heartbeat, &[27]); // REBALANCE_IN_PROGRESS
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        c.join().await.unwrap();
        if b.state.count(ApiKey::JoinGroup) > joins {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no rejoin after REBALANCE_IN_PROGRESS"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(c.assignment(), vec![TopicPartition::new("t", 0)]);
}

#[tokio::test]
async fn manual_commit_and_committed() {
    let b = FakeBroker::start().await;
    b.state.create_topic("t", 2);
    let client = client_for(&b).await;
    let mut c = client.consumer(earliest(Some("manual")));
    let tps = vec![TopicPartition::new("t", 0), TopicPartition::new("t", 1)];
    c.assign(tps.clone()).unwrap();
    let none = c.committed(&tps).await.unwrap();
    assert!(none.values().all(Option::is_none));
    c.commit(&BTreeMap::from([(tps[1].clone(), 7)]))
        .await
        .unwrap();
    let got = c.committed(&tps).await.unwrap();
    assert_eq!(got[&tps[0]], None);
    assert_eq!(got[&tps[1]], Some(7));
    let mut no_group = client.consumer(earliest(None));
    assert!(no_group.commit(&BTreeMap::new()).await.is_err());
    assert!(no_group.subscribe(&["t"]).await.is_err());
}

#[tokio::test]
async fn fetch_ranges_returns_exactly_the_ranges() {
    let b = FakeBroker::start().await;
    b.state.create_topic("t", 2);
    let client = client_for(&b).await;
    produce(&client, "t", 0, 20, 7, "a").await;
    produce(&client, "t", 1, 5, 5, "b").await;
    let mut c = client.consumer(earliest(None));
    let r = |p, from, until| OffsetRange {
        tp: TopicPartition::new("t", p),
        from,
        until,
    };
    let recs = c
        .fetch_ranges(&[r(0, 3, 9), r(1, 1, 4), r(0, 15, 20), r(1, 2, 2)])
        .await
        .unwrap();
    let got: Vec<(i32, i64)> = recs.iter().map(|x| (x.partition, x.offset)).collect();
    let mut want: Vec<(i32, i64)> = (3..9).map(|o| (0, o)).collect();
    want.extend((1..4).map(|o| (1, o)));
    want.extend((15..20).map(|o| (0, o)));
    assert_eq!(got, want);
    assert_eq!(values(&recs[..1]), vec!["a-3"]);
    let e = c.fetch_ranges(&[r(1, 3, 9)]).await.unwrap_err();
    assert_eq!(e.kafka_code(), Some(KafkaCode::OffsetOutOfRange), "{e}");
    assert!(c.fetch_ranges(&[r(0, 5, 2)]).await.is_err());
}

#[tokio::test]
async fn stream_yields_records_in_order() {
    let b = FakeBroker::start().await;
    b.state.create_topic("t", 1);
    let client = client_for(&b).await;
    produce(&client, "t", 0, 7, 3, "s").await;
    let mut c = client.consumer(earliest(None));
    c.assign(vec![TopicPartition::new("t", 0)]).unwrap();
    let recs: Vec<_> = c.stream().take(7).collect().await;
    let offsets: Vec<i64> = recs.into_iter().map(|r| r.unwrap().offset).collect();
    assert_eq!(offsets, (0..7).collect::<Vec<_>>());
}

#[tokio::test]
async fn list_offsets_and_partitions_for() {
    let b = FakeBroker::start().await;
    b.state.create_topic("t", 3);
    let client = client_for(&b).await;
    produce(&client, "t", 2, 4, 4, "x").await;
    assert_eq!(client.partitions_for("t").await.unwrap(), vec![0, 1, 2]);
    let tp = TopicPartition::new("t", 2);
    let got = client
        .list_offsets(&[
            (tp.clone(), crate::OffsetSpec::Earliest),
            (TopicPartition::new("t", 0), crate::OffsetSpec::Latest),
        ])
        .await
        .unwrap();
    assert_eq!(got[&tp], 0);
    assert_eq!(got[&TopicPartition::new("t", 0)], 0);
    let latest = client
        .list_offsets(&[(tp.clone(), crate::OffsetSpec::Latest)])
        .await
        .unwrap();
    assert_eq!(latest[&tp], 4);
    let mut cfg = client.config().clone();
    cfg.request_timeout = Duration::from_millis(200);
    let impatient = Client::connect(cfg).await.unwrap();
    let e = impatient.partitions_for("missing").await.unwrap_err();
    assert_eq!(e.kafka_code(), Some(KafkaCode::UnknownTopicOrPartition));
}
