//! Test builders: every response the client decodes, with each array (and nested struct)
//! present at a version filled with `n` elements, recursively. Generated from the same
//! reading of kafka-protocol's decoders as the shapes; the cross-check is still sound
//! because encoding fails when a field is set in a version that lacks it, and a field left
//! out here is still encoded (as its default) by kafka-protocol in versions that have it.

#![allow(
    unused_variables,
    unused_mut,
    clippy::nonminimal_bool,
    clippy::let_and_return,
    clippy::overly_complex_bool_expr
)]

use kafka_protocol::messages::*;

pub(super) fn fill_api_versions_response(v: i16, n: usize) -> ApiVersionsResponse {
    let mut x = ApiVersionsResponse::default();
    x.api_keys = (0..n).map(|_| fill_api_version(v, n)).collect();
    if v >= 3 {
        x.supported_features = (0..n).map(|_| fill_supported_feature_key(v, n)).collect();
    }
    if v >= 3 {
        x.finalized_features = (0..n).map(|_| fill_finalized_feature_key(v, n)).collect();
    }
    x
}

pub(super) fn fill_api_version(v: i16, n: usize) -> api_versions_response::ApiVersion {
    let mut x = api_versions_response::ApiVersion::default();
    x
}

pub(super) fn fill_supported_feature_key(
    v: i16,
    n: usize,
) -> api_versions_response::SupportedFeatureKey {
    let mut x = api_versions_response::SupportedFeatureKey::default();
    x
}

pub(super) fn fill_finalized_feature_key(
    v: i16,
    n: usize,
) -> api_versions_response::FinalizedFeatureKey {
    let mut x = api_versions_response::FinalizedFeatureKey::default();
    x
}

pub(super) fn fill_metadata_response(v: i16, n: usize) -> MetadataResponse {
    let mut x = MetadataResponse::default();
    x.brokers = (0..n)
        .map(|_| fill_metadata_response_broker(v, n))
        .collect();
    x.topics = (0..n).map(|_| fill_metadata_response_topic(v, n)).collect();
    x
}

pub(super) fn fill_metadata_response_broker(
    v: i16,
    n: usize,
) -> metadata_response::MetadataResponseBroker {
    let mut x = metadata_response::MetadataResponseBroker::default();
    x
}

pub(super) fn fill_metadata_response_topic(
    v: i16,
    n: usize,
) -> metadata_response::MetadataResponseTopic {
    let mut x = metadata_response::MetadataResponseTopic::default();
    x.partitions = (0..n)
        .map(|_| fill_metadata_response_partition(v, n))
        .collect();
    x
}

pub(super) fn fill_metadata_response_partition(
    v: i16,
    n: usize,
) -> metadata_response::MetadataResponsePartition {
    let mut x = metadata_response::MetadataResponsePartition::default();
    x.replica_nodes = vec![Default::default(); n];
    x.isr_nodes = vec![Default::default(); n];
    if v >= 5 {
        x.offline_replicas = vec![Default::default(); n];
    }
    x
}

pub(super) fn fill_produce_response(v: i16, n: usize) -> ProduceResponse {
    let mut x = ProduceResponse::default();
    x.responses = (0..n).map(|_| fill_topic_produce_response(v, n)).collect();
    if v >= 10 {
        x.node_endpoints = (0..n).map(|_| fill_produce_node_endpoint(v, n)).collect();
    }
    x
}

pub(super) fn fill_topic_produce_response(
    v: i16,
    n: usize,
) -> produce_response::TopicProduceResponse {
    let mut x = produce_response::TopicProduceResponse::default();
    x.partition_responses = (0..n)
        .map(|_| fill_partition_produce_response(v, n))
        .collect();
    x
}

pub(super) fn fill_produce_node_endpoint(v: i16, n: usize) -> produce_response::NodeEndpoint {
    let mut x = produce_response::NodeEndpoint::default();
    x
}

