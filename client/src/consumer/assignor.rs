//! Partition assignors (range, roundrobin; cooperative-sticky lives in `sticky.rs`) and the
//! standard consumer-protocol bytes.
//!
//! The group leader — which may be a kt consumer, a Java consumer or librdkafka — decodes
//! every member's `ConsumerProtocolSubscription` and encodes one
//! `ConsumerProtocolAssignment` per member. Using the same schemas (kafka-protocol's types,
//! prefixed by an i16 version) and the same algorithms as the Java client lets a kt consumer
//! share a group with kcat or Java consumers.
//!
//! Those bytes come from other clients through the broker, so before handing them to
//! kafka-protocol (whose array decoders size allocations from wire counts) a small shape
//! guard walks them and checks that every count fits the bytes that remain.

use std::collections::{BTreeMap, BTreeSet};

use bytes::{Buf, BufMut, Bytes, BytesMut};
use kafka_protocol::messages::consumer_protocol_assignment::TopicPartition as AssignedTopic;
use kafka_protocol::messages::consumer_protocol_subscription::TopicPartition as OwnedTopic;
use kafka_protocol::messages::{
    ConsumerProtocolAssignment, ConsumerProtocolSubscription, TopicName,
};
use kafka_protocol::protocol::{Decodable, Encodable, StrBytes};

use crate::config::AssignmentStrategy;
use crate::error::Error;
use crate::types::TopicPartition;

/// The subscription version eager members write (v0: topics and user data, understood by
/// every client).
const SUBSCRIPTION_VERSION: i16 = 0;
/// The subscription version cooperative members write (v2: plus owned partitions and the
/// generation they were assigned in, as Java's `CooperativeStickyAssignor` needs).
const COOPERATIVE_SUBSCRIPTION_VERSION: i16 = 2;
/// The assignment version we write.
const ASSIGNMENT_VERSION: i16 = 0;
/// Highest versions kafka-protocol can read; newer versions are read as these (Kafka's
/// forward-compatibility rule for these schemas), ignoring trailing fields.
const MAX_KNOWN_VERSION: i16 = 3;

/// A group member as the leader sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MemberSubscription {
    pub(crate) member_id: String,
    pub(crate) group_instance_id: Option<String>,
    pub(crate) topics: Vec<String>,
    /// Partitions the member owns now (subscription v1+; empty for eager members).
    pub(crate) owned: Vec<TopicPartition>,
    /// The generation `owned` was assigned in (v2+; -1 when unknown).
    pub(crate) generation: i32,
}

/// A decoded subscription.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Subscription {
    pub(crate) topics: Vec<String>,
    pub(crate) owned: Vec<TopicPartition>,
    pub(crate) generation: i32,
}

fn proto_err(what: &str) -> Error {
    Error::Protocol(format!("malformed consumer-protocol {what}"))
}

/// Encodes our subscription; `owned` (partitions, generation) makes it a cooperative (v2)
/// subscription.
pub(crate) fn encode_subscription(
    topics: &[String],
    owned: Option<(&[TopicPartition], i32)>,
) -> Result<Bytes, Error> {
    let mut s = ConsumerProtocolSubscription::default();
    s.topics = topics
        .iter()
        .map(|t| StrBytes::from_string(t.clone()))
        .collect();
    let version = match owned {
        None => SUBSCRIPTION_VERSION,
        Some((parts, generation)) => {
            let mut by_topic: BTreeMap<&str, Vec<i32>> = BTreeMap::new();
            for tp in parts {
                by_topic
                    .entry(tp.topic.as_str())
                    .or_default()
                    .push(tp.partition);
            }
            s.owned_partitions = by_topic
                .into_iter()
                .map(|(t, ps)| {
                    let mut o = OwnedTopic::default();
                    o.topic = TopicName(StrBytes::from_string(t.to_owned()));
                    o.partitions = ps;
                    o
                })
                .collect();
            s.generation_id = generation;
            COOPERATIVE_SUBSCRIPTION_VERSION
        }
    };
    let mut buf = BytesMut::new();
    buf.put_i16(version);
    s.encode(&mut buf, version)
        .map_err(|e| Error::Encode(format!("subscription: {e}")))?;
    Ok(buf.freeze())
}

