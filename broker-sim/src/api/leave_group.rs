//! LeaveGroup (key 13), versions 0–5.
//!
//! Removes members and starts a rebalance for the rest (or completes one in progress). A
//! member that leaves while its JoinGroup waits gets UNKNOWN_MEMBER_ID there.
//! - v0–2: one member id; its error is the top-level error. v1: throttle time.
//! - v3+: a batch of members (member id, or group instance id with an empty member id), each
//!   with its own error; the top-level error is NONE. v4: flexible. v5: a reason per member
//!   (logged only).

use kafka_protocol::ResponseError;
use kafka_protocol::messages::leave_group_response::MemberResponse;
use kafka_protocol::messages::{LeaveGroupRequest, LeaveGroupResponse};

use super::{RequestContext, code};
use crate::state::BrokerState;

pub(crate) const VERSIONS: (i16, i16) = (0, 5);

pub(crate) fn handle(
    state: &BrokerState,
    ctx: &RequestContext,
    req: LeaveGroupRequest,
) -> LeaveGroupResponse {
    let group_id = req.group_id.0.to_string();
    if ctx.api_version <= 2 {
        let members = [(req.member_id.to_string(), None)];
        let e = match state.groups.leave(&group_id, &members) {
            Ok(results) => results.into_iter().next().flatten(),
            Err(e) => Some(e),
        };
        return LeaveGroupResponse::default().with_error_code(code(e));
    }
    let members: Vec<(String, Option<String>)> = req
        .members
        .iter()
        .map(|m| {
            (
                m.member_id.to_string(),
                m.group_instance_id.as_ref().map(|s| s.to_string()),
            )
        })
        .collect();
    let results = match state.groups.leave(&group_id, &members) {
        Ok(results) => results,
        Err(ResponseError::InvalidGroupId) => {
            return LeaveGroupResponse::default()
                .with_error_code(ResponseError::InvalidGroupId.code());
        }
        Err(e) => vec![Some(e); members.len()],
    };
    let responses = req
        .members
        .into_iter()
        .zip(results)
        .map(|(m, e)| {
            MemberResponse::default()
                .with_member_id(m.member_id)
                .with_group_instance_id(m.group_instance_id)
                .with_error_code(code(e))
        })
        .collect();
    LeaveGroupResponse::default().with_members(responses)
}

pub(crate) fn error_response(e: ResponseError, _v: i16) -> LeaveGroupResponse {
    LeaveGroupResponse::default().with_error_code(e.code())
}
