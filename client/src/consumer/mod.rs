//! The consumer: manual assignment or group subscription, positions, fetching, commits.
//!
//! A consumer is driven by its caller: `poll` (or `poll_batches`, `stream`, or `join` +
//! `fetch_ranges` for micro-batch engines) performs group rejoins, rebalance callbacks,
//! auto-commits and fetches. Only heartbeats (and async commits) run in the background.
//!
//! Positions: each assigned partition has a *fetch position* (next offset to fetch).
//! [`Consumer::position`] is the next offset the application will see: the first buffered
//! record of the partition, or the fetch position when nothing is buffered. Commits of
//! positions therefore never skip records that were fetched but not yet handed out.
//!
//! Files: `fetching.rs` (positions, fetch rounds), `fetcher.rs` (one Fetch, record
//! filtering), `session.rs` (KIP-227), `commit.rs` (sync/async commits), `rebalance.rs`
//! (joins and callbacks), `listener.rs`, `group.rs`, `assignor.rs`, `sticky.rs`,
//! `offsets.rs`, `ranges.rs`.

pub(crate) mod assignor;
mod commit;
pub(crate) mod fetcher;
mod fetching;
mod group;
mod listener;
pub(crate) mod offsets;
mod ranges;
mod rebalance;
mod session;
mod sticky;

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::time::Duration;

use futures::Stream;
use regex::Regex;
use tokio::time::Instant;

use crate::client::Client;
use crate::config::ConsumerConfig;
use crate::connection::Connection;
use crate::error::Error;
use crate::metrics::Metrics;
use crate::types::{ConsumerRecord, TopicPartition};
pub use commit::CommitFuture;
use group::Membership;
pub use listener::RebalanceListener;
use session::FetchSession;

/// Where a partition's next fetch starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pos {
    Known(i64),
    /// Look up the committed offset, then fall back to `auto_offset_reset`.
    Committed,
    /// Reset with this policy.
    Reset(crate::config::OffsetReset),
}

/// A consumer-group member's assignment from DescribeGroups (consumer-protocol bytes).
pub(crate) fn decode_member_assignment(bytes: bytes::Bytes) -> Result<Vec<TopicPartition>, Error> {
    assignor::decode_assignment(bytes)
}

/// What the consumer is subscribed to.
#[derive(Debug, Default)]
enum Subscription {
    #[default]
    None,
    /// Fixed topic names, sorted.
    Topics(Vec<String>),
    /// Every topic whose whole name matches (internal topics excluded), re-checked when the
    /// metadata is older than `metadata_max_age`.
    Pattern {
        regex: Regex,
        matched: Vec<String>,
        checked: Option<Instant>,
    },
}

impl Subscription {
    fn topics(&self) -> &[String] {
        match self {
            Subscription::None => &[],
            Subscription::Topics(t) => t,
            Subscription::Pattern { matched, .. } => matched,
        }
    }

    fn is_active(&self) -> bool {
        !matches!(self, Subscription::None)
    }
}

/// The records of one partition from one `poll_batches` call, in offset order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionRecords {
    /// The partition.
    pub tp: TopicPartition,
    /// Its records.
    pub records: Vec<ConsumerRecord>,
}

/// A fetch connection and its fetch session.
#[derive(Debug)]
struct FetchLink {
    conn: Connection,
    session: FetchSession,
}

/// A Kafka consumer. See the module docs for how positions work.
pub struct Consumer {
    client: Client,
    config: ConsumerConfig,
    subscription: Subscription,
    manual: bool,
    partitions: BTreeMap<TopicPartition, Pos>,
    paused: BTreeSet<TopicPartition>,
    group: Option<Membership>,
    buffer: VecDeque<ConsumerRecord>,
    fetch_links: HashMap<String, FetchLink>,
    next_auto_commit: Instant,
    rotate: usize,
    listener: Option<Box<dyn RebalanceListener>>,
    committer: Option<commit::Committer>,
}

