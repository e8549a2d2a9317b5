//! Staged outputs, refused commits, checkpoints and recovery after a crash.

use super::*;

fn dirs(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A word count with running totals, writing per-batch counts to `out/f`.
fn wordcount(ssc: &StreamingContext, source: &MemorySource, out: &Path) {
    let counts = ssc
        .input_stream(source.reopen(), earliest())
        .map(|(_, v)| (v, 1u64));
    counts
        .reduce_by_key(|a, b| a + b)
        .save_as_text_files(out.join("f"), "");
    counts
        .update_state_by_key(|new: Vec<u64>, t: Option<u64>| {
            Some(t.unwrap_or(0) + new.len() as u64)
        })
        .save_as_text_files(out.join("total"), "");
}

#[tokio::test(start_paused = true)]
async fn a_refused_commit_drops_the_batch_and_its_records_come_back() {
    let dir = tempfile::tempdir().unwrap();
    let source = MemorySource::new();
    source.create_topic("mytopic", 1);
    let ssc = context().stop_after_batches(2);
    wordcount(&ssc, &source, dir.path());
    // The first batch's commit is refused, as after a rebalance.
    source.fence_next_commits(1);
    let feeding = feed(&source, batches(&[&["w", "w"], &["v"]]));
    let summary = ssc.run().await.unwrap();
    feeding.await.unwrap();
    assert_eq!((summary.batches, summary.abandoned_batches), (2, 1));
    // Batch 0 left nothing behind; its records came back in batch 1, counted once.
    assert_eq!(
        dirs(dir.path()),
        [
            format!("f-{}", at(1)),
            format!("f-{}", at(2)),
            format!("total-{}", at(1)),
            format!("total-{}", at(2)),
        ]
    );
    assert_eq!(
        read(dir.path(), &format!("f-{}", at(1))),
        "('v', 1)\n('w', 2)\n"
    );
    assert_eq!(
        read(dir.path(), &format!("total-{}", at(1))),
        "('v', 1)\n('w', 2)\n"
    );
    assert_eq!(
        read(dir.path(), &format!("total-{}", at(2))),
        "('v', 1)\n('w', 2)\n"
    );
    assert_eq!(source.committed(), BTreeMap::from([(tp(0), 3)]));
}

/// Runs one batch whose commit fails for good (the process "dies" there),
/// leaving staged output and a pending checkpoint.
async fn crash_before_commit(source: &MemorySource, out: &Path, cp: &Path) {
    let ssc = context()
        .checkpoint(cp)
        .with_retry_policy(RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        })
        .stop_after_batches(1);
    wordcount(&ssc, source, out);
    source.fail_next(SourceOp::Commit, 1);
    let feeding = feed(source, batches(&[&["x", "y", "x"]]));
    let err = ssc.run().await.unwrap_err();
    feeding.await.unwrap();
    assert!(
        matches!(
            err,
            StreamingError::BatchFailed {
                stage: Stage::Commit,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(
        dirs(out),
        [
            format!(".f-{}.staged", at(0)),
            format!(".total-{}.staged", at(0))
        ],
        "staged, not published"
    );
}

async fn restart(
    source: &MemorySource,
    out: &Path,
    cp: &Path,
    values: &[&str],
) -> crate::RunSummary {
    // The wall clock of the restart is a minute later.
    let ssc = context()
        .with_clock(Clock::StartingAt(T0 + 60_000))
        .checkpoint(cp)
        .stop_after_batches(1);
    wordcount(&ssc, source, out);
    for v in values {
        source.produce("mytopic", 0, v);
    }
    ssc.run().await.unwrap()
}

#[tokio::test(start_paused = true)]
async fn crash_before_the_commit_drops_the_staged_batch_and_reads_it_again() {
    let (out, cp) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let source = MemorySource::new();
    source.create_topic("mytopic", 1);
    crash_before_commit(&source, out.path(), cp.path()).await;
    assert!(source.committed().is_empty());

    restart(&source, out.path(), cp.path(), &["y"]).await;
    let later = at(12);
    assert_eq!(
        dirs(out.path()),
        [format!("f-{later}"), format!("total-{later}")]
    );
    assert_eq!(
        read(out.path(), &format!("f-{later}")),
        "('x', 2)\n('y', 2)\n"
    );
    assert_eq!(
        read(out.path(), &format!("total-{later}")),
        "('x', 2)\n('y', 2)\n"
    );
}

#[tokio::test(start_paused = true)]
async fn crash_after_the_commit_publishes_the_staged_batch_and_keeps_its_state() {
    let (out, cp) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let source = MemorySource::new();
    source.create_topic("mytopic", 1);
    crash_before_commit(&source, out.path(), cp.path()).await;
    // The commit reached the broker but its answer was lost.
    source.set_committed(tp(0), 3);

    restart(&source, out.path(), cp.path(), &["y"]).await;
    let later = at(12);
    assert_eq!(
        dirs(out.path()),
        [
            format!("f-{}", at(0)),
            format!("f-{later}"),
            format!("total-{}", at(0)),
            format!("total-{later}"),
        ]
    );
    assert_eq!(
        read(out.path(), &format!("f-{}", at(0))),
        "('x', 2)\n('y', 1)\n"
    );
    assert_eq!(read(out.path(), &format!("f-{later}")), "('y', 1)\n");
    // The running totals continue from the recovered batch.
    assert_eq!(
        read(out.path(), &format!("total-{later}")),
        "('x', 2)\n('y', 2)\n"
    );
}

#[tokio::test(start_paused = true)]
async fn window_state_survives_a_restart() {
    let cp = tempfile::tempdir().unwrap();
    let source = MemorySource::new();
    source.create_topic("mytopic", 1);
    let build = |ssc: &StreamingContext| {
        collect(
            &ssc.input_stream(source.reopen(), earliest())
                .map(|(_, v)| v)
                .window(Duration::from_secs(3_600), Duration::from_secs(5))
                .unwrap(),
        )
    };
    let ssc = context().checkpoint(cp.path()).stop_after_batches(2);
    let first = build(&ssc);
    let feeding = feed(&source, batches(&[&["a"], &["b"]]));
    ssc.run().await.unwrap();
    feeding.await.unwrap();
    assert_eq!(first.lock().unwrap()[1].1, strings(&["a", "b"]));

    // Restarted with a clock that went *back*: batches still come after the checkpoint's.
    let ssc = context().checkpoint(cp.path()).stop_after_batches(1);
    let second = build(&ssc);
    source.produce("mytopic", 0, "c");
    ssc.run().await.unwrap();
    let second = second.lock().unwrap();
    assert_eq!(second[0], (at(2), strings(&["a", "b", "c"])));
}

#[tokio::test(start_paused = true)]
async fn a_checkpoint_of_another_graph_is_refused() {
    let cp = tempfile::tempdir().unwrap();
    let source = MemorySource::new();
    source.create_topic("mytopic", 1);
    let ssc = context().checkpoint(cp.path()).stop_after_batches(1);
    collect(
        &ssc.input_stream(source.reopen(), earliest())
            .map(|(_, v)| v)
            .window(Duration::from_secs(10), Duration::from_secs(5))
            .unwrap(),
    );
    ssc.run().await.unwrap();
    let ssc = context().checkpoint(cp.path());
    collect(&ssc.input_stream(source.reopen(), earliest()));
    let err = ssc.start().await.unwrap_err();
    assert!(
        matches!(err, StreamingError::Checkpoint(ref m) if m.contains("1 stateful operator(s) but the graph has 0")),
        "{err}"
    );
}

#[tokio::test(start_paused = true)]
async fn staged_output_without_a_pending_record_is_removed_with_a_checkpoint() {
    for with_checkpoint in [false, true] {
        let (out, cp) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let source = MemorySource::new();
        source.create_topic("mytopic", 1);
        // Left by a run that died while staging (before its pending record).
        for name in [
            ".f-1000000000000.staged",
            ".f-7.staged",
            ".f-x.staged",
            ".g-5.staged",
        ] {
            std::fs::create_dir(out.path().join(name)).unwrap();
        }
        let mut ssc = context().stop_after_batches(1);
        if with_checkpoint {
            ssc = ssc.checkpoint(cp.path());
        }
        ssc.input_stream(source.reopen(), earliest())
            .save_as_text_files(out.path().join("f"), "");
        ssc.run().await.unwrap();
        let expected: Vec<String> = if with_checkpoint {
            vec![
                ".f-x.staged".into(),
                ".g-5.staged".into(),
                format!("f-{FIRST}"),
            ]
        } else {
            vec![
                ".f-1000000000000.staged".into(),
                ".f-7.staged".into(),
                ".f-x.staged".into(),
                ".g-5.staged".into(),
                format!("f-{FIRST}"),
            ]
        };
        assert_eq!(dirs(out.path()), expected, "checkpoint: {with_checkpoint}");
    }
}