pub(super) fn fill_partition_produce_response(
    v: i16,
    n: usize,
) -> produce_response::PartitionProduceResponse {
    let mut x = produce_response::PartitionProduceResponse::default();
    if v >= 8 {
        x.record_errors = (0..n)
            .map(|_| fill_batch_index_and_error_message(v, n))
            .collect();
    }
    if v >= 10 {
        x.current_leader = fill_produce_leader_id_and_epoch(v, n);
    }
    x
}

pub(super) fn fill_batch_index_and_error_message(
    v: i16,
    n: usize,
) -> produce_response::BatchIndexAndErrorMessage {
    let mut x = produce_response::BatchIndexAndErrorMessage::default();
    x
}

pub(super) fn fill_produce_leader_id_and_epoch(
    v: i16,
    n: usize,
) -> produce_response::LeaderIdAndEpoch {
    let mut x = produce_response::LeaderIdAndEpoch::default();
    x
}

pub(super) fn fill_fetch_response(v: i16, n: usize) -> FetchResponse {
    let mut x = FetchResponse::default();
    x.responses = (0..n)
        .map(|_| fill_fetchable_topic_response(v, n))
        .collect();
    if v >= 16 {
        x.node_endpoints = (0..n).map(|_| fill_node_endpoint(v, n)).collect();
    }
    x
}

pub(super) fn fill_fetchable_topic_response(
    v: i16,
    n: usize,
) -> fetch_response::FetchableTopicResponse {
    let mut x = fetch_response::FetchableTopicResponse::default();
    x.partitions = (0..n).map(|_| fill_partition_data(v, n)).collect();
    x
}

pub(super) fn fill_node_endpoint(v: i16, n: usize) -> fetch_response::NodeEndpoint {
    let mut x = fetch_response::NodeEndpoint::default();
    x
}

pub(super) fn fill_partition_data(v: i16, n: usize) -> fetch_response::PartitionData {
    let mut x = fetch_response::PartitionData::default();
    x.aborted_transactions = Some((0..n).map(|_| fill_aborted_transaction(v, n)).collect());
    if v >= 12 {
        x.diverging_epoch = fill_epoch_end_offset(v, n);
    }
    if v >= 12 {
        x.current_leader = fill_leader_id_and_epoch(v, n);
    }
    if v >= 12 {
        x.snapshot_id = fill_snapshot_id(v, n);
    }
    x
}

pub(super) fn fill_aborted_transaction(v: i16, n: usize) -> fetch_response::AbortedTransaction {
    let mut x = fetch_response::AbortedTransaction::default();
    x
}

pub(super) fn fill_epoch_end_offset(v: i16, n: usize) -> fetch_response::EpochEndOffset {
    let mut x = fetch_response::EpochEndOffset::default();
    x
}

pub(super) fn fill_leader_id_and_epoch(v: i16, n: usize) -> fetch_response::LeaderIdAndEpoch {
    let mut x = fetch_response::LeaderIdAndEpoch::default();
    x
}

pub(super) fn fill_snapshot_id(v: i16, n: usize) -> fetch_response::SnapshotId {
    let mut x = fetch_response::SnapshotId::default();
    x
}

pub(super) fn fill_list_offsets_response(v: i16, n: usize) -> ListOffsetsResponse {
    let mut x = ListOffsetsResponse::default();
    x.topics = (0..n)
        .map(|_| fill_list_offsets_topic_response(v, n))
        .collect();
    x
}

pub(super) fn fill_list_offsets_topic_response(
    v: i16,
    n: usize,
) -> list_offsets_response::ListOffsetsTopicResponse {
    let mut x = list_offsets_response::ListOffsetsTopicResponse::default();
    x.partitions = (0..n)
        .map(|_| fill_list_offsets_partition_response(v, n))
        .collect();
    x
}

