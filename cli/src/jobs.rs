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

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use kt_streaming::weblog::WeblogJob;
use kt_streaming::{BatchTime, KafkaSource, RunSummary, Stop, StreamingContext};

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
}

/// Everything a job run needs besides the bootstrap servers.
#[derive(Debug, Clone)]
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
    let mut source = KafkaSource::new(bootstrap)
        .group(&spec.group)
        .topic(&spec.topic)
        .from_beginning(spec.from_beginning);
    if let Some(rate) = spec.max_rate {
        source = source.max_rate_per_partition(rate);
    }
    let messages = ssc.kafka_stream(source);
    // Extra text for a batch's report line, filled in by the job's outputs.
    let notes: Arc<Mutex<BTreeMap<BatchTime, String>>> = Arc::default();
    match job {
        Job::Save => messages.save_as_text_files(&spec.out, &spec.suffix),
        Job::Wordcount => messages
            .map(|(_key, value)| value)
            .flat_map(|line| line.split(' ').map(str::to_owned).collect::<Vec<_>>())
            .map(|word| (word, 1u64))
            .reduce_by_key(|a, b| a + b)
            .save_as_text_files(&spec.out, &spec.suffix),
        Job::Weblog => {
            let weblog = WeblogJob::new(&messages.map(|(_key, value)| value));
            weblog
                .methods
                .save_as_text_files(with_suffix(&spec.out, "-methods"), &spec.suffix);
            weblog
                .endpoints
                .save_as_text_files(with_suffix(&spec.out, "-endpoints"), &spec.suffix);
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
