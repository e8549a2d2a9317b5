//! The guard against kafka-protocol: every response the client decodes, at every version kt
//! may negotiate, encoded by kafka-protocol with arrays of 0, 1 and 2 elements (nested
//! likewise), must pass the walk and be consumed exactly. Mutated encodings must never make
//! the guard panic, and whatever it accepts must decode without blowing up.

use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::*;
use kafka_protocol::protocol::{Decodable, Encodable};
use proptest::prelude::*;

use super::check;
use super::fill::*;
use crate::connection::versions::OUR_VERSIONS;

/// Encodes `value` at `v`, or says why not.
fn enc<T: Encodable>(value: &T, v: i16) -> Result<Bytes, String> {
    let mut b = BytesMut::new();
    value.encode(&mut b, v).map_err(|e| e.to_string())?;
    Ok(b.freeze())
}

/// The filled response of `api` at `v` with `n` elements per array, encoded.
fn sample(api: ApiKey, v: i16, n: usize) -> Result<Bytes, String> {
    match api {
        ApiKey::ApiVersions => enc(&fill_api_versions_response(v, n), v),
        ApiKey::Metadata => enc(&fill_metadata_response(v, n), v),
        ApiKey::Produce => enc(&fill_produce_response(v, n), v),
        ApiKey::Fetch => enc(&fill_fetch_response(v, n), v),
        ApiKey::ListOffsets => enc(&fill_list_offsets_response(v, n), v),
        ApiKey::InitProducerId => enc(&fill_init_producer_id_response(v, n), v),
        ApiKey::FindCoordinator => enc(&fill_find_coordinator_response(v, n), v),
        ApiKey::JoinGroup => enc(&fill_join_group_response(v, n), v),
        ApiKey::SyncGroup => enc(&fill_sync_group_response(v, n), v),
        ApiKey::Heartbeat => enc(&fill_heartbeat_response(v, n), v),
        ApiKey::LeaveGroup => enc(&fill_leave_group_response(v, n), v),
        ApiKey::OffsetCommit => enc(&fill_offset_commit_response(v, n), v),
        ApiKey::OffsetFetch => enc(&fill_offset_fetch_response(v, n), v),
        ApiKey::ListGroups => enc(&fill_list_groups_response(v, n), v),
        ApiKey::DescribeGroups => enc(&fill_describe_groups_response(v, n), v),
        ApiKey::DeleteGroups => enc(&fill_delete_groups_response(v, n), v),
        ApiKey::CreateTopics => enc(&fill_create_topics_response(v, n), v),
        ApiKey::DeleteTopics => enc(&fill_delete_topics_response(v, n), v),
        ApiKey::CreatePartitions => enc(&fill_create_partitions_response(v, n), v),
        ApiKey::DeleteRecords => enc(&fill_delete_records_response(v, n), v),
        ApiKey::DescribeConfigs => enc(&fill_describe_configs_response(v, n), v),
        ApiKey::IncrementalAlterConfigs => enc(&fill_incremental_alter_configs_response(v, n), v),
        ApiKey::SaslHandshake => enc(&fill_sasl_handshake_response(v, n), v),
        ApiKey::SaslAuthenticate => enc(&fill_sasl_authenticate_response(v, n), v),
        other => Err(format!("no sample for {other:?}")),
    }
}

/// Decodes `body` as the response of `api` at `v` (the decoder the guard protects).
fn decode(api: ApiKey, v: i16, body: Bytes) -> Result<(), String> {
    fn d<T: Decodable>(mut b: Bytes, v: i16) -> Result<(), String> {
        T::decode(&mut b, v).map(|_| ()).map_err(|e| e.to_string())
    }
    match api {
        ApiKey::ApiVersions => d::<ApiVersionsResponse>(body, v),
        ApiKey::Metadata => d::<MetadataResponse>(body, v),
        ApiKey::Produce => d::<ProduceResponse>(body, v),
        ApiKey::Fetch => d::<FetchResponse>(body, v),
        ApiKey::ListOffsets => d::<ListOffsetsResponse>(body, v),
        ApiKey::InitProducerId => d::<InitProducerIdResponse>(body, v),
        ApiKey::FindCoordinator => d::<FindCoordinatorResponse>(body, v),
        ApiKey::JoinGroup => d::<JoinGroupResponse>(body, v),
        ApiKey::SyncGroup => d::<SyncGroupResponse>(body, v),
        ApiKey::Heartbeat => d::<HeartbeatResponse>(body, v),
        ApiKey::LeaveGroup => d::<LeaveGroupResponse>(body, v),
        ApiKey::OffsetCommit => d::<OffsetCommitResponse>(body, v),
        ApiKey::OffsetFetch => d::<OffsetFetchResponse>(body, v),
        ApiKey::ListGroups => d::<ListGroupsResponse>(body, v),
        ApiKey::DescribeGroups => d::<DescribeGroupsResponse>(body, v),
        ApiKey::DeleteGroups => d::<DeleteGroupsResponse>(body, v),
        ApiKey::CreateTopics => d::<CreateTopicsResponse>(body, v),
        ApiKey::DeleteTopics => d::<DeleteTopicsResponse>(body, v),
        ApiKey::CreatePartitions => d::<CreatePartitionsResponse>(body, v),
        ApiKey::DeleteRecords => d::<DeleteRecordsResponse>(body, v),
        ApiKey::DescribeConfigs => d::<DescribeConfigsResponse>(body, v),
        ApiKey::IncrementalAlterConfigs => d::<IncrementalAlterConfigsResponse>(body, v),
        ApiKey::SaslHandshake => d::<SaslHandshakeResponse>(body, v),
        ApiKey::SaslAuthenticate => d::<SaslAuthenticateResponse>(body, v),
        other => Err(format!("no decoder for {other:?}")),
    }
}

