//! Plain data types shared by the producer, the consumer and the admin API.

use bytes::Bytes;
use uuid::Uuid;

/// A topic and one of its partitions.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TopicPartition {
    /// Topic name.
    pub topic: String,
    /// Partition index.
    pub partition: i32,
}

impl TopicPartition {
    /// `TopicPartition { topic, partition }`.
    pub fn new(topic: impl Into<String>, partition: i32) -> Self {
        TopicPartition {
            topic: topic.into(),
            partition,
        }
    }
}

impl std::fmt::Display for TopicPartition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.topic, self.partition)
    }
}

/// Which offset `list_offsets` looks up (ListOffsets' special timestamps).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OffsetSpec {
    /// The log start offset (timestamp -2).
    Earliest,
    /// The high watermark: the offset the next record will get (timestamp -1).
    Latest,
    /// The first offset whose timestamp is >= this many ms since the epoch.
    Timestamp(i64),
}

impl OffsetSpec {
    /// The value of ListOffsets' `timestamp` field.
    pub(crate) fn wire_timestamp(self) -> i64 {
        match self {
            OffsetSpec::Earliest => -2,
            OffsetSpec::Latest => -1,
            OffsetSpec::Timestamp(t) => t,
        }
    }
}

/// A half-open offset range `[from, until)` of one partition.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct OffsetRange {
    /// The partition.
    pub tp: TopicPartition,
    /// First offset included.
    pub from: i64,
    /// First offset not included.
    pub until: i64,
}

/// A record to produce.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProducerRecord {
    /// Destination topic.
    pub topic: String,
    /// Explicit partition; `None` lets the partitioner choose (murmur2 of the key, or sticky).
    pub partition: Option<i32>,
    /// Optional key.
    pub key: Option<Bytes>,
    /// Optional value (`None` is a tombstone).
    pub value: Option<Bytes>,
    /// Headers; Kafka allows duplicate keys, so this is a list, not a map.
    pub headers: Vec<(String, Option<Bytes>)>,
    /// CreateTime in ms since the epoch; `None` means now.
    pub timestamp: Option<i64>,
}

impl ProducerRecord {
    /// A record with only a topic and a value.
    pub fn new(topic: impl Into<String>, value: impl Into<Bytes>) -> Self {
        ProducerRecord {
            topic: topic.into(),
            value: Some(value.into()),
            ..Default::default()
        }
    }

    /// Sets the key.
    pub fn with_key(mut self, key: impl Into<Bytes>) -> Self {
        self.key = Some(key.into());
        self
    }

    /// Sets an explicit partition.
    pub fn with_partition(mut self, partition: i32) -> Self {
        self.partition = Some(partition);
        self
    }

    /// Adds a header.
    pub fn with_header(mut self, key: impl Into<String>, value: Option<Bytes>) -> Self {
        self.headers.push((key.into(), value));
        self
    }
}

/// Where a produced record landed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordMetadata {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// Offset assigned by the broker; -1 with `acks = 0` (the broker does not answer).
    pub offset: i64,
    /// The record's timestamp (LogAppendTime if the topic uses it, else CreateTime).
    pub timestamp: i64,
}

/// A record read from a partition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsumerRecord {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// Offset.
    pub offset: i64,
    /// Timestamp in ms since the epoch.
    pub timestamp: i64,
    /// Key.
    pub key: Option<Bytes>,
    /// Value.
    pub value: Option<Bytes>,
    /// Headers in wire order (duplicates kept).
    pub headers: Vec<(String, Option<Bytes>)>,
}

/// A topic to create.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewTopic {
    /// Name.
    pub name: String,
    /// Number of partitions; -1 lets the broker use its default (CreateTopics v4+).
    pub num_partitions: i32,
    /// Replication factor; -1 lets the broker use its default (CreateTopics v4+).
    pub replication_factor: i16,
    /// Topic configs, e.g. `("cleanup.policy", "compact")`.
    pub configs: Vec<(String, String)>,
}

impl NewTopic {
    /// A topic with no extra configs.
    pub fn new(name: impl Into<String>, num_partitions: i32, replication_factor: i16) -> Self {
        NewTopic {
            name: name.into(),
            num_partitions,
            replication_factor,
            configs: Vec::new(),
        }
    }
}

/// One topic as described by Metadata.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopicDescription {
    /// Name.
    pub name: String,
    /// Topic id (nil when the broker is older than Metadata v10).
    pub topic_id: Uuid,
    /// Whether the topic is internal (`__consumer_offsets`, ...).
    pub is_internal: bool,
    /// Partitions sorted by index.
    pub partitions: Vec<PartitionDescription>,
}

/// One partition as described by Metadata.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartitionDescription {
    /// Partition index.
    pub partition: i32,
    /// Leader broker id, -1 if none.
    pub leader: i32,
    /// Replica broker ids.
    pub replicas: Vec<i32>,
    /// In-sync replica broker ids.
    pub isr: Vec<i32>,
}
