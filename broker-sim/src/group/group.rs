//! One consumer group's membership state machine (Kafka's classic `GroupMetadata` and the
//! join/sync/heartbeat/leave paths of its `GroupCoordinator`).
//!
//! Pure logic over a `now: Instant` passed in: no tasks, no sleeping. Requests that must wait
//! (JoinGroup until the rebalance completes, SyncGroup until the leader's assignment arrives)
//! get a `oneshot` receiver; the matching sender is kept on the member and fired when the
//! state machine gets there. Deadlines are plain fields the coordinator's timer task reads
//! through [`Group::next_deadline`] and acts on through [`Group::expire`].

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use bytes::Bytes;
use indexmap::IndexMap;
use kafka_protocol::ResponseError;
use tokio::sync::oneshot;
use tokio::time::Instant;

use super::types::*;

/// Either an answer now, or a receiver for it later.
#[derive(Debug)]
pub(crate) enum Reply<T> {
    Now(T),
    Later(oneshot::Receiver<T>),
}

#[derive(Debug)]
struct Member {
    group_instance_id: Option<String>,
    client_id: String,
    #[allow(dead_code)] // kept for DescribeGroups
    client_host: String,
    session_timeout: Duration,
    rebalance_timeout: Duration,
    protocol_type: String,
    protocols: Vec<(String, Bytes)>,
    assignment: Bytes,
    session_deadline: Instant,
    awaiting_join: Option<oneshot::Sender<JoinResult>>,
    awaiting_sync: Option<oneshot::Sender<SyncResult>>,
}

impl Member {
    fn supports(&self, protocol: &str) -> bool {
        self.protocols.iter().any(|(n, _)| n == protocol)
    }
    fn metadata(&self, protocol: &str) -> Bytes {
        self.protocols
            .iter()
            .find(|(n, _)| n == protocol)
            .map(|(_, m)| m.clone())
            .unwrap_or_default()
    }
}

/// A consumer group and its committed offsets.
#[derive(Debug)]
pub(crate) struct Group {
    group_id: String,
    state: GroupState,
    generation_id: i32,
    protocol_type: Option<String>,
    protocol_name: Option<String>,
    leader_id: Option<String>,
    /// Members in join order (the first joiner leads when there is no previous leader).
    members: IndexMap<String, Member>,
    /// Ids handed out with MEMBER_ID_REQUIRED, until they rejoin or their deadline passes.
    pending: HashMap<String, Instant>,
    /// Members that joined the current generation and have not sent SyncGroup yet.
    pending_sync: HashSet<String>,
    /// PreparingRebalance: when members that did not rejoin are dropped.
    /// CompletingRebalance: when members that did not sync are dropped.
    rebalance_deadline: Option<Instant>,
    /// `group.initial.rebalance.delay.ms` window for the first rebalance of an empty group:
    /// (current deadline, latest it may be pushed to).
    initial_delay: Option<(Instant, Instant)>,
    initial_rebalance_delay: Duration,
    pub(crate) offsets: BTreeMap<String, BTreeMap<i32, CommittedOffset>>,
}

impl Group {
    pub(crate) fn new(group_id: &str, initial_rebalance_delay: Duration) -> Self {
        Group {
            group_id: group_id.to_owned(),
            state: GroupState::Empty,
            generation_id: 0,
            protocol_type: None,
            protocol_name: None,
            leader_id: None,
            members: IndexMap::new(),
            pending: HashMap::new(),
            pending_sync: HashSet::new(),
            rebalance_deadline: None,
            initial_delay: None,
            initial_rebalance_delay,
            offsets: BTreeMap::new(),
        }
    }

    /// Keeps a member alive: any valid request from it counts as a heartbeat.
    pub(crate) fn touch(&mut self, member_id: &str, now: Instant) {
        if let Some(m) = self.members.get_mut(member_id) {
            m.session_deadline = now + m.session_timeout;
        }
    }

