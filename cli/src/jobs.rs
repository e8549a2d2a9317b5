//! The tutorial's three streaming jobs, as `kt stream` and `kt quickstart` run them.
//!
//! Public so the whole-flow tests in `tests/` run exactly the jobs users run. Each job is a
//! DStream graph over a Kafka stream of `(key, value)` pairs; the engine (kt-streaming) runs it
//! in aligned micro-batches, writes Spark's output layout and commits the group's offsets after
//! each batch's output.
//!
//! | job | PySpark | output |
//! |---|---|---|
//! | `save` | `kvs.saveAsTextFiles(prefix, suffix)` | `PREFIX-<ms>.<suffix>`: `(None, 'message1')` |
//! | `wordcount` | `lines.flatMap(split(" ")).map((w, 1)).reduceByKey(add)` | `('message1', 2)` |
//! | `weblog` | parse, then count methods and endpoints | `PREFIX-methods-…`: `('GET', 12)`, `PREFIX-endpoints-…`: `('/index.html', 5)` |
//!
//! With a window (`--window 30s --slide 10s`), `save` writes the window's records, `wordcount`
//! and `weblog` counts over the window (`reduceByKeyAndWindow` with an inverse, as the classic
//! apps do), each at the slide times only. `weblog --top N` adds `PREFIX-top-…`: the N most
//! requested endpoints per batch or window, most requested first.
//!
//! # Test hook
//! When the environment variable `KT_TEST_PAUSE_BEFORE_COMMIT=N` is set, the N-th batch that
//! has records stops after its outputs are staged and before its offsets are committed: it
//! prints `kt-test: batch <ms> staged, pausing before its commit` on stderr and sleeps, so a
//! test can SIGKILL the process at exactly that point (`tests/tests/kill.rs`). Nothing else
//! reads the variable; unset, the job registers no such step.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use kt_streaming::weblog::{WeblogJob, top_n};
use kt_streaming::{
    BatchInfo, BatchReport, BatchTime, KafkaSource, RunSummary, Stop, StreamingContext,
};

/// Which of the tutorial's jobs to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Job {
    /// Step 1: save each batch's raw `(key, value)` pairs.
    Save,
    /// Step 2: word count per batch.
    Wordcount,
    /// Step 3: HTTP method and endpoint counts per batch.
    Weblog,
}

impl Job {
    /// The job's name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Job::Save => "save",
            Job::Wordcount => "wordcount",
            Job::Weblog => "weblog",
        }
    }

    /// The output prefixes the job writes to, for an `--out` prefix.
    pub fn output_prefixes(self, out: &Path) -> Vec<PathBuf> {
        match self {
            Job::Save | Job::Wordcount => vec![out.to_path_buf()],
            Job::Weblog => vec![with_suffix(out, "-methods"), with_suffix(out, "-endpoints")],
        }
    }

    /// The output prefixes for a full spec (`weblog --top N` adds `-top`).
    pub fn output_prefixes_for(self, spec: &JobSpec) -> Vec<PathBuf> {
        let mut prefixes = self.output_prefixes(&spec.out);
        if self == Job::Weblog && spec.top.is_some() {
            prefixes.push(with_suffix(&spec.out, "-top"));
        }
        prefixes
    }
}

/// Everything a job run needs besides the bootstrap servers.
#[derive(Debug, Clone, Default)]
pub struct JobSpec {
    /// Topic to read.
    pub topic: String,
    /// Batch interval.
    pub batch: Duration,
    /// Output prefix (`PREFIX-<ms>.<suffix>`).
    pub out: PathBuf,
    /// Output suffix; empty for none.
    pub suffix: String,
    /// Consumer group.
    pub group: String,
    /// Partitions without a committed offset start at the earliest offset.
    pub from_beginning: bool,
    /// Stop after this many batches.
    pub batches: Option<u64>,
    /// Records per second per partition at most.
    pub max_rate: Option<u64>,
    /// Lower the rate when batches take longer than the interval (Spark's back-pressure).
    pub backpressure: bool,
    /// Window length; counts and saved records span this much time.
    pub window: Option<Duration>,
    /// Window slide (defaults to the batch interval).
    pub slide: Option<Duration>,
    /// Checkpoint directory (state, offsets; exactly-once output across crashes).
    pub checkpoint: Option<PathBuf>,
    /// `weblog` only: also write the N most requested endpoints.
    pub top: Option<usize>,
    /// Append one JSON line per completed batch to this file.
    pub metrics_json: Option<PathBuf>,
    /// Show a status line (rate, lag) on stderr after each batch.
    pub progress: bool,
    /// Static group membership id.
    pub instance_id: Option<String>,
    /// Group session timeout.
    pub session_timeout: Option<Duration>,
}

