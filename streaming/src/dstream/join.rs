//! Joins of two keyed streams, batch by batch (PySpark's `join`,
//! `leftOuterJoin`): the elements of this batch of one stream meet the
//! elements of the same batch of the other. Window both streams to join over
//! longer spans.
//!
//! Output order is deterministic: sorted by key; within a key, every left
//! value in arrival order, each paired with every right value in arrival order.

use std::hash::Hash;
use std::sync::Arc;

use super::pair::group_sorted;
use super::{DStream, Element};

impl<K, V> DStream<(K, V)>
where
    K: Element + Ord + Hash,
    V: Element,
{
    /// Pairs each key's values in this stream with its values in `other`
    /// (inner join; PySpark's `join`). Both streams must have the same slide.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), kt_streaming::StreamingError> {
    /// let out = kt_streaming::testing::one_batch(&["GET /a", "GET /b", "POST /a"], |lines| {
    ///     let requests = lines.map(|(_k, v)| { let (m, p) = v.split_once(' ').unwrap(); (p.to_owned(), m.to_owned()) });
    ///     let posts = requests.filter(|(_p, m)| m == "POST");
    ///     let gets = requests.filter(|(_p, m)| m == "GET");
    ///     posts.join(&gets)
    /// }).await?;
    /// // Only /a was both posted and fetched.
    /// assert_eq!(out, vec![("/a".to_owned(), ("POST".to_owned(), "GET".to_owned()))]);
    /// # Ok(()) }
    /// ```
    pub fn join<W: Element>(&self, other: &DStream<(K, W)>) -> DStream<(K, (V, W))> {
        self.join_with(other, "join", |left, right, out| {
            for v in left {
                for w in right {
                    out.push((v.clone(), w.clone()));
                }
            }
        })
    }

    /// Like [`join`](Self::join), keeping left elements without a match,
    /// paired with `None` (PySpark's `leftOuterJoin`).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), kt_streaming::StreamingError> {
    /// let out = kt_streaming::testing::one_batch(&["a", "b"], |lines| {
    ///     let left = lines.map(|(_k, v)| (v, 1));
    ///     let right = left.filter(|(k, _)| k == "a").map_values(|n| n * 10);
    ///     left.left_outer_join(&right)
    /// }).await?;
    /// assert_eq!(out, vec![("a".to_owned(), (1, Some(10))), ("b".to_owned(), (1, None))]);
    /// # Ok(()) }
    /// ```
    pub fn left_outer_join<W: Element>(
        &self,
        other: &DStream<(K, W)>,
    ) -> DStream<(K, (V, Option<W>))> {
        self.join_with(other, "left_outer_join", |left, right, out| {
            for v in left {
                if right.is_empty() {
                    out.push((v.clone(), None));
                }
                for w in right {
                    out.push((v.clone(), Some(w.clone())));
                }
            }
        })
    }

    fn join_with<W: Element, R: Element>(
        &self,
        other: &DStream<(K, W)>,
        name: &'static str,
        combine: impl Fn(&[V], &[W], &mut Vec<R>) + Send + Sync + 'static,
    ) -> DStream<(K, R)> {
        self.check_same_graph(other, name);
        other.node.add_consumer();
        let right_node = Arc::clone(&other.node);
        self.derive(name, move |left_node, scope| {
            let left = group_sorted(left_node.pull_owned(scope)?);
            let mut right: std::collections::BTreeMap<K, Vec<W>> =
                group_sorted(right_node.pull_owned(scope)?)
                    .into_iter()
                    .collect();
            let mut out = Vec::new();
            let mut combined = Vec::new();
            for (k, vs) in left {
                let ws = right.remove(&k).unwrap_or_default();
                combined.clear();
                combine(&vs, &ws, &mut combined);
                out.extend(combined.drain(..).map(|r| (k.clone(), r)));
            }
            Ok(out)
        })
    }
}
