//! Where topics, partition logs and committed offsets live: in memory (the default) or, with
//! `--data-dir`, also on disk so a restart loses nothing acknowledged.
//!
//! - [`Storage`]: the small trait the broker state talks to (create a partition log, persist
//!   topic metadata, append committed-offset changes, load everything at start).
//! - [`MemoryStorage`]: nothing persists.
//! - [`disk`]: [`disk::DiskStorage`], the directory layout, segment files, recovery.
//! - [`sync`]: [`SyncHandle`], group-committed fsync that acks=all waits on.
//! - [`offsets`]: the committed-offsets log format (shared by both: memory ignores it).
//!
//! Durability policy (disk): a batch is written to its segment file before the produce
//! response is built, so every acknowledged batch survives the broker process dying (kill -9)
//! — the OS holds it. acks=all additionally waits for `fdatasync` of the segment (one sync
//! covers every batch written before it started: group commit), so it also survives an OS
//! crash or power loss. acks=1 and acks=0 do not wait for the sync (Kafka's own default is
//! to rely on replication and never fsync per request; a single node has no replicas, so
//! acks=all is where it pays for durability). Committed offsets and topic metadata are synced
//! before they are acknowledged.

pub(crate) mod disk;
pub(crate) mod offsets;
pub(crate) mod sync;

use std::fmt::Debug;
use std::io;
use std::path::{Path, PathBuf};

use uuid::Uuid;

use crate::log::{MemoryLog, PartitionLog};
pub(crate) use offsets::OffsetRecord;
pub(crate) use sync::SyncHandle;

/// A storage operation failed. Answered as KAFKA_STORAGE_ERROR to clients; the message names
/// the file and the operating system's reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot {action} {}: {message}", path.display())]
pub(crate) struct StorageError {
    pub(crate) action: &'static str,
    pub(crate) path: PathBuf,
    pub(crate) kind: io::ErrorKind,
    pub(crate) message: String,
}

impl StorageError {
    pub(crate) fn io(action: &'static str, path: &Path, e: &io::Error) -> Self {
        StorageError {
            action,
            path: path.to_owned(),
            kind: e.kind(),
            message: e.to_string(),
        }
    }

    /// A file's contents are not what kt wrote (or a newer kt wrote it).
    pub(crate) fn corrupt(path: &Path, why: impl Into<String>) -> Self {
        StorageError {
            action: "read",
            path: path.to_owned(),
            kind: io::ErrorKind::InvalidData,
            message: why.into(),
        }
    }
}

/// What the broker state needs to recreate a topic: identity, placement, configs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TopicMeta {
    pub(crate) name: String,
    pub(crate) id: Uuid,
    /// Per partition: (replicas, leader, leader epoch).
    pub(crate) partitions: Vec<PartitionMeta>,
    pub(crate) configs: Vec<(String, String)>,
}

/// One partition's placement as persisted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PartitionMeta {
    pub(crate) replicas: Vec<i32>,
    pub(crate) leader: i32,
    pub(crate) leader_epoch: i32,
}

/// A topic found at start, with its partitions' logs recovered in partition order.
#[derive(Debug)]
pub(crate) struct LoadedTopic {
    pub(crate) meta: TopicMeta,
    pub(crate) logs: Vec<Box<dyn PartitionLog>>,
}

/// Where the broker keeps its data. See the module docs for the durability policy.
pub(crate) trait Storage: Debug + Send + Sync {
    /// A new, empty log for partition `partition` of a topic being created.
    fn create_log(
        &self,
        topic: &TopicMeta,
        partition: i32,
    ) -> Result<Box<dyn PartitionLog>, StorageError>;
    /// Persists a topic's metadata (at creation, and whenever placement or configs change).
    fn save_topic(&self, topic: &TopicMeta) -> Result<(), StorageError>;
    /// Removes a deleted topic's data.
    fn delete_topic(&self, name: &str) -> Result<(), StorageError>;
    /// Appends a committed-offsets change and makes it durable.
    fn append_offsets(&self, record: &OffsetRecord) -> Result<(), StorageError>;
    /// Everything persisted: topics with their logs, then the offsets changes in order.
    fn load(&self) -> Result<(Vec<LoadedTopic>, Vec<OffsetRecord>), StorageError>;
    /// Where the data lives, for the start-up message (None: memory).
    fn location(&self) -> Option<&Path>;
}

/// Everything in memory; nothing survives the process.
#[derive(Debug, Default)]
pub(crate) struct MemoryStorage;

impl Storage for MemoryStorage {
    fn create_log(&self, _: &TopicMeta, _: i32) -> Result<Box<dyn PartitionLog>, StorageError> {
        Ok(Box::new(MemoryLog::new()))
    }
    fn save_topic(&self, _: &TopicMeta) -> Result<(), StorageError> {
        Ok(())
    }
    fn delete_topic(&self, _: &str) -> Result<(), StorageError> {
        Ok(())
    }
    fn append_offsets(&self, _: &OffsetRecord) -> Result<(), StorageError> {
        Ok(())
    }
    fn load(&self) -> Result<(Vec<LoadedTopic>, Vec<OffsetRecord>), StorageError> {
        Ok((Vec::new(), Vec::new()))
    }
    fn location(&self) -> Option<&Path> {
        None
    }
}
