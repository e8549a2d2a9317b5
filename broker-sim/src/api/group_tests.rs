//! The group API handlers at every served version: JoinGroup, SyncGroup, Heartbeat,
//! LeaveGroup, OffsetCommit, OffsetFetch. Each response is encoded and decoded at its version.

use bytes::Bytes;
use kafka_protocol::ResponseError;
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

use super::test_util::{ctx, roundtrip};
use super::{heartbeat, join_group, leave_group, offset_commit, offset_fetch, sb, served_versions};
use crate::state::BrokerState;

fn versions(key: ApiKey) -> std::ops::RangeInclusive<i16> {
    let (min, max) = served_versions(key as i16).unwrap();
    min..=max
}

fn join_req(member: &str) -> JoinGroupRequest {
    JoinGroupRequest::default()
        .with_group_id(GroupId(sb("g")))
        .with_session_timeout_ms(10_000)
        .with_rebalance_timeout_ms(10_000)
        .with_member_id(sb(member))
        .with_protocol_type(sb("consumer"))
        .with_protocols(vec![
            JoinGroupRequestProtocol::default()
                .with_name(sb("range"))
                .with_metadata(Bytes::from_static(b"m")),
        ])
}

/// Joins one member at JoinGroup version `v` (following MEMBER_ID_REQUIRED from v4):
/// returns (member id, generation).
async fn join(s: &BrokerState, v: i16) -> (String, i32) {
    let c = ctx(ApiKey::JoinGroup, v);
    let mut r = roundtrip(
        ApiKey::JoinGroup,
        v,
        &join_group::handle(s, &c, join_req("")).await,
    );
    if v >= 4 {
        assert_eq!(r.error_code, ResponseError::MemberIdRequired.code(), "v{v}");
        let id = r.member_id.to_string();
        r = roundtrip(
            ApiKey::JoinGroup,
            v,
            &join_group::handle(s, &c, join_req(&id)).await,
        );
    }
    assert_eq!(r.error_code, 0, "v{v}");
    assert_eq!(r.leader, r.member_id);
    assert_eq!(r.members.len(), 1);
    assert_eq!(r.protocol_name.as_ref().map(|p| p.as_str()), Some("range"));
    if v >= 7 {
        assert_eq!(
            r.protocol_type.as_ref().map(|p| p.as_str()),
            Some("consumer")
        );
    }
    (r.member_id.to_string(), r.generation_id)
}

#[tokio::test(start_paused = true)]
async fn join_sync_heartbeat_at_every_version() {
    for v in versions(ApiKey::JoinGroup) {
        let s = BrokerState::for_tests();
        let (member, generation) = join(&s, v).await;
        assert_eq!(generation, 1);
        // SyncGroup at a matching era of versions
        let sv = v.min(5);
        let mut req = SyncGroupRequest::default()
            .with_group_id(GroupId(sb("g")))
            .with_generation_id(generation)
            .with_member_id(sb(member.clone()))
            .with_assignments(vec![
                SyncGroupRequestAssignment::default()
                    .with_member_id(sb(member.clone()))
                    .with_assignment(Bytes::from_static(b"A")),
            ]);
        if sv >= 5 {
            req = req
                .with_protocol_type(Some(sb("consumer")))
                .with_protocol_name(Some(sb("range")));
        }
        let r = super::sync_group::handle(&s, &ctx(ApiKey::SyncGroup, sv), req).await;
        let r = roundtrip(ApiKey::SyncGroup, sv, &r);
        assert_eq!(
            (r.error_code, r.assignment.as_ref()),
            (0, &b"A"[..]),
            "sync v{sv}"
        );
        for hv in versions(ApiKey::Heartbeat) {
            let hb = |generation: i32| {
                HeartbeatRequest::default()
                    .with_group_id(GroupId(sb("g")))
                    .with_generation_id(generation)
                    .with_member_id(sb(member.clone()))
            };
            let ok = roundtrip(
                ApiKey::Heartbeat,
                hv,
                &heartbeat::handle(&s, &ctx(ApiKey::Heartbeat, hv), hb(generation)),
            );
            assert_eq!(ok.error_code, 0);
            let stale = heartbeat::handle(&s, &ctx(ApiKey::Heartbeat, hv), hb(generation - 1));
            assert_eq!(stale.error_code, ResponseError::IllegalGeneration.code());
        }
    }
}

#[tokio::test(start_paused = true)]
async fn sync_group_v5_checks_protocol() {
    let s = BrokerState::for_tests();
    let (member, generation) = join(&s, 5).await;
    let req = SyncGroupRequest::default()
        .with_group_id(GroupId(sb("g")))
        .with_generation_id(generation)
        .with_member_id(sb(member))
        .with_protocol_name(Some(sb("roundrobin")));
    let r = super::sync_group::handle(&s, &ctx(ApiKey::SyncGroup, 5), req).await;
    assert_eq!(
        r.error_code,
        ResponseError::InconsistentGroupProtocol.code()
    );
}

