//! `kt produce`: lines in, records out, like kafka-console-producer.
//!
//! A blocking thread reads input (stdin or `--file`) in large blocks and hands over whole
//! lines; the async side cuts each block into records *without copying* (keys and values are
//! slices of the block) and sends them; a third task awaits the delivery reports in order, so
//! a failure is reported with the line it came from and the run ends with an error if any
//! record was not acknowledged. Nothing is dropped silently.
//!
//! Per record the work is: find the newline (memchr), slice, one `send` into the producer's
//! batch. Records of one block share one timestamp (the moment the block was read), as they
//! arrived together.

use std::io::{BufRead, IsTerminal, Read, Write};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use bytes::{Bytes, BytesMut};
use kt_client::{Acks, Compression, DeliveryFuture, Producer, ProducerConfig, ProducerRecord};
use tokio::sync::mpsc;

use crate::args::{self, ProduceArgs};
use crate::lines::{split_key_value, trim_line_ending};

/// Bytes read from the input at a time (when it is not a terminal).
const BLOCK: usize = 256 * 1024;
/// A line longer than this is refused instead of buffered without bound.
const MAX_LINE: usize = 64 << 20;

/// What the reader thread sends: blocks of whole lines (the last block of the input may end
/// without a newline), or the error that ended the input.
enum Input {
    Lines(Bytes),
    Failed(std::io::Error),
}

/// Delivery reports of one block, in line order.
type Reports = Vec<(u64, DeliveryFuture)>;

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
    let (report_tx, report_rx) = mpsc::channel::<Reports>(256);
    let reports = tokio::spawn(await_deliveries(report_rx));

    let mut sender = LineSender {
        producer: &producer,
        args: &args,
        separator: args.key_separator.as_bytes().to_vec(),
        line_no: 0,
    };
    let mut input_error = None;
    loop {
        let next = tokio::select! {
            next = line_rx.recv() => next,
            _ = super::shutdown_signal() => None,
        };
        let block = match next {
            Some(Input::Lines(block)) => block,
            Some(Input::Failed(e)) => {
                input_error = Some(anyhow::Error::new(e).context("reading input"));
                break;
            }
            None => break,
        };
        let (sent, bad_line) = sender.send_block(&block).await?;
        if report_tx.send(sent).await.is_err() {
            break;
        }
        if let Some(e) = bad_line {
            input_error = Some(e);
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

/// Turns blocks of lines into records.
struct LineSender<'a> {
    producer: &'a Producer,
    args: &'a ProduceArgs,
    separator: Vec<u8>,
    line_no: u64,
}

impl LineSender<'_> {
    /// Sends every line of `block`; returns the delivery reports and, if a line was refused
    /// (no key separator), the error that ends the run after the lines before it.
    async fn send_block(
        &mut self,
        block: &Bytes,
    ) -> anyhow::Result<(Reports, Option<anyhow::Error>)> {
        let timestamp = now_ms();
        let mut sent = Vec::with_capacity(block.len() / 64 + 1);
        for line in lines(block) {
            self.line_no += 1;
            let (key, value) = if self.args.key {
                let Some((key, value)) = split_key_value(line, &self.separator) else {
                    let sep = &self.args.key_separator;
                    let e = anyhow::anyhow!(
                        "line {} has no key separator '{sep}' (with --key every line is \
                         KEY{sep}VALUE; change the separator with --key-separator)",
                        self.line_no
                    );
                    return Ok((sent, Some(e)));
                };
                (Some(block.slice_ref(key)), block.slice_ref(value))
            } else {
                (None, block.slice_ref(line))
            };
            let record = ProducerRecord {
                topic: self.args.topic.clone(),
                partition: self.args.partition,
                key,
                value: Some(value),
                timestamp: Some(timestamp),
                ..ProducerRecord::default()
            };
            let delivery = self
                .producer
                .send(record)
                .await
                .with_context(|| format!("sending line {}", self.line_no))?;
            sent.push((self.line_no, delivery));
        }
        Ok((sent, None))
    }
}

