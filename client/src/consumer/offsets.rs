//! Coordinator requests that are not about membership: FindCoordinator, OffsetCommit and
//! OffsetFetch. Each function sends one request and maps errors to Kafka names; retries are
//! the caller's business.

use std::collections::BTreeMap;
use std::time::Duration;

use kafka_protocol::messages::offset_commit_request::{
    OffsetCommitRequestPartition, OffsetCommitRequestTopic,
};
use kafka_protocol::messages::offset_fetch_request::{
    OffsetFetchRequestGroup, OffsetFetchRequestTopic, OffsetFetchRequestTopics,
};
use kafka_protocol::messages::{
    ApiKey, FindCoordinatorRequest, GroupId, OffsetCommitRequest, OffsetFetchRequest, TopicName,
};
use kafka_protocol::protocol::StrBytes;

use crate::cluster::metadata::format_addr;
use crate::connection::Connection;
use crate::error::{Error, KafkaCode};
use crate::types::TopicPartition;

/// Who is committing: a group member, or (generation -1, member "") a consumer using
/// manual assignment with a group id.
#[derive(Debug, Clone)]
pub(crate) struct CommitIdentity<'a> {
    pub(crate) group_id: &'a str,
    pub(crate) generation_id: i32,
    pub(crate) member_id: &'a str,
    pub(crate) group_instance_id: Option<&'a str>,
}

fn s(x: &str) -> StrBytes {
    StrBytes::from_string(x.to_owned())
}

/// Asks any broker for the group coordinator; returns its `host:port`.
pub(crate) async fn find_coordinator(
    conn: &Connection,
    group_id: &str,
    timeout: Duration,
) -> Result<String, Error> {
    let v = conn.version(ApiKey::FindCoordinator)?;
    let mut req = FindCoordinatorRequest::default();
    if v >= 4 {
        req.coordinator_keys = vec![s(group_id)];
    } else {
        req.key = s(group_id);
    }
    let resp = conn.send(&req, v, timeout).await?;
    let ctx = || format!("FindCoordinator for group '{group_id}'");
    if v >= 4 {
        let c = resp
            .coordinators
            .iter()
            .find(|c| c.key.as_str() == group_id)
            .ok_or_else(|| Error::Protocol(format!("{} answered without our key", ctx())))?;
        if c.error_code != 0 {
            return Err(Error::kafka(c.error_code, ctx()));
        }
        Ok(format_addr(&c.host, c.port))
    } else {
        if resp.error_code != 0 {
            return Err(Error::kafka(resp.error_code, ctx()));
        }
        Ok(format_addr(&resp.host, resp.port))
    }
}

