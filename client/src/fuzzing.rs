//! Entry points for the cargo-fuzz targets in `fuzz/`. Not a stable API: hidden from the docs
//! and free to change with the code it exercises.
//!
//! [`response`] runs a response frame through what the client does with it: the response
//! header (correlation id, tagged fields), the decode every request's answer goes through
//! (`Connection::send`: the response shape guard, then the decode, no trailing bytes; ApiVersions with the KIP-511
//! fallback to the v0 layout), and then the parsing the client does of what it decoded: the
//! metadata cache, the version table, consumer-protocol bytes of JoinGroup/SyncGroup, and the
//! record sets of a Fetch.

use bytes::{Buf, Bytes};
use kafka_protocol::messages::*;

use crate::cluster::metadata::Metadata;
use crate::config::IsolationLevel;
use crate::connection::versions::{self, ApiVersionTable};
use crate::connection::{decode_exact, decode_guarded, skip_tagged_fields};
use crate::consumer::assignor;
use crate::consumer::fetcher::records_from;
use crate::error::{Error, KafkaCode};
use crate::types::TopicPartition;

/// What the client made of a response frame.
#[derive(Debug)]
pub enum Handled {
    /// The client never sends this API at this version, so it never decodes such a frame.
    NotSent,
    /// Decoded and processed; the count of elements the client took from it (brokers, topics,
    /// partitions, members, records) for the fuzz target's sanity checks.
    Decoded(usize),
}

/// Handles `frame` (everything after the 4-byte size prefix) as the response to a request for
/// `api_key` at `version`. `max_decompressed` bounds each record batch's decompressed size.
pub fn response(
    api_key: i16,
    version: i16,
    mut frame: Bytes,
    max_decompressed: usize,
) -> Result<Handled, Error> {
    let Ok(key) = ApiKey::try_from(api_key) else {
        return Ok(Handled::NotSent);
    };
    if !versions::ours(key).is_some_and(|(lo, hi)| (lo..=hi).contains(&version)) {
        return Ok(Handled::NotSent);
    }
    // The reader task: a frame is at least a correlation id (frame_len checks it).
    if frame.len() < 4 {
        return Err(Error::Protocol(
            "frame too short for a correlation id".into(),
        ));
    }
    let _correlation_id = frame.get_i32();
    if key.response_header_version(version) >= 1 {
        skip_tagged_fields(&mut frame)?;
    }
    let n = match key {
        ApiKey::ApiVersions => api_versions(frame, version)?,
        ApiKey::Metadata => {
            let r: MetadataResponse = checked(frame, version, key)?;
            let m = Metadata::from_response(&r);
            m.brokers.len() + m.topics.len()
        }
        ApiKey::Produce => {
            let r: ProduceResponse = checked(frame, version, key)?;
            r.responses.len()
        }
        ApiKey::Fetch => fetch(frame, version, max_decompressed)?,
        ApiKey::ListOffsets => {
            let r: ListOffsetsResponse = checked(frame, version, key)?;
            r.topics.len()
        }
        ApiKey::OffsetCommit => {
            let r: OffsetCommitResponse = checked(frame, version, key)?;
            r.topics.len()
        }
        ApiKey::OffsetFetch => {
            let r: OffsetFetchResponse = checked(frame, version, key)?;
            r.topics.len()
        }
        ApiKey::FindCoordinator => {
            let r: FindCoordinatorResponse = checked(frame, version, key)?;
            r.coordinators.len()
        }
        ApiKey::JoinGroup => {
            let r: JoinGroupResponse = checked(frame, version, key)?;
            let mut n = 0;
            for m in r.members {
                n += assignor::decode_subscription(m.metadata)?.topics.len();
            }
            n
        }
        ApiKey::Heartbeat => {
            let _: HeartbeatResponse = checked(frame, version, key)?;
            0
        }
        ApiKey::LeaveGroup => {
            let r: LeaveGroupResponse = checked(frame, version, key)?;
            r.members.len()
        }
        ApiKey::SyncGroup => {
            let r: SyncGroupResponse = checked(frame, version, key)?;
            assignor::decode_assignment(r.assignment)?.len()
        }
        ApiKey::CreateTopics => {
            let r: CreateTopicsResponse = checked(frame, version, key)?;
            r.topics.len()
        }
        ApiKey::DeleteTopics => {
            let r: DeleteTopicsResponse = checked(frame, version, key)?;
            r.responses.len()
        }
        ApiKey::InitProducerId => {
            let _: InitProducerIdResponse = checked(frame, version, key)?;
            1
        }
        ApiKey::CreatePartitions => {
            let r: CreatePartitionsResponse = checked(frame, version, key)?;
            r.results.len()
        }
        ApiKey::DeleteRecords => {
            let r: DeleteRecordsResponse = checked(frame, version, key)?;
            r.topics.len()
        }
        ApiKey::DescribeConfigs => {
            let r: DescribeConfigsResponse = checked(frame, version, key)?;
            r.results.len()
        }
        ApiKey::IncrementalAlterConfigs => {
            let r: IncrementalAlterConfigsResponse = checked(frame, version, key)?;
            r.responses.len()
        }
        ApiKey::ListGroups => {
            let r: ListGroupsResponse = checked(frame, version, key)?;
            r.groups.len()
        }
        ApiKey::DescribeGroups => {
            let r: DescribeGroupsResponse = checked(frame, version, key)?;
            let mut n = 0;
            for g in r.groups {
                for m in g.members {
                    // Admin reads the members' consumer-protocol bytes for their assignments.
                    n += assignor::decode_assignment(m.member_assignment).map_or(0, |a| a.len());
                }
            }
            n
        }
        ApiKey::DeleteGroups => {
            let r: DeleteGroupsResponse = checked(frame, version, key)?;
            r.results.len()
        }
        ApiKey::SaslHandshake => {
            let r: SaslHandshakeResponse = checked(frame, version, key)?;
            r.mechanisms.len()
        }
        ApiKey::SaslAuthenticate => {
            let r: SaslAuthenticateResponse = checked(frame, version, key)?;
            r.auth_bytes.len()
        }
        _ => return Ok(Handled::NotSent),
    };
    Ok(Handled::Decoded(n))
}

