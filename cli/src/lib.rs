//! `kt`: the command line that ties kt's broker, client and streaming engine together.
//!
//! # Layout
//! - [`args`](crate) — every command and flag (clap derive); `kt <cmd> --help` shows the docs.
//! - `cmd/` — one module per command: `broker`, `topic`, `produce`, `consume`, `stream`,
//!   `quickstart`.
//! - [`jobs`] — the tutorial's streaming jobs (save, wordcount, weblog), shared by `kt stream`,
//!   `kt quickstart` and the whole-flow tests.
//! - `failure` — turns any error into one line with a hint and a distinct exit code.
//! - [`lines`] — splitting console-producer input into (key, value) records.
//! - `format` — `kt consume --format` templates.
//!
//! # Exit codes
//! `0` success, `1` error, `2` bad command line (clap), `3` cannot reach the broker,
//! `4` the broker refused the request (the Kafka error code is named).
//!
//! # References
//! - kafka-console-producer / kafka-console-consumer / kafka-topics (Apache Kafka's tools),
//!   whose flags and behaviour kt's commands follow.
//! - Spark Streaming + Kafka integration guide: the jobs `kt stream` runs.

mod args;
mod cmd;
mod failure;
mod format;
pub mod jobs;
pub mod lines;
pub mod wordcount;

use std::process::ExitCode;

use clap::Parser;

/// Parses the command line, runs the command, and maps failures to one line on stderr.
pub fn main() -> ExitCode {
    let cli = args::Cli::parse();
    let is_broker = matches!(cli.command, args::Command::Broker(_));
    init_logging(cli.verbose, is_broker);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("kt: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let bootstrap = cli.bootstrap.clone();
    let result = runtime.block_on(cmd::run(cli));
    // Do not wait for background tasks (heartbeats, idle connections) at exit.
    runtime.shutdown_background();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            let failure = failure::explain(&err, &bootstrap);
            eprintln!("{failure}");
            ExitCode::from(failure.code)
        }
    }
}

/// Logs go to stderr. By default only warnings, except `kt broker`, whose log is its output.
fn init_logging(verbose: u8, is_broker: bool) {
    use std::io::IsTerminal;
    use tracing_subscriber::EnvFilter;
    let default = match verbose {
        0 if is_broker => "warn,kt_broker=info",
        0 => "warn",
        1 => "info,kt_cli=debug,kt_broker=debug,kt_client=debug,kt_streaming=debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(verbose > 0)
        .try_init();
}
