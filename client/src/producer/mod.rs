//! The producer: partitioning, batching, back-pressure, delivery futures.
//!
//! `send` picks the partition (explicit, murmur2 of the key, or sticky), waits for buffer
//! memory (`buffer_memory` bytes; this is the back-pressure), appends the record to its
//! partition's open batch and returns a [`DeliveryFuture`]. A background task
//! (`sender.rs`) sends ready batches. Records of one partition are delivered in order.
//!
//! Idempotence is on by default (`idempotence.rs`, `init.rs`): a producer id from
//! InitProducerId and per-partition sequence numbers let the broker drop retried batches it
//! already has. Transactions are not implemented. Without idempotence a retry after a lost
//! response can duplicate a batch, as with the Java client when `enable.idempotence=false`.

mod accumulator;
mod delivery;
mod idempotence;
mod init;
mod request;
mod sender;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use tokio::sync::{Notify, Semaphore};

use crate::cluster::Cluster;
use crate::config::ProducerConfig;
use crate::error::{Error, KafkaCode};
use crate::partitioner::partition_for_key;
use crate::records::{BATCH_HEADER_LEN, BatchBuilder};
use crate::types::{ProducerRecord, TopicPartition};
use accumulator::{Accumulator, Incomplete};
pub use delivery::DeliveryFuture;

/// State shared by producer handles and the sender task.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) cluster: Arc<Cluster>,
    pub(crate) config: ProducerConfig,
    config_error: Option<Error>,
    acc: std::sync::Mutex<Accumulator>,
    pub(crate) incomplete: Incomplete,
    memory: Arc<Semaphore>,
    pub(crate) wakeup: Notify,
    pub(crate) stopping: AtomicBool,
}

impl Shared {
    pub(crate) fn lock_acc(&self) -> std::sync::MutexGuard<'_, Accumulator> {
        // The accumulator is only changed in short, non-panicking sections; recovering a
        // poisoned lock keeps the producer usable.
        self.acc.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Stops the sender (after it drains) when the last producer handle is dropped.
#[derive(Debug)]
struct StopOnDrop(Arc<Shared>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.lock_acc().closing = true;
        self.0.stopping.store(true, Ordering::Release);
        self.0.wakeup.notify_one();
    }
}

/// A Kafka producer. Clones share the same buffer and sender task.
#[derive(Clone, Debug)]
pub struct Producer {
    shared: Arc<Shared>,
    _stop: Arc<StopOnDrop>,
    task: Arc<std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>>,
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

impl Producer {
    pub(crate) fn new(cluster: Arc<Cluster>, config: ProducerConfig) -> Producer {
        let config_error = config.validate().err();
        let permits = config.buffer_memory.min(Semaphore::MAX_PERMITS);
        let shared = Arc::new(Shared {
            acc: std::sync::Mutex::new(Accumulator::new(&config)),
            cluster,
            config,
            config_error,
            incomplete: Incomplete::default(),
            memory: Arc::new(Semaphore::new(permits)),
            wakeup: Notify::new(),
            stopping: AtomicBool::new(false),
        });
        let task = tokio::spawn(sender::run(shared.clone()));
        Producer {
            _stop: Arc::new(StopOnDrop(shared.clone())),
            shared,
            task: Arc::new(std::sync::Mutex::new(Some(task))),
        }
    }

