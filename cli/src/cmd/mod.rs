//! One module per command.

mod bench;
mod broker;
mod consume;
mod produce;
mod quickstart;
mod stream;
mod topic;

use std::time::Duration;

use anyhow::Context;
use kt_client::{Client, ClientConfig};

use crate::args::{Cli, Command};

/// Runs the parsed command line.
pub(crate) async fn run(cli: Cli) -> anyhow::Result<()> {
    let bootstrap = cli.bootstrap;
    match cli.command {
        Command::Broker(args) => broker::run(args).await,
        Command::Topic(cmd) => topic::run(&bootstrap, cmd).await,
        Command::Produce(args) => produce::run(&bootstrap, args).await,
        Command::Consume(args) => consume::run(&bootstrap, args).await,
        Command::Stream(cmd) => stream::run(&bootstrap, cmd).await,
        Command::Quickstart(args) => quickstart::run(args).await,
        Command::Bench(cmd) => bench::run(&bootstrap, cmd).await,
    }
}

/// Connects to the cluster with a short connect timeout: a person is waiting.
pub(crate) async fn connect(bootstrap: &str) -> anyhow::Result<Client> {
    let mut config = ClientConfig::new(bootstrap);
    config.client_id = "kt-cli".to_string();
    config.connect_timeout = Duration::from_secs(5);
    Client::connect(config)
        .await
        .with_context(|| format!("connecting to {bootstrap}"))
}

/// Resolves when the process is asked to stop: Ctrl-C (SIGINT) or SIGTERM.
pub(crate) async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
