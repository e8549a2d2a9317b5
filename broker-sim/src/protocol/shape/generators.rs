//! Strategies for random *valid* requests of every served API and version, built with
//! `kafka_protocol`'s builders. A field is only set in versions that carry it (the crate
//! refuses to encode anything else), so these double as a second reading of the schemas.

use std::collections::BTreeMap;

use bytes::Bytes;
use kafka_protocol::messages::create_topics_request::{
    CreatableReplicaAssignment, CreatableTopic, CreatableTopicConfig,
};
use kafka_protocol::messages::delete_topics_request::DeleteTopicState;
use kafka_protocol::messages::fetch_request::{
    FetchPartition, FetchTopic, ForgottenTopic, ReplicaState,
};
use kafka_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::*;
use kafka_protocol::protocol::StrBytes;
use proptest::collection::{btree_map, vec};
use proptest::option;
use proptest::prelude::*;
use uuid::Uuid;

use crate::api::served_versions;

pub(super) fn sb() -> impl Strategy<Value = StrBytes> {
    "[a-zA-Z0-9._-]{0,10}".prop_map(StrBytes::from_string)
}
pub(super) fn nsb() -> impl Strategy<Value = Option<StrBytes>> {
    option::of(sb())
}
pub(super) fn topic() -> impl Strategy<Value = TopicName> {
    sb().prop_map(TopicName)
}
pub(super) fn group() -> impl Strategy<Value = GroupId> {
    sb().prop_map(GroupId)
}
pub(super) fn raw() -> impl Strategy<Value = Bytes> {
    vec(any::<u8>(), 0..20).prop_map(Bytes::from)
}
pub(super) fn uuid() -> impl Strategy<Value = Uuid> {
    any::<u128>().prop_map(Uuid::from_u128)
}
/// Unknown tagged fields, only in flexible versions (tags far above any known one).
pub(super) fn tags(flexible: bool) -> BoxedStrategy<BTreeMap<i32, Bytes>> {
    if flexible {
        btree_map(1000..1100i32, raw(), 0..3).boxed()
    } else {
        Just(BTreeMap::new()).boxed()
    }
}

pub(super) fn versions(key: ApiKey, from: i16) -> impl Strategy<Value = i16> {
    let (min, max) = served_versions(key as i16).unwrap_or((0, -1));
    min.max(from)..=max
}

pub(super) fn api_versions(v: i16) -> impl Strategy<Value = ApiVersionsRequest> {
    (sb(), sb(), tags(v >= 3)).prop_map(move |(name, ver, t)| {
        let mut r = ApiVersionsRequest::default().with_unknown_tagged_fields(t);
        if v >= 3 {
            r = r
                .with_client_software_name(name)
                .with_client_software_version(ver);
        }
        r
    })
}

pub(super) fn metadata(v: i16) -> impl Strategy<Value = MetadataRequest> {
    let t = (uuid(), option::of(topic())).prop_map(move |(id, name)| {
        let t = MetadataRequestTopic::default().with_name(name);
        if v >= 10 { t.with_topic_id(id) } else { t }
    });
    (option::of(vec(t, 0..4)), any::<[bool; 3]>(), tags(v >= 9)).prop_map(move |(topics, b, t)| {
        MetadataRequest::default()
            .with_topics(topics)
            .with_allow_auto_topic_creation(v < 4 || b[0])
            .with_include_cluster_authorized_operations((8..=10).contains(&v) && b[1])
            .with_include_topic_authorized_operations(v >= 8 && b[2])
            .with_unknown_tagged_fields(t)
    })
}

pub(super) fn create_topics(v: i16) -> impl Strategy<Value = CreateTopicsRequest> {
    let assignment =
        (any::<i32>(), vec(any::<i32>().prop_map(BrokerId), 0..3)).prop_map(|(p, ids)| {
            CreatableReplicaAssignment::default()
                .with_partition_index(p)
                .with_broker_ids(ids)
        });
    let config = (sb(), nsb())
        .prop_map(|(n, val)| CreatableTopicConfig::default().with_name(n).with_value(val));
    let t = (
        topic(),
        any::<i32>(),
        any::<i16>(),
        vec(assignment, 0..3),
        vec(config, 0..3),
    )
        .prop_map(|(name, n, rf, a, c)| {
            CreatableTopic::default()
                .with_name(name)
                .with_num_partitions(n)
                .with_replication_factor(rf)
                .with_assignments(a)
                .with_configs(c)
        });
    (vec(t, 0..3), any::<i32>(), any::<bool>(), tags(v >= 5)).prop_map(|(topics, to, vo, t)| {
        CreateTopicsRequest::default()
            .with_topics(topics)
            .with_timeout_ms(to)
            .with_validate_only(vo)
            .with_unknown_tagged_fields(t)
    })
}

