//! Delivery futures: one shared completion per *batch*, not a channel per record.
//!
//! A batch of ten thousand records used to mean ten thousand oneshot channels, each one an
//! allocation on `send` and a wake-up on completion. Now every record of a batch holds the
//! same [`BatchSignal`] (an `Arc` clone) plus its index, and the batch's result is written
//! once. A future registers a waker only if it is polled before the batch completes, so a
//! caller that awaits records in order pays for one registration per batch, not per record.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use crate::error::Error;
use crate::types::{RecordMetadata, TopicPartition};

/// `(base offset, log append time)` of an acknowledged batch, or why it failed.
pub(crate) type BatchResult = Result<(i64, i64), Error>;

/// The completion every record of one batch waits on.
#[derive(Debug)]
pub(crate) struct BatchSignal {
    tp: TopicPartition,
    state: Mutex<State>,
}

#[derive(Debug)]
enum State {
    Pending(Vec<Waker>),
    Done(BatchResult),
}

impl BatchSignal {
    pub(crate) fn new(tp: TopicPartition) -> Arc<BatchSignal> {
        Arc::new(BatchSignal {
            tp,
            state: Mutex::new(State::Pending(Vec::new())),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // Only whole-value replacements happen under this lock; a poisoned one is consistent.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sets the batch's result (the first one wins) and wakes every waiting record.
    pub(crate) fn finish(&self, result: BatchResult) {
        let wakers = {
            let mut st = self.lock();
            match &mut *st {
                State::Done(_) => return,
                State::Pending(w) => {
                    let wakers = std::mem::take(w);
                    *st = State::Done(result);
                    wakers
                }
            }
        };
        for w in wakers {
            w.wake();
        }
    }

    /// Whether a result has been set.
    #[cfg(test)]
    pub(crate) fn is_done(&self) -> bool {
        matches!(*self.lock(), State::Done(_))
    }
}

/// Resolves when the broker acknowledged (or the producer gave up on) one record.
#[derive(Debug)]
#[must_use = "a DeliveryFuture does nothing unless awaited; dropping it does not cancel the send"]
pub struct DeliveryFuture {
    signal: Arc<BatchSignal>,
    /// Position of the record in its batch: its offset is the batch's base offset + index.
    index: u32,
    timestamp: i64,
    /// Where this future's waker sits in the pending list, once registered.
    waker_slot: Option<usize>,
}

impl DeliveryFuture {
    pub(crate) fn new(signal: Arc<BatchSignal>, index: u32, timestamp: i64) -> Self {
        DeliveryFuture {
            signal,
            index,
            timestamp,
            waker_slot: None,
        }
    }

    fn metadata(&self, base_offset: i64, log_append_time: i64) -> RecordMetadata {
        RecordMetadata {
            topic: self.signal.tp.topic.clone(),
            partition: self.signal.tp.partition,
            offset: if base_offset < 0 {
                -1
            } else {
                base_offset + i64::from(self.index)
            },
            timestamp: if log_append_time >= 0 {
                log_append_time
            } else {
                self.timestamp
            },
        }
    }
}

impl Future for DeliveryFuture {
    type Output = Result<RecordMetadata, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let mut st = this.signal.lock();
        match &mut *st {
            State::Done(Ok((base, lat))) => Poll::Ready(Ok(this.metadata(*base, *lat))),
            State::Done(Err(e)) => Poll::Ready(Err(e.clone())),
            State::Pending(wakers) => {
                match this.waker_slot {
                    Some(i) if i < wakers.len() => {
                        if !wakers[i].will_wake(cx.waker()) {
                            wakers[i] = cx.waker().clone();
                        }
                    }
                    _ => {
                        this.waker_slot = Some(wakers.len());
                        wakers.push(cx.waker().clone());
                    }
                }
                Poll::Pending
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[tokio::test]
    async fn every_record_of_a_batch_gets_its_own_offset() {
        let signal = BatchSignal::new(TopicPartition::new("t", 3));
        let futs: Vec<_> = (0..3)
            .map(|i| DeliveryFuture::new(signal.clone(), i, 100 + i64::from(i)))
            .collect();
        let waiter = tokio::spawn(async move {
            let mut out = Vec::new();
            for f in futs {
                out.push(f.await.unwrap());
            }
            out
        });
        tokio::task::yield_now().await;
        assert!(!signal.is_done());
        signal.finish(Ok((40, -1)));
        signal.finish(Err(Error::Closed("ignored: the first result wins".into())));
        let got = waiter.await.unwrap();
        let offsets: Vec<_> = got
            .iter()
            .map(|m| (m.partition, m.offset, m.timestamp))
            .collect();
        assert_eq!(offsets, vec![(3, 40, 100), (3, 41, 101), (3, 42, 102)]);
        assert_eq!(got[0].topic, "t");
    }

    #[tokio::test]
    async fn failures_and_log_append_time_reach_every_record() {
        let signal = BatchSignal::new(TopicPartition::new("t", 0));
        let a = DeliveryFuture::new(signal.clone(), 0, 5);
        let b = DeliveryFuture::new(signal.clone(), 1, 6);
        signal.finish(Err(Error::Closed("gone".into())));
        assert!(a.await.is_err());
        assert!(b.await.is_err());

        let signal = BatchSignal::new(TopicPartition::new("t", 0));
        let acks0 = DeliveryFuture::new(signal.clone(), 1, 6);
        signal.finish(Ok((-1, 777)));
        let md = acks0.await.unwrap();
        assert_eq!((md.offset, md.timestamp), (-1, 777));
    }
}
