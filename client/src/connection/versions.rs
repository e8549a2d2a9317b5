//! Which API versions kt speaks, and picking one per API for a broker (ApiVersions, KIP-511).
//!
//! For every API we use `min(our max, broker max)`, provided that is >= both minimums.
//! Our maximums stop where a version would change what we must send or read in a way kt does
//! not implement yet (topic ids instead of names in Produce v13, KIP-848 member epochs,
//! follower-only Fetch fields of v17).

use std::collections::HashMap;

use kafka_protocol::messages::{ApiKey, ApiVersionsResponse};

use crate::error::Error;

/// `(api, our min, our max)` for every API kt sends.
pub(crate) const OUR_VERSIONS: &[(ApiKey, i16, i16)] = &[
    (ApiKey::Produce, 3, 11),
    (ApiKey::Fetch, 4, 16),
    (ApiKey::ListOffsets, 1, 8),
    (ApiKey::Metadata, 1, 12),
    (ApiKey::OffsetCommit, 2, 9),
    (ApiKey::OffsetFetch, 1, 9),
    (ApiKey::FindCoordinator, 0, 5),
    (ApiKey::JoinGroup, 0, 7),
    (ApiKey::Heartbeat, 0, 4),
    (ApiKey::LeaveGroup, 0, 5),
    (ApiKey::SyncGroup, 0, 5),
    (ApiKey::ApiVersions, 0, 3),
    (ApiKey::CreateTopics, 2, 7),
    (ApiKey::DeleteTopics, 1, 6),
    (ApiKey::InitProducerId, 0, 4),
    (ApiKey::CreatePartitions, 0, 3),
    (ApiKey::DeleteRecords, 0, 2),
    (ApiKey::DescribeConfigs, 1, 4),
    (ApiKey::IncrementalAlterConfigs, 0, 1),
    (ApiKey::ListGroups, 0, 5),
    (ApiKey::DescribeGroups, 0, 5),
    (ApiKey::DeleteGroups, 0, 2),
    (ApiKey::SaslHandshake, 0, 1),
    (ApiKey::SaslAuthenticate, 0, 2),
];

/// The ApiVersions version we try first (v3 carries client_software_name/version).
pub(crate) const API_VERSIONS_FIRST: i16 = 3;

/// Our range for `key`, if we speak it at all.
pub(crate) fn ours(key: ApiKey) -> Option<(i16, i16)> {
    OUR_VERSIONS
        .iter()
        .find(|(k, _, _)| *k == key)
        .map(|&(_, lo, hi)| (lo, hi))
}

/// The broker's advertised ranges, by API key.
#[derive(Debug, Clone, Default)]
pub(crate) struct ApiVersionTable {
    broker: HashMap<i16, (i16, i16)>,
}

impl ApiVersionTable {
    pub(crate) fn from_response(resp: &ApiVersionsResponse) -> Self {
        ApiVersionTable {
            broker: resp
                .api_keys
                .iter()
                .map(|k| (k.api_key, (k.min_version, k.max_version)))
                .collect(),
        }
    }

    /// The broker's range for `key`, if advertised.
    pub(crate) fn broker_range(&self, key: ApiKey) -> Option<(i16, i16)> {
        self.broker.get(&(key as i16)).copied()
    }

    /// The version to use for `key` with this broker.
    pub(crate) fn pick(&self, key: ApiKey, broker: &str) -> Result<i16, Error> {
        let (our_min, our_max) = ours(key)
            .ok_or_else(|| Error::Encode(format!("kt has no version table entry for {key:?}")))?;
        let unsupported = |theirs: String| Error::UnsupportedVersion {
            broker: broker.to_owned(),
            api: format!("{key:?}"),
            ours_min: our_min,
            ours_max: our_max,
            theirs,
        };
        let Some((their_min, their_max)) = self.broker_range(key) else {
            return Err(unsupported("not advertised".into()));
        };
        let v = our_max.min(their_max);
        if v < our_min || v < their_min {
            return Err(unsupported(format!("{their_min}..={their_max}")));
        }
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::messages::api_versions_response::ApiVersion;

    fn table(entries: &[(ApiKey, i16, i16)]) -> ApiVersionTable {
        let mut resp = ApiVersionsResponse::default();
        resp.api_keys = entries
            .iter()
            .map(|&(k, lo, hi)| {
                ApiVersion::default()
                    .with_api_key(k as i16)
                    .with_min_version(lo)
                    .with_max_version(hi)
            })
            .collect();
        ApiVersionTable::from_response(&resp)
    }

    #[test]
    fn picks_the_highest_common_version() {
        let t = table(&[(ApiKey::Fetch, 0, 17), (ApiKey::Produce, 3, 7)]);
        assert_eq!(t.pick(ApiKey::Fetch, "b").unwrap(), 16);
        assert_eq!(t.pick(ApiKey::Produce, "b").unwrap(), 7);
    }

    #[test]
    fn no_overlap_is_a_clear_error() {
        let t = table(&[(ApiKey::Produce, 0, 2), (ApiKey::Fetch, 17, 18)]);
        let e = t.pick(ApiKey::Produce, "b:1").unwrap_err();
        assert!(matches!(e, Error::UnsupportedVersion { .. }));
        assert!(e.to_string().contains("Produce"), "{e}");
        assert!(t.pick(ApiKey::Fetch, "b:1").is_err());
        assert!(
            t.pick(ApiKey::Metadata, "b:1")
                .unwrap_err()
                .to_string()
                .contains("not advertised")
        );
    }

    #[test]
    fn our_table_is_within_kafka_protocol_crate() {
        for &(key, lo, hi) in OUR_VERSIONS {
            let r = key.valid_versions();
            assert!(lo >= r.min && hi <= r.max && lo <= hi, "{key:?}");
        }
    }
}
