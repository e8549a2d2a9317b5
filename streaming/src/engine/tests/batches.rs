//! Ticks, ranges, commits and output of healthy batches.

use super::*;

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

#[tokio::test(start_paused = true)]
async fn backpressure_caps_the_rate_after_slow_batches() {
    let source = MemorySource::new();
    source.create_topic("mytopic", 1);
    let fill = |n: usize| {
        for _ in 0..n {
            source.produce("mytopic", 0, "x");
        }
    };
    fill(100_000);
    // Every fetch takes 8 s of a 5 s interval.
    source.set_fetch_delay(Duration::from_secs(8));
    let ssc = context().stop_after_batches(3);
    let reports = reports(&ssc);
    collect(&ssc.input_stream(
        source.clone(),
        InputOptions {
            backpressure: true,
            ..earliest()
        },
    ));
    let more = source.clone();
    let base = tokio::time::Instant::now();
    let feeding = tokio::spawn(async move {
        // 100 000 more during batch 0, and again during batch 1.
        for at in [3_766 + 1_000, 3_766 + 9_000] {
            tokio::time::sleep_until(base + Duration::from_millis(at)).await;
            for _ in 0..100_000 {
                more.produce("mytopic", 0, "y");
            }
        }
    });
    ssc.run().await.unwrap();
    feeding.await.unwrap();
    let reports = reports.lock().unwrap();
    let lens: Vec<u64> = reports
        .iter()
        .map(|r| r.info.offset_ranges().map(|o| o.len()).sum())
        .collect();
    // Batch 0 only measures: 100 000 in 8 s = 12 500/s. Batch 1 (3 s late, uncapped):
    // error 0, backlog 3 000 ms * 12 500/s / 5 000 ms = 7 500, so 12 500 - 0.2 * 7 500 =
    // 11 000/s. Batch 2 reads 11 000/s * 5 s = 55 000 records of the 100 000 waiting.
    assert_eq!(lens, vec![100_000, 100_000, 55_000]);
    assert_eq!(reports[1].info.scheduling_delay, Duration::from_secs(3));
    assert_eq!(reports[2].info.inputs[0].lag, 45_000);
}
