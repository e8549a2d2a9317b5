//! [`Routed`](super::route::Routed) for the admin, producer-id and SASL APIs: how each is
//! refused as a whole (an injected fault, or NOT_COORDINATOR for OffsetDelete's group). The
//! per-entry routing happens in the handlers: DescribeGroups and DeleteGroups check each
//! group's coordinator, ListGroups lists the groups this node coordinates, DeleteRecords
//! checks each partition's leader.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::*;

use super::route::Routed;
use super::sb;

/// Requests refused with their API's own error response.
macro_rules! whole_request {
    ($req:ty, $resp:ty, $module:ident) => {
        impl Routed for $req {
            type Response = $resp;
            fn refuse(&self, e: ResponseError, v: i16) -> $resp {
                super::$module::error_response(e, v)
            }
        }
    };
}

whole_request!(
    DescribeClusterRequest,
    DescribeClusterResponse,
    describe_cluster
);
whole_request!(
    InitProducerIdRequest,
    InitProducerIdResponse,
    init_producer_id
);
whole_request!(ListGroupsRequest, ListGroupsResponse, list_groups);
whole_request!(SaslHandshakeRequest, SaslHandshakeResponse, sasl_handshake);
whole_request!(
    SaslAuthenticateRequest,
    SaslAuthenticateResponse,
    sasl_authenticate
);

impl Routed for OffsetDeleteRequest {
    type Response = OffsetDeleteResponse;
    fn group(&self) -> Option<&str> {
        Some(self.group_id.0.as_str())
    }
    fn refuse(&self, e: ResponseError, v: i16) -> OffsetDeleteResponse {
        super::offset_delete::error_response(e, v)
    }
}

impl Routed for DescribeGroupsRequest {
    type Response = DescribeGroupsResponse;
    fn refuse(&self, e: ResponseError, _v: i16) -> DescribeGroupsResponse {
        DescribeGroupsResponse::default().with_groups(
            self.groups
                .iter()
                .map(|g| {
                    describe_groups_response::DescribedGroup::default()
                        .with_group_id(g.clone())
                        .with_error_code(e.code())
                        .with_authorized_operations(i32::MIN)
                })
                .collect(),
        )
    }
}

impl Routed for DeleteGroupsRequest {
    type Response = DeleteGroupsResponse;
    fn refuse(&self, e: ResponseError, _v: i16) -> DeleteGroupsResponse {
        DeleteGroupsResponse::default().with_results(
            self.groups_names
                .iter()
                .map(|g| {
                    delete_groups_response::DeletableGroupResult::default()
                        .with_group_id(g.clone())
                        .with_error_code(e.code())
                })
                .collect(),
        )
    }
}

impl Routed for DescribeConfigsRequest {
    type Response = DescribeConfigsResponse;
    fn refuse(&self, e: ResponseError, _v: i16) -> DescribeConfigsResponse {
        DescribeConfigsResponse::default().with_results(
            self.resources
                .iter()
                .map(|r| {
                    describe_configs_response::DescribeConfigsResult::default()
                        .with_resource_type(r.resource_type)
                        .with_resource_name(r.resource_name.clone())
                        .with_error_code(e.code())
                        .with_error_message(Some(sb(e.to_string())))
                })
                .collect(),
        )
    }
}

impl Routed for AlterConfigsRequest {
    type Response = AlterConfigsResponse;
    fn refuse(&self, e: ResponseError, _v: i16) -> AlterConfigsResponse {
        AlterConfigsResponse::default().with_responses(
            self.resources
                .iter()
                .map(|r| {
                    alter_configs_response::AlterConfigsResourceResponse::default()
                        .with_resource_type(r.resource_type)
                        .with_resource_name(r.resource_name.clone())
                        .with_error_code(e.code())
                })
                .collect(),
        )
    }
}

impl Routed for IncrementalAlterConfigsRequest {
    type Response = IncrementalAlterConfigsResponse;
    fn refuse(&self, e: ResponseError, _v: i16) -> IncrementalAlterConfigsResponse {
        IncrementalAlterConfigsResponse::default().with_responses(
            self.resources
                .iter()
                .map(|r| {
                    incremental_alter_configs_response::AlterConfigsResourceResponse::default()
                        .with_resource_type(r.resource_type)
                        .with_resource_name(r.resource_name.clone())
                        .with_error_code(e.code())
                })
                .collect(),
        )
    }
}

impl Routed for CreatePartitionsRequest {
    type Response = CreatePartitionsResponse;
    fn refuse(&self, e: ResponseError, _v: i16) -> CreatePartitionsResponse {
        CreatePartitionsResponse::default().with_results(
            self.topics
                .iter()
                .map(|t| {
                    create_partitions_response::CreatePartitionsTopicResult::default()
                        .with_name(t.name.clone())
                        .with_error_code(e.code())
                })
                .collect(),
        )
    }
}

impl Routed for DeleteRecordsRequest {
    type Response = DeleteRecordsResponse;
    fn refuse(&self, e: ResponseError, _v: i16) -> DeleteRecordsResponse {
        DeleteRecordsResponse::default().with_topics(
            self.topics
                .iter()
                .map(|t| {
                    delete_records_response::DeleteRecordsTopicResult::default()
                        .with_name(t.name.clone())
                        .with_partitions(
                            t.partitions
                                .iter()
                                .map(|p| {
                                    delete_records_response::DeleteRecordsPartitionResult::default()
                                        .with_partition_index(p.partition_index)
                                        .with_low_watermark(-1)
                                        .with_error_code(e.code())
                                })
                                .collect(),
                        )
                })
                .collect(),
        )
    }
}
