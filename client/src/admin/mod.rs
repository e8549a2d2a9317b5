//! The admin API.
//!
//! * This file: topics (CreateTopics, DeleteTopics, Metadata-based listing and description).
//! * `partitions.rs`: CreatePartitions, DeleteRecords, ListOffsets.
//! * `configs.rs`: DescribeConfigs, IncrementalAlterConfigs.
//! * `groups.rs`: ListGroups, DescribeGroups, DeleteGroups, a group's committed offsets.
//!
//! Topic and partition changes go to the controller named in the metadata (any broker
//! forwards them in KRaft clusters; older clusters require the controller) and are retried
//! on NOT_CONTROLLER. Errors are reported per item with Kafka's code names, e.g.
//! `create topic 'mytopic': TOPIC_ALREADY_EXISTS (36)`.

mod configs;
mod groups;
mod partitions;

pub use configs::{AlterConfigOp, ConfigEntry, ConfigResource, ConfigSource};
pub use groups::{GroupDescription, GroupListing, GroupMember};

use std::sync::Arc;

use kafka_protocol::messages::create_topics_request::{CreatableTopic, CreatableTopicConfig};
use kafka_protocol::messages::delete_topics_request::DeleteTopicState;
use kafka_protocol::messages::{ApiKey, CreateTopicsRequest, DeleteTopicsRequest, TopicName};
use kafka_protocol::protocol::StrBytes;

use crate::cluster::{Cluster, Purpose};
use crate::connection::Connection;
use crate::error::{Error, KafkaCode};
use crate::types::{NewTopic, TopicDescription};

/// Attempts for a request that fails with NOT_CONTROLLER.
pub(crate) const CONTROLLER_ATTEMPTS: usize = 3;

/// The admin API. Get one from [`Client::admin`](crate::Client::admin).
#[derive(Clone, Debug)]
pub struct Admin {
    pub(crate) cluster: Arc<Cluster>,
}

/// Per-topic outcome of a create or delete.
pub type TopicResults = Vec<(String, Result<(), Error>)>;

impl Admin {
    pub(crate) fn new(cluster: Arc<Cluster>) -> Admin {
        Admin { cluster }
    }

    pub(crate) async fn controller(&self) -> Result<Connection, Error> {
        let md = self.cluster.metadata();
        if md.controller_id >= 0
            && md.brokers.contains_key(&md.controller_id)
            && let Ok(c) = self
                .cluster
                .broker_connection(md.controller_id, Purpose::Control)
                .await
        {
            return Ok(c);
        }
        self.cluster.any_connection().await
    }

    pub(crate) fn timeout_ms(&self) -> i32 {
        i32::try_from(self.cluster.request_timeout().as_millis()).unwrap_or(i32::MAX)
    }

    /// Creates topics; fails with the first topic's error (all results: [`Self::create_topics_results`]).
    pub async fn create_topics(&self, topics: &[NewTopic]) -> Result<(), Error> {
        first_error(self.create_topics_results(topics).await?)
    }

    /// Creates topics and reports each topic's outcome.
    pub async fn create_topics_results(&self, topics: &[NewTopic]) -> Result<TopicResults, Error> {
        let mut results = Vec::new();
        for attempt in 0..CONTROLLER_ATTEMPTS {
            let conn = self.controller().await?;
            let v = conn.version(ApiKey::CreateTopics)?;
            let mut req = CreateTopicsRequest::default();
            req.timeout_ms = self.timeout_ms();
            for t in topics {
                if v < 4 && (t.num_partitions < 0 || t.replication_factor < 0) {
                    return Err(Error::Config(format!(
                        "broker {} (CreateTopics v{v}) needs explicit partitions and replication factor",
                        conn.broker()
                    )));
                }
                let mut ct = CreatableTopic::default();
                ct.name = TopicName(StrBytes::from_string(t.name.clone()));
                ct.num_partitions = t.num_partitions;
                ct.replication_factor = t.replication_factor;
                ct.configs = t
                    .configs
                    .iter()
                    .map(|(k, val)| {
                        let mut c = CreatableTopicConfig::default();
                        c.name = StrBytes::from_string(k.clone());
                        c.value = Some(StrBytes::from_string(val.clone()));
                        c
                    })
                    .collect();
                req.topics.push(ct);
            }
            let timeout = self.cluster.request_timeout() * 2;
            let resp = conn.send(&req, v, timeout).await?;
            results = resp
                .topics
                .iter()
                .map(|r| {
                    let name = r.name.0.to_string();
                    let res = if r.error_code == 0 {
                        Ok(())
                    } else {
                        let msg = r.error_message.as_deref().unwrap_or("");
                        Err(Error::kafka(
                            r.error_code,
                            with_message(format!("create topic '{name}'"), msg),
                        ))
                    };
                    (name, res)
                })
                .collect();
            if !retry_on_not_controller(&results) || attempt + 1 == CONTROLLER_ATTEMPTS {
                break;
            }
            self.cluster.refresh(&[]).await?;
        }
        self.cluster.invalidate();
        Ok(results)
    }

    /// Deletes topics; fails with the first topic's error.
    pub async fn delete_topics(&self, topics: &[&str]) -> Result<(), Error> {
        first_error(self.delete_topics_results(topics).await?)
    }

