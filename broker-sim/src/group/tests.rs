//! Coordinator tests over paused tokio time: joins, syncs, heartbeats, leaves, session expiry,
//! rebalance timeout, the initial rebalance delay, offset commits, and members dying in the
//! middle of a rebalance (after rejoining; the leader before its sync).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use kafka_protocol::ResponseError;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::*;

const SESSION: Duration = Duration::from_secs(10);
const REBALANCE: Duration = Duration::from_secs(30);

fn coordinator(initial_delay: Duration) -> Arc<GroupCoordinator> {
    Arc::new(GroupCoordinator::new(GroupConfig {
        initial_rebalance_delay: initial_delay,
        min_session_timeout: Duration::from_secs(1),
        max_session_timeout: Duration::from_secs(300),
    }))
}

/// Starts the timer task; dropping the returned sender stops it.
fn timers(c: &Arc<GroupCoordinator>) -> watch::Sender<bool> {
    let (tx, rx) = watch::channel(false);
    let c = Arc::clone(c);
    tokio::spawn(async move { c.run_timers(rx).await });
    tx
}

fn jp(member: &str, protocols: &[&str]) -> JoinParams {
    JoinParams {
        group_id: "g".into(),
        member_id: member.into(),
        group_instance_id: None,
        client_id: "client".into(),
        client_host: "127.0.0.1".into(),
        session_timeout: SESSION,
        rebalance_timeout: REBALANCE,
        protocol_type: "consumer".into(),
        protocols: protocols
            .iter()
            .map(|p| (p.to_string(), Bytes::from(format!("meta-{p}"))))
            .collect(),
        require_known_member_id: false,
    }
}

fn spawn_join(c: &Arc<GroupCoordinator>, p: JoinParams) -> JoinHandle<JoinResult> {
    let c = Arc::clone(c);
    tokio::spawn(async move { c.join(p).await })
}

fn spawn_sync(
    c: &Arc<GroupCoordinator>,
    member: &str,
    generation: i32,
    assignments: &[(&str, &str)],
) -> JoinHandle<SyncResult> {
    let c = Arc::clone(c);
    let p = SyncParams {
        group_id: "g".into(),
        generation_id: generation,
        member_id: member.into(),
        group_instance_id: None,
        protocol_type: None,
        protocol_name: None,
        assignments: assignments
            .iter()
            .map(|(m, a)| (m.to_string(), Bytes::from(a.to_string())))
            .collect(),
    };
    tokio::spawn(async move { c.sync(p).await })
}

async fn settle() {
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
}

/// Joins one member into an empty group and syncs it: returns its member id.
async fn stable_single(c: &Arc<GroupCoordinator>) -> String {
    let r = spawn_join(c, jp("", &["range"])).await.unwrap();
    assert_eq!(r.error, None);
    assert_eq!(r.leader, r.member_id);
    let s = spawn_sync(c, &r.member_id, r.generation_id, &[(&r.member_id, "A")])
        .await
        .unwrap();
    assert_eq!(s.assignment, Bytes::from("A"));
    r.member_id
}

#[tokio::test(start_paused = true)]
async fn single_member_join_sync_heartbeat() {
    let c = coordinator(Duration::ZERO);
    let a = stable_single(&c).await;
    let g = c.describe("g").unwrap();
    assert_eq!((g.state, g.generation_id), (GroupState::Stable, 1));
    assert_eq!(g.protocol_name.as_deref(), Some("range"));
    assert_eq!(c.heartbeat("g", &a, None, 1), None);
    assert_eq!(
        c.heartbeat("g", &a, None, 0),
        Some(ResponseError::IllegalGeneration)
    );
    assert_eq!(
        c.heartbeat("g", "nobody", None, 1),
        Some(ResponseError::UnknownMemberId)
    );
    assert_eq!(
        c.heartbeat("other", &a, None, 1),
        Some(ResponseError::UnknownMemberId)
    );
    // A rejoin with unchanged metadata by a follower would return the generation; the leader
    // rejoining triggers a rebalance, which completes at once with one member.
    let r = spawn_join(&c, jp(&a, &["range"])).await.unwrap();
    assert_eq!(r.generation_id, 2);
}

