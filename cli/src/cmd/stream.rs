//! `kt stream save|wordcount|weblog`: the tutorial's three Spark jobs (see [`crate::jobs`]).

use crate::args::{StreamArgs, StreamCommand};
use crate::jobs::{Job, JobSpec, run_job};

pub(crate) async fn run(bootstrap: &str, cmd: StreamCommand) -> anyhow::Result<()> {
    let (job, args) = match cmd {
        StreamCommand::Save(a) => (Job::Save, a),
        StreamCommand::Wordcount(a) => (Job::Wordcount, a),
        StreamCommand::Weblog(a) => (Job::Weblog, a),
    };
    let spec = spec(&args);
    let dot = if spec.suffix.is_empty() {
        String::new()
    } else {
        format!(".{}", spec.suffix)
    };
    let outputs: Vec<String> = job
        .output_prefixes(&spec.out)
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
    }
}
