//! DescribeCluster (key 60), versions 0–2.
//!
//! The cluster id, the controller and every broker node (as Metadata lists them). Cluster
//! authorized operations are not computed (INT32_MIN). Asking for controller endpoints
//! (endpoint type 2, v1+) gets UNSUPPORTED_ENDPOINT_TYPE, as from a Kafka broker.
//! - v0: flexible. v1: endpoint type. v2: fenced brokers (none are ever fenced here).

use kafka_protocol::ResponseError;
use kafka_protocol::messages::describe_cluster_response::DescribeClusterBroker;
use kafka_protocol::messages::{BrokerId, DescribeClusterRequest, DescribeClusterResponse};

use super::{RequestContext, sb};
use crate::state::BrokerState;

pub(crate) const VERSIONS: (i16, i16) = (0, 2);

const BROKERS: i8 = 1;

pub(crate) fn handle(
    state: &BrokerState,
    ctx: &RequestContext,
    req: DescribeClusterRequest,
) -> DescribeClusterResponse {
    let v = ctx.api_version;
    if v >= 1 && req.endpoint_type != BROKERS {
        return error_response(ResponseError::UnsupportedEndpointType, v)
            .with_endpoint_type(req.endpoint_type)
            .with_error_message(Some(sb("kt broker has no separate controller endpoints")));
    }
    let brokers = state
        .brokers()
        .into_iter()
        .map(|n| {
            DescribeClusterBroker::default()
                .with_broker_id(BrokerId(n.node_id))
                .with_host(sb(n.host))
                .with_port(n.port)
                .with_rack(n.rack.map(sb))
        })
        .collect();
    let r = DescribeClusterResponse::default()
        .with_cluster_id(sb(state.cluster_id.clone()))
        .with_controller_id(BrokerId(state.controller_id()))
        .with_brokers(brokers)
        .with_cluster_authorized_operations(i32::MIN);
    if v >= 1 {
        r.with_endpoint_type(BROKERS)
    } else {
        r
    }
}

pub(crate) fn error_response(e: ResponseError, _v: i16) -> DescribeClusterResponse {
    DescribeClusterResponse::default()
        .with_error_code(e.code())
        .with_controller_id(BrokerId(-1))
        .with_cluster_authorized_operations(i32::MIN)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::test_util::{ctx, encode_all_versions};
    use kafka_protocol::messages::ApiKey;

    #[test]
    fn lists_this_node() {
        let s = BrokerState::for_tests();
        let r = handle(
            &s,
            &ctx(ApiKey::DescribeCluster, 1),
            DescribeClusterRequest::default().with_endpoint_type(1),
        );
        assert_eq!(r.error_code, 0);
        assert_eq!(r.cluster_id.as_str(), "kt-broker-cluster");
        assert_eq!((r.brokers.len(), r.brokers[0].port), (1, 9092));
        let r = handle(
            &s,
            &ctx(ApiKey::DescribeCluster, 1),
            DescribeClusterRequest::default().with_endpoint_type(2),
        );
        assert_eq!(r.error_code, ResponseError::UnsupportedEndpointType.code());
        encode_all_versions(ApiKey::DescribeCluster, 0, |v| {
            let req = DescribeClusterRequest::default();
            let req = if v >= 1 {
                req.with_endpoint_type(1)
            } else {
                req
            };
            handle(&s, &ctx(ApiKey::DescribeCluster, v), req)
        });
    }
}
