//! Interop with Python clients from Debian's /usr/bin/python3: kafka-python 2.0.2 (ApiVersions
//! v0, JoinGroup v2, Produce v7, Fetch v4) and confluent-kafka 1.7 on librdkafka 2.0.2. Each
//! script produces unkeyed and keyed messages, consumes them in a group, commits and reads the
//! commits back; the test checks every message came back exactly once and the commits match
//! the broker's high watermarks.
//!
//! Without python3 or the module these tests print "SKIPPED: ..." and pass, unless CI=true.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

mod common;

use std::collections::BTreeMap;
use std::process::Command;
use std::time::Duration;

use common::{TestBroker, run};

const PYTHON: &str = "/usr/bin/python3";

/// The interpreter, if it exists and can import `module`.
fn python_with(module: &str) -> Option<&'static str> {
    common::peer(PYTHON, "python3")?;
    let ok = Command::new(PYTHON)
        .args(["-c", &format!("import {module}")])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("python module {module} missing and CI=true");
        }
        println!("SKIPPED: python module {module} not importable by {PYTHON}");
        return None;
    }
    Some(PYTHON)
}

struct Outcome {
    records: Vec<(String, String, i32, i64)>,
    committed: BTreeMap<i32, i64>,
}

fn run_script(script: &str, args: &[String]) -> Outcome {
    let path = format!("{}/tests/python/{script}", env!("CARGO_MANIFEST_DIR"));
    let mut cmd = Command::new(PYTHON);
    cmd.arg(path).args(args);
    let (status, lines, err) = run(cmd, None, Duration::from_secs(120));
    let text = lines.join("\n");
    assert!(status.success(), "{script} failed:\n{text}\n{err}");
    assert!(
        lines.last().is_some_and(|l| l == "DONE"),
        "{script} did not finish:\n{text}\n{err}"
    );
    assert!(
        !lines.iter().any(|l| l.starts_with("ERROR")),
        "{script} reported errors:\n{text}"
    );
    let mut records = Vec::new();
    let mut committed = BTreeMap::new();
    for line in &lines {
        if let Some(r) = line.strip_prefix("RECORD ") {
            let f: Vec<&str> = r.split('|').collect();
            records.push((
                f[0].to_owned(),
                f[1].to_owned(),
                f[2].parse().unwrap(),
                f[3].parse().unwrap(),
            ));
        } else if let Some(c) = line.strip_prefix("COMMITTED ") {
            let (p, o) = c.split_once(' ').unwrap();
            committed.insert(p.parse().unwrap(), o.parse().unwrap());
        }
    }
    Outcome { records, committed }
}

fn check(b: &TestBroker, topic: &str, partitions: i32, count: usize, out: &Outcome) {
    let mut values: Vec<String> = out.records.iter().map(|r| r.1.clone()).collect();
    values.sort();
    let mut want: Vec<String> = (0..count / 2).map(|i| format!("plain-{i}")).collect();
    want.extend((0..count - count / 2).map(|i| format!("keyed-{i}")));
    want.sort();
    assert_eq!(values, want, "every message exactly once");
    for r in out.records.iter().filter(|r| r.1.starts_with("keyed-")) {
        let i: usize = r.1["keyed-".len()..].parse().unwrap();
        assert_eq!(r.0, format!("k{}", i % 5));
    }
    for p in 0..partitions {
        let (_, hw) = b.handle().partition_offsets(topic, p).unwrap();
        assert_eq!(
            out.committed.get(&p).copied(),
            Some(hw),
            "partition {p}: committed {:?}",
            out.committed
        );
    }
}

#[test]
fn kafka_python_produces_and_consumes_in_a_group() {
    let b = TestBroker::start();
    if python_with("kafka").is_none() {
        return;
    }
    b.handle().create_topic("py-topic", 3).unwrap();
    let out = run_script(
        "kafka_python_roundtrip.py",
        &[
            b.bootstrap(),
            "py-topic".into(),
            "py-group".into(),
            "60".into(),
        ],
    );
    check(&b, "py-topic", 3, 60, &out);
}

#[test]
fn confluent_kafka_produces_and_consumes_in_a_group() {
    let b = TestBroker::start();
    if python_with("confluent_kafka").is_none() {
        return;
    }
    b.handle().create_topic("ck-topic", 3).unwrap();
    let out = run_script(
        "confluent_roundtrip.py",
        &[
            b.bootstrap(),
            "ck-topic".into(),
            "ck-group".into(),
            "60".into(),
            "3".into(),
        ],
    );
    check(&b, "ck-topic", 3, 60, &out);
}
