//! Operators on DStreams of `(key, value)` pairs.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::hash::Hash;

use super::{DStream, Element};

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
