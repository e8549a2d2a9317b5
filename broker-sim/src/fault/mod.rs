//! Fault injection: the rules a test arms through the cluster handle, and how a request finds
//! the ones meant for it.
//!
//! - [`InjectError`]: answer the next N requests of an API (optionally only on one node, topic
//!   or partition) with an error code instead of handling them. Partition-level APIs (Produce,
//!   Fetch, ListOffsets) get the error on each matching partition and handle the others;
//!   every other API gets it for the whole request. A request "uses" a rule once, however
//!   many of its partitions match, so `times(3)` fails exactly three requests.
//! - Latency: every request of an API waits this long before it is handled.
//! - [`DropConnection`]: the next N requests of an API close their connection without an
//!   answer, before or after the request takes effect.
//!
//! Leader moves, node outages and dropping every connection act on the cluster itself and
//! live on the handle (`cluster/`). Every fault that fires logs a line at debug level with
//! the prefix `fault:` (target `kt_broker::fault`).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use kafka_protocol::ResponseError;
use kafka_protocol::messages::ApiKey;

use crate::error::BrokerError;
use crate::state::lock;

/// APIs whose injected errors land on individual partitions.
pub(crate) const PARTITION_APIS: &[ApiKey] = &[ApiKey::Produce, ApiKey::Fetch, ApiKey::ListOffsets];

/// An error to inject: see [`crate::ClusterHandle::inject_error`].
///
/// ```
/// use kt_broker::{ApiKey, InjectError, ResponseError};
/// // The next 2 Produce requests touching partition 0 of "t" get NOT_LEADER_OR_FOLLOWER there.
/// let rule = InjectError::new(ApiKey::Produce, ResponseError::NotLeaderOrFollower)
///     .times(2)
///     .partition("t", 0);
/// # let _ = rule;
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct InjectError {
    api_key: ApiKey,
    error: ResponseError,
    count: u32,
    topic: Option<String>,
    partition: Option<i32>,
    node: Option<i32>,
}

impl InjectError {
    /// Fails the next request of `api_key` (any node, any topic) with `error`.
    pub fn new(api_key: ApiKey, error: ResponseError) -> Self {
        InjectError {
            api_key,
            error,
            count: 1,
            topic: None,
            partition: None,
            node: None,
        }
    }

    /// Fails the next `n` matching requests instead of one.
    pub fn times(mut self, n: u32) -> Self {
        self.count = n;
        self
    }

    /// Only requests naming `topic` match, and only that topic's partitions fail
    /// (partition-level APIs only).
    pub fn topic(mut self, topic: &str) -> Self {
        self.topic = Some(topic.to_owned());
        self
    }

    /// Only `topic`'s partition `partition` fails (partition-level APIs only).
    pub fn partition(mut self, topic: &str, partition: i32) -> Self {
        self.topic = Some(topic.to_owned());
        self.partition = Some(partition);
        self
    }

    /// Only requests received by node `node_id` match.
    pub fn on_node(mut self, node_id: i32) -> Self {
        self.node = Some(node_id);
        self
    }

    fn matches_request(&self, api_key: ApiKey, node_id: i32) -> bool {
        self.api_key == api_key && self.node.is_none_or(|n| n == node_id)
    }

    fn matches_partition(&self, topic: &str, partition: i32) -> bool {
        self.topic.as_deref().is_none_or(|t| t == topic)
            && self.partition.is_none_or(|p| p == partition)
    }
}

/// When a dropped connection closes: see [`DropConnection`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropPoint {
    /// The request is read and discarded: it has no effect (a request lost on the way).
    BeforeHandling,
    /// The request takes effect, then the connection closes without the response (a response
    /// lost on the way: what makes a non-idempotent producer write duplicates).
    AfterHandling,
}

/// Close the connection of the next N requests of an API: see
/// [`crate::ClusterHandle::drop_connection_on`].
#[derive(Debug, Clone, PartialEq)]
pub struct DropConnection {
    api_key: ApiKey,
    point: DropPoint,
    count: u32,
    node: Option<i32>,
}

impl DropConnection {
    /// Drops the connection carrying the next request of `api_key`, at `point`.
    pub fn new(api_key: ApiKey, point: DropPoint) -> Self {
        DropConnection {
            api_key,
            point,
            count: 1,
            node: None,
        }
    }

    /// The next `n` requests instead of one.
    pub fn times(mut self, n: u32) -> Self {
        self.count = n;
        self
    }

    /// Only requests received by node `node_id`.
    pub fn on_node(mut self, node_id: i32) -> Self {
        self.node = Some(node_id);
        self
    }
}

