//! `kt stream` as separate processes against a `kt broker` process: SIGKILLed between output
//! and commit and at random points, then restarted (exactly-once files); and several processes
//! in one consumer group sharing a topic while members join and leave (no record lost or
//! counted twice).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use bytes::Bytes;
use kt_client::{Client, ClientConfig, ProducerConfig, ProducerRecord};

mod common;

use common::{create_topic, outputs, spawn, wait_until};

/// A `kt broker` that lets a group form at once and accepts 1 s sessions.
fn start_broker() -> (common::Proc, String) {
    common::start_broker(
        "127.0.0.1:0",
        &[
            "--group-initial-rebalance-delay",
            "0s",
            "--group-min-session-timeout",
            "1s",
        ],
    )
}

/// Produces `prefix{i:05}` for i in `range` round-robin over `partitions`, in chunks of
/// `chunk` with `pause` in between, on a thread of its own.
fn produce(
    bootstrap: &str,
    topic: &str,
    partitions: i32,
    range: std::ops::Range<u32>,
    prefix: &'static str,
    chunk: usize,
    pause: Duration,
) -> std::thread::JoinHandle<()> {
    let (bootstrap, topic) = (bootstrap.to_owned(), topic.to_owned());
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let client = Client::connect(ClientConfig::new(bootstrap)).await.unwrap();
            let producer = client.producer(ProducerConfig::default());
            let all: Vec<u32> = range.collect();
            for part in all.chunks(chunk) {
                let mut pending = Vec::new();
                for i in part {
                    let mut r =
                        ProducerRecord::new(topic.clone(), Bytes::from(format!("{prefix}{i:05}")));
                    r.partition = Some(*i as i32 % partitions);
                    pending.push(producer.send(r).await.unwrap());
                }
                for d in pending {
                    d.await.unwrap();
                }
                tokio::time::sleep(pause).await;
            }
            producer.close().await.unwrap();
        });
    })
}

/// A small xorshift generator: the random kill points, reproducible from the printed seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self, below: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % below
    }
}

