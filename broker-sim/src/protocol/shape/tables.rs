//! Request body shapes for every (API, version) this broker serves, transcribed from the
//! protocol guide's BNF (<https://kafka.apache.org/protocol#protocol_messages>) and the message
//! JSON schemas the `kafka-protocol` crate is generated from.
//!
//! Each `f(ty, min, max)` is a field present in versions `min..=max` (`ANY` = no upper bound).
//! Nullability follows the schema's widest range (a walker may accept a null the decoder then
//! rejects; it must never reject a valid request nor accept more bytes than are there).

use super::{ApiShape, Field, Struct, Tag, Ty};
use kafka_protocol::messages::ApiKey;

const ANY: i16 = i16::MAX;

const fn f(ty: Ty, min: i16, max: i16) -> Field {
    Field { ty, min, max }
}

const fn s(fields: &'static [Field]) -> Struct {
    Struct { fields, tags: &[] }
}

use Ty::{Bool, Bytes, I8, I16, I32, I64, NBytes, NStr, Str, Uuid};

// ApiVersions: client software name/version appear with flexible versions (v3+).
const API_VERSIONS: ApiShape = ApiShape {
    flexible_min: 3,
    body: &s(&[f(Str, 3, ANY), f(Str, 3, ANY)]),
};

// Metadata: topics [topic_id (v10+), name], allow_auto_topic_creation (v4+),
// include_cluster_authorized_operations (v8-10), include_topic_authorized_operations (v8+).
const METADATA_TOPIC: Struct = s(&[f(Uuid, 10, ANY), f(NStr, 0, ANY)]);
const METADATA: ApiShape = ApiShape {
    flexible_min: 9,
    body: &s(&[
        f(Ty::NArray(&Ty::Struct(&METADATA_TOPIC)), 0, ANY),
        f(Bool, 4, ANY),
        f(Bool, 8, 10),
        f(Bool, 8, ANY),
    ]),
};

// CreateTopics: topics [name, num_partitions, replication_factor,
// assignments [partition_index, broker_ids [int32]], configs [name, value]],
// timeout_ms, validate_only (v1+).
const CREATABLE_ASSIGNMENT: Struct = s(&[f(I32, 0, ANY), f(Ty::Array(&I32), 0, ANY)]);
const CREATABLE_CONFIG: Struct = s(&[f(Str, 0, ANY), f(NStr, 0, ANY)]);
const CREATABLE_TOPIC: Struct = s(&[
    f(Str, 0, ANY),
    f(I32, 0, ANY),
    f(I16, 0, ANY),
    f(Ty::Array(&Ty::Struct(&CREATABLE_ASSIGNMENT)), 0, ANY),
    f(Ty::Array(&Ty::Struct(&CREATABLE_CONFIG)), 0, ANY),
]);
const CREATE_TOPICS: ApiShape = ApiShape {
    flexible_min: 5,
    body: &s(&[
        f(Ty::Array(&Ty::Struct(&CREATABLE_TOPIC)), 0, ANY),
        f(I32, 0, ANY),
        f(Bool, 1, ANY),
    ]),
};

// DeleteTopics: topics [name, topic_id] (v6+), topic_names [string] (v0-5), timeout_ms.
const DELETE_TOPIC_STATE: Struct = s(&[f(NStr, 6, ANY), f(Uuid, 6, ANY)]);
const DELETE_TOPICS: ApiShape = ApiShape {
    flexible_min: 4,
    body: &s(&[
        f(Ty::Array(&Ty::Struct(&DELETE_TOPIC_STATE)), 6, ANY),
        f(Ty::Array(&Str), 0, 5),
        f(I32, 0, ANY),
    ]),
};

// Produce: transactional_id (v3+), acks, timeout_ms,
// topic_data [name (v0-12) | topic_id (v13+), partition_data [index, records]].
const PRODUCE_PARTITION: Struct = s(&[f(I32, 0, ANY), f(NBytes, 0, ANY)]);
const PRODUCE_TOPIC: Struct = s(&[
    f(Str, 0, 12),
    f(Uuid, 13, ANY),
    f(Ty::Array(&Ty::Struct(&PRODUCE_PARTITION)), 0, ANY),
]);
const PRODUCE: ApiShape = ApiShape {
    flexible_min: 9,
    body: &s(&[
        f(NStr, 3, ANY),
        f(I16, 0, ANY),
        f(I32, 0, ANY),
        f(Ty::Array(&Ty::Struct(&PRODUCE_TOPIC)), 0, ANY),
    ]),
};