#[derive(Debug, Clone)]
struct ErrorRule {
    id: u64,
    spec: InjectError,
    remaining: u32,
}

/// Every armed fault of a cluster.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    errors: Mutex<Vec<ErrorRule>>,
    next_id: Mutex<u64>,
    latency: Mutex<HashMap<i16, Duration>>,
    drops: Mutex<Vec<DropConnection>>,
}

/// The error rules one request has used, so each rule counts that request once.
#[derive(Debug, Default)]
pub(crate) struct Claims(Mutex<Vec<(u64, InjectError)>>);

impl Faults {
    pub(crate) fn inject_error(&self, spec: InjectError) -> Result<(), BrokerError> {
        if spec.topic.is_some() && !PARTITION_APIS.contains(&spec.api_key) {
            return Err(BrokerError::Config(format!(
                "a topic or partition filter only applies to {PARTITION_APIS:?}, not {:?}",
                spec.api_key
            )));
        }
        if spec.count == 0 {
            return Ok(());
        }
        let id = {
            let mut next = lock(&self.next_id);
            *next += 1;
            *next
        };
        tracing::debug!(target: "kt_broker::fault", "fault: armed {:?} x{} for {:?} (topic {:?}, partition {:?}, node {:?})",
            spec.error, spec.count, spec.api_key, spec.topic, spec.partition, spec.node);
        lock(&self.errors).push(ErrorRule {
            id,
            remaining: spec.count,
            spec,
        });
        Ok(())
    }

    /// The injected error for one partition of a partition-level request, if a rule matches.
    pub(crate) fn partition_error(
        &self,
        claims: &Claims,
        api_key: ApiKey,
        node_id: i32,
        topic: &str,
        partition: i32,
    ) -> Option<ResponseError> {
        let mut claimed = lock(&claims.0);
        if let Some((_, spec)) = claimed
            .iter()
            .find(|(_, s)| s.matches_partition(topic, partition))
        {
            return Some(spec.error);
        }
        let mut rules = lock(&self.errors);
        let i = rules.iter().position(|r| {
            r.spec.matches_request(api_key, node_id) && r.spec.matches_partition(topic, partition)
        })?;
        let rule = take(&mut rules, i);
        tracing::debug!(target: "kt_broker::fault", "fault: {:?} request to node {node_id}: injected {:?} on {topic}-{partition} ({} more)",
            api_key, rule.spec.error, rule.remaining);
        claimed.push((rule.id, rule.spec.clone()));
        Some(rule.spec.error)
    }

    /// The injected error for a whole request of an API that is not partition-level.
    pub(crate) fn request_error(&self, api_key: ApiKey, node_id: i32) -> Option<ResponseError> {
        if PARTITION_APIS.contains(&api_key) {
            return None;
        }
        let mut rules = lock(&self.errors);
        let i = rules
            .iter()
            .position(|r| r.spec.matches_request(api_key, node_id))?;
        let rule = take(&mut rules, i);
        tracing::debug!(target: "kt_broker::fault", "fault: {:?} request to node {node_id}: injected {:?} ({} more)",
            api_key, rule.spec.error, rule.remaining);
        Some(rule.spec.error)
    }

    pub(crate) fn set_latency(&self, api_key: ApiKey, latency: Option<Duration>) {
        let mut map = lock(&self.latency);
        match latency {
            Some(d) => {
                tracing::debug!(target: "kt_broker::fault", "fault: {api_key:?} requests wait {d:?}");
                map.insert(api_key as i16, d);
            }
            None => {
                tracing::debug!(target: "kt_broker::fault", "fault: {api_key:?} latency cleared");
                map.remove(&(api_key as i16));
            }
        }
    }

    pub(crate) fn latency(&self, api_key: i16) -> Option<Duration> {
        lock(&self.latency).get(&api_key).copied()
    }

    pub(crate) fn drop_connection_on(&self, rule: DropConnection) {
        if rule.count == 0 {
            return;
        }
        tracing::debug!(target: "kt_broker::fault", "fault: armed connection drop x{} at {:?} for {:?} (node {:?})",
            rule.count, rule.point, rule.api_key, rule.node);
        lock(&self.drops).push(rule);
    }

    /// Whether (and when) the connection carrying this request is to be dropped.
    pub(crate) fn take_drop(&self, api_key: i16, node_id: i32) -> Option<DropPoint> {
        let mut drops = lock(&self.drops);
        let i = drops
            .iter()
            .position(|d| d.api_key as i16 == api_key && d.node.is_none_or(|n| n == node_id))?;
        let point = drops[i].point;
        drops[i].count -= 1;
        if drops[i].count == 0 {
            drops.remove(i);
        }
        Some(point)
    }

