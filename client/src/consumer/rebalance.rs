//! Joining the group, rebalance callbacks, and pattern subscriptions.
//!
//! Eager (range, roundrobin): before rejoining, commit (auto-commit), call
//! `on_partitions_revoked` with everything, drop all positions; after, `on_partitions_assigned`.
//!
//! Cooperative (every configured assignor is cooperative, as Java decides it): keep the owned
//! partitions and their positions through the join; afterwards revoke only the partitions
//! missing from the new assignment (commit, `on_partitions_revoked`) and rejoin at once so
//! the leader can hand them on (KIP-429); newly added partitions start from their committed
//! offsets, then `on_partitions_assigned` with only those.
//!
//! A lost membership (fenced, unknown member, illegal generation, session expired) calls
//! `on_partitions_lost` and drops the partitions without committing.

use std::collections::BTreeSet;
use std::sync::atomic::Ordering;

use tokio::time::Instant;

use super::listener::Event;
use super::{Consumer, Pos, Subscription};
use crate::error::Error;
use crate::metrics::Metrics;
use crate::types::TopicPartition;

impl Consumer {
    fn cooperative(&self) -> bool {
        !self.config.assignment_strategies.is_empty()
            && self
                .config
                .assignment_strategies
                .iter()
                .all(|s| s.is_cooperative())
    }

    /// Re-matches a pattern subscription when it was never checked or the metadata age
    /// passed; a change asks for a rejoin.
    pub(crate) async fn refresh_pattern(&mut self) -> Result<(), Error> {
        let max_age = self.client.cluster.config.metadata_max_age;
        let Subscription::Pattern { regex, checked, .. } = &self.subscription else {
            return Ok(());
        };
        if checked.is_some_and(|t| t.elapsed() < max_age) {
            return Ok(());
        }
        let regex = regex.clone();
        let md = self.client.cluster.all_topics().await?;
        let mut now: Vec<String> = md
            .topics
            .values()
            .filter(|t| !t.is_internal && t.error_code == 0 && regex.is_match(&t.name))
            .map(|t| t.name.clone())
            .collect();
        now.sort();
        let mut changed = false;
        if let Subscription::Pattern {
            matched, checked, ..
        } = &mut self.subscription
        {
            *checked = Some(Instant::now());
            if *matched != now {
                tracing::debug!(topics = ?now, "pattern subscription matches new topics");
                *matched = now;
                changed = true;
            }
        }
        if changed {
            self.client.cluster.add_interest(self.subscription.topics());
            self.request_rejoin();
        }
        Ok(())
    }

    pub(crate) async fn maybe_rejoin(&mut self) -> Result<(), Error> {
        self.refresh_pattern().await?;
        if !self.subscription.is_active() {
            return Ok(());
        }
        let Some(group) = self.group.as_ref() else {
            return Ok(());
        };
        if !group.needs_join() {
            return Ok(());
        }
        let was_active = group.active;
        let lost = group.flags.lost.swap(false, Ordering::AcqRel);
        let cooperative = self.cooperative();
        let topics = self.subscription.topics().to_vec();

        if lost && !self.partitions.is_empty() {
            let owned = self.assignment();
            tracing::info!(partitions = ?owned, "group membership lost; partitions lost");
            self.notify(Event::Lost, &owned).await;
            self.partitions.clear();
            self.retain_owned();
        } else if !cooperative && (was_active || !self.partitions.is_empty()) {
            // Eager: commit what was consumed, then give everything up before the join.
            if was_active
                && self.config.enable_auto_commit
                && let Err(e) = self.commit_positions().await
            {
                tracing::debug!(error = %e, "commit before rebalance failed");
            }
            let owned = self.assignment();
            if !owned.is_empty() {
                self.notify(Event::Revoked, &owned).await;
            }
            self.partitions.clear();
            self.retain_owned();
        } else if cooperative {
            // Partitions of topics no longer subscribed are revoked before the join.
            let gone: Vec<TopicPartition> = self
                .partitions
                .keys()
                .filter(|tp| !topics.contains(&tp.topic))
                .cloned()
                .collect();
            if !gone.is_empty() {
                self.revoke(&gone).await;
            }
        }

        let owned: Vec<TopicPartition> = self.assignment();
        let cluster = self.client.cluster.clone();
        let config = self.config.clone();
        let Some(group) = self.group.as_mut() else {
            return Ok(());
        };
        let assignment = group
            .join(
                &cluster,
                &config,
                &topics,
                cooperative.then_some(owned.as_slice()),
            )
            .await?;
        Metrics::inc(&cluster.metrics().rebalances);
        let new: BTreeSet<TopicPartition> = assignment.into_iter().collect();
        if cooperative {
            let revoked: Vec<TopicPartition> = owned
                .iter()
                .filter(|tp| !new.contains(*tp))
                .cloned()
                .collect();
            if !revoked.is_empty() {
                self.revoke(&revoked).await;
                // Rejoin so the leader can give the revoked partitions to their new owner.
                self.request_rejoin();
            }
            let added: Vec<TopicPartition> = new
                .iter()
                .filter(|tp| !self.partitions.contains_key(*tp))
                .cloned()
                .collect();
            for tp in &added {
                self.partitions.insert(tp.clone(), Pos::Committed);
            }
            self.notify(Event::Assigned, &added).await;
        } else {
            self.partitions = new.iter().map(|tp| (tp.clone(), Pos::Committed)).collect();
            self.retain_owned();
            let all: Vec<TopicPartition> = new.into_iter().collect();
            self.notify(Event::Assigned, &all).await;
        }
        Ok(())
    }

    /// Cooperative revocation of some partitions: commit (auto-commit), callback, drop.
    async fn revoke(&mut self, revoked: &[TopicPartition]) {
        if self.config.enable_auto_commit {
            let offsets = self
                .positions()
                .into_iter()
                .filter(|(tp, _)| revoked.contains(tp))
                .collect();
            if let Err(e) = self.commit(&offsets).await {
                tracing::debug!(error = %e, "commit before revocation failed");
            }
        }
        self.notify(Event::Revoked, revoked).await;
        for tp in revoked {
            self.partitions.remove(tp);
        }
        self.retain_owned();
    }
}
