//! Version-independent inputs and outputs of the group coordinator. The API modules translate
//! between these and each request/response version.

use std::time::Duration;

use bytes::Bytes;
use kafka_protocol::ResponseError;

/// A JoinGroup request.
#[derive(Debug, Clone)]
pub(crate) struct JoinParams {
    pub(crate) group_id: String,
    pub(crate) member_id: String,
    pub(crate) group_instance_id: Option<String>,
    pub(crate) client_id: String,
    pub(crate) client_host: String,
    pub(crate) session_timeout: Duration,
    pub(crate) rebalance_timeout: Duration,
    pub(crate) protocol_type: String,
    /// (name, metadata) in the member's order of preference.
    pub(crate) protocols: Vec<(String, Bytes)>,
    /// JoinGroup v4+ without a group instance id (KIP-394): a member joining with an empty id
    /// first gets MEMBER_ID_REQUIRED and an id to rejoin with.
    pub(crate) require_known_member_id: bool,
}

/// A member as the leader sees it in its JoinGroup response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct JoinedMember {
    pub(crate) member_id: String,
    pub(crate) group_instance_id: Option<String>,
    pub(crate) metadata: Bytes,
}

/// A JoinGroup answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct JoinResult {
    pub(crate) error: Option<ResponseError>,
    pub(crate) generation_id: i32,
    pub(crate) protocol_type: Option<String>,
    pub(crate) protocol_name: Option<String>,
    pub(crate) leader: String,
    pub(crate) member_id: String,
    /// Filled for the leader only.
    pub(crate) members: Vec<JoinedMember>,
}

impl JoinResult {
    pub(crate) fn error(error: ResponseError, member_id: &str) -> Self {
        JoinResult {
            error: Some(error),
            generation_id: -1,
            protocol_type: None,
            protocol_name: None,
            leader: String::new(),
            member_id: member_id.to_owned(),
            members: Vec::new(),
        }
    }
}

/// A SyncGroup request.
#[derive(Debug, Clone)]
pub(crate) struct SyncParams {
    pub(crate) group_id: String,
    pub(crate) generation_id: i32,
    pub(crate) member_id: String,
    /// v3+: a static member's instance id, checked against the member id (FENCED_INSTANCE_ID).
    pub(crate) group_instance_id: Option<String>,
    /// v5+: checked against the group's when present.
    pub(crate) protocol_type: Option<String>,
    pub(crate) protocol_name: Option<String>,
    /// The leader's assignments (member id, opaque bytes); empty for followers.
    pub(crate) assignments: Vec<(String, Bytes)>,
}

/// A SyncGroup answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SyncResult {
    pub(crate) error: Option<ResponseError>,
    pub(crate) protocol_type: Option<String>,
    pub(crate) protocol_name: Option<String>,
    pub(crate) assignment: Bytes,
}

impl SyncResult {
    pub(crate) fn error(error: ResponseError) -> Self {
        SyncResult {
            error: Some(error),
            protocol_type: None,
            protocol_name: None,
            assignment: Bytes::new(),
        }
    }
}

/// One partition of an OffsetCommit.
#[derive(Debug, Clone)]
pub(crate) struct OffsetCommitEntry {
    pub(crate) topic: String,
    pub(crate) partition: i32,
    pub(crate) offset: i64,
    pub(crate) leader_epoch: i32,
    pub(crate) metadata: Option<String>,
}

/// A committed offset as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CommittedOffset {
    pub(crate) offset: i64,
    pub(crate) leader_epoch: i32,
    pub(crate) metadata: String,
}

/// Where a group stands (Kafka's `GroupState`, without Dead: groups here are never unloaded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupState {
    /// No members; may still hold committed offsets.
    Empty,
    /// Waiting for members to (re)join.
    PreparingRebalance,
    /// Joined; waiting for the leader's assignment.
    CompletingRebalance,
    /// Assignment delivered.
    Stable,
}

impl GroupState {
    /// The name Kafka uses (DescribeGroups, ListGroups).
    pub fn as_str(&self) -> &'static str {
        match self {
            GroupState::Empty => "Empty",
            GroupState::PreparingRebalance => "PreparingRebalance",
            GroupState::CompletingRebalance => "CompletingRebalance",
            GroupState::Stable => "Stable",
        }
    }
}

/// A snapshot of a group for inspection (tests, DescribeGroups).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupSummary {
    /// The group id.
    pub group_id: String,
    /// Current state.
    pub state: GroupState,
    /// Current generation (0 before the first rebalance completes).
    pub generation_id: i32,
    /// Protocol type, usually "consumer".
    pub protocol_type: Option<String>,
    /// The chosen assignor, e.g. "range".
    pub protocol_name: Option<String>,
    /// Leader's member id.
    pub leader: Option<String>,
    /// Members in join order.
    pub members: Vec<MemberSummary>,
}

/// One member in a [`GroupSummary`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberSummary {
    /// The member id the coordinator assigned.
    pub member_id: String,
    /// The static membership instance id (KIP-345), if the member gave one.
    pub group_instance_id: Option<String>,
    /// The client id from the member's request header.
    pub client_id: String,
    /// The client's address as the broker saw it.
    pub client_host: String,
    /// The member's metadata for the chosen protocol (for consumers: the subscription).
    pub metadata: bytes::Bytes,
    /// The assignment bytes the leader computed for this member (opaque to the broker).
    pub assignment: bytes::Bytes,
}
