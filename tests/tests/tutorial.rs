//! The "Spark Streaming with Kafka" tutorial, end to end, on an in-process broker: create the
//! topic, produce unkeyed and keyed messages, run the `save`, `wordcount` and `weblog` jobs
//! exactly as `kt stream` runs them, and check every output file byte for byte.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::future::pending;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kt_cli::jobs::{Job, JobSpec, run_job};
use kt_client::{ConsumerConfig, NewTopic, OffsetSpec, TopicPartition};
use kt_tests::{
    TIMEOUT, all_lines, by_partition_then_offset, client, produce, read_batches, start_broker,
};

const BATCH: Duration = Duration::from_millis(500);

fn spec(topic: &str, out: std::path::PathBuf, batches: u64) -> JobSpec {
    JobSpec {
        topic: topic.to_string(),
        batch: BATCH,
        out,
        suffix: "log".to_string(),
        group: "sparkit".to_string(),
        from_beginning: true,
        batches: Some(batches),
        max_rate: None,
        ..JobSpec::default()
    }
}

/// Runs a job to its batch limit and returns its report lines.
async fn run(bootstrap: &str, job: Job, spec: &JobSpec) -> Vec<String> {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&lines);
    let summary = tokio::time::timeout(
        TIMEOUT,
        run_job(
            bootstrap,
            job,
            spec,
            move |l| sink.lock().unwrap().push(l),
            pending(),
            pending(),
        ),
    )
    .await
    .expect("job finished in time")
    .expect("job succeeded");
    assert_eq!(summary.batches, spec.batches.unwrap());
    let lines = lines.lock().unwrap().clone();
    assert_eq!(
        lines.len() as u64,
        summary.batches,
        "one report line per batch"
    );
    lines
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tutorial_steps_write_spark_layout_with_exact_contents() {
    let broker = start_broker().await;
    let bootstrap = broker.bootstrap();
    let client = client(&bootstrap).await;
    let out = tempfile::tempdir().unwrap();
    client
        .admin()
        .create_topics(&[
            NewTopic::new("mytopic", 1, 1),
            NewTopic::new("access", 1, 1),
        ])
        .await
        .unwrap();

    // Step 1: raw pairs, unkeyed then keyed, with a quote and non-ASCII to check escaping.
    produce(
        &client,
        "mytopic",
        &[
            (None, "message1"),
            (None, "message2"),
            (Some("key1"), "message1"),
            (Some("key2"), "it's"),
            (Some("ключ"), "tab\there"),
        ],
    )
    .await;
    let save = spec("mytopic", out.path().join("g"), 2);
    let report = run(&bootstrap, Job::Save, &save).await;
    let batches = read_batches(&save.out, "log");
    assert_eq!(batches.len(), 2, "{batches:?}");
    assert!(batches.iter().all(|b| b.success));
    assert_eq!(
        batches[0].time_ms % 500,
        0,
        "batch times are multiples of the interval"
    );
    assert_eq!(batches[1].time_ms, batches[0].time_ms + 500);
    assert_eq!(
        batches[0].part,
        "(None, 'message1')\n\
         (None, 'message2')\n\
         ('key1', 'message1')\n\
         ('key2', \"it's\")\n\
         ('ключ', 'tab\\there')\n"
    );
    assert_eq!(
        batches[1].part, "",
        "an empty batch still writes its directory"
    );
    assert!(
        report[0].contains(&format!("batch {} ms: 5 records", batches[0].time_ms)),
        "{report:?}"
    );
    assert!(report[0].contains("mytopic-0 [0, 5)"), "{report:?}");

    // Step 2: word count. The group committed offset 5 in step 1, so only new lines count.
    produce(
        &client,
        "mytopic",
        &[
            (None, "the quick brown fox"),
            (None, "jumps over the lazy dog"),
            (Some("k"), "the end"),
        ],
    )
    .await;
    let wordcount = spec("mytopic", out.path().join("f"), 2);
    run(&bootstrap, Job::Wordcount, &wordcount).await;
    let batches = read_batches(&wordcount.out, "log");
    assert_eq!(batches.len(), 2);
    assert_eq!(
        batches[0].part,
        "('brown', 1)\n('dog', 1)\n('end', 1)\n('fox', 1)\n('jumps', 1)\n('lazy', 1)\n\
         ('over', 1)\n('quick', 1)\n('the', 3)\n"
    );
    assert_eq!(batches[1].part, "");

    // Step 3: web log. Lenient parsing: `-` size, missing protocol, Combined format, CRLF;
    // one line that is not a log entry is counted as rejected.
    produce(
        &client,
        "access",
        &[
            (None, r#"10.0.0.1 - - [24/Nov/2026:10:15:01 +0000] "GET /index.html HTTP/1.1" 200 5120"#),
            (None, r#"10.0.0.2 - bob [24/Nov/2026:10:15:02 +0000] "POST /login HTTP/1.1" 302 -"#),
            (None, r#"10.0.0.3 - - [24/Nov/2026:10:15:03 +0000] "GET /index.html" 200 10"#),
            (None, "10.0.0.4 - - [24/Nov/2026:10:15:04 +0000] \"GET /a%20b HTTP/1.0\" 404 0 \"-\" \"curl/8\"\r"),
            (None, "not a log line"),
        ],
    )
    .await;
    let weblog = spec("access", out.path().join("w"), 1);
    let report = run(&bootstrap, Job::Weblog, &weblog).await;
    let methods = read_batches(&out.path().join("w-methods"), "log");
    let endpoints = read_batches(&out.path().join("w-endpoints"), "log");
    assert_eq!(methods.len(), 1);
    assert_eq!(methods[0].part, "('GET', 3)\n('POST', 1)\n");
    assert_eq!(endpoints.len(), 1);
    assert_eq!(endpoints[0].time_ms, methods[0].time_ms);
    assert_eq!(
        endpoints[0].part,
        "('/a%20b', 1)\n('/index.html', 2)\n('/login', 1)\n"
    );
    assert!(report[0].ends_with(", 1 line rejected"), "{report:?}");

    broker.shutdown().await;
}

/// With several partitions, output follows partition then offset, keyed records land where
/// the partitioner put them, and the commit after each batch covers every assigned partition —
/// including partitions that received nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_partition_order_and_commits_cover_idle_partitions() {
    let broker = start_broker().await;
    let bootstrap = broker.bootstrap();
    let client = client(&bootstrap).await;
    let out = tempfile::tempdir().unwrap();
    client
        .admin()
        .create_topics(&[NewTopic::new("mytopic", 4, 1)])
        .await
        .unwrap();
    let records: Vec<(Option<&str>, &str)> = vec![
        (Some("key1"), "message1"),
        (Some("key2"), "message2"),
        (Some("key1"), "message3"),
        (Some("key3"), "message4"),
    ];
    let reports = produce(&client, "mytopic", &records).await;
    // Keyed records of one key share a partition.
    assert_eq!(reports[0].partition, reports[2].partition);

    let save = spec("mytopic", out.path().join("g"), 1);
    run(&bootstrap, Job::Save, &save).await;
    let expected: Vec<String> = by_partition_then_offset(&reports, &records)
        .into_iter()
        .map(|(k, v)| format!("('{}', '{}')", k.unwrap(), v))
        .collect();
    assert_eq!(all_lines(&read_batches(&save.out, "log")), expected);

    // Committed offsets equal the end offsets on all 4 partitions, idle ones included.
    let tps: Vec<TopicPartition> = (0..4).map(|p| TopicPartition::new("mytopic", p)).collect();
    let latest = client
        .list_offsets(
            &tps.iter()
                .map(|tp| (tp.clone(), OffsetSpec::Latest))
                .collect::<Vec<_>>(),
        )
        .await
        .unwrap();
    let used: std::collections::BTreeSet<i32> = reports.iter().map(|r| r.partition).collect();
    assert!(used.len() < 4, "some partition stays idle: {used:?}");
    let mut group = client.consumer(ConsumerConfig::with_group("sparkit"));
    let committed = group.committed(&tps).await.unwrap();
    for tp in &tps {
        assert_eq!(committed[tp], Some(latest[tp]), "committed offset of {tp}");
    }
    broker.shutdown().await;
}