    pub(crate) fn summary(&self) -> GroupSummary {
        GroupSummary {
            group_id: self.group_id.clone(),
            state: self.state,
            generation_id: self.generation_id,
            protocol_type: self.protocol_type.clone(),
            protocol_name: self.protocol_name.clone(),
            leader: self.leader_id.clone(),
            members: self
                .members
                .iter()
                .map(|(id, m)| MemberSummary {
                    member_id: id.clone(),
                    client_id: m.client_id.clone(),
                    assignment: m.assignment.clone(),
                })
                .collect(),
        }
    }

    /// True when a member with these protocols may join: same protocol type and at least one
    /// protocol every other member also supports.
    fn compatible(&self, p: &JoinParams) -> bool {
        if p.protocol_type.is_empty() || p.protocols.is_empty() {
            return false;
        }
        let others: Vec<&Member> = self
            .members
            .iter()
            .filter(|(id, _)| **id != p.member_id)
            .map(|(_, m)| m)
            .collect();
        if others.is_empty() {
            return true;
        }
        if others.iter().any(|m| m.protocol_type != p.protocol_type) {
            return false;
        }
        p.protocols
            .iter()
            .any(|(name, _)| others.iter().all(|m| m.supports(name)))
    }

    pub(crate) fn join(&mut self, p: JoinParams, now: Instant) -> Reply<JoinResult> {
        if !self.compatible(&p) {
            return Reply::Now(JoinResult::error(
                ResponseError::InconsistentGroupProtocol,
                &p.member_id,
            ));
        }
        if p.member_id.is_empty() {
            let member_id = format!("{}-{}", p.client_id, uuid::Uuid::new_v4());
            if p.require_known_member_id {
                self.pending
                    .insert(member_id.clone(), now + p.session_timeout);
                return Reply::Now(JoinResult::error(
                    ResponseError::MemberIdRequired,
                    &member_id,
                ));
            }
            return self.add_member(member_id, p, now);
        }
        if self.pending.remove(&p.member_id).is_some() {
            let id = p.member_id.clone();
            return self.add_member(id, p, now);
        }
        let is_leader = self.leader_id.as_deref() == Some(p.member_id.as_str());
        let state = self.state;
        let Some(member) = self.members.get_mut(&p.member_id) else {
            return Reply::Now(JoinResult::error(
                ResponseError::UnknownMemberId,
                &p.member_id,
            ));
        };
        let changed = member.protocols != p.protocols;
        member.protocols = p.protocols;
        member.protocol_type = p.protocol_type;
        member.session_timeout = p.session_timeout;
        member.rebalance_timeout = p.rebalance_timeout;
        member.session_deadline = now + p.session_timeout;
        let must_rebalance = match state {
            GroupState::PreparingRebalance | GroupState::Empty => true,
            GroupState::CompletingRebalance => changed,
            GroupState::Stable => changed || is_leader,
        };
        if !must_rebalance {
            // Same metadata while the generation is current: answer with it again.
            return Reply::Now(self.join_result(&p.member_id));
        }
        let (tx, rx) = oneshot::channel();
        member.awaiting_join = Some(tx);
        if state == GroupState::PreparingRebalance {
            self.try_complete_join(now);
        } else {
            self.prepare_rebalance(now);
        }
        Reply::Later(rx)
    }

    fn add_member(&mut self, member_id: String, p: JoinParams, now: Instant) -> Reply<JoinResult> {
        let (tx, rx) = oneshot::channel();
        self.members.insert(
            member_id,
            Member {
                group_instance_id: p.group_instance_id,
                client_id: p.client_id,
                client_host: p.client_host,
                session_timeout: p.session_timeout,
                rebalance_timeout: p.rebalance_timeout,
                protocol_type: p.protocol_type,
                protocols: p.protocols,
                assignment: Bytes::new(),
                session_deadline: now + p.session_timeout,
                awaiting_join: Some(tx),
                awaiting_sync: None,
            },
        );
        if self.state == GroupState::PreparingRebalance {
            // A new member during the initial delay pushes the delay out (up to its limit).
            if let Some((deadline, limit)) = self.initial_delay {
                let pushed = (now + self.initial_rebalance_delay).min(limit);
                self.initial_delay = Some((deadline.max(pushed), limit));
            }
            self.try_complete_join(now);
        } else {
            self.prepare_rebalance(now);
        }
        Reply::Later(rx)
    }

