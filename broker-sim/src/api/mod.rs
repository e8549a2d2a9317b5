//! Request dispatch: one `match` on the API key, one module per Kafka API.
//!
//! Every request goes through the same steps: header (already split off by the caller),
//! version check, shape guard, `kafka_protocol` decode (which must consume the whole body),
//! the API's handler over [`BrokerState`], response encoding.
//!
//! The served versions are each module's `VERSIONS` (listed in [`SUPPORTED`]); the crate
//! docs' "APIs served" table lists them with what each does.

pub(crate) mod alter_configs;
pub(crate) mod api_versions;
pub(crate) mod create_partitions;
pub(crate) mod create_topics;
pub(crate) mod delete_groups;
pub(crate) mod delete_records;
pub(crate) mod delete_topics;
pub(crate) mod describe_cluster;
pub(crate) mod describe_configs;
pub(crate) mod describe_groups;
pub(crate) mod fetch;
pub(crate) mod find_coordinator;
pub(crate) mod heartbeat;
pub(crate) mod incremental_alter_configs;
pub(crate) mod init_producer_id;
pub(crate) mod join_group;
pub(crate) mod leave_group;
pub(crate) mod list_groups;
pub(crate) mod list_offsets;
pub(crate) mod metadata;
pub(crate) mod offset_commit;
pub(crate) mod offset_delete;
pub(crate) mod offset_fetch;
pub(crate) mod produce;
pub(crate) mod route;
mod route_admin;
pub(crate) mod sasl_authenticate;
pub(crate) mod sasl_handshake;
pub(crate) mod sync_group;

use std::sync::Arc;

use bytes::Bytes;
use kafka_protocol::ResponseError;
use kafka_protocol::messages::*;
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion, StrBytes};

use crate::fault::Claims;
use crate::protocol::{self, EncodeError, RequestHeader, shape};
use crate::sasl::{Session, TokenResult};
use crate::state::BrokerState;
use route::Routed;

macro_rules! supported {
    ($($key:ident => $module:ident),* $(,)?) => {
        &[$((ApiKey::$key, $module::VERSIONS.0, $module::VERSIONS.1)),*]
    };
}

/// Every API served, with the version range advertised in ApiVersions.
pub(crate) const SUPPORTED: &[(ApiKey, i16, i16)] = supported![
    Produce => produce,
    Fetch => fetch,
    ListOffsets => list_offsets,
    Metadata => metadata,
    OffsetCommit => offset_commit,
    OffsetFetch => offset_fetch,
    FindCoordinator => find_coordinator,
    JoinGroup => join_group,
    Heartbeat => heartbeat,
    LeaveGroup => leave_group,
    SyncGroup => sync_group,
    DescribeGroups => describe_groups,
    ListGroups => list_groups,
    ApiVersions => api_versions,
    CreateTopics => create_topics,
    DeleteTopics => delete_topics,
    DeleteRecords => delete_records,
    InitProducerId => init_producer_id,
    DescribeConfigs => describe_configs,
    AlterConfigs => alter_configs,
    CreatePartitions => create_partitions,
    DeleteGroups => delete_groups,
    IncrementalAlterConfigs => incremental_alter_configs,
    OffsetDelete => offset_delete,
    DescribeCluster => describe_cluster,
    SaslHandshake => sasl_handshake,
    SaslAuthenticate => sasl_authenticate,
];

/// The served (min, max) versions of an api key, if it is served at all.
pub(crate) fn served_versions(api_key: i16) -> Option<(i16, i16)> {
    SUPPORTED
        .iter()
        .find(|(k, _, _)| *k as i16 == api_key)
        .map(|&(_, min, max)| (min, max))
}