#[tokio::test(start_paused = true)]
async fn member_id_required_for_v4() {
    let c = coordinator(Duration::ZERO);
    let mut p = jp("", &["range"]);
    p.require_known_member_id = true;
    let r = spawn_join(&c, p.clone()).await.unwrap();
    assert_eq!(r.error, Some(ResponseError::MemberIdRequired));
    assert!(r.member_id.starts_with("client-"));
    p.member_id = r.member_id.clone();
    let r2 = spawn_join(&c, p).await.unwrap();
    assert_eq!(
        (r2.error, r2.member_id, r2.generation_id),
        (None, r.member_id, 1)
    );
}

#[tokio::test(start_paused = true)]
async fn second_member_triggers_rebalance_and_leader_is_kept() {
    let c = coordinator(Duration::ZERO);
    let a = stable_single(&c).await;
    let b_join = spawn_join(&c, jp("", &["roundrobin", "range"]));
    settle().await;
    assert!(!b_join.is_finished());
    assert_eq!(
        c.heartbeat("g", &a, None, 1),
        Some(ResponseError::RebalanceInProgress)
    );
    let a_join = spawn_join(&c, jp(&a, &["range", "roundrobin"]));
    let (ra, rb) = (a_join.await.unwrap(), b_join.await.unwrap());
    assert_eq!((ra.generation_id, rb.generation_id), (2, 2));
    assert_eq!(ra.leader, a);
    assert_eq!(rb.leader, a);
    // leader's order wins among protocols both support
    assert_eq!(ra.protocol_name.as_deref(), Some("range"));
    assert_eq!(ra.members.len(), 2);
    assert!(rb.members.is_empty());
    assert_eq!(ra.members[1].metadata, Bytes::from("meta-range"));
    // follower syncs first and waits for the leader
    let b = rb.member_id.clone();
    let b_sync = spawn_sync(&c, &b, 2, &[]);
    settle().await;
    assert!(!b_sync.is_finished());
    assert_eq!(
        c.heartbeat("g", &b, None, 2),
        None,
        "heartbeats succeed while awaiting sync"
    );
    let a_sync = spawn_sync(&c, &a, 2, &[(&a, "pa"), (&b, "pb")]);
    assert_eq!(a_sync.await.unwrap().assignment, Bytes::from("pa"));
    assert_eq!(b_sync.await.unwrap().assignment, Bytes::from("pb"));
    let g = c.describe("g").unwrap();
    assert_eq!(
        g.members
            .iter()
            .map(|m| m.assignment.clone())
            .collect::<Vec<_>>(),
        vec![Bytes::from("pa"), Bytes::from("pb")]
    );
    // stale generation
    assert_eq!(
        spawn_sync(&c, &b, 1, &[]).await.unwrap().error,
        Some(ResponseError::IllegalGeneration)
    );
}

#[tokio::test(start_paused = true)]
async fn inconsistent_protocols_are_refused() {
    let c = coordinator(Duration::ZERO);
    stable_single(&c).await;
    let r = spawn_join(&c, jp("", &["sticky"])).await.unwrap();
    assert_eq!(r.error, Some(ResponseError::InconsistentGroupProtocol));
    let mut p = jp("", &["range"]);
    p.protocol_type = "connect".into();
    assert_eq!(
        spawn_join(&c, p).await.unwrap().error,
        Some(ResponseError::InconsistentGroupProtocol)
    );
    assert_eq!(
        spawn_join(&c, jp("ghost", &["range"])).await.unwrap().error,
        Some(ResponseError::UnknownMemberId)
    );
    let mut p = jp("", &["range"]);
    p.session_timeout = Duration::from_millis(10);
    assert_eq!(
        spawn_join(&c, p).await.unwrap().error,
        Some(ResponseError::InvalidSessionTimeout)
    );
}

