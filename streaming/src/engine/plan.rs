//! Deciding a batch's offset ranges: positions, starting offsets, the rate cap.
//!
//! Pure functions here; the engine feeds them the source's answers.

use std::collections::{BTreeMap, BTreeSet};

use crate::error::SourceError;
use crate::report::OffsetResetEvent;
use crate::source::{OffsetRange, OffsetReset, SourceRecord, TopicPartition};

/// Where a newly assigned partition starts: its committed offset when that is
/// inside the log, else per `reset` (Kafka's `auto.offset.reset`, which
/// applies to out-of-range committed offsets too).
pub(crate) fn starting_position(
    committed: Option<i64>,
    earliest: i64,
    latest: i64,
    reset: OffsetReset,
) -> i64 {
    match committed {
        Some(c) if (earliest..=latest).contains(&c) => c,
        _ => match reset {
            OffsetReset::Earliest => earliest,
            OffsetReset::Latest => latest,
        },
    }
}

/// Records per partition per batch for a rate in records/second (at least 1,
/// as Spark's `maxMessagesPerPartition`); `None` when unlimited.
pub(crate) fn per_batch_cap(max_rate_per_partition: Option<u64>, interval_ms: i64) -> Option<i64> {
    let rate = max_rate_per_partition.filter(|r| *r > 0)?;
    let cap = u128::from(rate) * u128::from(interval_ms.unsigned_abs()) / 1000;
    Some(i64::try_from(cap).unwrap_or(i64::MAX).max(1))
}

/// Drops revoked partitions and returns the newly assigned ones.
pub(crate) fn sync_assignment(
    positions: &mut BTreeMap<TopicPartition, i64>,
    assigned: &[TopicPartition],
) -> Vec<TopicPartition> {
    let assigned: BTreeSet<&TopicPartition> = assigned.iter().collect();
    positions.retain(|tp, _| assigned.contains(tp));
    assigned
        .into_iter()
        .filter(|tp| !positions.contains_key(*tp))
        .cloned()
        .collect()
}

/// Positions beyond the log end (the log was truncated or the topic
/// recreated): these need a reset before ranges can be decided.
pub(crate) fn beyond_log_end(
    positions: &BTreeMap<TopicPartition, i64>,
    latest: &BTreeMap<TopicPartition, i64>,
) -> Result<Vec<TopicPartition>, SourceError> {
    let mut out = Vec::new();
    for (tp, pos) in positions {
        let end = lookup(latest, tp)?;
        if *pos > end {
            out.push(tp.clone());
        }
    }
    Ok(out)
}

pub(crate) fn lookup<V: Copy>(
    map: &BTreeMap<TopicPartition, V>,
    tp: &TopicPartition,
) -> Result<V, SourceError> {
    map.get(tp)
        .copied()
        .ok_or_else(|| SourceError::Inconsistent(format!("no offset returned for {tp}")))
}

/// Applies resets: `targets` maps a partition to its new position.
pub(crate) fn apply_resets(
    positions: &mut BTreeMap<TopicPartition, i64>,
    targets: &BTreeMap<TopicPartition, i64>,
) -> Vec<OffsetResetEvent> {
    let mut events = Vec::new();
    for (tp, to) in targets {
        if let Some(pos) = positions.get_mut(tp)
            && *pos != *to
        {
            tracing::warn!("{tp}: position {pos} is outside the log; reset to {to}");
            events.push(OffsetResetEvent {
                tp: tp.clone(),
                from: *pos,
                to: *to,
            });
            *pos = *to;
        }
    }
    events
}

/// One range per assigned partition, `[position, min(latest, position + cap))`.
#[cfg(test)]
pub(crate) fn decide_ranges(
    positions: &BTreeMap<TopicPartition, i64>,
    latest: &BTreeMap<TopicPartition, i64>,
    cap: Option<i64>,
) -> Result<Vec<OffsetRange>, SourceError> {
    let caps = vec![cap; positions.len()];
    decide_ranges_capped(positions, latest, &caps)
}

/// What each partition has in the log beyond its position, in position order.
pub(crate) fn lags(
    positions: &BTreeMap<TopicPartition, i64>,
    latest: &BTreeMap<TopicPartition, i64>,
) -> Result<Vec<u64>, SourceError> {
    positions
        .iter()
        .map(|(tp, &from)| Ok(u64::try_from(lookup(latest, tp)? - from).unwrap_or(0)))
        .collect()
}

/// [`decide_ranges`] with one cap per partition (in position order).
pub(crate) fn decide_ranges_capped(
    positions: &BTreeMap<TopicPartition, i64>,
    latest: &BTreeMap<TopicPartition, i64>,
    caps: &[Option<i64>],
) -> Result<Vec<OffsetRange>, SourceError> {
    positions
        .iter()
        .zip(caps)
        .map(|((tp, &from), &cap)| {
            let end = lookup(latest, tp)?.max(from);
            let until = match cap {
                Some(cap) => end.min(from.saturating_add(cap)),
                None => end,
            };
            Ok(OffsetRange {
                tp: tp.clone(),
                from,
                until,
            })
        })
        .collect()
}

