//! The classic group coordinator: JoinGroup/SyncGroup/Heartbeat/LeaveGroup membership and
//! committed offsets, for every group (this node coordinates them all).
//!
//! - [`group`]: one group's state and its heartbeat/leave/expiry paths, pure over `now`.
//! - [`rebalance`]: JoinGroup and SyncGroup, which form and complete generations.
//! - [`types`]: version-independent parameters and results the API modules translate.
//! - [`consumer_protocol`]: reads the topics out of consumer subscriptions (OffsetDelete).
//!
//! Static membership (KIP-345): a member joining with a group instance id is registered under
//! it; when that instance rejoins with an empty member id (a restarted client) it replaces the
//! old member, and the old member id is fenced (FENCED_INSTANCE_ID on its JoinGroup,
//! SyncGroup, Heartbeat, OffsetCommit and LeaveGroup). A stable group rebalances for it only
//! when its protocols change the group's protocol choice, as Kafka decides it: changed
//! metadata alone (a restarted cooperative or Java client no longer lists what it owned) does
//! not, so the member is back in the same generation with its old assignment at once.
//!
//! All groups sit behind one mutex, held only for the synchronous state change. Waiting
//! (JoinGroup until the rebalance completes, SyncGroup until the leader's assignment) happens
//! on `oneshot` receivers outside the lock. One timer task ([`GroupCoordinator::run_timers`])
//! sleeps until the earliest deadline of any group (session expiry, rebalance timeout, initial
//! rebalance delay) with tokio time, so tests can pause the clock.

mod consumer_protocol;
#[allow(clippy::module_inception)]
mod group;
mod rebalance;
mod types;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use kafka_protocol::ResponseError;
use tokio::sync::{Notify, watch};
use tokio::time::Instant;

use crate::state::lock;
use group::{Group, Reply};
pub(crate) use types::{
    CommittedOffset, JoinParams, JoinResult, OffsetCommitEntry, SyncParams, SyncResult,
};
pub use types::{GroupState, GroupSummary, MemberSummary};

/// Committed offsets of one topic: (partition, offset if any).
pub(crate) type TopicOffsets = (String, Vec<(i32, Option<CommittedOffset>)>);

/// Kafka's `offset.metadata.max.bytes`.
pub(crate) const MAX_OFFSET_METADATA: usize = 4096;

/// Group settings taken from the broker config.
#[derive(Debug, Clone, Copy)]
pub(crate) struct GroupConfig {
    pub(crate) initial_rebalance_delay: Duration,
    pub(crate) min_session_timeout: Duration,
    pub(crate) max_session_timeout: Duration,
}

/// Every group on this node.
#[derive(Debug)]
pub(crate) struct GroupCoordinator {
    config: GroupConfig,
    groups: Mutex<HashMap<String, Group>>,
    /// Wakes the timer task when a deadline may have moved earlier.
    changed: Notify,
}

impl GroupCoordinator {
    pub(crate) fn new(config: GroupConfig) -> Self {
        GroupCoordinator {
            config,
            groups: Mutex::new(HashMap::new()),
            changed: Notify::new(),
        }
    }

    /// Runs `f` on a group (creating it first when `create`). `wake_timers` tells the timer task
    /// to look again: needed whenever a deadline may have moved earlier, which heartbeats
    /// (they only push a session deadline later) never do.
    fn with_group<T>(
        &self,
        group_id: &str,
        create: bool,
        wake_timers: bool,
        f: impl FnOnce(&mut Group) -> T,
    ) -> Option<T> {
        let mut groups = lock(&self.groups);
        if create && !groups.contains_key(group_id) {
            groups.insert(
                group_id.to_owned(),
                Group::new(group_id, self.config.initial_rebalance_delay),
            );
        }
        let out = groups.get_mut(group_id).map(f);
        drop(groups);
        if wake_timers {
            self.changed.notify_one();
        }
        out
    }

    /// JoinGroup. Waits (outside the lock) until the rebalance completes when it has to.
    pub(crate) async fn join(&self, p: JoinParams) -> JoinResult {
        if p.group_id.is_empty() {
            return JoinResult::error(ResponseError::InvalidGroupId, &p.member_id);
        }
        let session = p.session_timeout;
        if session < self.config.min_session_timeout || session > self.config.max_session_timeout {
            return JoinResult::error(ResponseError::InvalidSessionTimeout, &p.member_id);
        }
        let member_id = p.member_id.clone();
        let group_id = p.group_id.clone();
        let reply = self.with_group(&group_id, true, true, |g| g.join(p, Instant::now()));
        match reply {
            Some(Reply::Now(r)) => r,
            Some(Reply::Later(rx)) => rx.await.unwrap_or_else(|_| {
                JoinResult::error(ResponseError::CoordinatorNotAvailable, &member_id)
            }),
            None => JoinResult::error(ResponseError::CoordinatorNotAvailable, &member_id),
        }
    }

