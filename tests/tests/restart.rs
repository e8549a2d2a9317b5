//! A streaming job stopped gracefully while records keep arriving, then restarted: together
//! the two runs' output holds every record exactly once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::future::pending;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kt_cli::jobs::{Job, JobSpec, run_job};
use kt_client::NewTopic;
use kt_tests::{TIMEOUT, all_lines, client, produce, read_batches, start_broker};
use tokio::sync::Notify;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_stop_then_restart_loses_and_repeats_nothing() {
    let broker = start_broker().await;
    let bootstrap = broker.bootstrap();
    let client = client(&bootstrap).await;
    let out = tempfile::tempdir().unwrap();
    client
        .admin()
        .create_topics(&[NewTopic::new("events", 3, 1)])
        .await
        .unwrap();

    // Records arrive while the first run is going: 300 in small groups.
    let values: Vec<String> = (0..300).map(|i| format!("m{i:03}")).collect();
    let producer_client = client.clone();
    let to_send = values.clone();
    let producing = tokio::spawn(async move {
        for chunk in to_send.chunks(10) {
            let records: Vec<(Option<&str>, &str)> =
                chunk.iter().map(|v| (None, v.as_str())).collect();
            produce(&producer_client, "events", &records).await;
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
    });

    let spec = JobSpec {
        topic: "events".into(),
        batch: Duration::from_millis(200),
        out: out.path().join("g"),
        suffix: String::new(),
        group: "sparkit".into(),
        from_beginning: true,
        batches: None,
        max_rate: None,
        ..JobSpec::default()
    };
    // Stop the first run once it has completed two batches with records in them.
    let batches_with_records = Arc::new(Mutex::new(0u32));
    let stop_now = Arc::new(Notify::new());
    let (count, notify) = (Arc::clone(&batches_with_records), Arc::clone(&stop_now));
    let report = move |line: String| {
        if !line.contains(": 0 records") {
            let mut n = count.lock().unwrap();
            *n += 1;
            if *n == 2 {
                notify.notify_one();
            }
        }
    };
    let first = tokio::time::timeout(
        TIMEOUT,
        run_job(
            &bootstrap,
            Job::Save,
            &spec,
            report,
            stop_now.notified(),
            pending(),
        ),
    )
    .await
    .expect("first run stopped in time")
    .expect("first run succeeded");
    assert!(first.batches >= 2);

    producing.await.unwrap();
    let second_spec = JobSpec {
        batches: Some(2),
        ..spec.clone()
    };
    tokio::time::timeout(
        TIMEOUT,
        run_job(
            &bootstrap,
            Job::Save,
            &second_spec,
            |_| {},
            pending(),
            pending(),
        ),
    )
    .await
    .expect("second run finished in time")
    .expect("second run succeeded");

    let lines = all_lines(&read_batches(&spec.out, ""));
    let mut seen: BTreeMap<String, u32> = BTreeMap::new();
    for line in &lines {
        *seen.entry(line.clone()).or_default() += 1;
    }
    let repeated: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(repeated.is_empty(), "records written twice: {repeated:?}");
    let expected: Vec<String> = values.iter().map(|v| format!("(None, '{v}')")).collect();
    let got: Vec<String> = seen.into_keys().collect();
    assert_eq!(got, expected, "every record exactly once");
    assert!(
        first.records > 0 && first.records < 300,
        "the stop happened mid-stream ({} records in run 1)",
        first.records
    );
    broker.shutdown().await;
}