/// Keeps exactly the records inside `ranges`, once each, ordered by
/// partition then offset: the order text output follows.
pub(crate) fn arrange(mut records: Vec<SourceRecord>, ranges: &[OffsetRange]) -> Vec<SourceRecord> {
    let bounds: BTreeMap<&TopicPartition, (i64, i64)> =
        ranges.iter().map(|r| (&r.tp, (r.from, r.until))).collect();
    let before = records.len();
    records.retain(|r| {
        bounds
            .get(&r.tp)
            .is_some_and(|(from, until)| (*from..*until).contains(&r.offset))
    });
    // Stable and fast on the already-sorted runs a fetch returns.
    records.sort_by(|a, b| (&a.tp, a.offset).cmp(&(&b.tp, b.offset)));
    records.dedup_by(|a, b| a.tp == b.tp && a.offset == b.offset);
    if records.len() != before {
        tracing::debug!(
            "dropped {} records outside the batch's ranges or repeated",
            before - records.len()
        );
    }
    records
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tp(p: i32) -> TopicPartition {
        TopicPartition::new("t", p)
    }

    #[test]
    fn starting_positions() {
        use OffsetReset::*;
        assert_eq!(starting_position(Some(5), 0, 10, Latest), 5);
        assert_eq!(starting_position(Some(10), 0, 10, Earliest), 10);
        assert_eq!(starting_position(None, 3, 10, Latest), 10);
        assert_eq!(starting_position(None, 3, 10, Earliest), 3);
        // Committed offsets deleted by retention, or beyond a truncated log.
        assert_eq!(starting_position(Some(1), 3, 10, Earliest), 3);
        assert_eq!(starting_position(Some(11), 3, 10, Latest), 10);
    }

    #[test]
    fn rate_cap_is_rate_times_interval_at_least_one() {
        assert_eq!(per_batch_cap(None, 5_000), None);
        assert_eq!(per_batch_cap(Some(0), 5_000), None);
        assert_eq!(per_batch_cap(Some(10), 5_000), Some(50));
        assert_eq!(per_batch_cap(Some(1), 500), Some(1));
        assert_eq!(per_batch_cap(Some(u64::MAX), i64::MAX), Some(i64::MAX));
    }

    #[test]
    fn ranges_cover_every_assigned_partition() {
        let positions: BTreeMap<_, _> = [(tp(0), 5), (tp(1), 7), (tp(2), 0)].into();
        let latest: BTreeMap<_, _> = [(tp(0), 100), (tp(1), 7), (tp(2), 3)].into();
        let ranges = decide_ranges(&positions, &latest, Some(50)).unwrap();
        let got: Vec<_> = ranges
            .iter()
            .map(|r| (r.tp.partition, r.from, r.until))
            .collect();
        assert_eq!(got, vec![(0, 5, 55), (1, 7, 7), (2, 0, 3)]);
        assert!(decide_ranges(&positions, &BTreeMap::new(), None).is_err());
    }

    #[test]
    fn assignment_changes() {
        let mut positions: BTreeMap<_, _> = [(tp(0), 5), (tp(1), 7)].into();
        let new = sync_assignment(&mut positions, &[tp(1), tp(2)]);
        assert_eq!(new, vec![tp(2)]);
        assert_eq!(positions, [(tp(1), 7)].into());
    }

    #[test]
    fn arrange_filters_sorts_and_dedups() {
        let rec = |p, o| SourceRecord {
            tp: tp(p),
            offset: o,
            key: None,
            value: None,
            timestamp: 0,
        };
        let ranges = vec![
            OffsetRange {
                tp: tp(0),
                from: 2,
                until: 4,
            },
            OffsetRange {
                tp: tp(1),
                from: 0,
                until: 2,
            },
        ];
        let records = vec![
            rec(1, 1),
            rec(0, 3),
            rec(0, 1),
            rec(1, 0),
            rec(0, 2),
            rec(0, 4),
            rec(2, 0),
            rec(0, 3),
        ];
        let got: Vec<_> = arrange(records, &ranges)
            .iter()
            .map(|r| (r.tp.partition, r.offset))
            .collect();
        assert_eq!(got, vec![(0, 2), (0, 3), (1, 0), (1, 1)]);
    }

    #[test]
    fn resets_are_reported() {
        let mut positions: BTreeMap<_, _> = [(tp(0), 50), (tp(1), 7)].into();
        let latest: BTreeMap<_, _> = [(tp(0), 10), (tp(1), 9)].into();
        assert_eq!(beyond_log_end(&positions, &latest).unwrap(), vec![tp(0)]);
        let events = apply_resets(&mut positions, &[(tp(0), 10)].into());
        assert_eq!(
            events,
            vec![OffsetResetEvent {
                tp: tp(0),
                from: 50,
                to: 10
            }]
        );
        assert_eq!(positions[&tp(0)], 10);
    }
}
