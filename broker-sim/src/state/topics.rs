//! The topic table (by name and by id) and Kafka's topic creation rules.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use kafka_protocol::ResponseError;
use uuid::Uuid;

use super::configs::TopicConfigs;
use super::partition::Partition;
use crate::storage::{PartitionMeta, TopicMeta};

/// Kafka's `Topic.MAX_NAME_LENGTH`.
pub(crate) const MAX_TOPIC_NAME_LEN: usize = 249;

/// A topic: its id, partitions and configs.
///
/// The partition list is immutable: CreatePartitions replaces the table's `Arc<Topic>` with a
/// copy holding the same partitions plus the new ones (requests in flight keep the view they
/// started with). Configs are shared between such copies and change in place (AlterConfigs).
#[derive(Debug)]
pub(crate) struct Topic {
    pub(crate) name: String,
    pub(crate) id: Uuid,
    pub(crate) partitions: Vec<Arc<Partition>>,
    /// Topic-level config overrides; persisted with the topic (`meta`), changed in place by
    /// AlterConfigs and shared by the copies CreatePartitions makes.
    pub(crate) configs: Arc<RwLock<TopicConfigs>>,
}

impl Topic {
    pub(crate) fn partition(&self, index: i32) -> Option<&Arc<Partition>> {
        usize::try_from(index)
            .ok()
            .and_then(|i| self.partitions.get(i))
    }

    /// What storage persists about this topic, as it is now.
    pub(crate) fn meta(&self) -> TopicMeta {
        TopicMeta {
            name: self.name.clone(),
            id: self.id,
            partitions: self
                .partitions
                .iter()
                .map(|p| {
                    let (leader, leader_epoch, replicas) = p.placement();
                    PartitionMeta {
                        replicas,
                        leader,
                        leader_epoch,
                    }
                })
                .collect(),
            configs: self
                .configs()
                .overrides()
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        }
    }

    /// A snapshot of the topic's config overrides.
    pub(crate) fn configs(&self) -> TopicConfigs {
        self.configs
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Changes the configs under the lock.
    pub(crate) fn update_configs<T>(&self, f: impl FnOnce(&mut TopicConfigs) -> T) -> T {
        f(&mut self.configs.write().unwrap_or_else(PoisonError::into_inner))
    }
}

/// A Kafka error code with the message sent beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KafkaError {
    pub(crate) error: ResponseError,
    pub(crate) message: String,
}

impl KafkaError {
    pub(crate) fn new(error: ResponseError, message: impl Into<String>) -> Self {
        KafkaError {
            error,
            message: message.into(),
        }
    }
    pub(crate) fn code(&self) -> i16 {
        self.error.code()
    }
}