    /// SyncGroup. Followers wait for the leader's assignment.
    pub(crate) async fn sync(&self, p: SyncParams) -> SyncResult {
        if p.group_id.is_empty() {
            return SyncResult::error(ResponseError::InvalidGroupId);
        }
        let group_id = p.group_id.clone();
        match self.with_group(&group_id, false, true, |g| g.sync(p, Instant::now())) {
            Some(Reply::Now(r)) => r,
            Some(Reply::Later(rx)) => rx
                .await
                .unwrap_or_else(|_| SyncResult::error(ResponseError::CoordinatorNotAvailable)),
            None => SyncResult::error(ResponseError::UnknownMemberId),
        }
    }

    pub(crate) fn heartbeat(
        &self,
        group_id: &str,
        member_id: &str,
        group_instance_id: Option<&str>,
        generation_id: i32,
    ) -> Option<ResponseError> {
        if group_id.is_empty() {
            return Some(ResponseError::InvalidGroupId);
        }
        self.with_group(group_id, false, false, |g| {
            g.heartbeat(member_id, group_instance_id, generation_id, Instant::now())
        })
        .unwrap_or(Some(ResponseError::UnknownMemberId))
    }

    /// LeaveGroup for several members; one result per member, in order.
    pub(crate) fn leave(
        &self,
        group_id: &str,
        members: &[(String, Option<String>)],
    ) -> Result<Vec<Option<ResponseError>>, ResponseError> {
        if group_id.is_empty() {
            return Err(ResponseError::InvalidGroupId);
        }
        let now = Instant::now();
        self.with_group(group_id, false, true, |g| {
            members
                .iter()
                .map(|(id, inst)| g.leave(id, inst.as_deref(), now))
                .collect()
        })
        .ok_or(ResponseError::UnknownMemberId)
    }

    /// OffsetCommit for partitions whose topics exist (the caller answers the others). The
    /// group-level check applies to the whole request; one result per entry.
    pub(crate) fn commit(
        &self,
        group_id: &str,
        member_id: &str,
        group_instance_id: Option<&str>,
        generation_id: i32,
        entries: Vec<OffsetCommitEntry>,
    ) -> Vec<Option<ResponseError>> {
        if group_id.is_empty() {
            return vec![Some(ResponseError::InvalidGroupId); entries.len()];
        }
        let mut groups = lock(&self.groups);
        if !groups.contains_key(group_id) {
            if generation_id >= 0 {
                return vec![Some(ResponseError::IllegalGeneration); entries.len()];
            }
            groups.insert(
                group_id.to_owned(),
                Group::new(group_id, self.config.initial_rebalance_delay),
            );
        }
        let Some(group) = groups.get_mut(group_id) else {
            return vec![Some(ResponseError::CoordinatorNotAvailable); entries.len()];
        };
        if let Err(e) =
            group.check_commit(member_id, group_instance_id, generation_id, Instant::now())
        {
            return vec![Some(e); entries.len()];
        }
        entries
            .into_iter()
            .map(|e| {
                let metadata = e.metadata.unwrap_or_default();
                if metadata.len() > MAX_OFFSET_METADATA {
                    return Some(ResponseError::OffsetMetadataTooLarge);
                }
                group.offsets.entry(e.topic).or_default().insert(
                    e.partition,
                    CommittedOffset {
                        offset: e.offset,
                        leader_epoch: e.leader_epoch,
                        metadata,
                    },
                );
                None
            })
            .collect()
    }

