//! Choosing a partition for a record, the way the Java client does.
//!
//! * Keyed records: `toPositive(murmur2(key)) % partitions`, with Kafka's murmur2 (seed
//!   `0x9747b28c`) — so a key lands where a Java, librdkafka (`murmur2_random`) or
//!   kafka-python producer would put it.
//! * Unkeyed records: a *sticky* partition per topic (KIP-480). Records go to one partition
//!   until its batch is sent (or fills), then a new partition is picked at random, so small
//!   unkeyed records still form large batches.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};

use foldhash::fast::RandomState as FastHash;

/// Kafka's murmur2 (`org.apache.kafka.common.utils.Utils.murmur2`), bit for bit.
pub fn murmur2(data: &[u8]) -> i32 {
    const SEED: u32 = 0x9747_b28c;
    const M: u32 = 0x5bd1_e995;
    const R: u32 = 24;

    let len = data.len();
    let mut h: u32 = SEED ^ (len as u32);
    let mut chunks = data.chunks_exact(4);
    for c in &mut chunks {
        let mut k = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= k;
    }
    let tail = chunks.remainder();
    if tail.len() >= 3 {
        h ^= u32::from(tail[2]) << 16;
    }
    if tail.len() >= 2 {
        h ^= u32::from(tail[1]) << 8;
    }
    if !tail.is_empty() {
        h ^= u32::from(tail[0]);
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h as i32
}

/// Java's `Utils.toPositive`: clears the sign bit (not `abs`, which overflows on MIN).
pub fn to_positive(n: i32) -> i32 {
    n & 0x7fff_ffff
}

/// The partition Kafka's default partitioner picks for `key` among `partitions`.
///
/// `partitions` must be > 0.
pub fn partition_for_key(key: &[u8], partitions: i32) -> i32 {
    to_positive(murmur2(key)) % partitions.max(1)
}

/// Per-topic sticky partitions for unkeyed records (KIP-480).
#[derive(Debug, Default)]
pub(crate) struct StickyPartitioner {
    /// Looked up for every unkeyed record: a fast hasher.
    current: HashMap<String, i32, FastHash>,
    rng: SmallRng,
}

impl StickyPartitioner {
    /// The sticky partition of `topic`, choosing one if there is none yet.
    pub(crate) fn partition(&mut self, topic: &str, partitions: i32) -> i32 {
        if let Some(&p) = self.current.get(topic)
            && p < partitions
        {
            return p;
        }
        let p = self.rng.below(partitions);
        self.current.insert(topic.to_owned(), p);
        p
    }

    /// A batch of `topic`/`partition` was sent or filled up: if that was the sticky
    /// partition, move to another one (a different one when there is a choice).
    pub(crate) fn on_new_batch(&mut self, topic: &str, partition: i32, partitions: i32) {
        let Some(&cur) = self.current.get(topic) else {
            return;
        };
        if cur != partition {
            return;
        }
        let next = if partitions <= 1 {
            0
        } else {
            let r = self.rng.below(partitions - 1);
            if r >= cur { r + 1 } else { r }
        };
        self.current.insert(topic.to_owned(), next);
    }
}

/// xorshift64*: enough randomness to spread sticky partitions, seeded per process.
#[derive(Debug)]
struct SmallRng(u64);

impl Default for SmallRng {
    fn default() -> Self {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(0x5eed);
        SmallRng(h.finish() | 1)
    }
}

impl SmallRng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: i32) -> i32 {
        if n <= 1 {
            return 0;
        }
        (self.next() % n as u64) as i32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Vectors from Apache Kafka's `UtilsTest.testMurmur2`.
    #[test]
    fn kafka_utils_test_vectors() {
        let cases: [(&str, i32); 10] = [
            ("21", -973_932_308),
            ("foobar", -790_332_482),
            ("a-little-bit-long-string", -985_981_536),
            ("a-little-bit-longer-string", -1_486_304_829),
            (
                "lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8",
                -58_897_971,
            ),
            ("abc", 479_470_107),
            ("string-f-24-chars-length", 124_730_809),
            ("string-fo-25-chars-length", 1_269_511_650),
            ("string-foo-26-chars-length", 119_165_628),
            ("string-last-27-chars-length", 1_089_971_754),
        ];
        for (key, want) in cases {
            assert_eq!(murmur2(key.as_bytes()), want, "murmur2({key:?})");
            assert_eq!(java_murmur2(key.as_bytes()), want, "reference ({key:?})");
        }
    }

