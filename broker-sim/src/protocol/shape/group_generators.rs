//! Strategies for random valid group-coordination requests (FindCoordinator, JoinGroup,
//! SyncGroup, Heartbeat, LeaveGroup, OffsetCommit, OffsetFetch); see `generators.rs`.

use kafka_protocol::messages::join_group_request::JoinGroupRequestProtocol;
use kafka_protocol::messages::leave_group_request::MemberIdentity;
use kafka_protocol::messages::offset_commit_request::{
    OffsetCommitRequestPartition, OffsetCommitRequestTopic,
};
use kafka_protocol::messages::offset_fetch_request::{
    OffsetFetchRequestGroup, OffsetFetchRequestTopic, OffsetFetchRequestTopics,
};
use kafka_protocol::messages::sync_group_request::SyncGroupRequestAssignment;
use kafka_protocol::messages::*;
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;

use super::generators::{group, nsb, raw, sb, tags, topic};

pub(super) fn find_coordinator(v: i16) -> impl Strategy<Value = FindCoordinatorRequest> {
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

pub(super) fn join_group(v: i16) -> impl Strategy<Value = JoinGroupRequest> {
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

pub(super) fn sync_group(v: i16) -> impl Strategy<Value = SyncGroupRequest> {
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

pub(super) fn heartbeat(v: i16) -> impl Strategy<Value = HeartbeatRequest> {
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

pub(super) fn leave_group(v: i16) -> impl Strategy<Value = LeaveGroupRequest> {
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

pub(super) fn offset_commit(v: i16) -> impl Strategy<Value = OffsetCommitRequest> {
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

pub(super) fn offset_fetch(v: i16) -> impl Strategy<Value = OffsetFetchRequest> {
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
