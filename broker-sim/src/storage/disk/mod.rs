//! [`DiskStorage`]: everything under one data directory.
//!
//! ```text
//! DIR/kt-broker.lock               locked (flock) while a broker uses DIR
//! DIR/storage.version              "1": the layout below
//! DIR/topics/<topic>/topic.meta    id, placement, configs (meta.rs)
//! DIR/topics/<topic>/<partition>/<base offset, 20 digits>.log   segments (log.rs)
//! DIR/topics/<topic>/<partition>/log-start-offset
//! DIR/offsets/committed.log        committed-offsets changes (storage/offsets.rs)
//! ```
//!
//! Small files (`topic.meta`, `log-start-offset`) are replaced atomically: written to a
//! temporary name, synced, renamed, and the directory synced. A topic directory without its
//! `topic.meta` is a creation cut short by a crash and is removed on start; a deleted topic is
//! renamed away first, then removed, so a crash leaves either all of it or none. The offsets
//! log is rewritten as one record per group on every start.

mod log;
mod meta;

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

pub(crate) use log::{DiskLog, RollPolicy};

use super::offsets::{self, OffsetRecord, OffsetTable};
use super::{LoadedTopic, Storage, StorageError, TopicMeta};
use crate::log::PartitionLog;
use crate::state::lock;

const VERSION: &str = "1";

/// Syncs a directory so entries created, renamed or removed in it are durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), StorageError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| StorageError::io("sync", dir, &e))
}

/// Replaces `path` with `data` atomically (temp file, sync, rename, sync the directory).
pub(crate) fn atomic_write(path: &Path, data: &[u8]) -> Result<(), StorageError> {
    let tmp = path.with_extension("tmp");
    let written = File::create(&tmp)
        .and_then(|mut f| f.write_all(data).and_then(|()| f.sync_all()))
        .and_then(|()| std::fs::rename(&tmp, path));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(StorageError::io("write", path, &e));
    }
    match path.parent() {
        Some(dir) => sync_dir(dir),
        None => Ok(()),
    }
}

/// Data kept under one directory; see the module docs for the layout.
#[derive(Debug)]
pub(crate) struct DiskStorage {
    root: PathBuf,
    roll: RollPolicy,
    offsets: Mutex<File>,
    /// Held for the storage's lifetime: the OS releases the lock when the broker exits.
    _lock: File,
}

fn io<'a>(action: &'static str, path: &'a Path) -> impl Fn(std::io::Error) -> StorageError + 'a {
    move |e| StorageError::io(action, path, &e)
}

impl DiskStorage {
    /// Opens (creating) `root`, taking its lock. Fails when another broker holds it.
    pub(crate) fn open(root: &Path, roll: RollPolicy) -> Result<Self, StorageError> {
        std::fs::create_dir_all(root.join("topics")).map_err(io("create", root))?;
        std::fs::create_dir_all(root.join("offsets")).map_err(io("create", root))?;
        let lock_path = root.join("kt-broker.lock");
        let lock_file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io("open", &lock_path))?;
        if lock_file.try_lock().is_err() {
            return Err(StorageError {
                action: "lock",
                path: lock_path,
                kind: std::io::ErrorKind::WouldBlock,
                message: "the data directory is in use by another kt broker".into(),
            });
        }
        let version_path = root.join("storage.version");
        match std::fs::read_to_string(&version_path) {
            Ok(v) if v.trim() == VERSION => {}
            Ok(v) => {
                return Err(StorageError::corrupt(
                    &version_path,
                    format!(
                        "storage layout version {:?}; this kt broker reads {VERSION}",
                        v.trim()
                    ),
                ));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                atomic_write(&version_path, VERSION.as_bytes())?;
            }
            Err(e) => return Err(StorageError::io("read", &version_path, &e)),
        }
        let offsets_path = root.join("offsets").join("committed.log");
        let offsets = OpenOptions::new()
            .create(true)
            .append(true)
            .read(true)
            .open(&offsets_path)
            .map_err(io("open", &offsets_path))?;
        Ok(DiskStorage {
            root: root.to_owned(),
            roll,
            offsets: Mutex::new(offsets),
            _lock: lock_file,
        })
    }

    fn topic_dir(&self, name: &str) -> PathBuf {
        self.root.join("topics").join(name)
    }

    fn offsets_path(&self) -> PathBuf {
        self.root.join("offsets").join("committed.log")
    }

    /// The roll policy of a topic: its `segment.bytes` / `segment.ms` over the broker's.
    fn roll_for(&self, meta: &TopicMeta) -> RollPolicy {
        let get = |k: &str| {
            meta.configs
                .iter()
                .find(|(n, _)| n == k)
                .and_then(|(_, v)| v.parse::<u64>().ok())
        };
        RollPolicy {
            segment_bytes: get("segment.bytes")
                .unwrap_or(self.roll.segment_bytes)
                .max(1),
            segment_age: get("segment.ms")
                .map(std::time::Duration::from_millis)
                .unwrap_or(self.roll.segment_age),
        }
    }

    fn load_topic(&self, dir: &Path, name: &str) -> Result<Option<LoadedTopic>, StorageError> {
        let meta_path = dir.join("topic.meta");
        let text = match std::fs::read_to_string(&meta_path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                tracing::warn!(
                    "{}: no topic.meta (creation cut short); removing it",
                    dir.display()
                );
                std::fs::remove_dir_all(dir).map_err(io("remove", dir))?;
                return Ok(None);
            }
            Err(e) => return Err(StorageError::io("read", &meta_path, &e)),
        };
        let meta = meta::decode(name, &text, &meta_path)?;
        let roll = self.roll_for(&meta);
        let mut logs: Vec<Box<dyn PartitionLog>> = Vec::with_capacity(meta.partitions.len());
        for p in 0..meta.partitions.len() {
            logs.push(Box::new(DiskLog::open(dir.join(p.to_string()), roll)?));
        }
        Ok(Some(LoadedTopic { meta, logs }))
    }

    /// Replays the offsets log, cutting a torn tail, and rewrites it compacted.
    fn load_offsets(&self) -> Result<Vec<OffsetRecord>, StorageError> {
        let path = self.offsets_path();
        let data = std::fs::read(&path).map_err(io("read", &path))?;
        let (records, valid) = offsets::decode_all(&data);
        if valid < data.len() {
            tracing::warn!(
                "{}: ignoring {} bytes after byte {valid}: a record cut short by a crash (it was never acknowledged)",
                path.display(),
                data.len() - valid
            );
        }
        let mut table = OffsetTable::new();
        for r in records {
            r.apply(&mut table);
        }
        let snapshot = offsets::snapshot(&table);
        let bytes: Vec<u8> = snapshot.iter().flat_map(OffsetRecord::encode).collect();
        atomic_write(&path, &bytes)?;
        let file = OpenOptions::new()
            .append(true)
            .read(true)
            .open(&path)
            .map_err(io("open", &path))?;
        *lock(&self.offsets) = file;
        Ok(snapshot)
    }
}