    /// Enqueues a record; waits for buffer space when the buffer is full (back-pressure).
    ///
    /// The returned future resolves with the record's offset once the broker acknowledged it.
    /// Metadata is waited for only for a topic not seen before (or a partition beyond the known
    /// count): while a broker is briefly away, records of known topics are queued and the
    /// sender retries them until `delivery_timeout`.
    pub async fn send(&self, record: ProducerRecord) -> Result<DeliveryFuture, Error> {
        let sh = &self.shared;
        if let Some(e) = &sh.config_error {
            return Err(e.clone());
        }
        if sh.stopping.load(Ordering::Acquire) {
            return Err(Error::Closed("producer is closed".into()));
        }
        let size = BATCH_HEADER_LEN
            + BatchBuilder::record_size_upper_bound(
                record.key.as_deref(),
                record.value.as_deref(),
                &record.headers,
            );
        if size > sh.config.max_request_size {
            return Err(Error::RecordTooLarge {
                size,
                limit: sh.config.max_request_size,
                setting: "max_request_size",
            });
        }
        let ProducerRecord {
            topic,
            partition,
            key,
            value,
            headers,
            timestamp,
        } = record;
        // Fresh metadata, else a partition count known from earlier metadata (refreshed
        // meanwhile on a task of its own): a broker that is briefly away — restarting, refusing
        // connections — neither fails nor holds up `send`; the sender retries the delivery.
        // Only a topic never seen, or a partition beyond the known count, waits for metadata.
        let partitions = match sh.cluster.cached_partition_count(&topic) {
            Some(n) => n,
            None => match sh.cluster.known_partition_count(&topic) {
                Some(n) if partition.is_none_or(|p| p < n) => {
                    sh.cluster.refresh_in_background();
                    n
                }
                _ => sh.cluster.topic(&topic).await?.partition_count(),
            },
        };
        if let Some(p) = partition
            && (p < 0 || p >= partitions)
        {
            return Err(Error::kafka(
                KafkaCode::UnknownTopicOrPartition,
                format!("partition {p} of '{topic}' (it has {partitions} partitions)"),
            ));
        }
        let permits = u32::try_from(size).unwrap_or(u32::MAX);
        let memory = sh
            .memory
            .clone()
            .acquire_many_owned(permits)
            .await
            .map_err(|_| Error::Closed("producer is closed".into()))?;
        let timestamp = timestamp.unwrap_or_else(now_ms);
        let appended = {
            let mut acc = sh.lock_acc();
            let sticky = partition.is_none() && key.is_none();
            let partition = match (partition, &key) {
                (Some(p), _) => p,
                (None, Some(key)) => partition_for_key(key, partitions),
                (None, None) => acc.sticky.partition(&topic, partitions),
            };
            // The record's topic string moves into the key: no copy per record.
            let tp = TopicPartition::new(topic, partition);
            let appended = acc.append(
                &tp,
                timestamp,
                key.as_deref(),
                value.as_deref(),
                &headers,
                memory,
                &sh.incomplete,
            )?;
            if appended.full && sticky {
                acc.sticky.on_new_batch(&tp.topic, partition, partitions);
            }
            appended
        };
        if appended.wake {
            sh.wakeup.notify_one();
        }
        Ok(DeliveryFuture::new(
            appended.signal,
            appended.index,
            timestamp,
        ))
    }

    /// Sends everything enqueued so far and waits until each record is acknowledged or
    /// failed (failures are reported through the records' delivery futures).
    pub async fn flush(&self) -> Result<(), Error> {
        let sh = &self.shared;
        let up_to = {
            let mut acc = sh.lock_acc();
            let last = acc.next_batch_id().saturating_sub(1);
            acc.flush_up_to = acc.flush_up_to.max(last);
            last
        };
        sh.wakeup.notify_one();
        loop {
            let changed = sh.incomplete.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            if !sh.incomplete.any_up_to(up_to) {
                return Ok(());
            }
            if self.sender_finished() {
                return Err(Error::Closed("the producer's sender task stopped".into()));
            }
            changed.await;
        }
    }

    fn sender_finished(&self) -> bool {
        self.task
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .is_none_or(tokio::task::JoinHandle::is_finished)
    }

    /// Flushes, then stops the background sender. Other clones stop working too.
    pub async fn close(self) -> Result<(), Error> {
        let flushed = self.flush().await;
        self.shared.lock_acc().closing = true;
        self.shared.stopping.store(true, Ordering::Release);
        self.shared.wakeup.notify_one();
        let task = self.task.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(t) = task {
            t.await
                .map_err(|e| Error::Closed(format!("producer sender task failed: {e}")))?;
        }
        flushed
    }
}

#[cfg(test)]
mod idempotence_tests;
#[cfg(test)]
pub(crate) mod tests;
