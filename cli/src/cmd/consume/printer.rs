//! The printing half of `kt consume`, on a blocking thread of its own.
//!
//! The fetch loop hands each poll's records over and goes straight back to the broker, so the
//! next Fetch is on the wire while these records are formatted and written (librdkafka's fetch
//! thread does the same for kcat). Printing after each fetch made the two add up: against a
//! broker whose fetches take tens of milliseconds (Tansu), writing a fetch's 50,000 records
//! was a quarter of each cycle.
//!
//! What has been *printed* (not fetched) is kept here: it is what a group member commits.

use std::collections::BTreeMap;
use std::io::{BufWriter, ErrorKind, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use anyhow::Context;
use kt_client::{ConsumerRecord, TopicPartition};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::format::{Fields, Template};

/// What has been printed: the count and, per partition, the offset after the last one.
#[derive(Debug, Default, Clone)]
pub(super) struct Progress {
    pub(super) count: u64,
    pub(super) printed: BTreeMap<TopicPartition, i64>,
}

/// Handle of the printing thread.
pub(super) struct Printer {
    tx: mpsc::Sender<Vec<ConsumerRecord>>,
    task: JoinHandle<std::io::Result<()>>,
    progress: Arc<Mutex<Progress>>,
    stop: Arc<AtomicBool>,
}

impl Printer {
    /// Starts printing records with `template`, at most `max` of them, to stdout.
    pub(super) fn start(template: Template, max: Option<u64>) -> Printer {
        // One poll queued while another is written: enough to overlap, and memory stays
        // bounded by two fetches' records.
        let (tx, rx) = mpsc::channel(1);
        let progress = Arc::new(Mutex::new(Progress::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let task = {
            let (progress, stop) = (progress.clone(), stop.clone());
            tokio::task::spawn_blocking(move || print_all(rx, &template, max, &progress, &stop))
        };
        Printer {
            tx,
            task,
            progress,
            stop,
        }
    }

    /// Hands one poll's records over (waiting while the previous ones are still queued);
    /// false when the printer has stopped (the reader went away or a write failed).
    pub(super) async fn send(&self, records: Vec<ConsumerRecord>) -> bool {
        self.tx.send(records).await.is_ok()
    }

    /// Positions after the last printed record of each partition, so far.
    pub(super) fn printed(&self) -> BTreeMap<TopicPartition, i64> {
        lock(&self.progress).printed.clone()
    }

    /// Stops after the poll being written (Ctrl-C): queued records are not printed.
    pub(super) fn abort(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }

    /// Waits until everything handed over is written; what was printed, or the write error.
    /// A reader that went away (`kt consume | head`) is not an error.
    pub(super) async fn finish(self) -> anyhow::Result<Progress> {
        drop(self.tx);
        let result = self.task.await.context("the printing thread failed")?;
        match result {
            Err(e) if e.kind() != ErrorKind::BrokenPipe => Err(e).context("writing to stdout"),
            _ => Ok(lock(&self.progress).clone()),
        }
    }
}

/// A poisoned lock still holds consistent progress (it is only replaced whole).
fn lock(progress: &Mutex<Progress>) -> MutexGuard<'_, Progress> {
    progress.lock().unwrap_or_else(|e| e.into_inner())
}

fn print_all(
    mut rx: mpsc::Receiver<Vec<ConsumerRecord>>,
    template: &Template,
    max: Option<u64>,
    progress: &Mutex<Progress>,
    stop: &AtomicBool,
) -> std::io::Result<()> {
    let mut out = BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let mut count = 0u64;
    while let Some(records) = rx.blocking_recv() {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        // Per partition, the position after its last record written: noted when the
        // partition changes, not per record (records of a partition come together).
        let mut ends: Vec<(&str, i32, i64)> = Vec::new();
        let mut written = Ok(());
        for r in &records {
            if max.is_some_and(|max| count >= max) {
                break;
            }
            written = template.write(
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
            if written.is_err() {
                break;
            }
            count += 1;
            match ends.last_mut() {
                Some((t, p, end)) if *t == r.topic && *p == r.partition => *end = r.offset + 1,
                _ => ends.push((r.topic.as_str(), r.partition, r.offset + 1)),
            }
        }
        let flushed = written.and_then(|()| out.flush());
        {
            let mut p = lock(progress);
            p.count = count;
            for (topic, partition, end) in ends {
                p.printed.insert(TopicPartition::new(topic, partition), end);
            }
        }
        flushed?;
        if max.is_some_and(|max| count >= max) {
            break;
        }
    }
    Ok(())
}