    /// Partitions computed independently with kafka-python 2.0.2's `murmur2` and
    /// `DefaultPartitioner` (Java-compatible) for the tutorial's keys.
    #[test]
    fn keys_to_partitions_table() {
        let table: [(&str, i32, i32); 8] = [
            ("key1", 3, 2),
            ("key2", 3, 2),
            ("key3", 3, 1),
            ("key1", 10, 0),
            ("hello", 5, 4),
            ("", 7, 2),
            ("user-42", 12, 4),
            ("a", 2, 0),
        ];
        for (key, n, want) in table {
            assert_eq!(
                partition_for_key(key.as_bytes(), n),
                want,
                "{key:?} over {n}"
            );
        }
    }

    #[test]
    fn to_positive_masks_the_sign_bit() {
        assert_eq!(to_positive(i32::MIN), 0);
        assert_eq!(to_positive(-1), i32::MAX);
        assert_eq!(to_positive(5), 5);
    }

    #[test]
    fn sticky_moves_on_new_batch() {
        let mut s = StickyPartitioner::default();
        let p = s.partition("t", 4);
        assert_eq!(s.partition("t", 4), p);
        s.on_new_batch("t", (p + 1) % 4, 4);
        assert_eq!(
            s.partition("t", 4),
            p,
            "another partition's batch does not move it"
        );
        s.on_new_batch("t", p, 4);
        let q = s.partition("t", 4);
        assert_ne!(q, p);
        assert!((0..4).contains(&q));
        let mut one = StickyPartitioner::default();
        assert_eq!(one.partition("x", 1), 0);
        one.on_new_batch("x", 0, 1);
        assert_eq!(one.partition("x", 1), 0);
    }

    /// Java's `Utils.murmur2` transcribed with Java's types: signed `int` arithmetic,
    /// `>>>` as a shift of the unsigned bits, bytes widened with `& 0xff`, the tail
    /// `switch` falling through. An independent second reading of the algorithm, so the
    /// property below catches tail and sign-extension slips the fixed vectors may miss.
    fn java_murmur2(data: &[u8]) -> i32 {
        let m: i32 = 0x5bd1_e995;
        let ushr = |x: i32, n: u32| ((x as u32) >> n) as i32;
        let byte = |i: usize| i32::from(data[i] as i8) & 0xff;
        let length = data.len() as i32;
        let mut h: i32 = (0x9747_b28c_u32 as i32) ^ length;
        for i in 0..data.len() / 4 {
            let i4 = i * 4;
            let mut k = byte(i4)
                .wrapping_add(byte(i4 + 1) << 8)
                .wrapping_add(byte(i4 + 2) << 16)
                .wrapping_add(byte(i4 + 3) << 24);
            k = k.wrapping_mul(m);
            k ^= ushr(k, 24);
            k = k.wrapping_mul(m);
            h = h.wrapping_mul(m);
            h ^= k;
        }
        let base = data.len() & !3;
        let rest = data.len() % 4;
        if rest == 3 {
            h ^= byte(base + 2) << 16;
        }
        if rest >= 2 {
            h ^= byte(base + 1) << 8;
        }
        if rest >= 1 {
            h ^= byte(base);
            h = h.wrapping_mul(m);
        }
        h ^= ushr(h, 13);
        h = h.wrapping_mul(m);
        h ^= ushr(h, 15);
        h
    }

    proptest::proptest! {
        #[test]
        fn murmur2_matches_javas_arithmetic(key in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64)) {
            proptest::prop_assert_eq!(murmur2(&key), java_murmur2(&key));
        }

        #[test]
        fn keyed_partition_is_in_range(
            key in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..32),
            partitions in 1..=i32::MAX,
        ) {
            let p = partition_for_key(&key, partitions);
            proptest::prop_assert!((0..partitions).contains(&p));
            proptest::prop_assert_eq!(p, partition_for_key(&key, partitions), "deterministic");
        }

        /// Any sequence of sends, completed batches and partition-count changes: the sticky
        /// partition is always a valid one, stays put until its own batch completes, and then
        /// moves to a different partition whenever there is one.
        #[test]
        fn sticky_partition_stays_valid_and_moves_only_on_its_batch(
            ops in proptest::collection::vec((1..16i32, 0..16i32, proptest::prelude::any::<bool>()), 1..64),
        ) {
            let mut s = StickyPartitioner::default();
            for (partitions, other, complete) in ops {
                let p = s.partition("t", partitions);
                proptest::prop_assert!((0..partitions).contains(&p));
                let batch = if complete { p } else { other % partitions };
                s.on_new_batch("t", batch, partitions);
                let q = s.partition("t", partitions);
                proptest::prop_assert!((0..partitions).contains(&q));
                if batch != p {
                    proptest::prop_assert_eq!(q, p, "another partition's batch moved it");
                } else if partitions > 1 {
                    proptest::prop_assert_ne!(q, p, "its own batch did not move it");
                }
            }
        }
    }
}