/// Runs `job` until `spec.batches` batches completed, or until `stop` resolves — then the
/// batch in progress is finished, written and committed before this returns (a second
/// resolution of `abort` gives up on it). `report` gets one line per completed batch.
pub async fn run_job(
    bootstrap: &str,
    job: Job,
    spec: &JobSpec,
    report: impl Fn(String) + Send + Sync + 'static,
    stop: impl Future<Output = ()>,
    abort: impl Future<Output = ()>,
) -> anyhow::Result<RunSummary> {
    let mut ssc = StreamingContext::new(spec.batch);
    if let Some(n) = spec.batches {
        ssc = ssc.stop_after_batches(n);
    }
    if let Some(dir) = &spec.checkpoint {
        ssc = ssc.checkpoint(dir);
    }
    let mut source = KafkaSource::new(bootstrap)
        .group(&spec.group)
        .topic(&spec.topic)
        .from_beginning(spec.from_beginning)
        .backpressure(spec.backpressure);
    if let Some(id) = &spec.instance_id {
        source = source.instance_id(id);
    }
    if let Some(timeout) = spec.session_timeout {
        source = source.session_timeout(timeout);
    }
    if let Some(rate) = spec.max_rate {
        source = source.max_rate_per_partition(rate);
    }
    // The raw records; each job decodes what it needs (word count splits the bytes itself).
    let records = ssc.kafka_records(source);
    let window = spec
        .window
        .map(|length| (length, spec.slide.unwrap_or(spec.batch)));
    if spec.slide.is_some() && window.is_none() {
        anyhow::bail!("--slide needs --window");
    }
    if spec.top.is_some() && job != Job::Weblog {
        anyhow::bail!("--top applies to `kt stream weblog` only");
    }
    // Extra text for a batch's report line, filled in by the job's outputs.
    let notes: Arc<Mutex<BTreeMap<BatchTime, String>>> = Arc::default();
    match job {
        Job::Save => match window {
            Some((length, slide)) => records
                .map(|r| r.to_element())
                .window(length, slide)?
                .save_as_text_files(&spec.out, &spec.suffix),
            None => records
                .map(|r| r.to_element())
                .save_as_text_files(&spec.out, &spec.suffix),
        },
        Job::Wordcount => {
            // The pairs `flatMap(split(" ")).map((w, 1)).reduceByKey(add)` gives for a batch,
            // counted in one pass over the batch (`crate::wordcount`): ten times fewer
            // allocations than the operator chain. Windows sum the per-batch counts, which
            // gives the same keys and totals as summing the ones.
            let pairs = records.transform(|batch| crate::wordcount::count_words(&batch));
            let counts = match window {
                Some((length, slide)) => pairs.reduce_by_key_and_window(
                    |a, b| a + b,
                    Some(|a: u64, b: u64| a - b),
                    length,
                    slide,
                )?,
                None => pairs,
            };
            counts.save_as_text_files(&spec.out, &spec.suffix);
        }
        Job::Weblog => {
            let lines = records.map(|r| r.to_element().1);
            let weblog = match window {
                Some((length, slide)) => WeblogJob::windowed(&lines, length, slide)?,
                None => WeblogJob::new(&lines),
            };
            weblog
                .methods
                .save_as_text_files(with_suffix(&spec.out, "-methods"), &spec.suffix);
            weblog
                .endpoints
                .save_as_text_files(with_suffix(&spec.out, "-endpoints"), &spec.suffix);
            if let Some(n) = spec.top {
                top_n(&weblog.endpoints, n)
                    .save_as_text_files(with_suffix(&spec.out, "-top"), &spec.suffix);
            }
            let notes = Arc::clone(&notes);
            weblog.rejected.foreach_batch(move |time, counts: &[u64]| {
                let rejected: u64 = counts.iter().sum();
                let noun = if rejected == 1 { "line" } else { "lines" };
                notes
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(time, format!(", {rejected} {noun} rejected"));
            });
        }
    }
    if let Ok(n) = std::env::var("KT_TEST_PAUSE_BEFORE_COMMIT") {
        let n: u64 = n
            .parse()
            .context("KT_TEST_PAUSE_BEFORE_COMMIT must be a number")?;
        pause_before_commit(&records, n);
    }
    if let Some(path) = &spec.metrics_json {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| format!("opening --metrics-json file {}", path.display()))?;
        ssc.on_batch_completed(move |r| {
            use std::io::Write;
            let line = metrics_line(r);
            if let Err(e) = writeln!(file, "{line}").and_then(|()| file.flush()) {
                tracing::warn!("writing --metrics-json: {e}");
            }
        });
    }
    if spec.progress {
        let mut progress = Progress::default();
        ssc.on_batch_completed(move |r| progress.show(r));
    }
    let report_notes = Arc::clone(&notes);
    ssc.on_batch_completed(move |r| {
        let note = report_notes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&r.info.batch_time)
            .unwrap_or_default();
        report(format!("{r}{note}"));
    });

    let mut running = ssc
        .start()
        .await
        .with_context(|| format!("starting the {} job on topic '{}'", job.name(), spec.topic))?;
    let ended = tokio::select! {
        r = running.wait() => Some(r),
        _ = stop => None,
    };
    let summary = match ended {
        Some(r) => r,
        None => {
            tokio::select! {
                r = running.stop(Stop::Gracefully) => r,
                _ = abort => anyhow::bail!("aborted; the batch in progress was not committed"),
            }
        }
    };
    summary.with_context(|| format!("the {} job on topic '{}'", job.name(), spec.topic))
}

