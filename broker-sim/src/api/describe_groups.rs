//! DescribeGroups (key 15), versions 0–6.
//!
//! Per group: state, protocol type, the chosen protocol and the members (member id, group
//! instance id, client id, client host, and, when the group is Stable, each member's metadata
//! for the chosen protocol and its assignment, both as the clients sent them — for consumer
//! groups these are the consumer-protocol subscription and assignment, which admin clients
//! decode to show topics and partitions). As in Kafka, a group that is rebalancing shows its
//! members without metadata or assignments and an empty protocol. An unknown group is
//! answered as Kafka does: state "Dead" with no error before v6, GROUP_ID_NOT_FOUND from v6.
//! Authorized operations are not computed (INT32_MIN). A group coordinated by another node
//! gets NOT_COORDINATOR.
//! - v1: throttle time. v3: authorized operations. v4: group instance ids. v5: flexible.
//!   v6: error message; GROUP_ID_NOT_FOUND for unknown groups.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::describe_groups_response::{DescribedGroup, DescribedGroupMember};
use kafka_protocol::messages::{DescribeGroupsRequest, DescribeGroupsResponse};

use super::{RequestContext, route, sb};
use crate::group::GroupState;
use crate::state::BrokerState;

pub(crate) const VERSIONS: (i16, i16) = (0, 6);

pub(crate) fn handle(
    state: &BrokerState,
    ctx: &RequestContext,
    req: DescribeGroupsRequest,
) -> DescribeGroupsResponse {
    let v = ctx.api_version;
    let groups = req
        .groups
        .into_iter()
        .map(|id| {
            let group = DescribedGroup::default()
                .with_group_id(id.clone())
                .with_authorized_operations(i32::MIN);
            if id.0.is_empty() {
                return group
                    .with_error_code(ResponseError::InvalidGroupId.code())
                    .with_group_state(sb("Dead"));
            }
            if let Some(e) = route::coordinator_error(state, ctx, id.0.as_str()) {
                return group.with_error_code(e.code()).with_group_state(sb("Dead"));
            }
            let Some(g) = state.groups.describe(id.0.as_str()) else {
                let group = group.with_group_state(sb("Dead"));
                return if v >= 6 {
                    group
                        .with_error_code(ResponseError::GroupIdNotFound.code())
                        .with_error_message(Some(sb(format!("Group {} not found.", id.0.as_str()))))
                } else {
                    group
                };
            };
            let protocol = if g.state == GroupState::Stable {
                g.protocol_name.clone().unwrap_or_default()
            } else {
                String::new()
            };
            let members = g
                .members
                .into_iter()
                .map(|m| {
                    DescribedGroupMember::default()
                        .with_member_id(sb(m.member_id))
                        .with_group_instance_id(if v >= 4 {
                            m.group_instance_id.map(sb)
                        } else {
                            None
                        })
                        .with_client_id(sb(m.client_id))
                        .with_client_host(sb(format!("/{}", m.client_host)))
                        .with_member_metadata(m.metadata)
                        .with_member_assignment(m.assignment)
                })
                .collect();
            group
                .with_group_state(sb(g.state.as_str()))
                .with_protocol_type(sb(g.protocol_type.unwrap_or_default()))
                .with_protocol_data(sb(protocol))
                .with_members(members)
        })
        .collect();
    DescribeGroupsResponse::default().with_groups(groups)
}