#[tokio::test(start_paused = true)]
async fn leave_group_single_and_batched() {
    for v in versions(ApiKey::LeaveGroup) {
        let s = BrokerState::for_tests();
        let (member, _) = join(&s, 3).await;
        let c = ctx(ApiKey::LeaveGroup, v);
        let r = if v <= 2 {
            leave_group::handle(
                &s,
                &c,
                LeaveGroupRequest::default()
                    .with_group_id(GroupId(sb("g")))
                    .with_member_id(sb(member)),
            )
        } else {
            let r = leave_group::handle(
                &s,
                &c,
                LeaveGroupRequest::default()
                    .with_group_id(GroupId(sb("g")))
                    .with_members(vec![
                        MemberIdentity::default().with_member_id(sb(member)),
                        MemberIdentity::default().with_member_id(sb("ghost")),
                    ]),
            );
            let codes: Vec<i16> = r.members.iter().map(|m| m.error_code).collect();
            assert_eq!(
                codes,
                vec![0, ResponseError::UnknownMemberId.code()],
                "v{v}"
            );
            r
        };
        let r = roundtrip(ApiKey::LeaveGroup, v, &r);
        assert_eq!(r.error_code, 0, "v{v}");
        assert!(s.groups.describe("g").unwrap().members.is_empty());
        // Unknown group: per member (v3+) or top-level (v0-2) UNKNOWN_MEMBER_ID.
        let r = leave_group::handle(
            &s,
            &c,
            LeaveGroupRequest::default()
                .with_group_id(GroupId(sb("nope")))
                .with_member_id(if v <= 2 { sb("x") } else { sb("") })
                .with_members(if v <= 2 {
                    vec![]
                } else {
                    vec![MemberIdentity::default().with_member_id(sb("x"))]
                }),
        );
        let code = if v <= 2 {
            r.error_code
        } else {
            r.members[0].error_code
        };
        assert_eq!(code, ResponseError::UnknownMemberId.code(), "v{v}");
    }
}

fn commit_req(
    member: &str,
    generation: i32,
    topic: &str,
    partition: i32,
    offset: i64,
) -> OffsetCommitRequest {
    OffsetCommitRequest::default()
        .with_group_id(GroupId(sb("g")))
        .with_generation_id_or_member_epoch(generation)
        .with_member_id(sb(member))
        .with_topics(vec![
            OffsetCommitRequestTopic::default()
                .with_name(TopicName(sb(topic)))
                .with_partitions(vec![
                    OffsetCommitRequestPartition::default()
                        .with_partition_index(partition)
                        .with_committed_offset(offset)
                        .with_committed_metadata(Some(sb("meta"))),
                ]),
        ])
}