    /// Disarms every error, latency and drop rule.
    pub(crate) fn clear(&self) {
        lock(&self.errors).clear();
        lock(&self.latency).clear();
        lock(&self.drops).clear();
        tracing::debug!(target: "kt_broker::fault", "fault: every rule cleared");
    }

    /// Requests still to be failed by armed error rules (for tests' assertions).
    pub(crate) fn pending_errors(&self) -> u32 {
        lock(&self.errors).iter().map(|r| r.remaining).sum()
    }
}

/// Uses one request of rule `i`, removing the rule when it is spent; returns it as it now is.
fn take(rules: &mut Vec<ErrorRule>, i: usize) -> ErrorRule {
    rules[i].remaining -= 1;
    if rules[i].remaining == 0 {
        rules.remove(i)
    } else {
        rules[i].clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_uses_a_rule_once_however_many_partitions_match() {
        let f = Faults::default();
        f.inject_error(
            InjectError::new(ApiKey::Produce, ResponseError::NotLeaderOrFollower)
                .times(2)
                .topic("t"),
        )
        .unwrap();
        let first = Claims::default();
        for p in 0..3 {
            assert_eq!(
                f.partition_error(&first, ApiKey::Produce, 0, "t", p),
                Some(ResponseError::NotLeaderOrFollower)
            );
        }
        assert_eq!(f.partition_error(&first, ApiKey::Produce, 0, "u", 0), None);
        assert_eq!(f.pending_errors(), 1);
        // another API or topic does not use it
        let other = Claims::default();
        assert_eq!(f.partition_error(&other, ApiKey::Fetch, 0, "t", 0), None);
        assert_eq!(f.partition_error(&other, ApiKey::Produce, 0, "u", 0), None);
        assert_eq!(f.pending_errors(), 1);
        let second = Claims::default();
        assert!(
            f.partition_error(&second, ApiKey::Produce, 0, "t", 1)
                .is_some()
        );
        let third = Claims::default();
        assert_eq!(f.partition_error(&third, ApiKey::Produce, 0, "t", 1), None);
        assert_eq!(f.pending_errors(), 0);
    }

    #[test]
    fn partition_and_node_filters() {
        let f = Faults::default();
        f.inject_error(
            InjectError::new(ApiKey::Fetch, ResponseError::UnknownServerError)
                .partition("t", 1)
                .on_node(2),
        )
        .unwrap();
        let c = Claims::default();
        assert_eq!(f.partition_error(&c, ApiKey::Fetch, 2, "t", 0), None);
        assert_eq!(f.partition_error(&c, ApiKey::Fetch, 1, "t", 1), None);
        assert_eq!(
            f.partition_error(&c, ApiKey::Fetch, 2, "t", 1),
            Some(ResponseError::UnknownServerError)
        );
    }

    #[test]
    fn request_level_rules_and_filters_they_refuse() {
        let f = Faults::default();
        assert!(
            f.inject_error(
                InjectError::new(ApiKey::Heartbeat, ResponseError::RebalanceInProgress).topic("t")
            )
            .is_err()
        );
        f.inject_error(
            InjectError::new(ApiKey::Heartbeat, ResponseError::RebalanceInProgress).times(2),
        )
        .unwrap();
        // partition-level APIs never take whole-request errors
        assert_eq!(f.request_error(ApiKey::Produce, 0), None);
        assert_eq!(
            f.request_error(ApiKey::Heartbeat, 0),
            Some(ResponseError::RebalanceInProgress)
        );
        assert!(f.request_error(ApiKey::Heartbeat, 1).is_some());
        assert_eq!(f.request_error(ApiKey::Heartbeat, 0), None);
    }

    #[test]
    fn latency_and_drops() {
        let f = Faults::default();
        f.set_latency(ApiKey::Fetch, Some(Duration::from_millis(5)));
        assert_eq!(
            f.latency(ApiKey::Fetch as i16),
            Some(Duration::from_millis(5))
        );
        f.drop_connection_on(
            DropConnection::new(ApiKey::Produce, DropPoint::AfterHandling)
                .times(2)
                .on_node(1),
        );
        assert_eq!(f.take_drop(ApiKey::Produce as i16, 0), None);
        assert_eq!(
            f.take_drop(ApiKey::Produce as i16, 1),
            Some(DropPoint::AfterHandling)
        );
        assert!(f.take_drop(ApiKey::Produce as i16, 1).is_some());
        assert_eq!(f.take_drop(ApiKey::Produce as i16, 1), None);
        f.clear();
        assert_eq!(f.latency(ApiKey::Fetch as i16), None);
    }
}
