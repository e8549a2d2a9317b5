//! Fetch requests and turning fetched record sets into [`ConsumerRecord`]s.
//!
//! * Versions: up to Fetch v16; from v13 topics are named by topic id (from the metadata);
//!   a request falls back to v12 when some topic has no id (an older broker).
//! * Sessions: incremental fetch sessions (KIP-227, `session.rs`) per broker connection;
//!   one-off reads (`fetch_ranges`) use sessionless full fetches.
//! * Isolation: with `read_committed` the broker stops at the last stable offset and lists
//!   the aborted transactions of the returned range; batches of aborted transactions are
//!   dropped here, as the Java client's `CompletedFetch` does: a transactional batch is
//!   aborted if its producer has an aborted transaction starting at or before the batch's
//!   last offset and not yet closed by that producer's ABORT marker.
//! * The position after a batch is its last offset + 1 even when compaction removed the
//!   batch's last records; control batches (transaction markers) advance it silently.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use bytes::Bytes;
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic, ForgottenTopic};
use kafka_protocol::messages::{ApiKey, FetchRequest, TopicName};
use kafka_protocol::protocol::StrBytes;
use uuid::Uuid;

use super::session::{FetchSession, Plan};
use crate::cluster::metadata::Metadata;
use crate::config::{ConsumerConfig, IsolationLevel};
use crate::connection::Connection;
use crate::error::{Error, KafkaCode};
use crate::metrics::Metrics;
use crate::records::{RecordBatch, decode_record_set};
use crate::types::{ConsumerRecord, TopicPartition};

/// First Fetch version that names topics by id.
const TOPIC_ID_VERSION: i16 = 13;
/// First Fetch version with sessions.
const SESSION_VERSION: i16 = 7;

/// One partition of a Fetch response.
#[derive(Debug, Clone)]
pub(crate) struct FetchedPartition {
    pub(crate) error: KafkaCode,
    pub(crate) high_watermark: i64,
    pub(crate) last_stable_offset: i64,
    pub(crate) records: Option<Bytes>,
    /// `(producer id, first offset)` of aborted transactions (read_committed only).
    pub(crate) aborted: Option<Vec<(i64, i64)>>,
}

/// Sends one Fetch for `targets` (partition, offset) to `conn`; with `session`, as part of
/// that incremental fetch session.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn fetch(
    conn: &Connection,
    targets: &[(TopicPartition, i64)],
    config: &ConsumerConfig,
    wait: Duration,
    request_timeout: Duration,
    session: Option<&mut FetchSession>,
    metadata: &Metadata,
    metrics: &Metrics,
) -> Result<Vec<(TopicPartition, FetchedPartition)>, Error> {
    let mut v = conn.version(ApiKey::Fetch)?;
    let topic_id = |t: &str| {
        metadata
            .topics
            .get(t)
            .map(|m| m.topic_id)
            .filter(|id| !id.is_nil())
    };
    if v >= TOPIC_ID_VERSION && targets.iter().any(|(tp, _)| topic_id(&tp.topic).is_none()) {
        v = TOPIC_ID_VERSION - 1;
    }
    let use_ids = v >= TOPIC_ID_VERSION;
    let mut session = session.filter(|_| config.fetch_sessions && v >= SESSION_VERSION);
    let plan = match session.as_deref() {
        Some(s) => s.plan(targets, config.max_partition_fetch_bytes, use_ids),
        None => Plan::sessionless(targets),
    };
    // Every wanted topic, not only those this request names: an incremental Fetch that names
    // nothing (no offset changed) still gets records back, by topic id.
    let ids: HashMap<Uuid, String> = if use_ids {
        targets
            .iter()
            .filter_map(|(tp, _)| Some((topic_id(&tp.topic)?, tp.topic.clone())))
            .collect()
    } else {
        HashMap::new()
    };
    let mut topics: Vec<FetchTopic> = Vec::new();
    // Keep the caller's order (it rotates partitions so none starves behind a large one).
    for (tp, offset) in &plan.send {
        let mut p = FetchPartition::default();
        p.partition = tp.partition;
        p.fetch_offset = *offset;
        p.partition_max_bytes = config.max_partition_fetch_bytes;
        match topics.last_mut() {
            Some(t) if t.topic.0.as_str() == tp.topic => t.partitions.push(p),
            _ => {
                let mut t = FetchTopic::default();
                t.topic = TopicName(StrBytes::from_string(tp.topic.clone()));
                if use_ids {
                    t.topic_id = topic_id(&tp.topic).unwrap_or_default();
                }
                t.partitions.push(p);
                topics.push(t);
            }
        }
    }
    let mut forgotten: BTreeMap<&str, Vec<i32>> = BTreeMap::new();
    for tp in &plan.forget {
        forgotten
            .entry(tp.topic.as_str())
            .or_default()
            .push(tp.partition);
    }
    let mut req = FetchRequest::default();
    req.replica_id = kafka_protocol::messages::BrokerId(-1);
    req.max_wait_ms = i32::try_from(wait.as_millis()).unwrap_or(i32::MAX);
    req.min_bytes = config.fetch_min_bytes;
    req.max_bytes = config.fetch_max_bytes;
    req.isolation_level = config.isolation_level.wire();
    req.session_id = plan.session_id;
    req.session_epoch = plan.epoch;
    req.topics = topics;
    req.forgotten_topics_data = forgotten
        .into_iter()
        .map(|(t, partitions)| {
            let mut f = ForgottenTopic::default();
            f.topic = TopicName(StrBytes::from_string(t.to_owned()));
            if use_ids {
                f.topic_id = topic_id(t).unwrap_or_default();
            }
            f.partitions = partitions;
            f
        })
        .collect();
    Metrics::inc(&metrics.fetches);
    let resp = match conn.send(&req, v, request_timeout + wait).await {
        Ok(r) => r,
        Err(e) => {
            if let Some(s) = session.as_deref_mut() {
                s.reset();
            }
            return Err(e);
        }
    };
    match KafkaCode::from(resp.error_code) {
        KafkaCode::None => {}
        KafkaCode::FetchSessionIdNotFound | KafkaCode::InvalidFetchSessionEpoch => {
            tracing::debug!(broker = %conn.broker(), code = resp.error_code, "fetch session reset");
            if let Some(s) = session.as_deref_mut() {
                s.reset();
            }
            return Ok(Vec::new());
        }
        code => {
            if let Some(s) = session.as_deref_mut() {
                s.reset();
            }
            return Err(Error::kafka(code, format!("Fetch from {}", conn.broker())));
        }
    }
    if let Some(s) = session {
        s.on_success(&plan, resp.session_id);
    }
    let mut out = Vec::with_capacity(targets.len());
    for t in resp.responses {
        let topic = if use_ids {
            match ids.get(&t.topic_id) {
                Some(name) => name.clone(),
                None => continue,
            }
        } else {
            t.topic.0.to_string()
        };
        for p in t.partitions {
            out.push((
                TopicPartition::new(topic.clone(), p.partition_index),
                FetchedPartition {
                    error: KafkaCode::from(p.error_code),
                    high_watermark: p.high_watermark,
                    last_stable_offset: p.last_stable_offset,
                    records: p.records,
                    aborted: p.aborted_transactions.map(|list| {
                        list.iter()
                            .map(|a| (a.producer_id.0, a.first_offset))
                            .collect()
                    }),
                },
            ));
        }
    }
    Ok(out)
}

