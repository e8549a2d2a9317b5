//! Rebalance callbacks ([`RebalanceListener`]), as Java's `ConsumerRebalanceListener`.
//!
//! The callbacks run inside the consumer call that noticed the rebalance (`poll`, `join`,
//! `stream`), with the consumer itself as argument, so they can commit, seek or look up
//! positions. They must not call `poll` (the rebalance is not finished yet).
//!
//! * Eager protocols (range, roundrobin): `on_partitions_revoked` with every owned partition
//!   before rejoining, then `on_partitions_assigned` with the new assignment.
//! * Cooperative-sticky: only the partitions that move away are revoked (after the join), and
//!   `on_partitions_assigned` gets only the added ones (possibly none).
//! * `on_partitions_lost`: the membership was lost (session timeout, fenced, a new
//!   generation without us): the partitions may already belong to another member, so
//!   committing is pointless. By default it calls `on_partitions_revoked`, like Java.

use futures::future::BoxFuture;

use super::Consumer;
use crate::types::TopicPartition;

/// Async callbacks on partition assignment changes. Every method has a do-nothing default.
pub trait RebalanceListener: Send {
    /// The consumer is about to give these partitions up; commit what was processed.
    fn on_partitions_revoked<'a>(
        &'a mut self,
        consumer: &'a mut Consumer,
        partitions: &'a [TopicPartition],
    ) -> BoxFuture<'a, ()> {
        let _ = (consumer, partitions);
        Box::pin(async {})
    }

    /// These partitions were added; positions come from committed offsets unless the
    /// callback seeks.
    fn on_partitions_assigned<'a>(
        &'a mut self,
        consumer: &'a mut Consumer,
        partitions: &'a [TopicPartition],
    ) -> BoxFuture<'a, ()> {
        let _ = (consumer, partitions);
        Box::pin(async {})
    }

    /// These partitions were lost without a clean revocation.
    fn on_partitions_lost<'a>(
        &'a mut self,
        consumer: &'a mut Consumer,
        partitions: &'a [TopicPartition],
    ) -> BoxFuture<'a, ()> {
        self.on_partitions_revoked(consumer, partitions)
    }
}

/// Which callback to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Event {
    Revoked,
    Assigned,
    Lost,
}

impl Consumer {
    /// Runs the listener (if any) for `event`. The listener is taken out of the consumer
    /// while it runs, so it can borrow the consumer mutably.
    pub(crate) async fn notify(&mut self, event: Event, partitions: &[TopicPartition]) {
        let Some(mut listener) = self.listener.take() else {
            return;
        };
        match event {
            Event::Revoked => listener.on_partitions_revoked(self, partitions).await,
            Event::Assigned => listener.on_partitions_assigned(self, partitions).await,
            Event::Lost => listener.on_partitions_lost(self, partitions).await,
        }
        if self.listener.is_none() {
            self.listener = Some(listener);
        }
    }
}
