//! ApiVersions (key 18), versions 0–3.
//!
//! Answers with exactly the APIs and version ranges this broker implements ([`super::SUPPORTED`]).
//! - v0: error code and the table. v1+: throttle time. v3+: flexible; the request carries the
//!   client software name and version, which must match Kafka's pattern
//!   `[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?` or the answer is INVALID_REQUEST.
//! - No feature tagged fields are ever emitted: librdkafka before 2.2 misreads an ApiVersions v3
//!   response whose tagged fields are present at their default values.
//! - A version above 3 is answered by the dispatcher (KIP-511): UNSUPPORTED_VERSION in the v0
//!   layout with the full table, so the client retries with a version it finds there.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::api_versions_response::ApiVersion;
use kafka_protocol::messages::{ApiVersionsRequest, ApiVersionsResponse};

use super::{RequestContext, SUPPORTED};

pub(crate) const VERSIONS: (i16, i16) = (0, 4);

fn table() -> Vec<ApiVersion> {
    SUPPORTED
        .iter()
        .map(|&(key, min, max)| {
            ApiVersion::default()
                .with_api_key(key as i16)
                .with_min_version(min)
                .with_max_version(max)
        })
        .collect()
}

/// Kafka's check on client software names and versions (KIP-511).
fn valid_software_field(s: &str) -> bool {
    let b = s.as_bytes();
    let (Some(first), Some(last)) = (b.first(), b.last()) else {
        return false;
    };
    first.is_ascii_alphanumeric()
        && last.is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'-' || *c == b'.')
}

pub(crate) fn handle(ctx: &RequestContext, req: ApiVersionsRequest) -> ApiVersionsResponse {
    if ctx.api_version >= 3
        && !(valid_software_field(&req.client_software_name)
            && valid_software_field(&req.client_software_version))
    {
        tracing::warn!(
            client = %ctx.client_host,
            name = %req.client_software_name.as_str(),
            version = %req.client_software_version.as_str(),
            "ApiVersions with invalid client software name or version"
        );
        return error_response(ResponseError::InvalidRequest, ctx.api_version);
    }
    ApiVersionsResponse::default()
        .with_error_code(0)
        .with_api_keys(table())
}

/// The KIP-511 answer to an ApiVersions request of a version this broker does not serve.
pub(crate) fn unsupported_version_response() -> ApiVersionsResponse {
    ApiVersionsResponse::default()
        .with_error_code(ResponseError::UnsupportedVersion.code())
        .with_api_keys(table())
}

pub(crate) fn error_response(e: ResponseError, _v: i16) -> ApiVersionsResponse {
    ApiVersionsResponse::default().with_error_code(e.code())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::test_util::ctx;
    use kafka_protocol::messages::ApiKey;
    use kafka_protocol::protocol::StrBytes;

    #[test]
    fn table_lists_exactly_supported() {
        let r = handle(&ctx(ApiKey::ApiVersions, 0), ApiVersionsRequest::default());
        assert_eq!(r.error_code, 0);
        assert_eq!(r.api_keys.len(), SUPPORTED.len());
        let fetch = r
            .api_keys
            .iter()
            .find(|k| k.api_key == ApiKey::Fetch as i16)
            .unwrap();
        assert_eq!((fetch.min_version, fetch.max_version), (4, 18));
        assert!(r.supported_features.is_empty() && r.finalized_features.is_empty());
        assert_eq!(r.finalized_features_epoch, -1);
    }

    #[test]
    fn v3_validates_software_name() {
        let good = ApiVersionsRequest::default()
            .with_client_software_name(StrBytes::from_static_str("librdkafka"))
            .with_client_software_version(StrBytes::from_static_str("2.0.2"));
        assert_eq!(handle(&ctx(ApiKey::ApiVersions, 3), good).error_code, 0);
        let bad = ApiVersionsRequest::default()
            .with_client_software_name(StrBytes::from_static_str("bad name!"))
            .with_client_software_version(StrBytes::from_static_str("1"));
        assert_eq!(handle(&ctx(ApiKey::ApiVersions, 3), bad).error_code, 42);
        assert!(
            valid_software_field("a") && !valid_software_field("-a") && !valid_software_field("")
        );
    }
}
