//! Heartbeat (key 12), versions 0–4.
//!
//! Keeps a member's session alive. Errors: UNKNOWN_MEMBER_ID (unknown member or group, or the
//! group is empty), ILLEGAL_GENERATION, REBALANCE_IN_PROGRESS (the member must rejoin; its
//! session is still refreshed). A heartbeat while the leader computes assignments succeeds.
//! - v1: throttle time. v3: group instance id (a replaced static member gets FENCED_INSTANCE_ID). v4: flexible.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::{HeartbeatRequest, HeartbeatResponse};

use super::{RequestContext, code};
use crate::state::BrokerState;

pub(crate) const VERSIONS: (i16, i16) = (0, 4);

pub(crate) fn handle(
    state: &BrokerState,
    _ctx: &RequestContext,
    req: HeartbeatRequest,
) -> HeartbeatResponse {
    let e = state.groups.heartbeat(
        req.group_id.0.as_str(),
        req.member_id.as_str(),
        req.group_instance_id.as_ref().map(|s| s.as_str()),
        req.generation_id,
    );
    HeartbeatResponse::default().with_error_code(code(e))
}

pub(crate) fn error_response(e: ResponseError, _v: i16) -> HeartbeatResponse {
    HeartbeatResponse::default().with_error_code(e.code())
}
