//! A kt consumer and a kcat (librdkafka) consumer in one group on the kt broker, joined at
//! the same time: they split the partitions between them (each gets its own, none shared,
//! together all), and the records produced after both joined come back exactly once across
//! the two. Run with Debian's kcat on its librdkafka 2.0.2 and, through `LD_LIBRARY_PATH`, on
//! librdkafka 2.16 (from the peers folder).
//!
//! This lives in kt-tests, not beside the broker's interop suite (`broker-sim/tests/`),
//! because it needs the kt client and the broker crate may not depend on it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use kt_client::{ConsumerConfig, OffsetReset};
use kt_tests::{TIMEOUT, client, librdkafka_216, peer_available, produce, start_broker};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kt_and_kcat_split_one_group_live() {
    if !peer_available("kcat", &["-V"]) {
        return;
    }
    split_with(None).await;
    if let Some(lib) = librdkafka_216() {
        split_with(Some(&lib)).await;
    }
}

/// One run: kcat (on the librdkafka in `lib`, else the system one) and a kt consumer.
async fn split_with(lib: Option<&Path>) {
    let broker = start_broker().await;
    broker.create_topic("split", 4).unwrap();
    let bootstrap = broker.bootstrap();

    // kcat joins with the range assignor, as the kt consumer does by default. `-u`: unbuffered
    // output, so each record reaches the pipe as it is consumed.
    let mut cmd = Command::new("kcat");
    if let Some(dir) = lib {
        cmd.env("LD_LIBRARY_PATH", dir);
    }
    let mut kcat = cmd
        .args(["-b", &bootstrap, "-G", "split-g", "split"])
        .args(["-f", "%p|%s\\n", "-q", "-u"])
        .args(["-X", "auto.offset.reset=earliest"])
        .args(["-X", "partition.assignment.strategy=range"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (tx, kcat_lines) = std::sync::mpsc::channel::<String>();
    let stdout = kcat.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });

    let kt = client(&bootstrap).await;
    let mut consumer = kt.consumer(ConsumerConfig {
        auto_offset_reset: OffsetReset::Earliest,
        ..ConsumerConfig::with_group("split-g")
    });
    consumer.subscribe(&["split"]).await.unwrap();

    // Poll until the group is stable with both members, each holding partitions, and the kt
    // consumer holds what the broker says it was assigned.
    let deadline = Instant::now() + TIMEOUT;
    let mut kt_records: Vec<(i32, String)> = Vec::new();
    loop {
        for r in consumer.poll(Duration::from_millis(200)).await.unwrap() {
            kt_records.push((
                r.partition,
                String::from_utf8_lossy(&r.value.unwrap()).into(),
            ));
        }
        let g = broker.describe_group("split-g");
        let ready = g.as_ref().is_some_and(|g| {
            g.state == kt_broker::GroupState::Stable
                && g.members.len() == 2
                && g.members.iter().all(|m| !m.assignment.is_empty())
        }) && consumer.assignment().len() == 2;
        if ready {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "group never had both members: {g:?}"
        );
    }
    assert!(kt_records.is_empty(), "nothing was produced yet");
    let kt_assigned: BTreeSet<i32> = consumer
        .assignment()
        .iter()
        .map(|tp| tp.partition)
        .collect();

    // 40 keyed records; their keys land on all four partitions (12, 16, 9 and 3 records).
    let values: Vec<String> = (0..40).map(|i| format!("v{i}")).collect();
    let keys: Vec<String> = (0..40).map(|i| format!("k{i}")).collect();
    let records: Vec<(Option<&str>, &str)> = keys
        .iter()
        .zip(&values)
        .map(|(k, v)| (Some(k.as_str()), v.as_str()))
        .collect();
    let reports = produce(&kt, "split", &records).await;
    let produced_parts: BTreeSet<i32> = reports.iter().map(|r| r.partition).collect();
    assert_eq!(
        produced_parts,
        (0..4).collect(),
        "keys cover every partition"
    );
    let mut kcat_records: Vec<(i32, String)> = Vec::new();
    while kt_records.len() + kcat_records.len() < 40 {
        for r in consumer.poll(Duration::from_millis(200)).await.unwrap() {
            kt_records.push((
                r.partition,
                String::from_utf8_lossy(&r.value.unwrap()).into(),
            ));
        }
        while let Ok(line) = kcat_lines.try_recv() {
            let (p, v) = line.split_once('|').unwrap();
            kcat_records.push((p.parse().unwrap(), v.to_owned()));
        }
        assert!(
            Instant::now() < deadline,
            "{lib:?}: kt got {kt_records:?}, kcat got {kcat_records:?}"
        );
    }
    // Anything a second consumer would wrongly re-read arrives within a poll or two.
    for _ in 0..3 {
        for r in consumer.poll(Duration::from_millis(200)).await.unwrap() {
            kt_records.push((
                r.partition,
                String::from_utf8_lossy(&r.value.unwrap()).into(),
            ));
        }
    }
    while let Ok(line) = kcat_lines.try_recv() {
        let (p, v) = line.split_once('|').unwrap();
        kcat_records.push((p.parse().unwrap(), v.to_owned()));
    }
    let _ = kcat.kill();
    let _ = kcat.wait();

    let kt_parts: BTreeSet<i32> = kt_records.iter().map(|r| r.0).collect();
    let kcat_parts: BTreeSet<i32> = kcat_records.iter().map(|r| r.0).collect();
    assert_eq!(
        kt_parts, kt_assigned,
        "{lib:?}: kt read exactly its assignment"
    );
    assert_eq!(
        kcat_parts.len(),
        2,
        "{lib:?}: kcat read two partitions: {kcat_parts:?}"
    );
    assert!(
        kt_parts.is_disjoint(&kcat_parts),
        "{lib:?}: partitions shared: kt {kt_parts:?}, kcat {kcat_parts:?}"
    );
    let mut all: BTreeMap<String, usize> = BTreeMap::new();
    for (_, v) in kt_records.iter().chain(&kcat_records) {
        *all.entry(v.clone()).or_default() += 1;
    }
    let expected: BTreeSet<String> = values.iter().cloned().collect();
    assert_eq!(
        all.keys().cloned().collect::<BTreeSet<_>>(),
        expected,
        "{lib:?}: every record came back"
    );
    assert!(
        all.values().all(|n| *n == 1),
        "{lib:?}: a record came back twice: {all:?}"
    );
    consumer.close().await.ok();
    broker.shutdown().await;
}