impl Storage for DiskStorage {
    fn create_log(
        &self,
        topic: &TopicMeta,
        partition: i32,
    ) -> Result<Box<dyn PartitionLog>, StorageError> {
        let dir = self.topic_dir(&topic.name).join(partition.to_string());
        Ok(Box::new(DiskLog::create(dir, self.roll_for(topic))?))
    }

    fn save_topic(&self, topic: &TopicMeta) -> Result<(), StorageError> {
        let dir = self.topic_dir(&topic.name);
        std::fs::create_dir_all(&dir).map_err(io("create", &dir))?;
        atomic_write(&dir.join("topic.meta"), meta::encode(topic).as_bytes())?;
        sync_dir(&self.root.join("topics"))
    }

    fn delete_topic(&self, name: &str) -> Result<(), StorageError> {
        let dir = self.topic_dir(name);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let gone = self
            .root
            .join("topics")
            .join(format!(".deleted-{name}-{nanos}"));
        std::fs::rename(&dir, &gone).map_err(io("rename", &dir))?;
        sync_dir(&self.root.join("topics"))?;
        std::fs::remove_dir_all(&gone).map_err(io("remove", &gone))
    }

    fn append_offsets(&self, record: &OffsetRecord) -> Result<(), StorageError> {
        let path = self.offsets_path();
        let file = lock(&self.offsets);
        let before = file.metadata().map_err(io("stat", &path))?.len();
        let written = (&*file)
            .write_all(&record.encode())
            .and_then(|()| file.sync_data());
        if let Err(e) = written {
            let _ = file.set_len(before);
            return Err(StorageError::io("write", &path, &e));
        }
        Ok(())
    }

    fn load(&self) -> Result<(Vec<LoadedTopic>, Vec<OffsetRecord>), StorageError> {
        let topics_dir = self.root.join("topics");
        let mut topics = Vec::new();
        let entries = std::fs::read_dir(&topics_dir).map_err(io("list", &topics_dir))?;
        let mut dirs = Vec::new();
        for entry in entries {
            let entry = entry.map_err(io("list", &topics_dir))?;
            dirs.push(entry.path());
        }
        dirs.sort();
        for dir in dirs {
            let Some(name) = dir.file_name().and_then(|n| n.to_str()).map(str::to_owned) else {
                continue;
            };
            if name.starts_with(".deleted-") {
                std::fs::remove_dir_all(&dir).map_err(io("remove", &dir))?;
                continue;
            }
            if crate::state::validate_topic_name(&name).is_err() || !dir.is_dir() {
                tracing::warn!("ignoring {} (not a topic directory)", dir.display());
                continue;
            }
            if let Some(t) = self.load_topic(&dir, &name)? {
                topics.push(t);
            }
        }
        Ok((topics, self.load_offsets()?))
    }

    fn location(&self) -> Option<&Path> {
        Some(&self.root)
    }
}

#[cfg(test)]
mod tests;