/// Who sent a request, to which node, at which version; handlers read the version from here.
#[derive(Debug, Clone)]
pub(crate) struct RequestContext {
    pub(crate) api_key: ApiKey,
    pub(crate) api_version: i16,
    pub(crate) correlation_id: i32,
    pub(crate) client_id: String,
    pub(crate) client_host: String,
    /// The node whose listener received the request (leadership and coordination checks).
    pub(crate) node_id: i32,
    /// Injected-error rules this request has used (each counts a request once).
    pub(crate) claims: Arc<Claims>,
    /// Who sent it, as ACLs name them: `User:ANONYMOUS` until SASL authenticates someone.
    pub(crate) principal: Arc<str>,
}

/// The principal of an unauthenticated connection (Kafka's `User:ANONYMOUS`).
pub(crate) const ANONYMOUS: &str = "User:ANONYMOUS";

/// What the connection does after a request.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// Write this frame (size prefix included).
    Respond(Bytes),
    /// Write nothing: Produce with acks=0.
    NoResponse,
    /// Write this frame, then close the connection (failed SASL authentication, an
    /// unsupported SASL mechanism).
    RespondAndClose(Bytes),
    /// Close without answering (a request before SASL authentication, a failed acks=0
    /// Produce, as Kafka does).
    Close,
}

/// Converts a `String` into the crate's string type.
pub(crate) fn sb(s: impl Into<String>) -> StrBytes {
    StrBytes::from_string(s.into())
}

/// An optional error as a Kafka error code (0 for none).
pub(crate) fn code(e: Option<ResponseError>) -> i16 {
    e.map_or(0, |e| e.code())
}

fn encode<R: Encodable + HeaderVersion>(
    ctx: &RequestContext,
    response: &R,
) -> Result<Outcome, EncodeError> {
    protocol::encode_response(ctx.correlation_id, ctx.api_version, response).map(Outcome::Respond)
}

/// Shape guard, then decode; the decoder must consume the whole body.
fn decode<R: Decodable>(ctx: &RequestContext, body: Bytes) -> Result<R, ResponseError> {
    let body = metadata_padding(ctx, body);
    check_shape(ctx, &body)?;
    decode_at(ctx, body, ctx.api_version)
}

/// librdkafka 2.x sends its "all topics" Metadata request (v9+) with the null topic array
/// written into a 4-byte placeholder: the compact length 0 (null) and three zero bytes, then
/// the rest of the body. Kafka's parser reads the fields it knows and ignores what trails, so
/// the request works there: it reads the padding as allow_auto_topic_creation = false,
/// include_topic_authorized_operations = false and no tagged fields. This broker reads it the
/// same way, for exactly that shape (a body of 7 bytes starting with four zeros); any other
/// trailing bytes are still refused.
fn metadata_padding(ctx: &RequestContext, body: Bytes) -> Bytes {
    if ctx.api_key == ApiKey::Metadata
        && ctx.api_version >= 9
        && body.len() == 7
        && body[..4] == [0, 0, 0, 0]
    {
        tracing::debug!(client = %ctx.client_host, client_id = %ctx.client_id,
            "Metadata request with librdkafka's padded null topic array: 3 trailing bytes ignored");
        return body.slice(..4);
    }
    body
}

/// Logs why a body was refused and returns the error its response carries.
fn reject(ctx: &RequestContext, why: String) -> ResponseError {
    tracing::warn!(
        client = %ctx.client_host, client_id = %ctx.client_id, api = ?ctx.api_key,
        version = ctx.api_version, "malformed request body: {why}"
    );
    ResponseError::InvalidRequest
}

/// The shape guard for the request's own version.
fn check_shape(ctx: &RequestContext, body: &[u8]) -> Result<(), ResponseError> {
    shape::check(ctx.api_key as i16, ctx.api_version, body).map_err(|e| reject(ctx, e.to_string()))
}

/// Decodes a body that passed the shape guard, at `version`; it must be consumed entirely.
fn decode_at<R: Decodable>(
    ctx: &RequestContext,
    body: Bytes,
    version: i16,
) -> Result<R, ResponseError> {
    let mut buf = body;
    let request = R::decode(&mut buf, version).map_err(|e| reject(ctx, e.to_string()))?;
    if !buf.is_empty() {
        return Err(reject(
            ctx,
            format!("{} bytes left after decoding", buf.len()),
        ));
    }
    Ok(request)
}

