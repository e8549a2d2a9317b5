//! Producer tests against the in-test fake broker.

use std::time::Duration;

use bytes::Bytes;
use kafka_protocol::messages::ApiKey;

use crate::Client;
use crate::config::{Acks, ClientConfig, Compression, ProducerConfig};
use crate::error::{Error, KafkaCode};
use crate::partitioner::partition_for_key;
use crate::records::decode_record_set;
use crate::testing::FakeBroker;
use crate::types::ProducerRecord;

pub(crate) async fn client_for(b: &FakeBroker) -> Client {
    let mut cfg = ClientConfig::new(b.addr.clone());
    cfg.request_timeout = Duration::from_secs(5);
    cfg.retry_backoff = Duration::from_millis(10);
    Client::connect(cfg).await.unwrap()
}

/// Decoded (key, value) pairs stored by the fake for one partition.
fn stored(
    b: &FakeBroker,
    topic: &str,
    partition: usize,
) -> Vec<(Option<Bytes>, Option<Bytes>, i64)> {
    let d = b.state.data();
    let log = &d.topics[topic].partitions[partition];
    let mut out = Vec::new();
    for (_, _, _, bytes) in &log.batches {
        let set = decode_record_set(bytes, 1 << 24).unwrap();
        for batch in set.batches {
            for r in batch.records {
                out.push((r.key, r.value, r.offset));
            }
        }
    }
    out
}

#[tokio::test]
async fn keyed_records_land_where_murmur2_says() {
    let b = FakeBroker::start().await;
    b.state.create_topic("t", 3);
    let client = client_for(&b).await;
    let p = client.producer(ProducerConfig::default());
    let mut futs = Vec::new();
    for i in 0..30 {
        let key = format!("key{i}");
        futs.push((
            key.clone(),
            p.send(ProducerRecord::new("t", format!("v{i}")).with_key(key))
                .await
                .unwrap(),
        ));
    }
    for (key, f) in futs {
        let md = f.await.unwrap();
        assert_eq!(md.partition, partition_for_key(key.as_bytes(), 3), "{key}");
        assert_eq!(md.topic, "t");
    }
    p.close().await.unwrap();
    let mut total = 0;
    for part in 0..3 {
        let recs = stored(&b, "t", part);
        for (i, (k, _, off)) in recs.iter().enumerate() {
            assert_eq!(*off, i as i64, "offsets are dense per partition");
            let k = k.as_ref().unwrap();
            assert_eq!(partition_for_key(k, 3), part as i32);
        }
        total += recs.len();
    }
    assert_eq!(total, 30);
}

#[tokio::test]
async fn offsets_are_consecutive_and_order_is_kept() {
    let b = FakeBroker::start().await;
    b.state.create_topic("t", 1);
    let client = client_for(&b).await;
    let p = client.producer(ProducerConfig {
        batch_size: 200,
        ..Default::default()
    });
    let mut futs = Vec::new();
    for i in 0..100 {
        futs.push(
            p.send(ProducerRecord::new("t", format!("{i}")))
                .await
                .unwrap(),
        );
    }
    for (i, f) in futs.into_iter().enumerate() {
        assert_eq!(f.await.unwrap().offset, i as i64);
    }
    let values: Vec<Bytes> = stored(&b, "t", 0)
        .into_iter()
        .map(|(_, v, _)| v.unwrap())
        .collect();
    let want: Vec<Bytes> = (0..100).map(|i| Bytes::from(format!("{i}"))).collect();
    assert_eq!(values, want);
    assert!(
        b.state.data().topics["t"].partitions[0].batches.len() > 1,
        "small batch_size splits batches"
    );
}

#[tokio::test]
async fn unkeyed_records_stick_to_one_partition_per_batch() {
    let b = FakeBroker::start().await;
    b.state.create_topic("t", 8);
    let client = client_for(&b).await;
    let p = client.producer(ProducerConfig {
        linger: Duration::from_secs(3600),
        ..Default::default()
    });
    let mut futs = Vec::new();
    for i in 0..20 {
        futs.push(
            p.send(ProducerRecord::new("t", format!("{i}")))
                .await
                .unwrap(),
        );
    }
    p.flush().await.unwrap();
    let mut parts = Vec::new();
    for f in futs {
        parts.push(f.await.unwrap().partition);
    }
    assert!(parts.iter().all(|&x| x == parts[0]), "{parts:?}");
}