// Fetch: replica_id (v0-14), max_wait_ms, min_bytes, max_bytes (v3+), isolation_level (v4+),
// session_id, session_epoch (v7+), topics [topic (v0-12) | topic_id (v13+),
// partitions [partition, current_leader_epoch (v9+), fetch_offset, last_fetched_epoch (v12+),
// log_start_offset (v5+), partition_max_bytes; tags 0: replica_directory_id (v17+),
// 1: high_watermark (v18+)]], forgotten_topics_data (v7+) [topic | topic_id, partitions [int32]],
// rack_id (v11+); tags 0: cluster_id (v12+), 1: replica_state (v15+) [replica_id, replica_epoch].
const FETCH_PARTITION: Struct = Struct {
    fields: &[
        f(I32, 0, ANY),
        f(I32, 9, ANY),
        f(I64, 0, ANY),
        f(I32, 12, ANY),
        f(I64, 5, ANY),
        f(I32, 0, ANY),
    ],
    tags: &[
        Tag {
            tag: 0,
            ty: Uuid,
            min: 17,
            max: ANY,
        },
        Tag {
            tag: 1,
            ty: I64,
            min: 18,
            max: ANY,
        },
    ],
};
const FETCH_TOPIC: Struct = s(&[
    f(Str, 0, 12),
    f(Uuid, 13, ANY),
    f(Ty::Array(&Ty::Struct(&FETCH_PARTITION)), 0, ANY),
]);
const FORGOTTEN_TOPIC: Struct = s(&[f(Str, 7, 12), f(Uuid, 13, ANY), f(Ty::Array(&I32), 7, ANY)]);
const REPLICA_STATE: Struct = s(&[f(I32, 15, ANY), f(I64, 15, ANY)]);
const FETCH: ApiShape = ApiShape {
    flexible_min: 12,
    body: &Struct {
        fields: &[
            f(I32, 0, 14),
            f(I32, 0, ANY),
            f(I32, 0, ANY),
            f(I32, 3, ANY),
            f(I8, 4, ANY),
            f(I32, 7, ANY),
            f(I32, 7, ANY),
            f(Ty::Array(&Ty::Struct(&FETCH_TOPIC)), 0, ANY),
            f(Ty::Array(&Ty::Struct(&FORGOTTEN_TOPIC)), 7, ANY),
            f(Str, 11, ANY),
        ],
        tags: &[
            Tag {
                tag: 0,
                ty: NStr,
                min: 12,
                max: ANY,
            },
            Tag {
                tag: 1,
                ty: Ty::Struct(&REPLICA_STATE),
                min: 15,
                max: ANY,
            },
        ],
    },
};

// ListOffsets: replica_id, isolation_level (v2+), topics [name, partitions [partition_index,
// current_leader_epoch (v4+), timestamp, max_num_offsets (v0)]], timeout_ms (v10+).
const LIST_OFFSETS_PARTITION: Struct =
    s(&[f(I32, 0, ANY), f(I32, 4, ANY), f(I64, 0, ANY), f(I32, 0, 0)]);
const LIST_OFFSETS_TOPIC: Struct = s(&[
    f(Str, 0, ANY),
    f(Ty::Array(&Ty::Struct(&LIST_OFFSETS_PARTITION)), 0, ANY),
]);
const LIST_OFFSETS: ApiShape = ApiShape {
    flexible_min: 6,
    body: &s(&[
        f(I32, 0, ANY),
        f(I8, 2, ANY),
        f(Ty::Array(&Ty::Struct(&LIST_OFFSETS_TOPIC)), 0, ANY),
        f(I32, 10, ANY),
    ]),
};

// FindCoordinator: key (v0-3), key_type (v1+), coordinator_keys [string] (v4+).
const FIND_COORDINATOR: ApiShape = ApiShape {
    flexible_min: 3,
    body: &s(&[f(Str, 0, 3), f(I8, 1, ANY), f(Ty::Array(&Str), 4, ANY)]),
};