    /// Deletes topics and reports each topic's outcome.
    pub async fn delete_topics_results(&self, topics: &[&str]) -> Result<TopicResults, Error> {
        let mut results = Vec::new();
        for attempt in 0..CONTROLLER_ATTEMPTS {
            let conn = self.controller().await?;
            let v = conn.version(ApiKey::DeleteTopics)?;
            let mut req = DeleteTopicsRequest::default();
            req.timeout_ms = self.timeout_ms();
            let name = |t: &str| TopicName(StrBytes::from_string(t.to_owned()));
            if v >= 6 {
                req.topics = topics
                    .iter()
                    .map(|t| {
                        let mut s = DeleteTopicState::default();
                        s.name = Some(name(t));
                        s
                    })
                    .collect();
            } else {
                req.topic_names = topics.iter().map(|t| name(t)).collect();
            }
            let resp = conn
                .send(&req, v, self.cluster.request_timeout() * 2)
                .await?;
            results = resp
                .responses
                .iter()
                .map(|r| {
                    let n = r.name.as_ref().map(|n| n.0.to_string()).unwrap_or_default();
                    let res = if r.error_code == 0 {
                        Ok(())
                    } else {
                        let msg = r.error_message.as_deref().unwrap_or("");
                        Err(Error::kafka(
                            r.error_code,
                            with_message(format!("delete topic '{n}'"), msg),
                        ))
                    };
                    (n, res)
                })
                .collect();
            if !retry_on_not_controller(&results) || attempt + 1 == CONTROLLER_ATTEMPTS {
                break;
            }
            self.cluster.refresh(&[]).await?;
        }
        self.cluster.invalidate();
        Ok(results)
    }

    /// Names of all topics, sorted; internal topics (`__consumer_offsets`, ...) are hidden.
    pub async fn list_topics(&self) -> Result<Vec<String>, Error> {
        let md = self.cluster.all_topics().await?;
        let mut names: Vec<String> = md
            .topics
            .values()
            .filter(|t| !t.is_internal && t.error_code == 0)
            .map(|t| t.name.clone())
            .collect();
        names.sort();
        Ok(names)
    }

    /// Describes topics (partitions, leaders, replicas, ISR), in the order asked.
    /// An unknown topic fails with UNKNOWN_TOPIC_OR_PARTITION.
    pub async fn describe_topics(&self, topics: &[&str]) -> Result<Vec<TopicDescription>, Error> {
        let names: Vec<String> = topics.iter().map(|t| (*t).to_owned()).collect();
        let md = self.cluster.fetch_metadata(Some(&names), false).await?;
        topics
            .iter()
            .map(|name| match md.topics.get(*name) {
                Some(t) if t.error_code == 0 => Ok(t.describe()),
                Some(t) => Err(Error::kafka(
                    t.error_code,
                    format!("describe topic '{name}'"),
                )),
                None => Err(Error::kafka(
                    KafkaCode::UnknownTopicOrPartition,
                    format!("describe topic '{name}'"),
                )),
            })
            .collect()
    }
}

pub(crate) fn with_message(context: String, msg: &str) -> String {
    if msg.is_empty() {
        context
    } else {
        format!("{context} ({msg})")
    }
}

pub(crate) fn retry_on_not_controller(results: &TopicResults) -> bool {
    results
        .iter()
        .any(|(_, r)| matches!(r, Err(e) if e.kafka_code() == Some(KafkaCode::NotController)))
}

pub(crate) fn first_error(results: TopicResults) -> Result<(), Error> {
    for (_, r) in results {
        r?;
    }
    Ok(())
}

#[cfg(test)]
mod more_tests;
#[cfg(test)]
mod tests {
    use super::*;
    use crate::producer::tests::client_for;
    use crate::testing::FakeBroker;

    #[tokio::test]
    async fn create_list_describe_delete() {
        let b = FakeBroker::start().await;
        let client = client_for(&b).await;
        let admin = client.admin();
        admin
            .create_topics(&[NewTopic::new("b", 2, 1), NewTopic::new("a", 1, 1)])
            .await
            .unwrap();
        b.state.create_topic("__consumer_offsets", 1);
        // Sorted, internal topics hidden.
        assert_eq!(admin.list_topics().await.unwrap(), vec!["a", "b"]);
        let d = admin.describe_topics(&["b"]).await.unwrap();
        assert_eq!(d[0].name, "b");
        assert_eq!(d[0].partitions.len(), 2);
        assert_eq!(d[0].partitions[1].leader, 0);
        assert!(!d[0].topic_id.is_nil(), "Metadata v10+ carries topic ids");

        let e = admin
            .create_topics(&[NewTopic::new("a", 1, 1)])
            .await
            .unwrap_err();
        assert_eq!(e.kafka_code(), Some(KafkaCode::TopicAlreadyExists));
        assert!(e.to_string().contains("TOPIC_ALREADY_EXISTS"), "{e}");
        assert!(e.to_string().contains("'a'"), "{e}");

        let e = admin.describe_topics(&["nope"]).await.unwrap_err();
        assert_eq!(e.kafka_code(), Some(KafkaCode::UnknownTopicOrPartition));

        admin.delete_topics(&["a"]).await.unwrap();
        assert_eq!(
            admin
                .list_topics()
                .await
                .unwrap()
                .iter()
                .filter(|t| *t == "a")
                .count(),
            0
        );
        let e = admin.delete_topics(&["a"]).await.unwrap_err();
        assert_eq!(e.kafka_code(), Some(KafkaCode::UnknownTopicOrPartition));
    }

    #[tokio::test]
    async fn connect_to_nothing_is_connection_refused() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap().to_string();
        drop(l);
        let e = crate::Client::connect(crate::ClientConfig::new(addr.clone()))
            .await
            .unwrap_err();
        assert!(
            matches!(e, Error::ConnectionRefused { ref broker } if *broker == addr),
            "{e:?}"
        );
    }
}
