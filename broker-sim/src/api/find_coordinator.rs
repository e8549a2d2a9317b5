//! FindCoordinator (key 10), versions 0–4.
//!
//! A group's coordinator is chosen as Kafka does: the leader of partition
//! `abs(hashCode(group id)) % 50` of the offsets topic (`state::nodes`), so in a cluster the
//! groups spread over the nodes and move when a node goes down; any node answers. When no live
//! node leads that partition: COORDINATOR_NOT_AVAILABLE. Transaction coordinators (key type 1)
//! are not provided: those keys get COORDINATOR_NOT_AVAILABLE.
//! - v0: group key only. v1+: key type, throttle time, error message. v3+: flexible.
//! - v4: a batch of keys (`coordinator_keys`), answered per key in `coordinators`.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::find_coordinator_response::Coordinator;
use kafka_protocol::messages::{BrokerId, FindCoordinatorRequest, FindCoordinatorResponse};
use kafka_protocol::protocol::StrBytes;

use super::{RequestContext, sb};
use crate::state::BrokerState;

pub(crate) const VERSIONS: (i16, i16) = (0, 4);

const GROUP: i8 = 0;

/// (error, node id, host, port) for a key of `key_type` (Kafka too answers an empty group id
/// with a coordinator).
fn locate(
    state: &BrokerState,
    key_type: i8,
    key: &str,
) -> (Option<(ResponseError, &'static str)>, i32, String, i32) {
    if key_type != GROUP {
        return (
            Some((
                ResponseError::CoordinatorNotAvailable,
                "kt broker has no transaction coordinator",
            )),
            -1,
            String::new(),
            -1,
        );
    }
    match state.nodes.coordinator_for(key) {
        Some(node) => (None, node.node_id, node.host, node.port),
        None => (
            Some((
                ResponseError::CoordinatorNotAvailable,
                "no live node leads this group's offsets partition",
            )),
            -1,
            String::new(),
            -1,
        ),
    }
}

pub(crate) fn handle(
    state: &BrokerState,
    ctx: &RequestContext,
    req: FindCoordinatorRequest,
) -> FindCoordinatorResponse {
    if ctx.api_version >= 4 {
        let coordinators = req
            .coordinator_keys
            .into_iter()
            .map(|key| {
                let (err, node, host, port) = locate(state, req.key_type, key.as_str());
                Coordinator::default()
                    .with_key(key)
                    .with_node_id(BrokerId(node))
                    .with_host(sb(host))
                    .with_port(port)
                    .with_error_code(err.map_or(0, |e| e.0.code()))
                    .with_error_message(err.map(|e| StrBytes::from_static_str(e.1)))
            })
            .collect();
        return FindCoordinatorResponse::default().with_coordinators(coordinators);
    }
    let (err, node, host, port) = locate(state, req.key_type, req.key.as_str());
    let r = FindCoordinatorResponse::default()
        .with_error_code(err.map_or(0, |e| e.0.code()))
        .with_node_id(BrokerId(node))
        .with_host(sb(host))
        .with_port(port);
    if ctx.api_version >= 1 {
        r.with_error_message(err.map(|e| StrBytes::from_static_str(e.1)))
    } else {
        r
    }
}

pub(crate) fn error_response(e: ResponseError, v: i16) -> FindCoordinatorResponse {
    if v >= 4 {
        // v4 has no top-level error: an empty batch.
        return FindCoordinatorResponse::default();
    }
    FindCoordinatorResponse::default()
        .with_error_code(e.code())
        .with_node_id(BrokerId(-1))
        .with_port(-1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::test_util::{ctx, encode_all_versions};
    use kafka_protocol::messages::ApiKey;

    #[test]
    fn this_node_for_groups() {
        let s = BrokerState::for_tests();
        let r = handle(
            &s,
            &ctx(ApiKey::FindCoordinator, 0),
            FindCoordinatorRequest::default().with_key(sb("g")),
        );
        assert_eq!((r.error_code, r.node_id.0, r.port), (0, 0, 9092));
        let r = handle(
            &s,
            &ctx(ApiKey::FindCoordinator, 4),
            FindCoordinatorRequest::default().with_coordinator_keys(vec![sb("g1"), sb("g2")]),
        );
        assert_eq!(r.coordinators.len(), 2);
        assert_eq!(r.coordinators[1].key.as_str(), "g2");
        let r = handle(
            &s,
            &ctx(ApiKey::FindCoordinator, 2),
            FindCoordinatorRequest::default()
                .with_key(sb("tx"))
                .with_key_type(1),
        );
        assert_eq!(r.error_code, ResponseError::CoordinatorNotAvailable.code());
    }

    #[test]
    fn encodes_at_every_version() {
        let s = BrokerState::for_tests();
        encode_all_versions(ApiKey::FindCoordinator, 0, |v| {
            let req = if v >= 4 {
                FindCoordinatorRequest::default().with_coordinator_keys(vec![sb("g")])
            } else {
                FindCoordinatorRequest::default().with_key(sb("g"))
            };
            handle(&s, &ctx(ApiKey::FindCoordinator, v), req)
        });
    }
}
