//! `kt consume`: print records, like kafka-console-consumer.
//!
//! Without `--group` it reads every partition of the topic (or one, with `--partition`) by
//! assignment; with `--group` it joins the group and commits what it has *printed* — never
//! records it fetched but did not print, so `--max-messages` and Ctrl-C lose nothing for the
//! next reader of the group.
//!
//! # Layout
//! - `mod.rs`: arguments to a consumer, the fetch loop, exit conditions, commits.
//! - `printer.rs`: formatting and writing on a thread of its own, overlapped with the next
//!   fetch; keeps what was printed.

mod printer;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use kt_client::{Client, Consumer, ConsumerConfig, OffsetReset, OffsetSpec, TopicPartition};

use crate::args::ConsumeArgs;
use crate::format::Template;
use printer::Printer;

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

    let printer = Printer::start(template, args.max_messages);
    let result = tokio::select! {
        r = consume_loop(&client, &mut consumer, &args, &printer) => r,
        _ = super::shutdown_signal() => {
            printer.abort();
            Ok(())
        }
    };
    // Whatever stopped the loop, commit what was printed and leave the group cleanly.
    let printed = printer.finish().await;
    let progress = match result.and(printed) {
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

/// Fetches and hands records to the printer until an exit condition holds (or the printer
/// stops); commits what the printer has printed as a group member.
async fn consume_loop(
    client: &Client,
    consumer: &mut Consumer,
    args: &ConsumeArgs,
    printer: &Printer,
) -> anyhow::Result<()> {
    let mut ends: BTreeMap<TopicPartition, i64> = BTreeMap::new();
    let mut committed: BTreeMap<TopicPartition, i64> = BTreeMap::new();
    let mut last_record = Instant::now();
    let mut fetched = 0u64;
    loop {
        let records = consumer.poll(POLL).await.context("fetching records")?;
        if !records.is_empty() {
            last_record = Instant::now();
            fetched += records.len() as u64;
            if !printer.send(records).await {
                // The reader went away or a write failed: `finish` says which.
                return Ok(());
            }
        }
        if args.group.is_some() {
            let printed = printer.printed();
            if printed != committed {
                commit_printed(consumer, &printed).await?;
                committed = printed;
            }
        }
        if args.max_messages.is_some_and(|max| fetched >= max) {
            return Ok(());
        }
        if args.timeout.is_some_and(|t| last_record.elapsed() >= t) {
            return Ok(());
        }
        if args.exit_at_end && at_end(client, consumer, &mut ends).await? {
            return Ok(());
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
