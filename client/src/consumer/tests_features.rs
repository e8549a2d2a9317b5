//! Consumer features against the fake broker: fetch sessions, read_committed, pause/resume,
//! max_poll_records, async commits, pattern subscriptions, rebalance callbacks.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use kafka_protocol::messages::ApiKey;

use super::tests::{earliest, poll_n, produce, values};
use super::{Consumer, RebalanceListener};
use crate::config::{Compression, IsolationLevel};
use crate::producer::tests::client_for;
use crate::records::{ATTR_CONTROL, ATTR_TRANSACTIONAL, BatchBuilder};
use crate::testing::FakeBroker;
use crate::types::TopicPartition;

fn tp(t: &str, p: i32) -> TopicPartition {
    TopicPartition::new(t, p)
}

#[tokio::test]
async fn fetch_sessions_name_only_partitions_that_changed() {
    for sessions in [true, false] {
        let b = FakeBroker::start().await;
        b.state.faults().fetch_sessions = true;
        b.state.create_topic("t", 8);
        let client = client_for(&b).await;
        produce(&client, "t", 0, 3, 3, "a").await;
        let mut c = client.consumer(crate::ConsumerConfig {
            fetch_sessions: sessions,
            ..earliest(None)
        });
        c.assign((0..8).map(|p| tp("t", p)).collect()).unwrap();
        assert_eq!(values(&poll_n(&mut c, 3).await), vec!["a-0", "a-1", "a-2"]);
        for round in 0..3 {
            produce(&client, "t", 0, 2, 2, &format!("r{round}")).await;
            assert_eq!(poll_n(&mut c, 2).await.len(), 2);
        }
        let sizes = b.state.fetch_sizes.lock().unwrap().clone();
        assert_eq!(sizes[0], 8, "the first fetch is full: {sizes:?}");
        if sessions {
            assert!(
                sizes[1..].iter().all(|n| *n <= 1),
                "incremental fetches name only partition 0: {sizes:?}"
            );
        } else {
            assert!(sizes.iter().all(|n| *n == 8), "{sizes:?}");
        }
    }
}

/// An incremental Fetch that names no partition (nothing changed since the last one) still
/// gets records back by topic id once they arrive; they must be matched to the topic name
/// from the metadata, not only from the topics the request happened to name.
#[tokio::test]
async fn records_for_an_unchanged_session_partition_are_kept() {
    let b = FakeBroker::start().await;
    b.state.faults().fetch_sessions = true;
    b.state.create_topic("t", 2);
    let client = client_for(&b).await;
    produce(&client, "t", 0, 1, 1, "a").await;
    let mut c = client.consumer(earliest(None));
    c.assign(vec![tp("t", 0), tp("t", 1)]).unwrap();
    assert_eq!(values(&poll_n(&mut c, 1).await), vec!["a-0"]);
    // Idle polls: the session holds both partitions at their current offsets.
    for _ in 0..3 {
        assert!(c.poll(Duration::from_millis(60)).await.unwrap().is_empty());
    }
    produce(&client, "t", 1, 2, 2, "b").await;
    assert_eq!(values(&poll_n(&mut c, 2).await), vec!["b-0", "b-1"]);
    let sizes = b.state.fetch_sizes.lock().unwrap().clone();
    assert!(
        sizes.contains(&0),
        "an incremental fetch named no partition: {sizes:?}"
    );
}

#[tokio::test]
async fn a_lost_fetch_session_falls_back_to_a_full_fetch() {
    let b = FakeBroker::start().await;
    b.state.faults().fetch_sessions = true;
    b.state.create_topic("t", 2);
    let client = client_for(&b).await;
    produce(&client, "t", 1, 2, 2, "a").await;
    let mut c = client.consumer(earliest(None));
    c.assign(vec![tp("t", 0), tp("t", 1)]).unwrap();
    assert_eq!(poll_n(&mut c, 2).await.len(), 2);
    b.state.data().sessions.clear(); // the broker evicted the session
    produce(&client, "t", 1, 2, 2, "b").await;
    assert_eq!(values(&poll_n(&mut c, 2).await), vec!["b-0", "b-1"]);
    let sizes = b.state.fetch_sizes.lock().unwrap().clone();
    assert_eq!(sizes.iter().filter(|n| **n == 2).count(), 2, "{sizes:?}");
}

