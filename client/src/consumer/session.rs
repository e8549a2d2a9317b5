//! Incremental fetch sessions (KIP-227), one per broker connection.
//!
//! The first Fetch of a session is *full* (session id 0, epoch 0) and names every partition;
//! if the broker answers with a session id, later Fetches are *incremental*: they name only
//! partitions that are new or whose fetch offset changed, list partitions no longer wanted as
//! forgotten, and carry the next epoch. The broker then answers only for partitions with
//! data or news, so a consumer of many mostly idle partitions sends and receives little.
//!
//! A broker that answers session id 0 creates no session: every Fetch stays full. Any
//! failure (FETCH_SESSION_ID_NOT_FOUND, INVALID_FETCH_SESSION_EPOCH, a lost connection)
//! resets the session; the next Fetch is full again.

use std::collections::HashMap;

use crate::types::TopicPartition;

/// The client side of one fetch session.
#[derive(Debug, Default)]
pub(crate) struct FetchSession {
    id: i32,
    /// Epoch of the next incremental request (1.. wrapping to 1).
    epoch: i32,
    /// What the broker holds for each session partition: (fetch offset, max bytes).
    known: HashMap<TopicPartition, (i64, i32)>,
    /// Whether the session was built with topic ids (Fetch v13+); a change starts anew.
    topic_ids: bool,
}

/// One request's session fields and contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Plan {
    pub(crate) session_id: i32,
    pub(crate) epoch: i32,
    /// Partitions named in the request, with their fetch offsets.
    pub(crate) send: Vec<(TopicPartition, i64)>,
    /// Partitions the broker should drop from the session.
    pub(crate) forget: Vec<TopicPartition>,
    full: bool,
    max_bytes: i32,
    topic_ids: bool,
}

impl Plan {
    /// A sessionless full fetch (session id 0, epoch -1): for one-off reads.
    pub(crate) fn sessionless(wanted: &[(TopicPartition, i64)]) -> Plan {
        Plan {
            session_id: 0,
            epoch: -1,
            send: wanted.to_vec(),
            forget: Vec::new(),
            full: true,
            max_bytes: 0,
            topic_ids: false,
        }
    }
}

impl FetchSession {
    /// The next request for `wanted` (partition, fetch offset), in the caller's order.
    pub(crate) fn plan(
        &self,
        wanted: &[(TopicPartition, i64)],
        max_bytes: i32,
        topic_ids: bool,
    ) -> Plan {
        if self.id == 0 || self.topic_ids != topic_ids {
            return Plan {
                session_id: 0,
                epoch: 0,
                send: wanted.to_vec(),
                forget: Vec::new(),
                full: true,
                max_bytes,
                topic_ids,
            };
        }
        let send = wanted
            .iter()
            .filter(|(tp, offset)| self.known.get(tp) != Some(&(*offset, max_bytes)))
            .cloned()
            .collect();
        let mut forget: Vec<TopicPartition> = self
            .known
            .keys()
            .filter(|tp| !wanted.iter().any(|(w, _)| w == *tp))
            .cloned()
            .collect();
        forget.sort();
        Plan {
            session_id: self.id,
            epoch: self.epoch,
            send,
            forget,
            full: false,
            max_bytes,
            topic_ids,
        }
    }

    /// The broker accepted `plan` and answered with `session_id`.
    pub(crate) fn on_success(&mut self, plan: &Plan, session_id: i32) {
        if plan.full {
            if session_id == 0 {
                self.reset();
                return;
            }
            self.id = session_id;
            self.epoch = 1;
            self.topic_ids = plan.topic_ids;
            self.known = plan
                .send
                .iter()
                .map(|(tp, o)| (tp.clone(), (*o, plan.max_bytes)))
                .collect();
            return;
        }
        for tp in &plan.forget {
            self.known.remove(tp);
        }
        for (tp, o) in &plan.send {
            self.known.insert(tp.clone(), (*o, plan.max_bytes));
        }
        self.epoch = if self.epoch == i32::MAX {
            1
        } else {
            self.epoch + 1
        };
    }

    /// Forgets the session; the next request is full.
    pub(crate) fn reset(&mut self) {
        *self = FetchSession::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tp(p: i32) -> TopicPartition {
        TopicPartition::new("t", p)
    }

    #[test]
    fn full_then_incremental_then_reset() {
        let mut s = FetchSession::default();
        let wanted = vec![(tp(0), 5), (tp(1), 9)];
        let p = s.plan(&wanted, 100, false);
        assert_eq!((p.session_id, p.epoch, p.send.len()), (0, 0, 2));
        s.on_success(&p, 42);
        // Nothing changed: an empty incremental request.
        let p = s.plan(&wanted, 100, false);
        assert_eq!((p.session_id, p.epoch), (42, 1));
        assert!(p.send.is_empty() && p.forget.is_empty());
        s.on_success(&p, 42);
        // Partition 0 advanced, partition 1 no longer wanted, partition 2 is new.
        let p = s.plan(&[(tp(0), 8), (tp(2), 0)], 100, false);
        assert_eq!(p.epoch, 2);
        assert_eq!(p.send, vec![(tp(0), 8), (tp(2), 0)]);
        assert_eq!(p.forget, vec![tp(1)]);
        s.on_success(&p, 42);
        assert_eq!(s.plan(&[(tp(0), 8), (tp(2), 0)], 100, false).send, vec![]);
        // Switching to topic ids starts a new session.
        assert_eq!(s.plan(&[(tp(0), 8)], 100, true).epoch, 0);
        s.reset();
        assert_eq!(s.plan(&[(tp(0), 8)], 100, false).epoch, 0);
    }

    #[test]
    fn a_broker_without_sessions_keeps_getting_full_requests() {
        let mut s = FetchSession::default();
        let p = s.plan(&[(tp(0), 1)], 1, false);
        s.on_success(&p, 0);
        let p = s.plan(&[(tp(0), 2)], 1, false);
        assert_eq!((p.session_id, p.epoch, p.send.len()), (0, 0, 1));
    }

    #[test]
    fn epochs_wrap_to_one() {
        let mut s = FetchSession {
            id: 1,
            epoch: i32::MAX,
            ..Default::default()
        };
        let p = s.plan(&[], 1, false);
        s.on_success(&p, 1);
        assert_eq!(s.epoch, 1);
    }
}