pub(super) fn delete_topics(v: i16) -> impl Strategy<Value = DeleteTopicsRequest> {
    let state = (option::of(topic()), uuid())
        .prop_map(|(n, id)| DeleteTopicState::default().with_name(n).with_topic_id(id));
    (
        vec(state, 0..3),
        vec(topic(), 0..3),
        any::<i32>(),
        tags(v >= 4),
    )
        .prop_map(move |(states, names, to, t)| {
            let r = DeleteTopicsRequest::default()
                .with_timeout_ms(to)
                .with_unknown_tagged_fields(t);
            if v >= 6 {
                r.with_topics(states)
            } else {
                r.with_topic_names(names)
            }
        })
}

pub(super) fn produce(v: i16) -> impl Strategy<Value = ProduceRequest> {
    let p = (any::<i32>(), option::of(raw())).prop_map(|(i, r)| {
        PartitionProduceData::default()
            .with_index(i)
            .with_records(r)
    });
    let t = (topic(), vec(p, 0..3)).prop_map(|(n, ps)| {
        TopicProduceData::default()
            .with_name(n)
            .with_partition_data(ps)
    });
    (
        option::of(sb()),
        any::<i16>(),
        any::<i32>(),
        vec(t, 0..3),
        tags(v >= 9),
    )
        .prop_map(|(tx, acks, to, topics, t)| {
            ProduceRequest::default()
                .with_transactional_id(tx.map(TransactionalId))
                .with_acks(acks)
                .with_timeout_ms(to)
                .with_topic_data(topics)
                .with_unknown_tagged_fields(t)
        })
}

pub(super) fn fetch(v: i16) -> impl Strategy<Value = FetchRequest> {
    let p = (any::<[i32; 4]>(), any::<[i64; 2]>(), tags(v >= 12)).prop_map(move |(i, l, t)| {
        let mut p = FetchPartition::default()
            .with_partition(i[0])
            .with_fetch_offset(l[0])
            .with_partition_max_bytes(i[1])
            .with_unknown_tagged_fields(t);
        if v >= 9 {
            p = p.with_current_leader_epoch(i[2]);
        }
        if v >= 12 {
            p = p.with_last_fetched_epoch(i[3]);
        }
        if v >= 5 {
            p = p.with_log_start_offset(l[1]);
        }
        p
    });
    let t = (topic(), uuid(), vec(p, 0..3)).prop_map(move |(n, id, ps)| {
        let t = FetchTopic::default().with_partitions(ps);
        if v >= 13 {
            t.with_topic_id(id)
        } else {
            t.with_topic(n)
        }
    });
    let forgotten = (topic(), uuid(), vec(any::<i32>(), 0..3)).prop_map(move |(n, id, ps)| {
        let f = ForgottenTopic::default().with_partitions(ps);
        if v >= 13 {
            f.with_topic_id(id)
        } else {
            f.with_topic(n)
        }
    });
    let ints = any::<[i32; 7]>();
    (
        ints,
        any::<i8>(),
        vec(t, 0..3),
        vec(forgotten, 0..2),
        (sb(), nsb(), any::<i64>()),
        tags(v >= 12),
    )
        .prop_map(
            move |(i, iso, topics, forgotten, (rack, cluster, epoch), t)| {
                let mut r = FetchRequest::default()
                    .with_max_wait_ms(i[0])
                    .with_min_bytes(i[1])
                    .with_max_bytes(i[2])
                    .with_isolation_level(iso)
                    .with_topics(topics)
                    .with_unknown_tagged_fields(t);
                if v <= 14 {
                    r = r.with_replica_id(BrokerId(i[3]));
                } else {
                    r = r.with_replica_state(
                        ReplicaState::default()
                            .with_replica_id(BrokerId(i[3]))
                            .with_replica_epoch(epoch),
                    );
                }
                if v >= 7 {
                    r = r
                        .with_session_id(i[4])
                        .with_session_epoch(i[5])
                        .with_forgotten_topics_data(forgotten);
                }
                if v >= 11 {
                    r = r.with_rack_id(rack);
                }
                if v >= 12 {
                    r = r.with_cluster_id(cluster);
                }
                r
            },
        )
}

pub(super) fn list_offsets(v: i16) -> impl Strategy<Value = ListOffsetsRequest> {
    let p = (any::<i32>(), any::<i32>(), any::<i64>()).prop_map(move |(i, e, ts)| {
        let p = ListOffsetsPartition::default()
            .with_partition_index(i)
            .with_timestamp(ts);
        if v >= 4 {
            p.with_current_leader_epoch(e)
        } else {
            p
        }
    });
    let t = (topic(), vec(p, 0..3))
        .prop_map(|(n, ps)| ListOffsetsTopic::default().with_name(n).with_partitions(ps));
    (
        any::<i32>(),
        any::<i8>(),
        vec(t, 0..3),
        any::<i32>(),
        tags(v >= 6),
    )
        .prop_map(move |(rid, iso, topics, to, t)| {
            let mut r = ListOffsetsRequest::default()
                .with_replica_id(BrokerId(rid))
                .with_topics(topics)
                .with_unknown_tagged_fields(t);
            if v >= 2 {
                r = r.with_isolation_level(iso);
            }
            if v >= 10 {
                r = r.with_timeout_ms(to);
            }
            r
        })
}