impl std::fmt::Debug for Consumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Consumer")
            .field("group", &self.config.group_id)
            .field("subscription", &self.subscription)
            .field("assignment", &self.partitions.keys().collect::<Vec<_>>())
            .field("paused", &self.paused)
            .field("buffered", &self.buffer.len())
            .finish_non_exhaustive()
    }
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
            subscription: Subscription::None,
            manual: false,
            partitions: BTreeMap::new(),
            paused: BTreeSet::new(),
            group,
            buffer: VecDeque::new(),
            fetch_links: HashMap::new(),
            rotate: 0,
            listener: None,
            committer: None,
        }
    }

    /// Sets the rebalance callbacks (replacing earlier ones).
    pub fn set_rebalance_listener(&mut self, listener: impl RebalanceListener + 'static) {
        self.listener = Some(Box::new(listener));
    }

    /// Consumes exactly these partitions (no group membership). Positions come from the
    /// committed offsets (with a group id) or `auto_offset_reset`.
    pub fn assign(&mut self, partitions: Vec<TopicPartition>) -> Result<(), Error> {
        if self.subscription.is_active() {
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
        self.retain_owned();
        let topics: Vec<String> = self.partitions.keys().map(|tp| tp.topic.clone()).collect();
        self.client.cluster.add_interest(&topics);
        Ok(())
    }

    /// Subscribes to topics as a member of `group_id`; the group's assignment arrives on
    /// the next `poll` / `join`.
    pub async fn subscribe(&mut self, topics: &[&str]) -> Result<(), Error> {
        self.check_can_subscribe()?;
        if topics.is_empty() {
            return Err(Error::Config("subscribe() needs at least one topic".into()));
        }
        let mut list: Vec<String> = topics.iter().map(|t| (*t).to_owned()).collect();
        list.sort();
        list.dedup();
        if list != self.subscription.topics() {
            self.client.cluster.add_interest(&list);
            self.subscription = Subscription::Topics(list);
            self.request_rejoin();
        }
        Ok(())
    }

    /// Subscribes to every topic whose whole name matches `pattern` (a Rust `regex`;
    /// internal topics such as `__consumer_offsets` never match). New matching topics are
    /// picked up when the metadata is refreshed (`metadata_max_age`), as in Java.
    pub async fn subscribe_pattern(&mut self, pattern: &str) -> Result<(), Error> {
        self.check_can_subscribe()?;
        let regex = Regex::new(&format!("^(?:{pattern})$"))
            .map_err(|e| Error::Config(format!("subscribe_pattern: {e}")))?;
        self.subscription = Subscription::Pattern {
            regex,
            matched: Vec::new(),
            checked: None,
        };
        self.refresh_pattern().await?;
        self.request_rejoin();
        Ok(())
    }

    fn check_can_subscribe(&self) -> Result<(), Error> {
        if self.manual && !self.partitions.is_empty() {
            return Err(Error::Config(
                "subscribe() cannot be mixed with assign()".into(),
            ));
        }
        if self.group.is_none() {
            return Err(Error::Config("subscribe() needs a group_id".into()));
        }
        Ok(())
    }

    fn request_rejoin(&self) {
        if let Some(g) = &self.group {
            g.request_rejoin();
        }
    }

    /// The topics currently subscribed (for a pattern: those that matched last time).
    pub fn subscription(&self) -> Vec<String> {
        self.subscription.topics().to_vec()
    }

    /// Returns up to `max_poll_records` records available now, waiting up to `timeout` for
    /// some. Drives group membership (joins, rebalances, callbacks) and auto-commit.
    pub async fn poll(&mut self, timeout: Duration) -> Result<Vec<ConsumerRecord>, Error> {
        let deadline = Instant::now() + timeout;
        loop {
            self.maybe_rejoin().await?;
            self.maybe_auto_commit().await;
            if !self.buffer.is_empty() {
                return Ok(self.take_buffered());
            }
            self.resolve_positions().await?;
            let remaining = deadline.saturating_duration_since(Instant::now());
            let fetchable = self.partitions.keys().any(|tp| !self.paused.contains(tp));
            if !fetchable {
                if remaining.is_zero() {
                    return Ok(Vec::new());
                }
                // Nothing assigned (yet) or all paused; a rebalance is signalled by the
                // heartbeat task.
                tokio::time::sleep(remaining.min(Duration::from_millis(100))).await;
                continue;
            }
            self.fetch_into_buffer(self.config.fetch_max_wait.min(remaining))
                .await?;
            if !self.buffer.is_empty() || Instant::now() >= deadline {
                return Ok(self.take_buffered());
            }
        }
    }

    /// Like [`poll`](Self::poll), grouped by partition (partitions in the order their first
    /// record was fetched; records in offset order). For high-throughput processing per
    /// partition; `max_poll_records` applies to the total.
    pub async fn poll_batches(
        &mut self,
        timeout: Duration,
    ) -> Result<Vec<PartitionRecords>, Error> {
        let records = self.poll(timeout).await?;
        let mut out: Vec<PartitionRecords> = Vec::new();
        let mut index: HashMap<TopicPartition, usize> = HashMap::new();
        for r in records {
            let tp = TopicPartition::new(r.topic.clone(), r.partition);
            let i = *index.entry(tp.clone()).or_insert_with(|| {
                out.push(PartitionRecords {
                    tp,
                    records: Vec::new(),
                });
                out.len() - 1
            });
            if let Some(p) = out.get_mut(i) {
                p.records.push(r);
            }
        }
        Ok(out)
    }

    fn take_buffered(&mut self) -> Vec<ConsumerRecord> {
        let n = self.buffer.len().min(self.config.max_poll_records.max(1));
        let out: Vec<ConsumerRecord> = self.buffer.drain(..n).collect();
        let metrics = self.client.cluster.metrics();
        Metrics::add(&metrics.records_consumed, out.len() as u64);
        let bytes: usize = out
            .iter()
            .map(|r| {
                r.key.as_ref().map_or(0, |k| k.len()) + r.value.as_ref().map_or(0, |v| v.len())
            })
            .sum();
        Metrics::add(&metrics.record_bytes_consumed, bytes as u64);
        out
    }

    /// The records as a stream (polling in the background of each `next`).
    pub fn stream(&mut self) -> impl Stream<Item = Result<ConsumerRecord, Error>> + '_ {
        futures::stream::unfold(
            (self, VecDeque::new()),
            |(c, mut ready): (&mut Consumer, VecDeque<ConsumerRecord>)| async move {
                loop {
                    if let Some(r) = ready.pop_front() {
                        return Some((Ok(r), (c, ready)));
                    }
                    match c.poll(Duration::from_secs(1)).await {
                        Ok(records) => ready.extend(records),
                        Err(e) => return Some((Err(e), (c, ready))),
                    }
                }
            },
        )
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

    /// Stops fetching these assigned partitions until [`resume`](Self::resume); records of
    /// them already buffered are put back (their position moves back to the first one), so
    /// nothing is skipped. Paused partitions keep their assignment and positions.
    pub fn pause(&mut self, tps: &[TopicPartition]) -> Result<(), Error> {
        for tp in tps {
            if !self.partitions.contains_key(tp) {
                return Err(Error::Config(format!("pause: {tp} is not assigned")));
            }
        }
        for tp in tps {
            if let Some(first) = self.position(tp) {
                self.partitions.insert(tp.clone(), Pos::Known(first));
            }
            self.buffer
                .retain(|r| !(r.topic == tp.topic && r.partition == tp.partition));
            self.paused.insert(tp.clone());
        }
        Ok(())
    }

    /// Fetches these partitions again.
    pub fn resume(&mut self, tps: &[TopicPartition]) {
        for tp in tps {
            self.paused.remove(tp);
        }
    }

    /// The paused partitions, sorted.
    pub fn paused(&self) -> Vec<TopicPartition> {
        self.paused.iter().cloned().collect()
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

    /// Makes sure group membership is active (joining on first use, after a rebalance was
    /// signalled, or after a membership error) and returns the assignment. Cheap when
    /// stable. With manual assignment it just returns the assignment.
    pub async fn join(&mut self) -> Result<Vec<TopicPartition>, Error> {
        self.maybe_rejoin().await?;
        Ok(self.assignment())
    }

    /// Commits (if auto-commit is on), stops heartbeats and leaves the group. Partitions
    /// are revoked through the listener first, as Java's `close` does.
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
        if member && !self.partitions.is_empty() {
            let owned = self.assignment();
            self.notify(listener::Event::Revoked, &owned).await;
        }
        if let Some(c) = self.committer.take() {
            c.finish().await;
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

    /// Drops buffered records and paused marks of partitions no longer assigned.
    fn retain_owned(&mut self) {
        let keep = &self.partitions;
        self.buffer
            .retain(|r| keep.contains_key(&TopicPartition::new(r.topic.clone(), r.partition)));
        self.paused.retain(|tp| keep.contains_key(tp));
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_features;
