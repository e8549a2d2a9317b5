//! Smoke tests of `kt bench`: the commands run end to end (embedded broker), count exactly
//! the records they were asked for, and print ordered percentiles. Speed is not asserted
//! (BENCHMARKS.md and bench/compare.sh are where speed is measured).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const KT: &str = env!("CARGO_BIN_EXE_kt");

/// Runs `kt` with `args`, failing the test after two minutes.
fn kt(args: &[&str]) -> Output {
    let mut child = Command::new(KT)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start kt");
    let deadline = Instant::now() + Duration::from_secs(120);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("kt {args:?} did not finish within 2 minutes");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "kt {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The number before `word` in `line`, with thousands separators removed.
fn number_before(line: &str, word: &str) -> f64 {
    let at = line
        .find(word)
        .unwrap_or_else(|| panic!("no '{word}' in {line}"));
    let num = line[..at]
        .split_whitespace()
        .last()
        .unwrap()
        .replace([',', '('], "");
    num.parse()
        .unwrap_or_else(|_| panic!("not a number before '{word}' in {line}"))
}

#[test]
fn bench_produce_counts_every_record_and_orders_percentiles() {
    for extra in [&["--acks", "1", "-z", "lz4"][..], &["--acks", "0"][..]] {
        let mut args = vec![
            "bench",
            "produce",
            "--embedded",
            "-n",
            "20000",
            "-s",
            "50",
            "-p",
            "2",
        ];
        args.extend_from_slice(extra);
        let out = kt(&args);
        let stdout = String::from_utf8(out.stdout).unwrap();
        let mut lines = stdout.lines();
        let summary = lines.next().unwrap();
        assert!(summary.starts_with("20,000 records sent in "), "{stdout}");
        let rate = number_before(summary, "records/s");
        let mbs = number_before(summary, "MB/s");
        assert!(rate > 0.0 && mbs > 0.0, "{summary}");
        // 50-byte records: MB/s follows from records/s.
        assert!(
            (mbs - rate * 50.0 / 1048576.0).abs() < 0.01 + mbs * 0.01,
            "{summary}"
        );
        let latency = lines.next().unwrap();
        assert!(latency.starts_with("latency send->ack ms:"), "{stdout}");
        let values: Vec<f64> = latency
            .split(':')
            .nth(1)
            .unwrap()
            .split(',')
            .map(|kv| {
                kv.split_whitespace()
                    .last()
                    .unwrap()
                    .parse::<f64>()
                    .unwrap()
            })
            .collect();
        let [_avg, p50, p99, p999, max] = values[..] else {
            panic!("{latency}")
        };
        assert!(p50 <= p99 && p99 <= p999 && p999 <= max, "{latency}");
    }
}

#[test]
fn bench_consume_reads_what_it_filled() {
    let out = kt(&[
        "bench",
        "consume",
        "--embedded",
        "-n",
        "30000",
        "-s",
        "20",
        "-p",
        "3",
    ]);
    let stdout = String::from_utf8(out.stdout).unwrap();
    let summary = stdout.lines().next().unwrap();
    assert!(summary.starts_with("30,000 records ("), "{stdout}");
    // 30,000 values of 20 bytes, no keys.
    let mb = number_before(summary, "MB)");
    assert!((mb - 30000.0 * 20.0 / 1048576.0).abs() < 0.006, "{summary}");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("filled 'kt-bench' with 30,000 records"),
        "{stderr}"
    );
}

#[test]
fn bench_stream_calibrates_sustains_and_measures_latency() {
    let out = kt(&[
        "bench",
        "stream",
        "-n",
        "30000",
        "--batch",
        "500ms",
        "--batches",
        "2",
        "--latency-samples",
        "3",
    ]);
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(
        lines[0].starts_with("preloaded 30,000 lines of 10 words"),
        "{stdout}"
    );
    assert!(
        lines[1].starts_with("calibration: 30,000 lines in one batch"),
        "{stdout}"
    );
    assert!(number_before(lines[1], "lines/s") > 0.0, "{stdout}");
    // Sustained or not, the verdict names the batch interval.
    assert!(
        lines[2].starts_with("sustained at 500ms batches: ")
            || lines[2].starts_with("NOT sustained at 500ms batches"),
        "{stdout}"
    );
    let latency = lines[3];
    assert!(
        latency.starts_with("end-to-end latency, produce -> output file: p50 "),
        "{stdout}"
    );
    assert!(latency.contains("(3 samples, 500ms batches)"), "{stdout}");
    // A marker cannot be written before it was produced, nor (caught up, 500 ms batches)
    // take many seconds.
    let p50 = number_before(latency, "ms, max");
    assert!(p50 > 0.0 && p50 < 30_000.0, "{latency}");
}
