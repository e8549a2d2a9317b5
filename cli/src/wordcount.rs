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

use std::collections::{BTreeMap, HashMap};

use foldhash::fast::RandomState;
use kt_streaming::SourceRecord;

/// Records below this are counted on the calling thread: threads cost more than they save.
const PARALLEL_MIN_LINES: usize = 20_000;

type Counts<'a> = HashMap<&'a [u8], u64, RandomState>;

/// Word counts of a batch of Kafka records (their values; keys are ignored), sorted by word:
/// what `kt stream wordcount` writes per batch.
///
/// Values are read as the engine's `(key, value)` elements read them: bytes that are not UTF-8
/// become U+FFFD and a null value is an empty line. Words are split on the raw bytes (a space
/// is never part of a multi-byte sequence, so this splits exactly where splitting the decoded
/// line would) and decoded once per distinct word.
pub fn count_words(records: &[SourceRecord]) -> Vec<(String, u64)> {
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .min(records.len() / PARALLEL_MIN_LINES)
        .max(1);
    let merged = if threads == 1 {
        count_slice(records)
    } else {
        let chunk = records.len().div_ceil(threads);
        let mut parts: Vec<Counts<'_>> = std::thread::scope(|s| {
            let handles: Vec<_> = records
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
    let mut out: Vec<(String, u64)> = Vec::with_capacity(merged.len());
    let mut lossy: BTreeMap<String, u64> = BTreeMap::new();
    for (word, n) in merged {
        match std::str::from_utf8(word) {
            Ok(w) => out.push((w.to_owned(), n)),
            // Different invalid byte strings can decode to the same text.
            Err(_) => {
                *lossy
                    .entry(String::from_utf8_lossy(word).into_owned())
                    .or_insert(0) += n
            }
        }
    }
    if !lossy.is_empty() {
        let mut all: BTreeMap<String, u64> = out.into_iter().collect();
        for (w, n) in lossy {
            *all.entry(w).or_insert(0) += n;
        }
        return all.into_iter().collect();
    }
    out.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    out
}

fn count_slice(records: &[SourceRecord]) -> Counts<'_> {
    let mut counts = Counts::with_capacity_and_hasher(1024, RandomState::default());
    for r in records {
        let line: &[u8] = r.value.as_deref().unwrap_or_default();
        for word in line.split(|b| *b == b' ') {
            *counts.entry(word).or_insert(0) += 1;
        }
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use kt_streaming::TopicPartition;
    use proptest::prelude::*;

    /// The operator chain the job stands for, on the engine's `(key, value)` elements.
    fn reference(records: &[SourceRecord]) -> Vec<(String, u64)> {
        let mut m: BTreeMap<String, u64> = BTreeMap::new();
        for r in records {
            let (_key, line) = r.to_element();
            for w in line.split(' ').map(str::to_owned) {
                *m.entry(w).or_insert(0) += 1;
            }
        }
        m.into_iter().collect()
    }

    fn record(value: Option<&[u8]>) -> SourceRecord {
        SourceRecord {
            tp: TopicPartition::new("t", 0),
            offset: 0,
            key: None,
            value: value.map(Bytes::copy_from_slice),
            timestamp: 0,
        }
    }

    fn batch(lines: &[&str]) -> Vec<SourceRecord> {
        lines.iter().map(|l| record(Some(l.as_bytes()))).collect()
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
    fn null_values_and_invalid_utf8_read_as_the_elements_do() {
        let b = vec![
            record(None),
            record(Some(b"\xff x \xfe")),
            record(Some(b"caf\xc3\xa9 \xc3")),
        ];
        let got = count_words(&b);
        assert_eq!(got, reference(&b));
        assert!(got.contains(&("\u{fffd}".to_owned(), 3)), "{got:?}");
    }

    #[test]
    fn large_batches_are_split_across_threads_and_merged() {
        let words = ["alpha", "beta", "gamma", "delta", "é", ""];
        let lines: Vec<SourceRecord> = (0..PARALLEL_MIN_LINES * 3 + 7)
            .map(|i| {
                let line: Vec<&str> = (0..(i % 7)).map(|j| words[(i + j) % words.len()]).collect();
                record(Some(line.join(" ").as_bytes()))
            })
            .collect();
        assert_eq!(count_words(&lines), reference(&lines));
    }

    proptest! {
        #[test]
        fn same_as_the_operator_chain(values in proptest::collection::vec(
            proptest::option::of(proptest::collection::vec(prop_oneof![Just(b' '), Just(b'a'), Just(0xc3u8), Just(0xa9u8), any::<u8>()], 0..12)),
            0..60,
        )) {
            let b: Vec<_> = values.iter().map(|v| record(v.as_deref())).collect();
            prop_assert_eq!(count_words(&b), reference(&b));
        }
    }
}
