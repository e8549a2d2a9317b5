//! A DStream's node: how to compute its elements for a batch, and a memo so
//! a DStream with several children computes once per batch.
//!
//! Elements are handed to children by value (`map` gets `T`, not `&T`, as in
//! PySpark). With one consumer the node computes and hands its vector over;
//! with several, it keeps the result for the batch and hands out shared
//! copies, and the last consumer takes the vector itself, so only the other
//! consumers pay for cloning.
//!
//! Every node has a *slide*: the batch times at which it produces a batch
//! (Spark's `slideDuration`/`isTimeValid`). It is the batch interval for all
//! streams except windowed ones and their descendants, whose batches exist
//! only at multiples of the window's slide (aligned to the Unix epoch, like
//! batch times). At other batch times [`Node::pull_opt`] returns `None`, and
//! outputs on such a stream do nothing that batch (as Spark's do).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::error::StreamingError;
use crate::graph::{BatchCache, BatchScope};
use crate::time::BatchTime;

pub(crate) type ComputeFn<T> =
    Box<dyn Fn(&BatchScope) -> Result<Vec<T>, StreamingError> + Send + Sync>;

struct Cached<T> {
    time: BatchTime,
    data: Arc<Vec<T>>,
    /// Consumers that have not pulled yet this batch.
    remaining: usize,
}

pub(crate) struct Node<T> {
    pub(crate) name: &'static str,
    /// Batches exist at multiples of this many ms (see the module docs).
    pub(crate) slide_ms: i64,
    compute: ComputeFn<T>,
    consumers: AtomicUsize,
    cache: Mutex<Option<Cached<T>>>,
}

impl<T> std::fmt::Debug for Node<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node")
            .field("name", &self.name)
            .field("slide_ms", &self.slide_ms)
            .field("consumers", &self.consumers.load(Ordering::Relaxed))
            .finish()
    }
}

impl<T: Send + Sync> Node<T> {
    pub(crate) fn new(name: &'static str, slide_ms: i64, compute: ComputeFn<T>) -> Self {
        Node {
            name,
            slide_ms,
            compute,
            consumers: AtomicUsize::new(0),
            cache: Mutex::new(None),
        }
    }

    /// Called once per child operator or output when the graph is built.
    pub(crate) fn add_consumer(&self) {
        self.consumers.fetch_add(1, Ordering::Relaxed);
    }

    /// Whether this stream has a batch at `time`.
    pub(crate) fn valid_at(&self, time: BatchTime) -> bool {
        self.slide_ms <= 0 || time.millis().rem_euclid(self.slide_ms) == 0
    }

    /// This batch's elements, or `None` when the stream has no batch at this
    /// time (see the module docs).
    pub(crate) fn pull_opt(
        &self,
        scope: &BatchScope,
    ) -> Result<Option<Arc<Vec<T>>>, StreamingError> {
        if !self.valid_at(scope.time()) {
            return Ok(None);
        }
        self.pull_valid(scope).map(Some)
    }

    /// This batch's elements; empty when the stream has no batch at this time.
    /// Operators call it on parents with their own slide, so for them the
    /// parent is always valid when they are.
    pub(crate) fn pull(&self, scope: &BatchScope) -> Result<Arc<Vec<T>>, StreamingError> {
        Ok(self.pull_opt(scope)?.unwrap_or_default())
    }

    /// Computes at most once per batch while other consumers are still to pull.
    fn pull_valid(&self, scope: &BatchScope) -> Result<Arc<Vec<T>>, StreamingError> {
        let consumers = self.consumers.load(Ordering::Relaxed);
        if consumers <= 1 {
            return Ok(Arc::new((self.compute)(scope)?));
        }
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(entry) = cache.as_mut().filter(|c| c.time == scope.time()) {
            entry.remaining = entry.remaining.saturating_sub(1);
            if entry.remaining == 0 {
                // Last consumer: give it the only remaining reference.
                return cache
                    .take()
                    .map(|c| c.data)
                    .ok_or(StreamingError::Internal("node cache vanished"));
            }
            return Ok(Arc::clone(&entry.data));
        }
        let data = Arc::new((self.compute)(scope)?);
        *cache = Some(Cached {
            time: scope.time(),
            data: Arc::clone(&data),
            remaining: consumers - 1,
        });
        Ok(data)
    }

    /// This batch's elements as an owned vector (cloned only when shared).
    pub(crate) fn pull_owned(&self, scope: &BatchScope) -> Result<Vec<T>, StreamingError>
    where
        T: Clone,
    {
        Ok(Arc::unwrap_or_clone(self.pull(scope)?))
    }
}

impl<T: Send + Sync> BatchCache for Node<T> {
    fn clear(&self) {
        *self.cache.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }
}
