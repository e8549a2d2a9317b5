//! Engine semantics on a [`MemorySource`] with tokio's clock paused.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::error::{Stage, StreamingError};
use crate::report::BatchReport;
use crate::running::{Stop, StopReason};
use crate::source::{InputOptions, MemorySource, OffsetReset, SourceOp, TopicPartition};
use crate::time::{BatchTime, Clock};
use crate::{DStream, RetryPolicy, StreamingContext};

/// 1_000_000_001_234 ms: the first 5 s batch is at ...005_000.
const T0: i64 = 1_000_000_001_234;
const FIRST: i64 = 1_000_000_005_000;
const INTERVAL: Duration = Duration::from_secs(5);

fn context() -> StreamingContext {
    StreamingContext::new(INTERVAL).with_clock(Clock::StartingAt(T0))
}

fn earliest() -> InputOptions {
    InputOptions {
        offset_reset: OffsetReset::Earliest,
        ..InputOptions::default()
    }
}

fn tp(p: i32) -> TopicPartition {
    TopicPartition::new("mytopic", p)
}

fn reports(ssc: &StreamingContext) -> Arc<Mutex<Vec<BatchReport>>> {
    let reports = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&reports);
    ssc.on_batch_completed(move |r| sink.lock().unwrap().push(r.clone()));
    reports
}

/// Every batch's (time in ms, elements), as a foreach_batch output saw them.
type Collected<T> = Arc<Mutex<Vec<(i64, Vec<T>)>>>;

fn collect<T: crate::Element>(stream: &DStream<T>) -> Collected<T> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    stream.foreach_batch(move |time: BatchTime, items: &[T]| {
        sink.lock().unwrap().push((time.millis(), items.to_vec()))
    });
    seen
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name).join("part-00000")).unwrap()
}

#[tokio::test(start_paused = true)]
async fn batches_are_aligned_to_the_interval() {
    let source = MemorySource::new();
    source.create_topic("mytopic", 1);
    let ssc = context().stop_after_batches(3);
    let reports = reports(&ssc);
    collect(&ssc.input_stream(source, earliest()));
    let summary = ssc.run().await.unwrap();
    assert_eq!(summary.batches, 3);
    assert_eq!(summary.stop_reason, StopReason::BatchLimit);
    let reports = reports.lock().unwrap();
    let times: Vec<i64> = reports.iter().map(|r| r.info.batch_time.millis()).collect();
    assert_eq!(times, vec![FIRST, FIRST + 5_000, FIRST + 10_000]);
    assert!(
        reports
            .iter()
            .all(|r| r.info.scheduling_delay.is_zero() && r.skipped_ticks == 0)
    );
}

#[tokio::test(start_paused = true)]
async fn ranges_follow_positions_and_every_partition_is_committed() {
    let source = MemorySource::new();
    source.create_topic("mytopic", 3);
    source.produce("mytopic", 0, "a");
    source.produce("mytopic", 0, "b");
    source.produce("mytopic", 1, "c");
    let ssc = context().stop_after_batches(2);
    let reports = reports(&ssc);
    let seen = collect(&ssc.input_stream(source.clone(), earliest()).map(|(_, v)| v));
    let running = ssc.start().await.unwrap();
    // Produced between the batches: lands in the second one.
    tokio::time::sleep_until(tokio::time::Instant::now() + Duration::from_millis(3_766 + 2_500))
        .await;
    source.produce("mytopic", 2, "d");
    let mut running = running;
    running.wait().await.unwrap();

    let seen = seen.lock().unwrap();
    assert_eq!(
        seen[0],
        (FIRST, vec!["a".to_owned(), "b".to_owned(), "c".to_owned()])
    );
    assert_eq!(seen[1], (FIRST + 5_000, vec!["d".to_owned()]));
    let reports = reports.lock().unwrap();
    let ranges: Vec<_> = reports[1]
        .info
        .offset_ranges()
        .map(|r| (r.tp.partition, r.from, r.until))
        .collect();
    assert_eq!(ranges, vec![(0, 2, 2), (1, 1, 1), (2, 0, 1)]);
    // Both commits name every assigned partition, the idle ones too.
    let commits = source.commits();
    assert_eq!(commits.len(), 2);
    assert_eq!(
        commits[0],
        BTreeMap::from([(tp(0), 2), (tp(1), 1), (tp(2), 0)])
    );
    assert_eq!(
        commits[1],
        BTreeMap::from([(tp(0), 2), (tp(1), 1), (tp(2), 1)])
    );
    assert_eq!(source.close_count(), 1);
}

