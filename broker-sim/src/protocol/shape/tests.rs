//! Cross-checks the shape tables against `kafka_protocol`: random valid requests built with the
//! crate's builders, for every API and every version this broker serves, must be walked to
//! exactly their last byte, every strict prefix must be rejected, and hostile counts must be
//! refused before anything is allocated.

use std::collections::BTreeMap;
use std::fmt::Debug;

use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::create_topics_request::{
    CreatableReplicaAssignment, CreatableTopic, CreatableTopicConfig,
};
use kafka_protocol::messages::delete_topics_request::DeleteTopicState;
use kafka_protocol::messages::fetch_request::{
    FetchPartition, FetchTopic, ForgottenTopic, ReplicaState,
};
use kafka_protocol::messages::join_group_request::JoinGroupRequestProtocol;
use kafka_protocol::messages::leave_group_request::MemberIdentity;
use kafka_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::messages::offset_commit_request::{
    OffsetCommitRequestPartition, OffsetCommitRequestTopic,
};
use kafka_protocol::messages::offset_fetch_request::{
    OffsetFetchRequestGroup, OffsetFetchRequestTopic, OffsetFetchRequestTopics,
};
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::sync_group_request::SyncGroupRequestAssignment;
use kafka_protocol::messages::*;
use kafka_protocol::protocol::{Decodable, Encodable, StrBytes};
use proptest::collection::{btree_map, vec};
use proptest::option;
use proptest::prelude::*;
use uuid::Uuid;

use super::{ShapeError, check};
use crate::api::served_versions;

fn sb() -> impl Strategy<Value = StrBytes> {
    "[a-zA-Z0-9._-]{0,10}".prop_map(StrBytes::from_string)
}
fn nsb() -> impl Strategy<Value = Option<StrBytes>> {
    option::of(sb())
}
fn topic() -> impl Strategy<Value = TopicName> {
    sb().prop_map(TopicName)
}
fn group() -> impl Strategy<Value = GroupId> {
    sb().prop_map(GroupId)
}
fn raw() -> impl Strategy<Value = Bytes> {
    vec(any::<u8>(), 0..20).prop_map(Bytes::from)
}
fn uuid() -> impl Strategy<Value = Uuid> {
    any::<u128>().prop_map(Uuid::from_u128)
}
/// Unknown tagged fields, only in flexible versions (tags far above any known one).
fn tags(flexible: bool) -> BoxedStrategy<BTreeMap<i32, Bytes>> {
    if flexible {
        btree_map(1000..1100i32, raw(), 0..3).boxed()
    } else {
        Just(BTreeMap::new()).boxed()
    }
}

fn versions(key: ApiKey, from: i16) -> impl Strategy<Value = i16> {
    let (min, max) = served_versions(key as i16).unwrap_or((0, -1));
    min.max(from)..=max
}

/// Encodes `req` at `version` and checks walker and decoder agree with it.
fn assert_walks<R>(key: ApiKey, version: i16, req: &R) -> Result<(), TestCaseError>
where
    R: Encodable + Decodable + PartialEq + Debug,
{
    let mut buf = BytesMut::new();
    req.encode(&mut buf, version)
        .map_err(|e| TestCaseError::fail(format!("generator built an unencodable request: {e}")))?;
    let bytes = buf.freeze();
    prop_assert_eq!(
        check(key as i16, version, &bytes),
        Ok(()),
        "v{} {:?}",
        version,
        req
    );
    for cut in 0..bytes.len() {
        prop_assert!(
            check(key as i16, version, &bytes[..cut]).is_err(),
            "prefix {} accepted",
            cut
        );
    }
    let mut extended = bytes.to_vec();
    extended.push(0);
    prop_assert_eq!(
        check(key as i16, version, &extended),
        Err(ShapeError::Trailing(1))
    );
    let decoded = R::decode(&mut bytes.clone(), version)
        .map_err(|e| TestCaseError::fail(format!("crate cannot decode: {e}")))?;
    prop_assert_eq!(&decoded, req);
    Ok(())
}

