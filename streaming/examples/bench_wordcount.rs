//! Throughput of the engine on the tutorial's word count, without Kafka:
//! N lines of 10 words in a MemorySource, one batch, reduce_by_key, written
//! with save_as_text_files. Prints lines/s of the batch's processing time,
//! and the weblog parser's lines/s.
//!
//! `cargo run --release -p kt-streaming --example bench_wordcount -- 1000000`

use std::time::{Duration, Instant};

use kt_streaming::weblog::parse_log_line;
use kt_streaming::{InputOptions, MemorySource, OffsetReset, StreamingContext};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let lines: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let source = MemorySource::new();
    source.create_topic("bench", 4);
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for i in 0..lines {
        let words: Vec<String> = (0..10)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                format!("w{}", seed % 5_000)
            })
            .collect();
        source.produce("bench", (i % 4) as i32, words.join(" "));
    }
    let dir = tempfile::tempdir()?;
    let ssc = StreamingContext::new(Duration::from_millis(100)).stop_after_batches(1);
    let (tx, rx) = std::sync::mpsc::channel();
    ssc.on_batch_completed(move |r| {
        let _ = tx.send(r.clone());
    });
    let options = InputOptions {
        offset_reset: OffsetReset::Earliest,
        ..InputOptions::default()
    };
    ssc.input_stream(source, options)
        .map(|(_key, value)| value)
        .flat_map(|line| line.split(' ').map(str::to_owned).collect::<Vec<_>>())
        .map(|word| (word, 1u64))
        .reduce_by_key(|a, b| a + b)
        .save_as_text_files(dir.path().join("f"), "log");
    ssc.run().await?;
    let report = rx.recv()?;
    let secs = report.processing_time.as_secs_f64();
    println!(
        "wordcount: {} lines ({} words) in {:.3} s: {:.0} lines/s, {:.0} words/s",
        report.info.records(),
        report.info.records() * 10,
        secs,
        report.info.records() as f64 / secs,
        report.info.records() as f64 * 10.0 / secs
    );

    let log_line =
        r#"199.72.81.55 - - [01/Jul/1995:00:00:01 -0400] "GET /history/apollo/ HTTP/1.0" 200 6245"#;
    let n = 2_000_000;
    let start = Instant::now();
    let mut ok = 0usize;
    for _ in 0..n {
        ok += usize::from(parse_log_line(std::hint::black_box(log_line)).is_ok());
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "weblog parse: {n} lines in {secs:.3} s: {:.0} lines/s ({ok} ok)",
        n as f64 / secs
    );
    Ok(())
}