/// Every (API, version) kt may negotiate.
fn all_versions() -> Vec<(ApiKey, i16)> {
    OUR_VERSIONS
        .iter()
        .flat_map(|&(k, lo, hi)| (lo..=hi).map(move |v| (k, v)))
        .collect()
}

#[test]
fn every_encoded_response_passes_exactly() {
    let mut checked = 0;
    for (api, v) in all_versions() {
        for n in 0..3 {
            let body = sample(api, v, n).unwrap_or_else(|e| panic!("{api:?} v{v} n={n}: {e}"));
            if let Err(e) = check(api, v, &body, false) {
                panic!("{api:?} v{v} n={n}: guard refused a valid response: {e}");
            }
            checked += 1;
        }
    }
    assert!(checked > 400, "{checked}");
}

#[test]
fn a_missing_byte_or_an_extra_byte_is_caught() {
    for (api, v) in all_versions() {
        let body = sample(api, v, 2).unwrap();
        let short = body.slice(..body.len() - 1);
        assert!(
            check(api, v, &short, false).is_err(),
            "{api:?} v{v} truncated"
        );
        let mut long = body.to_vec();
        long.push(0);
        assert!(
            check(api, v, &long, false).is_err(),
            "{api:?} v{v} trailing"
        );
        assert!(check(api, v, &long, true).is_ok(), "{api:?} v{v} prefix");
    }
}

#[test]
fn hostile_counts_in_tiny_bodies_are_refused() {
    // Metadata v1: throttle-less, brokers array count 2^30 in a 10-byte body.
    let mut body = vec![0x40, 0, 0, 0];
    body.extend_from_slice(&[0; 6]);
    let e = check(ApiKey::Metadata, 1, &body, false).unwrap_err();
    assert!(e.contains("array count"), "{e}");
    // A compact array claiming 2^28 elements.
    let mut body = vec![0, 0, 0, 0]; // throttle
    body.extend_from_slice(&[0x80, 0x80, 0x80, 0x80, 0x01]); // uvarint 2^28 + ... count
    assert!(check(ApiKey::Metadata, 12, &body, false).is_err());
    // Fetch v12 records length 2 GiB.
    let mut body = vec![0, 0, 0, 0, 0, 0, 0, 0, 0, 0]; // throttle, error, session
    body.push(2); // one topic
    body.push(2); // name "x"
    body.push(b'x');
    body.push(2); // one partition
    body.extend_from_slice(&[0; 4 + 2 + 8 + 8 + 8]);
    body.push(0); // aborted: null
    body.extend_from_slice(&[0xff, 0xff, 0xff, 0xff]); // preferred read replica
    body.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0x07]); // records length ~2^31
    assert!(check(ApiKey::Fetch, 12, &body, false).is_err());
    // Tag counts and sizes are bounded too.
    let body = [0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f];
    assert!(check(ApiKey::SaslHandshake, 1, &body, false).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Random damage to valid responses: the guard never panics, and a body it accepts
    /// decodes (or fails to decode) without allocating beyond reason.
    #[test]
    fn damaged_responses_never_get_past_the_guard_badly(
        which in 0usize..10_000,
        n in 0usize..3,
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6),
        cut in proptest::option::of(any::<usize>()),
    ) {
        let all = all_versions();
        let (api, v) = all[which % all.len()];
        let mut body = sample(api, v, n).unwrap().to_vec();
        for (pos, byte) in edits {
            if !body.is_empty() {
                let at = pos % body.len();
                body[at] = byte;
            }
        }
        if let Some(c) = cut && !body.is_empty() {
            body.truncate(c % body.len());
        }
        if check(api, v, &body, false).is_ok() {
            // Bounded by the guard: whatever happens here is an error, not an abort.
            let _ = decode(api, v, Bytes::from(body));
        }
    }

    /// Valid responses decode to what the guard promised: decoding succeeds.
    #[test]
    fn accepted_valid_responses_decode(which in 0usize..10_000, n in 0usize..3) {
        let all = all_versions();
        let (api, v) = all[which % all.len()];
        let body = sample(api, v, n).unwrap();
        prop_assert!(check(api, v, &body, false).is_ok());
        prop_assert!(decode(api, v, body).is_ok(), "{:?} v{}", api, v);
    }
}
