//! Helpers for handler unit tests.

use bytes::BytesMut;
use kafka_protocol::messages::ApiKey;
use kafka_protocol::protocol::{Decodable, Encodable};

use super::{RequestContext, served_versions};

pub(crate) fn ctx(api_key: ApiKey, api_version: i16) -> RequestContext {
    RequestContext {
        api_key,
        api_version,
        correlation_id: 1,
        client_id: "test-client".into(),
        client_host: "127.0.0.1".into(),
        node_id: 0,
        claims: Default::default(),
        principal: super::ANONYMOUS.into(),
    }
}

/// A context for a request received by node `node_id`.
pub(crate) fn ctx_on(api_key: ApiKey, api_version: i16, node_id: i32) -> RequestContext {
    RequestContext {
        node_id,
        ..ctx(api_key, api_version)
    }
}

/// Builds a response with `f` for every served version of `key`, encodes it, and decodes it
/// back: a field set that a version cannot carry fails here instead of on the wire.
pub(crate) fn encode_all_versions<R: Encodable + Decodable>(
    key: ApiKey,
    from: i16,
    f: impl Fn(i16) -> R,
) {
    let (min, max) = served_versions(key as i16).unwrap();
    for v in min.max(from)..=max {
        let r = f(v);
        let mut buf = BytesMut::new();
        r.encode(&mut buf, v)
            .unwrap_or_else(|e| panic!("{key:?} v{v}: {e}"));
        let mut bytes = buf.freeze();
        R::decode(&mut bytes, v).unwrap_or_else(|e| panic!("{key:?} v{v} decode: {e}"));
        assert!(bytes.is_empty(), "{key:?} v{v}: trailing bytes");
    }
}

/// Encodes `r` at `v` and decodes it back, as [`encode_all_versions`] does for one version.
pub(crate) fn roundtrip<R: Encodable + Decodable>(key: ApiKey, v: i16, r: &R) -> R {
    let mut buf = BytesMut::new();
    r.encode(&mut buf, v)
        .unwrap_or_else(|e| panic!("{key:?} v{v}: {e}"));
    let mut bytes = buf.freeze();
    let back = R::decode(&mut bytes, v).unwrap_or_else(|e| panic!("{key:?} v{v} decode: {e}"));
    assert!(bytes.is_empty(), "{key:?} v{v}: trailing bytes");
    back
}