// JoinGroup: group_id, session_timeout_ms, rebalance_timeout_ms (v1+), member_id,
// group_instance_id (v5+), protocol_type, protocols [name, metadata], reason (v8+).
const JOIN_PROTOCOL: Struct = s(&[f(Str, 0, ANY), f(Bytes, 0, ANY)]);
const JOIN_GROUP: ApiShape = ApiShape {
    flexible_min: 6,
    body: &s(&[
        f(Str, 0, ANY),
        f(I32, 0, ANY),
        f(I32, 1, ANY),
        f(Str, 0, ANY),
        f(NStr, 5, ANY),
        f(Str, 0, ANY),
        f(Ty::Array(&Ty::Struct(&JOIN_PROTOCOL)), 0, ANY),
        f(NStr, 8, ANY),
    ]),
};

// SyncGroup: group_id, generation_id, member_id, group_instance_id (v3+),
// protocol_type, protocol_name (v5+), assignments [member_id, assignment].
const SYNC_ASSIGNMENT: Struct = s(&[f(Str, 0, ANY), f(Bytes, 0, ANY)]);
const SYNC_GROUP: ApiShape = ApiShape {
    flexible_min: 4,
    body: &s(&[
        f(Str, 0, ANY),
        f(I32, 0, ANY),
        f(Str, 0, ANY),
        f(NStr, 3, ANY),
        f(NStr, 5, ANY),
        f(NStr, 5, ANY),
        f(Ty::Array(&Ty::Struct(&SYNC_ASSIGNMENT)), 0, ANY),
    ]),
};

// Heartbeat: group_id, generation_id, member_id, group_instance_id (v3+).
const HEARTBEAT: ApiShape = ApiShape {
    flexible_min: 4,
    body: &s(&[
        f(Str, 0, ANY),
        f(I32, 0, ANY),
        f(Str, 0, ANY),
        f(NStr, 3, ANY),
    ]),
};

// LeaveGroup: group_id, member_id (v0-2), members (v3+) [member_id, group_instance_id,
// reason (v5+)].
const LEAVE_MEMBER: Struct = s(&[f(Str, 3, ANY), f(NStr, 3, ANY), f(NStr, 5, ANY)]);
const LEAVE_GROUP: ApiShape = ApiShape {
    flexible_min: 4,
    body: &s(&[
        f(Str, 0, ANY),
        f(Str, 0, 2),
        f(Ty::Array(&Ty::Struct(&LEAVE_MEMBER)), 3, ANY),
    ]),
};

// OffsetCommit: group_id, generation_id_or_member_epoch (v1+), member_id (v1+),
// group_instance_id (v7+), retention_time_ms (v2-4), topics [name, partitions
// [partition_index, committed_offset, committed_leader_epoch (v6+), commit_timestamp (v1),
// committed_metadata]].
const COMMIT_PARTITION: Struct = s(&[
    f(I32, 0, ANY),
    f(I64, 0, ANY),
    f(I32, 6, ANY),
    f(I64, 1, 1),
    f(NStr, 0, ANY),
]);
const COMMIT_TOPIC: Struct = s(&[
    f(Str, 0, ANY),
    f(Ty::Array(&Ty::Struct(&COMMIT_PARTITION)), 0, ANY),
]);
const OFFSET_COMMIT: ApiShape = ApiShape {
    flexible_min: 8,
    body: &s(&[
        f(Str, 0, ANY),
        f(I32, 1, ANY),
        f(Str, 1, ANY),
        f(NStr, 7, ANY),
        f(I64, 2, 4),
        f(Ty::Array(&Ty::Struct(&COMMIT_TOPIC)), 0, ANY),
    ]),
};

// OffsetFetch: group_id (v0-7), topics (v0-7) [name, partition_indexes [int32]],
// groups (v8+) [group_id, member_id (v9+), member_epoch (v9+), topics [name,
// partition_indexes]], require_stable (v7+).
const FETCH_OFFSETS_TOPIC: Struct = s(&[f(Str, 0, ANY), f(Ty::Array(&I32), 0, ANY)]);
const FETCH_OFFSETS_GROUP: Struct = s(&[
    f(Str, 8, ANY),
    f(NStr, 9, ANY),
    f(I32, 9, ANY),
    f(Ty::NArray(&Ty::Struct(&FETCH_OFFSETS_TOPIC)), 8, ANY),
]);
const OFFSET_FETCH: ApiShape = ApiShape {
    flexible_min: 6,
    body: &s(&[
        f(Str, 0, 7),
        f(Ty::NArray(&Ty::Struct(&FETCH_OFFSETS_TOPIC)), 0, 7),
        f(Ty::Array(&Ty::Struct(&FETCH_OFFSETS_GROUP)), 8, ANY),
        f(Bool, 7, ANY),
    ]),
};

