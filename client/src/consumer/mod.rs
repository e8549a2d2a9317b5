//! The consumer: manual assignment or group subscription, positions, fetching, commits.
//!
//! A consumer is driven by its caller: `poll` (or `stream`, or `join` + `fetch_ranges` for
//! micro-batch engines) performs group rejoins, auto-commits and fetches. Only heartbeats
//! run in the background.
//!
//! Positions: each assigned partition has a *fetch position* (next offset to fetch).
//! [`Consumer::position`] is the next offset the application will see: the first buffered
//! record of the partition, or the fetch position when nothing is buffered. Commits of
//! positions therefore never skip records that were fetched but not yet handed out.

mod assignor;
mod fetcher;
mod group;
mod offsets;
mod ranges;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::Duration;

use futures::Stream;
use tokio::time::Instant;

use crate::client::Client;
use crate::cluster::needs_metadata_refresh;
use crate::config::{ConsumerConfig, OffsetReset};
use crate::connection::Connection;
use crate::error::{Error, KafkaCode};
use crate::types::{ConsumerRecord, OffsetSpec, TopicPartition};
use group::Membership;
use offsets::CommitIdentity;

/// Where a partition's next fetch starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pos {
    Known(i64),
    /// Look up the committed offset, then fall back to `auto_offset_reset`.
    Committed,
    /// Reset with this policy.
    Reset(OffsetReset),
}

/// A Kafka consumer. See the module docs for how positions work.
#[derive(Debug)]
pub struct Consumer {
    client: Client,
    config: ConsumerConfig,
    subscription: Vec<String>,
    manual: bool,
    partitions: BTreeMap<TopicPartition, Pos>,
    group: Option<Membership>,
    buffer: VecDeque<ConsumerRecord>,
    fetch_conns: HashMap<String, Connection>,
    next_auto_commit: Instant,
    rotate: usize,
}

impl Consumer {
    pub(crate) fn new(client: Client, config: ConsumerConfig) -> Consumer {
        let group = config
            .group_id
            .clone()
            .map(|g| Membership::new(g, config.group_instance_id.clone()));
        Consumer {
            next_auto_commit: Instant::now() + config.auto_commit_interval,
            client,
            config,
            subscription: Vec::new(),
            manual: false,
            partitions: BTreeMap::new(),
            group,
            buffer: VecDeque::new(),
            fetch_conns: HashMap::new(),
            rotate: 0,
        }
    }

    /// Consumes exactly these partitions (no group membership). Positions come from the
    /// committed offsets (with a group id) or `auto_offset_reset`.
    pub fn assign(&mut self, partitions: Vec<TopicPartition>) -> Result<(), Error> {
        if !self.subscription.is_empty() {
            return Err(Error::Config(
                "assign() cannot be mixed with subscribe()".into(),
            ));
        }
        self.manual = true;
        let mut next = BTreeMap::new();
        for tp in partitions {
            let pos = self.partitions.get(&tp).copied().unwrap_or(Pos::Committed);
            next.insert(tp, pos);
        }
        self.partitions = next;
        let keep = &self.partitions;
        self.buffer
            .retain(|r| keep.contains_key(&TopicPartition::new(r.topic.clone(), r.partition)));
        let topics: Vec<String> = self.partitions.keys().map(|tp| tp.topic.clone()).collect();
        self.client.cluster.add_interest(&topics);
        Ok(())
    }

    /// Subscribes to topics as a member of `group_id`; the group's assignment arrives on
    /// the next `poll` / `join`.
    pub async fn subscribe(&mut self, topics: &[&str]) -> Result<(), Error> {
        if self.manual && !self.partitions.is_empty() {
            return Err(Error::Config(
                "subscribe() cannot be mixed with assign()".into(),
            ));
        }
        let Some(group) = self.group.as_mut() else {
            return Err(Error::Config("subscribe() needs a group_id".into()));
        };
        if topics.is_empty() {
            return Err(Error::Config("subscribe() needs at least one topic".into()));
        }
        let mut list: Vec<String> = topics.iter().map(|t| (*t).to_owned()).collect();
        list.sort();
        list.dedup();
        if list != self.subscription {
            self.subscription = list;
            group
                .flags
                .rejoin
                .store(true, std::sync::atomic::Ordering::Release);
        }
        self.client.cluster.add_interest(&self.subscription);
        Ok(())
    }

