//! The cluster view: brokers, topics, partitions, leaders and topic ids.
//!
//! A snapshot is immutable and shared as `Arc<Metadata>`; a refresh builds a new snapshot
//! and swaps it in, so readers never see half an update.

use std::collections::{BTreeMap, HashMap};

use foldhash::fast::RandomState as FastHash;
use kafka_protocol::messages::MetadataResponse;
use uuid::Uuid;

use crate::types::{PartitionDescription, TopicDescription};

/// One partition as the last Metadata response described it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PartitionMetadata {
    pub(crate) error_code: i16,
    pub(crate) leader: i32,
    pub(crate) leader_epoch: i32,
    pub(crate) replicas: Vec<i32>,
    pub(crate) isr: Vec<i32>,
}

/// One topic as the last Metadata response described it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TopicMetadata {
    pub(crate) name: String,
    pub(crate) error_code: i16,
    pub(crate) topic_id: Uuid,
    pub(crate) is_internal: bool,
    pub(crate) partitions: BTreeMap<i32, PartitionMetadata>,
}

impl TopicMetadata {
    pub(crate) fn partition_count(&self) -> i32 {
        i32::try_from(self.partitions.len()).unwrap_or(i32::MAX)
    }

    pub(crate) fn describe(&self) -> TopicDescription {
        TopicDescription {
            name: self.name.clone(),
            topic_id: self.topic_id,
            is_internal: self.is_internal,
            partitions: self
                .partitions
                .iter()
                .map(|(&partition, p)| PartitionDescription {
                    partition,
                    leader: p.leader,
                    replicas: p.replicas.clone(),
                    isr: p.isr.clone(),
                })
                .collect(),
        }
    }
}

/// A snapshot of the cluster.
#[derive(Debug, Clone, Default)]
pub(crate) struct Metadata {
    /// node id -> `host:port`
    pub(crate) brokers: HashMap<i32, String>,
    pub(crate) controller_id: i32,
    pub(crate) cluster_id: Option<String>,
    /// Looked up for every record a producer sends (partition count): a fast hasher.
    pub(crate) topics: HashMap<String, TopicMetadata, FastHash>,
}

impl Metadata {
    /// Converts a response; topics without a name (possible from v12 on) are skipped.
    pub(crate) fn from_response(resp: &MetadataResponse) -> Metadata {
        let brokers = resp
            .brokers
            .iter()
            .map(|b| (b.node_id.0, format_addr(&b.host, b.port)))
            .collect();
        let topics = resp
            .topics
            .iter()
            .filter_map(|t| {
                let name = t.name.as_ref()?.0.to_string();
                let partitions = t
                    .partitions
                    .iter()
                    .map(|p| {
                        (
                            p.partition_index,
                            PartitionMetadata {
                                error_code: p.error_code,
                                leader: p.leader_id.0,
                                leader_epoch: p.leader_epoch,
                                replicas: p.replica_nodes.iter().map(|b| b.0).collect(),
                                isr: p.isr_nodes.iter().map(|b| b.0).collect(),
                            },
                        )
                    })
                    .collect();
                Some((
                    name.clone(),
                    TopicMetadata {
                        name,
                        error_code: t.error_code,
                        topic_id: t.topic_id,
                        is_internal: t.is_internal,
                        partitions,
                    },
                ))
            })
            .collect();
        Metadata {
            brokers,
            controller_id: resp.controller_id.0,
            cluster_id: resp.cluster_id.as_ref().map(|c| c.to_string()),
            topics,
        }
    }

    /// This snapshot updated by a newer response. Brokers and controller come from the
    /// newer one; topics it describes replace ours; with `all_topics`, topics it does not
    /// mention are gone (deleted).
    pub(crate) fn merged(&self, newer: Metadata, all_topics: bool) -> Metadata {
        let mut topics = if all_topics {
            HashMap::default()
        } else {
            self.topics.clone()
        };
        for (name, t) in newer.topics {
            if t.error_code == 3 && !all_topics {
                // UNKNOWN_TOPIC_OR_PARTITION: the topic is gone (or never existed).
                topics.remove(&name);
                continue;
            }
            topics.insert(name, t);
        }
        Metadata {
            brokers: newer.brokers,
            controller_id: newer.controller_id,
            cluster_id: newer.cluster_id.or_else(|| self.cluster_id.clone()),
            topics,
        }
    }

    /// `host:port` of a broker.
    pub(crate) fn broker_addr(&self, node: i32) -> Option<&str> {
        self.brokers.get(&node).map(String::as_str)
    }
}

/// `host:port`, with brackets around IPv6 literals.
pub(crate) fn format_addr(host: &str, port: i32) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::messages::metadata_response::{
        MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
    };
    use kafka_protocol::messages::{BrokerId, TopicName};
    use kafka_protocol::protocol::StrBytes;

    fn response(topics: &[(&str, i16, usize)]) -> MetadataResponse {
        let mut r = MetadataResponse::default();
        let mut b = MetadataResponseBroker::default();
        b.node_id = BrokerId(7);
        b.host = StrBytes::from_static_str("::1");
        b.port = 9092;
        r.brokers.push(b);
        for &(name, err, n) in topics {
            let mut t = MetadataResponseTopic::default();
            t.name = Some(TopicName(StrBytes::from_string(name.into())));
            t.error_code = err;
            for i in 0..n {
                let mut p = MetadataResponsePartition::default();
                p.partition_index = i as i32;
                p.leader_id = BrokerId(7);
                t.partitions.push(p);
            }
            r.topics.push(t);
        }
        r
    }

    #[test]
    fn converts_and_merges() {
        let a = Metadata::from_response(&response(&[("a", 0, 2), ("b", 0, 1)]));
        assert_eq!(a.broker_addr(7), Some("[::1]:9092"));
        assert_eq!(a.topics["a"].partition_count(), 2);
        let b = Metadata::from_response(&response(&[("a", 0, 4), ("b", 3, 0)]));
        let m = a.merged(b, false);
        assert_eq!(m.topics["a"].partition_count(), 4);
        assert!(!m.topics.contains_key("b"), "unknown topic is dropped");
        let all = m.merged(Metadata::from_response(&response(&[("c", 0, 1)])), true);
        assert_eq!(all.topics.keys().collect::<Vec<_>>(), vec!["c"]);
    }
}
