//! Which node answers what, and who may ask: partition leadership and group coordination
//! checks, ACLs (`acl.rs`), and the injected faults that pre-empt a request (see `fault/`).
//!
//! - Partition-level APIs (Produce, Fetch, ListOffsets) call [`partition_gate`] for each
//!   partition: an injected error; TOPIC_AUTHORIZATION_FAILED without the ACL operation the
//!   API needs on the topic (Write, Read, Describe); NOT_LEADER_OR_FOLLOWER when the receiving
//!   node does not lead it (with the current leader, which Produce v10+ and Fetch v12+ carry,
//!   KIP-951).
//! - Every other API goes through [`refusal`] once decoded: an injected error for the whole
//!   request; GROUP_AUTHORIZATION_FAILED / CLUSTER_AUTHORIZATION_FAILED without the ACL
//!   operation the API needs on its groups or the cluster ([`group_operation`],
//!   [`cluster_operation`]); for group APIs NOT_COORDINATOR when the receiving node does not
//!   coordinate the group (COORDINATOR_NOT_AVAILABLE when no node does). [`Routed::refuse`]
//!   then builds the response that carries that error in every entry the request named.
//!   Metadata, CreateTopics and DeleteTopics check topic ACLs per topic in their handlers
//!   ([`authorized`]).
//!
//! An API module added later gets request-level faults by implementing [`Routed`] (its
//! `refuse` usually being its `error_response`); a group API also returns its group from
//! [`Routed::group`]. OffsetFetch v8, which may name groups of several coordinators, is split
//! by group in [`offset_fetch_foreign_groups`].

use kafka_protocol::ResponseError;
use kafka_protocol::messages::*;

use super::{RequestContext, sb};
use crate::acl::{Operation, Resource};
use crate::state::{BrokerState, NodeInfo, Partition};

/// Whether the request's principal may do `op` on `resource` (always, without ACLs). A
/// denial is logged at debug level.
pub(crate) fn authorized(
    state: &BrokerState,
    ctx: &RequestContext,
    op: Operation,
    resource: Resource<'_>,
) -> bool {
    let Some(acl) = &state.acl else {
        return true;
    };
    let ok = acl.allows(&ctx.principal, op, resource);
    if !ok {
        tracing::debug!(principal = %ctx.principal, client = %ctx.client_host, api = ?ctx.api_key,
            "authorization: {op:?} on {resource:?} denied");
    }
    ok
}

/// The ACL operation a partition-level API needs on each topic.
fn topic_operation(api: ApiKey) -> Operation {
    match api {
        ApiKey::Produce => Operation::Write,
        ApiKey::Fetch => Operation::Read,
        _ => Operation::Describe,
    }
}

/// The ACL operation a group API needs on its group (Kafka's `KafkaApis` choices).
pub(crate) fn group_operation(api: ApiKey) -> Operation {
    match api {
        ApiKey::OffsetFetch | ApiKey::FindCoordinator | ApiKey::DescribeGroups => {
            Operation::Describe
        }
        ApiKey::DeleteGroups | ApiKey::OffsetDelete => Operation::Delete,
        _ => Operation::Read,
    }
}

/// The ACL operation an API needs on the cluster, if any.
pub(crate) fn cluster_operation(api: ApiKey) -> Option<Operation> {
    match api {
        ApiKey::DescribeCluster => Some(Operation::Describe),
        ApiKey::InitProducerId => Some(Operation::IdempotentWrite),
        _ => None,
    }
}

/// Why a partition is not served by the receiving node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub(crate) error: ResponseError,
    /// (leader id, leader epoch) when the refusal is NOT_LEADER_OR_FOLLOWER.
    pub(crate) current_leader: Option<(i32, i32)>,
}

