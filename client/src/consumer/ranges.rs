//! [`Consumer::fetch_ranges`]: exact offset ranges for micro-batch engines.

use std::collections::BTreeMap;

use super::{Consumer, fetcher};
use crate::cluster::needs_metadata_refresh;
use crate::config::IsolationLevel;
use crate::error::{Error, KafkaCode};
use crate::types::{ConsumerRecord, OffsetRange, TopicPartition};

/// How many rounds `fetch_ranges` may go without progress before failing.
const MAX_STALLED_ROUNDS: usize = 10;

impl Consumer {
    /// Reads exactly the records with `from <= offset < until` of each range, from the
    /// partition leaders, with as many fetches as needed. Records before `from` in a batch
    /// that starts earlier are trimmed, control records skipped; the result is ordered by
    /// range, then offset. Positions are not changed.
    pub async fn fetch_ranges(
        &mut self,
        ranges: &[OffsetRange],
    ) -> Result<Vec<ConsumerRecord>, Error> {
        for r in ranges {
            if r.from < 0 || r.until < r.from {
                return Err(Error::Config(format!(
                    "invalid offset range {}: [{}, {})",
                    r.tp, r.from, r.until
                )));
            }
        }
        let mut next: Vec<i64> = ranges.iter().map(|r| r.from).collect();
        let mut found: Vec<Vec<ConsumerRecord>> = vec![Vec::new(); ranges.len()];
        let mut stalled = 0usize;
        loop {
            // At most one range per partition per round (a Fetch names a partition once).
            let mut chosen: BTreeMap<TopicPartition, usize> = BTreeMap::new();
            for (i, r) in ranges.iter().enumerate() {
                if next[i] < r.until {
                    chosen.entry(r.tp.clone()).or_insert(i);
                }
            }
            if chosen.is_empty() {
                break;
            }
            let mut targets = Vec::new();
            for (tp, &i) in &chosen {
                let leader = self.client.cluster.leader(&tp.topic, tp.partition).await?;
                targets.push((tp.clone(), next[i], leader));
            }
            let results = self
                .fetch_round(targets, self.config.fetch_max_wait, false)
                .await?;
            let mut progressed = false;
            for (tp, fp) in results {
                let Some(&i) = chosen.get(&tp) else { continue };
                match fp.error {
                    KafkaCode::None => {}
                    KafkaCode::OffsetOutOfRange => {
                        return Err(Error::kafka(
                            KafkaCode::OffsetOutOfRange,
                            format!("fetch_ranges {tp} at offset {}", next[i]),
                        ));
                    }
                    code if code.is_retriable() => {
                        if needs_metadata_refresh(code) {
                            self.client.cluster.invalidate();
                        }
                        continue;
                    }
                    code => return Err(Error::kafka(code, format!("fetch_ranges {tp}"))),
                }
                let Some(data) = fp.records.clone() else {
                    continue;
                };
                let (recs, after) = fetcher::records_from(
                    &tp,
                    &data,
                    next[i],
                    Some(ranges[i].until),
                    self.config.max_decompressed_batch_bytes,
                    self.config.isolation_level,
                    fp.aborted.as_deref(),
                )?;
                if after > next[i] {
                    progressed = true;
                    next[i] = after;
                    found[i].extend(recs);
                } else if fetch_end(&fp, self.config.isolation_level) <= next[i] {
                    return Err(Error::kafka(
                        KafkaCode::OffsetOutOfRange,
                        format!(
                            "fetch_ranges {tp}: offsets [{}, {}) are beyond the readable end {}",
                            next[i],
                            ranges[i].until,
                            fetch_end(&fp, self.config.isolation_level)
                        ),
                    ));
                }
            }
            if progressed {
                stalled = 0;
            } else {
                stalled += 1;
                if stalled >= MAX_STALLED_ROUNDS {
                    return Err(Error::Timeout(format!(
                        "fetch_ranges made no progress in {MAX_STALLED_ROUNDS} fetches"
                    )));
                }
                tokio::time::sleep(self.client.cluster.config.retry_backoff).await;
            }
        }
        Ok(found.into_iter().flatten().collect())
    }
}

/// The end of what a fetch can return: the high watermark, or for read_committed the last
/// stable offset.
fn fetch_end(fp: &fetcher::FetchedPartition, isolation: IsolationLevel) -> i64 {
    match isolation {
        IsolationLevel::ReadCommitted if fp.last_stable_offset >= 0 => fp.last_stable_offset,
        _ => fp.high_watermark,
    }
}
