//! `kt consume`: print records, like kafka-console-consumer.
//!
//! Without `--group` it reads every partition of the topic (or one, with `--partition`) by
//! assignment; with `--group` it joins the group and commits what it has *printed* — never
//! records it fetched but did not print, so `--max-messages` and Ctrl-C lose nothing for the
//! next reader of the group.

use std::collections::BTreeMap;
use std::io::{BufWriter, ErrorKind, Write};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use kt_client::{Client, Consumer, ConsumerConfig, OffsetReset, OffsetSpec, TopicPartition};

use crate::args::ConsumeArgs;
use crate::format::{Fields, Template};

/// How long one poll waits for records before the loop checks its exit conditions.
const POLL: Duration = Duration::from_millis(500);

pub(crate) async fn run(bootstrap: &str, args: ConsumeArgs) -> anyhow::Result<()> {
    let template = Template::parse(&args.format).map_err(|e| anyhow::anyhow!("--format: {e}"))?;
    let client = super::connect(bootstrap).await?;
    let partitions = client
        .partitions_for(&args.topic)
        .await
        .with_context(|| format!("looking up topic '{}'", args.topic))?;
    if partitions.is_empty() {
        bail!("topic '{}' has no partitions", args.topic);
    }
    let config = ConsumerConfig {
        group_id: args.group.clone(),
        auto_offset_reset: if args.from_beginning {
            OffsetReset::Earliest
        } else {
            OffsetReset::Latest
        },
        // Commits are done here, for printed records only.
        enable_auto_commit: false,
        ..ConsumerConfig::default()
    };
    let mut consumer = client.consumer(config);
    if args.group.is_some() {
        consumer.subscribe(&[args.topic.as_str()]).await?;
    } else {
        let chosen: Vec<i32> = match args.partition {
            Some(p) if partitions.contains(&p) => vec![p],
            Some(p) => bail!(
                "topic '{}' has no partition {p} (it has {})",
                args.topic,
                partitions.len()
            ),
            None => partitions.clone(),
        };
        let tps: Vec<TopicPartition> = chosen
            .iter()
            .map(|p| TopicPartition::new(&args.topic, *p))
            .collect();
        consumer.assign(tps.clone())?;
        if let Some(offset) = args.offset {
            consumer.seek(&tps[0], offset)?;
        }
    }

    let result = tokio::select! {
        r = consume_loop(&client, &mut consumer, &args, &template) => r,
        _ = super::shutdown_signal() => Ok(Progress::default()),
    };
    // Whatever stopped the loop, commit what was printed and leave the group cleanly.
    let progress = match result {
        Ok(p) => p,
        Err(e) => {
            let _ = consumer.close().await;
            return Err(e);
        }
    };
    if args.group.is_some() && !progress.printed.is_empty() {
        commit_printed(&mut consumer, &progress.printed).await?;
    }
    consumer
        .close()
        .await
        .context("leaving the consumer group")?;
    if progress.count > 0 || args.max_messages.is_some() {
        eprintln!("Processed a total of {} messages", progress.count);
    }
    Ok(())
}

/// What has been printed: the count and, per partition, the offset after the last one.
#[derive(Debug, Default)]
struct Progress {
    count: u64,
    printed: BTreeMap<TopicPartition, i64>,
}

async fn consume_loop(
    client: &Client,
    consumer: &mut Consumer,
    args: &ConsumeArgs,
    template: &Template,
) -> anyhow::Result<Progress> {
    let mut progress = Progress::default();
    let mut out = BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let mut ends: BTreeMap<TopicPartition, i64> = BTreeMap::new();
    let mut last_record = Instant::now();
    loop {
        let records = consumer.poll(POLL).await.context("fetching records")?;
        let mut printed_now = 0u64;
        for r in &records {
            if args.max_messages.is_some_and(|max| progress.count >= max) {
                break;
            }
            let written = template.write(
                &mut out,
                &Fields {
                    topic: &r.topic,
                    partition: r.partition,
                    offset: r.offset,
                    timestamp: r.timestamp,
                    key: r.key.as_deref(),
                    value: r.value.as_deref(),
                },
            );
            if let Err(e) = written {
                if e.kind() == ErrorKind::BrokenPipe {
                    // `kt consume | head`: the reader is gone; stop quietly.
                    return Ok(progress);
                }
                return Err(e).context("writing to stdout");
            }
            progress.count += 1;
            printed_now += 1;
            progress
                .printed
                .insert(TopicPartition::new(&r.topic, r.partition), r.offset + 1);
        }
        match out.flush() {
            Err(e) if e.kind() == ErrorKind::BrokenPipe => return Ok(progress),
            other => other.context("writing to stdout")?,
        }
        if printed_now > 0 {
            last_record = Instant::now();
            if args.group.is_some() {
                commit_printed(consumer, &progress.printed).await?;
            }
        }
        if args.max_messages.is_some_and(|max| progress.count >= max) {
            return Ok(progress);
        }
        if args.timeout.is_some_and(|t| last_record.elapsed() >= t) {
            return Ok(progress);
        }
        if args.exit_at_end && at_end(client, consumer, &mut ends).await? {
            return Ok(progress);
        }
    }
}

/// True when every assigned partition's position has reached the end offset it had when it
/// was first seen (records produced later do not keep `-e` running forever).
async fn at_end(
    client: &Client,
    consumer: &Consumer,
    ends: &mut BTreeMap<TopicPartition, i64>,
) -> anyhow::Result<bool> {
    let assigned = consumer.assignment();
    if assigned.is_empty() {
        return Ok(false);
    }
    let unknown: Vec<(TopicPartition, OffsetSpec)> = assigned
        .iter()
        .filter(|tp| !ends.contains_key(*tp))
        .map(|tp| (tp.clone(), OffsetSpec::Latest))
        .collect();
    if !unknown.is_empty() {
        let latest = client
            .list_offsets(&unknown)
            .await
            .context("reading end offsets")?;
        ends.extend(latest);
    }
    Ok(assigned.iter().all(|tp| {
        let end = ends.get(tp).copied().unwrap_or(0);
        consumer.position(tp).is_some_and(|p| p >= end)
    }))
}

/// Commits the printed positions of the partitions this member still owns.
async fn commit_printed(
    consumer: &mut Consumer,
    printed: &BTreeMap<TopicPartition, i64>,
) -> anyhow::Result<()> {
    let owned = consumer.assignment();
    let offsets: BTreeMap<TopicPartition, i64> = printed
        .iter()
        .filter(|(tp, _)| owned.contains(tp))
        .map(|(tp, o)| (tp.clone(), *o))
        .collect();
    if offsets.is_empty() {
        return Ok(());
    }
    consumer
        .commit(&offsets)
        .await
        .context("committing printed offsets")
}
