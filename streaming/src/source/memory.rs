//! An in-memory [`BatchSource`]: partitions as vectors, a committed-offset
//! map, and fault injection, so the engine's semantics are tested without a
//! broker. Cloning gives another handle to the same state: hand one clone to
//! the context and keep one to produce, inspect commits and inject faults.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;

use super::{BatchSource, OffsetRange, SourceRecord, TopicPartition};
use crate::error::SourceError;

/// A [`BatchSource`] operation, for fault injection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SourceOp {
    /// [`BatchSource::assignment`].
    Assignment,
    /// [`BatchSource::latest_offsets`].
    LatestOffsets,
    /// [`BatchSource::earliest_offsets`].
    EarliestOffsets,
    /// [`BatchSource::committed_offsets`].
    CommittedOffsets,
    /// [`BatchSource::fetch_ranges`].
    Fetch,
    /// [`BatchSource::commit`].
    Commit,
}

#[derive(Debug, Default)]
struct PartitionLog {
    log_start: i64,
    /// Records from `log_start` on, offset = log_start + index.
    records: Vec<(Option<Bytes>, Option<Bytes>, i64)>,
}

impl PartitionLog {
    fn log_end(&self) -> i64 {
        self.log_start + self.records.len() as i64
    }
}

#[derive(Debug, Default)]
struct State {
    logs: BTreeMap<TopicPartition, PartitionLog>,
    assignment: Option<Vec<TopicPartition>>,
    committed: BTreeMap<TopicPartition, i64>,
    faults: BTreeMap<SourceOp, u32>,
    fenced_commits: u32,
    commit_hook: Option<CommitHook>,
    fetch_delay: Duration,
    fetches: Vec<Vec<OffsetRange>>,
    commits: Vec<BTreeMap<TopicPartition, i64>>,
    closes: u32,
}

type CommitFn = dyn FnMut(&BTreeMap<TopicPartition, i64>) + Send;

struct CommitHook(Box<CommitFn>);

impl std::fmt::Debug for CommitHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CommitHook")
    }
}

/// In-memory partitions and group offsets (see the module docs).
#[derive(Debug, Clone, Default)]
pub struct MemorySource {
    state: Arc<Mutex<State>>,
    /// Per handle: a closed handle fails every call, but a new clone of the
    /// same data works, as a restarted consumer does.
    closed: bool,
}

impl MemorySource {
    /// An empty source with no topics.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves plain data behind; keep going.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Creates `partitions` empty partitions of `topic` (all assigned unless
    /// [`set_assignment`](Self::set_assignment) says otherwise).
    pub fn create_topic(&self, topic: &str, partitions: i32) -> &Self {
        let mut s = self.lock();
        for p in 0..partitions {
            s.logs.entry(TopicPartition::new(topic, p)).or_default();
        }
        self
    }

    /// Appends an unkeyed record and returns its offset.
    pub fn produce(&self, topic: &str, partition: i32, value: impl AsRef<[u8]>) -> i64 {
        self.append(
            topic,
            partition,
            None,
            Some(Bytes::copy_from_slice(value.as_ref())),
        )
    }

    /// Appends a keyed record and returns its offset.
    pub fn produce_keyed(
        &self,
        topic: &str,
        partition: i32,
        key: impl AsRef<[u8]>,
        value: impl AsRef<[u8]>,
    ) -> i64 {
        self.append(
            topic,
            partition,
            Some(Bytes::copy_from_slice(key.as_ref())),
            Some(Bytes::copy_from_slice(value.as_ref())),
        )
    }

    /// Appends a record with any key and value (either may be null).
    pub fn append(
        &self,
        topic: &str,
        partition: i32,
        key: Option<Bytes>,
        value: Option<Bytes>,
    ) -> i64 {
        let mut s = self.lock();
        let log = s
            .logs
            .entry(TopicPartition::new(topic, partition))
            .or_default();
        let offset = log.log_end();
        log.records.push((key, value, 1_000 + offset));
        offset
    }

    /// Deletes records before `offset`, as retention does.
    pub fn delete_records_before(&self, topic: &str, partition: i32, offset: i64) {
        let mut s = self.lock();
        let log = s
            .logs
            .entry(TopicPartition::new(topic, partition))
            .or_default();
        let drop = usize::try_from(offset - log.log_start)
            .unwrap_or(0)
            .min(log.records.len());
        log.records.drain(..drop);
        log.log_start += drop as i64;
    }

    /// Restricts the assignment (`None`: every partition is assigned).
    pub fn set_assignment(&self, tps: Option<Vec<TopicPartition>>) {
        self.lock().assignment = tps;
    }

    /// Sets a committed offset directly, as an earlier run would have.
    pub fn set_committed(&self, tp: TopicPartition, offset: i64) {
        self.lock().committed.insert(tp, offset);
    }

    /// The group's committed offsets.
    pub fn committed(&self) -> BTreeMap<TopicPartition, i64> {
        self.lock().committed.clone()
    }

    /// Makes the next `times` calls of `op` fail with [`SourceError::Injected`].
    pub fn fail_next(&self, op: SourceOp, times: u32) {
        self.lock().faults.insert(op, times);
    }

    /// Makes the next `times` commits fail with [`SourceError::Fenced`], as
    /// Kafka refuses a commit from a member of a past generation.
    pub fn fence_next_commits(&self, times: u32) {
        self.lock().fenced_commits = times;
    }