#[tokio::test(start_paused = true)]
async fn starting_offsets_committed_then_reset_policy() {
    let source = MemorySource::new();
    source.create_topic("mytopic", 2);
    for v in ["old0", "old1", "old2"] {
        source.produce("mytopic", 0, v);
        source.produce("mytopic", 1, v);
    }
    source.set_committed(tp(0), 1);
    // Latest (the default): partition 1 has no commit and starts at its end.
    let ssc = context().stop_after_batches(1);
    let seen = collect(
        &ssc.input_stream(source.clone(), InputOptions::default())
            .map(|(_, v)| v),
    );
    ssc.run().await.unwrap();
    assert_eq!(seen.lock().unwrap()[0].1, vec!["old1", "old2"]);
    assert_eq!(source.committed(), BTreeMap::from([(tp(0), 3), (tp(1), 3)]));

    // Earliest, and a committed offset that retention has deleted.
    let source = MemorySource::new();
    source.create_topic("mytopic", 1);
    for v in ["x0", "x1", "x2", "x3"] {
        source.produce("mytopic", 0, v);
    }
    source.delete_records_before("mytopic", 0, 2);
    source.set_committed(tp(0), 1);
    let ssc = context().stop_after_batches(1);
    let reports = reports(&ssc);
    let seen = collect(&ssc.input_stream(source.clone(), earliest()).map(|(_, v)| v));
    ssc.run().await.unwrap();
    assert_eq!(seen.lock().unwrap()[0].1, vec!["x2", "x3"]);
    let resets = &reports.lock().unwrap()[0].info.inputs[0].offset_resets;
    assert_eq!((resets[0].from, resets[0].to), (1, 2));
}

#[tokio::test(start_paused = true)]
async fn text_output_format_and_empty_batches() {
    let dir = tempfile::tempdir().unwrap();
    let source = MemorySource::new();
    source.create_topic("mytopic", 2);
    source.produce("mytopic", 1, "message2");
    source.produce("mytopic", 0, "message1");
    source.produce_keyed("mytopic", 0, "key1", "it's");
    source.produce_keyed("mytopic", 1, [0xff, b'k'], "tab\there");
    let ssc = context().stop_after_batches(2);
    let messages = ssc.input_stream(source, earliest());
    messages.save_as_text_files(dir.path().join("out/f"), "log");
    messages
        .flat_map(|(_, v)| v.split(['\t', ' ']).map(str::to_owned).collect::<Vec<_>>())
        .map(|w| (w, 1))
        .reduce_by_key(|a, b| a + b)
        .save_as_text_files(dir.path().join("counts"), "");
    ssc.run().await.unwrap();

    let out = dir.path().join("out");
    assert_eq!(
        read(&out, &format!("f-{FIRST}.log")),
        "(None, 'message1')\n('key1', \"it's\")\n(None, 'message2')\n('\u{fffd}k', 'tab\\there')\n"
    );
    // The second batch had no records and still wrote its directory.
    let empty = out.join(format!("f-{}.log", FIRST + 5_000));
    assert_eq!(std::fs::read(empty.join("part-00000")).unwrap(), b"");
    assert!(empty.join("_SUCCESS").exists());
    assert_eq!(
        read(dir.path(), &format!("counts-{FIRST}")),
        "('here', 1)\n(\"it's\", 1)\n('message1', 1)\n('message2', 1)\n('tab', 1)\n"
    );
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        vec![format!("f-{FIRST}.log"), format!("f-{}.log", FIRST + 5_000)]
    );
}