#[tokio::test]
async fn every_codec_is_accepted_and_stored() {
    let b = FakeBroker::start().await;
    b.state.create_topic("t", 1);
    let client = client_for(&b).await;
    for codec in [
        Compression::Gzip,
        Compression::Snappy,
        Compression::Lz4,
        Compression::Zstd,
    ] {
        let p = client.producer(ProducerConfig {
            compression: codec,
            ..Default::default()
        });
        let f = p
            .send(
                ProducerRecord::new("t", format!("{codec:?} value"))
                    .with_header("h", Some(Bytes::from_static(b"x")))
                    .with_header("h", None),
            )
            .await
            .unwrap();
        f.await.unwrap();
        p.close().await.unwrap();
    }
    let d = b.state.data();
    let batches = &d.topics["t"].partitions[0].batches;
    let codecs: Vec<i16> = batches
        .iter()
        .map(|(_, _, _, bytes)| i16::from_be_bytes([bytes[21], bytes[22]]) & 7)
        .collect();
    assert_eq!(codecs, vec![1, 2, 3, 4]);
    drop(d);
    let values: Vec<Option<Bytes>> = stored(&b, "t", 0).into_iter().map(|(_, v, _)| v).collect();
    assert_eq!(values[3].as_deref(), Some(&b"Zstd value"[..]));
}

#[tokio::test]
async fn retriable_errors_are_retried_after_a_metadata_refresh() {
    let b = FakeBroker::start().await;
    b.state.create_topic("t", 1);
    let client = client_for(&b).await;
    let metadata_before = b.state.count(ApiKey::Metadata);
    b.state.inject_errors(ApiKey::Produce, &[6, 6]); // NOT_LEADER_OR_FOLLOWER twice
    let p = client.producer(ProducerConfig::default());
    let md = p
        .send(ProducerRecord::new("t", "v"))
        .await
        .unwrap()
        .await
        .unwrap();
    assert_eq!(md.offset, 0);
    assert_eq!(b.state.count(ApiKey::Produce), 3);
    assert!(b.state.count(ApiKey::Metadata) > metadata_before);
}

#[tokio::test]
async fn non_retriable_errors_fail_the_records() {
    let b = FakeBroker::start().await;
    b.state.create_topic("t", 1);
    let client = client_for(&b).await;
    b.state.inject_errors(ApiKey::Produce, &[10]); // MESSAGE_TOO_LARGE
    let p = client.producer(ProducerConfig::default());
    let e = p
        .send(ProducerRecord::new("t", "v"))
        .await
        .unwrap()
        .await
        .unwrap_err();
    assert_eq!(e.kafka_code(), Some(KafkaCode::MessageTooLarge), "{e}");
    assert!(e.to_string().contains("MESSAGE_TOO_LARGE"));
    // The next record goes through.
    assert_eq!(
        p.send(ProducerRecord::new("t", "w"))
            .await
            .unwrap()
            .await
            .unwrap()
            .offset,
        0
    );
}

