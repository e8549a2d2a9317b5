//! `kt bench stream`: the tutorial's word count (`kt stream wordcount`, the same job) through
//! the streaming engine, on an embedded broker unless `--external`.
//!
//! 1. Preload `--records` lines of `--words` words (drawn from a 1,000-word vocabulary).
//! 2. Calibrate: one batch takes the whole backlog; records ÷ its processing time is the
//!    engine's processing rate.
//! 3. Sustain: a new group reads the backlog again, capped at 90 % of that rate per batch
//!    interval (`--max-rate`, or the given `--rate`), for up to `--batches` batches; the rate
//!    is sustained when every full batch finishes within the interval.
//! 4. Latency: with a job caught up at the end of the topic, single marker records are
//!    produced a few hundred milliseconds apart; the latency of each is from `send` to the
//!    completion of the batch that wrote it (its output file published and offsets committed),
//!    checked by finding the marker in that batch's output file.
//!
//! Batches are observed through the job's `--metrics-json` lines, as a user would.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use bytes::Bytes;
use kt_client::{Acks, Producer, ProducerConfig, ProducerRecord};
use tokio::sync::oneshot;

use super::histogram::Histogram;
use super::progress::{Progress, thousands};
use super::{Target, ensure_topic};
use crate::args::BenchStreamArgs;
use crate::jobs::{Job, JobSpec, run_job};

pub(crate) async fn run(bootstrap: &str, args: BenchStreamArgs) -> anyhow::Result<()> {
    let target = Target::new(bootstrap, !args.external).await?;
    let result = measure(&target.bootstrap, &args).await;
    target.shutdown().await;
    result
}

/// One completed batch as its metrics line reports it.
#[derive(Debug, Clone)]
struct Batch {
    records: u64,
    processing: Duration,
    /// Offset ranges `(partition, from, until)`.
    ranges: Vec<(i32, i64, i64)>,
    output_paths: Vec<PathBuf>,
    seen_at: Instant,
}

async fn measure(bootstrap: &str, args: &BenchStreamArgs) -> anyhow::Result<()> {
    let client = crate::cmd::connect(bootstrap).await?;
    let partitions = ensure_topic(&client, &args.topic, args.partitions).await?;
    let producer = client.producer(ProducerConfig {
        acks: Acks::Leader,
        batch_size: 1 << 20,
        ..ProducerConfig::default()
    });
    let dir = tempfile::Builder::new()
        .prefix("kt-bench-stream-")
        .tempdir()
        .context("creating a temporary directory")?;

    // 1. Preload.
    let started = Instant::now();
    let bytes = preload(&producer, args).await?;
    println!(
        "preloaded {} lines of {} words ({:.1} MB) in {:.2} s",
        thousands(args.records),
        args.words,
        bytes as f64 / (1024.0 * 1024.0),
        started.elapsed().as_secs_f64()
    );
    let run_id = std::process::id();

    // 2. Calibrate on one uncapped batch.
    let interval = args.batch.as_secs_f64();
    let per_partition = args
        .records
        .div_ceil(u64::try_from(partitions).unwrap_or(1).max(1));
    let cal = run_batches(
        bootstrap,
        args,
        dir.path(),
        &format!("kt-bench-cal-{run_id}"),
        (per_partition as f64 / interval).ceil() as u64,
        1,
    )
    .await?;
    let first = cal
        .first()
        .context("the calibration run completed no batch")?;
    let rate = first.records as f64 / first.processing.as_secs_f64().max(1e-6);
    println!(
        "calibration: {} lines in one batch, processing {} ms: {} lines/s",
        thousands(first.records),
        first.processing.as_millis(),
        thousands(rate as u64)
    );

    // 3. Sustain.
    let cap = match args.rate {
        Some(r) => r,
        None => {
            ((rate * 0.9 * interval) as u64 / u64::try_from(partitions).unwrap_or(1).max(1)).max(1)
        }
    };
    let per_batch = cap * u64::try_from(partitions).unwrap_or(1);
    let full_batches = (args.records / per_batch.max(1)).clamp(1, args.batches);
    let got = run_batches(
        bootstrap,
        args,
        dir.path(),
        &format!("kt-bench-sustain-{run_id}"),
        (cap as f64 / interval).ceil() as u64,
        full_batches,
    )
    .await?;
    let mut ms: Vec<u128> = got.iter().map(|b| b.processing.as_millis()).collect();
    ms.sort_unstable();
    let over = got.iter().filter(|b| b.processing > args.batch).count();
    let records: u64 = got.iter().map(|b| b.records).sum();
    let rate = records as f64 / (got.len() as f64 * interval);
    if over == 0 {
        println!(
            "sustained at {} batches: {} lines/s ({} batch{} of up to {} lines, processing p50 {} ms, max {} ms){}",
            humantime::format_duration(args.batch),
            thousands(rate as u64),
            got.len(),
            if got.len() == 1 { "" } else { "es" },
            thousands(per_batch),
            ms[ms.len() / 2],
            ms[ms.len() - 1],
            if per_batch > args.records {
                "; the backlog is smaller than one batch at this rate: a larger -n measures more"
            } else {
                ""
            }
        );
    } else {
        println!(
            "NOT sustained at {} batches and {} lines per batch: {over} of {} batches took longer \
             than the interval (processing p50 {} ms, max {} ms); try a lower --rate",
            humantime::format_duration(args.batch),
            thousands(per_batch),
            got.len(),
            ms[ms.len() / 2],
            ms[ms.len() - 1]
        );
    }

    // 4. End-to-end latency.
    let latency = end_to_end(bootstrap, args, dir.path(), &producer, run_id).await?;
    let q = |q: f64| latency.quantile(q) as f64 / 1000.0;
    println!(
        "end-to-end latency, produce -> output file: p50 {:.1} ms, max {:.1} ms ({} samples, {} batches)",
        q(0.5),
        latency.max() as f64 / 1000.0,
        latency.count(),
        humantime::format_duration(args.batch)
    );
    producer.close().await.context("closing the producer")?;
    Ok(())
}

