//! `kt quickstart`: the whole "Spark Streaming with Kafka" tutorial in one process.
//!
//! Everything is real: an embedded broker on a free loopback port, the kt client producing
//! over TCP, and the same streaming jobs `kt stream` runs, writing real files. Only the
//! typing is scripted.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use bytes::Bytes;
use kt_broker::{Broker, BrokerConfig};
use kt_client::{NewTopic, ProducerConfig, ProducerRecord};

use crate::args::QuickstartArgs;
use crate::jobs::{Job, JobSpec, run_job};

/// Access-log lines for step 3 (Common and Combined Log Format, one line that is neither).
const ACCESS_LOG: &[&str] = &[
    r#"10.0.0.1 - - [24/Nov/2026:10:15:01 +0000] "GET /index.html HTTP/1.1" 200 5120"#,
    r#"10.0.0.2 - alice [24/Nov/2026:10:15:02 +0000] "GET /images/logo.png HTTP/1.1" 200 20480"#,
    r#"10.0.0.1 - - [24/Nov/2026:10:15:03 +0000] "POST /login HTTP/1.1" 302 -"#,
    r#"10.0.0.3 - - [24/Nov/2026:10:15:04 +0000] "GET /index.html HTTP/1.1" 304 0 "-" "Mozilla/5.0 (X11; Linux x86_64)""#,
    r#"10.0.0.4 - - [24/Nov/2026:10:15:05 +0000] "GET /about.html HTTP/1.0" 200 2048"#,
    r#"10.0.0.2 - alice [24/Nov/2026:10:15:06 +0000] "HEAD /index.html HTTP/1.1" 200 0"#,
    r#"10.0.0.5 - - [24/Nov/2026:10:15:07 +0000] "GET /missing.html HTTP/1.1" 404 512"#,
    r#"10.0.0.1 - - [24/Nov/2026:10:15:08 +0000] "DELETE /api/items/7 HTTP/1.1" 204 -"#,
    "this line is not an access-log entry",
];

pub(crate) async fn run(args: QuickstartArgs) -> anyhow::Result<()> {
    let temp;
    let dir: PathBuf = match &args.dir {
        Some(d) => {
            std::fs::create_dir_all(d).with_context(|| format!("creating {}", d.display()))?;
            d.clone()
        }
        None => {
            temp = tempfile::Builder::new()
                .prefix("kt-quickstart-")
                .tempdir()
                .context("creating a temporary directory")?;
            temp.path().to_path_buf()
        }
    };

    say("Starting an embedded Kafka-compatible broker (what `kt broker` runs)...");
    let broker = Broker::start(BrokerConfig {
        listen: ([127, 0, 0, 1], 0).into(),
        group_initial_rebalance_delay: Duration::ZERO,
        ..BrokerConfig::default()
    })
    .await?;
    let bootstrap = broker.bootstrap();
    println!("  broker listening on {bootstrap}\n");
    let result = tutorial(&bootstrap, &dir, args.batch).await;
    broker.shutdown().await;
    result?;
    if args.dir.is_none() {
        say(
            "Done. (The output above was in a temporary directory, now removed; keep it with --dir DIR.)",
        );
    } else {
        say(&format!("Done. The output is in {}.", dir.display()));
    }
    Ok(())
}

