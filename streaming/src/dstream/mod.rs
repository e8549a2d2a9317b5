//! [`DStream`]: a stream of batches and its operators.
//!
//! Operators build the graph; nothing runs until the context starts. Each
//! operator returns a new DStream; the same DStream may feed several
//! operators and outputs (it is computed once per batch).
//! Element order is kept by `map`, `flat_map` and `filter` (input records come
//! ordered by partition, then offset); `reduce_by_key` and `count_by_value`
//! output sorted by key, so text output is deterministic.

mod join;
pub(crate) mod node;
mod output;
mod pair;
mod state;
mod window;

use std::hash::Hash;
use std::sync::Arc;

use node::{ComputeFn, Node};

use crate::graph::{BatchScope, Shared};

pub use output::OutputResult;

/// What a DStream can hold: elements are shared between operators on a
/// worker thread and cloned when one batch feeds several children.
pub trait Element: Clone + Send + Sync + 'static {}
impl<T: Clone + Send + Sync + 'static> Element for T {}

/// What stateful operators (windows, `update_state_by_key`) can keep: their
/// state is saved in the checkpoint as JSON, so it must (de)serialize with
/// serde. Strings, numbers, tuples, `Vec`, `Option` and `#[derive(Serialize,
/// Deserialize)]` types qualify.
pub trait Checkpointable: Element + serde::Serialize + serde::de::DeserializeOwned {}
impl<T: Element + serde::Serialize + serde::de::DeserializeOwned> Checkpointable for T {}

/// A discretized stream: one vector of elements per batch (Spark's DStream).
pub struct DStream<T> {
    pub(crate) node: Arc<Node<T>>,
    pub(crate) ctx: Arc<Shared>,
}

impl<T> Clone for DStream<T> {
    fn clone(&self) -> Self {
        DStream {
            node: Arc::clone(&self.node),
            ctx: Arc::clone(&self.ctx),
        }
    }
}

impl<T> std::fmt::Debug for DStream<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DStream").field("node", &self.node).finish()
    }
}

impl<T: Element> DStream<T> {
    pub(crate) fn from_node(node: Node<T>, ctx: Arc<Shared>) -> Self {
        let node = Arc::new(node);
        ctx.register_cache(node.clone());
        DStream { node, ctx }
    }

    /// A child DStream whose batches are computed from this one's (same slide).
    fn derive<U: Element>(
        &self,
        name: &'static str,
        compute: impl Fn(&Node<T>, &BatchScope) -> Result<Vec<U>, crate::StreamingError>
        + Send
        + Sync
        + 'static,
    ) -> DStream<U> {
        self.node.add_consumer();
        let parent = Arc::clone(&self.node);
        let compute: ComputeFn<U> = Box::new(move |scope| compute(&parent, scope));
        DStream::from_node(
            Node::new(name, self.node.slide_ms, compute),
            Arc::clone(&self.ctx),
        )
    }

    /// The interval between this stream's batches: the batch interval, or a
    /// window's slide for windowed streams and streams derived from them.
    pub fn slide_duration(&self) -> std::time::Duration {
        match u64::try_from(self.node.slide_ms) {
            Ok(ms) if ms > 0 => std::time::Duration::from_millis(ms),
            _ => self.ctx.interval,
        }
    }

    /// The slide in ms as operators compare it (0 and the interval are the same).
    fn slide_ms_effective(&self) -> i64 {
        match self.node.slide_ms {
            ms if ms > 0 => ms,
            _ => self.ctx.interval_ms().unwrap_or(0),
        }
    }

    /// Records a graph error unless both streams belong to one context and
    /// have the same slide (Spark requires the same for union and join).
    fn check_same_graph<U: Element>(&self, other: &DStream<U>, operation: &str) -> bool {
        if !Arc::ptr_eq(&self.ctx, &other.ctx) {
            self.ctx.graph_error(format!(
                "{operation}: the two streams belong to different streaming contexts"
            ));
            return false;
        }
        if self.slide_ms_effective() != other.slide_ms_effective() {
            self.ctx.graph_error(format!(
                "{operation}: the streams have different slide durations ({:?} and {:?}); \
                 window both the same way",
                self.slide_duration(),
                other.slide_duration()
            ));
            return false;
        }
        true
    }

    /// Applies `f` to each batch as a whole (PySpark's `transform`): sort,
    /// deduplicate, take the top N, anything that needs the entire batch.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), kt_streaming::StreamingError> {
    /// let out = kt_streaming::testing::one_batch(&["b", "a", "b"], |lines| {
    ///     lines.map(|(_key, v)| v).transform(|mut batch| {
    ///         batch.sort();
    ///         batch.dedup();
    ///         batch
    ///     })
    /// }).await?;
    /// assert_eq!(out, vec!["a", "b"]);
    /// # Ok(()) }
    /// ```
    pub fn transform<U: Element>(
        &self,
        f: impl Fn(Vec<T>) -> Vec<U> + Send + Sync + 'static,
    ) -> DStream<U> {
        self.derive("transform", move |parent, scope| {
            Ok(f(parent.pull_owned(scope)?))
        })
    }

