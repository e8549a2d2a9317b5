//! JoinGroup and SyncGroup for one [`Group`]: forming a generation (Kafka's
//! PreparingRebalance -> CompletingRebalance -> Stable), choosing leader and protocol, and
//! relaying the leader's assignment.

use std::time::Duration;

use bytes::Bytes;
use kafka_protocol::ResponseError;
use tokio::sync::oneshot;
use tokio::time::Instant;

use super::group::{Group, Member, Reply};
use super::types::*;

impl Group {
    pub(crate) fn join(&mut self, p: JoinParams, now: Instant) -> Reply<JoinResult> {
        if !self.compatible(&p) {
            return Reply::Now(JoinResult::error(
                ResponseError::InconsistentGroupProtocol,
                &p.member_id,
            ));
        }
        if let Some(inst) = p.group_instance_id.clone() {
            match self.static_members.get(&inst).cloned() {
                Some(old_id) if p.member_id.is_empty() => {
                    return self.replace_static_member(&inst, &old_id, p, now);
                }
                Some(current) if current != p.member_id => {
                    return Reply::Now(JoinResult::error(
                        ResponseError::FencedInstanceId,
                        &p.member_id,
                    ));
                }
                _ => {}
            }
        }
        if p.member_id.is_empty() {
            let member_id = format!("{}-{}", p.client_id, uuid::Uuid::new_v4());
            if p.require_known_member_id && p.group_instance_id.is_none() {
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

    pub(super) fn add_member(
        &mut self,
        member_id: String,
        p: JoinParams,
        now: Instant,
    ) -> Reply<JoinResult> {
        let (tx, rx) = oneshot::channel();
        if let Some(inst) = &p.group_instance_id {
            self.static_members.insert(inst.clone(), member_id.clone());
        }
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

    /// A known static member rejoined with an empty member id (a restarted client): it gets a
    /// new member id that takes over the old one's place, assignment and leadership; the old
    /// id is fenced (FENCED_INSTANCE_ID, also to its requests still waiting). As Kafka decides
    /// it (`updateStaticMemberAndRebalance`, KIP-345): a stable group rebalances only when the
    /// member's new protocols would change the group's protocol choice. Changed metadata alone
    /// (a restarted client no longer lists the partitions it owned, as cooperative and Java
    /// clients do) is stored and does not rebalance; the member gets the current generation
    /// and its old assignment back at once. The answer names the leader as it was before the
    /// replacement (the old id when this member led) with no member list, so a restarted
    /// leader does not run an assignment the stable group would ignore (Kafka before
    /// JoinGroup v9 / KIP-814). A group that is completing a rebalance starts another one, as
    /// the leader may be assigning to the old id.
    fn replace_static_member(
        &mut self,
        instance_id: &str,
        old_id: &str,
        p: JoinParams,
        now: Instant,
    ) -> Reply<JoinResult> {
        let Some(mut old) = self.members.shift_remove(old_id) else {
            self.static_members.remove(instance_id);
            return Reply::Now(JoinResult::error(ResponseError::UnknownMemberId, old_id));
        };
        if let Some(tx) = old.awaiting_join.take() {
            let _ = tx.send(JoinResult::error(ResponseError::FencedInstanceId, old_id));
        }
        if let Some(tx) = old.awaiting_sync.take() {
            let _ = tx.send(SyncResult::error(ResponseError::FencedInstanceId));
        }
        let new_id = format!("{}-{}", p.client_id, uuid::Uuid::new_v4());
        tracing::info!(group = %self.group_id, instance = %instance_id, old = %old_id, new = %new_id, "static member rejoined; old member id fenced");
        let leader_before = self.leader_id.clone();
        self.members.insert(
            new_id.clone(),
            Member {
                group_instance_id: p.group_instance_id,
                client_id: p.client_id,
                client_host: p.client_host,
                session_timeout: p.session_timeout,
                rebalance_timeout: p.rebalance_timeout,
                protocol_type: p.protocol_type,
                protocols: p.protocols,
                assignment: old.assignment,
                session_deadline: now + p.session_timeout,
                awaiting_join: None,
                awaiting_sync: None,
            },
        );
        self.static_members
            .insert(instance_id.to_owned(), new_id.clone());
        if self.leader_id.as_deref() == Some(old_id) {
            self.leader_id = Some(new_id.clone());
        }
        if self.pending_sync.remove(old_id) {
            self.pending_sync.insert(new_id.clone());
        }
        if self.state == GroupState::Stable && self.select_protocol() == self.protocol_name {
            let mut result = self.join_result(&new_id);
            result.leader = leader_before.unwrap_or_default();
            result.members = Vec::new();
            return Reply::Now(result);
        }
        let (tx, rx) = oneshot::channel();
        if let Some(m) = self.members.get_mut(&new_id) {
            m.awaiting_join = Some(tx);
        }
        if self.state == GroupState::PreparingRebalance {
            self.try_complete_join(now);
        } else {
            self.prepare_rebalance(now);
        }
        Reply::Later(rx)
    }

    /// Kafka's protocol vote: the candidates are the protocols every member supports; each
    /// member votes for the first candidate in its own order of preference; most votes wins,
    /// ties going to the leader's (else the first member's) preference.
    pub(super) fn select_protocol(&self) -> Option<String> {
        let first = self
            .leader_id
            .as_ref()
            .and_then(|l| self.members.get(l))
            .or_else(|| self.members.values().next())?;
        let candidates: Vec<&String> = first
            .protocols
            .iter()
            .map(|(n, _)| n)
            .filter(|n| self.members.values().all(|m| m.supports(n)))
            .collect();
        let mut votes = vec![0usize; candidates.len()];
        for m in self.members.values() {
            if let Some(i) = m
                .protocols
                .iter()
                .find_map(|(n, _)| candidates.iter().position(|c| *c == n))
            {
                votes[i] += 1;
            }
        }
        let mut best: Option<usize> = None;
        for (i, v) in votes.iter().enumerate() {
            if best.is_none_or(|b| *v > votes[b]) {
                best = Some(i);
            }
        }
        best.map(|i| candidates[i].clone())
    }

    pub(super) fn max_rebalance_timeout(&self) -> Duration {
        self.members
            .values()
            .map(|m| m.rebalance_timeout)
            .max()
            .unwrap_or_default()
    }

    pub(super) fn prepare_rebalance(&mut self, now: Instant) {
        if self.state == GroupState::CompletingRebalance {
            for m in self.members.values_mut() {
                if let Some(tx) = m.awaiting_sync.take() {
                    let _ = tx.send(SyncResult::error(ResponseError::RebalanceInProgress));
                    // A member parked in SyncGroup could not heartbeat meanwhile: its session
                    // starts again with the answer (Kafka's completeAndScheduleNextHeartbeat-
                    // Expiration), so it is not expired before it can rejoin.
                    m.session_deadline = now + m.session_timeout;
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

    pub(super) fn try_complete_join(&mut self, now: Instant) {
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

    pub(super) fn complete_join(&mut self, now: Instant) {
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
            if let Some(inst) = self
                .members
                .shift_remove(&id)
                .and_then(|m| m.group_instance_id)
                && self.static_members.get(&inst) == Some(&id)
            {
                self.static_members.remove(&inst);
            }
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
        self.protocol_name = self.select_protocol();
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
    pub(super) fn join_result(&self, member_id: &str) -> JoinResult {
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

    pub(crate) fn sync(&mut self, p: SyncParams, now: Instant) -> Reply<SyncResult> {
        if let Err(e) = self.check_member(
            &p.member_id,
            p.group_instance_id.as_deref(),
            p.generation_id,
        ) {
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
                        if let Some(m) = self.members.get_mut(&id)
                            && let Some(tx) = m.awaiting_sync.take()
                        {
                            let _ = tx.send(result);
                            // As above: the session restarts with the answer.
                            m.session_deadline = now + m.session_timeout;
                        }
                    }
                }
                Reply::Later(rx)
            }
        }
    }

    pub(super) fn sync_result(&self, member_id: &str) -> SyncResult {
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
}
