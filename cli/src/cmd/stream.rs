//! `kt stream save|wordcount|weblog`: the tutorial's three Spark jobs (see [`crate::jobs`]).

use crate::args::{StreamArgs, StreamCommand};
use crate::jobs::{Job, JobSpec, run_job};

pub(crate) async fn run(bootstrap: &str, cmd: StreamCommand) -> anyhow::Result<()> {
    let (job, spec) = match cmd {
        StreamCommand::Save(a) => (Job::Save, spec(&a)),
        StreamCommand::Wordcount(a) => (Job::Wordcount, spec(&a)),
        StreamCommand::Weblog(a) => (
            Job::Weblog,
            JobSpec {
                top: a.top,
                ..spec(&a.stream)
            },
        ),
    };
    let dot = if spec.suffix.is_empty() {
        String::new()
    } else {
        format!(".{}", spec.suffix)
    };
    let outputs: Vec<String> = job
        .output_prefixes_for(&spec)
        .iter()
        .map(|p| format!("{}-<ms>{dot}", p.display()))
        .collect();
    eprintln!(
        "kt stream {}: topic {}, group {}, {} batches -> {}; {}",
        job.name(),
        spec.topic,
        spec.group,
        humantime::format_duration(spec.batch),
        outputs.join(", "),
        match spec.batches {
            Some(n) => format!("stopping after {n} batches"),
            None => "Ctrl-C to stop".to_string(),
        }
    );
    let stop = async {
        super::shutdown_signal().await;
        eprintln!("kt stream: stopping after the batch in progress (Ctrl-C again to abort)");
    };
    // Polled only after `stop` fired, so this waits for the next signal.
    let abort = super::shutdown_signal();
    let summary = run_job(
        bootstrap,
        job,
        &spec,
        |line| println!("{line}"),
        stop,
        abort,
    )
    .await?;
    eprintln!(
        "kt stream {}: {} batches, {} records",
        job.name(),
        summary.batches,
        summary.records,
    );
    Ok(())
}

/// The job settings from the command line.
pub(crate) fn spec(args: &StreamArgs) -> JobSpec {
    JobSpec {
        topic: args.topic.clone(),
        batch: args.batch,
        out: args.out.clone(),
        suffix: args.suffix.clone(),
        group: args.group.clone(),
        from_beginning: args.from_beginning,
        batches: args.batches,
        max_rate: args.max_rate,
        backpressure: args.backpressure,
        window: args.window,
        slide: args.slide,
        checkpoint: args.checkpoint.clone(),
        top: None,
        metrics_json: args.metrics_json.clone(),
        progress: args.progress,
        instance_id: args.instance_id.clone(),
        session_timeout: args.session_timeout,
    }
}