/// Decodes a member's subscription (any version).
pub(crate) fn decode_subscription(mut bytes: Bytes) -> Result<Subscription, Error> {
    let version = read_version(&mut bytes, "subscription")?;
    guard_subscription(&bytes, version).ok_or_else(|| proto_err("subscription"))?;
    let s = ConsumerProtocolSubscription::decode(&mut bytes, version)
        .map_err(|e| Error::Protocol(format!("consumer-protocol subscription: {e}")))?;
    Ok(Subscription {
        topics: s.topics.iter().map(|t| t.to_string()).collect(),
        owned: s
            .owned_partitions
            .iter()
            .flat_map(|o| {
                o.partitions
                    .iter()
                    .map(|&p| TopicPartition::new(o.topic.0.to_string(), p))
            })
            .collect(),
        generation: if version >= 2 { s.generation_id } else { -1 },
    })
}

/// Encodes one member's assignment.
pub(crate) fn encode_assignment(partitions: &[TopicPartition]) -> Result<Bytes, Error> {
    let mut by_topic: BTreeMap<&str, Vec<i32>> = BTreeMap::new();
    for tp in partitions {
        by_topic
            .entry(tp.topic.as_str())
            .or_default()
            .push(tp.partition);
    }
    let mut a = ConsumerProtocolAssignment::default();
    a.assigned_partitions = by_topic
        .into_iter()
        .map(|(t, ps)| {
            let mut at = AssignedTopic::default();
            at.topic = TopicName(StrBytes::from_string(t.to_owned()));
            at.partitions = ps;
            at
        })
        .collect();
    let mut buf = BytesMut::new();
    buf.put_i16(ASSIGNMENT_VERSION);
    a.encode(&mut buf, ASSIGNMENT_VERSION)
        .map_err(|e| Error::Encode(format!("assignment: {e}")))?;
    Ok(buf.freeze())
}

/// Decodes our assignment from SyncGroup; empty bytes mean "nothing assigned".
pub(crate) fn decode_assignment(mut bytes: Bytes) -> Result<Vec<TopicPartition>, Error> {
    if bytes.is_empty() {
        return Ok(Vec::new());
    }
    let version = read_version(&mut bytes, "assignment")?;
    guard_assignment(&bytes).ok_or_else(|| proto_err("assignment"))?;
    let a = ConsumerProtocolAssignment::decode(&mut bytes, version)
        .map_err(|e| Error::Protocol(format!("consumer-protocol assignment: {e}")))?;
    let mut out: Vec<TopicPartition> = a
        .assigned_partitions
        .iter()
        .flat_map(|t| {
            t.partitions
                .iter()
                .map(|&p| TopicPartition::new(t.topic.0.to_string(), p))
        })
        .collect();
    out.sort();
    out.dedup();
    Ok(out)
}

fn read_version(bytes: &mut Bytes, what: &str) -> Result<i16, Error> {
    if bytes.len() < 2 {
        return Err(proto_err(what));
    }
    let v = bytes.get_i16();
    if v < 0 {
        return Err(proto_err(what));
    }
    Ok(v.min(MAX_KNOWN_VERSION))
}

// ---- shape guards: walk the (non-flexible) layouts, checking every length and count ----

struct Walk<'a>(&'a [u8]);