#[tokio::test(start_paused = true)]
async fn offset_commit_and_fetch_at_every_version() {
    for v in versions(ApiKey::OffsetCommit) {
        let s = BrokerState::for_tests();
        s.get_or_auto_create("t").unwrap();
        let (member, generation) = join(&s, 2).await;
        let c = ctx(ApiKey::OffsetCommit, v);
        // Still CompletingRebalance (no SyncGroup yet): REBALANCE_IN_PROGRESS.
        let r = offset_commit::handle(&s, &c, commit_req(&member, generation, "t", 0, 5));
        assert_eq!(
            r.topics[0].partitions[0].error_code,
            ResponseError::RebalanceInProgress.code()
        );
        super::sync_group::handle(
            &s,
            &ctx(ApiKey::SyncGroup, 1),
            SyncGroupRequest::default()
                .with_group_id(GroupId(sb("g")))
                .with_generation_id(generation)
                .with_member_id(sb(member.clone())),
        )
        .await;
        let r = roundtrip(
            ApiKey::OffsetCommit,
            v,
            &offset_commit::handle(&s, &c, commit_req(&member, generation, "t", 0, 5)),
        );
        assert_eq!(r.topics[0].partitions[0].error_code, 0, "v{v}");
        let r = offset_commit::handle(&s, &c, commit_req(&member, generation + 1, "t", 0, 6));
        assert_eq!(
            r.topics[0].partitions[0].error_code,
            ResponseError::IllegalGeneration.code()
        );
        let r = offset_commit::handle(&s, &c, commit_req(&member, generation, "t", 9, 6));
        assert_eq!(
            r.topics[0].partitions[0].error_code,
            ResponseError::UnknownTopicOrPartition.code()
        );
        let r = offset_commit::handle(&s, &c, commit_req("", -1, "t", 0, 6));
        assert_eq!(
            r.topics[0].partitions[0].error_code,
            ResponseError::UnknownMemberId.code(),
            "simple commit into a live group"
        );
    }
    let s = BrokerState::for_tests();
    s.get_or_auto_create("t").unwrap();
    // Simple commit (assign() consumers) into a group without members.
    let r = offset_commit::handle(
        &s,
        &ctx(ApiKey::OffsetCommit, 8),
        commit_req("", -1, "t", 0, 42),
    );
    assert_eq!(r.topics[0].partitions[0].error_code, 0);
    for v in versions(ApiKey::OffsetFetch) {
        let c = ctx(ApiKey::OffsetFetch, v);
        let topics = |parts: Vec<i32>| {
            vec![
                OffsetFetchRequestTopic::default()
                    .with_name(TopicName(sb("t")))
                    .with_partition_indexes(parts),
            ]
        };
        let r = if v >= 8 {
            let group = |id: &str, all: bool| {
                OffsetFetchRequestGroup::default()
                    .with_group_id(GroupId(sb(id)))
                    .with_topics(if all {
                        None
                    } else {
                        Some(vec![
                            OffsetFetchRequestTopics::default()
                                .with_name(TopicName(sb("t")))
                                .with_partition_indexes(vec![0, 1]),
                        ])
                    })
            };
            let r = offset_fetch::handle(
                &s,
                &c,
                OffsetFetchRequest::default().with_groups(vec![
                    group("g", false),
                    group("g", true),
                    group("other", true),
                ]),
            );
            let g = &r.groups;
            let offsets: Vec<i64> = g[0].topics[0]
                .partitions
                .iter()
                .map(|p| p.committed_offset)
                .collect();
            assert_eq!(offsets, vec![42, -1]);
            assert_eq!(
                g[0].topics[0].partitions[0]
                    .metadata
                    .as_ref()
                    .unwrap()
                    .as_str(),
                "meta"
            );
            assert_eq!(
                g[1].topics[0].partitions.len(),
                1,
                "null topics: all committed"
            );
            assert!(g[2].topics.is_empty());
            r
        } else {
            let r = offset_fetch::handle(
                &s,
                &c,
                OffsetFetchRequest::default()
                    .with_group_id(GroupId(sb("g")))
                    .with_topics(Some(topics(vec![0, 1]))),
            );
            let offsets: Vec<i64> = r.topics[0]
                .partitions
                .iter()
                .map(|p| p.committed_offset)
                .collect();
            assert_eq!(offsets, vec![42, -1], "v{v}");
            if v >= 2 {
                let all = offset_fetch::handle(
                    &s,
                    &c,
                    OffsetFetchRequest::default()
                        .with_group_id(GroupId(sb("g")))
                        .with_topics(None),
                );
                assert_eq!(all.topics[0].partitions.len(), 1);
                let bad = offset_fetch::handle(
                    &s,
                    &c,
                    OffsetFetchRequest::default()
                        .with_group_id(GroupId(sb("")))
                        .with_topics(None),
                );
                assert_eq!(bad.error_code, ResponseError::InvalidGroupId.code());
                roundtrip(ApiKey::OffsetFetch, v, &bad);
            }
            r
        };
        roundtrip(ApiKey::OffsetFetch, v, &r);
    }
}

#[tokio::test(start_paused = true)]
async fn error_responses_encode_at_every_version() {
    let e = ResponseError::InvalidRequest;
    for v in versions(ApiKey::JoinGroup) {
        roundtrip(ApiKey::JoinGroup, v, &join_group::error_response(e, v));
    }
    for v in versions(ApiKey::SyncGroup) {
        roundtrip(
            ApiKey::SyncGroup,
            v,
            &super::sync_group::error_response(e, v),
        );
    }
    for v in versions(ApiKey::Heartbeat) {
        roundtrip(ApiKey::Heartbeat, v, &heartbeat::error_response(e, v));
    }
    for v in versions(ApiKey::LeaveGroup) {
        roundtrip(ApiKey::LeaveGroup, v, &leave_group::error_response(e, v));
    }
    for v in versions(ApiKey::OffsetCommit) {
        roundtrip(
            ApiKey::OffsetCommit,
            v,
            &offset_commit::error_response(e, v),
        );
    }
    for v in versions(ApiKey::OffsetFetch) {
        roundtrip(ApiKey::OffsetFetch, v, &offset_fetch::error_response(e, v));
    }
    for v in versions(ApiKey::FindCoordinator) {
        roundtrip(
            ApiKey::FindCoordinator,
            v,
            &super::find_coordinator::error_response(e, v),
        );
    }
    for v in versions(ApiKey::Fetch) {
        roundtrip(ApiKey::Fetch, v, &super::fetch::error_response(e, v));
    }
    for v in versions(ApiKey::Metadata) {
        roundtrip(ApiKey::Metadata, v, &super::metadata::error_response(e, v));
    }
    for v in versions(ApiKey::ListOffsets) {
        roundtrip(
            ApiKey::ListOffsets,
            v,
            &super::list_offsets::error_response(e, v),
        );
    }
    for v in versions(ApiKey::CreateTopics) {
        roundtrip(
            ApiKey::CreateTopics,
            v,
            &super::create_topics::error_response(e, v),
        );
    }
    for v in versions(ApiKey::DeleteTopics) {
        roundtrip(
            ApiKey::DeleteTopics,
            v,
            &super::delete_topics::error_response(e, v),
        );
    }
    for v in versions(ApiKey::ApiVersions) {
        roundtrip(
            ApiKey::ApiVersions,
            v,
            &super::api_versions::error_response(e, v),
        );
    }
    for v in 3..=11 {
        roundtrip(ApiKey::Produce, v, &super::produce::error_response(e, v));
    }
}
