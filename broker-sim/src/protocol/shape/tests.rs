//! Cross-checks the shape tables against `kafka_protocol`: random valid requests built with the
//! crate's builders, for every API and every version this broker serves, must be walked to
//! exactly their last byte, every strict prefix must be rejected, and hostile counts must be
//! refused before anything is allocated.

use std::fmt::Debug;

use bytes::BytesMut;
use kafka_protocol::messages::*;
use kafka_protocol::protocol::{Decodable, Encodable, StrBytes};
use proptest::collection::vec;
use proptest::prelude::*;

use super::admin_generators::*;
use super::generators::*;
use super::group_generators::*;
use super::{ShapeError, check};

/// Encodes `req` at `version` and checks walker and decoder agree with it.
fn assert_walks<R>(key: ApiKey, version: i16, req: &R) -> Result<(), TestCaseError>
where
    R: Encodable + Decodable + PartialEq + Debug,
{
    let mut buf = BytesMut::new();
    req.encode(&mut buf, version)
        .map_err(|e| TestCaseError::fail(format!("generator built an unencodable request: {e}")))?;
    let bytes = buf.freeze();
    prop_assert_eq!(
        check(key as i16, version, &bytes),
        Ok(()),
        "v{} {:?}",
        version,
        req
    );
    for cut in 0..bytes.len() {
        prop_assert!(
            check(key as i16, version, &bytes[..cut]).is_err(),
            "prefix {} accepted",
            cut
        );
    }
    let mut extended = bytes.to_vec();
    extended.push(0);
    prop_assert_eq!(
        check(key as i16, version, &extended),
        Err(ShapeError::Trailing(1))
    );
    let decoded = R::decode(&mut bytes.clone(), version)
        .map_err(|e| TestCaseError::fail(format!("crate cannot decode: {e}")))?;
    prop_assert_eq!(&decoded, req);
    Ok(())
}

macro_rules! shape_proptest {
    ($name:ident, $key:expr, $gen:ident) => {
        shape_proptest!($name, $key, $gen, 0);
    };
    ($name:ident, $key:expr, $gen:ident, $from:expr) => {
        proptest! {
            #[test]
            fn $name((v, req) in versions($key, $from).prop_flat_map(|v| (Just(v), $gen(v)))) {
                assert_walks($key, v, &req)?;
            }
        }
    };
}

shape_proptest!(api_versions_shapes, ApiKey::ApiVersions, api_versions);
shape_proptest!(metadata_shapes, ApiKey::Metadata, metadata);
shape_proptest!(create_topics_shapes, ApiKey::CreateTopics, create_topics);
shape_proptest!(delete_topics_shapes, ApiKey::DeleteTopics, delete_topics);
// v0-2 are covered by `produce_legacy_shapes`: the crate cannot encode them.
shape_proptest!(produce_shapes, ApiKey::Produce, produce, 3);

proptest! {
    /// Produce v0-2 bodies are v3 bodies without the transactional id.
    #[test]
    fn produce_legacy_shapes(v in 0i16..=2, req in produce(3)) {
        let req = req.with_transactional_id(None);
        let mut buf = BytesMut::new();
        req.encode(&mut buf, 3).unwrap();
        let body = &buf[2..];
        prop_assert_eq!(check(ApiKey::Produce as i16, v, body), Ok(()));
        for cut in 0..body.len() {
            prop_assert!(check(ApiKey::Produce as i16, v, &body[..cut]).is_err());
        }
    }
}
shape_proptest!(fetch_shapes, ApiKey::Fetch, fetch);
shape_proptest!(list_offsets_shapes, ApiKey::ListOffsets, list_offsets);
shape_proptest!(
    find_coordinator_shapes,
    ApiKey::FindCoordinator,
    find_coordinator
);
shape_proptest!(join_group_shapes, ApiKey::JoinGroup, join_group);
shape_proptest!(sync_group_shapes, ApiKey::SyncGroup, sync_group);
shape_proptest!(heartbeat_shapes, ApiKey::Heartbeat, heartbeat);
shape_proptest!(leave_group_shapes, ApiKey::LeaveGroup, leave_group);
shape_proptest!(offset_commit_shapes, ApiKey::OffsetCommit, offset_commit);
shape_proptest!(offset_fetch_shapes, ApiKey::OffsetFetch, offset_fetch);
shape_proptest!(
    describe_configs_shapes,
    ApiKey::DescribeConfigs,
    describe_configs
);
shape_proptest!(alter_configs_shapes, ApiKey::AlterConfigs, alter_configs);
shape_proptest!(
    incremental_alter_configs_shapes,
    ApiKey::IncrementalAlterConfigs,
    incremental_alter_configs
);
shape_proptest!(
    create_partitions_shapes,
    ApiKey::CreatePartitions,
    create_partitions
);
shape_proptest!(
    describe_groups_shapes,
    ApiKey::DescribeGroups,
    describe_groups
);
shape_proptest!(list_groups_shapes, ApiKey::ListGroups, list_groups);
shape_proptest!(delete_groups_shapes, ApiKey::DeleteGroups, delete_groups);
shape_proptest!(offset_delete_shapes, ApiKey::OffsetDelete, offset_delete);
shape_proptest!(
    describe_cluster_shapes,
    ApiKey::DescribeCluster,
    describe_cluster
);
shape_proptest!(delete_records_shapes, ApiKey::DeleteRecords, delete_records);
shape_proptest!(
    init_producer_id_shapes,
    ApiKey::InitProducerId,
    init_producer_id
);
shape_proptest!(sasl_handshake_shapes, ApiKey::SaslHandshake, sasl_handshake);
shape_proptest!(
    sasl_authenticate_shapes,
    ApiKey::SaslAuthenticate,
    sasl_authenticate
);