#[tokio::test(start_paused = true)]
async fn rate_cap_limits_each_partition_per_batch() {
    let source = MemorySource::new();
    source.create_topic("mytopic", 2);
    for i in 0..25 {
        source.produce("mytopic", 0, format!("{i}"));
    }
    source.produce("mytopic", 1, "only");
    let ssc = context().stop_after_batches(4);
    let options = InputOptions {
        max_rate_per_partition: Some(2), // 2/s x 5 s = 10 per partition per batch
        ..earliest()
    };
    let seen = collect(&ssc.input_stream(source.clone(), options).count());
    ssc.run().await.unwrap();
    let counts: Vec<u64> = seen.lock().unwrap().iter().map(|(_, c)| c[0]).collect();
    assert_eq!(counts, vec![11, 10, 5, 0]);
    assert_eq!(
        source.committed(),
        BTreeMap::from([(tp(0), 25), (tp(1), 1)])
    );
}

#[tokio::test(start_paused = true)]
async fn failing_fetch_is_retried_with_the_same_ranges() {
    let source = MemorySource::new();
    source.create_topic("mytopic", 1);
    source.produce("mytopic", 0, "a");
    source.fail_next(SourceOp::Fetch, 2);
    let ssc = context().stop_after_batches(1);
    let reports = reports(&ssc);
    let seen = collect(&ssc.input_stream(source.clone(), earliest()).map(|(_, v)| v));
    // Produced while the batch is retrying: must not join the batch.
    let producer = source.clone();
    tokio::spawn(async move {
        tokio::time::sleep_until(tokio::time::Instant::now() + Duration::from_millis(3_766 + 100))
            .await;
        producer.produce("mytopic", 0, "late");
    });
    ssc.run().await.unwrap();
    assert_eq!(seen.lock().unwrap()[0].1, vec!["a"]);
    let fetches = source.fetches();
    assert_eq!(fetches.len(), 3);
    assert!(fetches.iter().all(|f| f == &fetches[0]));
    assert_eq!((fetches[0][0].from, fetches[0][0].until), (0, 1));
    assert_eq!(reports.lock().unwrap()[0].retries, 2);
    assert_eq!(source.committed()[&tp(0)], 1);
}

#[tokio::test(start_paused = true)]
async fn persistent_failure_gives_up_without_committing() {
    let source = MemorySource::new();
    source.create_topic("mytopic", 1);
    source.produce("mytopic", 0, "a");
    source.fail_next(SourceOp::Fetch, u32::MAX);
    let retry = RetryPolicy {
        max_attempts: 3,
        ..RetryPolicy::default()
    };
    let ssc = context().with_retry_policy(retry);
    collect(&ssc.input_stream(source.clone(), earliest()));
    let err = ssc.run().await.unwrap_err();
    match err {
        StreamingError::BatchFailed {
            batch_time,
            stage,
            attempts,
            source,
        } => {
            assert_eq!(
                (batch_time.millis(), stage, attempts),
                (FIRST, Stage::Fetch, 3)
            );
            assert!(matches!(*source, StreamingError::Source { .. }));
        }
        other => panic!("unexpected {other}"),
    }
    assert!(source.commits().is_empty());
    assert_eq!(source.close_count(), 1);
}

#[tokio::test(start_paused = true)]
async fn failing_output_reruns_only_unfinished_outputs() {
    let source = MemorySource::new();
    source.create_topic("mytopic", 1);
    source.produce("mytopic", 0, "a");
    let ssc = context().stop_after_batches(1);
    let input = ssc.input_stream(source.clone(), earliest());
    let first_calls = Arc::new(AtomicUsize::new(0));
    let calls = Arc::clone(&first_calls);
    input.foreach_batch(move |_, _: &[_]| {
        calls.fetch_add(1, Ordering::SeqCst);
    });
    let failures = Arc::new(AtomicUsize::new(0));
    let f = Arc::clone(&failures);
    input.foreach_batch(move |_, _: &[_]| {
        if f.fetch_add(1, Ordering::SeqCst) < 2 {
            Err("disk full")
        } else {
            Ok(())
        }
    });
    let reports = reports(&ssc);
    ssc.run().await.unwrap();
    assert_eq!(first_calls.load(Ordering::SeqCst), 1);
    assert_eq!(failures.load(Ordering::SeqCst), 3);
    assert_eq!(reports.lock().unwrap()[0].retries, 2);
    assert_eq!(
        source.fetches().len(),
        1,
        "outputs were retried without a refetch"
    );
}