/// Commits `offsets`; the first partition error (if any) is returned.
pub(crate) async fn commit(
    conn: &Connection,
    who: &CommitIdentity<'_>,
    offsets: &BTreeMap<TopicPartition, i64>,
    timeout: Duration,
) -> Result<(), Error> {
    if offsets.is_empty() {
        return Ok(());
    }
    let v = conn.version(ApiKey::OffsetCommit)?;
    let mut by_topic: BTreeMap<&str, Vec<OffsetCommitRequestPartition>> = BTreeMap::new();
    for (tp, &offset) in offsets {
        let mut p = OffsetCommitRequestPartition::default();
        p.partition_index = tp.partition;
        p.committed_offset = offset;
        by_topic.entry(tp.topic.as_str()).or_default().push(p);
    }
    let mut req = OffsetCommitRequest::default();
    req.group_id = GroupId(s(who.group_id));
    req.generation_id_or_member_epoch = who.generation_id;
    req.member_id = s(who.member_id);
    if v >= 7 {
        req.group_instance_id = who.group_instance_id.map(s);
    }
    req.topics = by_topic
        .into_iter()
        .map(|(t, partitions)| {
            let mut rt = OffsetCommitRequestTopic::default();
            rt.name = TopicName(s(t));
            rt.partitions = partitions;
            rt
        })
        .collect();
    let resp = conn.send(&req, v, timeout).await?;
    for t in &resp.topics {
        for p in &t.partitions {
            if p.error_code != 0 {
                return Err(Error::kafka(
                    p.error_code,
                    format!(
                        "commit {}-{} for group '{}'",
                        t.name.0, p.partition_index, who.group_id
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Fetches committed offsets; `None` where the group has no offset for a partition. With
/// `require_stable` (read_committed, v7+) the broker answers UNSTABLE_OFFSET_COMMIT while a
/// transactional commit is pending. v8+ uses the batched layout (a list of groups).
pub(crate) async fn fetch_committed(
    conn: &Connection,
    group_id: &str,
    tps: &[TopicPartition],
    require_stable: bool,
    timeout: Duration,
) -> Result<BTreeMap<TopicPartition, Option<i64>>, Error> {
    let mut by_topic: BTreeMap<&str, Vec<i32>> = BTreeMap::new();
    for tp in tps {
        by_topic
            .entry(tp.topic.as_str())
            .or_default()
            .push(tp.partition);
    }
    let found = offset_fetch(conn, group_id, Some(by_topic), require_stable, timeout).await?;
    let mut out: BTreeMap<TopicPartition, Option<i64>> =
        tps.iter().map(|tp| (tp.clone(), None)).collect();
    for (tp, committed) in found {
        if let Some(slot) = out.get_mut(&tp) {
            *slot = committed;
        }
    }
    Ok(out)
}

/// Every offset `group_id` has committed (OffsetFetch with no topic list).
pub(crate) async fn fetch_all_committed(
    conn: &Connection,
    group_id: &str,
    timeout: Duration,
) -> Result<BTreeMap<TopicPartition, i64>, Error> {
    let found = offset_fetch(conn, group_id, None, false, timeout).await?;
    Ok(found
        .into_iter()
        .filter_map(|(tp, o)| o.map(|o| (tp, o)))
        .collect())
}

/// One OffsetFetch; `topics: None` asks for everything the group committed.
async fn offset_fetch(
    conn: &Connection,
    group_id: &str,
    topics: Option<BTreeMap<&str, Vec<i32>>>,
    require_stable: bool,
    timeout: Duration,
) -> Result<Vec<(TopicPartition, Option<i64>)>, Error> {
    let v = conn.version(ApiKey::OffsetFetch)?;
    if topics.is_none() && v < 2 {
        return Err(Error::UnsupportedVersion {
            broker: conn.broker().to_owned(),
            api: "OffsetFetch (all topics)".into(),
            ours_min: 2,
            ours_max: 9,
            theirs: format!("v{v}"),
        });
    }
    let mut req = OffsetFetchRequest::default();
    if v >= 7 {
        req.require_stable = require_stable;
    }
    if v >= 8 {
        let mut g = OffsetFetchRequestGroup::default();
        g.group_id = GroupId(s(group_id));
        g.member_epoch = -1;
        g.topics = topics.map(|by_topic| {
            by_topic
                .into_iter()
                .map(|(t, partition_indexes)| {
                    let mut rt = OffsetFetchRequestTopics::default();
                    rt.name = TopicName(s(t));
                    rt.partition_indexes = partition_indexes;
                    rt
                })
                .collect()
        });
        req.groups = vec![g];
    } else {
        req.group_id = GroupId(s(group_id));
        req.topics = topics.map(|by_topic| {
            by_topic
                .into_iter()
                .map(|(t, partition_indexes)| {
                    let mut rt = OffsetFetchRequestTopic::default();
                    rt.name = TopicName(s(t));
                    rt.partition_indexes = partition_indexes;
                    rt
                })
                .collect()
        });
    }
    let resp = conn.send(&req, v, timeout).await?;
    // (topic, partition, committed offset, error code), from either layout.
    let mut found: Vec<(String, i32, i64, i16)> = Vec::new();
    let group_error = if v >= 8 {
        let Some(g) = resp
            .groups
            .iter()
            .find(|g| g.group_id.0.as_str() == group_id)
        else {
            return Err(Error::Protocol(format!(
                "OffsetFetch answer from {} lacks group '{group_id}'",
                conn.broker()
            )));
        };
        for t in &g.topics {
            for p in &t.partitions {
                found.push((
                    t.name.0.to_string(),
                    p.partition_index,
                    p.committed_offset,
                    p.error_code,
                ));
            }
        }
        g.error_code
    } else {
        for t in &resp.topics {
            for p in &t.partitions {
                found.push((
                    t.name.0.to_string(),
                    p.partition_index,
                    p.committed_offset,
                    p.error_code,
                ));
            }
        }
        if v >= 2 { resp.error_code } else { 0 }
    };
    if group_error != 0 {
        return Err(Error::kafka(
            group_error,
            format!("OffsetFetch for group '{group_id}'"),
        ));
    }
    let mut out = Vec::with_capacity(found.len());
    for (topic, partition, committed, code) in found {
        let tp = TopicPartition::new(topic, partition);
        if code != 0 && code != KafkaCode::UnknownTopicOrPartition.code() {
            return Err(Error::kafka(
                code,
                format!("OffsetFetch {tp} for group '{group_id}'"),
            ));
        }
        out.push((tp, (committed >= 0).then_some(committed)));
    }
    Ok(out)
}

/// Errors after which the coordinator must be looked up again.
pub(crate) fn coordinator_moved(e: &Error) -> bool {
    match e.kafka_code() {
        Some(c) => matches!(
            c,
            KafkaCode::NotCoordinator | KafkaCode::CoordinatorNotAvailable
        ),
        None => e.is_retriable(),
    }
}
