//! Fetch requests and turning fetched record sets into [`ConsumerRecord`]s.
//!
//! Fetches are sessionless full fetches (session id 0, epoch -1; KIP-227 sessions are not
//! used yet), `read_uncommitted`, long-polling up to `fetch_max_wait` for `fetch_min_bytes`.
//! The position after a batch is its last offset + 1 even when compaction removed the
//! batch's last records, and control batches (transaction markers) advance it silently.

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::Bytes;
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::{ApiKey, FetchRequest, TopicName};
use kafka_protocol::protocol::StrBytes;

use crate::config::ConsumerConfig;
use crate::connection::Connection;
use crate::error::{Error, KafkaCode};
use crate::records::decode_record_set;
use crate::types::{ConsumerRecord, TopicPartition};

/// One partition of a Fetch response.
#[derive(Debug, Clone)]
pub(crate) struct FetchedPartition {
    pub(crate) error: KafkaCode,
    pub(crate) high_watermark: i64,
    pub(crate) records: Option<Bytes>,
}

/// Sends one Fetch for `targets` (partition, offset) to `conn`.
pub(crate) async fn fetch(
    conn: &Connection,
    targets: &[(TopicPartition, i64)],
    config: &ConsumerConfig,
    wait: Duration,
    request_timeout: Duration,
) -> Result<Vec<(TopicPartition, FetchedPartition)>, Error> {
    let v = conn.version(ApiKey::Fetch)?;
    let mut topics: Vec<FetchTopic> = Vec::new();
    // Keep the caller's order (it rotates partitions so none starves behind a large one).
    for (tp, offset) in targets {
        let mut p = FetchPartition::default();
        p.partition = tp.partition;
        p.fetch_offset = *offset;
        p.partition_max_bytes = config.max_partition_fetch_bytes;
        match topics.last_mut() {
            Some(t) if t.topic.0.as_str() == tp.topic => t.partitions.push(p),
            _ => {
                let mut t = FetchTopic::default();
                t.topic = TopicName(StrBytes::from_string(tp.topic.clone()));
                t.partitions.push(p);
                topics.push(t);
            }
        }
    }
    let mut req = FetchRequest::default();
    req.max_wait_ms = i32::try_from(wait.as_millis()).unwrap_or(i32::MAX);
    req.min_bytes = config.fetch_min_bytes;
    req.max_bytes = config.fetch_max_bytes;
    req.isolation_level = 0;
    req.topics = topics;
    let resp = conn.send(&req, v, request_timeout + wait).await?;
    if resp.error_code != 0 {
        return Err(Error::kafka(
            resp.error_code,
            format!("Fetch from {}", conn.broker()),
        ));
    }
    let mut out = Vec::with_capacity(targets.len());
    for t in resp.responses {
        let topic = t.topic.0.to_string();
        for p in t.partitions {
            out.push((
                TopicPartition::new(topic.clone(), p.partition_index),
                FetchedPartition {
                    error: KafkaCode::from(p.error_code),
                    high_watermark: p.high_watermark,
                    records: p.records,
                },
            ));
        }
    }
    Ok(out)
}

/// Records of `tp` at or after `position` (and before `until`, if given) from a fetched
/// record set, and the position to fetch next.
pub(crate) fn records_from(
    tp: &TopicPartition,
    data: &Bytes,
    position: i64,
    until: Option<i64>,
    max_decompressed: usize,
) -> Result<(Vec<ConsumerRecord>, i64), Error> {
    let set = decode_record_set(data, max_decompressed).map_err(|e| match e {
        Error::CorruptRecord(m) => Error::CorruptRecord(format!("{tp} at offset {position}: {m}")),
        other => other,
    })?;
    let mut next = position;
    let mut out = Vec::new();
    for batch in set.batches {
        let last = batch.last_offset();
        if last < next {
            continue;
        }
        if !batch.is_control() {
            for r in batch.records {
                if r.offset < next || until.is_some_and(|u| r.offset >= u) {
                    continue;
                }
                out.push(ConsumerRecord {
                    topic: tp.topic.clone(),
                    partition: tp.partition,
                    offset: r.offset,
                    timestamp: r.timestamp,
                    key: r.key,
                    value: r.value,
                    headers: r.headers,
                });
            }
        }
        next = last.saturating_add(1);
    }
    Ok((out, next))
}

/// Groups `(partition, offset)` targets by leader, rotating the order by `rotate` so every
/// partition gets to be first now and then.
pub(crate) fn by_leader(
    targets: Vec<(TopicPartition, i64, i32)>,
    rotate: usize,
) -> BTreeMap<i32, Vec<(TopicPartition, i64)>> {
    let n = targets.len().max(1);
    let mut rotated = targets;
    rotated.rotate_left(rotate % n);
    let mut out: BTreeMap<i32, Vec<(TopicPartition, i64)>> = BTreeMap::new();
    for (tp, offset, leader) in rotated {
        out.entry(leader).or_default().push((tp, offset));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Compression;
    use crate::records::{ATTR_CONTROL, BatchBuilder};

    fn batch(base: i64, n: usize, bits: i16) -> Bytes {
        let mut b = BatchBuilder::new(Compression::None).with_attribute_bits(bits);
        for i in 0..n {
            b.append(
                i as i64,
                None,
                Some(format!("v{}", base + i as i64).as_bytes()),
                &[],
            )
            .unwrap();
        }
        b.build(base).unwrap()
    }

    #[test]
    fn trims_before_position_and_after_until_and_skips_control() {
        let mut data = batch(10, 5, 0).to_vec();
        data.extend_from_slice(&batch(15, 1, ATTR_CONTROL));
        data.extend_from_slice(&batch(16, 3, 0));
        let data = Bytes::from(data);
        let tp = TopicPartition::new("t", 0);
        let (recs, next) = records_from(&tp, &data, 12, None, 1 << 20).unwrap();
        let offsets: Vec<i64> = recs.iter().map(|r| r.offset).collect();
        assert_eq!(offsets, vec![12, 13, 14, 16, 17, 18]);
        assert_eq!(next, 19);
        let (recs, _) = records_from(&tp, &data, 12, Some(17), 1 << 20).unwrap();
        assert_eq!(recs.last().unwrap().offset, 16);
        assert_eq!(recs[0].value.as_deref(), Some(&b"v12"[..]));
    }

    #[test]
    fn partial_tail_keeps_position() {
        let full = batch(0, 2, 0);
        let mut data = full.to_vec();
        let second = batch(2, 2, 0);
        data.extend_from_slice(&second[..second.len() - 5]);
        let (recs, next) = records_from(
            &TopicPartition::new("t", 0),
            &Bytes::from(data),
            0,
            None,
            1 << 20,
        )
        .unwrap();
        assert_eq!(recs.len(), 2);
        assert_eq!(next, 2);
    }

    #[test]
    fn rotation_changes_the_first_partition() {
        let t = |p| (TopicPartition::new("t", p), 0, 1);
        let a = by_leader(vec![t(0), t(1), t(2)], 1);
        assert_eq!(a[&1][0].0.partition, 1);
    }
}
