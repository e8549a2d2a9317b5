//! Exponential back-off with jitter (KIP-580), as the Java client computes it.
//!
//! Attempt `n` (1-based) waits `initial * 2^(n-1)`, capped at `max`, then scaled by a random
//! factor in `[0.8, 1.2]` so that many clients retrying the same failure do not arrive in
//! lock-step. Callers bound the wait by their own deadline (the producer's delivery timeout,
//! a request timeout).

use std::time::Duration;

use rand::Rng;

/// Relative jitter: ±20%, Java's `CommonClientConfigs.RETRY_BACKOFF_JITTER`.
const JITTER: f64 = 0.2;

/// The wait before retry number `attempt` (1 = first retry).
pub(crate) fn backoff(initial: Duration, max: Duration, attempt: u32) -> Duration {
    let base = exponential(initial, max, attempt);
    let factor = 1.0 + rand::rng().random_range(-JITTER..=JITTER);
    base.mul_f64(factor).min(max.mul_f64(1.0 + JITTER))
}

/// The back-off without jitter.
fn exponential(initial: Duration, max: Duration, attempt: u32) -> Duration {
    let max = max.max(initial);
    let shift = attempt.saturating_sub(1).min(31);
    initial.saturating_mul(1u32 << shift).min(max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_the_cap() {
        let ms = Duration::from_millis;
        assert_eq!(exponential(ms(100), ms(1000), 1), ms(100));
        assert_eq!(exponential(ms(100), ms(1000), 2), ms(200));
        assert_eq!(exponential(ms(100), ms(1000), 4), ms(800));
        assert_eq!(exponential(ms(100), ms(1000), 5), ms(1000));
        assert_eq!(exponential(ms(100), ms(1000), 1000), ms(1000));
        // A cap below the initial value does not shrink it.
        assert_eq!(exponential(ms(100), ms(10), 3), ms(100));
    }

    #[test]
    fn jitter_stays_within_twenty_percent() {
        let ms = Duration::from_millis;
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..200 {
            let b = backoff(ms(100), ms(1000), 2);
            assert!(b >= ms(160) && b <= ms(240), "{b:?}");
            seen.insert(b);
        }
        assert!(seen.len() > 10, "jitter varies the wait");
    }
}