/// The test hook described in the module docs.
fn pause_before_commit<T: kt_streaming::Element>(stream: &kt_streaming::DStream<T>, n: u64) {
    let mut seen = 0u64;
    stream.foreach_batch_info(move |info: &BatchInfo, _: &[T]| {
        if info.records() > 0 {
            seen += 1;
            if seen == n {
                eprintln!(
                    "kt-test: batch {} staged, pausing before its commit",
                    info.batch_time.millis()
                );
                loop {
                    std::thread::sleep(Duration::from_secs(3600));
                }
            }
        }
    });
}

/// One `--metrics-json` line: everything a batch report holds.
pub fn metrics_line(r: &BatchReport) -> String {
    let ranges: Vec<serde_json::Value> = r
        .info
        .offset_ranges()
        .map(|o| {
            serde_json::json!({
                "topic": &*o.tp.topic, "partition": o.tp.partition,
                "from": o.from, "until": o.until,
            })
        })
        .collect();
    let lag: u64 = r.info.inputs.iter().map(|i| i.lag).sum();
    serde_json::json!({
        "batch_time_ms": r.info.batch_time.millis(),
        "records": r.info.records(),
        "offset_ranges": ranges,
        "lag": lag,
        "scheduling_delay_ms": r.info.scheduling_delay.as_millis() as u64,
        "processing_time_ms": r.processing_time.as_millis() as u64,
        "total_delay_ms": r.total_delay.as_millis() as u64,
        "skipped_ticks": r.skipped_ticks,
        "retries": r.retries,
        "output_paths": r.output_paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
    })
    .to_string()
}

/// `--progress`: one status line on stderr, rewritten after every batch, when stderr is a
/// terminal: batches, records, the rate over the last batch interval, and the lag (records
/// in the log not yet read).
#[derive(Debug, Default)]
struct Progress {
    batches: u64,
    records: u64,
    last_time: Option<BatchTime>,
}

impl Progress {
    fn show(&mut self, r: &BatchReport) {
        use std::io::{IsTerminal, Write};
        self.batches += 1;
        let records = r.info.records();
        self.records += records;
        let span_ms = match self.last_time {
            Some(t) => (r.info.batch_time.millis() - t.millis()).max(1),
            None => 0,
        };
        self.last_time = Some(r.info.batch_time);
        let rate = if span_ms > 0 {
            format!("{:.0} records/s", records as f64 * 1000.0 / span_ms as f64)
        } else {
            "-".to_owned()
        };
        let lag: u64 = r.info.inputs.iter().map(|i| i.lag).sum();
        let line = format!(
            "batches {} | records {} | rate {rate} | lag {lag} | processing {} ms",
            self.batches,
            self.records,
            r.processing_time.as_millis()
        );
        let mut err = std::io::stderr();
        if err.is_terminal() {
            let _ = write!(err, "\r\x1b[2K{line}");
        } else {
            let _ = writeln!(err, "{line}");
        }
        let _ = err.flush();
    }
}

/// `out/w` + `-methods` = `out/w-methods`.
fn with_suffix(prefix: &Path, suffix: &str) -> PathBuf {
    let mut s: OsString = prefix.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weblog_prefixes() {
        assert_eq!(
            Job::Weblog.output_prefixes(Path::new("out/w")),
            vec![
                PathBuf::from("out/w-methods"),
                PathBuf::from("out/w-endpoints")
            ]
        );
        assert_eq!(
            Job::Save.output_prefixes(Path::new("out/g")),
            vec![PathBuf::from("out/g")]
        );
    }
}