    /// Calls `hook` with the offsets of every commit, before it is applied
    /// (e.g. to move the assignment, as a rebalance would, at that moment).
    pub fn on_commit(&self, hook: impl FnMut(&BTreeMap<TopicPartition, i64>) + Send + 'static) {
        self.lock().commit_hook = Some(CommitHook(Box::new(hook)));
    }

    /// Makes every fetch take this long (tokio time).
    pub fn set_fetch_delay(&self, delay: Duration) {
        self.lock().fetch_delay = delay;
    }

    /// Every `fetch_ranges` call's ranges, including failed attempts.
    pub fn fetches(&self) -> Vec<Vec<OffsetRange>> {
        self.lock().fetches.clone()
    }

    /// Every successful commit, in order.
    pub fn commits(&self) -> Vec<BTreeMap<TopicPartition, i64>> {
        self.lock().commits.clone()
    }

    /// How many handles were closed.
    pub fn close_count(&self) -> u32 {
        self.lock().closes
    }

    /// Another handle to the same data that is open even if this one is closed.
    pub fn reopen(&self) -> Self {
        MemorySource {
            state: Arc::clone(&self.state),
            closed: false,
        }
    }

    fn check(&self, s: &mut State, op: SourceOp) -> Result<(), SourceError> {
        if self.closed {
            return Err(SourceError::Closed);
        }
        match s.faults.get_mut(&op) {
            Some(n) if *n > 0 => {
                *n -= 1;
                Err(SourceError::Injected(format!("{op:?} failure")))
            }
            _ => Ok(()),
        }
    }

    fn offsets(
        &self,
        op: SourceOp,
        tps: &[TopicPartition],
    ) -> Result<BTreeMap<TopicPartition, i64>, SourceError> {
        let mut s = self.lock();
        self.check(&mut s, op)?;
        tps.iter()
            .map(|tp| {
                let log = s
                    .logs
                    .get(tp)
                    .ok_or_else(|| SourceError::Inconsistent(format!("unknown partition {tp}")))?;
                let offset = if op == SourceOp::EarliestOffsets {
                    log.log_start
                } else {
                    log.log_end()
                };
                Ok((tp.clone(), offset))
            })
            .collect()
    }
}

impl BatchSource for MemorySource {
    fn describe(&self) -> String {
        "memory".to_owned()
    }

    async fn assignment(&mut self) -> Result<Vec<TopicPartition>, SourceError> {
        let mut s = self.lock();
        self.check(&mut s, SourceOp::Assignment)?;
        Ok(match &s.assignment {
            Some(tps) => tps.clone(),
            None => s.logs.keys().cloned().collect(),
        })
    }

    async fn latest_offsets(
        &mut self,
        tps: &[TopicPartition],
    ) -> Result<BTreeMap<TopicPartition, i64>, SourceError> {
        self.offsets(SourceOp::LatestOffsets, tps)
    }

    async fn earliest_offsets(
        &mut self,
        tps: &[TopicPartition],
    ) -> Result<BTreeMap<TopicPartition, i64>, SourceError> {
        self.offsets(SourceOp::EarliestOffsets, tps)
    }

    async fn committed_offsets(
        &mut self,
        tps: &[TopicPartition],
    ) -> Result<BTreeMap<TopicPartition, Option<i64>>, SourceError> {
        let mut s = self.lock();
        self.check(&mut s, SourceOp::CommittedOffsets)?;
        Ok(tps
            .iter()
            .map(|tp| (tp.clone(), s.committed.get(tp).copied()))
            .collect())
    }

    async fn fetch_ranges(
        &mut self,
        ranges: &[OffsetRange],
    ) -> Result<Vec<SourceRecord>, SourceError> {
        let delay = {
            let mut s = self.lock();
            s.fetches.push(ranges.to_vec());
            s.fetch_delay
        };
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        let mut s = self.lock();
        self.check(&mut s, SourceOp::Fetch)?;
        let mut out = Vec::new();
        for range in ranges {
            let log = s.logs.get(&range.tp).ok_or_else(|| {
                SourceError::Inconsistent(format!("unknown partition {}", range.tp))
            })?;
            if range.from < log.log_start || range.from > log.log_end() {
                return Err(SourceError::OffsetOutOfRange {
                    tp: range.tp.clone(),
                    offset: range.from,
                });
            }
            for offset in range.from..range.until.min(log.log_end()) {
                let idx = usize::try_from(offset - log.log_start).unwrap_or(usize::MAX);
                if let Some((key, value, ts)) = log.records.get(idx) {
                    out.push(SourceRecord {
                        tp: range.tp.clone(),
                        offset,
                        key: key.clone(),
                        value: value.clone(),
                        timestamp: *ts,
                    });
                }
            }
        }
        Ok(out)
    }

    async fn commit(&mut self, offsets: &BTreeMap<TopicPartition, i64>) -> Result<(), SourceError> {
        let mut s = self.lock();
        self.check(&mut s, SourceOp::Commit)?;
        if let Some(hook) = s.commit_hook.as_mut() {
            (hook.0)(offsets);
        }
        if s.fenced_commits > 0 {
            s.fenced_commits -= 1;
            return Err(SourceError::Fenced("ILLEGAL_GENERATION (injected)".into()));
        }
        s.committed
            .extend(offsets.iter().map(|(tp, o)| (tp.clone(), *o)));
        s.commits.push(offsets.clone());
        Ok(())
    }

    async fn close(&mut self) -> Result<(), SourceError> {
        self.lock().closes += 1;
        self.closed = true;
        Ok(())
    }
}