#[tokio::test]
async fn read_committed_skips_aborted_transactions() {
    let b = FakeBroker::start().await;
    b.state.create_topic("t", 1);
    let txn = |base: i64, pid: i64, values: &[&str]| {
        let mut bb = BatchBuilder::new(Compression::None)
            .with_attribute_bits(ATTR_TRANSACTIONAL)
            .with_producer(pid, 0, 0);
        for v in values {
            bb.append(0, None, Some(v.as_bytes()), &[]).unwrap();
        }
        bb.build(base).unwrap()
    };
    let marker = |base: i64, pid: i64, commit: bool| {
        let mut bb = BatchBuilder::new(Compression::None)
            .with_attribute_bits(ATTR_CONTROL | ATTR_TRANSACTIONAL)
            .with_producer(pid, 0, -1);
        bb.append(0, Some(&[0, 0, 0, u8::from(commit)]), Some(&[0; 6]), &[])
            .unwrap();
        bb.build(base).unwrap()
    };
    b.state
        .push_batch("t", 0, txn(0, 7, &["aborted-1", "aborted-2"]));
    b.state.push_batch("t", 0, txn(2, 8, &["committed-1"]));
    b.state.push_batch("t", 0, marker(3, 7, false));
    b.state.push_batch("t", 0, marker(4, 8, true));
    b.state.faults().aborted = vec![(7, 0)];
    let client = client_for(&b).await;
    let mut c = client.consumer(crate::ConsumerConfig {
        isolation_level: IsolationLevel::ReadCommitted,
        ..earliest(None)
    });
    c.assign(vec![tp("t", 0)]).unwrap();
    assert_eq!(values(&poll_n(&mut c, 1).await), vec!["committed-1"]);
    assert_eq!(
        c.position(&tp("t", 0)),
        Some(5),
        "markers advance the position"
    );
    let mut c = client.consumer(earliest(None));
    c.assign(vec![tp("t", 0)]).unwrap();
    assert_eq!(
        values(&poll_n(&mut c, 3).await),
        vec!["aborted-1", "aborted-2", "committed-1"]
    );
}

#[tokio::test]
async fn pause_resume_and_max_poll_records() {
    let b = FakeBroker::start().await;
    b.state.create_topic("t", 2);
    let client = client_for(&b).await;
    produce(&client, "t", 0, 10, 10, "p0").await;
    produce(&client, "t", 1, 10, 10, "p1").await;
    let mut c = client.consumer(crate::ConsumerConfig {
        max_poll_records: 3,
        ..earliest(None)
    });
    c.assign(vec![tp("t", 0), tp("t", 1)]).unwrap();
    c.pause(&[tp("t", 1)]).unwrap();
    assert_eq!(c.paused(), vec![tp("t", 1)]);
    let mut got = Vec::new();
    while got.len() < 10 {
        let batch = c.poll(Duration::from_millis(200)).await.unwrap();
        assert!(batch.len() <= 3, "max_poll_records: {}", batch.len());
        got.extend(batch);
    }
    assert!(got.iter().all(|r| r.partition == 0));
    // Nothing more while partition 1 is paused.
    assert!(c.poll(Duration::from_millis(100)).await.unwrap().is_empty());
    c.resume(&[tp("t", 1)]);
    let rest = poll_n(&mut c, 10).await;
    assert!(rest.iter().all(|r| r.partition == 1));
    assert_eq!(rest[0].offset, 0, "pausing skipped nothing");
    assert!(c.pause(&[tp("other", 0)]).is_err());
}

#[tokio::test]
async fn poll_batches_groups_by_partition() {
    let b = FakeBroker::start().await;
    b.state.create_topic("t", 2);
    let client = client_for(&b).await;
    produce(&client, "t", 0, 4, 4, "x").await;
    produce(&client, "t", 1, 4, 4, "y").await;
    let mut c = client.consumer(earliest(None));
    c.assign(vec![tp("t", 0), tp("t", 1)]).unwrap();
    let mut per: BTreeMap<TopicPartition, Vec<i64>> = BTreeMap::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while per.values().map(Vec::len).sum::<usize>() < 8 {
        assert!(std::time::Instant::now() < deadline);
        for batch in c.poll_batches(Duration::from_millis(200)).await.unwrap() {
            assert!(
                batch
                    .records
                    .iter()
                    .all(|r| r.partition == batch.tp.partition)
            );
            per.entry(batch.tp)
                .or_default()
                .extend(batch.records.iter().map(|r| r.offset));
        }
    }
    assert_eq!(per[&tp("t", 0)], vec![0, 1, 2, 3]);
    assert_eq!(per[&tp("t", 1)], vec![0, 1, 2, 3]);
    assert_eq!(client.metrics().records_consumed, 8);
}