impl Walk<'_> {
    fn take(&mut self, n: usize) -> Option<()> {
        if n > self.0.len() {
            return None;
        }
        self.0 = &self.0[n..];
        Some(())
    }
    fn i16(&mut self) -> Option<i16> {
        let v = i16::from_be_bytes([*self.0.first()?, *self.0.get(1)?]);
        self.take(2)?;
        Some(v)
    }
    fn i32(&mut self) -> Option<i32> {
        let b = self.0.get(..4)?;
        let v = i32::from_be_bytes([b[0], b[1], b[2], b[3]]);
        self.take(4)?;
        Some(v)
    }
    fn string(&mut self, nullable: bool) -> Option<()> {
        let n = self.i16()?;
        if n < 0 {
            return (nullable && n == -1).then_some(());
        }
        self.take(n as usize)
    }
    fn nullable_bytes(&mut self) -> Option<()> {
        let n = self.i32()?;
        if n < 0 {
            return (n == -1).then_some(());
        }
        self.take(n as usize)
    }
    /// An array count that cannot claim more elements than bytes of `min_elem` size remain.
    fn count(&mut self, min_elem: usize) -> Option<usize> {
        let n = usize::try_from(self.i32()?).ok()?;
        (n <= self.0.len() / min_elem).then_some(n)
    }
    fn topic_partitions(&mut self) -> Option<()> {
        for _ in 0..self.count(6)? {
            self.string(false)?;
            for _ in 0..self.count(4)? {
                self.i32()?;
            }
        }
        Some(())
    }
}

fn guard_subscription(bytes: &[u8], version: i16) -> Option<()> {
    let mut w = Walk(bytes);
    for _ in 0..w.count(2)? {
        w.string(false)?;
    }
    w.nullable_bytes()?;
    if version >= 1 {
        w.topic_partitions()?;
    }
    if version >= 2 {
        w.i32()?;
    }
    if version >= 3 {
        w.string(true)?;
    }
    Some(())
}

fn guard_assignment(bytes: &[u8]) -> Option<()> {
    let mut w = Walk(bytes);
    w.topic_partitions()?;
    w.nullable_bytes()?;
    Some(())
}

// ---- assignors ----

