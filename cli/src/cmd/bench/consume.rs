//! `kt bench consume`: reads a topic from the beginning with kt's consumer (every partition
//! assigned, no group) until `--records` records or the end of the topic as it was when the
//! run started, and reports records/s and MB/s (keys plus values), like
//! kafka-consumer-perf-test. With `--embedded` the topic is first filled with `--records`
//! records of `--record-size` bytes (not timed).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use kt_client::{ConsumerConfig, OffsetReset, OffsetSpec, TopicPartition};

use super::progress::{Progress, thousands};
use super::{Target, rates};
use crate::args::{Acks, BenchConsumeArgs, BenchProduceArgs, CompressionArg};

pub(crate) async fn run(bootstrap: &str, args: BenchConsumeArgs) -> anyhow::Result<()> {
    let target = Target::new(bootstrap, args.embedded).await?;
    let result = measure(&target.bootstrap, &args).await;
    target.shutdown().await;
    result
}

async fn measure(bootstrap: &str, args: &BenchConsumeArgs) -> anyhow::Result<()> {
    if args.embedded {
        let fill = BenchProduceArgs {
            topic: args.topic.clone(),
            records: args.records,
            record_size: args.record_size,
            acks: Acks::Leader,
            compression: CompressionArg::None,
            linger_ms: 5,
            batch_size: 1 << 20,
            partitions: args.partitions,
            embedded: false,
        };
        let filled = super::produce::measure(bootstrap, &fill).await?;
        eprintln!(
            "filled '{}' with {} records of {} bytes in {:.2} s",
            args.topic,
            thousands(filled.records),
            args.record_size,
            filled.secs
        );
    }
    let client = crate::cmd::connect(bootstrap).await?;
    let partitions = client
        .partitions_for(&args.topic)
        .await
        .with_context(|| format!("looking up topic '{}'", args.topic))?;
    let tps: Vec<TopicPartition> = partitions
        .iter()
        .map(|p| TopicPartition::new(&args.topic, *p))
        .collect();
    let specs = |spec: OffsetSpec| tps.iter().map(|tp| (tp.clone(), spec)).collect::<Vec<_>>();
    let earliest = client.list_offsets(&specs(OffsetSpec::Earliest)).await?;
    let latest = client.list_offsets(&specs(OffsetSpec::Latest)).await?;
    let available: i64 = tps
        .iter()
        .map(|tp| latest.get(tp).copied().unwrap_or(0) - earliest.get(tp).copied().unwrap_or(0))
        .sum();
    let want = args.records.min(u64::try_from(available).unwrap_or(0));
    if want == 0 {
        bail!(
            "topic '{}' is empty; fill it first (e.g. `kt bench produce --topic {}`) or use --embedded",
            args.topic,
            args.topic
        );
    }
    if want < args.records {
        eprintln!(
            "note: topic '{}' holds {} records; reading those",
            args.topic,
            thousands(want)
        );
    }

    let mut consumer = client.consumer(ConsumerConfig {
        auto_offset_reset: OffsetReset::Earliest,
        enable_auto_commit: false,
        ..ConsumerConfig::default()
    });
    consumer.assign(tps.clone())?;
    for tp in &tps {
        consumer.seek(tp, earliest.get(tp).copied().unwrap_or(0))?;
    }
    let read = Arc::new(AtomicU64::new(0));
    let progress = Progress::start("consume", Arc::clone(&read), want);
    let start = Instant::now();
    let (mut records, mut bytes) = (0u64, 0u64);
    let mut first_record = None;
    while records < want {
        let batch = consumer
            .poll(Duration::from_secs(10))
            .await
            .context("fetching records")?;
        if batch.is_empty() {
            bail!(
                "no record arrived for 10 s after {} of {} records",
                thousands(records),
                thousands(want)
            );
        }
        first_record.get_or_insert_with(|| start.elapsed());
        for r in &batch {
            bytes += (r.key.as_ref().map_or(0, |k| k.len())
                + r.value.as_ref().map_or(0, |v| v.len())) as u64;
        }
        records += batch.len() as u64;
        read.store(records, Ordering::Relaxed);
    }
    let secs = start.elapsed().as_secs_f64();
    progress.finish();
    let _ = consumer.close().await;
    println!(
        "{} records ({:.2} MB) consumed in {:.3} s: {}",
        thousands(records),
        bytes as f64 / (1024.0 * 1024.0),
        secs,
        rates(records, bytes, secs)
    );
    println!(
        "first record after {:.2} ms",
        first_record.unwrap_or_default().as_secs_f64() * 1000.0
    );
    Ok(())
}