#[tokio::test(start_paused = true)]
async fn silent_member_expires_after_session_timeout() {
    let c = coordinator(Duration::ZERO);
    let _timers = timers(&c);
    let a = stable_single(&c).await;
    let b_join = spawn_join(&c, jp("", &["range"]));
    settle().await;
    let a_join = spawn_join(&c, jp(&a, &["range"]));
    let b = b_join.await.unwrap().member_id;
    a_join.await.unwrap();
    spawn_sync(&c, &b, 2, &[]);
    spawn_sync(&c, &a, 2, &[]).await.unwrap();
    // a heartbeats every 3 s, b never again
    let start = tokio::time::Instant::now();
    loop {
        tokio::time::sleep(Duration::from_secs(3)).await;
        let e = c.heartbeat("g", &a, None, 2);
        if e == Some(ResponseError::RebalanceInProgress) {
            break;
        }
        assert_eq!(e, None);
        assert!(start.elapsed() < SESSION * 2, "b was never expired");
    }
    assert!(start.elapsed() >= SESSION);
    assert!(
        !c.describe("g")
            .unwrap()
            .members
            .iter()
            .any(|m| m.member_id == b)
    );
    let r = spawn_join(&c, jp(&a, &["range"])).await.unwrap();
    assert_eq!((r.generation_id, r.members.len()), (3, 1));
}

#[tokio::test(start_paused = true)]
async fn members_that_do_not_rejoin_are_dropped_at_rebalance_timeout() {
    let c = coordinator(Duration::ZERO);
    let _timers = timers(&c);
    let a = stable_single(&c).await;
    let b_join = spawn_join(&c, jp("", &["range"]));
    settle().await;
    spawn_join(&c, jp(&a, &["range"])).await.unwrap();
    let b = b_join.await.unwrap().member_id;
    spawn_sync(&c, &b, 2, &[]);
    spawn_sync(&c, &a, 2, &[]).await.unwrap();
    // c joins; a rejoins; b keeps heartbeating but never rejoins
    let start = tokio::time::Instant::now();
    let c_join = spawn_join(&c, jp("", &["range"]));
    settle().await;
    let a_join = spawn_join(&c, jp(&a, &["range"]));
    let hb = {
        let c = Arc::clone(&c);
        let b = b.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(2)).await;
                if c.heartbeat("g", &b, None, 2) == Some(ResponseError::UnknownMemberId) {
                    return;
                }
            }
        })
    };
    let (ra, rc) = (a_join.await.unwrap(), c_join.await.unwrap());
    assert!(
        start.elapsed() >= REBALANCE,
        "completed after {:?}",
        start.elapsed()
    );
    assert_eq!((ra.generation_id, rc.generation_id), (3, 3));
    assert_eq!(ra.members.len(), 2);
    hb.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn initial_delay_collects_members_into_one_generation() {
    let c = coordinator(Duration::from_secs(3));
    let _timers = timers(&c);
    let start = tokio::time::Instant::now();
    let a = spawn_join(&c, jp("", &["range"]));
    tokio::time::sleep(Duration::from_secs(1)).await;
    let b = spawn_join(&c, jp("", &["range"]));
    let (ra, rb) = (a.await.unwrap(), b.await.unwrap());
    assert_eq!((ra.generation_id, rb.generation_id), (1, 1));
    // the second member pushed the delay to 1 s + 3 s
    assert_eq!(start.elapsed(), Duration::from_secs(4));
    assert_eq!(ra.members.len(), 2);
}

#[tokio::test(start_paused = true)]
async fn leave_triggers_rebalance_and_empty_group() {
    let c = coordinator(Duration::ZERO);
    let a = stable_single(&c).await;
    assert_eq!(
        c.leave("g", &[(a.clone(), None), ("nobody".into(), None)])
            .unwrap(),
        vec![None, Some(ResponseError::UnknownMemberId)]
    );
    let g = c.describe("g").unwrap();
    assert_eq!((g.state, g.generation_id), (GroupState::Empty, 2));
    assert_eq!(
        c.leave("missing", &[(a, None)]),
        Err(ResponseError::UnknownMemberId)
    );
}

#[tokio::test(start_paused = true)]
async fn leaving_while_join_pending_answers_the_join() {
    let c = coordinator(Duration::ZERO);
    let a = stable_single(&c).await;
    let b_join = spawn_join(&c, jp("", &["range"]));
    settle().await;
    // b's id is not known to the test; a leaves instead and b's join then completes alone
    c.leave("g", &[(a, None)]).unwrap();
    let rb = b_join.await.unwrap();
    assert_eq!((rb.error, rb.generation_id, rb.members.len()), (None, 2, 1));
}