    /// Committed offsets: of the given partitions, or (None) of every partition with one.
    pub(crate) fn fetch_offsets(
        &self,
        group_id: &str,
        topics: Option<&[(String, Vec<i32>)]>,
    ) -> Vec<TopicOffsets> {
        let groups = lock(&self.groups);
        let group = groups.get(group_id);
        match topics {
            Some(topics) => topics
                .iter()
                .map(|(topic, partitions)| {
                    let stored = group.and_then(|g| g.offsets.get(topic));
                    let parts = partitions
                        .iter()
                        .map(|p| (*p, stored.and_then(|s| s.get(p)).cloned()))
                        .collect();
                    (topic.clone(), parts)
                })
                .collect(),
            None => group
                .map(|g| {
                    g.offsets
                        .iter()
                        .map(|(t, ps)| {
                            (
                                t.clone(),
                                ps.iter().map(|(p, o)| (*p, Some(o.clone()))).collect(),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default(),
        }
    }

    /// Puts back offsets recovered from storage at start (the group is created empty).
    pub(crate) fn restore_offsets(
        &self,
        group_id: &str,
        entries: Vec<(String, i32, CommittedOffset)>,
    ) {
        let mut groups = lock(&self.groups);
        let group = groups
            .entry(group_id.to_owned())
            .or_insert_with(|| Group::new(group_id, self.config.initial_rebalance_delay));
        for (topic, partition, offset) in entries {
            group
                .offsets
                .entry(topic)
                .or_default()
                .insert(partition, offset);
        }
    }

    /// Drops committed offsets of a deleted topic from every group (as Kafka does).
    pub(crate) fn remove_topic(&self, topic: &str) {
        for g in lock(&self.groups).values_mut() {
            g.offsets.remove(topic);
        }
    }

    pub(crate) fn describe(&self, group_id: &str) -> Option<GroupSummary> {
        lock(&self.groups).get(group_id).map(|g| g.summary())
    }

    /// Every group: (group id, protocol type, state), sorted by id.
    pub(crate) fn list(&self) -> Vec<(String, String, GroupState)> {
        let mut out: Vec<_> = lock(&self.groups)
            .values()
            .map(|g| {
                (
                    g.group_id.clone(),
                    g.protocol_type.clone().unwrap_or_default(),
                    g.state,
                )
            })
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// DeleteGroups for one group: only an empty group (no members) can go, with its offsets.
    pub(crate) fn delete(&self, group_id: &str) -> Option<ResponseError> {
        if group_id.is_empty() {
            return Some(ResponseError::InvalidGroupId);
        }
        let mut groups = lock(&self.groups);
        match groups.get(group_id) {
            None => Some(ResponseError::GroupIdNotFound),
            Some(g) if g.state != GroupState::Empty || !g.members.is_empty() => {
                Some(ResponseError::NonEmptyGroup)
            }
            Some(_) => {
                groups.remove(group_id);
                tracing::info!(group = %group_id, "group deleted");
                None
            }
        }
    }

    /// OffsetDelete: removes committed offsets of partitions the group is not subscribed to.
    /// `Err` is the group-level error; `Ok` holds one result per (topic, partition) given.
    pub(crate) fn delete_offsets(
        &self,
        group_id: &str,
        partitions: &[(String, i32)],
    ) -> Result<Vec<Option<ResponseError>>, ResponseError> {
        if group_id.is_empty() {
            return Err(ResponseError::InvalidGroupId);
        }
        let mut groups = lock(&self.groups);
        let group = groups
            .get_mut(group_id)
            .ok_or(ResponseError::GroupIdNotFound)?;
        let subscribed = group.subscribed_topics();
        Ok(partitions
            .iter()
            .map(|(topic, p)| {
                if subscribed.as_ref().is_some_and(|s| s.contains(topic)) {
                    return Some(ResponseError::GroupSubscribedToTopic);
                }
                if let Some(t) = group.offsets.get_mut(topic) {
                    t.remove(p);
                    if t.is_empty() {
                        group.offsets.remove(topic);
                    }
                }
                None
            })
            .collect())
    }

    fn next_deadline(&self) -> Option<Instant> {
        lock(&self.groups)
            .values()
            .filter_map(|g| g.next_deadline())
            .min()
    }

    /// Applies every passed deadline in every group.
    pub(crate) fn expire(&self, now: Instant) {
        for g in lock(&self.groups).values_mut() {
            if g.next_deadline().is_some_and(|d| d <= now) {
                g.expire(now);
            }
        }
    }

    /// The timer task: sleeps until the earliest group deadline or a state change, then expires
    /// what is due. Returns when `shutdown` flips to true (or its sender is dropped).
    pub(crate) async fn run_timers(&self, mut shutdown: watch::Receiver<bool>) {
        loop {
            if *shutdown.borrow() {
                return;
            }
            let next = self.next_deadline();
            let sleep = async {
                match next {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = sleep => self.expire(Instant::now()),
                _ = self.changed.notified() => {}
                r = shutdown.changed() => if r.is_err() { return },
            }
        }
    }
}

#[cfg(test)]
mod tests;
