//! Helpers for kt's whole-flow tests (`tests/tests/*.rs`).
//!
//! # Layout
//! - this file: start an in-process broker, produce records and keep their delivery reports,
//!   read Spark-layout output directories back, find peer programs (with the CI skip rule).
//! - `tests/tutorial.rs` — the tutorial's three jobs end to end, exact file contents.
//! - `tests/restart.rs` — graceful stop and restart: nothing lost, nothing repeated.
//! - `tests/interop_kt_kcat_group.rs` — a kt consumer and a kcat consumer (librdkafka 2.0.2
//!   and 2.16) sharing one group on the kt broker.
//! - `tests/python_group_churn.rs` (+ `peers/group_member.py`) — confluent-kafka 2.16 and 1.7
//!   members joining and leaving one group while messages flow, committing every message.
//! - `tests/broker_cleaner.rs` — the kt broker's retention and compaction run by themselves.
//! - `tests/static_membership.rs` — a static member (kt client, kcat) killed and restarted
//!   takes its place again: same generation, same partitions, no one else rebalanced.
//! - `tests/request_timeouts.rs` — Produce requests that time out at the client but are
//!   written by the broker later: the idempotent producer's retries duplicate nothing.
//!
//! # References
//! - Spark Streaming programming guide (`saveAsTextFiles` layout).

// Test helpers: failing loudly is their job.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use bytes::Bytes;
use kt_broker::{Broker, BrokerConfig, BrokerHandle, Cluster, ClusterConfig, ClusterHandle};
use kt_client::{Client, ClientConfig, NewTopic, ProducerConfig, ProducerRecord, RecordMetadata};

/// Generous bound for anything a test waits for; normally things take milliseconds.
pub const TIMEOUT: Duration = Duration::from_secs(60);

/// Starts an in-process broker on a free loopback port, with no initial rebalance delay.
pub async fn start_broker() -> BrokerHandle {
    let config = BrokerConfig {
        listen: ([127, 0, 0, 1], 0).into(),
        group_initial_rebalance_delay: Duration::ZERO,
        ..BrokerConfig::default()
    };
    Broker::start(config).await.expect("start broker")
}

/// An in-process cluster of `nodes` (no initial rebalance delay), a client with this request
/// timeout and 20 ms retry back-off, and `topic` created with `partitions` and as many
/// replicas as nodes.
pub async fn cluster_with_topic(
    nodes: usize,
    request_timeout: Duration,
    topic: &str,
    partitions: i32,
) -> (ClusterHandle, Client) {
    let mut config = ClusterConfig::for_tests(nodes);
    config.broker.group_initial_rebalance_delay = Duration::ZERO;
    let cluster = Cluster::start(config).await.unwrap();
    let mut cc = ClientConfig::new(cluster.bootstrap());
    cc.request_timeout = request_timeout;
    cc.retry_backoff = Duration::from_millis(20);
    let client = Client::connect(cc).await.unwrap();
    let replicas = i16::try_from(nodes).unwrap();
    client
        .admin()
        .create_topics(&[NewTopic::new(topic, partitions, replicas)])
        .await
        .unwrap();
    (cluster, client)
}

/// A connected client.
pub async fn client(bootstrap: &str) -> Client {
    Client::connect(ClientConfig::new(bootstrap))
        .await
        .expect("connect client")
}

/// Produces `(key, value)` records to `topic` and returns their delivery reports in order.
pub async fn produce(
    client: &Client,
    topic: &str,
    records: &[(Option<&str>, &str)],
) -> Vec<RecordMetadata> {
    let producer = client.producer(ProducerConfig::default());
    let mut deliveries = Vec::new();
    for (key, value) in records {
        let mut r = ProducerRecord::new(topic, Bytes::copy_from_slice(value.as_bytes()));
        r.key = key.map(|k| Bytes::copy_from_slice(k.as_bytes()));
        deliveries.push(producer.send(r).await.expect("enqueue record"));
    }
    let mut reports = Vec::new();
    for d in deliveries {
        reports.push(d.await.expect("record delivered"));
    }
    producer.close().await.expect("close producer");
    reports
}

