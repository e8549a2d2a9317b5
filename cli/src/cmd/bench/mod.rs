//! `kt bench`: throughput and latency of kt's producer, consumer and streaming engine, in the
//! manner of Kafka's `kafka-producer-perf-test` / `kafka-consumer-perf-test`.
//!
//! Each command talks to the broker at `-b` or starts one in this process (`--embedded`;
//! `bench stream` embeds one unless `--external`). They print what they measured; they never
//! judge it. Comparisons with other tools (kcat, Tansu, Spark) are `bench/compare.sh`'s job,
//! which measures both sides in the same run (see BENCHMARKS.md).
//!
//! - `produce.rs`: records/s, MB/s, send-to-acknowledgement latency percentiles.
//! - `consume.rs`: records/s and MB/s from the beginning to the end of a topic.
//! - `stream.rs`: word count through the streaming engine: processing rate, end-to-end latency.
//! - `histogram.rs`, `progress.rs`: latency histogram, progress bar and number formatting.

mod consume;
mod histogram;
mod produce;
mod progress;
mod stream;

use std::time::Duration;

use anyhow::Context;
use bytes::Bytes;
use kt_broker::{Broker, BrokerConfig, BrokerHandle};
use kt_client::{Client, Error, KafkaCode, NewTopic};

use crate::args::BenchCommand;

pub(crate) async fn run(bootstrap: &str, cmd: BenchCommand) -> anyhow::Result<()> {
    match cmd {
        BenchCommand::Produce(args) => produce::run(bootstrap, args).await,
        BenchCommand::Consume(args) => consume::run(bootstrap, args).await,
        BenchCommand::Stream(args) => stream::run(bootstrap, args).await,
    }
}

/// The broker a benchmark talks to: `-b`, or one embedded in this process.
pub(crate) struct Target {
    pub(crate) bootstrap: String,
    broker: Option<BrokerHandle>,
}

impl Target {
    pub(crate) async fn new(bootstrap: &str, embedded: bool) -> anyhow::Result<Target> {
        if !embedded {
            return Ok(Target {
                bootstrap: bootstrap.to_owned(),
                broker: None,
            });
        }
        let broker = Broker::start(BrokerConfig {
            listen: ([127, 0, 0, 1], 0).into(),
            group_initial_rebalance_delay: Duration::ZERO,
            ..BrokerConfig::default()
        })
        .await
        .context("starting the embedded broker")?;
        eprintln!("embedded kt broker on {}", broker.bootstrap());
        Ok(Target {
            bootstrap: broker.bootstrap(),
            broker: Some(broker),
        })
    }

    pub(crate) async fn shutdown(self) {
        if let Some(b) = self.broker {
            b.shutdown().await;
        }
    }
}

/// Creates `topic` with `partitions` partitions unless it exists; returns its partition count.
pub(crate) async fn ensure_topic(
    client: &Client,
    topic: &str,
    partitions: i32,
) -> anyhow::Result<i32> {
    match client
        .admin()
        .create_topics(&[NewTopic::new(topic, partitions, 1)])
        .await
    {
        Ok(()) => {}
        Err(e) if e.kafka_code() == Some(KafkaCode::TopicAlreadyExists) => {}
        Err(e) => return Err(e).with_context(|| format!("creating topic '{topic}'")),
    }
    let have = client
        .partitions_for(topic)
        .await
        .with_context(|| format!("looking up topic '{topic}'"))?;
    let have = i32::try_from(have.len()).unwrap_or(i32::MAX);
    if have != partitions {
        eprintln!("note: topic '{topic}' exists with {have} partitions (not {partitions})");
    }
    Ok(have)
}

/// A record value of `size` bytes: pseudo-random upper-case letters, as
/// kafka-producer-perf-test sends (compressible, but not trivially).
pub(crate) fn payload(size: usize) -> Bytes {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..size)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            b'A' + (x % 26) as u8
        })
        .collect::<Vec<u8>>()
        .into()
}

/// `records/s (MB/s)` for `records` of `bytes` total over `secs`.
pub(crate) fn rates(records: u64, bytes: u64, secs: f64) -> String {
    let secs = secs.max(1e-9);
    format!(
        "{} records/s ({:.2} MB/s)",
        progress::thousands((records as f64 / secs) as u64),
        bytes as f64 / secs / (1024.0 * 1024.0)
    )
}

/// A broker error with the benchmark's context.
pub(crate) fn produce_failed(e: &Error) -> anyhow::Error {
    anyhow::anyhow!("a benchmark record was not delivered: {e}")
}
