//! JoinGroup (key 11), versions 0–7.
//!
//! Joins a member to a classic group and waits until the rebalance completes (all known
//! members rejoined, or the rebalance timeout passed; the first rebalance of an empty group
//! also waits `group.initial.rebalance.delay.ms`). The leader (the previous leader if still a
//! member, else the first joiner) gets every member's metadata for the chosen protocol (the
//! protocol chosen by Kafka's vote: among the protocols every member supports, each member
//! votes for its first; most votes wins); followers get an empty list. The broker never looks
//! inside protocol metadata or assignments: any assignor the clients bring works.
//! Errors: INVALID_GROUP_ID, INVALID_SESSION_TIMEOUT (outside the broker's min/max),
//! INCONSISTENT_GROUP_PROTOCOL, UNKNOWN_MEMBER_ID, MEMBER_ID_REQUIRED.
//! - v1: rebalance timeout (v0 uses the session timeout). v2: throttle time.
//! - v4: KIP-394, a member joining with an empty member id gets MEMBER_ID_REQUIRED and an id to
//!   rejoin with (never for v0–3: kafka-python 2.0.2 joins with v2 and does not know the error).
//! - v5: group instance id: static membership (KIP-345, see `group`): a static member is never
//!   asked for a member id; rejoining with an empty member id (a restarted client) replaces
//!   the old member and, in a stable group whose protocol choice it does not change, gets the
//!   current generation and its old assignment at once, with the pre-replacement leader id and
//!   no member list (Kafka before v9 / KIP-814); FENCED_INSTANCE_ID for an old member id.
//!   v6: flexible. v7: protocol type in the response, protocol name nullable.

use std::time::Duration;

use kafka_protocol::ResponseError;
use kafka_protocol::messages::join_group_response::JoinGroupResponseMember;
use kafka_protocol::messages::{JoinGroupRequest, JoinGroupResponse};

use super::{RequestContext, code, sb};
use crate::group::JoinParams;
use crate::state::BrokerState;

pub(crate) const VERSIONS: (i16, i16) = (0, 7);

pub(crate) fn millis(ms: i32) -> Duration {
    Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}

pub(crate) async fn handle(
    state: &BrokerState,
    ctx: &RequestContext,
    req: JoinGroupRequest,
) -> JoinGroupResponse {
    let v = ctx.api_version;
    let group_instance_id = if v >= 5 {
        req.group_instance_id.map(|s| s.to_string())
    } else {
        None
    };
    let params = JoinParams {
        group_id: req.group_id.0.to_string(),
        member_id: req.member_id.to_string(),
        require_known_member_id: v >= 4 && group_instance_id.is_none(),
        group_instance_id,
        client_id: ctx.client_id.clone(),
        client_host: ctx.client_host.clone(),
        session_timeout: millis(req.session_timeout_ms),
        rebalance_timeout: millis(if v >= 1 {
            req.rebalance_timeout_ms
        } else {
            req.session_timeout_ms
        }),
        protocol_type: req.protocol_type.to_string(),
        protocols: req
            .protocols
            .into_iter()
            .map(|p| (p.name.to_string(), p.metadata))
            .collect(),
    };
    let r = state.groups.join(params).await;
    let members = r
        .members
        .into_iter()
        .map(|m| {
            JoinGroupResponseMember::default()
                .with_member_id(sb(m.member_id))
                .with_group_instance_id(if v >= 5 {
                    m.group_instance_id.map(sb)
                } else {
                    None
                })
                .with_metadata(m.metadata)
        })
        .collect();
    let response = JoinGroupResponse::default()
        .with_error_code(code(r.error))
        .with_generation_id(r.generation_id)
        .with_leader(sb(r.leader))
        .with_member_id(sb(r.member_id))
        .with_members(members);
    if v >= 7 {
        response
            .with_protocol_type(r.protocol_type.map(sb))
            .with_protocol_name(r.protocol_name.map(sb))
    } else {
        response.with_protocol_name(Some(sb(r.protocol_name.unwrap_or_default())))
    }
}

pub(crate) fn error_response(e: ResponseError, v: i16) -> JoinGroupResponse {
    let r = JoinGroupResponse::default()
        .with_error_code(e.code())
        .with_generation_id(-1);
    if v >= 7 {
        r.with_protocol_name(None)
    } else {
        r.with_protocol_name(Some(sb("")))
    }
}