#[tokio::test]
async fn async_commits_land_in_order() {
    let b = FakeBroker::start().await;
    b.state.create_topic("t", 1);
    let client = client_for(&b).await;
    let mut c = client.consumer(earliest(Some("g")));
    c.assign(vec![tp("t", 0)]).unwrap();
    let mut futs = Vec::new();
    for off in [3, 7, 11] {
        let offsets = BTreeMap::from([(tp("t", 0), off)]);
        futs.push(c.commit_async(offsets).await.unwrap());
    }
    for f in futs {
        f.await.unwrap();
    }
    assert_eq!(
        c.committed(&[tp("t", 0)]).await.unwrap()[&tp("t", 0)],
        Some(11)
    );
    assert_eq!(b.state.count(ApiKey::OffsetCommit), 3);
    assert!(client.metrics().commits >= 3);
}

#[tokio::test]
async fn pattern_subscriptions_pick_up_new_topics() {
    let b = FakeBroker::start().await;
    b.state.create_topic("ev-a", 1);
    b.state.create_topic("other", 1);
    let mut cfg = crate::ClientConfig::new(b.addr.clone());
    cfg.metadata_max_age = Duration::from_millis(100);
    cfg.retry_backoff = Duration::from_millis(10);
    let client = crate::Client::connect(cfg).await.unwrap();
    let mut c = client.consumer(earliest(Some("g")));
    c.subscribe_pattern("ev-.*").await.unwrap();
    c.join().await.unwrap();
    assert_eq!(c.assignment(), vec![tp("ev-a", 0)]);
    assert_eq!(c.subscription(), vec!["ev-a"]);
    b.state.create_topic("ev-b", 1);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while c.assignment().len() < 2 {
        assert!(std::time::Instant::now() < deadline, "{:?}", c.assignment());
        c.poll(Duration::from_millis(50)).await.unwrap();
    }
    assert_eq!(c.assignment(), vec![tp("ev-a", 0), tp("ev-b", 0)]);
    assert!(c.subscribe_pattern("(").await.is_err(), "bad regex");
}

type Events = Vec<(&'static str, Vec<TopicPartition>)>;

/// Records every callback.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Events>>);

impl Recorder {
    fn take(&self) -> Events {
        std::mem::take(&mut self.0.lock().unwrap())
    }
}

impl RebalanceListener for Recorder {
    fn on_partitions_revoked<'a>(
        &'a mut self,
        consumer: &'a mut Consumer,
        partitions: &'a [TopicPartition],
    ) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            // The callback may use the consumer: commit what it holds.
            consumer.commit_positions().await.unwrap();
            self.0
                .lock()
                .unwrap()
                .push(("revoked", partitions.to_vec()));
        })
    }

    fn on_partitions_assigned<'a>(
        &'a mut self,
        _consumer: &'a mut Consumer,
        partitions: &'a [TopicPartition],
    ) -> BoxFuture<'a, ()> {
        self.0
            .lock()
            .unwrap()
            .push(("assigned", partitions.to_vec()));
        Box::pin(async {})
    }

    fn on_partitions_lost<'a>(
        &'a mut self,
        _consumer: &'a mut Consumer,
        partitions: &'a [TopicPartition],
    ) -> BoxFuture<'a, ()> {
        self.0.lock().unwrap().push(("lost", partitions.to_vec()));
        Box::pin(async {})
    }
}

#[tokio::test]
async fn listener_sees_eager_revocations_assignments_and_losses() {
    let b = FakeBroker::start().await;
    b.state.create_topic("a", 2);
    b.state.create_topic("b", 1);
    let client = client_for(&b).await;
    let rec = Recorder::default();
    let mut c = client.consumer(earliest(Some("g")));
    c.set_rebalance_listener(rec.clone());
    c.subscribe(&["a"]).await.unwrap();
    c.join().await.unwrap();
    assert_eq!(rec.take(), vec![("assigned", vec![tp("a", 0), tp("a", 1)])]);
    c.subscribe(&["b"]).await.unwrap();
    c.join().await.unwrap();
    assert_eq!(
        rec.take(),
        vec![
            ("revoked", vec![tp("a", 0), tp("a", 1)]),
            ("assigned", vec![tp("b", 0)])
        ]
    );
    // The coordinator no longer knows us: the partition is lost, not revoked.
    b.state.inject_errors(ApiKey::Heartbeat, &[25]); // UNKNOWN_MEMBER_ID
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        c.poll(Duration::from_millis(50)).await.unwrap();
        let events = rec.take();
        if !events.is_empty() {
            assert_eq!(
                events,
                vec![("lost", vec![tp("b", 0)]), ("assigned", vec![tp("b", 0)])]
            );
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no rejoin");
    }
}