pub(super) fn fill_list_offsets_partition_response(
    v: i16,
    n: usize,
) -> list_offsets_response::ListOffsetsPartitionResponse {
    let mut x = list_offsets_response::ListOffsetsPartitionResponse::default();
    x
}

pub(super) fn fill_init_producer_id_response(v: i16, n: usize) -> InitProducerIdResponse {
    let mut x = InitProducerIdResponse::default();
    x
}

pub(super) fn fill_find_coordinator_response(v: i16, n: usize) -> FindCoordinatorResponse {
    let mut x = FindCoordinatorResponse::default();
    if v >= 4 {
        x.coordinators = (0..n).map(|_| fill_coordinator(v, n)).collect();
    }
    x
}

pub(super) fn fill_coordinator(v: i16, n: usize) -> find_coordinator_response::Coordinator {
    let mut x = find_coordinator_response::Coordinator::default();
    x
}

pub(super) fn fill_join_group_response(v: i16, n: usize) -> JoinGroupResponse {
    let mut x = JoinGroupResponse::default();
    x.members = (0..n)
        .map(|_| fill_join_group_response_member(v, n))
        .collect();
    x
}

pub(super) fn fill_join_group_response_member(
    v: i16,
    n: usize,
) -> join_group_response::JoinGroupResponseMember {
    let mut x = join_group_response::JoinGroupResponseMember::default();
    x
}

pub(super) fn fill_sync_group_response(v: i16, n: usize) -> SyncGroupResponse {
    let mut x = SyncGroupResponse::default();
    x
}

pub(super) fn fill_heartbeat_response(v: i16, n: usize) -> HeartbeatResponse {
    let mut x = HeartbeatResponse::default();
    x
}

pub(super) fn fill_leave_group_response(v: i16, n: usize) -> LeaveGroupResponse {
    let mut x = LeaveGroupResponse::default();
    if v >= 3 {
        x.members = (0..n).map(|_| fill_member_response(v, n)).collect();
    }
    x
}

pub(super) fn fill_member_response(v: i16, n: usize) -> leave_group_response::MemberResponse {
    let mut x = leave_group_response::MemberResponse::default();
    x
}

pub(super) fn fill_offset_commit_response(v: i16, n: usize) -> OffsetCommitResponse {
    let mut x = OffsetCommitResponse::default();
    x.topics = (0..n)
        .map(|_| fill_offset_commit_response_topic(v, n))
        .collect();
    x
}

pub(super) fn fill_offset_commit_response_topic(
    v: i16,
    n: usize,
) -> offset_commit_response::OffsetCommitResponseTopic {
    let mut x = offset_commit_response::OffsetCommitResponseTopic::default();
    x.partitions = (0..n)
        .map(|_| fill_offset_commit_response_partition(v, n))
        .collect();
    x
}

pub(super) fn fill_offset_commit_response_partition(
    v: i16,
    n: usize,
) -> offset_commit_response::OffsetCommitResponsePartition {
    let mut x = offset_commit_response::OffsetCommitResponsePartition::default();
    x
}

pub(super) fn fill_offset_fetch_response(v: i16, n: usize) -> OffsetFetchResponse {
    let mut x = OffsetFetchResponse::default();
    if v <= 7 {
        x.topics = (0..n)
            .map(|_| fill_offset_fetch_response_topic(v, n))
            .collect();
    }
    if v >= 8 {
        x.groups = (0..n)
            .map(|_| fill_offset_fetch_response_group(v, n))
            .collect();
    }
    x
}

pub(super) fn fill_offset_fetch_response_topic(
    v: i16,
    n: usize,
) -> offset_fetch_response::OffsetFetchResponseTopic {
    let mut x = offset_fetch_response::OffsetFetchResponseTopic::default();
    if v <= 7 {
        x.partitions = (0..n)
            .map(|_| fill_offset_fetch_response_partition(v, n))
            .collect();
    }
    x
}

