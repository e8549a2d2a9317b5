//! CreateTopics rules: partition counts, replication factor, manual assignments and topic
//! configs, checked the way Apache Kafka checks them against the cluster's live nodes.

use kafka_protocol::ResponseError;

use super::{BrokerState, KafkaError};

/// A topic to create, as a CreateTopics request or auto-creation describes it.
#[derive(Debug, Clone)]
pub(crate) struct NewTopic {
    pub(crate) name: String,
    /// -1: the broker default.
    pub(crate) num_partitions: i32,
    /// -1: the broker default (1).
    pub(crate) replication_factor: i16,
    /// Manual assignment: (partition index, broker ids).
    pub(crate) assignments: Vec<(i32, Vec<i32>)>,
    pub(crate) configs: Vec<(String, Option<String>)>,
}

impl NewTopic {
    pub(crate) fn with_defaults(name: &str) -> Self {
        NewTopic {
            name: name.to_owned(),
            num_partitions: -1,
            replication_factor: -1,
            assignments: Vec::new(),
            configs: Vec::new(),
        }
    }
}

/// What creating a [`NewTopic`] results in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TopicPlan {
    pub(crate) num_partitions: i32,
    pub(crate) replication_factor: i16,
    /// Replica node ids per partition, the leader first.
    pub(crate) replicas: Vec<Vec<i32>>,
    pub(crate) configs: Vec<(String, String)>,
}

/// Checks counts, assignments and configs; the name was checked by the topic table.
pub(crate) fn plan(new: &NewTopic, state: &BrokerState) -> Result<TopicPlan, KafkaError> {
    let max = state.max_partitions_per_topic;
    let live: Vec<i32> = state.brokers().iter().map(|n| n.node_id).collect();
    let (num_partitions, replicas) = if new.assignments.is_empty() {
        // default.replication.factor is 1, as in Kafka.
        let rf = if new.replication_factor == -1 {
            1
        } else {
            new.replication_factor
        };
        if rf < 1 || rf as usize > live.len() {
            return Err(KafkaError::new(
                ResponseError::InvalidReplicationFactor,
                format!(
                    "Unable to replicate the partition {rf} time(s): The target replication factor of {rf} cannot be reached because only {} broker(s) are registered.",
                    live.len()
                ),
            ));
        }
        let n = match new.num_partitions {
            -1 => state.default_partitions,
            n if n >= 1 && n <= max => n,
            n if n > max => {
                return Err(KafkaError::new(
                    ResponseError::InvalidPartitions,
                    format!("Number of partitions {n} exceeds this broker's limit of {max}."),
                ));
            }
            _ => {
                return Err(KafkaError::new(
                    ResponseError::InvalidPartitions,
                    "Number of partitions must be larger than 0.",
                ));
            }
        };
        (n, state.nodes.place(n, rf as usize))
    } else {
        if new.num_partitions != -1 || new.replication_factor != -1 {
            return Err(KafkaError::new(
                ResponseError::InvalidRequest,
                "Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used at the same time.",
            ));
        }
        let n = new.assignments.len();
        if n > max as usize {
            return Err(KafkaError::new(
                ResponseError::InvalidPartitions,
                format!("{n} partitions exceed the limit of {max}."),
            ));
        }
        let mut replicas: Vec<Option<Vec<i32>>> = vec![None; n];
        for (index, brokers) in &new.assignments {
            let slot = usize::try_from(*index).ok().filter(|i| *i < n);
            let Some(slot) = slot.filter(|i| replicas[*i].is_none()) else {
                return Err(KafkaError::new(
                    ResponseError::InvalidReplicaAssignment,
                    "Partitions should be a consecutive 0-based integer sequence.",
                ));
            };
            check_assignment(*index, brokers, &live)?;
            replicas[slot] = Some(brokers.clone());
        }
        let replicas: Vec<Vec<i32>> = replicas.into_iter().flatten().collect();
        if replicas.iter().any(|r| r.len() != replicas[0].len()) {
            return Err(KafkaError::new(
                ResponseError::InvalidReplicaAssignment,
                "All partitions should have the same number of replicas.",
            ));
        }
        (n as i32, replicas)
    };
    let replication_factor = replicas.first().map_or(1, |r| r.len() as i16);
    let mut configs = Vec::with_capacity(new.configs.len());
    for (name, value) in &new.configs {
        let Some(value) = value else {
            return Err(KafkaError::new(
                ResponseError::InvalidConfig,
                format!("Null value not supported for topic configs: {name}"),
            ));
        };
        super::configs::validate_value(name, value)?;
        configs.push((name.clone(), value.clone()));
    }
    Ok(TopicPlan {
        num_partitions,
        replication_factor,
        replicas,
        configs,
    })
}

