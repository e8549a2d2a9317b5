//! Offset commits: synchronous ([`Consumer::commit`]), asynchronous
//! ([`Consumer::commit_async`]), automatic, and reading committed offsets.
//!
//! Async commits go through one background task per consumer that sends them one after the
//! other on the coordinator connection, so they reach the broker in the order they were
//! made (a later commit never lands before an earlier one) and `close` waits for them. Like
//! Java's `commitAsync`, an async commit is not retried; its future reports the outcome.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use super::Consumer;
use super::group::Flags;
use super::offsets::{self, CommitIdentity};
use crate::connection::Connection;
use crate::error::{Error, KafkaCode};
use crate::metrics::Metrics;
use crate::types::TopicPartition;

/// Resolves when an async commit finished.
#[derive(Debug)]
#[must_use = "the commit is sent anyway; await this to learn whether it succeeded"]
pub struct CommitFuture {
    rx: oneshot::Receiver<Result<(), Error>>,
}

impl Future for CommitFuture {
    type Output = Result<(), Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.rx)
            .poll(cx)
            .map(|r| r.unwrap_or_else(|_| Err(Error::Closed("the consumer was dropped".into()))))
    }
}

/// One queued async commit.
struct Job {
    conn: Connection,
    group_id: String,
    generation_id: i32,
    member_id: String,
    instance_id: Option<String>,
    offsets: BTreeMap<TopicPartition, i64>,
    timeout: Duration,
    reply: oneshot::Sender<Result<(), Error>>,
}

/// The background task sending async commits in order.
#[derive(Debug)]
pub(crate) struct Committer {
    tx: mpsc::UnboundedSender<Job>,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job")
            .field("offsets", &self.offsets)
            .finish()
    }
}

impl Committer {
    fn start(flags: Arc<Flags>, metrics: Arc<Metrics>) -> Committer {
        let (tx, mut rx) = mpsc::unbounded_channel::<Job>();
        let task = tokio::spawn(async move {
            while let Some(job) = rx.recv().await {
                let who = CommitIdentity {
                    group_id: &job.group_id,
                    generation_id: job.generation_id,
                    member_id: &job.member_id,
                    group_instance_id: job.instance_id.as_deref(),
                };
                let r = offsets::commit(&job.conn, &who, &job.offsets, job.timeout).await;
                match &r {
                    Ok(()) => Metrics::inc(&metrics.commits),
                    Err(e) => {
                        if matches!(
                            e.kafka_code(),
                            Some(
                                KafkaCode::IllegalGeneration
                                    | KafkaCode::UnknownMemberId
                                    | KafkaCode::FencedInstanceId
                                    | KafkaCode::RebalanceInProgress
                            )
                        ) {
                            flags
                                .rejoin
                                .store(true, std::sync::atomic::Ordering::Release);
                        }
                    }
                }
                let _ = job.reply.send(r);
            }
        });
        Committer { tx, task }
    }

    /// Waits for queued commits to finish.
    pub(crate) async fn finish(self) {
        drop(self.tx);
        let _ = self.task.await;
    }
}

impl Consumer {
    /// Commits `offsets` (the offsets of the *next* records to read) synchronously,
    /// retrying when the coordinator moved.
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
                Ok(()) => {
                    Metrics::inc(&cluster.metrics().commits);
                    return Ok(());
                }
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

    /// Sends a commit of `offsets` without waiting for it. Commits made with this method
    /// reach the broker in call order; `close` waits for them. The future says whether it
    /// succeeded (it is not retried, as in Java).
    pub async fn commit_async(
        &mut self,
        offsets: BTreeMap<TopicPartition, i64>,
    ) -> Result<CommitFuture, Error> {
        let cluster = self.client.cluster.clone();
        let Some(group) = self.group.as_mut() else {
            return Err(Error::Config("commit needs a group_id".into()));
        };
        let conn = group.coordinator(&cluster).await?;
        let (generation_id, member_id) = if group.active {
            (group.generation_id, group.member_id.clone())
        } else {
            (-1, String::new())
        };
        let (reply, rx) = oneshot::channel();
        let job = Job {
            conn,
            group_id: group.group_id.clone(),
            generation_id,
            member_id,
            instance_id: group.instance_id.clone(),
            offsets,
            timeout: cluster.request_timeout(),
            reply,
        };
        let flags = group.flags.clone();
        let committer = self
            .committer
            .get_or_insert_with(|| Committer::start(flags, cluster.metrics().clone()));
        committer
            .tx
            .send(job)
            .map_err(|_| Error::Closed("the commit task stopped".into()))?;
        Ok(CommitFuture { rx })
    }

    /// The position of every assigned partition with a known position.
    pub fn positions(&self) -> BTreeMap<TopicPartition, i64> {
        self.partitions
            .keys()
            .filter_map(|tp| self.position(tp).map(|o| (tp.clone(), o)))
            .collect()
    }

    /// Commits the current position of every assigned partition with a known position.
    pub async fn commit_positions(&mut self) -> Result<(), Error> {
        let offsets = self.positions();
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
            let require_stable =
                self.config.isolation_level == crate::config::IsolationLevel::ReadCommitted;
            match offsets::fetch_committed(
                &conn,
                &group_id,
                tps,
                require_stable,
                cluster.request_timeout(),
            )
            .await
            {
                Ok(r) => return Ok(r),
                Err(e)
                    if (offsets::coordinator_moved(&e)
                        || matches!(
                            e.kafka_code(),
                            Some(
                                KafkaCode::CoordinatorLoadInProgress
                                    | KafkaCode::UnstableOffsetCommit
                            )
                        ))
                        && attempt < 5 =>
                {
                    group.coordinator_failed();
                    tokio::time::sleep(cluster.config.retry_backoff).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    pub(crate) async fn maybe_auto_commit(&mut self) {
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
}
