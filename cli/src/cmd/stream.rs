//! `kt stream save|wordcount|weblog`: the tutorial's three Spark jobs.
//!
//! Each job is a DStream graph over a Kafka stream of `(key, value)` pairs; the engine
//! (kt-streaming) runs it in aligned micro-batches, writes Spark's output layout and commits
//! the group's offsets after each batch's output.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::Context;
use kt_streaming::weblog::WeblogJob;
use kt_streaming::{BatchTime, KafkaSource, RunSummary, Stop, StreamingContext};

use crate::args::{StreamArgs, StreamCommand};

/// Which of the tutorial's jobs to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Job {
    Save,
    Wordcount,
    Weblog,
}

impl Job {
    fn name(self) -> &'static str {
        match self {
            Job::Save => "save",
            Job::Wordcount => "wordcount",
            Job::Weblog => "weblog",
        }
    }
}

pub(crate) async fn run(bootstrap: &str, cmd: StreamCommand) -> anyhow::Result<()> {
    let (job, args) = match cmd {
        StreamCommand::Save(a) => (Job::Save, a),
        StreamCommand::Wordcount(a) => (Job::Wordcount, a),
        StreamCommand::Weblog(a) => (Job::Weblog, a),
    };
    let outputs = output_patterns(job, &args);
    eprintln!(
        "kt stream {}: topic {}, group {}, {} batches -> {}; {}",
        job.name(),
        args.topic,
        args.group,
        humantime::format_duration(args.batch),
        outputs.join(", "),
        match args.batches {
            Some(n) => format!("stopping after {n} batches"),
            None => "Ctrl-C to stop".to_string(),
        }
    );
    let summary = run_job(bootstrap, job, &args, |line| println!("{line}")).await?;
    eprintln!(
        "kt stream {}: {} batches, {} records ({:?})",
        job.name(),
        summary.batches,
        summary.records,
        summary.stop_reason
    );
    Ok(())
}

/// Runs `job` until `args.batches` batches completed, or until Ctrl-C / SIGTERM (then the
/// batch in progress is finished, written and committed). `report` gets one line per batch.
pub(crate) async fn run_job(
    bootstrap: &str,
    job: Job,
    args: &StreamArgs,
    report: impl Fn(String) + Send + Sync + 'static,
) -> anyhow::Result<RunSummary> {
    let mut ssc = StreamingContext::new(args.batch);
    if let Some(n) = args.batches {
        ssc = ssc.stop_after_batches(n);
    }
    let mut source = KafkaSource::new(bootstrap)
        .group(&args.group)
        .topic(&args.topic)
        .from_beginning(args.from_beginning);
    if let Some(rate) = args.max_rate {
        source = source.max_rate_per_partition(rate);
    }
    let messages = ssc.kafka_stream(source);
    // Extra text for a batch's report line, filled in by the job's outputs.
    let notes: Arc<Mutex<BTreeMap<BatchTime, String>>> = Arc::default();
    match job {
        Job::Save => messages.save_as_text_files(&args.out, &args.suffix),
        Job::Wordcount => messages
            .map(|(_key, value)| value)
            .flat_map(|line| line.split(' ').map(str::to_owned).collect::<Vec<_>>())
            .map(|word| (word, 1u64))
            .reduce_by_key(|a, b| a + b)
            .save_as_text_files(&args.out, &args.suffix),
        Job::Weblog => {
            let weblog = WeblogJob::new(&messages.map(|(_key, value)| value));
            weblog
                .methods
                .save_as_text_files(with_suffix(&args.out, "-methods"), &args.suffix);
            weblog
                .endpoints
                .save_as_text_files(with_suffix(&args.out, "-endpoints"), &args.suffix);
            let notes = Arc::clone(&notes);
            weblog.rejected.foreach_batch(move |time, counts: &[u64]| {
                let rejected: u64 = counts.iter().sum();
                notes.lock().unwrap_or_else(|e| e.into_inner()).insert(
                    time,
                    format!(
                        ", {rejected} {} rejected",
                        if rejected == 1 { "line" } else { "lines" }
                    ),
                );
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
        .with_context(|| format!("starting the {} job on topic '{}'", job.name(), args.topic))?;
    let ended = tokio::select! {
        r = running.wait() => Some(r),
        _ = super::shutdown_signal() => None,
    };
    let summary = match ended {
        Some(r) => r,
        None => {
            eprintln!("kt stream: stopping after the batch in progress (Ctrl-C again to abort)");
            tokio::select! {
                r = running.stop(Stop::Gracefully) => r,
                _ = super::shutdown_signal() => anyhow::bail!("aborted; the batch in progress was not committed"),
            }
        }
    };
    summary.with_context(|| format!("the {} job on topic '{}'", job.name(), args.topic))
}

/// `out/w` + `-methods` = `out/w-methods`.
fn with_suffix(prefix: &Path, suffix: &str) -> PathBuf {
    let mut s: OsString = prefix.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// The output directory names a job writes, for the start-up line.
fn output_patterns(job: Job, args: &StreamArgs) -> Vec<String> {
    let dot = if args.suffix.is_empty() {
        String::new()
    } else {
        format!(".{}", args.suffix)
    };
    let prefixes = match job {
        Job::Save | Job::Wordcount => vec![args.out.clone()],
        Job::Weblog => vec![
            with_suffix(&args.out, "-methods"),
            with_suffix(&args.out, "-endpoints"),
        ],
    };
    prefixes
        .iter()
        .map(|p| format!("{}-<ms>{dot}", p.display()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weblog_prefixes() {
        assert_eq!(
            with_suffix(Path::new("out/w"), "-methods"),
            PathBuf::from("out/w-methods")
        );
    }
}