/// Sends the benchmark lines; returns their total size.
async fn preload(producer: &Producer, args: &BenchStreamArgs) -> anyhow::Result<u64> {
    let vocabulary = vocabulary();
    let done = Arc::new(AtomicU64::new(0));
    let progress = Progress::start("preload", Arc::clone(&done), args.records);
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut bytes = 0u64;
    let mut pending = Vec::with_capacity(4096);
    for i in 0..args.records {
        let mut line = Vec::with_capacity(args.words * 8);
        for w in 0..args.words {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            if w > 0 {
                line.push(b' ');
            }
            line.extend_from_slice(vocabulary[(x % vocabulary.len() as u64) as usize].as_bytes());
        }
        bytes += line.len() as u64;
        let record = ProducerRecord {
            topic: args.topic.clone(),
            value: Some(Bytes::from(line)),
            ..ProducerRecord::default()
        };
        pending.push(producer.send(record).await.context("preloading")?);
        if pending.len() == 4096 || i + 1 == args.records {
            for d in pending.drain(..) {
                d.await.map_err(|e| super::produce_failed(&e))?;
            }
            done.store(i + 1, Ordering::Relaxed);
        }
    }
    progress.finish();
    Ok(bytes)
}

/// 1,000 made-up words of 3 to 9 letters.
fn vocabulary() -> Vec<String> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    (0..1000)
        .map(|_| {
            let len = 3 + (next() % 7) as usize;
            (0..len)
                .map(|_| (b'a' + (next() % 26) as u8) as char)
                .collect()
        })
        .collect()
}

fn spec(args: &BenchStreamArgs, dir: &Path, group: &str) -> JobSpec {
    JobSpec {
        topic: args.topic.clone(),
        batch: args.batch,
        out: dir.join(group).join("f"),
        suffix: "txt".into(),
        group: group.to_owned(),
        metrics_json: Some(dir.join(format!("{group}.jsonl"))),
        ..JobSpec::default()
    }
}

