//! Classic consumer-group membership: JoinGroup / SyncGroup / Heartbeat / LeaveGroup.
//!
//! * JoinGroup v4+ answers a member without an id with MEMBER_ID_REQUIRED and an id to use
//!   (KIP-394); we rejoin with it at once.
//! * The leader computes the assignment with the agreed assignor (range or roundrobin) over
//!   the members' standard subscription bytes, and sends it in SyncGroup.
//! * A background task heartbeats every `heartbeat_interval` on the member's own coordinator
//!   connection and raises `rejoin` on REBALANCE_IN_PROGRESS, ILLEGAL_GENERATION,
//!   UNKNOWN_MEMBER_ID, a coordinator change, or no successful heartbeat within the session
//!   timeout. Eager protocols (range, roundrobin) give up every partition before rejoining;
//!   with cooperative-sticky (KIP-429) the member sends what it owns in its subscription and
//!   keeps it across the rebalance (see `rebalance.rs`).
//! * Static membership (KIP-345): with `group_instance_id` set it is sent in every request
//!   (v5+ JoinGroup), and close does not send LeaveGroup, so a restart within the session
//!   timeout keeps the assignment without a rebalance.
//!
//! Each consumer has its own coordinator connection: brokers answer one request per
//! connection at a time, and a JoinGroup can wait minutes, which would stall another
//! member's heartbeats on a shared socket.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;
use kafka_protocol::messages::join_group_request::JoinGroupRequestProtocol;
use kafka_protocol::messages::leave_group_request::MemberIdentity;
use kafka_protocol::messages::sync_group_request::SyncGroupRequestAssignment;
use kafka_protocol::messages::{
    ApiKey, GroupId, HeartbeatRequest, JoinGroupRequest, LeaveGroupRequest, SyncGroupRequest,
};
use kafka_protocol::protocol::StrBytes;
use tokio::time::Instant;

use super::assignor::{self, MemberSubscription};
use super::offsets;
use crate::cluster::Cluster;
use crate::config::{AssignmentStrategy, ConsumerConfig};
use crate::connection::Connection;
use crate::error::{Error, KafkaCode};
use crate::types::TopicPartition;

/// How many JoinGroup/SyncGroup rounds one `join` may take before giving up.
const MAX_JOIN_ROUNDS: usize = 50;

/// Signals from the heartbeat task to the consumer.
#[derive(Debug, Default)]
pub(crate) struct Flags {
    pub(crate) rejoin: AtomicBool,
    pub(crate) reset_member_id: AtomicBool,
    pub(crate) coordinator_lost: AtomicBool,
    /// The membership was lost (fenced, unknown member, illegal generation, session expired):
    /// owned partitions are lost, not revoked.
    pub(crate) lost: AtomicBool,
}

/// The consumer's group state.
#[derive(Debug)]
pub(crate) struct Membership {
    pub(crate) group_id: String,
    pub(crate) instance_id: Option<String>,
    pub(crate) member_id: String,
    pub(crate) generation_id: i32,
    pub(crate) active: bool,
    coordinator: Option<Connection>,
    heartbeat: Option<tokio::task::JoinHandle<()>>,
    pub(crate) flags: Arc<Flags>,
}

impl Drop for Membership {
    fn drop(&mut self) {
        self.stop_heartbeat();
    }
}

fn s(x: &str) -> StrBytes {
    StrBytes::from_string(x.to_owned())
}

impl Membership {
    pub(crate) fn new(group_id: String, instance_id: Option<String>) -> Membership {
        Membership {
            group_id,
            instance_id,
            member_id: String::new(),
            generation_id: -1,
            active: false,
            coordinator: None,
            heartbeat: None,
            flags: Arc::new(Flags::default()),
        }
    }

    /// Whether `join` must run before the assignment can be trusted.
    pub(crate) fn needs_join(&self) -> bool {
        !self.active || self.flags.rejoin.load(Ordering::Acquire)
    }

