//! Idempotent delivery against the fake broker, which checks sequence numbers as Kafka does
//! (de-duplicates the last five batches, rejects gaps, forgets producers on demand).

use std::time::Duration;

use bytes::Bytes;
use kafka_protocol::messages::ApiKey;

use super::tests::client_for;
use crate::config::{Acks, Idempotence, ProducerConfig};
use crate::error::KafkaCode;
use crate::records::decode_record_set;
use crate::testing::FakeBroker;
use crate::types::ProducerRecord;

/// (producer id, epoch, base sequence, record count) of each stored batch of `t-0`.
fn stamps(b: &FakeBroker) -> Vec<(i64, i16, i32, usize)> {
    let d = b.state.data();
    d.topics["t"].partitions[0]
        .batches
        .iter()
        .flat_map(|(_, _, _, bytes)| decode_record_set(bytes, 1 << 24).unwrap().batches)
        .map(|b| {
            (
                b.producer_id,
                b.producer_epoch,
                b.base_sequence,
                b.records.len(),
            )
        })
        .collect()
}

fn values(n: usize) -> Vec<Bytes> {
    (0..n).map(|i| Bytes::from(format!("{i}"))).collect()
}

async fn send_all(p: &super::Producer, n: usize) -> Vec<Result<i64, crate::Error>> {
    let mut futs = Vec::new();
    for i in 0..n {
        futs.push(
            p.send(ProducerRecord::new("t", format!("{i}")).with_partition(0))
                .await
                .unwrap(),
        );
    }
    let mut out = Vec::new();
    for f in futs {
        out.push(f.await.map(|m| m.offset));
    }
    out
}

fn small_batches() -> ProducerConfig {
    ProducerConfig {
        batch_size: 120,
        linger: Duration::ZERO,
        retry_backoff: Duration::from_millis(5),
        ..Default::default()
    }
}

#[tokio::test]
async fn batches_carry_a_producer_id_and_consecutive_sequences() {
    let b = FakeBroker::start().await;
    b.state.create_topic("t", 1);
    let client = client_for(&b).await;
    let p = client.producer(small_batches());
    let offsets = send_all(&p, 30).await;
    assert!(offsets.iter().all(Result::is_ok), "{offsets:?}");
    assert_eq!(b.state.count(ApiKey::InitProducerId), 1);
    let st = stamps(&b);
    assert!(st.len() > 2, "several batches: {st:?}");
    let mut next = 0;
    for (pid, epoch, seq, n) in &st {
        assert!(*pid >= 1000 && *epoch == 0, "{st:?}");
        assert_eq!(*seq, next, "{st:?}");
        next += *n as i32;
    }
    assert_eq!(b.state.values("t", 0), values(30));
}

/// The broker writes a request but the connection dies before the answer: the retry carries
/// the same sequence, the broker recognises it, and nothing is written twice. The same
/// scenario without idempotence duplicates records, which shows the test can fail.
#[tokio::test]
async fn a_lost_response_is_retried_without_duplicates() {
    for idempotence in [Idempotence::Required, Idempotence::Disabled] {
        let b = FakeBroker::start().await;
        b.state.create_topic("t", 1);
        let client = client_for(&b).await;
        let p = client.producer(ProducerConfig {
            idempotence,
            ..small_batches()
        });
        let first = send_all(&p, 5).await;
        assert!(first.iter().all(Result::is_ok));
        b.state
            .faults()
            .lose_responses
            .insert(ApiKey::Produce as i16, 1);
        let second = send_all(&p, 20).await;
        assert!(second.iter().all(Result::is_ok), "{second:?}");
        p.close().await.unwrap();
        let stored = b.state.values("t", 0);
        let mut want = values(5);
        want.extend(values(20));
        if idempotence == Idempotence::Required {
            assert_eq!(stored, want, "exactly once, in order");
            assert!(client.metrics().retries >= 1);
        } else {
            assert!(stored.len() > want.len(), "a plain retry duplicates");
        }
    }
}

