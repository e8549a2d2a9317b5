//! A latency histogram with bounded memory and ~1.5 % resolution.
//!
//! Values (microseconds) go into log-linear buckets: 64 linear sub-buckets per power of two, so
//! any recorded value is reported within 1/64 of itself whatever the range, and a run of a
//! billion records costs the same few kilobytes as a run of ten. The percentiles printed by
//! `kt bench` are the upper edges of the buckets they fall in (never optimistic).

/// Sub-buckets per power of two.
const SUB_BITS: u32 = 6;
const SUB: u64 = 1 << SUB_BITS;

#[derive(Debug, Clone)]
pub(crate) struct Histogram {
    counts: Vec<u64>,
    total: u64,
    sum: u128,
    max: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            // Values below SUB are exact; each power of two above adds SUB buckets.
            counts: vec![0; (SUB + SUB * u64::from(64 - SUB_BITS)) as usize],
            total: 0,
            sum: 0,
            max: 0,
        }
    }
}

fn bucket_of(v: u64) -> usize {
    if v < SUB {
        return v as usize;
    }
    let exp = 63 - v.leading_zeros(); // >= SUB_BITS
    let shift = exp - SUB_BITS;
    let sub = (v >> shift) - SUB; // 0..SUB
    (SUB + u64::from(shift) * SUB + sub) as usize
}

/// The largest value that lands in bucket `i`.
fn upper_edge(i: usize) -> u64 {
    let i = i as u64;
    if i < SUB {
        return i;
    }
    let shift = (i - SUB) / SUB;
    let sub = (i - SUB) % SUB;
    ((SUB + sub + 1) << shift) - 1
}

impl Histogram {
    pub(crate) fn record(&mut self, v: u64) {
        let b = bucket_of(v);
        if let Some(c) = self.counts.get_mut(b) {
            *c += 1;
        }
        self.total += 1;
        self.sum += u128::from(v);
        self.max = self.max.max(v);
    }

    pub(crate) fn count(&self) -> u64 {
        self.total
    }

    pub(crate) fn max(&self) -> u64 {
        self.max
    }

    pub(crate) fn mean(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            self.sum as f64 / self.total as f64
        }
    }

    /// The value at quantile `q` (0..=1): the upper edge of the bucket holding the
    /// `ceil(q * count)`-th smallest value, capped at the maximum seen.
    pub(crate) fn quantile(&self, q: f64) -> u64 {
        if self.total == 0 {
            return 0;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.total as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return upper_edge(i).min(self.max);
            }
        }
        self.max
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn small_values_are_exact_and_quantiles_are_ordered() {
        let mut h = Histogram::default();
        for v in 1..=100 {
            h.record(v);
        }
        assert_eq!(h.count(), 100);
        assert_eq!(h.max(), 100);
        assert!((h.mean() - 50.5).abs() < 1e-9);
        assert_eq!(h.quantile(0.0), 1);
        assert_eq!(h.quantile(0.5), 50);
        // 99 is in bucket [98, 99] above 64: reported as the bucket's upper edge.
        assert_eq!(h.quantile(0.99), 99);
        assert_eq!(h.quantile(1.0), 100);
        assert_eq!(Histogram::default().quantile(0.5), 0);
    }

    proptest! {
        #[test]
        fn every_value_is_reported_within_its_bucket(v in 0u64..u64::MAX / 2) {
            let b = bucket_of(v);
            let hi = upper_edge(b);
            prop_assert!(hi >= v);
            // within 1/64 of the value (exact below 64)
            prop_assert!(hi - v <= v / SUB);
            prop_assert!(b == 0 || upper_edge(b - 1) < v);
        }

        #[test]
        fn quantiles_bound_the_exact_ones(mut values in proptest::collection::vec(0u64..10_000_000, 1..400), q in 0.0f64..=1.0) {
            let mut h = Histogram::default();
            for v in &values {
                h.record(*v);
            }
            values.sort_unstable();
            let rank = ((q * values.len() as f64).ceil() as usize).max(1);
            let exact = values[rank - 1];
            let got = h.quantile(q);
            prop_assert!(got >= exact && got - exact <= exact / SUB, "q {} exact {} got {}", q, exact, got);
        }
    }
}
