//! Resolving positions and fetching records into the consumer's buffer.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use super::fetcher::{self, FetchedPartition};
use super::session::FetchSession;
use super::{Consumer, FetchLink, Pos};
use crate::cluster::needs_metadata_refresh;
use crate::config::{IsolationLevel, OffsetReset};
use crate::connection::Connection;
use crate::error::{Error, KafkaCode};
use crate::types::{OffsetSpec, TopicPartition};

impl Consumer {
    /// Turns `Committed` and `Reset` positions into known offsets.
    pub(crate) async fn resolve_positions(&mut self) -> Result<(), Error> {
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
            // read_committed starts a `Latest` reset at the last stable offset, as Java does.
            let committed_only = self.config.isolation_level == IsolationLevel::ReadCommitted;
            let found = self
                .client
                .list_offsets_isolated(&specs, committed_only)
                .await?;
            for (tp, offset) in found {
                if let Some(p) = self.partitions.get_mut(&tp) {
                    *p = Pos::Known(offset.max(0));
                }
            }
        }
        Ok(())
    }

    /// The fetch connection to `leader` (one per broker, with its fetch session).
    async fn fetch_link(&mut self, leader: i32) -> Result<String, Error> {
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
        if let Some(l) = self.fetch_links.get(&addr)
            && !l.conn.is_closed()
        {
            return Ok(addr);
        }
        let conn: Connection = cluster.dedicated_connection(&addr).await?;
        self.fetch_links.insert(
            addr.clone(),
            FetchLink {
                conn,
                session: Default::default(),
            },
        );
        Ok(addr)
    }

    /// One Fetch per leader, concurrently. Request-level failures of retriable kind are
    /// logged and yield no partitions (metadata is refreshed); others are returned.
    /// `sessions` uses each broker's incremental fetch session (poll); one-off reads
    /// (`fetch_ranges`) fetch sessionless.
    pub(crate) async fn fetch_round(
        &mut self,
        targets: Vec<(TopicPartition, i64, i32)>,
        wait: Duration,
        sessions: bool,
    ) -> Result<Vec<(TopicPartition, FetchedPartition)>, Error> {
        self.rotate = self.rotate.wrapping_add(1);
        let grouped = fetcher::by_leader(targets, self.rotate);
        let mut addrs = Vec::new();
        let mut failed = false;
        for (leader, list) in grouped {
            match self.fetch_link(leader).await {
                Ok(a) => addrs.push((a, list)),
                Err(e) if e.is_retriable() => {
                    tracing::debug!(leader, error = %e, "cannot reach partition leader");
                    failed = true;
                }
                Err(e) => return Err(e),
            }
        }
        let timeout = self.client.cluster.request_timeout();
        let metadata = self.client.cluster.metadata();
        let metrics = self.client.cluster.metrics().clone();
        let config = &self.config;
        let links = &mut self.fetch_links;
        let calls = links.iter_mut().filter_map(|(addr, link)| {
            let list = addrs.iter().find(|(a, _)| a == addr).map(|(_, l)| l)?;
            let session: Option<&mut FetchSession> = sessions.then_some(&mut link.session);
            Some(fetcher::fetch(
                &link.conn, list, config, wait, timeout, session, &metadata, &metrics,
            ))
        });
        let results = futures::future::join_all(calls).await;
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

    pub(crate) async fn fetch_into_buffer(&mut self, wait: Duration) -> Result<(), Error> {
        // After a leader error (invalidated) or when older than metadata_max_age.
        if let Err(e) = self.client.cluster.refresh_if_stale().await {
            tracing::debug!(error = %e, "consumer metadata refresh failed");
        }
        let mut targets = Vec::new();
        for (tp, p) in &self.partitions {
            let Pos::Known(offset) = p else { continue };
            if self.paused.contains(tp) {
                continue;
            }
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
        let results = self.fetch_round(targets, wait, true).await?;
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
                        self.config.isolation_level,
                        fp.aborted.as_deref(),
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
