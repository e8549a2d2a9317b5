//! Batch times and the clock that produces them.
//!
//! Batches are aligned to multiples of the batch interval since the Unix
//! epoch, as Spark's `RecurringTimer` aligns them; a batch's time in
//! milliseconds names its output. The wall clock is read once, when the
//! context starts, and then advanced by tokio's monotonic clock: an NTP step
//! cannot make batch times go backwards, and `tokio::time::pause()` drives the
//! whole engine in tests.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::time::Instant;

/// The time of a batch: milliseconds since the Unix epoch, a multiple of the
/// batch interval. Prints as Spark prints its `Time`: `1700000005000 ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BatchTime(i64);

impl BatchTime {
    /// A batch time from milliseconds since the Unix epoch.
    pub const fn from_millis(ms: i64) -> Self {
        BatchTime(ms)
    }

    /// Milliseconds since the Unix epoch.
    pub const fn millis(self) -> i64 {
        self.0
    }
}

impl std::fmt::Display for BatchTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ms", self.0)
    }
}

/// Where the engine's wall clock starts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Clock {
    /// The system clock at start.
    #[default]
    System,
    /// A fixed epoch time (ms) at start; for tests and replays.
    StartingAt(i64),
}

/// A wall clock anchored to a tokio instant (see the module docs).
#[derive(Debug, Clone, Copy)]
pub(crate) struct AnchoredClock {
    epoch_ms: i64,
    anchor: Instant,
}

impl AnchoredClock {
    pub(crate) fn new(clock: Clock) -> Self {
        let epoch_ms = match clock {
            Clock::System => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
                .unwrap_or(0),
            Clock::StartingAt(ms) => ms,
        };
        AnchoredClock {
            epoch_ms,
            anchor: Instant::now(),
        }
    }

    /// Milliseconds since the Unix epoch now.
    pub(crate) fn now_ms(&self) -> i64 {
        let elapsed = i64::try_from(self.anchor.elapsed().as_millis()).unwrap_or(i64::MAX);
        self.epoch_ms.saturating_add(elapsed)
    }

    /// The tokio instant at which the wall clock reads `ms`.
    pub(crate) fn instant_at(&self, ms: i64) -> Instant {
        let ahead = u64::try_from(ms.saturating_sub(self.epoch_ms)).unwrap_or(0);
        self.anchor + Duration::from_millis(ahead)
    }
}

/// The first batch time strictly after `now_ms` (Spark: `(floor(now / I) + 1) * I`).
pub(crate) fn first_batch_after(now_ms: i64, interval_ms: i64) -> i64 {
    (now_ms.div_euclid(interval_ms) + 1).saturating_mul(interval_ms)
}

/// The latest tick at or before `now_ms`, but not before `next_ms`: when a
/// batch overran its interval the engine starts the next one at once and
/// names it after the latest tick it missed, so missed ticks never pile up.
pub(crate) fn due_batch_time(next_ms: i64, now_ms: i64, interval_ms: i64) -> i64 {
    let latest_tick = now_ms.div_euclid(interval_ms).saturating_mul(interval_ms);
    latest_tick.max(next_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alignment() {
        assert_eq!(first_batch_after(1_234, 5_000), 5_000);
        assert_eq!(first_batch_after(5_000, 5_000), 10_000);
        assert_eq!(first_batch_after(4_999, 5_000), 5_000);
        assert_eq!(due_batch_time(10_000, 10_003, 5_000), 10_000);
        assert_eq!(due_batch_time(10_000, 22_500, 5_000), 20_000);
        assert_eq!(due_batch_time(10_000, 9_999, 5_000), 10_000);
    }

    #[test]
    fn display_like_spark() {
        assert_eq!(
            BatchTime::from_millis(1_700_000_005_000).to_string(),
            "1700000005000 ms"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn anchored_clock_follows_tokio_time() {
        let clock = AnchoredClock::new(Clock::StartingAt(1_000));
        assert_eq!(clock.now_ms(), 1_000);
        tokio::time::advance(Duration::from_millis(2_500)).await;
        assert_eq!(clock.now_ms(), 3_500);
        assert_eq!(
            clock.instant_at(5_000) - clock.instant_at(1_000),
            Duration::from_millis(4_000)
        );
    }
}
