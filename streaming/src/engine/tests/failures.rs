//! Retries, give-ups and misuse.

use super::*;

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