/// Injected fault first, then leadership.
pub(crate) fn partition_gate(
    state: &BrokerState,
    ctx: &RequestContext,
    topic: &str,
    partition: &Partition,
) -> Result<(), Refusal> {
    if let Some(error) = state.faults.partition_error(
        &ctx.claims,
        ctx.api_key,
        ctx.node_id,
        topic,
        partition.index,
    ) {
        return Err(Refusal {
            error,
            current_leader: None,
        });
    }
    if !authorized(
        state,
        ctx,
        topic_operation(ctx.api_key),
        Resource::Topic(topic),
    ) {
        return Err(Refusal {
            error: ResponseError::TopicAuthorizationFailed,
            current_leader: None,
        });
    }
    let (leader, epoch) = partition.leader();
    if leader != ctx.node_id {
        return Err(Refusal {
            error: ResponseError::NotLeaderOrFollower,
            current_leader: Some((leader, epoch)),
        });
    }
    Ok(())
}

/// Endpoints of the nodes named as current leaders, each once, for `node_endpoints`.
pub(crate) fn leader_endpoints(
    state: &BrokerState,
    refusals: impl IntoIterator<Item = Refusal>,
) -> Vec<NodeInfo> {
    let mut ids: Vec<i32> = refusals
        .into_iter()
        .filter_map(|r| r.current_leader.map(|(id, _)| id))
        .filter(|id| *id >= 0)
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids.into_iter()
        .filter_map(|id| state.nodes.get(id))
        .collect()
}

/// A decoded request that can be refused as a whole.
pub(crate) trait Routed {
    type Response;
    /// The group whose coordinator must be the receiving node, for group APIs.
    fn group(&self) -> Option<&str> {
        None
    }
    /// The groups whose ACLs apply (default: [`Routed::group`]).
    fn acl_groups(&self) -> Vec<&str> {
        self.group().into_iter().collect()
    }
    /// The response carrying `e` for everything the request asked about.
    fn refuse(&self, e: ResponseError, v: i16) -> Self::Response;
}

/// NOT_COORDINATOR / COORDINATOR_NOT_AVAILABLE for a group this node does not coordinate.
pub(crate) fn coordinator_error(
    state: &BrokerState,
    ctx: &RequestContext,
    group_id: &str,
) -> Option<ResponseError> {
    match state.nodes.coordinator_for(group_id) {
        Some(n) if n.node_id == ctx.node_id => None,
        Some(_) => Some(ResponseError::NotCoordinator),
        None => Some(ResponseError::CoordinatorNotAvailable),
    }
}

/// The error the whole request gets instead of being handled, if any.
pub(crate) fn refusal<R: Routed>(
    state: &BrokerState,
    ctx: &RequestContext,
    req: &R,
) -> Option<ResponseError> {
    if let Some(e) = state.faults.request_error(ctx.api_key, ctx.node_id) {
        return Some(e);
    }
    let op = group_operation(ctx.api_key);
    if req
        .acl_groups()
        .into_iter()
        .any(|g| !authorized(state, ctx, op, Resource::Group(g)))
    {
        return Some(ResponseError::GroupAuthorizationFailed);
    }
    if let Some(op) = cluster_operation(ctx.api_key)
        && !authorized(state, ctx, op, Resource::Cluster)
        && !(op == Operation::IdempotentWrite && may_write_somewhere(state, ctx))
    {
        return Some(ResponseError::ClusterAuthorizationFailed);
    }
    let group = req.group()?;
    let e = coordinator_error(state, ctx, group)?;
    tracing::debug!(client = %ctx.client_host, api = ?ctx.api_key, group, node = ctx.node_id, "{e:?}: group coordinated elsewhere");
    Some(e)
}

/// Kafka's message for the errors a refusal carries (clients print it).
pub(crate) fn message(e: ResponseError) -> String {
    match e {
        ResponseError::GroupAuthorizationFailed => "Group authorization failed.".to_owned(),
        ResponseError::TopicAuthorizationFailed => "Topic authorization failed.".to_owned(),
        ResponseError::ClusterAuthorizationFailed => "Cluster authorization failed.".to_owned(),
        ResponseError::NotCoordinator => "This is not the correct coordinator.".to_owned(),
        ResponseError::CoordinatorNotAvailable => "The coordinator is not available.".to_owned(),
        other => other.to_string(),
    }
}

/// Kafka lets a producer that may write to some topic be idempotent without the cluster-level
/// IdempotentWrite (KIP-679).
fn may_write_somewhere(state: &BrokerState, ctx: &RequestContext) -> bool {
    state
        .all_topics()
        .iter()
        .any(|t| authorized(state, ctx, Operation::Write, Resource::Topic(&t.name)))
}