#[tokio::test(start_paused = true)]
async fn offset_commit_rules() {
    let c = coordinator(Duration::ZERO);
    let entry = |p: i32, o: i64| OffsetCommitEntry {
        topic: "t".into(),
        partition: p,
        offset: o,
        leader_epoch: -1,
        metadata: Some("m".into()),
    };
    // simple commit into a group that does not exist yet
    assert_eq!(c.commit("g", "", None, -1, vec![entry(0, 5)]), vec![None]);
    // a member commit to an unknown group with a generation
    assert_eq!(
        c.commit("h", "x", None, 3, vec![entry(0, 5)]),
        vec![Some(ResponseError::IllegalGeneration)]
    );
    let a = stable_single(&c).await;
    assert_eq!(
        c.commit("g", "", None, -1, vec![entry(0, 6)]),
        vec![Some(ResponseError::UnknownMemberId)]
    );
    assert_eq!(
        c.commit("g", &a, None, 0, vec![entry(0, 6)]),
        vec![Some(ResponseError::IllegalGeneration)]
    );
    let big = OffsetCommitEntry {
        metadata: Some("x".repeat(5000)),
        ..entry(1, 1)
    };
    assert_eq!(
        c.commit("g", &a, None, 1, vec![entry(0, 7), big]),
        vec![None, Some(ResponseError::OffsetMetadataTooLarge)]
    );
    let got = c.fetch_offsets("g", Some(&[("t".into(), vec![0, 1])]));
    assert_eq!(
        got[0].1[0],
        (
            0,
            Some(CommittedOffset {
                offset: 7,
                leader_epoch: -1,
                metadata: "m".into()
            })
        )
    );
    assert_eq!(got[0].1[1], (1, None));
    let all = c.fetch_offsets("g", None);
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].1.len(), 1);
    assert!(c.fetch_offsets("nope", None).is_empty());
    c.remove_topic("t");
    assert!(c.fetch_offsets("g", None).is_empty());
}

/// A static member (instance "i1") joined and synced alone: its member id.
async fn stable_static(c: &Arc<GroupCoordinator>) -> String {
    let mut p = jp("", &["range"]);
    p.group_instance_id = Some("i1".into());
    p.require_known_member_id = true; // static members are never asked for an id
    let r = spawn_join(c, p).await.unwrap();
    assert_eq!(r.error, None);
    let s = spawn_sync(c, &r.member_id, r.generation_id, &[(&r.member_id, "A")])
        .await
        .unwrap();
    assert_eq!(s.error, None);
    r.member_id
}

#[tokio::test(start_paused = true)]
async fn static_member_rejoin_replaces_without_rebalance_and_fences_old_id() {
    let c = coordinator(Duration::ZERO);
    let old = stable_static(&c).await;
    let mut again = jp("", &["range"]);
    again.group_instance_id = Some("i1".into());
    let r = spawn_join(&c, again.clone()).await.unwrap();
    assert_eq!(r.error, None);
    assert_ne!(r.member_id, old);
    assert_eq!(r.generation_id, 1, "no rebalance: same generation");
    // The answer names the leader as it was, with no members: the restarted leader must not
    // run an assignment the stable group would ignore (Kafka before JoinGroup v9).
    assert_eq!(r.leader, old);
    assert!(r.members.is_empty());
    let g = c.describe("g").unwrap();
    assert_eq!((g.state, g.members.len()), (GroupState::Stable, 1));
    assert_eq!(
        g.leader.as_deref(),
        Some(r.member_id.as_str()),
        "leadership moved"
    );
    assert_eq!(g.members[0].assignment, Bytes::from("A"), "assignment kept");
    // the old id is fenced everywhere
    assert_eq!(
        c.heartbeat("g", &old, Some("i1"), 1),
        Some(ResponseError::FencedInstanceId)
    );
    assert_eq!(
        c.commit("g", &old, Some("i1"), 1, vec![]),
        Vec::<Option<ResponseError>>::new()
    );
    let mut stale = again.clone();
    stale.member_id = old.clone();
    assert_eq!(
        spawn_join(&c, stale).await.unwrap().error,
        Some(ResponseError::FencedInstanceId)
    );
    assert_eq!(
        c.leave("g", &[(old.clone(), Some("i1".into()))]).unwrap(),
        vec![Some(ResponseError::FencedInstanceId)]
    );
    // the new id works; a sync in Stable returns the kept assignment
    assert_eq!(c.heartbeat("g", &r.member_id, Some("i1"), 1), None);
    let s = spawn_sync(&c, &r.member_id, 1, &[]).await.unwrap();
    assert_eq!(s.assignment, Bytes::from("A"));
    // Changed metadata alone does not rebalance (a restarted cooperative or Java client no
    // longer lists what it owned); the new metadata is kept.
    let mut changed = jp("", &["range", "roundrobin"]);
    changed.group_instance_id = Some("i1".into());
    changed.protocols[0].1 = Bytes::from("other-subscription");
    let r2 = spawn_join(&c, changed).await.unwrap();
    assert_eq!((r2.error, r2.generation_id), (None, 1));
    let g = c.describe("g").unwrap();
    assert_eq!(g.members[0].metadata, Bytes::from("other-subscription"));
    assert_eq!(g.members[0].assignment, Bytes::from("A"), "assignment kept");
    // Protocols that change the group's choice do rebalance.
    let mut other = jp("", &["roundrobin"]);
    other.group_instance_id = Some("i1".into());
    let r3 = spawn_join(&c, other).await.unwrap();
    assert_eq!((r3.error, r3.generation_id), (None, 2));
    assert_eq!(r3.protocol_name.as_deref(), Some("roundrobin"));
}

