//! A DStream's node: how to compute its elements for a batch, and a memo so
//! a DStream with several children computes once per batch.
//!
//! Elements are handed to children by value (`map` gets `T`, not `&T`, as in
//! PySpark). With one consumer the node computes and hands its vector over;
//! with several, it keeps the result for the batch and hands out shared
//! copies, and the last consumer takes the vector itself, so only the other
//! consumers pay for cloning.

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
    compute: ComputeFn<T>,
    consumers: AtomicUsize,
    cache: Mutex<Option<Cached<T>>>,
}

impl<T> std::fmt::Debug for Node<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node")
            .field("name", &self.name)
            .field("consumers", &self.consumers.load(Ordering::Relaxed))
            .finish()
    }
}

impl<T: Send + Sync> Node<T> {
    pub(crate) fn new(name: &'static str, compute: ComputeFn<T>) -> Self {
        Node {
            name,
            compute,
            consumers: AtomicUsize::new(0),
            cache: Mutex::new(None),
        }
    }

    /// Called once per child operator or output when the graph is built.
    pub(crate) fn add_consumer(&self) {
        self.consumers.fetch_add(1, Ordering::Relaxed);
    }

    /// This batch's elements, computed at most once per batch while other
    /// consumers are still to pull them.
    pub(crate) fn pull(&self, scope: &BatchScope) -> Result<Arc<Vec<T>>, StreamingError> {
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