    fn max_rebalance_timeout(&self) -> Duration {
        self.members
            .values()
            .map(|m| m.rebalance_timeout)
            .max()
            .unwrap_or_default()
    }

    fn prepare_rebalance(&mut self, now: Instant) {
        if self.state == GroupState::CompletingRebalance {
            for m in self.members.values_mut() {
                if let Some(tx) = m.awaiting_sync.take() {
                    let _ = tx.send(SyncResult::error(ResponseError::RebalanceInProgress));
                }
            }
        }
        for m in self.members.values_mut() {
            m.assignment = Bytes::new();
        }
        self.pending_sync.clear();
        let timeout = self.max_rebalance_timeout();
        if self.state == GroupState::Empty && !self.initial_rebalance_delay.is_zero() {
            let limit = now + timeout;
            self.initial_delay = Some(((now + self.initial_rebalance_delay).min(limit), limit));
        }
        self.rebalance_deadline = Some(now + timeout);
        self.state = GroupState::PreparingRebalance;
        self.try_complete_join(now);
    }

    fn try_complete_join(&mut self, now: Instant) {
        if self.state != GroupState::PreparingRebalance {
            return;
        }
        if let Some((deadline, _)) = self.initial_delay {
            if now < deadline {
                return;
            }
            self.initial_delay = None;
        }
        let all_joined =
            self.pending.is_empty() && self.members.values().all(|m| m.awaiting_join.is_some());
        let timed_out = self.rebalance_deadline.is_some_and(|d| now >= d);
        if all_joined || timed_out {
            self.complete_join(now);
        }
    }

    fn complete_join(&mut self, now: Instant) {
        self.initial_delay = None;
        self.rebalance_deadline = None;
        self.pending.clear();
        // Members that did not rejoin in time are out.
        let gone: Vec<String> = self
            .members
            .iter()
            .filter(|(_, m)| m.awaiting_join.is_none())
            .map(|(id, _)| id.clone())
            .collect();
        for id in gone {
            self.members.shift_remove(&id);
        }
        self.generation_id += 1;
        if self.members.is_empty() {
            self.state = GroupState::Empty;
            self.protocol_name = None;
            self.leader_id = None;
            return;
        }
        if !self
            .leader_id
            .as_ref()
            .is_some_and(|l| self.members.contains_key(l))
        {
            self.leader_id = self.members.keys().next().cloned();
        }
        let leader = self.leader_id.clone().unwrap_or_default();
        self.protocol_type = self.members.get(&leader).map(|m| m.protocol_type.clone());
        self.protocol_name = self.members.get(&leader).and_then(|l| {
            l.protocols
                .iter()
                .map(|(n, _)| n)
                .find(|n| self.members.values().all(|m| m.supports(n)))
                .cloned()
        });
        self.state = GroupState::CompletingRebalance;
        self.rebalance_deadline = Some(now + self.max_rebalance_timeout());
        self.pending_sync = self.members.keys().cloned().collect();
        let ids: Vec<String> = self.members.keys().cloned().collect();
        for id in ids {
            let result = self.join_result(&id);
            if let Some(m) = self.members.get_mut(&id) {
                m.session_deadline = now + m.session_timeout;
                if let Some(tx) = m.awaiting_join.take() {
                    let _ = tx.send(result);
                }
            }
        }
    }

