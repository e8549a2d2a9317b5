//! Consumer groups: ListGroups, DescribeGroups, DeleteGroups, and a group's offsets.
//!
//! ListGroups is asked of every broker (each lists the groups it coordinates); the others go
//! to the group's coordinator, found with FindCoordinator and retried once when it moved.

use std::collections::{BTreeMap, BTreeSet};

use kafka_protocol::messages::{
    ApiKey, DeleteGroupsRequest, DescribeGroupsRequest, GroupId, ListGroupsRequest,
};
use kafka_protocol::protocol::StrBytes;

use super::Admin;
use crate::cluster::Purpose;
use crate::connection::Connection;
use crate::consumer::offsets;
use crate::error::{Error, KafkaCode};
use crate::types::TopicPartition;

/// A group as ListGroups reports it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct GroupListing {
    /// The group id.
    pub group_id: String,
    /// `consumer` for consumer groups (empty for groups that only commit offsets).
    pub protocol_type: String,
    /// `Stable`, `Empty`, `PreparingRebalance`, ... (ListGroups v4+; `None` before).
    pub state: Option<String>,
}

/// A group as DescribeGroups reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupDescription {
    /// The group id.
    pub group_id: String,
    /// `Stable`, `Empty`, `Dead`, ...
    pub state: String,
    /// `consumer` for consumer groups.
    pub protocol_type: String,
    /// The chosen assignor, e.g. `range` or `cooperative-sticky`.
    pub protocol: String,
    /// The members.
    pub members: Vec<GroupMember>,
}

/// One member of a group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupMember {
    /// Member id the coordinator gave it.
    pub member_id: String,
    /// Static membership id (KIP-345), if any.
    pub group_instance_id: Option<String>,
    /// The member's client id.
    pub client_id: String,
    /// Where it connects from.
    pub client_host: String,
    /// Its partitions (decoded for consumer groups; empty otherwise).
    pub assignment: Vec<TopicPartition>,
}

impl Admin {
    /// The coordinator connection of `group_id`.
    async fn coordinator(&self, group_id: &str) -> Result<Connection, Error> {
        let any = self.cluster.any_connection().await?;
        let addr =
            offsets::find_coordinator(&any, group_id, self.cluster.request_timeout()).await?;
        self.cluster.connection(&addr, Purpose::Control).await
    }

    /// Every group of the cluster (asked of each broker), sorted by id.
    pub async fn list_groups(&self) -> Result<Vec<GroupListing>, Error> {
        let md = self.cluster.all_topics().await?;
        let mut out = BTreeSet::new();
        let mut nodes: Vec<i32> = md.brokers.keys().copied().collect();
        nodes.sort_unstable();
        for node in nodes {
            let conn = self
                .cluster
                .broker_connection(node, Purpose::Control)
                .await?;
            let v = conn.version(ApiKey::ListGroups)?;
            let resp = conn
                .send(
                    &ListGroupsRequest::default(),
                    v,
                    self.cluster.request_timeout(),
                )
                .await?;
            if resp.error_code != 0 {
                return Err(Error::kafka(
                    resp.error_code,
                    format!("ListGroups from {}", conn.broker()),
                ));
            }
            for g in &resp.groups {
                out.insert(GroupListing {
                    group_id: g.group_id.0.to_string(),
                    protocol_type: g.protocol_type.to_string(),
                    state: (v >= 4).then(|| g.group_state.to_string()),
                });
            }
        }
        Ok(out.into_iter().collect())
    }

    /// Describes groups, in the order asked. A group nobody uses is described with state
    /// `Dead` (Kafka's answer), not an error.
    pub async fn describe_groups(&self, groups: &[&str]) -> Result<Vec<GroupDescription>, Error> {
        let mut out = Vec::with_capacity(groups.len());
        for group in groups {
            let conn = self.coordinator(group).await?;
            let v = conn.version(ApiKey::DescribeGroups)?;
            let mut req = DescribeGroupsRequest::default();
            req.groups = vec![GroupId(StrBytes::from_string((*group).to_owned()))];
            let resp = conn.send(&req, v, self.cluster.request_timeout()).await?;
            let Some(g) = resp.groups.iter().find(|g| g.group_id.0.as_str() == *group) else {
                return Err(Error::kafka(
                    KafkaCode::UnknownServerError,
                    format!(
                        "DescribeGroups answer from {} lacks '{group}'",
                        conn.broker()
                    ),
                ));
            };
            if g.error_code != 0 {
                return Err(Error::kafka(
                    g.error_code,
                    format!("describe group '{group}'"),
                ));
            }
            let consumer = g.protocol_type.as_str() == "consumer";
            let members = g
                .members
                .iter()
                .map(|m| GroupMember {
                    member_id: m.member_id.to_string(),
                    group_instance_id: m.group_instance_id.as_ref().map(|i| i.to_string()),
                    client_id: m.client_id.to_string(),
                    client_host: m.client_host.to_string(),
                    assignment: if consumer {
                        crate::consumer::decode_member_assignment(m.member_assignment.clone())
                            .unwrap_or_default()
                    } else {
                        Vec::new()
                    },
                })
                .collect();
            out.push(GroupDescription {
                group_id: (*group).to_owned(),
                state: g.group_state.to_string(),
                protocol_type: g.protocol_type.to_string(),
                protocol: g.protocol_data.to_string(),
                members,
            });
        }
        Ok(out)
    }

    /// Deletes groups (they must be empty: NON_EMPTY_GROUP otherwise); fails with the first
    /// group's error.
    pub async fn delete_groups(&self, groups: &[&str]) -> Result<(), Error> {
        for group in groups {
            let conn = self.coordinator(group).await?;
            let v = conn.version(ApiKey::DeleteGroups)?;
            let mut req = DeleteGroupsRequest::default();
            req.groups_names = vec![GroupId(StrBytes::from_string((*group).to_owned()))];
            let resp = conn.send(&req, v, self.cluster.request_timeout()).await?;
            match resp
                .results
                .iter()
                .find(|r| r.group_id.0.as_str() == *group)
            {
                Some(r) if r.error_code == 0 => {}
                Some(r) => {
                    return Err(Error::kafka(
                        r.error_code,
                        format!("delete group '{group}'"),
                    ));
                }
                None => {
                    return Err(Error::kafka(
                        KafkaCode::UnknownServerError,
                        format!("DeleteGroups answer from {} lacks '{group}'", conn.broker()),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Every offset `group_id` has committed.
    pub async fn list_group_offsets(
        &self,
        group_id: &str,
    ) -> Result<BTreeMap<TopicPartition, i64>, Error> {
        let conn = self.coordinator(group_id).await?;
        offsets::fetch_all_committed(&conn, group_id, self.cluster.request_timeout()).await
    }
}
