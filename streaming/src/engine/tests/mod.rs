//! Engine semantics on a [`MemorySource`], mostly with tokio's clock paused:
//! `batches` (ticks, ranges, commits, output), `failures` (retries, errors),
//! `lifecycle` (stopping and restarting).

mod batches;
mod exactly_once;
mod failures;
mod lifecycle;
mod operators;
mod window_props;

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
pub(super) const T0: i64 = 1_000_000_001_234;
pub(super) const FIRST: i64 = 1_000_000_005_000;
pub(super) const INTERVAL: Duration = Duration::from_secs(5);

pub(super) fn context() -> StreamingContext {
    StreamingContext::new(INTERVAL).with_clock(Clock::StartingAt(T0))
}

pub(super) fn earliest() -> InputOptions {
    InputOptions {
        offset_reset: OffsetReset::Earliest,
        ..InputOptions::default()
    }
}

pub(super) fn tp(p: i32) -> TopicPartition {
    TopicPartition::new("mytopic", p)
}

pub(super) fn reports(ssc: &StreamingContext) -> Arc<Mutex<Vec<BatchReport>>> {
    let reports = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&reports);
    ssc.on_batch_completed(move |r| sink.lock().unwrap().push(r.clone()));
    reports
}

/// Every batch's (time in ms, elements), as a foreach_batch output saw them.
pub(super) type Collected<T> = Arc<Mutex<Vec<(i64, Vec<T>)>>>;

pub(super) fn collect<T: crate::Element>(stream: &DStream<T>) -> Collected<T> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    stream.foreach_batch(move |time: BatchTime, items: &[T]| {
        sink.lock().unwrap().push((time.millis(), items.to_vec()))
    });
    seen
}

pub(super) fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name).join("part-00000")).unwrap()
}

/// Produces `batches[i]` on partition 0 one second before batch `i` (batch 0
/// is at [`FIRST`]); call right before `start`.
pub(super) fn feed(
    source: &MemorySource,
    batches: Vec<Vec<String>>,
) -> tokio::task::JoinHandle<()> {
    let source = source.clone();
    let base = tokio::time::Instant::now();
    tokio::spawn(async move {
        for (i, values) in batches.into_iter().enumerate() {
            let at = Duration::from_millis(3_766 + i as u64 * 5_000 - 1_000);
            tokio::time::sleep_until(base + at).await;
            for v in values {
                source.produce("mytopic", 0, v);
            }
        }
    })
}

/// Owned strings from literals, one vector per batch.
pub(super) fn batches(spec: &[&[&str]]) -> Vec<Vec<String>> {
    spec.iter()
        .map(|b| b.iter().map(|s| (*s).to_owned()).collect())
        .collect()
}

/// Batch `i`'s time.
pub(super) fn at(i: i64) -> i64 {
    FIRST + i * 5_000
}

pub(super) fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}
