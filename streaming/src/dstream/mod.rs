//! [`DStream`]: a stream of batches and its operators.
//!
//! Operators build the graph; nothing runs until the context starts. Each
//! operator returns a new DStream; the same DStream may feed several
//! operators and outputs (it is computed once per batch).
//! Element order is kept by `map`, `flat_map` and `filter` (input records come
//! ordered by partition, then offset); `reduce_by_key` and `count_by_value`
//! output sorted by key, so text output is deterministic.

pub(crate) mod node;
mod output;
mod pair;

use std::hash::Hash;
use std::sync::Arc;

use node::{ComputeFn, Node};

use crate::graph::{BatchScope, Shared};

pub use output::OutputResult;

/// What a DStream can hold: elements are shared between operators on a
/// worker thread and cloned when one batch feeds several children.
pub trait Element: Clone + Send + Sync + 'static {}
impl<T: Clone + Send + Sync + 'static> Element for T {}

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

    /// A child DStream whose batches are computed from this one's.
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
        DStream::from_node(Node::new(name, compute), Arc::clone(&self.ctx))
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
