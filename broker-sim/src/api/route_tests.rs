//! Routing in a 3-node cluster state: leaders, coordinators, failover, and the responses
//! that carry NOT_LEADER_OR_FOLLOWER / NOT_COORDINATOR at each version.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use kafka_protocol::messages::offset_commit_request::{
    OffsetCommitRequestPartition, OffsetCommitRequestTopic,
};
use kafka_protocol::messages::offset_fetch_request::OffsetFetchRequestGroup;
use kafka_protocol::messages::*;

use super::produce::tests::{handle_now, produce_req};
use super::route::{Routed, refusal};
use super::test_util::{ctx_on, roundtrip};
use super::{fetch, find_coordinator, list_offsets, metadata, offset_fetch, sb};
use crate::log::batch::tests::build_batch;
use crate::state::{BrokerState, NewTopic};

fn cluster_with_topic(partitions: i32) -> BrokerState {
    let s = BrokerState::for_tests_cluster(3);
    let mut t = NewTopic::with_defaults("t");
    t.num_partitions = partitions;
    s.create_topic(&t, false).unwrap();
    s
}

fn leader(s: &BrokerState, p: i32) -> (i32, i32) {
    s.topic("t").unwrap().partition(p).unwrap().leader()
}

#[test]
fn leaders_are_round_robin_and_metadata_lists_every_node() {
    let s = cluster_with_topic(4);
    assert_eq!(
        (0..4).map(|p| leader(&s, p).0).collect::<Vec<_>>(),
        [0, 1, 2, 0]
    );
    let r = metadata::handle(
        &s,
        &ctx_on(ApiKey::Metadata, 12, 2),
        MetadataRequest::default().with_topics(None),
    );
    assert_eq!(r.brokers.len(), 3);
    assert_eq!(r.brokers[1].port, 9093);
    assert_eq!(r.controller_id.0, 0);
    assert_eq!(r.topics[0].partitions[1].leader_id.0, 1);
}

#[test]
fn produce_to_a_follower_names_the_leader_from_v10() {
    let s = cluster_with_topic(2);
    let batch = build_batch(&[(None, Some(b"a"), 1)]);
    for v in [9, 10, 11] {
        let r = handle_now(
            &s,
            &ctx_on(ApiKey::Produce, v, 0),
            produce_req("t", vec![(0, batch.clone()), (1, batch.clone())], 1),
        )
        .unwrap();
        let r = roundtrip(ApiKey::Produce, v, &r);
        let parts = &r.responses[0].partition_responses;
        assert_eq!(parts[0].error_code, 0, "v{v}: node 0 leads partition 0");
        assert_eq!(
            parts[1].error_code,
            ResponseError::NotLeaderOrFollower.code()
        );
        if v >= 10 {
            assert_eq!(parts[1].current_leader.leader_id.0, 1);
            assert_eq!(parts[1].current_leader.leader_epoch, 0);
            assert_eq!(r.node_endpoints.len(), 1);
            assert_eq!(
                (r.node_endpoints[0].node_id.0, r.node_endpoints[0].port),
                (1, 9093)
            );
        }
    }
    // only the leader's appends happened
    assert_eq!(s.topic("t").unwrap().partitions[1].offsets(), (0, 0));
}

fn fetch_req(partition: i32) -> FetchRequest {
    FetchRequest::default()
        .with_max_bytes(1 << 20)
        .with_topics(vec![
            FetchTopic::default()
                .with_topic(TopicName(sb("t")))
                .with_partitions(vec![
                    FetchPartition::default()
                        .with_partition(partition)
                        .with_partition_max_bytes(1 << 20),
                ]),
        ])
}