    /// Like [`transform`](Self::transform), also given the batch time
    /// (PySpark's `transform(lambda time, rdd: ...)`).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), kt_streaming::StreamingError> {
    /// let out = kt_streaming::testing::one_batch(&["x"], |lines| {
    ///     lines.transform_with_time(|time, batch| vec![(time.millis() > 0, batch.len())])
    /// }).await?;
    /// assert_eq!(out, vec![(true, 1)]);
    /// # Ok(()) }
    /// ```
    pub fn transform_with_time<U: Element>(
        &self,
        f: impl Fn(crate::BatchTime, Vec<T>) -> Vec<U> + Send + Sync + 'static,
    ) -> DStream<U> {
        self.derive("transform", move |parent, scope| {
            Ok(f(scope.time(), parent.pull_owned(scope)?))
        })
    }

    /// Both streams' elements: this one's, then `other`'s (PySpark's `union`).
    /// The streams must have the same slide; otherwise `start` fails with
    /// [`StreamingError::InvalidGraph`](crate::StreamingError::InvalidGraph).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), kt_streaming::StreamingError> {
    /// let out = kt_streaming::testing::one_batch(&["a b"], |lines| {
    ///     let words = lines.flat_map(|(_k, v)| v.split(' ').map(str::to_owned).collect::<Vec<_>>());
    ///     let shouted = words.map(|w| w.to_uppercase());
    ///     words.union(&shouted)
    /// }).await?;
    /// assert_eq!(out, vec!["a", "b", "A", "B"]);
    /// # Ok(()) }
    /// ```
    pub fn union(&self, other: &DStream<T>) -> DStream<T> {
        self.check_same_graph(other, "union");
        other.node.add_consumer();
        let second = Arc::clone(&other.node);
        self.derive("union", move |first, scope| {
            let mut items = first.pull_owned(scope)?;
            items.extend(second.pull_owned(scope)?);
            Ok(items)
        })
    }

    /// Applies `f` to every element (PySpark's `map`).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), kt_streaming::StreamingError> {
    /// let out = kt_streaming::testing::one_batch(&["hello world", "hi"], |lines| {
    ///     lines.map(|(_key, value)| value.len())
    /// }).await?;
    /// assert_eq!(out, vec![11, 2]);
    /// # Ok(()) }
    /// ```
    pub fn map<U: Element>(&self, f: impl Fn(T) -> U + Send + Sync + 'static) -> DStream<U> {
        self.derive("map", move |parent, scope| {
            Ok(parent.pull_owned(scope)?.into_iter().map(&f).collect())
        })
    }

    /// Applies `f` to every element and concatenates the results (PySpark's `flatMap`).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), kt_streaming::StreamingError> {
    /// let out = kt_streaming::testing::one_batch(&["a b", "c"], |lines| {
    ///     lines.flat_map(|(_key, line)| line.split(' ').map(str::to_owned).collect::<Vec<_>>())
    /// }).await?;
    /// assert_eq!(out, vec!["a", "b", "c"]);
    /// # Ok(()) }
    /// ```
    pub fn flat_map<U: Element, I: IntoIterator<Item = U>>(
        &self,
        f: impl Fn(T) -> I + Send + Sync + 'static,
    ) -> DStream<U> {
        self.derive("flat_map", move |parent, scope| {
            Ok(parent.pull_owned(scope)?.into_iter().flat_map(&f).collect())
        })
    }

    /// Keeps the elements for which `f` holds (PySpark's `filter`).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), kt_streaming::StreamingError> {
    /// let out = kt_streaming::testing::one_batch(&["GET /", "", "POST /x"], |lines| {
    ///     lines.map(|(_key, line)| line).filter(|line| !line.is_empty())
    /// }).await?;
    /// assert_eq!(out, vec!["GET /", "POST /x"]);
    /// # Ok(()) }
    /// ```
    pub fn filter(&self, f: impl Fn(&T) -> bool + Send + Sync + 'static) -> DStream<T> {
        self.derive("filter", move |parent, scope| {
            let mut items = parent.pull_owned(scope)?;
            items.retain(|item| f(item));
            Ok(items)
        })
    }

    /// One element per batch: the number of elements (PySpark's `count`).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), kt_streaming::StreamingError> {
    /// let out = kt_streaming::testing::one_batch(&["a", "b", "c"], |lines| lines.count()).await?;
    /// assert_eq!(out, vec![3]);
    /// # Ok(()) }
    /// ```
    pub fn count(&self) -> DStream<u64> {
        self.derive("count", |parent, scope| {
            Ok(vec![parent.pull(scope)?.len() as u64])
        })
    }

    /// Counts each distinct element, sorted by element (PySpark's `countByValue`).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), kt_streaming::StreamingError> {
    /// let out = kt_streaming::testing::one_batch(&["b", "a", "b"], |lines| {
    ///     lines.map(|(_key, v)| v).count_by_value()
    /// }).await?;
    /// assert_eq!(out, vec![("a".to_owned(), 1), ("b".to_owned(), 2)]);
    /// # Ok(()) }
    /// ```
    pub fn count_by_value(&self) -> DStream<(T, u64)>
    where
        T: Ord + Hash,
    {
        self.derive("count_by_value", |parent, scope| {
            let items = parent.pull_owned(scope)?;
            Ok(pair::reduce_sorted(
                items.into_iter().map(|item| (item, 1u64)),
                |a, b| a + b,
            ))
        })
    }
}