pub(crate) fn error_response(_e: ResponseError, _v: i16) -> DescribeGroupsResponse {
    DescribeGroupsResponse::default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::test_util::{ctx, encode_all_versions};
    use crate::api::{delete_groups, list_groups, offset_delete};
    use crate::group::OffsetCommitEntry;
    use kafka_protocol::messages::offset_delete_request::{
        OffsetDeleteRequestPartition, OffsetDeleteRequestTopic,
    };
    use kafka_protocol::messages::*;

    fn state_with_group() -> BrokerState {
        let s = BrokerState::for_tests();
        s.get_or_auto_create("t").unwrap();
        let e = OffsetCommitEntry {
            topic: "t".into(),
            partition: 0,
            offset: 3,
            leader_epoch: -1,
            metadata: None,
        };
        assert_eq!(s.groups.commit("g", "", None, -1, vec![e]), vec![None]);
        s
    }

    #[test]
    fn describe_list_delete_and_offset_delete_at_every_version() {
        let s = state_with_group();
        let d = handle(
            &s,
            &ctx(ApiKey::DescribeGroups, 5),
            DescribeGroupsRequest::default().with_groups(vec![GroupId(sb("g")), GroupId(sb("x"))]),
        );
        assert_eq!(d.groups[0].group_state.as_str(), "Empty");
        assert_eq!(
            (d.groups[1].error_code, d.groups[1].group_state.as_str()),
            (0, "Dead")
        );
        let d6 = handle(
            &s,
            &ctx(ApiKey::DescribeGroups, 6),
            DescribeGroupsRequest::default().with_groups(vec![GroupId(sb("x"))]),
        );
        assert_eq!(
            d6.groups[0].error_code,
            ResponseError::GroupIdNotFound.code()
        );
        encode_all_versions(ApiKey::DescribeGroups, 0, |v| {
            handle(
                &s,
                &ctx(ApiKey::DescribeGroups, v),
                DescribeGroupsRequest::default().with_groups(vec![GroupId(sb("g"))]),
            )
        });
        let l = list_groups::handle(
            &s,
            &ctx(ApiKey::ListGroups, 5),
            ListGroupsRequest::default().with_states_filter(vec![sb("empty")]),
        );
        assert_eq!(l.groups.len(), 1);
        assert_eq!(
            (
                l.groups[0].group_state.as_str(),
                l.groups[0].group_type.as_str()
            ),
            ("Empty", "classic")
        );
        let l = list_groups::handle(
            &s,
            &ctx(ApiKey::ListGroups, 4),
            ListGroupsRequest::default().with_states_filter(vec![sb("Stable")]),
        );
        assert!(l.groups.is_empty());
        encode_all_versions(ApiKey::ListGroups, 0, |v| {
            list_groups::handle(
                &s,
                &ctx(ApiKey::ListGroups, v),
                ListGroupsRequest::default(),
            )
        });
        let od = |group: &str| {
            OffsetDeleteRequest::default()
                .with_group_id(GroupId(sb(group)))
                .with_topics(vec![
                    OffsetDeleteRequestTopic::default()
                        .with_name(TopicName(sb("t")))
                        .with_partitions(vec![
                            OffsetDeleteRequestPartition::default().with_partition_index(0),
                            OffsetDeleteRequestPartition::default().with_partition_index(9),
                        ]),
                ])
        };
        let r = offset_delete::handle(&s, &ctx(ApiKey::OffsetDelete, 0), od("g"));
        let codes: Vec<i16> = r.topics[0]
            .partitions
            .iter()
            .map(|p| p.error_code)
            .collect();
        assert_eq!(
            codes,
            vec![0, ResponseError::UnknownTopicOrPartition.code()]
        );
        assert!(s.groups.fetch_offsets("g", None).is_empty());
        let r = offset_delete::handle(&s, &ctx(ApiKey::OffsetDelete, 0), od("zz"));
        assert_eq!(r.error_code, ResponseError::GroupIdNotFound.code());
        encode_all_versions(ApiKey::OffsetDelete, 0, |v| {
            offset_delete::handle(&s, &ctx(ApiKey::OffsetDelete, v), od("g"))
        });
        let del = |names: &[&str]| {
            DeleteGroupsRequest::default()
                .with_groups_names(names.iter().map(|n| GroupId(sb(*n))).collect())
        };
        encode_all_versions(ApiKey::DeleteGroups, 0, |v| {
            delete_groups::handle(&s, &ctx(ApiKey::DeleteGroups, v), del(&["nope"]))
        });
        let r = delete_groups::handle(&s, &ctx(ApiKey::DeleteGroups, 2), del(&["g", "g2"]));
        let codes: Vec<i16> = r.results.iter().map(|x| x.error_code).collect();
        assert_eq!(codes, vec![0, ResponseError::GroupIdNotFound.code()]);
    }
}