/// The lines of a block, without their line endings; a last line without `\n` counts.
fn lines(block: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut start = 0;
    memchr::memchr_iter(b'\n', block)
        .map(|nl| nl + 1)
        .chain((block.last().is_some_and(|b| *b != b'\n')).then_some(block.len()))
        .map(move |end| {
            let line = trim_line_ending(&block[start..end]);
            start = end;
            line
        })
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Awaits delivery reports in order; prints each failure with its line number.
async fn await_deliveries(mut rx: mpsc::Receiver<Reports>) -> (u64, u64, Option<String>) {
    let (mut sent, mut failed, mut first) = (0u64, 0u64, None);
    while let Some(reports) = rx.recv().await {
        for (line, delivery) in reports {
            sent += 1;
            if let Err(e) = delivery.await {
                failed += 1;
                eprintln!("kt: line {line} was not delivered: {e}");
                first.get_or_insert_with(|| format!("line {line}: {e}"));
            }
        }
    }
    (sent, failed, first)
}

/// Reads the input on a blocking thread. On a terminal it shows a `>` prompt before each line
/// and hands over every line at once; otherwise it hands over blocks of whole lines.
fn spawn_reader(
    file: Option<std::path::PathBuf>,
    interactive: bool,
    tx: mpsc::Sender<Input>,
) -> anyhow::Result<std::thread::JoinHandle<()>> {
    let input: Box<dyn Read + Send> = match &file {
        Some(path) => Box::new(
            std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?,
        ),
        None => Box::new(std::io::stdin()),
    };
    std::thread::Builder::new()
        .name("kt-produce-input".into())
        .spawn(move || {
            if interactive {
                read_prompted(std::io::BufReader::new(input), &tx);
            } else {
                read_blocks(input, &tx);
            }
        })
        .context("starting the input thread")
}

/// Hands over blocks that end at a line end; the last block of the input may end without
/// one.
fn read_blocks(mut input: Box<dyn Read + Send>, tx: &mpsc::Sender<Input>) {
    let mut buf = BytesMut::with_capacity(BLOCK);
    // Bytes of `buf` already searched for a newline (the start of an unfinished line).
    let mut searched = 0;
    loop {
        let filled = buf.len();
        buf.resize(filled + BLOCK, 0);
        let n = match input.read(&mut buf[filled..]) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {
                buf.truncate(filled);
                continue;
            }
            Err(e) => {
                buf.truncate(filled);
                let _ = tx.blocking_send(Input::Failed(e));
                return;
            }
        };
        buf.truncate(filled + n);
        if n == 0 {
            if !buf.is_empty() {
                let _ = tx.blocking_send(Input::Lines(buf.split().freeze()));
            }
            return;
        }
        match memchr::memrchr(b'\n', &buf[searched..]) {
            Some(at) => {
                let whole = buf.split_to(searched + at + 1).freeze();
                searched = 0;
                if tx.blocking_send(Input::Lines(whole)).is_err() {
                    return;
                }
            }
            None if buf.len() > MAX_LINE => {
                let e =
                    std::io::Error::other(format!("a line is longer than {} MiB", MAX_LINE >> 20));
                let _ = tx.blocking_send(Input::Failed(e));
                return;
            }
            None => searched = buf.len(),
        }
    }
}

/// One line at a time after a `>` prompt, as kafka-console-producer does on a terminal.
fn read_prompted(mut input: impl BufRead, tx: &mpsc::Sender<Input>) {
    loop {
        let mut err = std::io::stderr();
        let _ = err.write_all(b">");
        let _ = err.flush();
        let mut line = Vec::new();
        match input.read_until(b'\n', &mut line) {
            Ok(0) => return,
            Ok(_) => {
                if tx.blocking_send(Input::Lines(Bytes::from(line))).is_err() {
                    return;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                let _ = tx.blocking_send(Input::Failed(e));
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// Feeds `input` through `read_blocks` with a reader that returns `step` bytes at a time,
    /// and returns the lines as the async side cuts them.
    fn lines_of(input: &[u8], step: usize) -> Vec<Vec<u8>> {
        struct Trickle(Vec<u8>, usize);
        impl Read for Trickle {
            fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
                let n = self.1.min(out.len()).min(self.0.len());
                out[..n].copy_from_slice(&self.0[..n]);
                self.0.drain(..n);
                Ok(n)
            }
        }
        let (tx, mut rx) = mpsc::channel(1 << 16);
        read_blocks(Box::new(Trickle(input.to_vec(), step)), &tx);
        drop(tx);
        let mut out = Vec::new();
        while let Ok(Input::Lines(block)) = rx.try_recv() {
            out.extend(lines(&block).map(<[u8]>::to_vec));
        }
        out
    }

    #[test]
    fn blocks_end_at_line_ends_whatever_the_reads() {
        let input = b"a\r\nbb\n\nccc\nlast";
        let want: Vec<Vec<u8>> = vec![
            b"a".to_vec(),
            b"bb".to_vec(),
            vec![],
            b"ccc".to_vec(),
            b"last".to_vec(),
        ];
        for step in [1, 2, 3, 5, 64] {
            assert_eq!(lines_of(input, step), want, "reads of {step} bytes");
        }
        assert_eq!(lines_of(b"x\ny\n", 1), vec![b"x".to_vec(), b"y".to_vec()]);
        assert!(lines_of(b"", 4).is_empty());
    }
}
