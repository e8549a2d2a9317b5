//! `kt bench produce`: sends `--records` records of `--record-size` bytes as fast as the
//! producer takes them and reports throughput and the latency from `send` to the broker's
//! acknowledgement (p50/p99/p99.9), like kafka-producer-perf-test with `--throughput -1`.
//!
//! Every record's send instant is kept next to its delivery future; a reporter task awaits
//! the futures in order and records `now - sent` when each resolves, so the latency includes
//! the time a record waits in its batch (linger), on the wire and in the broker. The clock
//! stops when the last record is acknowledged.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use anyhow::Context;
use kt_client::{Acks, Compression, DeliveryFuture, ProducerConfig, ProducerRecord};
use tokio::sync::mpsc;

use super::histogram::Histogram;
use super::progress::{Progress, thousands};
use super::{Target, ensure_topic, payload, rates};
use crate::args::{self, BenchProduceArgs};

/// Records handed to the reporter at a time.
const CHUNK: usize = 1024;

type Chunk = Vec<(Instant, DeliveryFuture)>;

pub(crate) async fn run(bootstrap: &str, args: BenchProduceArgs) -> anyhow::Result<()> {
    let target = Target::new(bootstrap, args.embedded).await?;
    let result = measure(&target.bootstrap, &args).await;
    target.shutdown().await;
    let m = result?;
    print_summary(&args, &m);
    Ok(())
}

/// What one run measured.
pub(crate) struct Measured {
    pub(crate) records: u64,
    pub(crate) secs: f64,
    pub(crate) latency_us: Histogram,
}

pub(crate) fn config(args: &BenchProduceArgs) -> ProducerConfig {
    ProducerConfig {
        acks: match args.acks {
            args::Acks::None => Acks::None,
            args::Acks::Leader => Acks::Leader,
            args::Acks::All => Acks::All,
        },
        compression: match args.compression {
            args::CompressionArg::None => Compression::None,
            args::CompressionArg::Gzip => Compression::Gzip,
            args::CompressionArg::Snappy => Compression::Snappy,
            args::CompressionArg::Lz4 => Compression::Lz4,
            args::CompressionArg::Zstd => Compression::Zstd,
        },
        linger: std::time::Duration::from_millis(args.linger_ms),
        batch_size: args.batch_size,
        ..ProducerConfig::default()
    }
}

/// Produces the records and measures; also used by `bench consume --embedded` to fill a topic.
pub(crate) async fn measure(bootstrap: &str, args: &BenchProduceArgs) -> anyhow::Result<Measured> {
    let client = crate::cmd::connect(bootstrap).await?;
    ensure_topic(&client, &args.topic, args.partitions).await?;
    let producer = client.producer(config(args));
    let value = payload(args.record_size);

    let acked = Arc::new(AtomicU64::new(0));
    let progress = Progress::start("produce", Arc::clone(&acked), args.records);
    let (tx, rx) = mpsc::channel::<Chunk>(1024);
    let reporter = tokio::spawn(report(rx, Arc::clone(&acked)));

    let start = Instant::now();
    let mut chunk = Vec::with_capacity(CHUNK);
    for _ in 0..args.records {
        let record = ProducerRecord {
            topic: args.topic.clone(),
            value: Some(value.clone()),
            ..ProducerRecord::default()
        };
        let sent = Instant::now();
        let delivery = producer.send(record).await.context("sending a record")?;
        chunk.push((sent, delivery));
        if chunk.len() == CHUNK && tx.send(std::mem::take(&mut chunk)).await.is_err() {
            break;
        }
    }
    if !chunk.is_empty() {
        let _ = tx.send(chunk).await;
    }
    drop(tx);
    producer.flush().await.context("flushing")?;
    let (latency_us, failure) = reporter.await.context("the reporter task")?;
    let secs = start.elapsed().as_secs_f64();
    progress.finish();
    producer.close().await.context("closing the producer")?;
    if let Some(e) = failure {
        return Err(super::produce_failed(&e));
    }
    Ok(Measured {
        records: latency_us.count(),
        secs,
        latency_us,
    })
}

/// Awaits delivery futures in send order; returns the latency histogram and the first error.
async fn report(
    mut rx: mpsc::Receiver<Chunk>,
    acked: Arc<AtomicU64>,
) -> (Histogram, Option<kt_client::Error>) {
    let mut hist = Histogram::default();
    let mut failure = None;
    while let Some(chunk) = rx.recv().await {
        for (sent, delivery) in chunk {
            match delivery.await {
                Ok(_) => {
                    let us = u64::try_from(sent.elapsed().as_micros()).unwrap_or(u64::MAX);
                    hist.record(us);
                }
                Err(e) => {
                    failure.get_or_insert(e);
                }
            }
        }
        acked.store(hist.count(), Ordering::Relaxed);
    }
    (hist, failure)
}

fn print_summary(args: &BenchProduceArgs, m: &Measured) {
    let ms = |us: u64| us as f64 / 1000.0;
    let h = &m.latency_us;
    println!(
        "{} records sent in {:.3} s: {}",
        thousands(m.records),
        m.secs,
        rates(m.records, m.records * args.record_size as u64, m.secs)
    );
    println!(
        "latency send->ack ms: avg {:.2}, p50 {:.2}, p99 {:.2}, p99.9 {:.2}, max {:.2}",
        h.mean() / 1000.0,
        ms(h.quantile(0.50)),
        ms(h.quantile(0.99)),
        ms(h.quantile(0.999)),
        ms(h.max())
    );
}