/// OffsetFetch v8 names several groups: those coordinated elsewhere are taken out of the
/// request and answered with their error; the rest are handled here.
pub(crate) fn offset_fetch_foreign_groups(
    state: &BrokerState,
    ctx: &RequestContext,
    req: &mut OffsetFetchRequest,
) -> Vec<offset_fetch_response::OffsetFetchResponseGroup> {
    let mut foreign = Vec::new();
    req.groups.retain(
        |g| match coordinator_error(state, ctx, g.group_id.0.as_str()) {
            Some(e) => {
                foreign.push(
                    offset_fetch_response::OffsetFetchResponseGroup::default()
                        .with_group_id(g.group_id.clone())
                        .with_error_code(e.code()),
                );
                false
            }
            None => true,
        },
    );
    foreign
}

impl Routed for MetadataRequest {
    type Response = MetadataResponse;
    fn refuse(&self, e: ResponseError, _v: i16) -> MetadataResponse {
        let topics = self
            .topics
            .iter()
            .flatten()
            .map(|t| {
                metadata_response::MetadataResponseTopic::default()
                    .with_name(t.name.clone())
                    .with_topic_id(t.topic_id)
                    .with_error_code(e.code())
            })
            .collect();
        MetadataResponse::default().with_topics(topics)
    }
}

impl Routed for OffsetCommitRequest {
    type Response = OffsetCommitResponse;
    fn group(&self) -> Option<&str> {
        Some(self.group_id.0.as_str())
    }
    fn refuse(&self, e: ResponseError, _v: i16) -> OffsetCommitResponse {
        let topics = self
            .topics
            .iter()
            .map(|t| {
                offset_commit_response::OffsetCommitResponseTopic::default()
                    .with_name(t.name.clone())
                    .with_partitions(
                        t.partitions
                            .iter()
                            .map(|p| {
                                offset_commit_response::OffsetCommitResponsePartition::default()
                                    .with_partition_index(p.partition_index)
                                    .with_error_code(e.code())
                            })
                            .collect(),
                    )
            })
            .collect();
        OffsetCommitResponse::default().with_topics(topics)
    }
}

impl Routed for OffsetFetchRequest {
    type Response = OffsetFetchResponse;
    fn group(&self) -> Option<&str> {
        // v8's groups are routed one by one (offset_fetch_foreign_groups).
        self.groups.is_empty().then_some(self.group_id.0.as_str())
    }
    fn acl_groups(&self) -> Vec<&str> {
        if self.groups.is_empty() {
            vec![self.group_id.0.as_str()]
        } else {
            self.groups.iter().map(|g| g.group_id.0.as_str()).collect()
        }
    }
    fn refuse(&self, e: ResponseError, v: i16) -> OffsetFetchResponse {
        if v >= 8 {
            let groups = self
                .groups
                .iter()
                .map(|g| {
                    offset_fetch_response::OffsetFetchResponseGroup::default()
                        .with_group_id(g.group_id.clone())
                        .with_error_code(e.code())
                })
                .collect();
            return OffsetFetchResponse::default().with_groups(groups);
        }
        let topics = self
            .topics
            .iter()
            .flatten()
            .map(|t| {
                offset_fetch_response::OffsetFetchResponseTopic::default()
                    .with_name(t.name.clone())
                    .with_partitions(
                        t.partition_indexes
                            .iter()
                            .map(|p| {
                                offset_fetch_response::OffsetFetchResponsePartition::default()
                                    .with_partition_index(*p)
                                    .with_committed_offset(-1)
                                    .with_error_code(e.code())
                            })
                            .collect(),
                    )
            })
            .collect();
        let r = OffsetFetchResponse::default().with_topics(topics);
        if v >= 2 {
            r.with_error_code(e.code())
        } else {
            r
        }
    }
}

