//! SaslHandshake (key 17), versions 0–1.
//!
//! Starts SASL authentication on a broker with users configured (see `crate::sasl`): the
//! answer lists the enabled mechanisms (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512), with
//! UNSUPPORTED_SASL_MECHANISM for any other, after which the connection is closed (Kafka's
//! `SaslServerAuthenticator` sends that answer and fails the channel). A handshake on a broker
//! without users, or a second one on a connection, gets ILLEGAL_SASL_STATE (answered by
//! Kafka's request handler, which keeps the connection).
//! - v0: the SASL tokens that follow are raw size-prefixed frames (no Kafka header).
//! - v1: the tokens travel in SaslAuthenticate requests.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::{SaslHandshakeRequest, SaslHandshakeResponse};

use super::{RequestContext, sb};
use crate::sasl::{HandshakeError, MECHANISMS, Session};

pub(crate) const VERSIONS: (i16, i16) = (0, 1);

/// The response, and whether the connection must be closed after it.
pub(crate) fn handle(
    session: &mut Session,
    ctx: &RequestContext,
    req: SaslHandshakeRequest,
) -> (SaslHandshakeResponse, bool) {
    let mechanisms = if session.enabled() {
        MECHANISMS.iter().map(|m| sb(*m)).collect()
    } else {
        Vec::new()
    };
    let error = match session.handshake(req.mechanism.as_str(), ctx.api_version) {
        Ok(()) => None,
        Err(HandshakeError::Unsupported) => Some(ResponseError::UnsupportedSaslMechanism),
        Err(HandshakeError::IllegalState) => {
            tracing::warn!(client = %ctx.client_host, client_id = %ctx.client_id, "unexpected SaslHandshake (SASL not enabled, or already done)");
            Some(ResponseError::IllegalSaslState)
        }
    };
    let close = error == Some(ResponseError::UnsupportedSaslMechanism);
    let response = SaslHandshakeResponse::default()
        .with_error_code(super::code(error))
        .with_mechanisms(mechanisms);
    (response, close)
}

pub(crate) fn error_response(e: ResponseError, _v: i16) -> SaslHandshakeResponse {
    SaslHandshakeResponse::default().with_error_code(e.code())
}
