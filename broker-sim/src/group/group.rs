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
pub(super) struct Member {
    pub(super) group_instance_id: Option<String>,
    pub(super) client_id: String,
    pub(super) client_host: String,
    pub(super) session_timeout: Duration,
    pub(super) rebalance_timeout: Duration,
    pub(super) protocol_type: String,
    pub(super) protocols: Vec<(String, Bytes)>,
    pub(super) assignment: Bytes,
    pub(super) session_deadline: Instant,
    pub(super) awaiting_join: Option<oneshot::Sender<JoinResult>>,
    pub(super) awaiting_sync: Option<oneshot::Sender<SyncResult>>,
}

impl Member {
    pub(super) fn supports(&self, protocol: &str) -> bool {
        self.protocols.iter().any(|(n, _)| n == protocol)
    }
    pub(super) fn metadata(&self, protocol: &str) -> Bytes {
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
    pub(super) group_id: String,
    pub(super) state: GroupState,
    pub(super) generation_id: i32,
    pub(super) protocol_type: Option<String>,
    pub(super) protocol_name: Option<String>,
    pub(super) leader_id: Option<String>,
    /// Members in join order (the first joiner leads when there is no previous leader).
    pub(super) members: IndexMap<String, Member>,
    /// Static members (KIP-345): group instance id -> current member id.
    pub(super) static_members: HashMap<String, String>,
    /// Ids handed out with MEMBER_ID_REQUIRED, until they rejoin or their deadline passes.
    pub(super) pending: HashMap<String, Instant>,
    /// Members that joined the current generation and have not sent SyncGroup yet.
    pub(super) pending_sync: HashSet<String>,
    /// PreparingRebalance: when members that did not rejoin are dropped.
    /// CompletingRebalance: when members that did not sync are dropped.
    pub(super) rebalance_deadline: Option<Instant>,
    /// `group.initial.rebalance.delay.ms` window for the first rebalance of an empty group:
    /// (current deadline, latest it may be pushed to).
    pub(super) initial_delay: Option<(Instant, Instant)>,
    pub(super) initial_rebalance_delay: Duration,
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
            static_members: HashMap::new(),
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
        // Kafka shows the protocol and the members' metadata and assignments only for a
        // stable group; otherwise they are in flux.
        let stable = self.state == GroupState::Stable;
        let protocol = self.protocol_name.clone().unwrap_or_default();
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
                    group_instance_id: m.group_instance_id.clone(),
                    client_id: m.client_id.clone(),
                    client_host: m.client_host.clone(),
                    metadata: if stable {
                        m.metadata(&protocol)
                    } else {
                        Bytes::new()
                    },
                    assignment: if stable {
                        m.assignment.clone()
                    } else {
                        Bytes::new()
                    },
                })
                .collect(),
        }
    }

    /// True when a member with these protocols may join: same protocol type and at least one
    /// protocol every other member also supports.
    pub(super) fn compatible(&self, p: &JoinParams) -> bool {
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

    /// A static member's instance id must map to the member id it came with (KIP-345): an
    /// older member id of the same instance has been replaced and is fenced.
    pub(super) fn check_instance(
        &self,
        member_id: &str,
        group_instance_id: Option<&str>,
    ) -> Result<(), ResponseError> {
        match group_instance_id.and_then(|i| self.static_members.get(i)) {
            Some(current) if current != member_id => Err(ResponseError::FencedInstanceId),
            _ => Ok(()),
        }
    }

    /// The topics members of a non-empty "consumer" group subscribe to, read from their
    /// metadata for the chosen protocol; None when the group is empty or not a consumer group
    /// (then OffsetDelete may delete anything).
    pub(crate) fn subscribed_topics(&self) -> Option<HashSet<String>> {
        if self.members.is_empty() || self.protocol_type.as_deref() != Some("consumer") {
            return None;
        }
        let protocol = self.protocol_name.clone().unwrap_or_default();
        let mut topics = HashSet::new();
        for m in self.members.values() {
            topics.extend(super::consumer_protocol::subscription_topics(
                &m.metadata(&protocol),
            ));
        }
        Some(topics)
    }

    /// Common membership checks of SyncGroup, Heartbeat and OffsetCommit.
    pub(super) fn check_member(
        &self,
        member_id: &str,
        group_instance_id: Option<&str>,
        generation_id: i32,
    ) -> Result<(), ResponseError> {
        self.check_instance(member_id, group_instance_id)?;
        if !self.members.contains_key(member_id) {
            return Err(ResponseError::UnknownMemberId);
        }
        if generation_id != self.generation_id {
            return Err(ResponseError::IllegalGeneration);
        }
        Ok(())
    }

    pub(crate) fn heartbeat(
        &mut self,
        member_id: &str,
        group_instance_id: Option<&str>,
        generation_id: i32,
        now: Instant,
    ) -> Option<ResponseError> {
        if let Err(e) = self.check_member(member_id, group_instance_id, generation_id) {
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
        if let Err(e) = self.check_instance(&id, group_instance_id) {
            return Some(e);
        }
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

    pub(super) fn remove_member(&mut self, member_id: &str, now: Instant) {
        let Some(member) = self.members.shift_remove(member_id) else {
            return;
        };
        if let Some(inst) = &member.group_instance_id
            && self.static_members.get(inst).map(String::as_str) == Some(member_id)
        {
            self.static_members.remove(inst);
        }
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
        group_instance_id: Option<&str>,
        generation_id: i32,
        now: Instant,
    ) -> Result<(), ResponseError> {
        self.check_instance(member_id, group_instance_id)?;
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
        self.check_member(member_id, group_instance_id, generation_id)?;
        self.touch(member_id, now);
        Ok(())
    }
}