/// One partition's manual assignment: live nodes, each once, at least one.
fn check_assignment(index: i32, brokers: &[i32], live: &[i32]) -> Result<(), KafkaError> {
    let bad = |why: String| {
        Err(KafkaError::new(
            ResponseError::InvalidReplicaAssignment,
            why,
        ))
    };
    if brokers.is_empty() {
        return bad(format!(
            "Replica assignment for partition {index} is empty."
        ));
    }
    for (i, b) in brokers.iter().enumerate() {
        if !live.contains(b) {
            return bad(format!(
                "Replica assignment {brokers:?} of partition {index} names broker {b}, which is not a live node ({live:?})."
            ));
        }
        if brokers[..i].contains(b) {
            return bad(format!(
                "Replica assignment {brokers:?} of partition {index} repeats broker {b}."
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(name: &str, partitions: i32, rf: i16) -> NewTopic {
        NewTopic {
            num_partitions: partitions,
            replication_factor: rf,
            ..NewTopic::with_defaults(name)
        }
    }

    #[test]
    fn create_and_validate_rules() {
        let s = BrokerState::for_tests();
        let (plan, topic) = s.create_topic(&new("t", 3, 1), false).unwrap();
        assert_eq!(plan.num_partitions, 3);
        assert_eq!(topic.unwrap().partitions.len(), 3);
        assert_eq!(
            s.create_topic(&new("t", 3, 1), false).unwrap_err().error,
            ResponseError::TopicAlreadyExists
        );
        assert_eq!(
            s.create_topic(&new("u", 1, 3), false).unwrap_err().error,
            ResponseError::InvalidReplicationFactor
        );
        assert_eq!(
            s.create_topic(&new("u", 0, 1), false).unwrap_err().error,
            ResponseError::InvalidPartitions
        );
        assert_eq!(
            s.create_topic(&new("u", -2, 1), false).unwrap_err().error,
            ResponseError::InvalidPartitions
        );
        assert_eq!(
            s.create_topic(&new("u", 1_000_000, 1), false)
                .unwrap_err()
                .error,
            ResponseError::InvalidPartitions
        );
        assert_eq!(
            s.create_topic(&new("bad name", 1, 1), false)
                .unwrap_err()
                .error,
            ResponseError::InvalidTopicException
        );
        // -1 means the default; validate_only creates nothing
        let (plan, topic) = s.create_topic(&new("v", -1, -1), true).unwrap();
        assert_eq!(plan.num_partitions, 1);
        assert!(topic.is_none() && s.topic("v").is_none());
    }

    #[test]
    fn assignments_and_configs() {
        let s = BrokerState::for_tests();
        let mut t = new("a", -1, -1);
        t.assignments = vec![(1, vec![0]), (0, vec![0])];
        t.configs = vec![("retention.ms".into(), Some("1000".into()))];
        let (plan, _) = s.create_topic(&t, false).unwrap();
        assert_eq!(plan.num_partitions, 2);
        assert_eq!(
            plan.configs,
            vec![("retention.ms".to_owned(), "1000".to_owned())]
        );
        let mut bad = new("b", -1, -1);
        bad.assignments = vec![(0, vec![5])];
        assert_eq!(
            s.create_topic(&bad, false).unwrap_err().error,
            ResponseError::InvalidReplicaAssignment
        );
        bad.assignments = vec![(0, vec![0]), (0, vec![0])];
        assert_eq!(
            s.create_topic(&bad, false).unwrap_err().error,
            ResponseError::InvalidReplicaAssignment
        );
        let mut both = new("c", 2, -1);
        both.assignments = vec![(0, vec![0])];
        assert_eq!(
            s.create_topic(&both, false).unwrap_err().error,
            ResponseError::InvalidRequest
        );
        let mut cfg = new("d", 1, 1);
        cfg.configs = vec![("no.such.config".into(), Some("x".into()))];
        assert_eq!(
            s.create_topic(&cfg, false).unwrap_err().error,
            ResponseError::InvalidConfig
        );
    }

    #[test]
    fn auto_create_and_delete() {
        let s = BrokerState::for_tests();
        let t = s.get_or_auto_create("auto").unwrap();
        assert_eq!(t.partitions.len(), 1);
        assert!(s.get_or_auto_create("bad/name").is_err());
        let id = t.id;
        s.delete_topic("auto").unwrap();
        assert!(s.topic_by_id(&id).is_none());
        assert_eq!(
            s.delete_topic("auto").unwrap_err().error,
            ResponseError::UnknownTopicOrPartition
        );
    }
}