// DescribeConfigs: resources [resource_type, resource_name, configuration_keys (nullable)
// [string]], include_synonyms, include_documentation (v3+).
const DESCRIBE_CONFIGS_RESOURCE: Struct =
    s(&[f(I8, 0, ANY), f(Str, 0, ANY), f(Ty::NArray(&Str), 0, ANY)]);
const DESCRIBE_CONFIGS: ApiShape = ApiShape {
    flexible_min: 4,
    body: &s(&[
        f(Ty::Array(&Ty::Struct(&DESCRIBE_CONFIGS_RESOURCE)), 0, ANY),
        f(Bool, 1, ANY),
        f(Bool, 3, ANY),
    ]),
};

// AlterConfigs: resources [resource_type, resource_name, configs [name, value (nullable)]],
// validate_only.
const ALTERABLE_CONFIG: Struct = s(&[f(Str, 0, ANY), f(NStr, 0, ANY)]);
const ALTER_CONFIGS_RESOURCE: Struct = s(&[
    f(I8, 0, ANY),
    f(Str, 0, ANY),
    f(Ty::Array(&Ty::Struct(&ALTERABLE_CONFIG)), 0, ANY),
]);
const ALTER_CONFIGS: ApiShape = ApiShape {
    flexible_min: 2,
    body: &s(&[
        f(Ty::Array(&Ty::Struct(&ALTER_CONFIGS_RESOURCE)), 0, ANY),
        f(Bool, 0, ANY),
    ]),
};

// IncrementalAlterConfigs: as AlterConfigs with config_operation between name and value.
const INCREMENTAL_CONFIG: Struct = s(&[f(Str, 0, ANY), f(I8, 0, ANY), f(NStr, 0, ANY)]);
const INCREMENTAL_RESOURCE: Struct = s(&[
    f(I8, 0, ANY),
    f(Str, 0, ANY),
    f(Ty::Array(&Ty::Struct(&INCREMENTAL_CONFIG)), 0, ANY),
]);
const INCREMENTAL_ALTER_CONFIGS: ApiShape = ApiShape {
    flexible_min: 1,
    body: &s(&[
        f(Ty::Array(&Ty::Struct(&INCREMENTAL_RESOURCE)), 0, ANY),
        f(Bool, 0, ANY),
    ]),
};

// CreatePartitions: topics [name, count, assignments (nullable) [broker_ids [int32]]],
// timeout_ms, validate_only.
const CREATE_PARTITIONS_ASSIGNMENT: Struct = s(&[f(Ty::Array(&I32), 0, ANY)]);
const CREATE_PARTITIONS_TOPIC: Struct = s(&[
    f(Str, 0, ANY),
    f(I32, 0, ANY),
    f(
        Ty::NArray(&Ty::Struct(&CREATE_PARTITIONS_ASSIGNMENT)),
        0,
        ANY,
    ),
]);
const CREATE_PARTITIONS: ApiShape = ApiShape {
    flexible_min: 2,
    body: &s(&[
        f(Ty::Array(&Ty::Struct(&CREATE_PARTITIONS_TOPIC)), 0, ANY),
        f(I32, 0, ANY),
        f(Bool, 0, ANY),
    ]),
};

// DescribeGroups: groups [string], include_authorized_operations (v3+).
const DESCRIBE_GROUPS: ApiShape = ApiShape {
    flexible_min: 5,
    body: &s(&[f(Ty::Array(&Str), 0, ANY), f(Bool, 3, ANY)]),
};

// ListGroups: states_filter (v4+) [string], types_filter (v5+) [string].
const LIST_GROUPS: ApiShape = ApiShape {
    flexible_min: 3,
    body: &s(&[f(Ty::Array(&Str), 4, ANY), f(Ty::Array(&Str), 5, ANY)]),
};

// DeleteGroups: groups_names [string].
const DELETE_GROUPS: ApiShape = ApiShape {
    flexible_min: 2,
    body: &s(&[f(Ty::Array(&Str), 0, ANY)]),
};

// OffsetDelete: group_id, topics [name, partitions [partition_index]]. Never flexible.
const OFFSET_DELETE_PARTITION: Struct = s(&[f(I32, 0, ANY)]);
const OFFSET_DELETE_TOPIC: Struct = s(&[
    f(Str, 0, ANY),
    f(Ty::Array(&Ty::Struct(&OFFSET_DELETE_PARTITION)), 0, ANY),
]);
const OFFSET_DELETE: ApiShape = ApiShape {
    flexible_min: ANY,
    body: &s(&[
        f(Str, 0, ANY),
        f(Ty::Array(&Ty::Struct(&OFFSET_DELETE_TOPIC)), 0, ANY),
    ]),
};

