//! The tutorial's word count for one batch, in one pass over the batch's lines.
//!
//! `lines.flatMap(split(" ")).map((w, 1)).reduceByKey(add)` is what the job computes, and what
//! [`count_words`] returns for a batch: every word of every line (split on single spaces, so
//! two spaces in a row count an empty word, as Python's `split(" ")` does) with its count,
//! sorted by word. Written as a chain of DStream operators, a batch of a million lines makes
//! ten million `String`s and two intermediate vectors before the first count; here words are
//! counted as slices of the lines they are in, in a hash map per thread (the batch split
//! between the machine's cores, like Spark's map-side combine before the shuffle), and a word
//! becomes a `String` once per batch, when the counts are collected.

use std::collections::HashMap;

use foldhash::fast::RandomState;

/// Lines below this are counted on the calling thread: threads cost more than they save.
const PARALLEL_MIN_LINES: usize = 20_000;

type Counts<'a> = HashMap<&'a str, u64, RandomState>;

/// Word counts of `lines` (a batch of `(key, value)` records; keys are ignored), sorted by
/// word.
pub fn count_words(lines: &[(Option<String>, String)]) -> Vec<(String, u64)> {
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .min(lines.len() / PARALLEL_MIN_LINES)
        .max(1);
    let merged = if threads == 1 {
        count_slice(lines)
    } else {
        let chunk = lines.len().div_ceil(threads);
        let mut parts: Vec<Counts<'_>> = std::thread::scope(|s| {
            let handles: Vec<_> = lines
                .chunks(chunk)
                .map(|part| s.spawn(move || count_slice(part)))
                .collect();
            handles
                .into_iter()
                // A panic in a counting thread is re-raised here; the engine turns a panic in
                // an operator into a failed batch.
                .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect()
        });
        let mut merged = parts.pop().unwrap_or_default();
        for part in parts {
            for (word, n) in part {
                *merged.entry(word).or_insert(0) += n;
            }
        }
        merged
    };
    let mut out: Vec<(String, u64)> = merged
        .into_iter()
        .map(|(word, n)| (word.to_owned(), n))
        .collect();
    out.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    out
}

fn count_slice(lines: &[(Option<String>, String)]) -> Counts<'_> {
    let mut counts = Counts::with_capacity_and_hasher(1024, RandomState::default());
    for (_key, line) in lines {
        for word in line.split(' ') {
            *counts.entry(word).or_insert(0) += 1;
        }
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    /// The operator chain the job stands for, written out naively.
    fn reference(lines: &[(Option<String>, String)]) -> Vec<(String, u64)> {
        let mut m: BTreeMap<String, u64> = BTreeMap::new();
        for (_, line) in lines {
            for w in line.split(' ').map(str::to_owned) {
                *m.entry(w).or_insert(0) += 1;
            }
        }
        m.into_iter().collect()
    }

    fn batch(lines: &[&str]) -> Vec<(Option<String>, String)> {
        lines.iter().map(|l| (None, (*l).to_owned())).collect()
    }

    #[test]
    fn counts_like_split_on_spaces() {
        let b = batch(&["to be or not to be", "", "a  b", "be"]);
        let got = count_words(&b);
        assert_eq!(got, reference(&b));
        assert_eq!(
            got[0],
            (String::new(), 2),
            "an empty line and a double space"
        );
        assert!(got.contains(&("be".to_owned(), 3)));
        assert!(count_words(&[]).is_empty());
    }

    #[test]
    fn large_batches_are_split_across_threads_and_merged() {
        let words = ["alpha", "beta", "gamma", "delta", "é", ""];
        let lines: Vec<(Option<String>, String)> = (0..PARALLEL_MIN_LINES * 3 + 7)
            .map(|i| {
                let line: Vec<&str> = (0..(i % 7)).map(|j| words[(i + j) % words.len()]).collect();
                (Some("k".to_owned()), line.join(" "))
            })
            .collect();
        assert_eq!(count_words(&lines), reference(&lines));
    }

    proptest! {
        #[test]
        fn same_as_the_operator_chain(lines in proptest::collection::vec("[ab é]{0,12}", 0..60)) {
            let b: Vec<_> = lines.into_iter().map(|l| (None, l)).collect();
            prop_assert_eq!(count_words(&b), reference(&b));
        }
    }
}