/// Decodes with [`decode`], checks routing and injected faults ([`route::refusal`]), runs the
/// handler, encodes; a malformed body gets the API's error response (top-level
/// INVALID_REQUEST where the response has a top-level error code).
macro_rules! serve {
    ($state:expr, $ctx:expr, $body:expr, $req:ty, $module:ident, |$r:ident| $call:expr) => {
        match decode::<$req>(&$ctx, $body) {
            Ok($r) => match route::refusal($state, &$ctx, &$r) {
                Some(e) => encode(&$ctx, &$r.refuse(e, $ctx.api_version)),
                None => encode(&$ctx, &$call),
            },
            Err(e) => encode(&$ctx, &$module::error_response(e, $ctx.api_version)),
        }
    };
}

fn is_served(api_key: i16, version: i16) -> bool {
    served_versions(api_key).is_some_and(|(min, max)| (min..=max).contains(&version))
}

/// The answer to a request for a version this broker does not serve: for ApiVersions the
/// KIP-511 response (v0 layout, error 35, the full table) so the client can step down; for
/// anything else a header and the bare error code 35.
fn unsupported(api_key: i16, correlation_id: i32) -> Result<Outcome, EncodeError> {
    if api_key == ApiKey::ApiVersions as i16 {
        let response = api_versions::unsupported_version_response();
        return protocol::encode_response(correlation_id, 0, &response).map(Outcome::Respond);
    }
    let code = ResponseError::UnsupportedVersion.code();
    Ok(Outcome::Respond(protocol::encode_bare_error(
        correlation_id,
        code,
    )))
}

/// A raw SASL token (the frames after a v0 SaslHandshake): the reply is a raw frame too; a
/// failed login closes the connection without one, as Kafka does for v0.
pub(crate) fn raw_sasl_token(session: &mut Session, frame: &[u8]) -> Outcome {
    match session.token(frame) {
        TokenResult::Reply(reply) => {
            let mut out = Vec::with_capacity(4 + reply.len());
            out.extend_from_slice(&(reply.len() as i32).to_be_bytes());
            out.extend_from_slice(&reply);
            Outcome::Respond(Bytes::from(out))
        }
        TokenResult::Failed(_) | TokenResult::IllegalState => Outcome::Close,
    }
}

/// The answer to a request whose header could not be decoded past the correlation id. For a
/// version this broker does not serve the header layout itself is a guess, so the answer is
/// UNSUPPORTED_VERSION; otherwise INVALID_REQUEST.
pub(crate) fn header_error(
    api_key: i16,
    api_version: i16,
    correlation_id: i32,
) -> Result<Outcome, EncodeError> {
    if !is_served(api_key, api_version) {
        return unsupported(api_key, correlation_id);
    }
    let code = ResponseError::InvalidRequest.code();
    Ok(Outcome::Respond(protocol::encode_bare_error(
        correlation_id,
        code,
    )))
}