/// Two static members; the leader restarts (rejoins with an empty member id and changed
/// metadata): the group stays stable in the same generation, the other member's heartbeats
/// see no rebalance, and the restarted leader gets its old assignment from SyncGroup.
#[tokio::test(start_paused = true)]
async fn restarted_static_leader_keeps_generation_and_assignment() {
    let c = coordinator(Duration::ZERO);
    let _timers = timers(&c);
    let static_jp = |inst: &str| {
        let mut p = jp("", &["range"]);
        p.group_instance_id = Some(inst.into());
        p
    };
    let a = spawn_join(&c, static_jp("a")).await.unwrap();
    let b = spawn_join(&c, static_jp("b"));
    settle().await;
    // a led generation 1 alone; b's join started generation 2, which a must rejoin.
    assert_eq!(
        c.heartbeat("g", &a.member_id, Some("a"), 1),
        Some(ResponseError::RebalanceInProgress)
    );
    let mut again = static_jp("a");
    again.member_id = a.member_id.clone();
    let a2 = spawn_join(&c, again).await.unwrap();
    let b = b.await.unwrap();
    assert_eq!(
        (a2.generation_id, a2.leader.as_str()),
        (2, a.member_id.as_str())
    );
    let sa = spawn_sync(
        &c,
        &a.member_id,
        2,
        &[(&a.member_id, "A"), (&b.member_id, "B")],
    );
    let sb = spawn_sync(&c, &b.member_id, 2, &[]);
    assert_eq!(sa.await.unwrap().assignment, Bytes::from("A"));
    assert_eq!(sb.await.unwrap().assignment, Bytes::from("B"));

    // a is killed and restarted: same instance, no member id, other metadata.
    tokio::time::advance(Duration::from_secs(3)).await;
    let mut restarted = static_jp("a");
    restarted.protocols[0].1 = Bytes::from("owned-nothing-now");
    let r = spawn_join(&c, restarted).await.unwrap();
    assert_eq!(r.error, None);
    assert_eq!(r.generation_id, 2, "no rebalance");
    assert_eq!(r.leader, a.member_id, "the leader as it was");
    assert!(r.members.is_empty(), "no assignment to run");
    assert_eq!(
        c.heartbeat("g", &b.member_id, Some("b"), 2),
        None,
        "b sees no rebalance"
    );
    let mut p = SyncParams {
        group_id: "g".into(),
        generation_id: 2,
        member_id: r.member_id.clone(),
        group_instance_id: Some("a".into()),
        protocol_type: None,
        protocol_name: None,
        assignments: Vec::new(),
    };
    assert_eq!(
        c.sync(p.clone()).await.assignment,
        Bytes::from("A"),
        "old assignment"
    );
    let g = c.describe("g").unwrap();
    assert_eq!((g.state, g.generation_id), (GroupState::Stable, 2));
    assert_eq!(g.leader.as_deref(), Some(r.member_id.as_str()));
    // The old id is fenced; b is untouched.
    p.member_id = a.member_id.clone();
    assert_eq!(c.sync(p).await.error, Some(ResponseError::FencedInstanceId));
    assert_eq!(c.heartbeat("g", &b.member_id, Some("b"), 2), None);
}