/// One batch directory of a `save_as_text_files` output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchDir {
    /// The batch time in ms, from the directory name.
    pub time_ms: i64,
    /// Contents of `part-00000`.
    pub part: String,
    /// Whether `_SUCCESS` exists.
    pub success: bool,
}

/// Reads every `PREFIX-<ms>.<suffix>` directory of `prefix` (sorted by time). Panics on
/// anything that does not follow Spark's layout: a stray file is a test failure.
pub fn read_batches(prefix: &Path, suffix: &str) -> Vec<BatchDir> {
    let parent = prefix.parent().expect("prefix has a parent");
    let stem = format!(
        "{}-",
        prefix
            .file_name()
            .expect("prefix has a name")
            .to_string_lossy()
    );
    let tail = if suffix.is_empty() {
        String::new()
    } else {
        format!(".{suffix}")
    };
    let mut out = Vec::new();
    for entry in std::fs::read_dir(parent).expect("list output dir") {
        let entry = entry.expect("dir entry");
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix(&stem) else {
            continue;
        };
        let Some(ms) = rest.strip_suffix(&tail) else {
            continue;
        };
        let Ok(time_ms) = ms.parse::<i64>() else {
            continue; // another prefix sharing this stem, e.g. `w-methods-…` for `w`
        };
        let dir: PathBuf = entry.path();
        let mut files: Vec<String> = std::fs::read_dir(&dir)
            .expect("list batch dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        files.sort();
        assert_eq!(
            files,
            ["_SUCCESS", "part-00000"],
            "unexpected files in {}",
            dir.display()
        );
        out.push(BatchDir {
            time_ms,
            part: std::fs::read_to_string(dir.join("part-00000")).expect("read part-00000"),
            success: dir.join("_SUCCESS").exists(),
        });
    }
    out.sort_by_key(|b| b.time_ms);
    out
}

/// All lines of all batches, in batch order.
pub fn all_lines(batches: &[BatchDir]) -> Vec<String> {
    batches
        .iter()
        .flat_map(|b| b.part.lines().map(str::to_owned))
        .collect()
}

/// Delivery reports grouped as the streaming output orders records: by partition, then offset.
pub fn by_partition_then_offset<'a, T>(reports: &[RecordMetadata], items: &'a [T]) -> Vec<&'a T> {
    let mut order: BTreeMap<(i32, i64), &T> = BTreeMap::new();
    for (r, item) in reports.iter().zip(items) {
        order.insert((r.partition, r.offset), item);
    }
    order.into_values().collect()
}

/// Whether a peer program is usable. Missing: prints a visible skip line and returns false,
/// unless `CI=true`, where a missing peer fails the test (CI installs every peer).
pub fn peer_available(program: &str, probe_args: &[&str]) -> bool {
    let ok = std::process::Command::new(program)
        .args(probe_args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok();
    if !ok {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("{program} is required when CI=true (.ci/run installs it)");
        }
        eprintln!("SKIPPED: {program} not found");
    }
    ok
}

/// Where `.ci/install-peers` put the peers: `$KT_PEERS_DIR`, else `<workspace>/target/peers`.
pub fn peers_dir() -> PathBuf {
    match std::env::var_os("KT_PEERS_DIR") {
        Some(dir) => dir.into(),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/peers"),
    }
}

/// The folder holding librdkafka 2.16's `librdkafka.so.1` (run Debian's kcat with
/// `LD_LIBRARY_PATH` there). Missing: a visible skip line, or a failure when `CI=true`.
pub fn librdkafka_216() -> Option<PathBuf> {
    let dir = peers_dir().join("librdkafka-2.16");
    if dir.join("librdkafka.so.1").exists() {
        return Some(dir);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!(
            "{} is required when CI=true (.ci/install-peers installs it)",
            dir.display()
        );
    }
    eprintln!("SKIPPED: librdkafka 2.16 not found in {}", dir.display());
    None
}
