//! `kt stream` features beyond the tutorial, on an in-process broker: windowed counts,
//! `--metrics-json`, `weblog --top`, and the Kafka source's modes (null values, assign with
//! starting offsets, topic patterns).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::future::pending;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use kt_cli::jobs::{Job, JobSpec, run_job};
use kt_client::{NewTopic, ProducerConfig, ProducerRecord};
use kt_streaming::{KafkaSource, SourceRecord, StreamingContext, TopicPartition};
use kt_tests::{TIMEOUT, all_lines, client, produce, read_batches, start_broker};

const BATCH: Duration = Duration::from_millis(400);

async fn run(bootstrap: &str, job: Job, spec: &JobSpec) {
    let summary = tokio::time::timeout(
        TIMEOUT,
        run_job(bootstrap, job, spec, |_| {}, pending(), pending()),
    )
    .await
    .expect("job finished in time")
    .expect("job succeeded");
    assert_eq!(summary.batches, spec.batches.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn windowed_wordcount_and_metrics_json() {
    let broker = start_broker().await;
    let bootstrap = broker.bootstrap();
    let client = client(&bootstrap).await;
    produce(&client, "words", &[(None, "a b"), (None, "a")]).await;
    let dir = tempfile::tempdir().unwrap();
    let metrics = dir.path().join("metrics.jsonl");
    let spec = JobSpec {
        topic: "words".into(),
        batch: BATCH,
        out: dir.path().join("wc"),
        group: "win".into(),
        from_beginning: true,
        batches: Some(3),
        window: Some(BATCH * 2),
        metrics_json: Some(metrics.clone()),
        ..JobSpec::default()
    };
    run(&bootstrap, Job::Wordcount, &spec).await;
    let batches = read_batches(&spec.out, "");
    let parts: Vec<&str> = batches.iter().map(|b| b.part.as_str()).collect();
    // Everything arrives in the first batch; the 2-batch window holds it for two batches.
    assert_eq!(parts, ["('a', 2)\n('b', 1)\n", "('a', 2)\n('b', 1)\n", ""]);

    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&metrics)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    let first = &lines[0];
    assert_eq!(first["batch_time_ms"], batches[0].time_ms);
    assert_eq!(first["records"], 2);
    assert_eq!(
        first["offset_ranges"],
        serde_json::json!([{"topic": "words", "partition": 0, "from": 0, "until": 2}])
    );
    assert_eq!(
        first["output_paths"],
        serde_json::json!([format!("{}-{}", spec.out.display(), batches[0].time_ms)])
    );
    for key in [
        "scheduling_delay_ms",
        "processing_time_ms",
        "total_delay_ms",
        "lag",
    ] {
        assert!(first[key].is_u64(), "{key} in {first}");
    }
    broker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weblog_top_endpoints() {
    let broker = start_broker().await;
    let bootstrap = broker.bootstrap();
    let client = client(&bootstrap).await;
    let line =
        |path: &str| format!(r#"h - - [01/Jul/1995:00:00:01 -0400] "GET {path} HTTP/1.0" 200 1"#);
    let lines: Vec<String> = ["/b", "/a", "/c", "/a", "/b", "/a"]
        .iter()
        .map(|p| line(p))
        .collect();
    let records: Vec<(Option<&str>, &str)> = lines.iter().map(|l| (None, l.as_str())).collect();
    produce(&client, "access", &records).await;
    let dir = tempfile::tempdir().unwrap();
    let spec = JobSpec {
        topic: "access".into(),
        batch: BATCH,
        out: dir.path().join("w"),
        group: "top".into(),
        from_beginning: true,
        batches: Some(1),
        top: Some(2),
        ..JobSpec::default()
    };
    run(&bootstrap, Job::Weblog, &spec).await;
    let top = all_lines(&read_batches(&dir.path().join("w-top"), ""));
    assert_eq!(top, ["('/a', 3)", "('/b', 2)"]);
    let endpoints = all_lines(&read_batches(&dir.path().join("w-endpoints"), ""));
    assert_eq!(endpoints, ["('/a', 3)", "('/b', 2)", "('/c', 1)"]);
    // --top is refused for the other jobs.
    let err = run_job(&bootstrap, Job::Save, &spec, |_| {}, pending(), pending())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("--top"), "{err}");
    broker.shutdown().await;
}

/// Runs one batch of `source` and returns its records.
async fn one_batch(source: KafkaSource) -> Vec<SourceRecord> {
    let ssc = StreamingContext::new(Duration::from_millis(200)).stop_after_batches(1);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    ssc.kafka_records(source)
        .foreach_batch(move |_, r: &[SourceRecord]| sink.lock().unwrap().extend_from_slice(r));
    tokio::time::timeout(TIMEOUT, ssc.run())
        .await
        .unwrap()
        .unwrap();
    seen.lock().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn null_values_assign_with_offsets_and_patterns() {
    let broker = start_broker().await;
    let bootstrap = broker.bootstrap();
    let client = client(&bootstrap).await;
    client
        .admin()
        .create_topics(&[
            NewTopic::new("two", 2, 1),
            NewTopic::new("logs-a", 1, 1),
            NewTopic::new("logs-b", 1, 1),
            NewTopic::new("other", 1, 1),
        ])
        .await
        .unwrap();

    // A tombstone: None in the records, "" in the tutorial's pairs.
    let producer = client.producer(ProducerConfig::default());
    let mut r = ProducerRecord::new("logs-a", Bytes::from_static(b"x"));
    r.key = Some(Bytes::from_static(b"k"));
    r.value = None;
    producer.send(r).await.unwrap().await.unwrap();
    producer.close().await.unwrap();
    let records = one_batch(
        KafkaSource::new(&bootstrap)
            .group("nulls")
            .topic("logs-a")
            .from_beginning(true),
    )
    .await;
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].value, None);
    assert_eq!(
        records[0].to_element(),
        (Some("k".to_owned()), String::new())
    );

    // Topic pattern: both logs-* topics, not `other`.
    produce(&client, "logs-b", &[(None, "b1")]).await;
    produce(&client, "other", &[(None, "o1")]).await;
    let records = one_batch(
        KafkaSource::new(&bootstrap)
            .group("pattern")
            .topic_pattern("logs-.*")
            .unwrap()
            .from_beginning(true),
    )
    .await;
    let mut topics: Vec<String> = records.iter().map(|r| r.tp.topic.to_string()).collect();
    topics.sort();
    assert_eq!(topics, ["logs-a", "logs-b"]);

    // Assign partition 0 of `two` from offset 3; a second run continues at the commit.
    let produce_to_0 = |values: Vec<String>| {
        let client = client.clone();
        async move {
            let producer = client.producer(ProducerConfig::default());
            for v in values {
                let mut r = ProducerRecord::new("two", Bytes::from(v));
                r.partition = Some(0);
                producer.send(r).await.unwrap().await.unwrap();
            }
            producer.close().await.unwrap();
        }
    };
    produce_to_0((0..5).map(|i| format!("v{i}")).collect()).await;
    let assigned = || {
        KafkaSource::new(&bootstrap)
            .group("assign")
            .assign([TopicPartition::new("two", 0)])
            .starting_offset(TopicPartition::new("two", 0), 3)
    };
    let first: Vec<i64> = one_batch(assigned())
        .await
        .iter()
        .map(|r| r.offset)
        .collect();
    assert_eq!(first, [3, 4]);
    produce_to_0(vec!["v5".into()]).await;
    let second: Vec<i64> = one_batch(assigned())
        .await
        .iter()
        .map(|r| r.offset)
        .collect();
    assert_eq!(
        second,
        [5],
        "the committed offset wins over the starting offset"
    );
    broker.shutdown().await;
}