#[tokio::test(start_paused = true)]
async fn protocol_is_chosen_by_vote() {
    // all three join within the initial rebalance delay, so they form one generation
    let c = coordinator(Duration::from_secs(3));
    let _timers = timers(&c);
    // leader prefers range, two others prefer roundrobin: roundrobin wins 2-1
    let a = spawn_join(&c, jp("", &["range", "roundrobin"]));
    settle().await;
    let b = spawn_join(&c, jp("", &["roundrobin", "range"]));
    let d = spawn_join(&c, jp("", &["sticky", "roundrobin", "range"]));
    let (a, b, d) = (a.await.unwrap(), b.await.unwrap(), d.await.unwrap());
    for r in [&a, &b, &d] {
        assert_eq!(r.protocol_name.as_deref(), Some("roundrobin"), "{r:?}");
    }
    assert_eq!(a.members.len(), 3);
    assert!(a.members.iter().all(|m| m.metadata == "meta-roundrobin"));
}

#[tokio::test(start_paused = true)]
async fn list_delete_and_offset_delete() {
    let entry = |p: i32, o: i64| OffsetCommitEntry {
        topic: "t".into(),
        partition: p,
        offset: o,
        leader_epoch: -1,
        metadata: None,
    };
    let c = coordinator(Duration::ZERO);
    let a = stable_single(&c).await;
    assert_eq!(c.commit("g", &a, None, 1, vec![entry(0, 5)]), vec![None]);
    assert_eq!(c.commit("h", "", None, -1, vec![entry(0, 1)]), vec![None]);
    let listed: Vec<_> = c.list();
    assert_eq!(
        listed,
        vec![
            ("g".into(), "consumer".into(), GroupState::Stable),
            ("h".into(), String::new(), GroupState::Empty)
        ]
    );
    assert_eq!(c.delete("g"), Some(ResponseError::NonEmptyGroup));
    assert_eq!(c.delete("nope"), Some(ResponseError::GroupIdNotFound));
    assert_eq!(c.delete("h"), None);
    assert!(c.describe("h").is_none());
    // the member's metadata is not a real subscription: nothing counts as subscribed
    assert_eq!(
        c.delete_offsets("g", &[("t".into(), 0)]).unwrap(),
        vec![None]
    );
    assert!(c.fetch_offsets("g", None).is_empty());
    assert_eq!(
        c.delete_offsets("nope", &[]),
        Err(ResponseError::GroupIdNotFound)
    );
}

/// Sets up a stable generation 2 with `a` (leader) and `b`: returns their member ids.
async fn stable_pair(c: &Arc<GroupCoordinator>) -> (String, String) {
    let a = stable_single(c).await;
    let b_join = spawn_join(c, jp("", &["range"]));
    settle().await;
    spawn_join(c, jp(&a, &["range"])).await.unwrap();
    let b = b_join.await.unwrap().member_id;
    let b_sync = spawn_sync(c, &b, 2, &[]);
    spawn_sync(c, &a, 2, &[]).await.unwrap();
    b_sync.await.unwrap();
    (a, b)
}