async fn tutorial(bootstrap: &str, dir: &Path, batch: Duration) -> anyhow::Result<()> {
    let client = super::connect(bootstrap).await?;
    say("$ kt topic create mytopic            # kafka-topics.sh --create --topic mytopic");
    say("$ kt topic create access");
    client
        .admin()
        .create_topics(&[
            NewTopic::new("mytopic", 1, 1),
            NewTopic::new("access", 1, 1),
        ])
        .await
        .context("creating topics")?;
    println!();

    let producer = client.producer(ProducerConfig::default());
    let send = |topic: &str, key: Option<&str>, value: &str| {
        let mut record = ProducerRecord::new(topic, Bytes::copy_from_slice(value.as_bytes()));
        record.key = key.map(|k| Bytes::copy_from_slice(k.as_bytes()));
        record
    };

    let job_args = |topic: &str, out: &str| JobSpec {
        topic: topic.to_string(),
        batch,
        out: dir.join(out),
        suffix: "log".to_string(),
        group: "sparkit".to_string(),
        from_beginning: true,
        batches: Some(2),
        max_rate: None,
        ..JobSpec::default()
    };

    say("Step 1 — save each batch's raw (key, value) pairs.");
    say("$ kt produce --topic mytopic          # typed: message1, message2, message3");
    say("$ kt produce --topic mytopic --key    # typed: key1:message1, key2:message2");
    let mut deliveries = Vec::new();
    for v in ["message1", "message2", "message3"] {
        deliveries.push(producer.send(send("mytopic", None, v)).await?);
    }
    for (k, v) in [("key1", "message1"), ("key2", "message2")] {
        deliveries.push(producer.send(send("mytopic", Some(k), v)).await?);
    }
    wait_all(deliveries).await?;
    stream_step(bootstrap, Job::Save, &job_args("mytopic", "g"), "save").await?;

    say("Step 2 — count words. The group `sparkit` committed its offsets in step 1,");
    say("so this job reads only what is produced now.");
    say("$ kt produce --topic mytopic          # typed three lines");
    let mut deliveries = Vec::new();
    for v in ["the quick brown fox", "jumps over the lazy dog", "the end"] {
        deliveries.push(producer.send(send("mytopic", None, v)).await?);
    }
    wait_all(deliveries).await?;
    stream_step(
        bootstrap,
        Job::Wordcount,
        &job_args("mytopic", "f"),
        "wordcount",
    )
    .await?;

    say("Step 3 — count HTTP methods and endpoints in a web server log.");
    say("$ kt produce --topic access < access.log");
    let mut deliveries = Vec::new();
    for line in ACCESS_LOG {
        deliveries.push(producer.send(send("access", None, line)).await?);
    }
    wait_all(deliveries).await?;
    stream_step(bootstrap, Job::Weblog, &job_args("access", "w"), "weblog").await?;
    producer.close().await.context("closing the producer")?;

    say(&format!("The output tree ({}):", dir.display()));
    print_tree(dir)?;
    Ok(())
}

async fn wait_all(deliveries: Vec<kt_client::DeliveryFuture>) -> anyhow::Result<()> {
    for d in deliveries {
        d.await.context("producing a tutorial record")?;
    }
    Ok(())
}

async fn stream_step(bootstrap: &str, job: Job, args: &JobSpec, name: &str) -> anyhow::Result<()> {
    say(&format!(
        "$ kt stream {name} --topic {} --batch {} --out {} --suffix log --from-beginning --batches 2",
        args.topic,
        humantime::format_duration(args.batch),
        args.out.display()
    ));
    let never = std::future::pending::<()>;
    run_job(
        bootstrap,
        job,
        args,
        |line| println!("  {line}"),
        never(),
        never(),
    )
    .await?;
    println!();
    Ok(())
}

fn say(line: &str) {
    println!("{line}");
}

/// Prints every file under `dir` (sorted) with its contents indented.
fn print_tree(dir: &Path) -> anyhow::Result<()> {
    let mut files = Vec::new();
    collect_files(dir, &mut files)?;
    files.sort();
    for f in files {
        let rel = f.strip_prefix(dir).unwrap_or(&f);
        let content = std::fs::read(&f).with_context(|| format!("reading {}", f.display()))?;
        if content.is_empty() {
            println!("  {}  (empty)", rel.display());
            continue;
        }
        println!("  {}", rel.display());
        for line in String::from_utf8_lossy(&content).lines() {
            println!("      {line}");
        }
    }
    Ok(())
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            collect_files(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}
