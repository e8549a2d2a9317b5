//! Strategies for random valid admin, producer-id and SASL requests (DescribeConfigs,
//! AlterConfigs, IncrementalAlterConfigs, CreatePartitions, DescribeGroups, ListGroups,
//! DeleteGroups, OffsetDelete, DescribeCluster, DeleteRecords, InitProducerId, SaslHandshake,
//! SaslAuthenticate); see `generators.rs`.

use kafka_protocol::messages::*;
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;

use super::generators::{group, nsb, raw, sb, tags, topic};

pub(super) fn describe_configs(v: i16) -> impl Strategy<Value = DescribeConfigsRequest> {
    use kafka_protocol::messages::describe_configs_request::DescribeConfigsResource;
    let r = (any::<i8>(), sb(), option::of(vec(sb(), 0..3))).prop_map(|(t, n, k)| {
        DescribeConfigsResource::default()
            .with_resource_type(t)
            .with_resource_name(n)
            .with_configuration_keys(k)
    });
    (vec(r, 0..3), any::<[bool; 2]>(), tags(v >= 4)).prop_map(move |(rs, b, t)| {
        DescribeConfigsRequest::default()
            .with_resources(rs)
            .with_include_synonyms(b[0])
            .with_include_documentation(v >= 3 && b[1])
            .with_unknown_tagged_fields(t)
    })
}

pub(super) fn alter_configs(v: i16) -> impl Strategy<Value = AlterConfigsRequest> {
    use kafka_protocol::messages::alter_configs_request::{AlterConfigsResource, AlterableConfig};
    let c =
        (sb(), nsb()).prop_map(|(n, val)| AlterableConfig::default().with_name(n).with_value(val));
    let r = (any::<i8>(), sb(), vec(c, 0..3)).prop_map(|(t, n, cs)| {
        AlterConfigsResource::default()
            .with_resource_type(t)
            .with_resource_name(n)
            .with_configs(cs)
    });
    (vec(r, 0..3), any::<bool>(), tags(v >= 2)).prop_map(|(rs, b, t)| {
        AlterConfigsRequest::default()
            .with_resources(rs)
            .with_validate_only(b)
            .with_unknown_tagged_fields(t)
    })
}

pub(super) fn incremental_alter_configs(
    v: i16,
) -> impl Strategy<Value = IncrementalAlterConfigsRequest> {
    use kafka_protocol::messages::incremental_alter_configs_request::{
        AlterConfigsResource, AlterableConfig,
    };
    let c = (sb(), any::<i8>(), nsb()).prop_map(|(n, op, val)| {
        AlterableConfig::default()
            .with_name(n)
            .with_config_operation(op)
            .with_value(val)
    });
    let r = (any::<i8>(), sb(), vec(c, 0..3)).prop_map(|(t, n, cs)| {
        AlterConfigsResource::default()
            .with_resource_type(t)
            .with_resource_name(n)
            .with_configs(cs)
    });
    (vec(r, 0..3), any::<bool>(), tags(v >= 1)).prop_map(|(rs, b, t)| {
        IncrementalAlterConfigsRequest::default()
            .with_resources(rs)
            .with_validate_only(b)
            .with_unknown_tagged_fields(t)
    })
}

pub(super) fn create_partitions(v: i16) -> impl Strategy<Value = CreatePartitionsRequest> {
    use kafka_protocol::messages::create_partitions_request::{
        CreatePartitionsAssignment, CreatePartitionsTopic,
    };
    let a = vec(any::<i32>().prop_map(BrokerId), 0..3)
        .prop_map(|ids| CreatePartitionsAssignment::default().with_broker_ids(ids));
    let t = (topic(), any::<i32>(), option::of(vec(a, 0..3))).prop_map(|(n, c, a)| {
        CreatePartitionsTopic::default()
            .with_name(n)
            .with_count(c)
            .with_assignments(a)
    });
    (vec(t, 0..3), any::<i32>(), any::<bool>(), tags(v >= 2)).prop_map(|(ts, to, b, t)| {
        CreatePartitionsRequest::default()
            .with_topics(ts)
            .with_timeout_ms(to)
            .with_validate_only(b)
            .with_unknown_tagged_fields(t)
    })
}

pub(super) fn describe_groups(v: i16) -> impl Strategy<Value = DescribeGroupsRequest> {
    (vec(group(), 0..3), any::<bool>(), tags(v >= 5)).prop_map(move |(gs, b, t)| {
        DescribeGroupsRequest::default()
            .with_groups(gs)
            .with_include_authorized_operations(v >= 3 && b)
            .with_unknown_tagged_fields(t)
    })
}