    /// The current generation as member `member_id` sees it in a JoinGroup response.
    fn join_result(&self, member_id: &str) -> JoinResult {
        let leader = self.leader_id.clone().unwrap_or_default();
        let protocol = self.protocol_name.clone().unwrap_or_default();
        let members = if leader == member_id {
            self.members
                .iter()
                .map(|(id, m)| JoinedMember {
                    member_id: id.clone(),
                    group_instance_id: m.group_instance_id.clone(),
                    metadata: m.metadata(&protocol),
                })
                .collect()
        } else {
            Vec::new()
        };
        JoinResult {
            error: None,
            generation_id: self.generation_id,
            protocol_type: self.protocol_type.clone(),
            protocol_name: self.protocol_name.clone(),
            leader,
            member_id: member_id.to_owned(),
            members,
        }
    }

    /// Common membership checks of SyncGroup, Heartbeat and OffsetCommit.
    fn check_member(&self, member_id: &str, generation_id: i32) -> Result<(), ResponseError> {
        if !self.members.contains_key(member_id) {
            return Err(ResponseError::UnknownMemberId);
        }
        if generation_id != self.generation_id {
            return Err(ResponseError::IllegalGeneration);
        }
        Ok(())
    }

    pub(crate) fn sync(&mut self, p: SyncParams, now: Instant) -> Reply<SyncResult> {
        if let Err(e) = self.check_member(&p.member_id, p.generation_id) {
            return Reply::Now(SyncResult::error(e));
        }
        let mismatch =
            |given: &Option<String>, ours: &Option<String>| given.is_some() && given != ours;
        if mismatch(&p.protocol_type, &self.protocol_type)
            || mismatch(&p.protocol_name, &self.protocol_name)
        {
            return Reply::Now(SyncResult::error(ResponseError::InconsistentGroupProtocol));
        }
        self.touch(&p.member_id, now);
        match self.state {
            GroupState::Empty => Reply::Now(SyncResult::error(ResponseError::UnknownMemberId)),
            GroupState::PreparingRebalance => {
                Reply::Now(SyncResult::error(ResponseError::RebalanceInProgress))
            }
            GroupState::Stable => Reply::Now(self.sync_result(&p.member_id)),
            GroupState::CompletingRebalance => {
                self.pending_sync.remove(&p.member_id);
                let (tx, rx) = oneshot::channel();
                if let Some(m) = self.members.get_mut(&p.member_id) {
                    m.awaiting_sync = Some(tx);
                }
                if self.leader_id.as_deref() == Some(p.member_id.as_str()) {
                    for (member_id, assignment) in p.assignments {
                        if let Some(m) = self.members.get_mut(&member_id) {
                            m.assignment = assignment;
                        }
                    }
                    self.state = GroupState::Stable;
                    self.rebalance_deadline = None;
                    self.pending_sync.clear();
                    let ids: Vec<String> = self.members.keys().cloned().collect();
                    for id in ids {
                        let result = self.sync_result(&id);
                        if let Some(tx) = self
                            .members
                            .get_mut(&id)
                            .and_then(|m| m.awaiting_sync.take())
                        {
                            let _ = tx.send(result);
                        }
                    }
                }
                Reply::Later(rx)
            }
        }
    }

    fn sync_result(&self, member_id: &str) -> SyncResult {
        SyncResult {
            error: None,
            protocol_type: self.protocol_type.clone(),
            protocol_name: self.protocol_name.clone(),
            assignment: self
                .members
                .get(member_id)
                .map(|m| m.assignment.clone())
                .unwrap_or_default(),
        }
    }

    pub(crate) fn heartbeat(
        &mut self,
        member_id: &str,
        generation_id: i32,
        now: Instant,
    ) -> Option<ResponseError> {
        if let Err(e) = self.check_member(member_id, generation_id) {
            return Some(e);
        }
        match self.state {
            GroupState::Empty => Some(ResponseError::UnknownMemberId),
            GroupState::PreparingRebalance => {
                self.touch(member_id, now);
                Some(ResponseError::RebalanceInProgress)
            }
            GroupState::CompletingRebalance | GroupState::Stable => {
                self.touch(member_id, now);
                None
            }
        }
    }

