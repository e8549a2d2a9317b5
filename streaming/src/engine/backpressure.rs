//! Back-pressure: a PID controller that estimates how many records per
//! second the job can process, as Spark's `PIDRateEstimator` does.
//!
//! After every completed batch the estimator compares the rate it allowed
//! with the rate the batch was actually processed at (`records /
//! processing time`). The error, the backlog the scheduling delay stands for
//! (`scheduling delay × processing rate / interval`, the integral term) and
//! the error's change (derivative) lower or raise the next rate:
//!
//! `new = max(min_rate, rate − P·error − I·backlog − D·d(error)/dt)`
//!
//! with Spark's defaults P = 1, I = 0.2, D = 0 and a floor of 100 records/s.
//! The first batch only measures. The engine splits the rate over an input's
//! partitions in proportion to their lag, and it never exceeds
//! `max_rate_per_partition` when that is set.

/// Spark's `PIDRateEstimator` (see the module docs).
#[derive(Debug, Clone)]
pub(crate) struct PidEstimator {
    interval_ms: i64,
    proportional: f64,
    integral: f64,
    derivative: f64,
    min_rate: f64,
    first_run: bool,
    latest_time: i64,
    latest_rate: f64,
    latest_error: f64,
}

impl PidEstimator {
    pub(crate) fn new(interval_ms: i64) -> Self {
        PidEstimator {
            interval_ms,
            proportional: 1.0,
            integral: 0.2,
            derivative: 0.0,
            min_rate: 100.0,
            first_run: true,
            latest_time: -1,
            latest_rate: -1.0,
            latest_error: -1.0,
        }
    }

    /// Updates the estimate after the batch at `time_ms`; returns the new
    /// rate in records per second, or `None` when there is nothing to learn
    /// (no records, no processing time, an old batch, or the first batch).
    pub(crate) fn compute(
        &mut self,
        time_ms: i64,
        records: u64,
        processing_ms: u64,
        scheduling_delay_ms: u64,
    ) -> Option<f64> {
        if time_ms <= self.latest_time || records == 0 || processing_ms == 0 {
            return None;
        }
        let since_update = (time_ms - self.latest_time) as f64 / 1000.0;
        let processing_rate = records as f64 / processing_ms as f64 * 1000.0;
        let error = self.latest_rate - processing_rate;
        let backlog = scheduling_delay_ms as f64 * processing_rate / self.interval_ms as f64;
        let d_error = (error - self.latest_error) / since_update;
        let new_rate = (self.latest_rate
            - self.proportional * error
            - self.integral * backlog
            - self.derivative * d_error)
            .max(self.min_rate);
        self.latest_time = time_ms;
        if self.first_run {
            self.latest_rate = processing_rate;
            self.latest_error = 0.0;
            self.first_run = false;
            None
        } else {
            self.latest_rate = new_rate;
            self.latest_error = error;
            Some(new_rate)
        }
    }
}

/// Per-partition record caps for one batch: `rate × interval` records split
/// in proportion to each partition's lag (at least 1 each), and no more than
/// `static_cap` when set.
pub(crate) fn partition_caps(
    rate: Option<f64>,
    interval_ms: i64,
    lags: &[u64],
    static_cap: Option<i64>,
) -> Vec<Option<i64>> {
    let total: u64 = lags.iter().sum();
    lags.iter()
        .map(|lag| {
            let dynamic = rate.map(|r| {
                let share = if total == 0 {
                    1.0 / lags.len().max(1) as f64
                } else {
                    *lag as f64 / total as f64
                };
                ((r * interval_ms as f64 / 1000.0 * share).floor() as i64).max(1)
            });
            match (dynamic, static_cap) {
                (Some(d), Some(s)) => Some(d.min(s)),
                (d, s) => d.or(s),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pid_lowers_the_rate_when_batches_are_slow_and_raises_it_when_fast() {
        let mut pid = PidEstimator::new(1_000);
        // First batch: 10 000 records in 2 s. Only measured: 5 000/s.
        assert_eq!(pid.compute(1_000, 10_000, 2_000, 0), None);
        // Second: 10 000 in 2 s again, 1 s behind schedule.
        // error = 5000 - 5000 = 0; backlog = 1000 * 5000 / 1000 = 5000;
        // new = 5000 - 0 - 0.2 * 5000 = 4000.
        assert_eq!(pid.compute(2_000, 10_000, 2_000, 1_000), Some(4_000.0));
        // Third: 4 000 records in 0.5 s (8 000/s), on time.
        // error = 4000 - 8000 = -4000; new = 4000 + 4000 = 8000.
        assert_eq!(pid.compute(3_000, 4_000, 500, 0), Some(8_000.0));
        // Nothing processed: no change.
        assert_eq!(pid.compute(4_000, 0, 10, 0), None);
        // Never below the floor.
        assert_eq!(pid.compute(5_000, 10, 10_000, 50_000), Some(100.0));
    }

    #[test]
    fn caps_follow_lag_and_respect_the_static_limit() {
        assert_eq!(partition_caps(None, 1_000, &[5, 5], None), vec![None, None]);
        assert_eq!(
            partition_caps(None, 1_000, &[5, 5], Some(3)),
            vec![Some(3), Some(3)]
        );
        assert_eq!(
            partition_caps(Some(1_000.0), 2_000, &[300, 100, 0], None),
            vec![Some(1_500), Some(500), Some(1)]
        );
        assert_eq!(
            partition_caps(Some(1_000.0), 2_000, &[300, 100], Some(800)),
            vec![Some(800), Some(500)]
        );
        assert_eq!(
            partition_caps(Some(100.0), 1_000, &[0, 0], None),
            vec![Some(50), Some(50)]
        );
    }
}