/// A member that rejoined (its JoinGroup parked in PreparingRebalance) and then died never
/// syncs: once the join completes its session runs from there, so it is gone within the
/// session timeout and the survivors form the next generation (Kafka keeps members awaiting
/// a join alive, then expires them the same way).
#[tokio::test(start_paused = true)]
async fn member_dead_after_rejoining_is_expired_within_the_session_timeout() {
    let c = coordinator(Duration::ZERO);
    let _timers = timers(&c);
    let (a, b) = stable_pair(&c).await;
    // d joins: PreparingRebalance. b rejoins, then dies (sends nothing more).
    let d_join = spawn_join(&c, jp("", &["range"]));
    settle().await;
    let b_join = spawn_join(&c, jp(&b, &["range"]));
    settle().await;
    assert_eq!(
        c.describe("g").unwrap().state,
        GroupState::PreparingRebalance
    );
    let a_join = spawn_join(&c, jp(&a, &["range"]));
    let (ra, rd) = (a_join.await.unwrap(), d_join.await.unwrap());
    drop(b_join); // b's answer goes nowhere
    let joined = tokio::time::Instant::now();
    assert_eq!((ra.generation_id, ra.members.len()), (3, 3));
    let d = rd.member_id.clone();
    // the leader assigns, d syncs; b never does
    let assignments = [(a.as_str(), "pa"), (b.as_str(), "pb"), (d.as_str(), "pd")];
    let d_sync = spawn_sync(&c, &d, 3, &[]);
    spawn_sync(&c, &a, 3, &assignments).await.unwrap();
    assert_eq!(d_sync.await.unwrap().assignment, Bytes::from("pd"));
    // a and d heartbeat every second until told to rejoin: b expired
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let (ea, ed) = (c.heartbeat("g", &a, None, 3), c.heartbeat("g", &d, None, 3));
        if ea == Some(ResponseError::RebalanceInProgress) {
            assert_eq!(ed, Some(ResponseError::RebalanceInProgress));
            break;
        }
        assert_eq!((ea, ed), (None, None));
        assert!(joined.elapsed() <= SESSION, "b outlived its session");
    }
    assert!(joined.elapsed() >= SESSION - Duration::from_secs(1));
    let d_join = spawn_join(&c, jp(&d, &["range"]));
    let ra = spawn_join(&c, jp(&a, &["range"])).await.unwrap();
    d_join.await.unwrap();
    assert_eq!((ra.generation_id, ra.members.len()), (4, 2));
    assert!(!ra.members.iter().any(|m| m.member_id == b));
}

/// The leader dies in CompletingRebalance, before its SyncGroup: the followers' syncs wait,
/// then get REBALANCE_IN_PROGRESS when its session (counted from the join) expires — not at
/// the much longer rebalance timeout — and the survivors rebalance without it.
#[tokio::test(start_paused = true)]
async fn leader_dead_before_sync_is_expired_within_the_session_timeout() {
    let c = coordinator(Duration::ZERO);
    let _timers = timers(&c);
    let (a, b) = stable_pair(&c).await;
    let d_join = spawn_join(&c, jp("", &["range"]));
    settle().await;
    let b_join = spawn_join(&c, jp(&b, &["range"]));
    let ra = spawn_join(&c, jp(&a, &["range"])).await.unwrap();
    let (rb, rd) = (b_join.await.unwrap(), d_join.await.unwrap());
    assert_eq!(ra.leader, a);
    assert_eq!(
        c.describe("g").unwrap().state,
        GroupState::CompletingRebalance
    );
    let joined = tokio::time::Instant::now();
    // a (the leader) is dead; b and d sync and wait for an assignment that never comes
    let b_sync = spawn_sync(&c, &b, rb.generation_id, &[]);
    let d_sync = spawn_sync(&c, &rd.member_id, rd.generation_id, &[]);
    let (sb, sd) = (b_sync.await.unwrap(), d_sync.await.unwrap());
    assert_eq!(sb.error, Some(ResponseError::RebalanceInProgress));
    assert_eq!(sd.error, Some(ResponseError::RebalanceInProgress));
    let waited = joined.elapsed();
    assert!(
        waited >= SESSION && waited < SESSION + Duration::from_secs(1),
        "the syncs waited {waited:?}"
    );
    let d_join = spawn_join(&c, jp(&rd.member_id, &["range"]));
    let rb = spawn_join(&c, jp(&b, &["range"])).await.unwrap();
    let rd = d_join.await.unwrap();
    assert_eq!((rb.generation_id, rd.generation_id), (4, 4));
    let members: Vec<String> = c
        .describe("g")
        .unwrap()
        .members
        .into_iter()
        .map(|m| m.member_id)
        .collect();
    assert_eq!(members.len(), 2);
    assert!(!members.contains(&a), "the dead leader is gone");
}