    /// LeaveGroup for one member, by member id or (when that is empty) group instance id.
    pub(crate) fn leave(
        &mut self,
        member_id: &str,
        group_instance_id: Option<&str>,
        now: Instant,
    ) -> Option<ResponseError> {
        let id = if member_id.is_empty() {
            group_instance_id.and_then(|inst| {
                self.members
                    .iter()
                    .find(|(_, m)| m.group_instance_id.as_deref() == Some(inst))
                    .map(|(id, _)| id.clone())
            })
        } else {
            Some(member_id.to_owned())
        };
        let Some(id) = id else {
            return Some(ResponseError::UnknownMemberId);
        };
        if self.pending.remove(&id).is_some() {
            self.try_complete_join(now);
            return None;
        }
        if !self.members.contains_key(&id) {
            return Some(ResponseError::UnknownMemberId);
        }
        self.remove_member(&id, now);
        None
    }

    fn remove_member(&mut self, member_id: &str, now: Instant) {
        let Some(member) = self.members.shift_remove(member_id) else {
            return;
        };
        if let Some(tx) = member.awaiting_join {
            let _ = tx.send(JoinResult::error(ResponseError::UnknownMemberId, member_id));
        }
        if let Some(tx) = member.awaiting_sync {
            let _ = tx.send(SyncResult::error(ResponseError::UnknownMemberId));
        }
        self.pending_sync.remove(member_id);
        if self.leader_id.as_deref() == Some(member_id) {
            self.leader_id = None;
        }
        match self.state {
            GroupState::Stable | GroupState::CompletingRebalance => self.prepare_rebalance(now),
            GroupState::PreparingRebalance => self.try_complete_join(now),
            GroupState::Empty => {}
        }
    }

    /// The earliest instant at which [`Group::expire`] has something to do.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        let sessions = self
            .members
            .values()
            .filter(|m| m.awaiting_join.is_none() && m.awaiting_sync.is_none())
            .map(|m| m.session_deadline);
        let delay = self.initial_delay.map(|(d, _)| d);
        sessions
            .chain(self.pending.values().copied())
            .chain(self.rebalance_deadline)
            .chain(delay)
            .min()
    }

    /// Applies every deadline that has passed at `now`.
    pub(crate) fn expire(&mut self, now: Instant) {
        let before = self.pending.len();
        self.pending.retain(|_, deadline| *deadline > now);
        let pending_dropped = self.pending.len() != before;
        let expired: Vec<String> = self
            .members
            .iter()
            .filter(|(_, m)| {
                m.awaiting_join.is_none() && m.awaiting_sync.is_none() && m.session_deadline <= now
            })
            .map(|(id, _)| id.clone())
            .collect();
        for id in &expired {
            tracing::info!(group = %self.group_id, member = %id, "member session expired");
            self.remove_member(id, now);
        }
        if self.state == GroupState::CompletingRebalance
            && self.rebalance_deadline.is_some_and(|d| now >= d)
        {
            let laggards: Vec<String> = self.pending_sync.iter().cloned().collect();
            self.rebalance_deadline = None;
            for id in laggards {
                tracing::info!(group = %self.group_id, member = %id, "member did not sync in time");
                self.remove_member(&id, now);
            }
        }
        if pending_dropped || self.state == GroupState::PreparingRebalance {
            self.try_complete_join(now);
        }
    }

    /// OffsetCommit's group checks (Kafka's `handleCommitOffsets` order): simple commits
    /// (generation < 0, no member id) only into a group without members; while an assignment
    /// is being completed, REBALANCE_IN_PROGRESS; otherwise a current member of this generation.
    pub(crate) fn check_commit(
        &mut self,
        member_id: &str,
        generation_id: i32,
        now: Instant,
    ) -> Result<(), ResponseError> {
        if generation_id < 0 && member_id.is_empty() {
            return if self.members.is_empty() {
                Ok(())
            } else {
                Err(ResponseError::UnknownMemberId)
            };
        }
        if self.state == GroupState::CompletingRebalance && self.members.contains_key(member_id) {
            return Err(ResponseError::RebalanceInProgress);
        }
        self.check_member(member_id, generation_id)?;
        self.touch(member_id, now);
        Ok(())
    }
}