/// Checks a topic name the way Kafka's `Topic.validate` does.
pub(crate) fn validate_topic_name(name: &str) -> Result<(), KafkaError> {
    let invalid = |why: String| Err(KafkaError::new(ResponseError::InvalidTopicException, why));
    if name.is_empty() {
        return invalid("Topic name is illegal, it can't be empty".into());
    }
    if name == "." || name == ".." {
        return invalid("Topic name cannot be \".\" or \"..\"".into());
    }
    if name.len() > MAX_TOPIC_NAME_LEN {
        return invalid(format!(
            "Topic name is illegal, it can't be longer than {MAX_TOPIC_NAME_LEN} characters, topic name: {name}"
        ));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-')
    {
        return invalid(format!(
            "Topic name \"{name}\" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'"
        ));
    }
    Ok(())
}

/// Kafka treats '.' and '_' as colliding in metric names.
fn collision_key(name: &str) -> String {
    name.replace('.', "_")
}

/// All topics, indexed by name and by id.
#[derive(Debug, Default)]
pub(crate) struct TopicTable {
    by_name: HashMap<String, Arc<Topic>>,
    by_id: HashMap<Uuid, Arc<Topic>>,
}

impl TopicTable {
    pub(crate) fn get(&self, name: &str) -> Option<&Arc<Topic>> {
        self.by_name.get(name)
    }

    pub(crate) fn get_by_id(&self, id: &Uuid) -> Option<&Arc<Topic>> {
        self.by_id.get(id)
    }

    /// All topics sorted by name.
    pub(crate) fn all(&self) -> Vec<Arc<Topic>> {
        let mut v: Vec<_> = self.by_name.values().cloned().collect();
        v.sort_by(|a, b| a.name.cmp(&b.name));
        v
    }

    /// Checks that `name` may be created now (valid, new, no '.'/'_' collision).
    pub(crate) fn check_creatable(&self, name: &str) -> Result<(), KafkaError> {
        validate_topic_name(name)?;
        if self.by_name.contains_key(name) {
            return Err(KafkaError::new(
                ResponseError::TopicAlreadyExists,
                format!("Topic '{name}' already exists."),
            ));
        }
        let key = collision_key(name);
        if let Some(other) = self.by_name.keys().find(|n| collision_key(n) == key) {
            return Err(KafkaError::new(
                ResponseError::InvalidTopicException,
                format!("Topic '{name}' collides with existing topic: {other}"),
            ));
        }
        Ok(())
    }

    /// A fresh topic id, unused and not nil.
    pub(crate) fn new_id(&self) -> Uuid {
        let mut id = Uuid::new_v4();
        while id.is_nil() || self.by_id.contains_key(&id) {
            id = Uuid::new_v4();
        }
        id
    }

    /// Adds a topic whose partitions are built. The caller has checked the name and counts.
    pub(crate) fn insert(
        &mut self,
        name: &str,
        id: Uuid,
        partitions: Vec<Arc<Partition>>,
        configs: Vec<(String, String)>,
    ) -> Arc<Topic> {
        let topic = Arc::new(Topic {
            name: name.to_owned(),
            id,
            partitions,
            configs: Arc::new(RwLock::new(TopicConfigs::from_pairs(&configs))),
        });
        self.by_name.insert(topic.name.clone(), Arc::clone(&topic));
        self.by_id.insert(id, Arc::clone(&topic));
        topic
    }

    /// Replaces a topic's partition list (CreatePartitions: the old partitions plus new ones):
    /// a new `Topic` with the same id and shared configs takes the old one's place.
    pub(crate) fn replace_partitions(
        &mut self,
        name: &str,
        partitions: Vec<Arc<Partition>>,
    ) -> Option<Arc<Topic>> {
        let old = self.by_name.get(name)?;
        let topic = Arc::new(Topic {
            name: old.name.clone(),
            id: old.id,
            partitions,
            configs: Arc::clone(&old.configs),
        });
        self.by_name.insert(topic.name.clone(), Arc::clone(&topic));
        self.by_id.insert(topic.id, Arc::clone(&topic));
        Some(topic)
    }

    pub(crate) fn remove(&mut self, name: &str) -> Option<Arc<Topic>> {
        let topic = self.by_name.remove(name)?;
        self.by_id.remove(&topic.id);
        Some(topic)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_name_rules_match_kafka() {
        for ok in ["a", "my-topic", "my_topic.v2", "A1", &"x".repeat(249)] {
            validate_topic_name(ok).unwrap();
        }
        for bad in ["", ".", "..", "a b", "a/b", "ü", &"x".repeat(250)] {
            let e = validate_topic_name(bad).unwrap_err();
            assert_eq!(e.error, ResponseError::InvalidTopicException, "{bad}");
        }
    }

    #[test]
    fn exists_and_collisions() {
        let mut t = TopicTable::default();
        let parts = (0..2)
            .map(|i| {
                Arc::new(Partition::new(
                    i,
                    vec![0],
                    Box::new(crate::log::MemoryLog::new()),
                ))
            })
            .collect();
        let id = t.new_id();
        t.insert("a.b", id, parts, vec![]);
        assert_eq!(
            t.check_creatable("a.b").unwrap_err().error,
            ResponseError::TopicAlreadyExists
        );
        assert_eq!(
            t.check_creatable("a_b").unwrap_err().error,
            ResponseError::InvalidTopicException
        );
        t.check_creatable("a-b").unwrap();
        let topic = t.get("a.b").unwrap().clone();
        assert_eq!(topic.partitions.len(), 2);
        assert!(t.get_by_id(&topic.id).is_some());
        t.remove("a.b").unwrap();
        assert!(t.get_by_id(&topic.id).is_none());
    }
}