pub(super) fn list_groups(v: i16) -> impl Strategy<Value = ListGroupsRequest> {
    (vec(sb(), 0..3), vec(sb(), 0..3), tags(v >= 3)).prop_map(move |(st, ty, t)| {
        let mut r = ListGroupsRequest::default().with_unknown_tagged_fields(t);
        if v >= 4 {
            r = r.with_states_filter(st);
        }
        if v >= 5 {
            r = r.with_types_filter(ty);
        }
        r
    })
}

pub(super) fn delete_groups(v: i16) -> impl Strategy<Value = DeleteGroupsRequest> {
    (vec(group(), 0..3), tags(v >= 2)).prop_map(|(gs, t)| {
        DeleteGroupsRequest::default()
            .with_groups_names(gs)
            .with_unknown_tagged_fields(t)
    })
}

pub(super) fn offset_delete(_v: i16) -> impl Strategy<Value = OffsetDeleteRequest> {
    use kafka_protocol::messages::offset_delete_request::{
        OffsetDeleteRequestPartition, OffsetDeleteRequestTopic,
    };
    let p =
        any::<i32>().prop_map(|i| OffsetDeleteRequestPartition::default().with_partition_index(i));
    let t = (topic(), vec(p, 0..3)).prop_map(|(n, ps)| {
        OffsetDeleteRequestTopic::default()
            .with_name(n)
            .with_partitions(ps)
    });
    (group(), vec(t, 0..3)).prop_map(|(g, ts)| {
        OffsetDeleteRequest::default()
            .with_group_id(g)
            .with_topics(ts)
    })
}

pub(super) fn describe_cluster(v: i16) -> impl Strategy<Value = DescribeClusterRequest> {
    (any::<bool>(), any::<i8>(), any::<bool>(), tags(true)).prop_map(move |(a, e, f, t)| {
        let mut r = DescribeClusterRequest::default()
            .with_include_cluster_authorized_operations(a)
            .with_unknown_tagged_fields(t);
        if v >= 1 {
            r = r.with_endpoint_type(e);
        }
        if v >= 2 {
            r = r.with_include_fenced_brokers(f);
        }
        r
    })
}

pub(super) fn delete_records(v: i16) -> impl Strategy<Value = DeleteRecordsRequest> {
    use kafka_protocol::messages::delete_records_request::{
        DeleteRecordsPartition, DeleteRecordsTopic,
    };
    let p = (any::<i32>(), any::<i64>()).prop_map(|(i, o)| {
        DeleteRecordsPartition::default()
            .with_partition_index(i)
            .with_offset(o)
    });
    let t = (topic(), vec(p, 0..3)).prop_map(|(n, ps)| {
        DeleteRecordsTopic::default()
            .with_name(n)
            .with_partitions(ps)
    });
    (vec(t, 0..3), any::<i32>(), tags(v >= 2)).prop_map(|(ts, to, t)| {
        DeleteRecordsRequest::default()
            .with_topics(ts)
            .with_timeout_ms(to)
            .with_unknown_tagged_fields(t)
    })
}

pub(super) fn init_producer_id(v: i16) -> impl Strategy<Value = InitProducerIdRequest> {
    (
        nsb(),
        any::<i32>(),
        any::<i64>(),
        any::<i16>(),
        tags(v >= 2),
    )
        .prop_map(move |(tx, to, pid, epoch, t)| {
            let mut r = InitProducerIdRequest::default()
                .with_transactional_id(tx.map(TransactionalId))
                .with_transaction_timeout_ms(to)
                .with_unknown_tagged_fields(t);
            if v >= 3 {
                r = r
                    .with_producer_id(ProducerId(pid))
                    .with_producer_epoch(epoch);
            }
            r
        })
}

pub(super) fn sasl_handshake(_v: i16) -> impl Strategy<Value = SaslHandshakeRequest> {
    sb().prop_map(|m| SaslHandshakeRequest::default().with_mechanism(m))
}

pub(super) fn sasl_authenticate(v: i16) -> impl Strategy<Value = SaslAuthenticateRequest> {
    (raw(), tags(v >= 2)).prop_map(|(b, t)| {
        SaslAuthenticateRequest::default()
            .with_auth_bytes(b)
            .with_unknown_tagged_fields(t)
    })
}
