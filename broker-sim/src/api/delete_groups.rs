//! DeleteGroups (key 42), versions 0–2.
//!
//! Deletes groups with their committed offsets. Only a group without members can be deleted
//! (NON_EMPTY_GROUP otherwise); unknown groups get GROUP_ID_NOT_FOUND, an empty id
//! INVALID_GROUP_ID, a group coordinated by another node NOT_COORDINATOR.
//! - v1: no schema change. v2: flexible.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::delete_groups_response::DeletableGroupResult;
use kafka_protocol::messages::{DeleteGroupsRequest, DeleteGroupsResponse};

use super::{RequestContext, code, route};
use crate::state::BrokerState;

pub(crate) const VERSIONS: (i16, i16) = (0, 2);

pub(crate) fn handle(
    state: &BrokerState,
    ctx: &RequestContext,
    req: DeleteGroupsRequest,
) -> DeleteGroupsResponse {
    let results = req
        .groups_names
        .into_iter()
        .map(|g| {
            let e = route::coordinator_error(state, ctx, g.0.as_str())
                .or_else(|| state.delete_group(g.0.as_str()));
            DeletableGroupResult::default()
                .with_group_id(g)
                .with_error_code(code(e))
        })
        .collect();
    DeleteGroupsResponse::default().with_results(results)
}

pub(crate) fn error_response(_e: ResponseError, _v: i16) -> DeleteGroupsResponse {
    DeleteGroupsResponse::default()
}