impl Routed for FindCoordinatorRequest {
    type Response = FindCoordinatorResponse;
    fn acl_groups(&self) -> Vec<&str> {
        // Transaction coordinators (key type 1) are not served; only group keys are checked.
        if self.key_type != 0 {
            return Vec::new();
        }
        if self.coordinator_keys.is_empty() {
            vec![self.key.as_str()]
        } else {
            self.coordinator_keys.iter().map(|k| k.as_str()).collect()
        }
    }
    fn refuse(&self, e: ResponseError, v: i16) -> FindCoordinatorResponse {
        if v >= 4 {
            let coordinators = self
                .coordinator_keys
                .iter()
                .map(|k| {
                    find_coordinator_response::Coordinator::default()
                        .with_key(k.clone())
                        .with_node_id(BrokerId(-1))
                        .with_port(-1)
                        .with_error_code(e.code())
                        .with_error_message(Some(sb(message(e))))
                })
                .collect();
            return FindCoordinatorResponse::default().with_coordinators(coordinators);
        }
        let r = super::find_coordinator::error_response(e, v);
        // librdkafka prints the message: give Kafka's (v1+ carries one).
        if v >= 1 {
            r.with_error_message(Some(sb(message(e))))
        } else {
            r
        }
    }
}

impl Routed for CreateTopicsRequest {
    type Response = CreateTopicsResponse;
    fn refuse(&self, e: ResponseError, _v: i16) -> CreateTopicsResponse {
        let topics = self
            .topics
            .iter()
            .map(|t| {
                create_topics_response::CreatableTopicResult::default()
                    .with_name(t.name.clone())
                    .with_error_code(e.code())
                    .with_num_partitions(-1)
                    .with_replication_factor(-1)
            })
            .collect();
        CreateTopicsResponse::default().with_topics(topics)
    }
}

impl Routed for DeleteTopicsRequest {
    type Response = DeleteTopicsResponse;
    fn refuse(&self, e: ResponseError, v: i16) -> DeleteTopicsResponse {
        let named = self.topic_names.iter().map(|n| (Some(n.clone()), None));
        let by_state = self
            .topics
            .iter()
            .map(|t| (t.name.clone(), Some(t.topic_id)));
        let responses = named
            .chain(by_state)
            .map(|(name, id)| {
                let r = delete_topics_response::DeletableTopicResult::default()
                    .with_name(name)
                    .with_error_code(e.code());
                match id {
                    Some(id) if v >= 6 => r.with_topic_id(id),
                    _ => r,
                }
            })
            .collect();
        DeleteTopicsResponse::default().with_responses(responses)
    }
}

/// Group APIs whose `error_response` already carries a top-level error.
macro_rules! group_api {
    ($req:ty, $resp:ty, $module:ident) => {
        impl Routed for $req {
            type Response = $resp;
            fn group(&self) -> Option<&str> {
                Some(self.group_id.0.as_str())
            }
            fn refuse(&self, e: ResponseError, v: i16) -> $resp {
                super::$module::error_response(e, v)
            }
        }
    };
}

group_api!(JoinGroupRequest, JoinGroupResponse, join_group);
group_api!(SyncGroupRequest, SyncGroupResponse, sync_group);
group_api!(HeartbeatRequest, HeartbeatResponse, heartbeat);
group_api!(LeaveGroupRequest, LeaveGroupResponse, leave_group);

impl Routed for ApiVersionsRequest {
    type Response = ApiVersionsResponse;
    fn refuse(&self, e: ResponseError, v: i16) -> ApiVersionsResponse {
        super::api_versions::error_response(e, v)
    }
}

/// Partition-level APIs are refused partition by partition in their handlers; a whole-request
/// refusal never reaches them (`Faults::request_error` skips them), so this is their decode
/// error response.
macro_rules! partition_api {
    ($req:ty, $resp:ty, $module:ident) => {
        impl Routed for $req {
            type Response = $resp;
            fn refuse(&self, e: ResponseError, v: i16) -> $resp {
                super::$module::error_response(e, v)
            }
        }
    };
}

partition_api!(FetchRequest, FetchResponse, fetch);
partition_api!(ListOffsetsRequest, ListOffsetsResponse, list_offsets);

/// A node's endpoint as `node_endpoints` entries carry it (shared by Produce and Fetch).
pub(crate) fn endpoint_fields(n: &NodeInfo) -> (BrokerId, kafka_protocol::protocol::StrBytes, i32) {
    (BrokerId(n.node_id), sb(n.host.clone()), n.port)
}