// DescribeCluster: include_cluster_authorized_operations, endpoint_type (v1+),
// include_fenced_brokers (v2+). Flexible in every version.
const DESCRIBE_CLUSTER: ApiShape = ApiShape {
    flexible_min: 0,
    body: &s(&[f(Bool, 0, ANY), f(I8, 1, ANY), f(Bool, 2, ANY)]),
};

// DeleteRecords: topics [name, partitions [partition_index, offset]], timeout_ms.
const DELETE_RECORDS_PARTITION: Struct = s(&[f(I32, 0, ANY), f(I64, 0, ANY)]);
const DELETE_RECORDS_TOPIC: Struct = s(&[
    f(Str, 0, ANY),
    f(Ty::Array(&Ty::Struct(&DELETE_RECORDS_PARTITION)), 0, ANY),
]);
const DELETE_RECORDS: ApiShape = ApiShape {
    flexible_min: 2,
    body: &s(&[
        f(Ty::Array(&Ty::Struct(&DELETE_RECORDS_TOPIC)), 0, ANY),
        f(I32, 0, ANY),
    ]),
};

// InitProducerId: transactional_id (nullable), transaction_timeout_ms, producer_id (v3+),
// producer_epoch (v3+).
const INIT_PRODUCER_ID: ApiShape = ApiShape {
    flexible_min: 2,
    body: &s(&[
        f(NStr, 0, ANY),
        f(I32, 0, ANY),
        f(I64, 3, ANY),
        f(I16, 3, ANY),
    ]),
};

// SaslHandshake: mechanism. Never flexible.
const SASL_HANDSHAKE: ApiShape = ApiShape {
    flexible_min: ANY,
    body: &s(&[f(Str, 0, ANY)]),
};

// SaslAuthenticate: auth_bytes.
const SASL_AUTHENTICATE: ApiShape = ApiShape {
    flexible_min: 2,
    body: &s(&[f(Bytes, 0, ANY)]),
};

/// The shape table for an api key, if this broker has one.
pub(crate) fn shape_for(api_key: i16) -> Option<&'static ApiShape> {
    let key = ApiKey::try_from(api_key).ok()?;
    Some(match key {
        ApiKey::ApiVersions => &API_VERSIONS,
        ApiKey::Metadata => &METADATA,
        ApiKey::CreateTopics => &CREATE_TOPICS,
        ApiKey::DeleteTopics => &DELETE_TOPICS,
        ApiKey::Produce => &PRODUCE,
        ApiKey::Fetch => &FETCH,
        ApiKey::ListOffsets => &LIST_OFFSETS,
        ApiKey::FindCoordinator => &FIND_COORDINATOR,
        ApiKey::JoinGroup => &JOIN_GROUP,
        ApiKey::SyncGroup => &SYNC_GROUP,
        ApiKey::Heartbeat => &HEARTBEAT,
        ApiKey::LeaveGroup => &LEAVE_GROUP,
        ApiKey::OffsetCommit => &OFFSET_COMMIT,
        ApiKey::OffsetFetch => &OFFSET_FETCH,
        ApiKey::DescribeConfigs => &DESCRIBE_CONFIGS,
        ApiKey::AlterConfigs => &ALTER_CONFIGS,
        ApiKey::IncrementalAlterConfigs => &INCREMENTAL_ALTER_CONFIGS,
        ApiKey::CreatePartitions => &CREATE_PARTITIONS,
        ApiKey::DescribeGroups => &DESCRIBE_GROUPS,
        ApiKey::ListGroups => &LIST_GROUPS,
        ApiKey::DeleteGroups => &DELETE_GROUPS,
        ApiKey::OffsetDelete => &OFFSET_DELETE,
        ApiKey::DescribeCluster => &DESCRIBE_CLUSTER,
        ApiKey::DeleteRecords => &DELETE_RECORDS,
        ApiKey::InitProducerId => &INIT_PRODUCER_ID,
        ApiKey::SaslHandshake => &SASL_HANDSHAKE,
        ApiKey::SaslAuthenticate => &SASL_AUTHENTICATE,
        _ => return None,
    })
}