/// Drops batches of aborted transactions (read_committed).
#[derive(Debug, Default)]
struct AbortedFilter {
    /// Aborted transactions not reached yet, by first offset (ascending).
    pending: Vec<(i64, i64)>,
    /// Producers whose current transaction is aborted.
    aborted: HashSet<i64>,
}

impl AbortedFilter {
    fn new(list: &[(i64, i64)]) -> Self {
        let mut pending: Vec<(i64, i64)> = list.to_vec();
        // Sorted descending so the smallest first offset pops from the end.
        pending.sort_by_key(|a| std::cmp::Reverse(a.1));
        AbortedFilter {
            pending,
            aborted: HashSet::new(),
        }
    }

    /// Whether `batch`'s records must be skipped.
    fn skip(&mut self, batch: &RecordBatch) -> bool {
        if batch.producer_id < 0 {
            return false;
        }
        while self
            .pending
            .last()
            .is_some_and(|(_, first)| *first <= batch.last_offset())
        {
            if let Some((pid, _)) = self.pending.pop() {
                self.aborted.insert(pid);
            }
        }
        if batch.is_control() {
            if batch.control_type() == Some(0) {
                self.aborted.remove(&batch.producer_id);
            }
            return true;
        }
        batch.is_transactional() && self.aborted.contains(&batch.producer_id)
    }
}

