//! Static membership (KIP-345) end to end on the kt broker: a member with a
//! `group.instance.id` that dies without leaving (SIGKILL, or a dropped client) and comes back
//! takes its old place at once: the group stays in the same generation, no other member is
//! rebalanced, and the restarted member gets its old partitions and resumes from the committed
//! offsets. The members use cooperative-sticky, whose subscription lists the partitions a
//! member owns, so a restarted member's metadata differs from what it sent before (as a Java
//! client's does): Kafka does not rebalance for that, and neither may the broker.
//!
//! The assertions are on protocol state (generation, member ids, assignments, which records
//! each member read), never on how long anything took.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::Receiver;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kt_broker::{BrokerHandle, GroupState, GroupSummary, MemberSummary};
use kt_client::{
    AssignmentStrategy, Client, Consumer, ConsumerConfig, OffsetReset, TopicPartition,
};
use kt_tests::{TIMEOUT, client, peer_available, produce, start_broker};
use tokio::sync::{mpsc, oneshot};

const GROUP: &str = "static-g";

fn static_config(instance: &str) -> ConsumerConfig {
    ConsumerConfig {
        group_instance_id: Some(instance.to_owned()),
        auto_offset_reset: OffsetReset::Earliest,
        enable_auto_commit: false,
        assignment_strategies: vec![AssignmentStrategy::CooperativeSticky],
        heartbeat_interval: Duration::from_millis(200),
        session_timeout: Duration::from_secs(30),
        ..ConsumerConfig::with_group(GROUP)
    }
}

/// A kt consumer polling on a task of its own (a JoinGroup blocks its caller until every
/// member rejoined, so members must not share one polling loop). It commits what it read
/// after every poll and reports the records and its assignment.
struct Running {
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Consumer>,
    records: mpsc::UnboundedReceiver<(i32, String)>,
    assignment: Arc<Mutex<Vec<TopicPartition>>>,
}

impl Running {
    fn start(mut consumer: Consumer) -> Running {
        let (stop, mut stopped) = oneshot::channel();
        let (tx, records) = mpsc::unbounded_channel();
        let assignment = Arc::new(Mutex::new(Vec::new()));
        let shared = assignment.clone();
        let task = tokio::spawn(async move {
            loop {
                if stopped.try_recv().is_ok() {
                    return consumer;
                }
                let read = consumer.poll(Duration::from_millis(100)).await.unwrap();
                *shared.lock().unwrap() = consumer.assignment();
                let mut next = BTreeMap::new();
                for r in read {
                    next.insert(
                        TopicPartition::new(r.topic.clone(), r.partition),
                        r.offset + 1,
                    );
                    let v = String::from_utf8_lossy(&r.value.unwrap()).into_owned();
                    let _ = tx.send((r.partition, v));
                }
                if !next.is_empty() {
                    consumer.commit(&next).await.unwrap();
                }
            }
        });
        Running {
            stop,
            task,
            records,
            assignment,
        }
    }

    fn partitions(&self) -> BTreeSet<i32> {
        let a = self.assignment.lock().unwrap();
        a.iter().map(|tp| tp.partition).collect()
    }

    fn drain(&mut self, into: &mut Vec<(i32, String)>) {
        while let Ok(r) = self.records.try_recv() {
            into.push(r);
        }
    }

    async fn stop(self) -> Consumer {
        let _ = self.stop.send(());
        self.task.await.unwrap()
    }
}

/// Waits until `done` holds for the group.
async fn wait_group(broker: &BrokerHandle, mut done: impl FnMut(&GroupSummary) -> bool) {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let g = broker.describe_group(GROUP);
        if g.as_ref().is_some_and(&mut done) {
            return;
        }
        assert!(Instant::now() < deadline, "group never got there: {g:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Partitions in a consumer-protocol assignment (version, [topic, [partition]], user data).
fn assigned(bytes: &[u8]) -> BTreeSet<i32> {
    let i16_at = |at: usize| i16::from_be_bytes(bytes[at..at + 2].try_into().unwrap());
    let i32_at = |at: usize| i32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
    let mut out = BTreeSet::new();
    let mut at = 2;
    let topics = i32_at(at);
    at += 4;
    for _ in 0..topics {
        at += 2 + i16_at(at) as usize;
        let n = i32_at(at);
        at += 4;
        for _ in 0..n {
            out.insert(i32_at(at));
            at += 4;
        }
    }
    out
}

/// Stable with `n` members holding two partitions each (a cooperative rebalance takes two
/// generations; the first leaves the newcomer empty).
fn balanced(g: &GroupSummary, n: usize) -> bool {
    g.state == GroupState::Stable
        && g.members.len() == n
        && g.members.iter().all(|m| assigned(&m.assignment).len() == 2)
}

fn member_of<'a>(g: &'a GroupSummary, instance: &str) -> &'a MemberSummary {
    g.members
        .iter()
        .find(|m| m.group_instance_id.as_deref() == Some(instance))
        .unwrap_or_else(|| panic!("no member {instance} in {g:?}"))
}