    /// The coordinator connection, looking the coordinator up if needed.
    pub(crate) async fn coordinator(&mut self, cluster: &Cluster) -> Result<Connection, Error> {
        if self.flags.coordinator_lost.swap(false, Ordering::AcqRel) {
            self.coordinator = None;
        }
        if let Some(c) = &self.coordinator
            && !c.is_closed()
        {
            return Ok(c.clone());
        }
        let deadline = Instant::now() + cluster.request_timeout();
        loop {
            let any = cluster.any_connection().await?;
            let found =
                offsets::find_coordinator(&any, &self.group_id, cluster.request_timeout()).await;
            match found {
                Ok(addr) => {
                    let conn = cluster.dedicated_connection(&addr).await?;
                    self.coordinator = Some(conn.clone());
                    return Ok(conn);
                }
                Err(e) if e.is_retriable() && Instant::now() < deadline => {
                    tracing::debug!(group = %self.group_id, error = %e, "coordinator lookup failed, retrying");
                    tokio::time::sleep(cluster.config.retry_backoff).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Forgets the coordinator (after NOT_COORDINATOR and the like).
    pub(crate) fn coordinator_failed(&mut self) {
        self.coordinator = None;
    }

    pub(crate) fn stop_heartbeat(&mut self) {
        if let Some(h) = self.heartbeat.take() {
            h.abort();
        }
    }

    /// Marks the membership stale after a commit or heartbeat said so.
    pub(crate) fn on_group_error(&mut self, code: KafkaCode) {
        match code {
            KafkaCode::UnknownMemberId | KafkaCode::FencedInstanceId => {
                self.member_id.clear();
                self.active = false;
                self.flags.lost.store(true, Ordering::Release);
            }
            KafkaCode::IllegalGeneration => {
                self.active = false;
                self.flags.lost.store(true, Ordering::Release);
            }
            KafkaCode::RebalanceInProgress => self.active = false,
            KafkaCode::NotCoordinator | KafkaCode::CoordinatorNotAvailable => {
                self.coordinator = None;
                self.active = false;
            }
            _ => {}
        }
    }

    /// Asks for another rebalance at the next `join` (a cooperative member that revoked).
    pub(crate) fn request_rejoin(&self) {
        self.flags.rejoin.store(true, Ordering::Release);
    }

    /// Joins (or rejoins) the group and returns this member's assignment. `owned` (only for
    /// cooperative members) is what the member keeps through the rebalance.
    pub(crate) async fn join(
        &mut self,
        cluster: &Cluster,
        config: &ConsumerConfig,
        topics: &[String],
        owned: Option<&[TopicPartition]>,
    ) -> Result<Vec<TopicPartition>, Error> {
        self.stop_heartbeat();
        self.active = false;
        self.flags.rejoin.store(false, Ordering::Release);
        if self.flags.reset_member_id.swap(false, Ordering::AcqRel) {
            self.member_id.clear();
        }
        let generation = self.generation_id;
        let metadata = assignor::encode_subscription(topics, owned.map(|o| (o, generation)))?;
        let mut last_err = None;
        for _ in 0..MAX_JOIN_ROUNDS {
            let conn = match self.coordinator(cluster).await {
                Ok(c) => c,
                Err(e) if e.is_retriable() => {
                    last_err = Some(e);
                    tokio::time::sleep(cluster.config.retry_backoff).await;
                    continue;
                }
                Err(e) => return Err(e),
            };
            match self.join_round(cluster, config, &conn, &metadata).await {
                Ok(Some(assignment)) => {
                    self.active = true;
                    self.start_heartbeat(conn, config, cluster.request_timeout());
                    return Ok(assignment);
                }
                Ok(None) => continue,
                Err(e) => {
                    let code = e.kafka_code();
                    if let Some(c) = code {
                        self.on_group_error(c);
                    } else if e.is_retriable() {
                        self.coordinator = None;
                    }
                    let retriable = e.is_retriable()
                        || matches!(
                            code,
                            Some(
                                KafkaCode::RebalanceInProgress
                                    | KafkaCode::IllegalGeneration
                                    | KafkaCode::UnknownMemberId
                            )
                        );
                    if !retriable {
                        return Err(e);
                    }
                    tracing::debug!(group = %self.group_id, error = %e, "rejoining");
                    last_err = Some(e);
                    tokio::time::sleep(cluster.config.retry_backoff).await;
                }
            }
        }
        Err(last_err.unwrap_or_else(|| {
            Error::Timeout(format!("joining group '{}' did not settle", self.group_id))
        }))
    }

    /// One JoinGroup + SyncGroup. `Ok(None)` asks for another round right away
    /// (MEMBER_ID_REQUIRED).
    async fn join_round(
        &mut self,
        cluster: &Cluster,
        config: &ConsumerConfig,
        conn: &Connection,
        metadata: &Bytes,
    ) -> Result<Option<Vec<TopicPartition>>, Error> {
        let v = conn.version(ApiKey::JoinGroup)?;
        let mut req = JoinGroupRequest::default();
        req.group_id = GroupId(s(&self.group_id));
        req.session_timeout_ms = millis(config.session_timeout);
        if v >= 1 {
            req.rebalance_timeout_ms = millis(config.rebalance_timeout);
        }
        req.member_id = s(&self.member_id);
        if v >= 5 {
            req.group_instance_id = self.instance_id.as_deref().map(s);
        }
        req.protocol_type = StrBytes::from_static_str("consumer");
        req.protocols = config
            .assignment_strategies
            .iter()
            .map(|st| {
                let mut p = JoinGroupRequestProtocol::default();
                p.name = StrBytes::from_static_str(st.protocol_name());
                p.metadata = metadata.clone();
                p
            })
            .collect();
        // The broker holds JoinGroup until every member rejoined (up to the rebalance timeout).
        let timeout = config.rebalance_timeout + cluster.request_timeout();
        let resp = conn.send(&req, v, timeout).await?;
        let ctx = || format!("JoinGroup '{}'", self.group_id);
        match KafkaCode::from(resp.error_code) {
            KafkaCode::None => {}
            KafkaCode::MemberIdRequired => {
                self.member_id = resp.member_id.to_string();
                return Ok(None);
            }
            KafkaCode::UnknownMemberId => {
                self.member_id.clear();
                return Ok(None);
            }
            _ => return Err(Error::kafka(resp.error_code, ctx())),
        }
        self.member_id = resp.member_id.to_string();
        self.generation_id = resp.generation_id;
        let protocol = resp
            .protocol_name
            .as_ref()
            .map(|p| p.to_string())
            .unwrap_or_default();
        let strategy = AssignmentStrategy::from_protocol_name(&protocol).ok_or_else(|| {
            Error::Protocol(format!(
                "{}: the group chose unknown assignor '{protocol}'",
                ctx()
            ))
        })?;

        let mut assignments = Vec::new();
        if resp.leader.as_str() == self.member_id {
            let members: Vec<MemberSubscription> = resp
                .members
                .iter()
                .map(|m| {
                    let sub = assignor::decode_subscription(m.metadata.clone())?;
                    Ok(MemberSubscription {
                        member_id: m.member_id.to_string(),
                        group_instance_id: m.group_instance_id.as_ref().map(|i| i.to_string()),
                        topics: sub.topics,
                        owned: sub.owned,
                        generation: sub.generation,
                    })
                })
                .collect::<Result<_, Error>>()?;
            let mut wanted: Vec<String> = members.iter().flat_map(|m| m.topics.clone()).collect();
            wanted.sort();
            wanted.dedup();
            let mut counts = BTreeMap::new();
            for t in &wanted {
                match cluster.topic(t).await {
                    Ok(md) => {
                        counts.insert(t.clone(), md.partition_count());
                    }
                    Err(e) => {
                        tracing::warn!(topic = %t, error = %e, "subscribed topic has no metadata; assigning none of it")
                    }
                }
            }
            let plan = assignor::assign(strategy, &members, &counts);
            for (member, tps) in plan {
                let mut a = SyncGroupRequestAssignment::default();
                a.member_id = s(&member);
                a.assignment = assignor::encode_assignment(&tps)?;
                assignments.push(a);
            }
        }

        let sv = conn.version(ApiKey::SyncGroup)?;
        let mut sync = SyncGroupRequest::default();
        sync.group_id = GroupId(s(&self.group_id));
        sync.generation_id = self.generation_id;
        sync.member_id = s(&self.member_id);
        if sv >= 3 {
            sync.group_instance_id = self.instance_id.as_deref().map(s);
        }
        if sv >= 5 {
            sync.protocol_type = Some(StrBytes::from_static_str("consumer"));
            sync.protocol_name = Some(s(&protocol));
        }
        sync.assignments = assignments;
        let sresp = conn.send(&sync, sv, timeout).await?;
        if sresp.error_code != 0 {
            return Err(Error::kafka(
                sresp.error_code,
                format!("SyncGroup '{}'", self.group_id),
            ));
        }

        let assignment = assignor::decode_assignment(sresp.assignment)?;
        tracing::debug!(group = %self.group_id, member = %self.member_id, generation = self.generation_id, ?assignment, "joined");
        Ok(Some(assignment))
    }

    fn start_heartbeat(&mut self, conn: Connection, config: &ConsumerConfig, timeout: Duration) {
        let params = HeartbeatParams {
            group_id: self.group_id.clone(),
            member_id: self.member_id.clone(),
            instance_id: self.instance_id.clone(),
            generation_id: self.generation_id,
            interval: config.heartbeat_interval,
            session_timeout: config.session_timeout,
            request_timeout: timeout,
        };
        self.heartbeat = Some(tokio::spawn(heartbeat_loop(
            conn,
            params,
            self.flags.clone(),
        )));
    }

    /// Stops heartbeats and leaves the group (static members only stop heartbeating).
    pub(crate) async fn leave(&mut self, cluster: &Cluster) -> Result<(), Error> {
        self.stop_heartbeat();
        let was_active = std::mem::replace(&mut self.active, false);
        if !was_active || self.member_id.is_empty() || self.instance_id.is_some() {
            return Ok(());
        }
        let conn = self.coordinator(cluster).await?;
        let v = conn.version(ApiKey::LeaveGroup)?;
        let mut req = LeaveGroupRequest::default();
        req.group_id = GroupId(s(&self.group_id));
        if v >= 3 {
            let mut m = MemberIdentity::default();
            m.member_id = s(&self.member_id);
            req.members = vec![m];
        } else {
            req.member_id = s(&self.member_id);
        }
        let resp = conn.send(&req, v, cluster.request_timeout()).await?;
        self.member_id.clear();
        let code = KafkaCode::from(resp.error_code);
        if code != KafkaCode::None && code != KafkaCode::UnknownMemberId {
            return Err(Error::kafka(
                code,
                format!("LeaveGroup '{}'", self.group_id),
            ));
        }
        Ok(())
    }
}

fn millis(d: Duration) -> i32 {
    i32::try_from(d.as_millis()).unwrap_or(i32::MAX)
}

struct HeartbeatParams {
    group_id: String,
    member_id: String,
    instance_id: Option<String>,
    generation_id: i32,
    interval: Duration,
    session_timeout: Duration,
    request_timeout: Duration,
}

async fn heartbeat_loop(conn: Connection, p: HeartbeatParams, flags: Arc<Flags>) {
    let mut ticker = tokio::time::interval(p.interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticker.tick().await;
    let mut last_ok = Instant::now();
    loop {
        ticker.tick().await;
        let result = async {
            let v = conn.version(ApiKey::Heartbeat)?;
            let mut req = HeartbeatRequest::default();
            req.group_id = GroupId(s(&p.group_id));
            req.generation_id = p.generation_id;
            req.member_id = s(&p.member_id);
            if v >= 3 {
                req.group_instance_id = p.instance_id.as_deref().map(s);
            }
            let timeout = p.request_timeout.min(p.session_timeout);
            conn.send(&req, v, timeout).await
        }
        .await;
        match result {
            Ok(r) => match KafkaCode::from(r.error_code) {
                KafkaCode::None => last_ok = Instant::now(),
                KafkaCode::CoordinatorLoadInProgress => {}
                code => {
                    tracing::debug!(group = %p.group_id, %code, "heartbeat asks to rejoin");
                    if matches!(
                        code,
                        KafkaCode::UnknownMemberId | KafkaCode::FencedInstanceId
                    ) {
                        flags.reset_member_id.store(true, Ordering::Release);
                    }
                    if matches!(
                        code,
                        KafkaCode::UnknownMemberId
                            | KafkaCode::FencedInstanceId
                            | KafkaCode::IllegalGeneration
                    ) {
                        flags.lost.store(true, Ordering::Release);
                    }
                    if matches!(
                        code,
                        KafkaCode::NotCoordinator | KafkaCode::CoordinatorNotAvailable
                    ) {
                        flags.coordinator_lost.store(true, Ordering::Release);
                    }
                    flags.rejoin.store(true, Ordering::Release);
                    return;
                }
            },
            Err(e) => {
                tracing::debug!(group = %p.group_id, error = %e, "heartbeat failed");
                if conn.is_closed() {
                    flags.coordinator_lost.store(true, Ordering::Release);
                    flags.rejoin.store(true, Ordering::Release);
                    return;
                }
            }
        }
        if last_ok.elapsed() >= p.session_timeout {
            flags.lost.store(true, Ordering::Release);
            flags.coordinator_lost.store(true, Ordering::Release);
            flags.rejoin.store(true, Ordering::Release);
            return;
        }
    }
}