#[tokio::test]
async fn fetch_and_list_offsets_to_a_follower() {
    let s = cluster_with_topic(2);
    for v in [11, 12] {
        let r = fetch::handle(&s, &ctx_on(ApiKey::Fetch, v, 0), fetch_req(1)).await;
        let p = &r.responses[0].partitions[0];
        assert_eq!(p.error_code, ResponseError::NotLeaderOrFollower.code());
        if v >= 12 {
            assert_eq!(p.current_leader.leader_id.0, 1);
        }
        roundtrip(ApiKey::Fetch, v, &r);
    }
    // v13+ names topics by id
    let id = s.topic("t").unwrap().id;
    let mut req = fetch_req(1);
    req.topics[0].topic_id = id;
    let r = fetch::handle(&s, &ctx_on(ApiKey::Fetch, 16, 0), req).await;
    assert_eq!(r.node_endpoints.len(), 1);
    roundtrip(ApiKey::Fetch, 16, &r);
    let r = fetch::handle(&s, &ctx_on(ApiKey::Fetch, 12, 1), fetch_req(1)).await;
    assert_eq!(r.responses[0].partitions[0].error_code, 0);

    let lo = ListOffsetsRequest::default().with_topics(vec![
        ListOffsetsTopic::default()
            .with_name(TopicName(sb("t")))
            .with_partitions(vec![
                ListOffsetsPartition::default()
                    .with_partition_index(0)
                    .with_timestamp(-1),
            ]),
    ]);
    let r = list_offsets::handle(&s, &ctx_on(ApiKey::ListOffsets, 7, 2), lo.clone());
    assert_eq!(
        r.topics[0].partitions[0].error_code,
        ResponseError::NotLeaderOrFollower.code()
    );
    let r = list_offsets::handle(&s, &ctx_on(ApiKey::ListOffsets, 7, 0), lo);
    assert_eq!(r.topics[0].partitions[0].error_code, 0);
}

/// A group id coordinated by `node` in a fresh 3-node state.
fn group_on(s: &BrokerState, node: i32) -> String {
    (0..1000)
        .map(|i| format!("group-{i}"))
        .find(|g| s.nodes.coordinator_for(g).unwrap().node_id == node)
        .unwrap()
}

#[test]
fn coordinators_are_hashed_and_other_nodes_refuse_group_requests() {
    let s = cluster_with_topic(1);
    let g = group_on(&s, 2);
    for node in 0..3 {
        let r = find_coordinator::handle(
            &s,
            &ctx_on(ApiKey::FindCoordinator, 3, node),
            FindCoordinatorRequest::default().with_key(sb(g.clone())),
        );
        assert_eq!((r.error_code, r.node_id.0, r.port), (0, 2, 9094));
    }
    let hb = HeartbeatRequest::default().with_group_id(GroupId(sb(g.clone())));
    let c = ctx_on(ApiKey::Heartbeat, 4, 0);
    assert_eq!(refusal(&s, &c, &hb), Some(ResponseError::NotCoordinator));
    assert_eq!(refusal(&s, &ctx_on(ApiKey::Heartbeat, 4, 2), &hb), None);

    let commit = OffsetCommitRequest::default()
        .with_group_id(GroupId(sb(g.clone())))
        .with_generation_id_or_member_epoch(-1)
        .with_topics(vec![
            OffsetCommitRequestTopic::default()
                .with_name(TopicName(sb("t")))
                .with_partitions(vec![
                    OffsetCommitRequestPartition::default()
                        .with_partition_index(0)
                        .with_committed_offset(5),
                ]),
        ]);
    let c = ctx_on(ApiKey::OffsetCommit, 8, 1);
    let e = refusal(&s, &c, &commit).unwrap();
    let r = roundtrip(ApiKey::OffsetCommit, 8, &commit.refuse(e, 8));
    assert_eq!(
        r.topics[0].partitions[0].error_code,
        ResponseError::NotCoordinator.code()
    );
}

#[test]
fn offset_fetch_v8_splits_groups_by_coordinator() {
    let s = cluster_with_topic(1);
    let here = group_on(&s, 0);
    let there = group_on(&s, 1);
    let mut req = OffsetFetchRequest::default().with_groups(
        [&here, &there]
            .iter()
            .map(|g| {
                OffsetFetchRequestGroup::default()
                    .with_group_id(GroupId(sb((*g).clone())))
                    .with_topics(None)
            })
            .collect(),
    );
    let c = ctx_on(ApiKey::OffsetFetch, 8, 0);
    assert_eq!(refusal(&s, &c, &req), None);
    let foreign = super::route::offset_fetch_foreign_groups(&s, &c, &mut req);
    assert_eq!(req.groups.len(), 1);
    assert_eq!(foreign.len(), 1);
    assert_eq!(foreign[0].group_id.0.as_str(), there);
    assert_eq!(foreign[0].error_code, ResponseError::NotCoordinator.code());
    let mut r = offset_fetch::handle(&s, &c, req);
    r.groups.extend(foreign);
    let r = roundtrip(ApiKey::OffsetFetch, 8, &r);
    assert_eq!(r.groups.len(), 2);
}

