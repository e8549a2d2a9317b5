//! `kt broker --data-dir`: the broker process is killed with SIGKILL while a producer
//! (acks=all) is sending; after a restart on the same directory every acknowledged record is
//! there, at the offset it was acknowledged with.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use bytes::Bytes;
use kt_client::{
    Acks, Client, ClientConfig, ConsumerConfig, OffsetReset, ProducerConfig, ProducerRecord,
    TopicPartition,
};

const KT: &str = env!("CARGO_BIN_EXE_kt");
const PARTITIONS: i32 = 3;

/// Starts `kt broker --data-dir dir` on a free port; returns the process and its address.
fn start(dir: &Path) -> (Child, String) {
    let mut child = Command::new(KT)
        .args(["broker", "--listen", "127.0.0.1:0", "--partitions", "3"])
        .arg("--data-dir")
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start kt broker");
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if let Some(rest) = line.strip_prefix("kt broker listening on ") {
                let _ = tx.send(rest.split_whitespace().next().unwrap().to_string());
            }
        }
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("kt broker printed its address");
    (child, addr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_produce_loses_no_acknowledged_record() {
    let dir = tempfile::tempdir().unwrap();
    let (mut broker, addr) = start(dir.path());
    let created = Command::new(KT)
        .args(["-b", &addr, "topic", "create", "t", "-p", "3"])
        .output()
        .unwrap();
    assert!(created.status.success(), "{created:?}");
    let client = Client::connect(ClientConfig::new(&addr)).await.unwrap();
    let producer = client.producer(ProducerConfig {
        acks: Acks::All,
        linger: Duration::from_millis(1),
        retries: 0,
        delivery_timeout: Duration::from_secs(10),
        ..ProducerConfig::default()
    });
    // A sender keeps sending; once enough records are acknowledged the broker is killed
    // while it still sends, so deliveries are in flight at the kill.
    let (acked_tx, mut acked_rx) = tokio::sync::mpsc::unbounded_channel();
    let (stop_tx, mut stop_rx) = tokio::sync::oneshot::channel::<()>();
    let sender = tokio::spawn(async move {
        let mut pending = tokio::task::JoinSet::new();
        let mut sent = 0u64;
        while stop_rx.try_recv().is_err() {
            let value = format!("record-{sent}");
            let record = ProducerRecord::new("t", Bytes::from(value.clone()))
                .with_key(Bytes::from(format!("k{}", sent % 97)));
            let Ok(delivery) = producer.send(record).await else {
                break;
            };
            let tx = acked_tx.clone();
            pending.spawn(async move {
                if let Ok(meta) = delivery.await {
                    let _ = tx.send((meta.partition, meta.offset, value));
                }
            });
            sent += 1;
            if sent.is_multiple_of(64) {
                tokio::task::yield_now().await;
            }
        }
        (sent, pending)
    });
    let mut acked: BTreeMap<(i32, i64), String> = BTreeMap::new();
    while acked.len() < 3000 {
        let (p, o, v) = tokio::time::timeout(Duration::from_secs(60), acked_rx.recv())
            .await
            .expect("records are acknowledged")
            .expect("the sender is running");
        acked.insert((p, o), v);
    }
    broker.kill().unwrap(); // SIGKILL
    broker.wait().unwrap();
    let _ = stop_tx.send(());
    let (sent, mut pending) = tokio::time::timeout(Duration::from_secs(60), sender)
        .await
        .expect("the sender stops")
        .unwrap();
    // Every delivery resolves: acknowledged before the kill, or failed.
    tokio::time::timeout(Duration::from_secs(60), async {
        while pending.join_next().await.is_some() {}
    })
    .await
    .expect("deliveries resolve after the broker died");
    while let Ok((p, o, v)) = acked_rx.try_recv() {
        acked.insert((p, o), v);
    }
    drop(client);
    println!("sent {sent}, acknowledged {} before the kill", acked.len());
    assert!(
        (acked.len() as u64) < sent,
        "the kill came too late to catch records in flight"
    );

    let (mut broker, addr) = start(dir.path());
    let client = Client::connect(ClientConfig::new(&addr)).await.unwrap();
    let mut consumer = client.consumer(ConsumerConfig {
        auto_offset_reset: OffsetReset::Earliest,
        ..ConsumerConfig::default()
    });
    consumer
        .assign(
            (0..PARTITIONS)
                .map(|partition| TopicPartition {
                    topic: "t".into(),
                    partition,
                })
                .collect(),
        )
        .unwrap();
    let mut last: BTreeMap<i32, i64> = BTreeMap::new();
    for &(p, o) in acked.keys() {
        last.insert(p, o);
    }
    let mut found: BTreeMap<(i32, i64), String> = BTreeMap::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while last.iter().any(|(p, o)| !found.contains_key(&(*p, *o))) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "records missing after restart"
        );
        for r in consumer.poll(Duration::from_millis(500)).await.unwrap() {
            let value = String::from_utf8(r.value.unwrap().to_vec()).unwrap();
            found.insert((r.partition, r.offset), value);
        }
    }
    for (key, value) in &acked {
        assert_eq!(
            found.get(key),
            Some(value),
            "acknowledged record at {key:?}"
        );
    }
    // offsets are dense: nothing torn or duplicated in between
    for p in 0..PARTITIONS {
        let offsets: Vec<i64> = found.keys().filter(|k| k.0 == p).map(|k| k.1).collect();
        assert!(
            offsets.iter().enumerate().all(|(i, o)| *o == i as i64),
            "partition {p}"
        );
    }
    let _ = broker.kill();
    let _ = broker.wait();
}