    /// Returns the records available now, waiting up to `timeout` for some. Drives group
    /// membership (joins, rebalances) and auto-commit.
    pub async fn poll(&mut self, timeout: Duration) -> Result<Vec<ConsumerRecord>, Error> {
        let deadline = Instant::now() + timeout;
        loop {
            self.maybe_rejoin().await?;
            self.maybe_auto_commit().await;
            if !self.buffer.is_empty() {
                return Ok(self.buffer.drain(..).collect());
            }
            self.resolve_positions().await?;
            let remaining = deadline.saturating_duration_since(Instant::now());
            if self.partitions.is_empty() {
                if remaining.is_zero() {
                    return Ok(Vec::new());
                }
                // Nothing assigned (yet); a rebalance is signalled by the heartbeat task.
                tokio::time::sleep(remaining.min(Duration::from_millis(100))).await;
                continue;
            }
            self.fetch_into_buffer(self.config.fetch_max_wait.min(remaining))
                .await?;
            if !self.buffer.is_empty() || Instant::now() >= deadline {
                return Ok(self.buffer.drain(..).collect());
            }
        }
    }

    /// The records as a stream (polling in the background of each `next`).
    pub fn stream(&mut self) -> impl Stream<Item = Result<ConsumerRecord, Error>> + '_ {
        futures::stream::unfold(self, |c| async move {
            loop {
                if let Some(r) = c.buffer.pop_front() {
                    return Some((Ok(r), c));
                }
                match c.poll(Duration::from_secs(1)).await {
                    Ok(records) => c.buffer.extend(records),
                    Err(e) => return Some((Err(e), c)),
                }
            }
        })
    }

    /// Moves the position of an assigned partition; buffered records of it are dropped.
    pub fn seek(&mut self, tp: &TopicPartition, offset: i64) -> Result<(), Error> {
        let Some(pos) = self.partitions.get_mut(tp) else {
            return Err(Error::Config(format!("seek: {tp} is not assigned")));
        };
        if offset < 0 {
            return Err(Error::Config(format!("seek: negative offset {offset}")));
        }
        *pos = Pos::Known(offset);
        self.buffer
            .retain(|r| !(r.topic == tp.topic && r.partition == tp.partition));
        Ok(())
    }

    /// The offset of the next record the application will get from `tp`, if known.
    pub fn position(&self, tp: &TopicPartition) -> Option<i64> {
        if let Some(r) = self
            .buffer
            .iter()
            .find(|r| r.partition == tp.partition && r.topic == tp.topic)
        {
            return Some(r.offset);
        }
        match self.partitions.get(tp) {
            Some(Pos::Known(o)) => Some(*o),
            _ => None,
        }
    }

    /// The partitions currently assigned, sorted.
    pub fn assignment(&self) -> Vec<TopicPartition> {
        self.partitions.keys().cloned().collect()
    }

    /// Commits `offsets` (the offsets of the *next* records to read) synchronously.
    pub async fn commit(&mut self, offsets: &BTreeMap<TopicPartition, i64>) -> Result<(), Error> {
        let cluster = self.client.cluster.clone();
        let timeout = cluster.request_timeout();
        let Some(group) = self.group.as_mut() else {
            return Err(Error::Config("commit needs a group_id".into()));
        };
        let (generation_id, member_id) = if group.active {
            (group.generation_id, group.member_id.clone())
        } else {
            (-1, String::new())
        };
        let group_id = group.group_id.clone();
        let instance_id = group.instance_id.clone();
        let who = CommitIdentity {
            group_id: &group_id,
            generation_id,
            member_id: &member_id,
            group_instance_id: instance_id.as_deref(),
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            let conn = group.coordinator(&cluster).await?;
            match offsets::commit(&conn, &who, offsets, timeout).await {
                Ok(()) => return Ok(()),
                Err(e) if offsets::coordinator_moved(&e) && attempt < 3 => {
                    group.coordinator_failed();
                    tokio::time::sleep(cluster.config.retry_backoff).await;
                }
                Err(e) => {
                    if let Some(code) = e.kafka_code() {
                        group.on_group_error(code);
                    }
                    return Err(e);
                }
            }
        }
    }

    /// Commits the current position of every assigned partition with a known position.
    pub async fn commit_positions(&mut self) -> Result<(), Error> {
        let offsets: BTreeMap<TopicPartition, i64> = self
            .partitions
            .keys()
            .filter_map(|tp| self.position(tp).map(|o| (tp.clone(), o)))
            .collect();
        self.commit(&offsets).await
    }

    /// The group's committed offsets for `tps` (`None`: nothing committed).
    pub async fn committed(
        &mut self,
        tps: &[TopicPartition],
    ) -> Result<BTreeMap<TopicPartition, Option<i64>>, Error> {
        let cluster = self.client.cluster.clone();
        let Some(group) = self.group.as_mut() else {
            return Err(Error::Config("committed() needs a group_id".into()));
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            let conn = group.coordinator(&cluster).await?;
            let group_id = group.group_id.clone();
            match offsets::fetch_committed(&conn, &group_id, tps, cluster.request_timeout()).await {
                Ok(r) => return Ok(r),
                Err(e)
                    if (offsets::coordinator_moved(&e)
                        || e.kafka_code() == Some(KafkaCode::CoordinatorLoadInProgress))
                        && attempt < 5 =>
                {
                    group.coordinator_failed();
                    tokio::time::sleep(cluster.config.retry_backoff).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Makes sure group membership is active (joining on first use, after a rebalance was
    /// signalled, or after a membership error) and returns the assignment. Cheap when
    /// stable. With manual assignment it just returns the assignment.
    pub async fn join(&mut self) -> Result<Vec<TopicPartition>, Error> {
        self.maybe_rejoin().await?;
        Ok(self.assignment())
    }

    /// Commits (if auto-commit is on), stops heartbeats and leaves the group.
    pub async fn close(mut self) -> Result<(), Error> {
        let mut result = Ok(());
        let member = self.group.as_ref().is_some_and(|g| g.active);
        if member
            && self.config.enable_auto_commit
            && let Err(e) = self.commit_positions().await
        {
            tracing::warn!(error = %e, "final auto-commit failed");
            result = Err(e);
        }
        let cluster = self.client.cluster.clone();
        if let Some(g) = self.group.as_mut()
            && let Err(e) = g.leave(&cluster).await
        {
            tracing::debug!(error = %e, "LeaveGroup failed");
            if result.is_ok() {
                result = Err(e);
            }
        }
        result
    }

    // ---- internals ----

    async fn maybe_rejoin(&mut self) -> Result<(), Error> {
        if self.subscription.is_empty() {
            return Ok(());
        }
        let needs = self.group.as_ref().is_some_and(Membership::needs_join);
        if !needs {
            return Ok(());
        }
        let was_active = self.group.as_ref().is_some_and(|g| g.active);
        if was_active && self.config.enable_auto_commit {
            // Eager rebalance: commit what we consumed before giving the partitions up.
            if let Err(e) = self.commit_positions().await {
                tracing::debug!(error = %e, "commit before rebalance failed");
            }
        }
        self.partitions.clear();
        self.buffer.clear();
        let cluster = self.client.cluster.clone();
        let Some(group) = self.group.as_mut() else {
            return Ok(());
        };
        let assignment = group
            .join(&cluster, &self.config, &self.subscription)
            .await?;
        self.partitions = assignment
            .into_iter()
            .map(|tp| (tp, Pos::Committed))
            .collect();
        Ok(())
    }

    async fn maybe_auto_commit(&mut self) {
        if !self.config.enable_auto_commit
            || self.group.is_none()
            || Instant::now() < self.next_auto_commit
        {
            return;
        }
        self.next_auto_commit = Instant::now() + self.config.auto_commit_interval;
        if self.partitions.is_empty() {
            return;
        }
        if let Err(e) = self.commit_positions().await {
            tracing::warn!(error = %e, "auto-commit failed");
        }
    }

    /// Turns `Committed` and `Reset` positions into known offsets.
    async fn resolve_positions(&mut self) -> Result<(), Error> {
        let need_committed: Vec<TopicPartition> = self
            .partitions
            .iter()
            .filter(|(_, p)| **p == Pos::Committed)
            .map(|(tp, _)| tp.clone())
            .collect();
        if !need_committed.is_empty() {
            let committed = if self.group.is_some() {
                self.committed(&need_committed).await?
            } else {
                BTreeMap::new()
            };
            for tp in need_committed {
                let pos = match committed.get(&tp).copied().flatten() {
                    Some(o) => Pos::Known(o),
                    None => Pos::Reset(self.config.auto_offset_reset),
                };
                self.partitions.insert(tp, pos);
            }
        }
        let mut specs = Vec::new();
        for (tp, p) in &self.partitions {
            if let Pos::Reset(policy) = p {
                let spec = match policy {
                    OffsetReset::Earliest => OffsetSpec::Earliest,
                    OffsetReset::Latest => OffsetSpec::Latest,
                    OffsetReset::None => {
                        return Err(Error::kafka(
                            KafkaCode::OffsetOutOfRange,
                            format!("{tp} has no valid offset and auto_offset_reset is None"),
                        ));
                    }
                };
                specs.push((tp.clone(), spec));
            }
        }
        if !specs.is_empty() {
            let found = self.client.list_offsets(&specs).await?;
            for (tp, offset) in found {
                if let Some(p) = self.partitions.get_mut(&tp) {
                    *p = Pos::Known(offset.max(0));
                }
            }
        }
        Ok(())
    }

    async fn fetch_conn(&mut self, leader: i32) -> Result<Connection, Error> {
        let cluster = self.client.cluster.clone();
        let addr = match cluster.metadata().broker_addr(leader) {
            Some(a) => a.to_owned(),
            None => {
                cluster.refresh(&[]).await?;
                cluster
                    .metadata()
                    .broker_addr(leader)
                    .ok_or_else(|| {
                        Error::Protocol(format!("leader {leader} is not in the metadata"))
                    })?
                    .to_owned()
            }
        };
        if let Some(c) = self.fetch_conns.get(&addr)
            && !c.is_closed()
        {
            return Ok(c.clone());
        }
        let c = cluster.dedicated_connection(&addr).await?;
        self.fetch_conns.insert(addr, c.clone());
        Ok(c)
    }

    /// One Fetch per leader, concurrently. Request-level failures of retriable kind are
    /// logged and yield no partitions (metadata is refreshed); others are returned.
    async fn fetch_round(
        &mut self,
        targets: Vec<(TopicPartition, i64, i32)>,
        wait: Duration,
    ) -> Result<Vec<(TopicPartition, fetcher::FetchedPartition)>, Error> {
        self.rotate = self.rotate.wrapping_add(1);
        let grouped = fetcher::by_leader(targets, self.rotate);
        let mut calls = Vec::new();
        let mut failed = false;
        for (leader, list) in grouped {
            match self.fetch_conn(leader).await {
                Ok(c) => calls.push((c, list)),
                Err(e) if e.is_retriable() => {
                    tracing::debug!(leader, error = %e, "cannot reach partition leader");
                    failed = true;
                }
                Err(e) => return Err(e),
            }
        }
        let timeout = self.client.cluster.request_timeout();
        let config = &self.config;
        let results = futures::future::join_all(
            calls
                .iter()
                .map(|(c, list)| fetcher::fetch(c, list, config, wait, timeout)),
        )
        .await;
        let mut out = Vec::new();
        for r in results {
            match r {
                Ok(parts) => out.extend(parts),
                Err(e) if e.is_retriable() => {
                    tracing::debug!(error = %e, "fetch failed");
                    failed = true;
                }
                Err(e) => return Err(e),
            }
        }
        if failed {
            self.client.cluster.invalidate();
            tokio::time::sleep(self.client.cluster.config.retry_backoff).await;
        }
        Ok(out)
    }

    async fn fetch_into_buffer(&mut self, wait: Duration) -> Result<(), Error> {
        let mut targets = Vec::new();
        for (tp, p) in &self.partitions {
            let Pos::Known(offset) = p else { continue };
            match self.client.cluster.cached_leader(&tp.topic, tp.partition) {
                Some(l) => targets.push((tp.clone(), *offset, l)),
                None => self.client.cluster.invalidate(),
            }
        }
        if targets.is_empty() {
            // Leaders unknown: refresh metadata (bounded by the request timeout).
            let topics: Vec<String> = self.partitions.keys().map(|tp| tp.topic.clone()).collect();
            self.client.cluster.refresh(&topics).await?;
            tokio::time::sleep(self.client.cluster.config.retry_backoff.min(wait)).await;
            return Ok(());
        }
        let requested: HashMap<TopicPartition, i64> =
            targets.iter().map(|(tp, o, _)| (tp.clone(), *o)).collect();
        let results = self.fetch_round(targets, wait).await?;
        for (tp, fp) in results {
            let Some(&asked) = requested.get(&tp) else {
                continue;
            };
            if self.partitions.get(&tp) != Some(&Pos::Known(asked)) {
                continue;
            }
            match fp.error {
                KafkaCode::None => {
                    let Some(data) = fp.records else { continue };
                    let (recs, next) = fetcher::records_from(
                        &tp,
                        &data,
                        asked,
                        None,
                        self.config.max_decompressed_batch_bytes,
                    )?;
                    self.buffer.extend(recs);
                    self.partitions.insert(tp, Pos::Known(next));
                }
                KafkaCode::OffsetOutOfRange => match self.config.auto_offset_reset {
                    OffsetReset::None => {
                        return Err(Error::kafka(
                            KafkaCode::OffsetOutOfRange,
                            format!("{tp} at offset {asked}"),
                        ));
                    }
                    policy => {
                        tracing::info!(%tp, offset = asked, ?policy, "offset out of range, resetting");
                        self.partitions.insert(tp, Pos::Reset(policy));
                    }
                },
                code if code.is_retriable() => {
                    if needs_metadata_refresh(code) {
                        self.client.cluster.invalidate();
                    }
                }
                code => return Err(Error::kafka(code, format!("fetch {tp} at offset {asked}"))),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