pub(super) fn fill_offset_fetch_response_group(
    v: i16,
    n: usize,
) -> offset_fetch_response::OffsetFetchResponseGroup {
    let mut x = offset_fetch_response::OffsetFetchResponseGroup::default();
    if v >= 8 {
        x.topics = (0..n)
            .map(|_| fill_offset_fetch_response_topics(v, n))
            .collect();
    }
    x
}

pub(super) fn fill_offset_fetch_response_partition(
    v: i16,
    n: usize,
) -> offset_fetch_response::OffsetFetchResponsePartition {
    let mut x = offset_fetch_response::OffsetFetchResponsePartition::default();
    x
}

pub(super) fn fill_offset_fetch_response_topics(
    v: i16,
    n: usize,
) -> offset_fetch_response::OffsetFetchResponseTopics {
    let mut x = offset_fetch_response::OffsetFetchResponseTopics::default();
    if v >= 8 {
        x.partitions = (0..n)
            .map(|_| fill_offset_fetch_response_partitions(v, n))
            .collect();
    }
    x
}

pub(super) fn fill_offset_fetch_response_partitions(
    v: i16,
    n: usize,
) -> offset_fetch_response::OffsetFetchResponsePartitions {
    let mut x = offset_fetch_response::OffsetFetchResponsePartitions::default();
    x
}

pub(super) fn fill_list_groups_response(v: i16, n: usize) -> ListGroupsResponse {
    let mut x = ListGroupsResponse::default();
    x.groups = (0..n).map(|_| fill_listed_group(v, n)).collect();
    x
}

pub(super) fn fill_listed_group(v: i16, n: usize) -> list_groups_response::ListedGroup {
    let mut x = list_groups_response::ListedGroup::default();
    x
}

pub(super) fn fill_describe_groups_response(v: i16, n: usize) -> DescribeGroupsResponse {
    let mut x = DescribeGroupsResponse::default();
    x.groups = (0..n).map(|_| fill_described_group(v, n)).collect();
    x
}

pub(super) fn fill_described_group(v: i16, n: usize) -> describe_groups_response::DescribedGroup {
    let mut x = describe_groups_response::DescribedGroup::default();
    x.members = (0..n).map(|_| fill_described_group_member(v, n)).collect();
    x
}

pub(super) fn fill_described_group_member(
    v: i16,
    n: usize,
) -> describe_groups_response::DescribedGroupMember {
    let mut x = describe_groups_response::DescribedGroupMember::default();
    x
}

pub(super) fn fill_delete_groups_response(v: i16, n: usize) -> DeleteGroupsResponse {
    let mut x = DeleteGroupsResponse::default();
    x.results = (0..n).map(|_| fill_deletable_group_result(v, n)).collect();
    x
}

pub(super) fn fill_deletable_group_result(
    v: i16,
    n: usize,
) -> delete_groups_response::DeletableGroupResult {
    let mut x = delete_groups_response::DeletableGroupResult::default();
    x
}

pub(super) fn fill_create_topics_response(v: i16, n: usize) -> CreateTopicsResponse {
    let mut x = CreateTopicsResponse::default();
    x.topics = (0..n).map(|_| fill_creatable_topic_result(v, n)).collect();
    x
}

pub(super) fn fill_creatable_topic_result(
    v: i16,
    n: usize,
) -> create_topics_response::CreatableTopicResult {
    let mut x = create_topics_response::CreatableTopicResult::default();
    if v >= 5 {
        x.configs = Some((0..n).map(|_| fill_creatable_topic_configs(v, n)).collect());
    }
    x
}

pub(super) fn fill_creatable_topic_configs(
    v: i16,
    n: usize,
) -> create_topics_response::CreatableTopicConfigs {
    let mut x = create_topics_response::CreatableTopicConfigs::default();
    x
}

pub(super) fn fill_delete_topics_response(v: i16, n: usize) -> DeleteTopicsResponse {
    let mut x = DeleteTopicsResponse::default();
    x.responses = (0..n).map(|_| fill_deletable_topic_result(v, n)).collect();
    x
}