proptest! {
    /// Arbitrary bytes never panic the walker, for any api key and version.
    #[test]
    fn random_bytes_never_panic(key in 0i16..80, version in -1i16..20,
                                body in vec(any::<u8>(), 0..64)) {
        let _ = check(key, version, &body);
    }
}

#[test]
fn every_served_api_has_a_table() {
    for &(key, min, max) in crate::api::SUPPORTED {
        assert!(
            super::shape_for(key as i16).is_some(),
            "{key:?} {min}-{max}"
        );
    }
}

/// The brief's example: an 8-byte Metadata v0 body whose topic count says 54 million.
#[test]
fn hostile_metadata_count_rejected() {
    let count: i32 = 54_000_000;
    let mut body = count.to_be_bytes().to_vec();
    body.extend_from_slice(&[0, 1, b'a', 0]);
    assert_eq!(body.len(), 8);
    let err = check(ApiKey::Metadata as i16, 0, &body).unwrap_err();
    assert!(
        matches!(err, ShapeError::Truncated { pos: 0, .. }),
        "{err:?}"
    );
    // Compact form: a uvarint of 54 million + 1 in a flexible version.
    let mut body = vec![0x81, 0xbe, 0xdf, 0x19];
    body.extend_from_slice(&[0, 0, 0, 0]);
    assert!(check(ApiKey::Metadata as i16, 12, &body).is_err());
}

#[test]
fn tagged_field_with_wrong_declared_size_is_rejected() {
    // Fetch v12 body with a cluster_id tag (tag 0) whose declared size is 1 larger than its value.
    let req = FetchRequest::default().with_cluster_id(Some(StrBytes::from_static_str("c")));
    let mut buf = BytesMut::new();
    req.encode(&mut buf, 12).unwrap();
    let bytes = buf.to_vec();
    check(ApiKey::Fetch as i16, 12, &bytes).unwrap();
    // Layout tail: ... rack_id(1) tagcount(1) tag(1) size(1) value(2)
    let size_at = bytes.len() - 3;
    assert_eq!(bytes[size_at], 2);
    let mut bad = bytes.clone();
    bad[size_at] = 1;
    assert!(check(ApiKey::Fetch as i16, 12, &bad).is_err());
}

#[test]
fn many_elements_are_capped() {
    // ListOffsets v1: replica_id, then 2 million topics of 6 bytes each would be 12 MB; the
    // element budget stops it early. Build 1M+1 minimal topics (empty name, empty partitions).
    let n = super::MAX_ELEMENTS + 1;
    let mut body = Vec::with_capacity(8 + n * 6);
    body.extend_from_slice(&(-1i32).to_be_bytes());
    body.extend_from_slice(&(n as i32).to_be_bytes());
    for _ in 0..n {
        body.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    }
    assert_eq!(
        check(ApiKey::ListOffsets as i16, 1, &body),
        Err(ShapeError::TooManyElements)
    );
}
