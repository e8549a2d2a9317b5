//! SyncGroup (key 14), versions 0–5.
//!
//! The leader sends every member's assignment (opaque bytes the broker relays without parsing);
//! each member, leader included, gets its own once the leader's request arrives. Errors:
//! UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION, REBALANCE_IN_PROGRESS (a new rebalance started; also
//! sent to members still waiting when it does), INCONSISTENT_GROUP_PROTOCOL (v5 protocol
//! type/name differ from the group's).
//! - v1: throttle time. v3: group instance id (FENCED_INSTANCE_ID for a replaced static member). v4: flexible. v5: protocol type and name in
//!   request and response.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::{SyncGroupRequest, SyncGroupResponse};

use super::{RequestContext, code, sb};
use crate::group::SyncParams;
use crate::state::BrokerState;

pub(crate) const VERSIONS: (i16, i16) = (0, 5);

pub(crate) async fn handle(
    state: &BrokerState,
    ctx: &RequestContext,
    req: SyncGroupRequest,
) -> SyncGroupResponse {
    let v = ctx.api_version;
    let params = SyncParams {
        group_id: req.group_id.0.to_string(),
        generation_id: req.generation_id,
        member_id: req.member_id.to_string(),
        group_instance_id: req.group_instance_id.as_ref().map(|s| s.to_string()),
        protocol_type: if v >= 5 {
            req.protocol_type.map(|s| s.to_string())
        } else {
            None
        },
        protocol_name: if v >= 5 {
            req.protocol_name.map(|s| s.to_string())
        } else {
            None
        },
        assignments: req
            .assignments
            .into_iter()
            .map(|a| (a.member_id.to_string(), a.assignment))
            .collect(),
    };
    let r = state.groups.sync(params).await;
    let response = SyncGroupResponse::default()
        .with_error_code(code(r.error))
        .with_assignment(r.assignment);
    if v >= 5 {
        response
            .with_protocol_type(r.protocol_type.map(sb))
            .with_protocol_name(r.protocol_name.map(sb))
    } else {
        response
    }
}

pub(crate) fn error_response(e: ResponseError, _v: i16) -> SyncGroupResponse {
    SyncGroupResponse::default().with_error_code(e.code())
}
