//! Stopping (gracefully, now) and restarting.

use super::*;

/// A batch in progress (fetch delayed 3 s) when the stop arrives 1 s into it.
async fn stop_during_batch(how: Stop) -> (MemorySource, tempfile::TempDir, crate::RunSummary) {
    let dir = tempfile::tempdir().unwrap();
    let source = MemorySource::new();
    source.create_topic("mytopic", 2);
    source.produce("mytopic", 0, "a");
    source.set_fetch_delay(Duration::from_secs(3));
    let ssc = context();
    ssc.input_stream(source.clone(), earliest())
        .save_as_text_files(dir.path().join("f"), "log");
    let running = ssc.start().await.unwrap();
    tokio::time::sleep_until(tokio::time::Instant::now() + Duration::from_millis(3_766 + 1_000))
        .await;
    assert_eq!(source.fetches().len(), 1, "the batch is fetching");
    let summary = running.stop(how).await.unwrap();
    (source, dir, summary)
}

#[tokio::test(start_paused = true)]
async fn graceful_stop_finishes_and_commits_the_batch_in_progress() {
    let (source, dir, summary) = stop_during_batch(Stop::Gracefully).await;
    assert_eq!(
        (summary.batches, summary.records, summary.stop_reason),
        (1, 1, StopReason::Gracefully)
    );
    assert_eq!(source.committed(), BTreeMap::from([(tp(0), 1), (tp(1), 0)]));
    assert_eq!(read(dir.path(), &format!("f-{FIRST}.log")), "(None, 'a')\n");
    assert_eq!(source.close_count(), 1);
}

#[tokio::test(start_paused = true)]
async fn stop_now_abandons_the_batch_without_committing() {
    let (source, dir, summary) = stop_during_batch(Stop::Now).await;
    assert_eq!((summary.batches, summary.stop_reason), (0, StopReason::Now));
    assert!(source.commits().is_empty());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    assert_eq!(source.close_count(), 1);
}

#[tokio::test(start_paused = true)]
async fn restart_after_graceful_stop_neither_loses_nor_repeats() {
    let source = MemorySource::new();
    source.create_topic("mytopic", 2);
    let mut all = Vec::new();
    for round in 0..3 {
        for i in 0..4 {
            let value = format!("r{round}-{i}");
            source.produce("mytopic", i % 2, &value);
            all.push(value);
        }
        let ssc = context().with_clock(Clock::StartingAt(T0 + round as i64 * 60_000));
        let seen = collect(
            &ssc.input_stream(source.reopen(), earliest())
                .map(|(_, v)| v),
        );
        let running = ssc.start().await.unwrap();
        // Let the first batch run, then stop between batches.
        while running.batches_completed() < 1 {
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        running.stop(Stop::Gracefully).await.unwrap();
        let got: Vec<String> = seen
            .lock()
            .unwrap()
            .iter()
            .flat_map(|(_, v)| v.clone())
            .collect();
        let mut want: Vec<String> = all[round * 4..].to_vec();
        want.sort_by_key(|v| v.split('-').nth(1).map(|i| i.parse::<i32>().unwrap() % 2));
        assert_eq!(got, want, "round {round}");
    }
}

/// Real time: a blocked output thread stops tokio's paused clock from advancing.
#[tokio::test]
async fn stop_now_during_outputs_publishes_and_commits_nothing_more() {
    let dir = tempfile::tempdir().unwrap();
    let source = MemorySource::new();
    source.create_topic("mytopic", 1);
    source.produce("mytopic", 0, "a");
    let ssc = StreamingContext::new(Duration::from_millis(20));
    let input = ssc.input_stream(source.clone(), earliest());
    let (started_tx, started_rx) = std::sync::mpsc::channel::<()>();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let release_rx = Mutex::new(release_rx);
    input.foreach_batch(move |_, _: &[_]| {
        let _ = started_tx.send(());
        // Blocks the output stage until the test has requested Stop::Now.
        let _ = release_rx
            .lock()
            .unwrap()
            .recv_timeout(Duration::from_secs(10));
    });
    input.save_as_text_files(dir.path().join("f"), "log");
    let running = ssc.start().await.unwrap();
    let started =
        tokio::task::spawn_blocking(move || started_rx.recv_timeout(Duration::from_secs(10)));
    started.await.unwrap().unwrap();
    let stopping = tokio::spawn(running.stop(Stop::Now));
    // Unblock the first output only once the stop request has been made.
    tokio::time::timeout(Duration::from_secs(10), async {
        while !stopping.is_finished() {
            tokio::time::sleep(Duration::from_millis(5)).await;
            let _ = release_tx.send(());
        }
    })
    .await
    .unwrap();
    let summary = stopping.await.unwrap().unwrap();
    assert_eq!((summary.batches, summary.stop_reason), (0, StopReason::Now));
    assert!(source.commits().is_empty());
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "the text output did not run"
    );
}
