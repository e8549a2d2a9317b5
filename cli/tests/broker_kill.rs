//! `kt broker --data-dir` killed with SIGKILL and restarted on the same port while an
//! idempotent producer (acks=all) and a `kt stream save --checkpoint` process run: once the
//! job has caught up, every acknowledged record is in its output files exactly once, and a
//! record whose delivery failed is there at most once.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use common::{create_topic, outputs, spawn, start_broker, wait_until};
use kt_client::{Acks, Client, ClientConfig, Idempotence, ProducerConfig, ProducerRecord};

const PARTITIONS: i32 = 3;

/// What the producer thread saw.
#[derive(Default)]
struct Ledger {
    /// Every value handed to `send`, in order.
    sent: Vec<String>,
    acked: BTreeSet<String>,
    failed: Vec<(String, String)>,
    /// Sent, not yet acknowledged or failed.
    unresolved: BTreeSet<String>,
}

/// An idempotent acks=all producer on a thread of its own, sending `r000000`, `r000001`, ...
/// round-robin over the partitions, a few hundred records a second, until stopped.
struct Producing {
    ledger: Arc<Mutex<Ledger>>,
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<()>,
}

impl Producing {
    fn start(bootstrap: &str) -> Producing {
        let ledger = Arc::new(Mutex::new(Ledger::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let (l, s) = (ledger.clone(), stop.clone());
        let bootstrap = bootstrap.to_owned();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let client = Client::connect(ClientConfig::new(bootstrap)).await.unwrap();
                let producer = client.producer(ProducerConfig {
                    acks: Acks::All,
                    idempotence: Idempotence::Required,
                    linger: Duration::from_millis(2),
                    delivery_timeout: Duration::from_secs(60),
                    ..ProducerConfig::default()
                });
                let mut pending = tokio::task::JoinSet::new();
                let mut i = 0u32;
                while !s.load(Ordering::SeqCst) {
                    for _ in 0..10 {
                        let value = format!("r{i:06}");
                        let mut record = ProducerRecord::new("events", Bytes::from(value.clone()));
                        record.partition = Some(i as i32 % PARTITIONS);
                        {
                            let mut l = l.lock().unwrap();
                            l.sent.push(value.clone());
                            l.unresolved.insert(value.clone());
                        }
                        let delivery = producer.send(record).await.unwrap();
                        let l = l.clone();
                        pending.spawn(async move {
                            let result = delivery.await;
                            let mut l = l.lock().unwrap();
                            l.unresolved.remove(&value);
                            match result {
                                Ok(_) => {
                                    l.acked.insert(value);
                                }
                                Err(e) => l.failed.push((value, e.to_string())),
                            }
                        });
                        i += 1;
                    }
                    // Pacing of the load, not synchronisation: a few hundred records a second
                    // keep the job's files small.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    while pending.try_join_next().is_some() {}
                }
                tokio::time::timeout(Duration::from_secs(90), async {
                    while pending.join_next().await.is_some() {}
                })
                .await
                .expect("every delivery resolves");
                producer.close().await.unwrap();
            });
        });
        Producing {
            ledger,
            stop,
            thread,
        }
    }

    fn acked(&self) -> usize {
        self.ledger.lock().unwrap().acked.len()
    }

    /// The value the next record sent will have (values sort in sending order).
    fn sent(&self) -> String {
        format!("r{:06}", self.ledger.lock().unwrap().sent.len())
    }

    fn unresolved(&self) -> BTreeSet<String> {
        self.ledger.lock().unwrap().unresolved.clone()
    }

    /// Stops sending, waits for every delivery to resolve, returns the ledger.
    fn finish(self) -> Ledger {
        self.stop.store(true, Ordering::SeqCst);
        self.thread.join().unwrap();
        Arc::try_unwrap(self.ledger)
            .ok()
            .unwrap()
            .into_inner()
            .unwrap()
    }
}

/// `(None, 'r000123')` -> `r000123`.
fn value_of(line: &str) -> &str {
    line.strip_prefix("(None, '")
        .and_then(|l| l.strip_suffix("')"))
        .unwrap_or_else(|| panic!("unexpected output line {line:?}"))
}

