//! Operators on DStreams of `(key, value)` pairs.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::hash::Hash;

use super::{DStream, Element};

/// Groups values per key in arrival order and returns the groups sorted by key.
pub(crate) fn group_sorted<K: Ord + Hash, V>(
    pairs: impl IntoIterator<Item = (K, V)>,
) -> Vec<(K, Vec<V>)> {
    let mut acc: HashMap<K, Vec<V>> = HashMap::new();
    for (k, v) in pairs {
        acc.entry(k).or_default().push(v);
    }
    let mut out: Vec<(K, Vec<V>)> = acc.into_iter().collect();
    out.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Combines values per key with `f` and returns the pairs sorted by key.
/// Hashing aggregates (word counts have far fewer keys than elements); the
/// sort afterwards makes the output order deterministic.
pub(crate) fn reduce_sorted<K: Ord + Hash, V>(
    pairs: impl IntoIterator<Item = (K, V)>,
    f: impl Fn(V, V) -> V,
) -> Vec<(K, V)> {
    let mut acc: HashMap<K, Option<V>> = HashMap::new();
    for (k, v) in pairs {
        match acc.entry(k) {
            Entry::Occupied(mut e) => {
                let slot = e.get_mut();
                *slot = Some(match slot.take() {
                    Some(old) => f(old, v),
                    None => v,
                });
            }
            Entry::Vacant(e) => {
                e.insert(Some(v));
            }
        }
    }
    let mut out: Vec<(K, V)> = acc
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect();
    out.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    out
}

impl<K, V> DStream<(K, V)>
where
    K: Element + Ord + Hash,
    V: Element,
{
    /// Combines the values of each key with `f`; one pair per key, sorted by
    /// key (PySpark's `reduceByKey`, with a deterministic order).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), kt_streaming::StreamingError> {
    /// let out = kt_streaming::testing::one_batch(&["to be or not to be"], |lines| {
    ///     lines
    ///         .flat_map(|(_key, line)| line.split(' ').map(str::to_owned).collect::<Vec<_>>())
    ///         .map(|word| (word, 1))
    ///         .reduce_by_key(|a, b| a + b)
    /// }).await?;
    /// let expect = [("be", 2), ("not", 1), ("or", 1), ("to", 2)];
    /// assert_eq!(out, expect.map(|(w, n)| (w.to_owned(), n)));
    /// # Ok(()) }
    /// ```
    pub fn reduce_by_key(&self, f: impl Fn(V, V) -> V + Send + Sync + 'static) -> DStream<(K, V)> {
        self.derive("reduce_by_key", move |parent, scope| {
            Ok(reduce_sorted(parent.pull_owned(scope)?, &f))
        })
    }

    /// Applies `f` to every value, keeping the key (PySpark's `mapValues`).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), kt_streaming::StreamingError> {
    /// let out = kt_streaming::testing::one_batch(&["a:1", "b:22"], |lines| {
    ///     lines
    ///         .map(|(_k, v)| { let (k, v) = v.split_once(':').unwrap(); (k.to_owned(), v.to_owned()) })
    ///         .map_values(|v| v.len())
    /// }).await?;
    /// assert_eq!(out, vec![("a".to_owned(), 1), ("b".to_owned(), 2)]);
    /// # Ok(()) }
    /// ```
    pub fn map_values<W: Element>(
        &self,
        f: impl Fn(V) -> W + Send + Sync + 'static,
    ) -> DStream<(K, W)> {
        self.derive("map_values", move |parent, scope| {
            Ok(parent
                .pull_owned(scope)?
                .into_iter()
                .map(|(k, v)| (k, f(v)))
                .collect())
        })
    }

    /// Applies `f` to every value and pairs the key with each result
    /// (PySpark's `flatMapValues`).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), kt_streaming::StreamingError> {
    /// let out = kt_streaming::testing::one_batch(&["x y"], |lines| {
    ///     lines
    ///         .map(|(_k, v)| ("line".to_owned(), v))
    ///         .flat_map_values(|v| v.split(' ').map(str::to_owned).collect::<Vec<_>>())
    /// }).await?;
    /// assert_eq!(out, vec![("line".to_owned(), "x".to_owned()), ("line".to_owned(), "y".to_owned())]);
    /// # Ok(()) }
    /// ```
    pub fn flat_map_values<W: Element, I: IntoIterator<Item = W>>(
        &self,
        f: impl Fn(V) -> I + Send + Sync + 'static,
    ) -> DStream<(K, W)> {
        self.derive("flat_map_values", move |parent, scope| {
            let mut out = Vec::new();
            for (k, v) in parent.pull_owned(scope)? {
                out.extend(f(v).into_iter().map(|w| (k.clone(), w)));
            }
            Ok(out)
        })
    }

    /// All values of each key in arrival order, one pair per key sorted by
    /// key (PySpark's `groupByKey`; the values print as a Python list).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), kt_streaming::StreamingError> {
    /// let out = kt_streaming::testing::one_batch(&["b 1", "a 2", "b 3"], |lines| {
    ///     lines
    ///         .map(|(_k, v)| { let (k, v) = v.split_once(' ').unwrap(); (k.to_owned(), v.to_owned()) })
    ///         .group_by_key()
    /// }).await?;
    /// assert_eq!(out, vec![
    ///     ("a".to_owned(), vec!["2".to_owned()]),
    ///     ("b".to_owned(), vec!["1".to_owned(), "3".to_owned()]),
    /// ]);
    /// # Ok(()) }
    /// ```
    pub fn group_by_key(&self) -> DStream<(K, Vec<V>)> {
        self.derive("group_by_key", |parent, scope| {
            Ok(group_sorted(parent.pull_owned(scope)?))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reduce_sorted_combines_in_arrival_order_and_sorts() {
        let pairs = vec![
            ("b", "1".to_owned()),
            ("a", "2".to_owned()),
            ("b", "3".to_owned()),
        ];
        let out = reduce_sorted(pairs, |a, b| a + &b);
        assert_eq!(out, vec![("a", "2".to_owned()), ("b", "13".to_owned())]);
        assert!(reduce_sorted(Vec::<(u8, u8)>::new(), |a, b| a + b).is_empty());
    }
}