/// Runs the word count job from the beginning in a new group, capped at `max_rate` records
/// per second per partition, until `batches` batches with records completed.
async fn run_batches(
    bootstrap: &str,
    args: &BenchStreamArgs,
    dir: &Path,
    group: &str,
    max_rate: u64,
    batches: u64,
) -> anyhow::Result<Vec<Batch>> {
    let spec = JobSpec {
        from_beginning: true,
        max_rate: Some(max_rate),
        ..spec(args, dir, group)
    };
    let (job, stop_tx, mut tail) = spawn_wordcount(bootstrap, spec);
    let mut got = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(600);
    while (got.len() as u64) < batches {
        if job.is_finished() {
            break;
        }
        if Instant::now() > deadline {
            bail!("the word count job did not complete {batches} batches within 10 minutes");
        }
        got.extend(tail.read()?.into_iter().filter(|b| b.records > 0));
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let _ = stop_tx.send(());
    job.await.context("the word count job")??;
    if (got.len() as u64) < batches {
        bail!(
            "the word count job stopped after {} of {batches} batches",
            got.len()
        );
    }
    got.truncate(batches as usize);
    Ok(got)
}

/// The word count job of `spec` on a task of its own: its handle, the sender that stops it
/// (after the batch in progress), and a reader of its `--metrics-json` lines.
fn spawn_wordcount(
    bootstrap: &str,
    spec: JobSpec,
) -> (
    tokio::task::JoinHandle<anyhow::Result<kt_streaming::RunSummary>>,
    oneshot::Sender<()>,
    Tail,
) {
    let tail = Tail::new(spec.metrics_json.clone().unwrap_or_default());
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let bootstrap = bootstrap.to_owned();
    let job = tokio::spawn(async move {
        run_job(
            &bootstrap,
            Job::Wordcount,
            &spec,
            |_| {},
            async {
                let _ = stop_rx.await;
            },
            std::future::pending(),
        )
        .await
    });
    (job, stop_tx, tail)
}

/// Markers produced one at a time into a caught-up job; microseconds from send to the
/// completion of the batch that wrote each one.
async fn end_to_end(
    bootstrap: &str,
    args: &BenchStreamArgs,
    dir: &Path,
    producer: &Producer,
    run_id: u32,
) -> anyhow::Result<Histogram> {
    let group = format!("kt-bench-latency-{run_id}");
    let spec = spec(args, dir, &group);
    let (job, stop_tx, mut tail) = spawn_wordcount(bootstrap, spec);
    let mut hist = Histogram::default();
    let result = async {
        // Caught up: the job completed a batch (it started at the end of the topic).
        let deadline = Instant::now() + Duration::from_secs(60);
        while tail.read()?.is_empty() {
            if Instant::now() > deadline || job.is_finished() {
                bail!("the latency job completed no batch within 60 s");
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        for i in 0..args.latency_samples {
            // Spread the sends over the batch interval.
            let pause = args.batch.mul_f64(0.37 + f64::from(i % 5) * 0.11);
            tokio::time::sleep(pause).await;
            let marker = format!("kt-bench-marker-{run_id}-{i}");
            let sent = Instant::now();
            let meta = producer
                .send(ProducerRecord::new(args.topic.clone(), marker.clone()))
                .await?
                .await
                .map_err(|e| super::produce_failed(&e))?;
            let deadline = sent + Duration::from_secs(30) + args.batch * 3;
            let batch = loop {
                if let Some(b) = tail.read()?.into_iter().find(|b| {
                    b.ranges.iter().any(|(p, from, until)| {
                        *p == meta.partition && (*from..*until).contains(&meta.offset)
                    })
                }) {
                    break b;
                }
                if Instant::now() > deadline || job.is_finished() {
                    bail!("marker {i} was not processed within {:?}", deadline - sent);
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
            };
            hist.record(u64::try_from((batch.seen_at - sent).as_micros()).unwrap_or(u64::MAX));
            let found = batch.output_paths.iter().any(|p| {
                std::fs::read_to_string(p.join("part-00000"))
                    .map(|text| text.contains(&format!("('{marker}', 1)")))
                    .unwrap_or(false)
            });
            if !found {
                bail!(
                    "marker {i} is missing from the output of the batch that read it ({:?})",
                    batch.output_paths
                );
            }
        }
        Ok(())
    }
    .await;
    let _ = stop_tx.send(());
    let ended = job.await.context("the word count job")?;
    result?;
    ended?;
    Ok(hist)
}

/// Reads the lines appended to a `--metrics-json` file since the last call.
struct Tail {
    path: PathBuf,
    read: usize,
}

impl Tail {
    fn new(path: PathBuf) -> Tail {
        Tail { path, read: 0 }
    }

    fn read(&mut self) -> anyhow::Result<Vec<Batch>> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e).context("reading the job's metrics"),
        };
        let now = Instant::now();
        let Some(complete) = text
            .get(self.read..)
            .and_then(|t| t.rfind('\n').map(|i| &t[..=i]))
        else {
            return Ok(Vec::new());
        };
        self.read += complete.len();
        complete
            .lines()
            .map(|line| parse_batch(line, now))
            .collect()
    }
}

fn parse_batch(line: &str, seen_at: Instant) -> anyhow::Result<Batch> {
    let v: serde_json::Value = serde_json::from_str(line).context("a metrics line")?;
    let num = |v: &serde_json::Value, key: &str| {
        v.get(key).and_then(serde_json::Value::as_i64).unwrap_or(0)
    };
    let ranges = v
        .get("offset_ranges")
        .and_then(serde_json::Value::as_array)
        .map(|rs| {
            rs.iter()
                .map(|r| {
                    (
                        i32::try_from(num(r, "partition")).unwrap_or(-1),
                        num(r, "from"),
                        num(r, "until"),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let output_paths = v
        .get("output_paths")
        .and_then(serde_json::Value::as_array)
        .map(|ps| {
            ps.iter()
                .filter_map(|p| p.as_str().map(PathBuf::from))
                .collect()
        })
        .unwrap_or_default();
    Ok(Batch {
        records: u64::try_from(num(&v, "records")).unwrap_or(0),
        processing: Duration::from_millis(
            u64::try_from(num(&v, "processing_time_ms")).unwrap_or(0),
        ),
        ranges,
        output_paths,
        seen_at,
    })
}
