//! Consumers joining and leaving one group while messages flow, with commits (issue 3:
//! "consumers in one group joining and leaving while messages flow, with commits, and nothing
//! lost or consumed twice between committed points"): confluent-kafka 2.16 (PyPI) and 1.7
//! (Debian) members of one group on the kt broker, each committing every message
//! synchronously right after reading it (`tests/peers/group_member.py`), while a kt producer
//! keeps producing. Members join one after another and the first two leave after a quota.
//!
//! Checked: every produced message is read; a message read twice was read again only because
//! its earlier read was never committed (the commit failed in a rebalance). Nothing else
//! may repeat.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use kt_client::{ProducerConfig, ProducerRecord};
use kt_tests::{TIMEOUT, client, peers_dir, start_broker};

const TOTAL: usize = 300;

/// A member process; its lines arrive tagged with its index.
fn spawn_member(
    python: &Path,
    bootstrap: &str,
    quota: usize,
    index: usize,
    tx: mpsc::Sender<(usize, String)>,
) -> Child {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("peers/group_member.py");
    let mut child = Command::new(python)
        .arg(script)
        .args([bootstrap, "churn", "churn-g", &quota.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send((index, line)).is_err() {
                break;
            }
        }
    });
    child
}

/// Python interpreters with confluent-kafka: 2.16 from the peers venv, 1.7 from Debian.
fn pythons() -> Option<(PathBuf, PathBuf)> {
    let venv = peers_dir().join("venv/bin/python");
    let debian = PathBuf::from("/usr/bin/python3");
    let debian_ok = Command::new(&debian)
        .args(["-c", "import confluent_kafka"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if venv.exists() && debian_ok {
        return Some((venv, debian));
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!(
            "confluent-kafka 2.16 ({venv:?}) and 1.7 (/usr/bin/python3) are required when CI=true"
        );
    }
    eprintln!("SKIPPED: confluent-kafka 2.16 venv or Debian python3-confluent-kafka not found");
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_members_join_and_leave_while_messages_flow() {
    let Some((new, old)) = pythons() else {
        return;
    };
    let broker = start_broker().await;
    broker.create_topic("churn", 4).unwrap();
    let bootstrap = broker.bootstrap();
    let kt = client(&bootstrap).await;

    // Messages flow the whole time: one every 10 ms, keyed over every partition.
    let producing = tokio::spawn(async move {
        let producer = kt.producer(ProducerConfig::default());
        for i in 0..TOTAL {
            let mut r = ProducerRecord::new("churn", Bytes::from(format!("m{i:04}")));
            r.key = Some(Bytes::from(format!("k{i}")));
            producer.send(r).await.unwrap().await.unwrap();
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        producer.close().await.unwrap();
    });

    let (tx, rx) = mpsc::channel::<(usize, String)>();
    let mut lines: Vec<(usize, String)> = Vec::new();
    let mut children: Vec<Child> = Vec::new();
    let seen = |lines: &[(usize, String)], index: usize| {
        lines
            .iter()
            .any(|(i, l)| *i == index && l.starts_with("GOT "))
    };
    let values = |lines: &[(usize, String)]| -> BTreeSet<String> {
        lines
            .iter()
            .filter_map(|(_, l)| l.strip_prefix("GOT "))
            .map(|l| l.rsplit(' ').next().unwrap().to_owned())
            .collect()
    };
    // 0: 2.16 leaves after 80 messages; 1: 1.7 joins once 0 read something, leaves after 80;
    // 2: 2.16 joins once 1 read something and stays to the end.
    children.push(spawn_member(&new, &bootstrap, 80, 0, tx.clone()));
    let deadline = Instant::now() + TIMEOUT;
    while values(&lines).len() < TOTAL {
        while let Ok(l) = rx.try_recv() {
            lines.push(l);
        }
        if children.len() == 1 && seen(&lines, 0) {
            children.push(spawn_member(&old, &bootstrap, 80, 1, tx.clone()));
        }
        if children.len() == 2 && seen(&lines, 1) {
            children.push(spawn_member(&new, &bootstrap, 1_000_000, 2, tx.clone()));
        }
        assert!(
            Instant::now() < deadline,
            "read {} of {TOTAL}; {} members started; last lines {:?}",
            values(&lines).len(),
            children.len(),
            lines.iter().rev().take(10).collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    producing.await.unwrap();
    for mut c in children {
        drop(c.stdin.take()); // members still running leave the group
        let _ = c.wait();
    }
    drop(tx);
    lines.extend(rx.iter());

    // Every member's reads in order, each with whether its commit succeeded.
    let mut reads: BTreeMap<String, Vec<(usize, bool)>> = BTreeMap::new();
    let mut pending: BTreeMap<(usize, String), String> = BTreeMap::new();
    for (i, l) in &lines {
        let f: Vec<&str> = l.split(' ').collect();
        match f[0] {
            "GOT" => {
                pending.insert((*i, format!("{} {}", f[1], f[2])), f[3].to_owned());
                reads.entry(f[3].to_owned()).or_default().push((*i, false));
            }
            "COMMITTED" | "COMMITFAIL" => {
                let v = pending.remove(&(*i, format!("{} {}", f[1], f[2]))).unwrap();
                let last = reads
                    .get_mut(&v)
                    .unwrap()
                    .iter_mut()
                    .rev()
                    .find(|r| r.0 == *i);
                last.unwrap().1 = f[0] == "COMMITTED";
            }
            "ERROR" => panic!("member {i}: {l}"),
            _ => {}
        }
    }
    let expected: BTreeSet<String> = (0..TOTAL).map(|i| format!("m{i:04}")).collect();
    assert_eq!(
        reads.keys().cloned().collect::<BTreeSet<_>>(),
        expected,
        "nothing lost"
    );
    for (v, r) in &reads {
        let committed_before_last = r[..r.len() - 1].iter().any(|(_, ok)| *ok);
        assert!(
            !committed_before_last,
            "{v} was read again after a committed read: {r:?}"
        );
    }
    let closed = lines.iter().filter(|(_, l)| l == "CLOSED").count();
    assert_eq!(closed, 3, "every member left cleanly");
    let by_member: Vec<usize> = (0..3)
        .map(|m| {
            lines
                .iter()
                .filter(|(i, l)| *i == m && l.starts_with("GOT "))
                .count()
        })
        .collect();
    assert!(
        by_member.iter().all(|n| *n > 0),
        "every member read: {by_member:?}"
    );
    let reread = reads.values().filter(|r| r.len() > 1).count();
    let failed = lines
        .iter()
        .filter(|(_, l)| l.starts_with("COMMITFAIL"))
        .count();
    eprintln!("reads per member {by_member:?}; {failed} commits failed; {reread} read again");
    broker.shutdown().await;
}