/// 24 keyed records (all four partitions get some); value -> partition.
async fn produce_round(kt: &Client, round: &str) -> BTreeMap<String, i32> {
    let keys: Vec<String> = (0..24).map(|i| format!("k{i}")).collect();
    let values: Vec<String> = (0..24).map(|i| format!("{round}-{i}")).collect();
    let records: Vec<(Option<&str>, &str)> = keys
        .iter()
        .zip(&values)
        .map(|(k, v)| (Some(k.as_str()), v.as_str()))
        .collect();
    let reports = produce(kt, "st", &records).await;
    values
        .into_iter()
        .zip(reports)
        .map(|(v, r)| (v, r.partition))
        .collect()
}

/// The values of `sent` on `parts`, sorted.
fn values_on(sent: &BTreeMap<String, i32>, parts: &BTreeSet<i32>) -> Vec<String> {
    let mut v: Vec<String> = sent
        .iter()
        .filter(|(_, p)| parts.contains(p))
        .map(|(v, _)| v.clone())
        .collect();
    v.sort();
    v
}

fn values(read: &[(i32, String)]) -> Vec<String> {
    let mut v: Vec<String> = read.iter().map(|r| r.1.clone()).collect();
    v.sort();
    v
}

async fn member(bootstrap: &str, instance: &str) -> (Client, Consumer) {
    let c = client(bootstrap).await;
    let mut consumer = c.consumer(static_config(instance));
    consumer.subscribe(&["st"]).await.unwrap();
    (c, consumer)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restarted_static_kt_member_keeps_generation_and_partitions() {
    let broker = start_broker().await;
    broker.create_topic("st", 4).unwrap();
    let bootstrap = broker.bootstrap();
    let kt = client(&bootstrap).await;
    let (a_client, a) = member(&bootstrap, "a").await;
    let mut a = Running::start(a);
    let (_b_client, b) = member(&bootstrap, "b").await;
    let mut b = Running::start(b);
    wait_group(&broker, |g| balanced(g, 2)).await;

    // Round 1: both read their partitions (and commit as they go).
    let sent1 = produce_round(&kt, "r1").await;
    let (mut a_read, mut b_read) = (Vec::new(), Vec::new());
    let deadline = Instant::now() + TIMEOUT;
    while a_read.len() + b_read.len() < sent1.len() {
        tokio::time::sleep(Duration::from_millis(20)).await;
        a.drain(&mut a_read);
        b.drain(&mut b_read);
        assert!(
            Instant::now() < deadline,
            "round 1: a {a_read:?}, b {b_read:?}"
        );
    }
    let before = broker.describe_group(GROUP).unwrap();
    assert!(balanced(&before, 2), "{before:?}");
    let a_old = member_of(&before, "a").member_id.clone();
    let a_parts = assigned(&member_of(&before, "a").assignment);
    let b_parts = assigned(&member_of(&before, "b").assignment);
    assert_eq!(a.partitions(), a_parts);
    assert_eq!(values(&a_read), values_on(&sent1, &a_parts));

    // a dies without leaving (its connections close, no LeaveGroup), then comes back.
    drop(a.stop().await);
    drop(a_client);
    let (_a_client, mut a2) = member(&bootstrap, "a").await;
    let rejoined: BTreeSet<i32> = a2
        .join()
        .await
        .unwrap()
        .iter()
        .map(|tp| tp.partition)
        .collect();
    assert_eq!(
        rejoined, a_parts,
        "the restarted member gets its old partitions"
    );
    let after = broker.describe_group(GROUP).unwrap();
    assert_eq!(after.state, GroupState::Stable);
    assert_eq!(after.generation_id, before.generation_id, "no rebalance");
    assert_ne!(member_of(&after, "a").member_id, a_old, "a new member id");
    assert_eq!(
        member_of(&after, "a").assignment,
        member_of(&before, "a").assignment
    );
    assert_eq!(
        member_of(&after, "b"),
        member_of(&before, "b"),
        "b untouched"
    );

    // Round 2: the restarted a reads exactly round 2 of its partitions (it starts from the
    // committed offsets), b keeps reading its own.
    let mut a2 = Running::start(a2);
    let sent2 = produce_round(&kt, "r2").await;
    let (mut a_read, mut b_read) = (Vec::new(), Vec::new());
    let deadline = Instant::now() + TIMEOUT;
    while a_read.len() + b_read.len() < sent2.len() {
        tokio::time::sleep(Duration::from_millis(20)).await;
        a2.drain(&mut a_read);
        b.drain(&mut b_read);
        assert!(
            Instant::now() < deadline,
            "round 2: a {a_read:?}, b {b_read:?}"
        );
    }
    assert_eq!(
        values(&a_read),
        values_on(&sent2, &a_parts),
        "a: its round 2, once"
    );
    assert_eq!(
        values(&b_read),
        values_on(&sent2, &b_parts),
        "b: its round 2, once"
    );
    let last = broker.describe_group(GROUP).unwrap();
    assert_eq!(last.generation_id, before.generation_id);
    drop(a2.stop().await);
    drop(b.stop().await);
    broker.shutdown().await;
}

/// kcat (librdkafka 2.0.2) as static member "a" with cooperative-sticky beside a kt member
/// "b": kcat is SIGKILLed and started again with the same instance id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restarted_static_kcat_member_keeps_generation_and_partitions() {
    if !peer_available("kcat", &["-V"]) {
        return;
    }
    let broker = start_broker().await;
    broker.create_topic("st", 4).unwrap();
    let bootstrap = broker.bootstrap();
    let kt = client(&bootstrap).await;

    let (mut kcat, lines) = spawn_kcat(&bootstrap);
    let (_b_client, b) = member(&bootstrap, "b").await;
    let mut b = Running::start(b);
    wait_group(&broker, |g| balanced(g, 2)).await;
    let before = broker.describe_group(GROUP).unwrap();
    let a_parts = assigned(&member_of(&before, "a").assignment);
    let b_parts = assigned(&member_of(&before, "b").assignment);
    let a_old = member_of(&before, "a").member_id.clone();

    kcat.kill().unwrap();
    kcat.wait().unwrap();
    drop(lines);
    let (mut kcat, lines) = spawn_kcat(&bootstrap);
    // Until the restarted kcat has taken a's place (b keeps polling meanwhile).
    wait_group(&broker, |g| {
        g.members
            .iter()
            .any(|m| m.group_instance_id.as_deref() == Some("a") && m.member_id != a_old)
    })
    .await;
    let after = broker.describe_group(GROUP).unwrap();
    assert_eq!(after.state, GroupState::Stable);
    assert_eq!(after.generation_id, before.generation_id, "no rebalance");
    assert_eq!(
        member_of(&after, "a").assignment,
        member_of(&before, "a").assignment
    );
    assert_eq!(member_of(&after, "b"), member_of(&before, "b"));

    // The restarted kcat reads the records of a's partitions, b those of its own.
    let sent = produce_round(&kt, "r").await;
    let mut kcat_read: Vec<(i32, String)> = Vec::new();
    let mut b_read: Vec<(i32, String)> = Vec::new();
    let deadline = Instant::now() + TIMEOUT;
    while kcat_read.len() + b_read.len() < sent.len() {
        tokio::time::sleep(Duration::from_millis(20)).await;
        b.drain(&mut b_read);
        while let Ok(line) = lines.try_recv() {
            let (p, v) = line.split_once('|').unwrap();
            kcat_read.push((p.parse().unwrap(), v.to_owned()));
        }
        assert!(
            Instant::now() < deadline,
            "kcat {kcat_read:?}, kt {b_read:?}"
        );
    }
    kcat.kill().unwrap();
    kcat.wait().unwrap();
    assert_eq!(
        values(&kcat_read),
        values_on(&sent, &a_parts),
        "kcat: a's partitions"
    );
    assert_eq!(
        values(&b_read),
        values_on(&sent, &b_parts),
        "kt: b's partitions"
    );
    let last = broker.describe_group(GROUP).unwrap();
    assert_eq!(last.generation_id, before.generation_id);
    drop(b.stop().await);
    broker.shutdown().await;
}

/// kcat as static member "a" (cooperative-sticky), printing `partition|value` lines.
fn spawn_kcat(bootstrap: &str) -> (Child, Receiver<String>) {
    let mut kcat = Command::new("kcat")
        .args(["-b", bootstrap, "-G", GROUP, "st"])
        .args(["-f", "%p|%s\\n", "-q", "-u"])
        .args(["-X", "group.instance.id=a"])
        .args(["-X", "auto.offset.reset=earliest"])
        .args(["-X", "partition.assignment.strategy=cooperative-sticky"])
        .args(["-X", "session.timeout.ms=30000"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let stdout = kcat.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (kcat, rx)
}