#[test]
fn sigkill_between_output_and_commit_and_at_random_points_loses_and_repeats_nothing() {
    let (_broker, bootstrap) = start_broker();
    create_topic(&bootstrap, "events", 3);
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().join("s");
    let checkpoint = dir.path().join("checkpoint");
    let args: Vec<String> = [
        "-b",
        &bootstrap,
        "stream",
        "save",
        "--topic",
        "events",
        "--batch",
        "200ms",
        "--group",
        "kill",
        "--session-timeout",
        "1s",
        "--from-beginning",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .chain(["--checkpoint".into(), checkpoint.display().to_string()])
    .chain(["--out".into(), prefix.display().to_string()])
    .collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    const TOTAL: u32 = 1_200;

    // 1. Killed exactly between staging its output and committing it.
    produce(&bootstrap, "events", 3, 0..150, "m", 150, Duration::ZERO)
        .join()
        .unwrap();
    let job = spawn(&args, &[("KT_TEST_PAUSE_BEFORE_COMMIT", "1")]);
    let line = job.wait_for("kt-test: batch ");
    let ms: i64 = line.split_whitespace().nth(2).unwrap().parse().unwrap();
    job.sigkill();
    let staged = dir.path().join(format!(".s-{ms}.staged"));
    let part = std::fs::read_to_string(staged.join("part-00000")).unwrap();
    assert_eq!(part.lines().count(), 150, "the batch was staged whole");
    assert!(
        !dir.path().join(format!("s-{ms}")).exists(),
        "and not published"
    );

    // 2. Records keep arriving while the job is killed at random points (and once more at
    // the deterministic point, mid-stream).
    let producing = produce(
        &bootstrap,
        "events",
        3,
        150..TOTAL,
        "m",
        30,
        Duration::from_millis(40),
    );
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    eprintln!("random kill points from seed {seed}");
    let mut rng = Rng(seed);
    for round in 0..6 {
        if round == 2 {
            let job = spawn(&args, &[("KT_TEST_PAUSE_BEFORE_COMMIT", "1")]);
            job.wait_for("kt-test: batch ");
            job.sigkill();
            continue;
        }
        let job = spawn(&args, &[]);
        std::thread::sleep(Duration::from_millis(100 + rng.next(900)));
        job.sigkill();
    }
    producing.join().unwrap();

    // 3. A last run catches up; then a graceful stop (once it has run a batch, so its
    // signal handler is surely installed).
    let job = spawn(&args, &[("RUST_LOG", "warn,kt_streaming::engine=info")]);
    job.wait_for(" records from ");
    wait_until("every record in the output", || {
        outputs(dir.path(), "s").0.len() >= TOTAL as usize
    });
    job.terminate();

    let (lines, staged) = outputs(dir.path(), "s");
    assert!(staged.is_empty(), "nothing left staged: {staged:?}");
    let mut seen: BTreeMap<String, u32> = BTreeMap::new();
    for l in &lines {
        *seen.entry(l.clone()).or_default() += 1;
    }
    let repeated: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(repeated.is_empty(), "written twice: {repeated:?}");
    let expected: Vec<String> = (0..TOTAL).map(|i| format!("(None, 'm{i:05}')")).collect();
    assert_eq!(
        seen.into_keys().collect::<Vec<_>>(),
        expected,
        "every record exactly once"
    );
}

/// Sums word counts over every process's files: `('w00012', 1)` lines.
fn counts(dirs: &[&Path]) -> BTreeMap<String, u64> {
    let mut total = BTreeMap::new();
    for d in dirs {
        for line in outputs(d, "wc").0 {
            let inner = line.trim_start_matches("('").trim_end_matches(')');
            let (word, n) = inner.split_once("', ").unwrap();
            *total.entry(word.to_owned()).or_default() += n.parse::<u64>().unwrap();
        }
    }
    total
}

#[test]
fn processes_in_one_group_share_partitions_as_members_join_and_leave() {
    let (_broker, bootstrap) = start_broker();
    create_topic(&bootstrap, "words", 4);
    let root = tempfile::tempdir().unwrap();
    let dirs: Vec<std::path::PathBuf> = ["a", "b", "c"]
        .iter()
        .map(|n| root.path().join(n))
        .collect();
    let member = |out: &Path| {
        spawn(
            &[
                "-b",
                &bootstrap,
                "stream",
                "wordcount",
                "--topic",
                "words",
                "--batch",
                "300ms",
                "--group",
                "scale",
                "--session-timeout",
                "2s",
                "--from-beginning",
                "--out",
                out.join("wc").to_str().unwrap(),
            ],
            &[],
        )
    };
    const TOTAL: u32 = 1_500;
    // Every record is a distinct word, so a count above 1 anywhere is double counting.
    let producing = produce(
        &bootstrap,
        "words",
        4,
        0..TOTAL,
        "w",
        25,
        Duration::from_millis(30),
    );
    let nonempty = |d: &Path| !counts(&[d]).is_empty();

    let a = member(&dirs[0]);
    wait_until("a's first counts", || nonempty(&dirs[0]));
    let b = member(&dirs[1]);
    wait_until("b's first counts", || nonempty(&dirs[1]));
    // a leaves; b takes all partitions.
    a.terminate();
    let after_a = counts(&[&dirs[1]]).len();
    wait_until("b counting a's partitions too", || {
        counts(&[&dirs[1]]).len() > after_a + 50
    });
    // c joins.
    let c = member(&dirs[2]);
    wait_until("c's first counts", || nonempty(&dirs[2]));
    producing.join().unwrap();
    let all: Vec<&Path> = dirs.iter().map(|d| d.as_path()).collect();
    wait_until("every word counted", || {
        counts(&all).len() >= TOTAL as usize
    });
    b.terminate();
    c.terminate();

    let total = counts(&all);
    let twice: Vec<_> = total.iter().filter(|(_, n)| **n != 1).collect();
    assert!(twice.is_empty(), "counted more than once: {twice:?}");
    let expected: Vec<String> = (0..TOTAL).map(|i| format!("w{i:05}")).collect();
    assert_eq!(
        total.into_keys().collect::<Vec<_>>(),
        expected,
        "no word lost"
    );
    for d in &dirs {
        assert!(
            outputs(d, "wc").1.is_empty(),
            "nothing left staged in {}",
            d.display()
        );
    }
}
