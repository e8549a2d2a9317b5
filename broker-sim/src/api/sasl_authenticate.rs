//! SaslAuthenticate (key 36), versions 0–2.
//!
//! Carries one SASL token each way after a v1 SaslHandshake (see `crate::sasl`). A failed
//! login gets SASL_AUTHENTICATION_FAILED with Kafka's message and the connection is closed
//! after the answer; a token when none is expected gets ILLEGAL_SASL_STATE, and a close unless
//! the connection is already authenticated (or SASL is off), where Kafka's request handler
//! answers it and keeps the connection.
//! - v1: session lifetime (0: sessions never expire here). v2: flexible.

use bytes::Bytes;
use kafka_protocol::ResponseError;
use kafka_protocol::messages::{SaslAuthenticateRequest, SaslAuthenticateResponse};

use super::{RequestContext, sb};
use crate::sasl::{Session, TokenResult};

pub(crate) const VERSIONS: (i16, i16) = (0, 2);

/// The response, and whether the connection must be closed after it.
pub(crate) fn handle(
    session: &mut Session,
    _ctx: &RequestContext,
    req: SaslAuthenticateRequest,
) -> (SaslAuthenticateResponse, bool) {
    match session.token(&req.auth_bytes) {
        TokenResult::Reply(bytes) => (
            SaslAuthenticateResponse::default().with_auth_bytes(Bytes::from(bytes)),
            false,
        ),
        TokenResult::Failed(message) => (
            error_response(ResponseError::SaslAuthenticationFailed, 0)
                .with_error_message(Some(sb(message))),
            true,
        ),
        TokenResult::IllegalState if session.may_serve() => (
            error_response(ResponseError::IllegalSaslState, 0).with_error_message(Some(sb(
                "SaslAuthenticate after authentication (or without SASL) is not expected",
            ))),
            false,
        ),
        TokenResult::IllegalState => (
            error_response(ResponseError::IllegalSaslState, 0).with_error_message(Some(sb(
                "SaslAuthenticate without a SaslHandshake v1 first",
            ))),
            true,
        ),
    }
}

pub(crate) fn error_response(e: ResponseError, _v: i16) -> SaslAuthenticateResponse {
    SaslAuthenticateResponse::default().with_error_code(e.code())
}
