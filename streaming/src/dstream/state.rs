//! `update_state_by_key`: state per key kept across batches (Spark's
//! `updateStateByKey`).

use std::collections::BTreeMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

use super::node::Node;
use super::pair::group_sorted;
use super::window::{Internal, lock, state_error};
use super::{Checkpointable, DStream, Element};
use crate::error::StreamingError;
use crate::graph::{BatchScope, StatefulOp};
use crate::time::BatchTime;

struct StateInner<K, S> {
    committed: BTreeMap<K, S>,
    pending: Option<(i64, BTreeMap<K, S>)>,
}

struct StateOp<K, S> {
    inner: Mutex<StateInner<K, S>>,
}

impl<K: Checkpointable + Ord, S: Checkpointable> StatefulOp for StateOp<K, S> {
    fn kind(&self) -> &'static str {
        "update_state_by_key"
    }

    fn snapshot(&self) -> Result<serde_json::Value, StreamingError> {
        let inner = lock(&self.inner);
        let state = inner.pending.as_ref().map_or(&inner.committed, |(_, s)| s);
        let pairs: Vec<(&K, &S)> = state.iter().collect();
        serde_json::to_value(pairs).map_err(|e| state_error("update_state_by_key", e))
    }

    fn restore(&self, state: serde_json::Value) -> Result<(), StreamingError> {
        let pairs: Vec<(K, S)> =
            serde_json::from_value(state).map_err(|e| state_error("update_state_by_key", e))?;
        let mut inner = lock(&self.inner);
        inner.committed = pairs.into_iter().collect();
        inner.pending = None;
        Ok(())
    }

    fn commit(&self, time: BatchTime) {
        let mut inner = lock(&self.inner);
        if let Some((t, s)) = inner.pending.take()
            && t == time.millis()
        {
            inner.committed = s;
        }
    }

    fn abort(&self) {
        lock(&self.inner).pending = None;
    }
}

impl<K, V> DStream<(K, V)>
where
    K: Element + Ord + Hash,
    V: Element,
{
    /// State per key across batches (PySpark's `updateStateByKey`): every
    /// batch, `f(new_values, old_state)` is called for each key that has new
    /// values or a state — new values in arrival order, an empty vector when
    /// the key had none this batch — and returns the new state, or `None` to
    /// drop the key. The stream holds every `(key, state)`, sorted by key.
    ///
    /// The state is updated every batch, whether or not an output reads the
    /// stream that batch; it is committed with the batch's offsets and saved
    /// in the checkpoint (see [`StreamingContext::checkpoint`](crate::StreamingContext::checkpoint)).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), kt_streaming::StreamingError> {
    /// let out = kt_streaming::testing::one_batch(&["a", "b", "a"], |lines| {
    ///     lines
    ///         .map(|(_k, word)| (word, 1u64))
    ///         .update_state_by_key(|new: Vec<u64>, total: Option<u64>| {
    ///             Some(total.unwrap_or(0) + new.iter().sum::<u64>())
    ///         })
    /// }).await?;
    /// assert_eq!(out, vec![("a".to_owned(), 2), ("b".to_owned(), 1)]);
    /// # Ok(()) }
    /// ```
    pub fn update_state_by_key<S>(
        &self,
        f: impl Fn(Vec<V>, Option<S>) -> Option<S> + Send + Sync + 'static,
    ) -> DStream<(K, S)>
    where
        K: Checkpointable,
        S: Checkpointable,
    {
        let op = Arc::new(StateOp {
            inner: Mutex::new(StateInner {
                committed: BTreeMap::<K, S>::new(),
                pending: None,
            }),
        });
        self.ctx.register_stateful(op.clone());
        let stream = self.derive("update_state_by_key", move |parent, scope| {
            let mut groups: BTreeMap<K, Vec<V>> = group_sorted(parent.pull_owned(scope)?)
                .into_iter()
                .collect();
            let mut inner = lock(&op.inner);
            let mut next = BTreeMap::new();
            for (k, old) in &inner.committed {
                let new = groups.remove(k).unwrap_or_default();
                if let Some(s) = f(new, Some(old.clone())) {
                    next.insert(k.clone(), s);
                }
            }
            for (k, new) in groups {
                if let Some(s) = f(new, None) {
                    next.insert(k, s);
                }
            }
            let out = next.iter().map(|(k, s)| (k.clone(), s.clone())).collect();
            inner.pending = Some((scope.time().millis(), next));
            Ok(out)
        });
        // Pull the stream every batch so no batch's values are missed.
        stream.node.add_consumer();
        let node: Arc<Node<(K, S)>> = Arc::clone(&stream.node);
        self.ctx.add_internal(Box::new(Internal {
            name: "update_state_by_key",
            run: move |scope: &BatchScope| node.pull_opt(scope).map(|_| ()),
        }));
        stream
    }
}
