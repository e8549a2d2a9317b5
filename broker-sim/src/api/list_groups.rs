//! ListGroups (key 16), versions 0–5.
//!
//! Every group this node coordinates (in a cluster each node lists its own, as Kafka's
//! brokers do; admin clients ask every node) (with members, or only committed offsets), with its
//! protocol type. v4: its state, and a states filter (case-insensitive; empty = all).
//! v5: group type ("classic": this broker has no KIP-848 groups) and a types filter.
//! - v1: throttle time. v3: flexible.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::list_groups_response::ListedGroup;
use kafka_protocol::messages::{GroupId, ListGroupsRequest, ListGroupsResponse};

use super::{RequestContext, route, sb};
use crate::state::BrokerState;

pub(crate) const VERSIONS: (i16, i16) = (0, 5);

const CLASSIC: &str = "classic";

pub(crate) fn handle(
    state: &BrokerState,
    ctx: &RequestContext,
    req: ListGroupsRequest,
) -> ListGroupsResponse {
    let v = ctx.api_version;
    let matches = |filter: &[kafka_protocol::protocol::StrBytes], value: &str| {
        filter.is_empty()
            || filter
                .iter()
                .any(|f| f.as_str().eq_ignore_ascii_case(value))
    };
    let groups = state
        .groups
        .list()
        .into_iter()
        .filter(|(id, _, _)| route::coordinator_error(state, ctx, id).is_none())
        .filter(|(_, _, st)| v < 4 || matches(&req.states_filter, st.as_str()))
        .filter(|_| v < 5 || matches(&req.types_filter, CLASSIC))
        .map(|(id, protocol_type, st)| {
            let g = ListedGroup::default()
                .with_group_id(GroupId(sb(id)))
                .with_protocol_type(sb(protocol_type));
            let g = if v >= 4 {
                g.with_group_state(sb(st.as_str()))
            } else {
                g
            };
            if v >= 5 {
                g.with_group_type(sb(CLASSIC))
            } else {
                g
            }
        })
        .collect();
    ListGroupsResponse::default().with_groups(groups)
}

pub(crate) fn error_response(e: ResponseError, _v: i16) -> ListGroupsResponse {
    ListGroupsResponse::default().with_error_code(e.code())
}