#[tokio::test(start_paused = true)]
async fn panicking_operator_fails_the_batch_not_the_process() {
    let source = MemorySource::new();
    source.create_topic("mytopic", 1);
    source.produce("mytopic", 0, "boom");
    let ssc = context().with_retry_policy(RetryPolicy {
        max_attempts: 2,
        ..RetryPolicy::default()
    });
    collect(
        &ssc.input_stream(source.clone(), earliest())
            .map(|(_, v)| -> String { panic!("bad record {v}") }),
    );
    let err = ssc.run().await.unwrap_err();
    let StreamingError::BatchFailed {
        stage,
        source: inner,
        ..
    } = err
    else {
        panic!("unexpected {err}");
    };
    assert_eq!(stage, Stage::Output);
    assert!(inner.to_string().contains("bad record boom"), "{inner}");
    assert!(source.commits().is_empty());
}

#[tokio::test(start_paused = true)]
async fn overrun_batch_is_followed_at_once_without_piling_up_ticks() {
    let source = MemorySource::new();
    source.create_topic("mytopic", 1);
    source.produce("mytopic", 0, "slow");
    source.set_fetch_delay(Duration::from_secs(12));
    let ssc = context().stop_after_batches(2);
    let reports = reports(&ssc);
    collect(&ssc.input_stream(source.clone(), earliest()));
    // The second batch has nothing to fetch, so it does not wait on the delay.
    ssc.run().await.unwrap();
    let reports = reports.lock().unwrap();
    let times: Vec<i64> = reports.iter().map(|r| r.info.batch_time.millis()).collect();
    // Batch 1 ran 5_000..17_000: ticks 10_000 and 15_000 were missed; one batch runs, named 15_000.
    assert_eq!(times, vec![FIRST, FIRST + 10_000]);
    assert_eq!(reports[1].skipped_ticks, 1);
    assert_eq!(reports[1].info.scheduling_delay, Duration::from_secs(2));
    assert_eq!(reports[0].processing_time, Duration::from_secs(12));
}

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

#[tokio::test(start_paused = true)]
async fn assignment_changes_between_batches() {
    let source = MemorySource::new();
    source.create_topic("mytopic", 2);
    source.set_assignment(Some(vec![tp(0)]));
    source.produce("mytopic", 1, "before-assignment");
    let ssc = context().stop_after_batches(2);
    let reports = reports(&ssc);
    let seen = collect(
        &ssc.input_stream(source.clone(), InputOptions::default())
            .map(|(_, v)| v),
    );
    let handle = source.clone();
    let mut running = ssc.start().await.unwrap();
    tokio::time::sleep_until(tokio::time::Instant::now() + Duration::from_millis(3_766 + 2_500))
        .await;
    handle.set_assignment(Some(vec![tp(1)]));
    handle.produce("mytopic", 1, "after-assignment");
    running.wait().await.unwrap();
    let reports = reports.lock().unwrap();
    let parts: Vec<Vec<i32>> = reports
        .iter()
        .map(|r| r.info.offset_ranges().map(|r| r.tp.partition).collect())
        .collect();
    assert_eq!(parts, vec![vec![0], vec![1]]);
    // Partition 1 started at its end when it was assigned (latest), after the second record.
    assert!(seen.lock().unwrap().iter().all(|(_, v)| v.is_empty()));
    assert_eq!(source.commits()[1], BTreeMap::from([(tp(1), 2)]));
}