#[test]
fn a_node_going_down_moves_its_leaders_and_coordinators() {
    let s = cluster_with_topic(3);
    let g = group_on(&s, 1);
    let moves = s.set_node_up(1, false).unwrap();
    assert_eq!(moves.len(), 1);
    assert_eq!((moves[0].partition, moves[0].from), (1, 1));
    let (new_leader, epoch) = leader(&s, 1);
    assert_ne!(new_leader, 1);
    assert_eq!(epoch, 1);
    assert_ne!(s.nodes.coordinator_for(&g).unwrap().node_id, 1);
    let r = metadata::handle(
        &s,
        &ctx_on(ApiKey::Metadata, 12, 0),
        MetadataRequest::default().with_topics(None),
    );
    assert_eq!(r.brokers.len(), 2);
    let p1 = &r.topics[0].partitions[1];
    assert_eq!((p1.leader_id.0, p1.leader_epoch), (new_leader, 1));
    assert!(s.set_node_up(1, false).is_none());
    // every node down: no leaders, LEADER_NOT_AVAILABLE; the first node back takes them all
    s.set_node_up(0, false).unwrap();
    s.set_node_up(2, false).unwrap();
    assert_eq!(leader(&s, 0).0, -1);
    let r = metadata::handle(
        &s,
        &ctx_on(ApiKey::Metadata, 5, 0),
        MetadataRequest::default().with_topics(None),
    );
    assert_eq!(
        r.topics[0].partitions[0].error_code,
        ResponseError::LeaderNotAvailable.code()
    );
    roundtrip(ApiKey::Metadata, 5, &r);
    s.set_node_up(2, true).unwrap();
    assert!((0..3).all(|p| leader(&s, p).0 == 2));
}

#[test]
fn move_leader_bumps_the_epoch_and_fences_old_epochs() {
    let s = cluster_with_topic(1);
    let m = s.move_leader("t", 0, 2).unwrap();
    assert_eq!((m.from, m.to, m.epoch), (0, 2, 1));
    assert_eq!(
        s.topic("t").unwrap().partitions[0].replicas(),
        vec![2],
        "the new leader replaces the old one in a one-replica list"
    );
    assert!(s.move_leader("t", 0, 7).is_err());
    assert!(s.move_leader("t", 9, 1).is_err());
    // a fetch at the old epoch is fenced on the new leader
    let mut req = fetch_req(0);
    req.topics[0].partitions[0].current_leader_epoch = 0;
    let r = futures::executor::block_on(fetch::handle(&s, &ctx_on(ApiKey::Fetch, 12, 2), req));
    assert_eq!(
        r.responses[0].partitions[0].error_code,
        ResponseError::FencedLeaderEpoch.code()
    );
}

#[test]
fn create_topics_replication_is_checked_against_live_nodes() {
    let s = BrokerState::for_tests_cluster(3);
    let mut t = NewTopic::with_defaults("r3");
    t.replication_factor = 3;
    t.num_partitions = 2;
    let (plan, _) = s.create_topic(&t, false).unwrap();
    assert_eq!(plan.replicas, vec![vec![0, 1, 2], vec![1, 2, 0]]);
    let mut t = NewTopic::with_defaults("r4");
    t.replication_factor = 4;
    assert_eq!(
        s.create_topic(&t, false).unwrap_err().error,
        ResponseError::InvalidReplicationFactor
    );
    let mut t = NewTopic::with_defaults("manual");
    t.assignments = vec![(0, vec![2, 0]), (1, vec![1, 2])];
    let (plan, topic) = s.create_topic(&t, false).unwrap();
    assert_eq!(plan.replication_factor, 2);
    assert_eq!(topic.unwrap().partitions[0].leader().0, 2);
    for bad in [
        vec![(0, vec![5])],
        vec![(0, vec![1, 1])],
        vec![(0, vec![0]), (1, vec![0, 1])],
    ] {
        let mut t = NewTopic::with_defaults("bad");
        t.assignments = bad;
        assert_eq!(
            s.create_topic(&t, false).unwrap_err().error,
            ResponseError::InvalidReplicaAssignment
        );
    }
}