pub(super) fn fill_deletable_topic_result(
    v: i16,
    n: usize,
) -> delete_topics_response::DeletableTopicResult {
    let mut x = delete_topics_response::DeletableTopicResult::default();
    x
}

pub(super) fn fill_create_partitions_response(v: i16, n: usize) -> CreatePartitionsResponse {
    let mut x = CreatePartitionsResponse::default();
    x.results = (0..n)
        .map(|_| fill_create_partitions_topic_result(v, n))
        .collect();
    x
}

pub(super) fn fill_create_partitions_topic_result(
    v: i16,
    n: usize,
) -> create_partitions_response::CreatePartitionsTopicResult {
    let mut x = create_partitions_response::CreatePartitionsTopicResult::default();
    x
}

pub(super) fn fill_delete_records_response(v: i16, n: usize) -> DeleteRecordsResponse {
    let mut x = DeleteRecordsResponse::default();
    x.topics = (0..n)
        .map(|_| fill_delete_records_topic_result(v, n))
        .collect();
    x
}

pub(super) fn fill_delete_records_topic_result(
    v: i16,
    n: usize,
) -> delete_records_response::DeleteRecordsTopicResult {
    let mut x = delete_records_response::DeleteRecordsTopicResult::default();
    x.partitions = (0..n)
        .map(|_| fill_delete_records_partition_result(v, n))
        .collect();
    x
}

pub(super) fn fill_delete_records_partition_result(
    v: i16,
    n: usize,
) -> delete_records_response::DeleteRecordsPartitionResult {
    let mut x = delete_records_response::DeleteRecordsPartitionResult::default();
    x
}

pub(super) fn fill_describe_configs_response(v: i16, n: usize) -> DescribeConfigsResponse {
    let mut x = DescribeConfigsResponse::default();
    x.results = (0..n).map(|_| fill_describe_configs_result(v, n)).collect();
    x
}

pub(super) fn fill_describe_configs_result(
    v: i16,
    n: usize,
) -> describe_configs_response::DescribeConfigsResult {
    let mut x = describe_configs_response::DescribeConfigsResult::default();
    x.configs = (0..n)
        .map(|_| fill_describe_configs_resource_result(v, n))
        .collect();
    x
}

pub(super) fn fill_describe_configs_resource_result(
    v: i16,
    n: usize,
) -> describe_configs_response::DescribeConfigsResourceResult {
    let mut x = describe_configs_response::DescribeConfigsResourceResult::default();
    x.synonyms = (0..n)
        .map(|_| fill_describe_configs_synonym(v, n))
        .collect();
    x
}

pub(super) fn fill_describe_configs_synonym(
    v: i16,
    n: usize,
) -> describe_configs_response::DescribeConfigsSynonym {
    let mut x = describe_configs_response::DescribeConfigsSynonym::default();
    x
}

pub(super) fn fill_incremental_alter_configs_response(
    v: i16,
    n: usize,
) -> IncrementalAlterConfigsResponse {
    let mut x = IncrementalAlterConfigsResponse::default();
    x.responses = (0..n)
        .map(|_| fill_alter_configs_resource_response(v, n))
        .collect();
    x
}

pub(super) fn fill_alter_configs_resource_response(
    v: i16,
    n: usize,
) -> incremental_alter_configs_response::AlterConfigsResourceResponse {
    let mut x = incremental_alter_configs_response::AlterConfigsResourceResponse::default();
    x
}

pub(super) fn fill_sasl_handshake_response(v: i16, n: usize) -> SaslHandshakeResponse {
    let mut x = SaslHandshakeResponse::default();
    x.mechanisms = vec![Default::default(); n];
    x
}

pub(super) fn fill_sasl_authenticate_response(v: i16, n: usize) -> SaslAuthenticateResponse {
    let mut x = SaslAuthenticateResponse::default();
    x
}