/// Handles one request received by node `node_id` whose header has been decoded; `body` is the
/// rest of the frame.
pub(crate) async fn dispatch(
    state: &BrokerState,
    node_id: i32,
    session: &mut Session,
    header: &RequestHeader,
    client_host: &str,
    body: Bytes,
) -> Result<Outcome, EncodeError> {
    let Ok(api_key) = ApiKey::try_from(header.api_key) else {
        tracing::warn!(client = %client_host, api_key = header.api_key, "request for an unknown api key");
        let code = ResponseError::UnsupportedVersion.code();
        return Ok(Outcome::Respond(protocol::encode_bare_error(
            header.correlation_id,
            code,
        )));
    };
    let ctx = RequestContext {
        api_key,
        api_version: header.api_version,
        correlation_id: header.correlation_id,
        client_id: header.client_id.clone(),
        client_host: client_host.to_owned(),
        node_id,
        claims: Arc::default(),
        principal: session.principal(),
    };
    tracing::debug!(
        client = %client_host, client_id = %ctx.client_id, api = ?api_key,
        version = header.api_version, correlation_id = header.correlation_id, "request"
    );
    if !is_served(header.api_key, header.api_version) {
        tracing::warn!(
            client = %client_host, client_id = %ctx.client_id, api = ?api_key,
            version = header.api_version, "unsupported api version"
        );
        return unsupported(header.api_key, header.correlation_id);
    }
    let sasl_api = matches!(
        api_key,
        ApiKey::ApiVersions | ApiKey::SaslHandshake | ApiKey::SaslAuthenticate
    );
    if !sasl_api && !session.may_serve() {
        tracing::warn!(
            client = %client_host, client_id = %ctx.client_id, api = ?api_key,
            "request before SASL authentication; closing the connection"
        );
        return Ok(Outcome::Close);
    }
    match api_key {
        ApiKey::SaslHandshake => match decode::<SaslHandshakeRequest>(&ctx, body) {
            Ok(r) => match route::refusal(state, &ctx, &r) {
                Some(e) => encode(&ctx, &r.refuse(e, ctx.api_version)),
                None => {
                    let (response, close) = sasl_handshake::handle(session, &ctx, r);
                    match encode(&ctx, &response)? {
                        Outcome::Respond(bytes) if close => Ok(Outcome::RespondAndClose(bytes)),
                        other => Ok(other),
                    }
                }
            },
            Err(e) => encode(&ctx, &sasl_handshake::error_response(e, ctx.api_version)),
        },
        ApiKey::SaslAuthenticate => match decode::<SaslAuthenticateRequest>(&ctx, body) {
            Ok(r) => {
                let (response, close) = sasl_authenticate::handle(session, &ctx, r);
                match encode(&ctx, &response)? {
                    Outcome::Respond(bytes) if close => Ok(Outcome::RespondAndClose(bytes)),
                    other => Ok(other),
                }
            }
            Err(e) => encode(&ctx, &sasl_authenticate::error_response(e, ctx.api_version)),
        },
        ApiKey::Produce => match produce::decode(&ctx, body) {
            Ok(r) => match produce::handle(state, &ctx, r).await {
                produce::Answer::Response(response) => produce::encode(&ctx, &response),
                produce::Answer::Nothing => Ok(Outcome::NoResponse),
                produce::Answer::Close => Ok(Outcome::Close),
            },
            Err(e) => produce::encode(&ctx, &produce::error_response(e, ctx.api_version)),
        },
        ApiKey::Fetch => serve!(state, ctx, body, FetchRequest, fetch, |r| fetch::handle(
            state, &ctx, r
        )
        .await),
        ApiKey::ListOffsets => {
            serve!(state, ctx, body, ListOffsetsRequest, list_offsets, |r| {
                list_offsets::handle(state, &ctx, r)
            })
        }
        ApiKey::Metadata => serve!(state, ctx, body, MetadataRequest, metadata, |r| {
            metadata::handle(state, &ctx, r)
        }),
        ApiKey::OffsetCommit => {
            serve!(state, ctx, body, OffsetCommitRequest, offset_commit, |r| {
                offset_commit::handle(state, &ctx, r)
            })
        }
        ApiKey::OffsetFetch => {
            serve!(state, ctx, body, OffsetFetchRequest, offset_fetch, |r| {
                let mut r = r;
                let foreign = route::offset_fetch_foreign_groups(state, &ctx, &mut r);
                let mut response = offset_fetch::handle(state, &ctx, r);
                response.groups.extend(foreign);
                response
            })
        }
        ApiKey::FindCoordinator => {
            serve!(
                state,
                ctx,
                body,
                FindCoordinatorRequest,
                find_coordinator,
                |r| { find_coordinator::handle(state, &ctx, r) }
            )
        }
        ApiKey::JoinGroup => {
            serve!(state, ctx, body, JoinGroupRequest, join_group, |r| {
                join_group::handle(state, &ctx, r).await
            })
        }
        ApiKey::Heartbeat => serve!(state, ctx, body, HeartbeatRequest, heartbeat, |r| {
            heartbeat::handle(state, &ctx, r)
        }),
        ApiKey::LeaveGroup => {
            serve!(state, ctx, body, LeaveGroupRequest, leave_group, |r| {
                leave_group::handle(state, &ctx, r)
            })
        }
        ApiKey::SyncGroup => {
            serve!(state, ctx, body, SyncGroupRequest, sync_group, |r| {
                sync_group::handle(state, &ctx, r).await
            })
        }
        ApiKey::ApiVersions => serve!(state, ctx, body, ApiVersionsRequest, api_versions, |r| {
            api_versions::handle(&ctx, r)
        }),
        ApiKey::CreateTopics => {
            serve!(state, ctx, body, CreateTopicsRequest, create_topics, |r| {
                create_topics::handle(state, &ctx, r)
            })
        }
        ApiKey::DeleteTopics => {
            serve!(state, ctx, body, DeleteTopicsRequest, delete_topics, |r| {
                delete_topics::handle(state, &ctx, r)
            })
        }
        ApiKey::DeleteRecords => serve!(
            state,
            ctx,
            body,
            DeleteRecordsRequest,
            delete_records,
            |r| { delete_records::handle(state, &ctx, r) }
        ),
        ApiKey::InitProducerId => serve!(
            state,
            ctx,
            body,
            InitProducerIdRequest,
            init_producer_id,
            |r| { init_producer_id::handle(state, &ctx, r) }
        ),
        ApiKey::DescribeConfigs => {
            serve!(
                state,
                ctx,
                body,
                DescribeConfigsRequest,
                describe_configs,
                |r| { describe_configs::handle(state, &ctx, r) }
            )
        }
        ApiKey::AlterConfigs => serve!(state, ctx, body, AlterConfigsRequest, alter_configs, |r| {
            alter_configs::handle(state, &ctx, r)
        }),
        ApiKey::CreatePartitions => {
            serve!(
                state,
                ctx,
                body,
                CreatePartitionsRequest,
                create_partitions,
                |r| { create_partitions::handle(state, &ctx, r) }
            )
        }
        ApiKey::DeleteGroups => serve!(state, ctx, body, DeleteGroupsRequest, delete_groups, |r| {
            delete_groups::handle(state, &ctx, r)
        }),
        ApiKey::IncrementalAlterConfigs => serve!(
            state,
            ctx,
            body,
            IncrementalAlterConfigsRequest,
            incremental_alter_configs,
            |r| incremental_alter_configs::handle(state, &ctx, r)
        ),
        ApiKey::OffsetDelete => serve!(state, ctx, body, OffsetDeleteRequest, offset_delete, |r| {
            offset_delete::handle(state, &ctx, r)
        }),
        ApiKey::DescribeCluster => {
            serve!(
                state,
                ctx,
                body,
                DescribeClusterRequest,
                describe_cluster,
                |r| { describe_cluster::handle(state, &ctx, r) }
            )
        }
        ApiKey::DescribeGroups => serve!(
            state,
            ctx,
            body,
            DescribeGroupsRequest,
            describe_groups,
            |r| { describe_groups::handle(state, &ctx, r) }
        ),
        ApiKey::ListGroups => serve!(state, ctx, body, ListGroupsRequest, list_groups, |r| {
            list_groups::handle(state, &ctx, r)
        }),
        // `served` was checked above against SUPPORTED, which lists exactly the arms above.
        _ => Ok(Outcome::Respond(protocol::encode_bare_error(
            header.correlation_id,
            ResponseError::UnsupportedVersion.code(),
        ))),
    }
}

#[cfg(test)]
mod acl_tests;
#[cfg(test)]
mod group_tests;
#[cfg(test)]
mod route_tests;
#[cfg(test)]
pub(crate) mod test_util;
