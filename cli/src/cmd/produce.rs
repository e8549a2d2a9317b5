//! `kt produce`: lines in, records out, like kafka-console-producer.
//!
//! A blocking thread reads input (stdin or `--file`) as bytes and hands lines over in chunks;
//! the async side turns them into records and sends them; a third task awaits the delivery
//! reports in order, so a failure is reported with the line it came from and the run ends
//! with an error if any record was not acknowledged. Nothing is dropped silently.

use std::io::{BufRead, IsTerminal, Write};

use anyhow::{Context, bail};
use bytes::Bytes;
use kt_client::{Acks, Compression, DeliveryFuture, ProducerConfig, ProducerRecord};
use tokio::sync::mpsc;

use crate::args::{self, ProduceArgs};
use crate::lines::{split_key_value, trim_line_ending};

/// Lines handed from the reader thread to the producer at a time (one when interactive).
const CHUNK_LINES: usize = 1024;

/// What the reader thread sends.
enum Input {
    Lines(Vec<Vec<u8>>),
    Failed(std::io::Error),
}

pub(crate) async fn run(bootstrap: &str, args: ProduceArgs) -> anyhow::Result<()> {
    let client = super::connect(bootstrap).await?;
    let config = ProducerConfig {
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
        linger: args.linger,
        batch_size: args.batch_size,
        ..ProducerConfig::default()
    };
    if let Some(p) = args.partition {
        let partitions = client
            .partitions_for(&args.topic)
            .await
            .with_context(|| format!("looking up topic '{}'", args.topic))?;
        if !partitions.contains(&p) {
            bail!(
                "topic '{}' has no partition {p} (it has {})",
                args.topic,
                partitions.len()
            );
        }
    }
    let producer = client.producer(config);

    let interactive = args.file.is_none() && std::io::stdin().is_terminal();
    let (line_tx, mut line_rx) = mpsc::channel::<Input>(4);
    let reader = spawn_reader(args.file.clone(), interactive, line_tx)?;

    // Delivery reports are awaited in send order by their own task.
    let (report_tx, report_rx) = mpsc::channel::<(u64, DeliveryFuture)>(64 * 1024);
    let reports = tokio::spawn(await_deliveries(report_rx));

    let separator = args.key_separator.as_bytes().to_vec();
    let mut line_no: u64 = 0;
    let mut input_error = None;
    loop {
        let next = tokio::select! {
            next = line_rx.recv() => next,
            _ = super::shutdown_signal() => None,
        };
        let lines = match next {
            Some(Input::Lines(lines)) => lines,
            Some(Input::Failed(e)) => {
                input_error = Some(anyhow::Error::new(e).context("reading input"));
                break;
            }
            None => break,
        };
        for raw in lines {
            line_no += 1;
            let line = trim_line_ending(&raw);
            let mut record = ProducerRecord {
                topic: args.topic.clone(),
                partition: args.partition,
                ..ProducerRecord::default()
            };
            if args.key {
                let Some((key, value)) = split_key_value(line, &separator) else {
                    input_error = Some(anyhow::anyhow!(
                        "line {line_no} has no key separator '{}' (with --key every line is \
                         KEY{}VALUE; change the separator with --key-separator)",
                        args.key_separator,
                        args.key_separator
                    ));
                    break;
                };
                record.key = Some(Bytes::copy_from_slice(key));
                record.value = Some(Bytes::copy_from_slice(value));
            } else {
                record.value = Some(Bytes::copy_from_slice(line));
            }
            let delivery = producer
                .send(record)
                .await
                .with_context(|| format!("sending line {line_no}"))?;
            if report_tx.send((line_no, delivery)).await.is_err() {
                break;
            }
        }
        if input_error.is_some() {
            break;
        }
    }
    drop(line_rx);
    drop(report_tx);
    // Records already handed to the producer are delivered even when input failed.
    let flushed = producer.flush().await;
    let (sent, failed, first_failure) = reports.await.context("delivery report task")?;
    let closed = producer.close().await;
    // The reader may still block on a terminal read; it ends with the process.
    drop(reader);
    if failed > 0 {
        bail!(
            "{failed} of {sent} records were not delivered; first failure: {}",
            first_failure.unwrap_or_default()
        );
    }
    flushed.context("flushing records")?;
    closed.context("closing the producer")?;
    if let Some(e) = input_error {
        return Err(anyhow::anyhow!(
            "{e:#}; the {sent} records before it were delivered"
        ));
    }
    if interactive {
        eprintln!("{sent} records sent to {}", args.topic);
    }
    Ok(())
}

/// Awaits delivery reports in order; prints each failure with its line number.
async fn await_deliveries(
    mut rx: mpsc::Receiver<(u64, DeliveryFuture)>,
) -> (u64, u64, Option<String>) {
    let (mut sent, mut failed, mut first) = (0u64, 0u64, None);
    while let Some((line, delivery)) = rx.recv().await {
        sent += 1;
        if let Err(e) = delivery.await {
            failed += 1;
            eprintln!("kt: line {line} was not delivered: {e}");
            first.get_or_insert_with(|| format!("line {line}: {e}"));
        }
    }
    (sent, failed, first)
}

/// Reads lines on a blocking thread. On a terminal it shows a `>` prompt before each line and
/// hands over every line at once; otherwise lines go in chunks.
fn spawn_reader(
    file: Option<std::path::PathBuf>,
    interactive: bool,
    tx: mpsc::Sender<Input>,
) -> anyhow::Result<std::thread::JoinHandle<()>> {
    let input: Box<dyn BufRead + Send> = match &file {
        Some(path) => Box::new(std::io::BufReader::with_capacity(
            1 << 20,
            std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?,
        )),
        None => Box::new(std::io::BufReader::with_capacity(1 << 20, std::io::stdin())),
    };
    let chunk = if interactive { 1 } else { CHUNK_LINES };
    std::thread::Builder::new()
        .name("kt-produce-input".into())
        .spawn(move || read_lines(input, chunk, interactive, &tx))
        .context("starting the input thread")
}

fn read_lines(
    mut input: Box<dyn BufRead + Send>,
    chunk: usize,
    prompt: bool,
    tx: &mpsc::Sender<Input>,
) {
    let mut lines = Vec::with_capacity(chunk);
    loop {
        if prompt {
            let mut err = std::io::stderr();
            let _ = err.write_all(b">");
            let _ = err.flush();
        }
        let mut line = Vec::new();
        match input.read_until(b'\n', &mut line) {
            Ok(0) => break,
            Ok(_) => {
                lines.push(line);
                if lines.len() >= chunk
                    && tx
                        .blocking_send(Input::Lines(std::mem::take(&mut lines)))
                        .is_err()
                {
                    return;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                let _ = tx.blocking_send(Input::Lines(std::mem::take(&mut lines)));
                let _ = tx.blocking_send(Input::Failed(e));
                return;
            }
        }
    }
    if !lines.is_empty() {
        let _ = tx.blocking_send(Input::Lines(lines));
    }
}