#[tokio::test(start_paused = true)]
async fn shared_stream_is_computed_once_per_batch() {
    let source = MemorySource::new();
    source.create_topic("mytopic", 1);
    source.produce("mytopic", 0, "a b");
    let ssc = context().stop_after_batches(2);
    let calls = Arc::new(AtomicUsize::new(0));
    let c = Arc::clone(&calls);
    let words = ssc
        .input_stream(source, earliest())
        .flat_map(move |(_, v)| {
            c.fetch_add(1, Ordering::SeqCst);
            v.split(' ').map(str::to_owned).collect::<Vec<_>>()
        });
    let counted = collect(&words.count());
    let distinct = collect(&words.count_by_value());
    let raw = collect(&words);
    ssc.run().await.unwrap();
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "one record, one call over both batches"
    );
    assert_eq!(counted.lock().unwrap()[0].1, vec![2]);
    assert_eq!(
        distinct.lock().unwrap()[0].1,
        vec![("a".to_owned(), 1), ("b".to_owned(), 1)]
    );
    assert_eq!(raw.lock().unwrap()[0].1, vec!["a", "b"]);
}

#[tokio::test(start_paused = true)]
async fn misuse_is_reported() {
    let ssc = StreamingContext::new(Duration::from_secs(5));
    ssc.input_stream(MemorySource::new(), earliest());
    assert!(matches!(ssc.start().await, Err(StreamingError::NoOutputs)));

    let ssc = StreamingContext::new(Duration::from_micros(1500));
    collect(&ssc.input_stream(MemorySource::new(), earliest()));
    assert!(matches!(
        ssc.start().await,
        Err(StreamingError::InvalidBatchInterval(_))
    ));

    let source = MemorySource::new();
    source.create_topic("mytopic", 1);
    let ssc = context();
    let input = ssc.input_stream(source, earliest());
    collect(&input);
    let mut running = ssc.start().await.unwrap();
    input.foreach_batch(|_, _: &[_]| ());
    let err = running.wait().await.unwrap_err();
    assert!(
        matches!(
            err,
            StreamingError::GraphChangedAfterStart {
                operation: "foreach_batch"
            }
        ),
        "{err}"
    );
}

#[tokio::test(start_paused = true)]
async fn start_fails_when_the_source_is_unreachable() {
    let source = MemorySource::new();
    source.create_topic("mytopic", 1);
    source.fail_next(SourceOp::Assignment, u32::MAX);
    let ssc = context();
    collect(&ssc.input_stream(source.clone(), earliest()));
    let err = ssc.start().await.unwrap_err();
    assert!(
        matches!(
            err,
            StreamingError::BatchFailed {
                stage: Stage::Plan,
                attempts: 5,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(source.close_count(), 1);
}

#[tokio::test(start_paused = true)]
async fn failing_commit_is_retried_then_reported() {
    let source = MemorySource::new();
    source.create_topic("mytopic", 1);
    source.produce("mytopic", 0, "a");
    source.fail_next(SourceOp::Commit, 1);
    let ssc = context().stop_after_batches(1);
    let reports = reports(&ssc);
    collect(&ssc.input_stream(source.clone(), earliest()));
    ssc.run().await.unwrap();
    assert_eq!(reports.lock().unwrap()[0].retries, 1);
    assert_eq!(source.committed()[&tp(0)], 1);
}

#[tokio::test(start_paused = true)]
async fn outputs_run_before_the_commit_of_their_batch() {
    let source = MemorySource::new();
    source.create_topic("mytopic", 1);
    source.produce("mytopic", 0, "a");
    let ssc = context().stop_after_batches(3);
    let observer = source.clone();
    let commits_seen = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&commits_seen);
    ssc.input_stream(source.clone(), earliest())
        .foreach_batch(move |_, _: &[_]| sink.lock().unwrap().push(observer.commits().len()));
    ssc.run().await.unwrap();
    // Batch k sees the k commits of the batches before it, never its own.
    assert_eq!(*commits_seen.lock().unwrap(), vec![0, 1, 2]);
    assert_eq!(source.commits().len(), 3);
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