/// Java's member order: static members (by instance id) first, then by member id.
pub(crate) fn member_order(a: &MemberSubscription, b: &MemberSubscription) -> std::cmp::Ordering {
    match (&a.group_instance_id, &b.group_instance_id) {
        (Some(x), Some(y)) => x.cmp(y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.member_id.cmp(&b.member_id),
    }
}

/// Computes the assignment of every member. `partitions` maps topic -> partition count;
/// topics missing from it (unknown to the cluster) get no partitions.
pub(crate) fn assign(
    strategy: AssignmentStrategy,
    members: &[MemberSubscription],
    partitions: &BTreeMap<String, i32>,
) -> BTreeMap<String, Vec<TopicPartition>> {
    let mut sorted: Vec<&MemberSubscription> = members.iter().collect();
    sorted.sort_by(|a, b| member_order(a, b));
    let mut out: BTreeMap<String, Vec<TopicPartition>> = members
        .iter()
        .map(|m| (m.member_id.clone(), Vec::new()))
        .collect();
    match strategy {
        AssignmentStrategy::CooperativeSticky => return super::sticky::assign(members, partitions),
        AssignmentStrategy::Range => {
            for (topic, &count) in partitions {
                let subs: Vec<&&MemberSubscription> =
                    sorted.iter().filter(|m| m.topics.contains(topic)).collect();
                if subs.is_empty() || count <= 0 {
                    continue;
                }
                let n = subs.len() as i32;
                let (per, extra) = (count / n, count % n);
                for (i, m) in subs.iter().enumerate() {
                    let i = i as i32;
                    let start = per * i + i.min(extra);
                    let len = per + i32::from(i < extra);
                    if let Some(list) = out.get_mut(&m.member_id) {
                        list.extend(
                            (start..start + len).map(|p| TopicPartition::new(topic.clone(), p)),
                        );
                    }
                }
            }
        }
        AssignmentStrategy::RoundRobin => {
            let all: BTreeSet<TopicPartition> = partitions
                .iter()
                .flat_map(|(t, &n)| (0..n.max(0)).map(move |p| TopicPartition::new(t.clone(), p)))
                .collect();
            let mut next = 0usize;
            for tp in all {
                if sorted.is_empty() {
                    break;
                }
                for step in 0..sorted.len() {
                    let m = sorted[(next + step) % sorted.len()];
                    if m.topics.contains(&tp.topic) {
                        if let Some(list) = out.get_mut(&m.member_id) {
                            list.push(tp.clone());
                        }
                        next = (next + step + 1) % sorted.len();
                        break;
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn m(id: &str, topics: &[&str]) -> MemberSubscription {
        MemberSubscription {
            member_id: id.into(),
            group_instance_id: None,
            topics: topics.iter().map(|t| (*t).into()).collect(),
            owned: Vec::new(),
            generation: -1,
        }
    }

    fn tps(list: &[(&str, i32)]) -> Vec<TopicPartition> {
        list.iter()
            .map(|&(t, p)| TopicPartition::new(t, p))
            .collect()
    }

    #[test]
    fn range_matches_the_java_javadoc_example() {
        // RangeAssignor javadoc: C0, C1 subscribed to t0, t1 with 3 partitions each.
        let parts = BTreeMap::from([("t0".to_string(), 3), ("t1".to_string(), 3)]);
        let a = assign(
            AssignmentStrategy::Range,
            &[m("C1", &["t0", "t1"]), m("C0", &["t0", "t1"])],
            &parts,
        );
        assert_eq!(a["C0"], tps(&[("t0", 0), ("t0", 1), ("t1", 0), ("t1", 1)]));
        assert_eq!(a["C1"], tps(&[("t0", 2), ("t1", 2)]));
    }

    #[test]
    fn roundrobin_matches_the_java_javadoc_example() {
        let parts = BTreeMap::from([("t0".to_string(), 3), ("t1".to_string(), 3)]);
        let a = assign(
            AssignmentStrategy::RoundRobin,
            &[m("C0", &["t0", "t1"]), m("C1", &["t0", "t1"])],
            &parts,
        );
        assert_eq!(a["C0"], tps(&[("t0", 0), ("t0", 2), ("t1", 1)]));
        assert_eq!(a["C1"], tps(&[("t0", 1), ("t1", 0), ("t1", 2)]));
    }

    #[test]
    fn roundrobin_skips_members_not_subscribed() {
        // Javadoc: C0 [t0], C1 [t0, t1], C2 [t0, t1, t2]; t0 1 partition, t1 2, t2 3.
        let parts = BTreeMap::from([("t0".into(), 1), ("t1".into(), 2), ("t2".into(), 3)]);
        let a = assign(
            AssignmentStrategy::RoundRobin,
            &[
                m("C0", &["t0"]),
                m("C1", &["t0", "t1"]),
                m("C2", &["t0", "t1", "t2"]),
            ],
            &parts,
        );
        assert_eq!(a["C0"], tps(&[("t0", 0)]));
        assert_eq!(a["C1"], tps(&[("t1", 0)]));
        assert_eq!(a["C2"], tps(&[("t1", 1), ("t2", 0), ("t2", 1), ("t2", 2)]));
    }

    #[test]
    fn static_members_sort_first_by_instance_id() {
        let mut a = m("zzz", &["t"]);
        a.group_instance_id = Some("a".into());
        let parts = BTreeMap::from([("t".into(), 3)]);
        let r = assign(AssignmentStrategy::Range, &[m("aaa", &["t"]), a], &parts);
        assert_eq!(r["zzz"], tps(&[("t", 0), ("t", 1)]));
        assert_eq!(r["aaa"], tps(&[("t", 2)]));
    }

    #[test]
    fn subscription_and_assignment_bytes_round_trip() {
        let topics = vec!["a".to_string(), "mytopic".to_string()];
        let b = encode_subscription(&topics, None).unwrap();
        assert_eq!(&b[..2], &[0, 0]);
        assert_eq!(decode_subscription(b).unwrap().topics, topics);
        let owned = tps(&[("a", 1), ("mytopic", 0), ("mytopic", 3)]);
        let b = encode_subscription(&topics, Some((&owned, 7))).unwrap();
        assert_eq!(&b[..2], &[0, 2]);
        let s = decode_subscription(b).unwrap();
        assert_eq!((s.topics, s.owned, s.generation), (topics, owned, 7));
        let parts = tps(&[("a", 0), ("a", 2), ("b", 1)]);
        let b = encode_assignment(&parts).unwrap();
        assert_eq!(decode_assignment(b).unwrap(), parts);
        assert!(decode_assignment(Bytes::new()).unwrap().is_empty());
    }

    #[test]
    fn newer_subscription_versions_are_read() {
        // A v3 subscription as a Java 3.x consumer writes it.
        let mut s = ConsumerProtocolSubscription::default();
        s.topics = vec![StrBytes::from_static_str("t")];
        s.generation_id = 4;
        s.rack_id = Some(StrBytes::from_static_str("r1"));
        let mut buf = BytesMut::new();
        buf.put_i16(3);
        s.encode(&mut buf, 3).unwrap();
        assert_eq!(
            decode_subscription(buf.clone().freeze()).unwrap().topics,
            vec!["t"]
        );
        // Version 7 from the future, with an extra trailing field: read as v3.
        let mut future = BytesMut::new();
        future.put_i16(7);
        future.extend_from_slice(&buf[2..]);
        future.put_i32(99);
        assert_eq!(
            decode_subscription(future.freeze()).unwrap().topics,
            vec!["t"]
        );
    }

    #[test]
    fn hostile_counts_are_rejected_before_decoding() {
        let mut b = BytesMut::new();
        b.put_i16(0);
        b.put_i32(i32::MAX); // topic count
        assert!(decode_subscription(b.freeze()).is_err());
        let mut b = BytesMut::new();
        b.put_i16(0);
        b.put_i32(1);
        b.put_i16(1);
        b.put_u8(b't');
        b.put_i32(1 << 30); // partition count
        assert!(decode_assignment(b.freeze()).is_err());
    }

    proptest! {
        #[test]
        fn every_partition_assigned_once(
            counts in proptest::collection::vec(0i32..7, 1..4),
            members in 1usize..5,
            strategy_index in 0usize..3,
        ) {
            let rr = strategy_index != 0;
            let parts: BTreeMap<String, i32> = counts.iter().enumerate().map(|(i, &n)| (format!("t{i}"), n)).collect();
            let topics: Vec<&str> = parts.keys().map(String::as_str).collect();
            let ms: Vec<MemberSubscription> = (0..members).map(|i| m(&format!("m{i}"), &topics)).collect();
            let strategy = [AssignmentStrategy::Range, AssignmentStrategy::RoundRobin, AssignmentStrategy::CooperativeSticky][strategy_index];
            let a = assign(strategy, &ms, &parts);
            let mut all: Vec<TopicPartition> = a.values().flatten().cloned().collect();
            let total = all.len();
            all.sort();
            all.dedup();
            prop_assert_eq!(all.len(), total);
            prop_assert_eq!(total as i32, counts.iter().sum::<i32>());
            let sizes: Vec<usize> = a.values().map(Vec::len).collect();
            if rr {
                let (lo, hi) = (sizes.iter().min().unwrap(), sizes.iter().max().unwrap());
                prop_assert!(hi - lo <= 1);
            }
        }

        #[test]
        fn garbage_consumer_protocol_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = decode_subscription(Bytes::from(data.clone()));
            let _ = decode_assignment(Bytes::from(data));
        }

        #[test]
        fn assignment_round_trip(parts in proptest::collection::btree_set(("[a-z]{1,5}", 0i32..100), 0..20)) {
            let list: Vec<TopicPartition> = parts.into_iter().map(|(t, p)| TopicPartition::new(t, p)).collect();
            let b = encode_assignment(&list).unwrap();
            prop_assert_eq!(decode_assignment(b).unwrap(), list);
        }
    }
}