/// Records of `tp` at or after `position` (and before `until`, if given) from a fetched
/// record set, and the position to fetch next. With `read_committed`, `aborted` lists the
/// aborted transactions the broker returned.
pub(crate) fn records_from(
    tp: &TopicPartition,
    data: &Bytes,
    position: i64,
    until: Option<i64>,
    max_decompressed: usize,
    isolation: IsolationLevel,
    aborted: Option<&[(i64, i64)]>,
) -> Result<(Vec<ConsumerRecord>, i64), Error> {
    let set = decode_record_set(data, max_decompressed).map_err(|e| match e {
        Error::CorruptRecord(m) => Error::CorruptRecord(format!("{tp} at offset {position}: {m}")),
        other => other,
    })?;
    let mut filter = (isolation == IsolationLevel::ReadCommitted)
        .then(|| AbortedFilter::new(aborted.unwrap_or_default()));
    let mut next = position;
    let mut out = Vec::new();
    for batch in set.batches {
        let last = batch.last_offset();
        let skip = match filter.as_mut() {
            Some(f) => f.skip(&batch),
            None => batch.is_control(),
        };
        if last < next {
            continue;
        }
        if !skip {
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
    use crate::records::{ATTR_CONTROL, ATTR_TRANSACTIONAL, BatchBuilder};

    fn batch(base: i64, n: usize, bits: i16) -> Bytes {
        txn_batch(base, n, bits, -1)
    }

    fn txn_batch(base: i64, n: usize, bits: i16, pid: i64) -> Bytes {
        let mut b = BatchBuilder::new(Compression::None)
            .with_attribute_bits(bits)
            .with_producer(pid, 0, 0);
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

    /// A control batch with one marker record: key = (version 0, type), value = version 0 +
    /// coordinator epoch.
    fn marker(base: i64, pid: i64, commit: bool) -> Bytes {
        let mut b = BatchBuilder::new(Compression::None)
            .with_attribute_bits(ATTR_CONTROL | ATTR_TRANSACTIONAL)
            .with_producer(pid, 0, -1);
        let key = [0, 0, 0, u8::from(commit)];
        b.append(0, Some(&key), Some(&[0, 0, 0, 0, 0, 0]), &[])
            .unwrap();
        b.build(base).unwrap()
    }

    fn uncommitted(data: &Bytes, pos: i64) -> (Vec<i64>, i64) {
        let (recs, next) = records_from(
            &TopicPartition::new("t", 0),
            data,
            pos,
            None,
            1 << 20,
            IsolationLevel::ReadUncommitted,
            None,
        )
        .unwrap();
        (recs.iter().map(|r| r.offset).collect(), next)
    }

    #[test]
    fn trims_before_position_and_after_until_and_skips_control() {
        let mut data = batch(10, 5, 0).to_vec();
        data.extend_from_slice(&marker(15, 3, true));
        data.extend_from_slice(&batch(16, 3, 0));
        let data = Bytes::from(data);
        let tp = TopicPartition::new("t", 0);
        let (offsets, next) = uncommitted(&data, 12);
        assert_eq!(offsets, vec![12, 13, 14, 16, 17, 18]);
        assert_eq!(next, 19);
        let (recs, _) = records_from(
            &tp,
            &data,
            12,
            Some(17),
            1 << 20,
            IsolationLevel::ReadUncommitted,
            None,
        )
        .unwrap();
        assert_eq!(recs.last().unwrap().offset, 16);
        assert_eq!(recs[0].value.as_deref(), Some(&b"v12"[..]));
    }

    #[test]
    fn read_committed_drops_aborted_transactions_only() {
        // pid 7: offsets 0-1 (aborted, marker at 4); pid 8: 2-3 (committed, marker at 5);
        // pid 7 again: 6-7, a new transaction, committed at 8; plain records at 9.
        let mut data = Vec::new();
        data.extend_from_slice(&txn_batch(0, 2, ATTR_TRANSACTIONAL, 7));
        data.extend_from_slice(&txn_batch(2, 2, ATTR_TRANSACTIONAL, 8));
        data.extend_from_slice(&marker(4, 7, false));
        data.extend_from_slice(&marker(5, 8, true));
        data.extend_from_slice(&txn_batch(6, 2, ATTR_TRANSACTIONAL, 7));
        data.extend_from_slice(&marker(8, 7, true));
        data.extend_from_slice(&batch(9, 1, 0));
        let data = Bytes::from(data);
        let tp = TopicPartition::new("t", 0);
        let (recs, next) = records_from(
            &tp,
            &data,
            0,
            None,
            1 << 20,
            IsolationLevel::ReadCommitted,
            Some(&[(7, 0)]),
        )
        .unwrap();
        let offsets: Vec<i64> = recs.iter().map(|r| r.offset).collect();
        assert_eq!(offsets, vec![2, 3, 6, 7, 9]);
        assert_eq!(next, 10);
        // read_uncommitted sees every data record.
        let (all, _) = uncommitted(&data, 0);
        assert_eq!(all, vec![0, 1, 2, 3, 6, 7, 9]);
    }

    #[test]
    fn partial_tail_keeps_position() {
        let full = batch(0, 2, 0);
        let mut data = full.to_vec();
        let second = batch(2, 2, 0);
        data.extend_from_slice(&second[..second.len() - 5]);
        let (offsets, next) = uncommitted(&Bytes::from(data), 0);
        assert_eq!(offsets.len(), 2);
        assert_eq!(next, 2);
    }

    #[test]
    fn rotation_changes_the_first_partition() {
        let t = |p| (TopicPartition::new("t", p), 0, 1);
        let a = by_leader(vec![t(0), t(1), t(2)], 1);
        assert_eq!(a[&1][0].0.partition, 1);
    }
}
