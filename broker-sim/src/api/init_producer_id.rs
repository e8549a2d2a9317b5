//! InitProducerId (key 22), versions 0–5.
//!
//! Hands an idempotent producer a fresh producer id with epoch 0. Like Kafka for a request
//! without a transactional id, every call gets a new id (also v3+ calls that name their
//! previous id and epoch, KIP-360: Kafka answers those with a new id as well when there is no
//! transactional id). Ids are unique for the life of the process and start from the wall
//! clock in milliseconds, so a restarted broker does not hand out an id it gave before.
//!
//! Transactions are not supported: a request with a transactional id gets INVALID_REQUEST and
//! a log line, so a transactional producer fails at once instead of retrying (FindCoordinator
//! for transaction coordinators answers COORDINATOR_NOT_AVAILABLE).
//! - v1: throttle time. v2: flexible. v3: producer id and epoch in the request. v4–5: no
//!   change this broker acts on (error codes for transactional producers).

use kafka_protocol::ResponseError;
use kafka_protocol::messages::{InitProducerIdRequest, InitProducerIdResponse, ProducerId};

use super::RequestContext;
use crate::state::BrokerState;

pub(crate) const VERSIONS: (i16, i16) = (0, 5);

pub(crate) fn handle(
    state: &BrokerState,
    ctx: &RequestContext,
    req: InitProducerIdRequest,
) -> InitProducerIdResponse {
    if let Some(tx) = &req.transactional_id {
        tracing::warn!(
            client = %ctx.client_host, client_id = %ctx.client_id, transactional_id = %tx.0.as_str(),
            "InitProducerId for a transactional producer refused: kt broker does not support transactions"
        );
        return error_response(ResponseError::InvalidRequest, ctx.api_version);
    }
    let producer_id = state.new_producer_id();
    tracing::debug!(client = %ctx.client_host, client_id = %ctx.client_id, producer_id, "new idempotent producer");
    InitProducerIdResponse::default()
        .with_producer_id(ProducerId(producer_id))
        .with_producer_epoch(0)
}

pub(crate) fn error_response(e: ResponseError, _v: i16) -> InitProducerIdResponse {
    InitProducerIdResponse::default()
        .with_error_code(e.code())
        .with_producer_id(ProducerId(-1))
        .with_producer_epoch(-1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::test_util::{ctx, encode_all_versions};
    use kafka_protocol::messages::{ApiKey, TransactionalId};

    #[test]
    fn ids_are_fresh_and_transactions_refused() {
        let s = BrokerState::for_tests();
        let a = handle(
            &s,
            &ctx(ApiKey::InitProducerId, 4),
            InitProducerIdRequest::default().with_transactional_id(None),
        );
        let b = handle(
            &s,
            &ctx(ApiKey::InitProducerId, 4),
            InitProducerIdRequest::default().with_transactional_id(None),
        );
        assert_eq!((a.error_code, a.producer_epoch), (0, 0));
        assert!(a.producer_id.0 >= 0 && b.producer_id.0 > a.producer_id.0);
        let tx = InitProducerIdRequest::default()
            .with_transactional_id(Some(TransactionalId(crate::api::sb("tx"))));
        let r = handle(&s, &ctx(ApiKey::InitProducerId, 4), tx);
        assert_eq!(r.error_code, ResponseError::InvalidRequest.code());
        encode_all_versions(ApiKey::InitProducerId, 0, |v| {
            handle(
                &s,
                &ctx(ApiKey::InitProducerId, v),
                InitProducerIdRequest::default().with_transactional_id(None),
            )
        });
    }
}