/// Several batches of one partition in flight; the first fails with a retriable error, so
/// the broker rejects the following ones as out of order. All are retried, in order, once.
#[tokio::test]
async fn retries_keep_order_with_five_batches_in_flight() {
    let b = FakeBroker::start().await;
    b.state.create_topic("t", 1);
    // Hold Produce answers until five requests arrived: five batches are in flight at once.
    b.state
        .faults()
        .hold_until
        .insert(ApiKey::Produce as i16, 5);
    b.state.inject_errors(ApiKey::Produce, &[6]); // NOT_LEADER_OR_FOLLOWER for the first
    let client = client_for(&b).await;
    let p = client.producer(ProducerConfig {
        max_in_flight: 5,
        ..small_batches()
    });
    let offsets = send_all(&p, 40).await;
    let offsets: Vec<i64> = offsets.into_iter().map(Result::unwrap).collect();
    assert_eq!(offsets, (0..40).collect::<Vec<_>>());
    assert_eq!(b.state.values("t", 0), values(40));
    assert!(b.state.count(ApiKey::Produce) > 5);
}

/// The broker forgets the producer (its state expired): UNKNOWN_PRODUCER_ID on the next
/// batch. The producer takes a new id, starts again at sequence 0, and delivers everything.
#[tokio::test]
async fn a_broker_that_lost_the_producer_gets_a_new_producer_id() {
    let b = FakeBroker::start().await;
    b.state.create_topic("t", 1);
    let client = client_for(&b).await;
    let p = client.producer(small_batches());
    assert!(send_all(&p, 10).await.iter().all(Result::is_ok));
    b.state.forget_producers();
    let later = send_all(&p, 10).await;
    assert!(later.iter().all(Result::is_ok), "{later:?}");
    assert_eq!(b.state.count(ApiKey::InitProducerId), 2);
    assert_eq!(client.metrics().producer_id_resets, 1);
    let mut want = values(10);
    want.extend(values(10));
    assert_eq!(b.state.values("t", 0), want);
    let st = stamps(&b);
    let last = st.last().unwrap();
    assert_ne!(last.0, st[0].0, "a new producer id");
}

#[tokio::test]
async fn without_init_producer_id_auto_falls_back_and_required_fails() {
    let b = FakeBroker::start().await;
    b.state.create_topic("t", 1);
    b.state
        .faults()
        .hidden_apis
        .push(ApiKey::InitProducerId as i16);
    let client = client_for(&b).await;
    let p = client.producer(ProducerConfig::default());
    assert!(send_all(&p, 3).await.iter().all(Result::is_ok));
    assert!(stamps(&b).iter().all(|s| s.0 == -1), "plain batches");

    let p = client.producer(ProducerConfig {
        idempotence: Idempotence::Required,
        ..Default::default()
    });
    let r = send_all(&p, 2).await;
    let e = r[0].as_ref().unwrap_err();
    assert!(e.to_string().contains("InitProducerId"), "{e}");
}

#[tokio::test]
async fn acks_other_than_all_turn_auto_idempotence_off_and_required_is_a_config_error() {
    let b = FakeBroker::start().await;
    b.state.create_topic("t", 1);
    let client = client_for(&b).await;
    let p = client.producer(ProducerConfig {
        acks: Acks::Leader,
        ..Default::default()
    });
    assert!(send_all(&p, 2).await.iter().all(Result::is_ok));
    assert_eq!(b.state.count(ApiKey::InitProducerId), 0);
    let p = client.producer(ProducerConfig {
        acks: Acks::Leader,
        idempotence: Idempotence::Required,
        ..Default::default()
    });
    let e = p.send(ProducerRecord::new("t", "x")).await.unwrap_err();
    assert!(e.to_string().contains("acks"), "{e}");
}

/// A partition that keeps failing: retries back off and stop at the delivery timeout.
#[tokio::test]
async fn retries_end_at_the_delivery_timeout() {
    let b = FakeBroker::start().await;
    b.state.create_topic("t", 1);
    b.state.inject_errors(ApiKey::Produce, &[6; 1000]);
    let client = client_for(&b).await;
    let p = client.producer(ProducerConfig {
        delivery_timeout: Duration::from_millis(400),
        retry_backoff: Duration::from_millis(10),
        retry_backoff_max: Duration::from_millis(50),
        ..Default::default()
    });
    let started = std::time::Instant::now();
    let e = p
        .send(ProducerRecord::new("t", "x"))
        .await
        .unwrap()
        .await
        .unwrap_err();
    assert!(
        e.kafka_code() == Some(KafkaCode::NotLeaderOrFollower)
            || e.to_string().contains("timed out"),
        "{e}"
    );
    let sends = b.state.count(ApiKey::Produce);
    // 10, 20, 40, then 50 ms (±20%) within 400 ms: a handful of attempts, not hundreds.
    assert!((3..=20).contains(&sends), "{sends} attempts");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(client.metrics().record_errors >= 1);
}