#[tokio::test]
async fn acks_zero_gets_no_offsets_but_delivers() {
    let b = FakeBroker::start().await;
    b.state.create_topic("t", 1);
    let client = client_for(&b).await;
    let p = client.producer(ProducerConfig {
        acks: Acks::None,
        ..Default::default()
    });
    let md = p
        .send(ProducerRecord::new("t", "fire"))
        .await
        .unwrap()
        .await
        .unwrap();
    assert_eq!(md.offset, -1);
    p.close().await.unwrap();
    // The broker got it even though it never answered.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while b.state.data().topics["t"].partitions[0].next_offset == 0 {
        assert!(std::time::Instant::now() < deadline, "record never arrived");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn full_buffer_blocks_send_until_memory_is_released() {
    let b = FakeBroker::start().await;
    b.state.create_topic("t", 1);
    b.state
        .faults()
        .delays
        .insert(ApiKey::Produce as i16, Duration::from_millis(300));
    let client = client_for(&b).await;
    let p = client.producer(ProducerConfig {
        buffer_memory: 2048,
        max_request_size: 2048,
        linger: Duration::ZERO,
        ..Default::default()
    });
    let value = Bytes::from(vec![b'x'; 600]);
    let f1 = p
        .send(ProducerRecord::new("t", value.clone()))
        .await
        .unwrap();
    let f2 = p
        .send(ProducerRecord::new("t", value.clone()))
        .await
        .unwrap();
    // ~700 bytes each: a third does not fit until the first batch is acknowledged (the
    // broker delays that by 300 ms). On this single-threaded test runtime nothing else runs
    // between these lines, so the first poll must find `send` waiting for memory.
    let mut third = Box::pin(p.send(ProducerRecord::new("t", value.clone())));
    assert!(
        futures::poll!(&mut third).is_pending(),
        "send should wait for buffer memory"
    );
    f1.await.unwrap();
    let f3 = tokio::time::timeout(Duration::from_secs(5), third)
        .await
        .expect("memory was released")
        .unwrap();
    f2.await.unwrap();
    f3.await.unwrap();
}

#[tokio::test]
async fn oversized_records_and_bad_partitions_are_rejected() {
    let b = FakeBroker::start().await;
    b.state.create_topic("t", 2);
    let client = client_for(&b).await;
    let p = client.producer(ProducerConfig {
        max_request_size: 1000,
        buffer_memory: 4000,
        ..Default::default()
    });
    let big = ProducerRecord::new("t", vec![0u8; 2000]);
    assert!(matches!(
        p.send(big).await,
        Err(Error::RecordTooLarge { .. })
    ));
    let bad = ProducerRecord::new("t", "x").with_partition(5);
    let e = p.send(bad).await.unwrap_err();
    assert_eq!(e.kafka_code(), Some(KafkaCode::UnknownTopicOrPartition));
}

#[tokio::test]
async fn flush_waits_for_every_record() {
    let b = FakeBroker::start().await;
    b.state.create_topic("t", 4);
    let client = client_for(&b).await;
    let p = client.producer(ProducerConfig {
        linger: Duration::from_secs(3600),
        ..Default::default()
    });
    for i in 0..50 {
        drop(
            p.send(ProducerRecord::new("t", format!("{i}")).with_key(format!("{i}")))
                .await
                .unwrap(),
        );
    }
    p.flush().await.unwrap();
    let total: i64 = b.state.data().topics["t"]
        .partitions
        .iter()
        .map(|l| l.next_offset)
        .sum();
    assert_eq!(total, 50);
    p.close().await.unwrap();
}

#[tokio::test]
async fn closed_producer_refuses_records() {
    let b = FakeBroker::start().await;
    b.state.create_topic("t", 1);
    let client = client_for(&b).await;
    let p = client.producer(ProducerConfig::default());
    let other = p.clone();
    p.close().await.unwrap();
    assert!(matches!(
        other.send(ProducerRecord::new("t", "x")).await,
        Err(Error::Closed(_))
    ));
}

/// A broker that is away for a moment (here: gone, then a new one on the same port) neither
/// fails nor blocks `send` once the topic's partitions are known: the records wait in the
/// accumulator and are delivered when it is back.
#[tokio::test]
async fn send_goes_on_while_the_broker_is_away_and_delivers_when_it_is_back() {
    let b = FakeBroker::start().await;
    b.state.create_topic("t", 2);
    let addr = b.addr.clone();
    let client = client_for(&b).await;
    let p = client.producer(ProducerConfig {
        linger: Duration::from_millis(1),
        ..ProducerConfig::default()
    });
    p.send(ProducerRecord::new("t", "before"))
        .await
        .unwrap()
        .await
        .unwrap();
    drop(b);
    // Metadata is stale (as after a failed request) and the broker refuses connections.
    client.cluster.invalidate();
    let mut pending = Vec::new();
    for i in 0..20 {
        let record = ProducerRecord::new("t", format!("while-away-{i}")).with_key(format!("k{i}"));
        let send = tokio::time::timeout(Duration::from_secs(5), p.send(record))
            .await
            .expect("send does not wait for the broker");
        pending.push(send.expect("send does not fail while the broker is away"));
    }
    let back = FakeBroker::start_on(&addr).await;
    back.state.create_topic("t", 2);
    for d in pending {
        d.await.expect("delivered once the broker is back");
    }
    let stored: usize = (0..2).map(|part| back.state.values("t", part).len()).sum();
    assert_eq!(stored, 20);
    p.close().await.unwrap();
}