/// As `Connection::send` decodes a response: the response shape guard, then the decode that
/// must consume the whole body.
fn checked<T: kafka_protocol::protocol::Decodable>(
    body: Bytes,
    version: i16,
    api: ApiKey,
) -> Result<T, Error> {
    crate::guard::check(api, version, &body, false)
        .map_err(|why| Error::Protocol(format!("{api:?} v{version} response refused: {why}")))?;
    decode_exact(body, version, api, "fuzz")
}

/// As `Connection::negotiate_versions` reads an answer: UNSUPPORTED_VERSION in the v0 layout
/// (later fields ignored), otherwise the full response at `version`.
fn api_versions(body: Bytes, version: i16) -> Result<usize, Error> {
    if body.len() < 2 {
        return Err(Error::Protocol("short ApiVersions response".into()));
    }
    let code = i16::from_be_bytes([body[0], body[1]]);
    let resp = if code == KafkaCode::UnsupportedVersion.code() && version > 0 {
        crate::guard::check(ApiKey::ApiVersions, 0, &body, true)
            .map_err(|why| Error::Protocol(format!("ApiVersions v0 refused: {why}")))?;
        let mut b = body;
        decode_guarded::<ApiVersionsResponse>(&mut b, 0).map_err(Error::Protocol)?
    } else {
        checked::<ApiVersionsResponse>(body, version, ApiKey::ApiVersions)?
    };
    let table = ApiVersionTable::from_response(&resp);
    Ok(versions::OUR_VERSIONS
        .iter()
        .filter(|(k, _, _)| table.pick(*k, "fuzz").is_ok())
        .count())
}

/// A Fetch response as the consumer reads it: every partition's records from offset 0.
fn fetch(body: Bytes, version: i16, max_decompressed: usize) -> Result<usize, Error> {
    let r: FetchResponse = checked(body, version, ApiKey::Fetch)?;
    let mut n = 0;
    for t in r.responses {
        for p in t.partitions {
            let Some(records) = p.records else { continue };
            let tp = TopicPartition::new(t.topic.0.to_string(), p.partition_index);
            // read_committed with the response's aborted transactions: the longest path.
            let aborted: Option<Vec<(i64, i64)>> = p.aborted_transactions.map(|list| {
                list.iter()
                    .map(|a| (a.producer_id.0, a.first_offset))
                    .collect()
            });
            let (got, _next) = records_from(
                &tp,
                &records,
                0,
                None,
                max_decompressed,
                IsolationLevel::ReadCommitted,
                aborted.as_deref(),
            )?;
            n += got.len();
        }
    }
    Ok(n)
}

/// Decodes consumer-protocol bytes as the group leader (subscriptions) and a member
/// (assignments) do.
pub fn consumer_protocol(data: Bytes) -> (Result<usize, Error>, Result<usize, Error>) {
    (
        assignor::decode_subscription(data.clone()).map(|s| s.topics.len() + s.owned.len()),
        assignor::decode_assignment(data).map(|p| p.len()),
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    /// Regression (the `client_responses` fuzz target, before the response shape guard): a
    /// ProduceResponse v10 whose topic count is 0x3d000000 in a 9-byte frame made
    /// kafka-protocol ask for tens of GiB (`Vec::with_capacity`) and aborted the process.
    /// Now it is refused before decoding.
    #[test]
    fn produce_response_with_a_huge_topic_count_is_refused() {
        let mut frame = vec![0, 0, 0, 1, 0]; // correlation id, no header tags
        let mut n: u32 = 0x3d00_0000 + 1; // compact array: count + 1, unsigned varint
        while n >= 0x80 {
            frame.push((n as u8) | 0x80);
            n >>= 7;
        }
        frame.push(n as u8);
        let e = response(0, 10, Bytes::from(frame), 1 << 20).unwrap_err();
        assert!(matches!(e, Error::Protocol(_)), "{e:?}");
    }
}