#[test]
fn broker_kill_9_under_producer_and_stream_job_keeps_every_acknowledged_record_once() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let out = root.path().join("out");
    let checkpoint = root.path().join("checkpoint");
    let broker_args = [
        "--data-dir",
        data.to_str().unwrap(),
        "--group-initial-rebalance-delay",
        "0s",
        "--group-min-session-timeout",
        "1s",
    ];
    let (broker, addr) = start_broker("127.0.0.1:0", &broker_args);
    create_topic(&addr, "events", PARTITIONS as u32);

    let job = spawn(
        &[
            "-b",
            &addr,
            "stream",
            "save",
            "--topic",
            "events",
            "--batch",
            "200ms",
            "--group",
            "faults",
            "--session-timeout",
            "2s",
            "--from-beginning",
            "--checkpoint",
            checkpoint.to_str().unwrap(),
            "--out",
            out.join("s").to_str().unwrap(),
        ],
        &[("RUST_LOG", "warn,kt_streaming::engine=info")],
    );
    let mut job = job;
    let producing = Producing::start(&addr);
    wait_until("acknowledged records and the job's first files", || {
        producing.acked() >= 1_000 && !outputs(&out, "s").0.is_empty()
    });

    // kill -9 mid-produce, mid-stream. The broker is frozen (SIGSTOP) first until records are
    // surely in flight, so the kill always catches some; restarted on the same port and
    // directory at once.
    broker.signal("STOP");
    let frozen_at = producing.sent();
    wait_until("records sent to the frozen broker", || {
        producing
            .unresolved()
            .iter()
            .any(|v| v.as_str() >= frozen_at.as_str())
    });
    broker.sigkill();
    let in_flight_at_kill = producing.unresolved();
    let acked_at_kill = producing.acked();
    let (broker, again) = start_broker(&addr, &broker_args);
    assert_eq!(again, addr);
    wait_until("the producer acknowledged again after the restart", || {
        producing.acked() >= acked_at_kill + 1_000
    });
    let ledger = producing.finish();

    wait_until("every acknowledged record in the job's output", || {
        assert!(
            job.running(),
            "the job died instead of recovering:\n{}",
            job.log().join("\n")
        );
        let (lines, _) = outputs(&out, "s");
        let seen: BTreeSet<&str> = lines.iter().map(|l| value_of(l)).collect();
        ledger.acked.iter().all(|v| seen.contains(v.as_str()))
    });
    let job_log = job.log();
    job.terminate();
    // What the job went through (its retries and abandoned batches), for the test output.
    for l in job_log.iter().filter(|l| !l.contains(" INFO ")) {
        println!("  job: {l}");
    }
    drop(broker);

    let (lines, staged) = outputs(&out, "s");
    assert!(staged.is_empty(), "nothing left staged: {staged:?}");
    let mut count: BTreeMap<&str, u32> = BTreeMap::new();
    for l in &lines {
        *count.entry(value_of(l)).or_default() += 1;
    }
    let sent: BTreeSet<&str> = ledger.sent.iter().map(String::as_str).collect();
    let twice: Vec<_> = count.iter().filter(|(_, n)| **n > 1).collect();
    let foreign: Vec<_> = count.keys().filter(|v| !sent.contains(*v)).collect();
    let missing: Vec<_> = ledger
        .acked
        .iter()
        .filter(|v| !count.contains_key(v.as_str()))
        .collect();
    let across = in_flight_at_kill
        .iter()
        .filter(|v| ledger.acked.contains(*v))
        .count();
    println!(
        "sent {}, acknowledged {} ({across} of {} in flight at the kill), failed {}, \
         output lines {}",
        ledger.sent.len(),
        ledger.acked.len(),
        in_flight_at_kill.len(),
        ledger.failed.len(),
        lines.len()
    );
    assert!(
        twice.is_empty(),
        "in the output more than once: {twice:?}\njob log:\n{}",
        job_log.join("\n")
    );
    assert!(foreign.is_empty(), "never sent: {foreign:?}");
    assert!(missing.is_empty(), "acknowledged but missing: {missing:?}");
    assert!(
        across > 0,
        "no record in flight at the kill was delivered after the restart: {:?}",
        ledger.failed
    );
}