fn api_versions(v: i16) -> impl Strategy<Value = ApiVersionsRequest> {
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

fn metadata(v: i16) -> impl Strategy<Value = MetadataRequest> {
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

fn create_topics(v: i16) -> impl Strategy<Value = CreateTopicsRequest> {
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

fn delete_topics(v: i16) -> impl Strategy<Value = DeleteTopicsRequest> {
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

fn produce(v: i16) -> impl Strategy<Value = ProduceRequest> {
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

fn fetch(v: i16) -> impl Strategy<Value = FetchRequest> {
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

fn list_offsets(v: i16) -> impl Strategy<Value = ListOffsetsRequest> {
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

fn find_coordinator(v: i16) -> impl Strategy<Value = FindCoordinatorRequest> {
    (sb(), any::<i8>(), vec(sb(), 0..3), tags(v >= 3)).prop_map(move |(key, kt, keys, t)| {
        let mut r = FindCoordinatorRequest::default().with_unknown_tagged_fields(t);
        if v <= 3 {
            r = r.with_key(key);
        } else {
            r = r.with_coordinator_keys(keys);
        }
        if v >= 1 {
            r = r.with_key_type(kt);
        }
        r
    })
}

fn join_group(v: i16) -> impl Strategy<Value = JoinGroupRequest> {
    let p = (sb(), raw()).prop_map(|(n, m)| {
        JoinGroupRequestProtocol::default()
            .with_name(n)
            .with_metadata(m)
    });
    (
        group(),
        any::<[i32; 2]>(),
        (sb(), nsb(), sb(), nsb()),
        vec(p, 0..3),
        tags(v >= 6),
    )
        .prop_map(move |(g, i, (member, instance, ptype, reason), ps, t)| {
            let mut r = JoinGroupRequest::default()
                .with_group_id(g)
                .with_session_timeout_ms(i[0])
                .with_member_id(member)
                .with_protocol_type(ptype)
                .with_protocols(ps)
                .with_unknown_tagged_fields(t);
            if v >= 1 {
                r = r.with_rebalance_timeout_ms(i[1]);
            }
            if v >= 5 {
                r = r.with_group_instance_id(instance);
            }
            if v >= 8 {
                r = r.with_reason(reason);
            }
            r
        })
}

fn sync_group(v: i16) -> impl Strategy<Value = SyncGroupRequest> {
    let a = (sb(), raw()).prop_map(|(m, a)| {
        SyncGroupRequestAssignment::default()
            .with_member_id(m)
            .with_assignment(a)
    });
    (
        group(),
        any::<i32>(),
        (sb(), nsb(), nsb(), nsb()),
        vec(a, 0..3),
        tags(v >= 4),
    )
        .prop_map(
            move |(g, gen_id, (member, instance, ptype, pname), assignments, t)| {
                let mut r = SyncGroupRequest::default()
                    .with_group_id(g)
                    .with_generation_id(gen_id)
                    .with_member_id(member)
                    .with_assignments(assignments)
                    .with_unknown_tagged_fields(t);
                if v >= 3 {
                    r = r.with_group_instance_id(instance);
                }
                if v >= 5 {
                    r = r.with_protocol_type(ptype).with_protocol_name(pname);
                }
                r
            },
        )
}

fn heartbeat(v: i16) -> impl Strategy<Value = HeartbeatRequest> {
    (group(), any::<i32>(), sb(), nsb(), tags(v >= 4)).prop_map(move |(g, gen_id, m, inst, t)| {
        let r = HeartbeatRequest::default()
            .with_group_id(g)
            .with_generation_id(gen_id)
            .with_member_id(m)
            .with_unknown_tagged_fields(t);
        if v >= 3 {
            r.with_group_instance_id(inst)
        } else {
            r
        }
    })
}

fn leave_group(v: i16) -> impl Strategy<Value = LeaveGroupRequest> {
    let m = (sb(), nsb(), nsb()).prop_map(move |(id, inst, reason)| {
        let m = MemberIdentity::default()
            .with_member_id(id)
            .with_group_instance_id(inst);
        if v >= 5 { m.with_reason(reason) } else { m }
    });
    (group(), sb(), vec(m, 0..3), tags(v >= 4)).prop_map(move |(g, member, members, t)| {
        let r = LeaveGroupRequest::default()
            .with_group_id(g)
            .with_unknown_tagged_fields(t);
        if v <= 2 {
            r.with_member_id(member)
        } else {
            r.with_members(members)
        }
    })
}

fn offset_commit(v: i16) -> impl Strategy<Value = OffsetCommitRequest> {
    let p = (any::<i32>(), any::<i64>(), any::<i32>(), nsb()).prop_map(move |(i, o, e, md)| {
        let p = OffsetCommitRequestPartition::default()
            .with_partition_index(i)
            .with_committed_offset(o)
            .with_committed_metadata(md);
        if v >= 6 {
            p.with_committed_leader_epoch(e)
        } else {
            p
        }
    });
    let t = (topic(), vec(p, 0..3)).prop_map(|(n, ps)| {
        OffsetCommitRequestTopic::default()
            .with_name(n)
            .with_partitions(ps)
    });
    (
        group(),
        any::<i32>(),
        (sb(), nsb()),
        any::<i64>(),
        vec(t, 0..3),
        tags(v >= 8),
    )
        .prop_map(move |(g, gen_id, (member, inst), retention, topics, t)| {
            let mut r = OffsetCommitRequest::default()
                .with_group_id(g)
                .with_generation_id_or_member_epoch(gen_id)
                .with_member_id(member)
                .with_topics(topics)
                .with_unknown_tagged_fields(t);
            if v >= 7 {
                r = r.with_group_instance_id(inst);
            }
            if v <= 4 {
                r = r.with_retention_time_ms(retention);
            }
            r
        })
}

fn offset_fetch(v: i16) -> impl Strategy<Value = OffsetFetchRequest> {
    let t = (topic(), vec(any::<i32>(), 0..3)).prop_map(|(n, ps)| {
        OffsetFetchRequestTopic::default()
            .with_name(n)
            .with_partition_indexes(ps)
    });
    let ts = (topic(), vec(any::<i32>(), 0..3)).prop_map(|(n, ps)| {
        OffsetFetchRequestTopics::default()
            .with_name(n)
            .with_partition_indexes(ps)
    });
    let g = (group(), option::of(vec(ts, 0..3))).prop_map(|(g, topics)| {
        OffsetFetchRequestGroup::default()
            .with_group_id(g)
            .with_topics(topics)
    });
    (
        group(),
        option::of(vec(t, 0..3)),
        vec(g, 0..3),
        any::<bool>(),
        tags(v >= 6),
    )
        .prop_map(move |(gid, topics, groups, stable, t)| {
            let mut r = OffsetFetchRequest::default().with_unknown_tagged_fields(t);
            if v <= 7 {
                r = r.with_group_id(gid).with_topics(topics);
            } else {
                r = r.with_groups(groups);
            }
            if v >= 7 {
                r = r.with_require_stable(stable);
            }
            r
        })
}

macro_rules! shape_proptest {
    ($name:ident, $key:expr, $gen:ident) => {
        shape_proptest!($name, $key, $gen, 0);
    };
    ($name:ident, $key:expr, $gen:ident, $from:expr) => {
        proptest! {
            #[test]
            fn $name((v, req) in versions($key, $from).prop_flat_map(|v| (Just(v), $gen(v)))) {
                assert_walks($key, v, &req)?;
            }
        }
    };
}

shape_proptest!(api_versions_shapes, ApiKey::ApiVersions, api_versions);
shape_proptest!(metadata_shapes, ApiKey::Metadata, metadata);
shape_proptest!(create_topics_shapes, ApiKey::CreateTopics, create_topics);
shape_proptest!(delete_topics_shapes, ApiKey::DeleteTopics, delete_topics);
// v0-2 are covered by `produce_legacy_shapes`: the crate cannot encode them.
shape_proptest!(produce_shapes, ApiKey::Produce, produce, 3);

proptest! {
    /// Produce v0-2 bodies are v3 bodies without the transactional id.
    #[test]
    fn produce_legacy_shapes(v in 0i16..=2, req in produce(3)) {
        let req = req.with_transactional_id(None);
        let mut buf = BytesMut::new();
        req.encode(&mut buf, 3).unwrap();
        let body = &buf[2..];
        prop_assert_eq!(check(ApiKey::Produce as i16, v, body), Ok(()));
        for cut in 0..body.len() {
            prop_assert!(check(ApiKey::Produce as i16, v, &body[..cut]).is_err());
        }
    }
}
shape_proptest!(fetch_shapes, ApiKey::Fetch, fetch);
shape_proptest!(list_offsets_shapes, ApiKey::ListOffsets, list_offsets);
shape_proptest!(
    find_coordinator_shapes,
    ApiKey::FindCoordinator,
    find_coordinator
);
shape_proptest!(join_group_shapes, ApiKey::JoinGroup, join_group);
shape_proptest!(sync_group_shapes, ApiKey::SyncGroup, sync_group);
shape_proptest!(heartbeat_shapes, ApiKey::Heartbeat, heartbeat);
shape_proptest!(leave_group_shapes, ApiKey::LeaveGroup, leave_group);
shape_proptest!(offset_commit_shapes, ApiKey::OffsetCommit, offset_commit);
shape_proptest!(offset_fetch_shapes, ApiKey::OffsetFetch, offset_fetch);

proptest! {
    /// Arbitrary bytes never panic the walker, for any api key and version.
    #[test]
    fn random_bytes_never_panic(key in 0i16..80, version in -1i16..20,
                                body in vec(any::<u8>(), 0..64)) {
        let _ = check(key, version, &body);
    }
}

#[test]
fn every_served_api_has_a_table() {
    for &(key, min, max) in crate::api::SUPPORTED {
        assert!(
            super::shape_for(key as i16).is_some(),
            "{key:?} {min}-{max}"
        );
    }
}

/// The brief's example: an 8-byte Metadata v0 body whose topic count says 54 million.
#[test]
fn hostile_metadata_count_rejected() {
    let count: i32 = 54_000_000;
    let mut body = count.to_be_bytes().to_vec();
    body.extend_from_slice(&[0, 1, b'a', 0]);
    assert_eq!(body.len(), 8);
    let err = check(ApiKey::Metadata as i16, 0, &body).unwrap_err();
    assert!(
        matches!(err, ShapeError::Truncated { pos: 0, .. }),
        "{err:?}"
    );
    // Compact form: a uvarint of 54 million + 1 in a flexible version.
    let mut body = vec![0x81, 0xbe, 0xdf, 0x19];
    body.extend_from_slice(&[0, 0, 0, 0]);
    assert!(check(ApiKey::Metadata as i16, 12, &body).is_err());
}

#[test]
fn tagged_field_with_wrong_declared_size_is_rejected() {
    // Fetch v12 body with a cluster_id tag (tag 0) whose declared size is 1 larger than its value.
    let req = FetchRequest::default().with_cluster_id(Some(StrBytes::from_static_str("c")));
    let mut buf = BytesMut::new();
    req.encode(&mut buf, 12).unwrap();
    let bytes = buf.to_vec();
    check(ApiKey::Fetch as i16, 12, &bytes).unwrap();
    // Layout tail: ... rack_id(1) tagcount(1) tag(1) size(1) value(2)
    let size_at = bytes.len() - 3;
    assert_eq!(bytes[size_at], 2);
    let mut bad = bytes.clone();
    bad[size_at] = 1;
    assert!(check(ApiKey::Fetch as i16, 12, &bad).is_err());
}

#[test]
fn many_elements_are_capped() {
    // ListOffsets v1: replica_id, then 2 million topics of 6 bytes each would be 12 MB; the
    // element budget stops it early. Build 1M+1 minimal topics (empty name, empty partitions).
    let n = super::MAX_ELEMENTS + 1;
    let mut body = Vec::with_capacity(8 + n * 6);
    body.extend_from_slice(&(-1i32).to_be_bytes());
    body.extend_from_slice(&(n as i32).to_be_bytes());
    for _ in 0..n {
        body.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    }
    assert_eq!(
        check(ApiKey::ListOffsets as i16, 1, &body),
        Err(ShapeError::TooManyElements)
    );
}
