//! A partition log on disk: segment files of stamped record batches, written through from the
//! in-memory log that serves reads.
//!
//! Files in the partition's directory: `<base offset, 20 digits>.log` segments holding batches
//! back to back exactly as fetches return them (wire format, base offset and leader epoch
//! stamped), and `log-start-offset` (the offset DeleteRecords or retention moved the start to,
//! when it is inside a segment). The index is in memory, rebuilt on open: every segment is
//! read and every batch's CRC-32C checked. A bad batch in the last segment is a torn write
//! from a crash: the file is truncated there, with a warning naming what was cut. A bad batch
//! in an earlier segment (which was synced before the next one started) stops the broker
//! with an error instead of dropping data silently.
//!
//! A segment rolls when the next batch would take it past `segment.bytes` or it is older
//! than `segment.ms` (age counts from creation or from broker start); the old file is synced
//! first. An append that fails (disk full) truncates the file back to where it was and
//! leaves the log unchanged.
//!
//! Compaction (`cleanup.policy=compact`) replaces or drops batches in memory and then rewrites
//! each segment it touched once, from memory, to a temporary file that is synced and renamed
//! over the old one. The active segment is never compacted (as in Kafka), so the log end
//! offset a restart computes never goes back. Recovery accepts compacted batches (record
//! counts below the offset span, gaps between batches) but still checks length and CRC.

use std::collections::BTreeSet;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::{atomic_write, sync_dir};
use crate::log::batch::{self, BatchHeader};
use crate::log::{
    Appended, MemoryLog, OffsetOutOfRange, PartitionLog, SegmentInfo, TimestampOffset,
};
use crate::storage::{StorageError, SyncHandle};

const LOG_START_FILE: &str = "log-start-offset";

/// When segments roll (`segment.bytes`, `segment.ms`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RollPolicy {
    pub(crate) segment_bytes: u64,
    pub(crate) segment_age: Duration,
}

#[derive(Debug)]
struct Segment {
    base_offset: i64,
    path: PathBuf,
    size: u64,
    next_offset: i64,
    max_timestamp: i64,
    opened: Instant,
}

/// A partition's log: served from memory, every batch also in a segment file.
#[derive(Debug)]
pub(crate) struct DiskLog {
    mem: MemoryLog,
    dir: PathBuf,
    segments: Vec<Segment>,
    active: Arc<File>,
    roll: RollPolicy,
    sync: SyncHandle,
    /// Base offsets of segments whose batches compaction replaced since the last flush.
    dirty: BTreeSet<i64>,
}

fn segment_path(dir: &Path, base: i64) -> PathBuf {
    dir.join(format!("{base:020}.log"))
}

fn open_append(path: &Path) -> Result<Arc<File>, StorageError> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .read(true)
        .open(path)
        .map(Arc::new)
        .map_err(|e| StorageError::io("open", path, &e))
}

/// Segment base offsets found in `dir`, sorted.
fn list_segments(dir: &Path) -> Result<Vec<i64>, StorageError> {
    let entries = std::fs::read_dir(dir).map_err(|e| StorageError::io("list", dir, &e))?;
    let mut bases = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| StorageError::io("list", dir, &e))?;
        let name = entry.file_name();
        if name.to_str().is_some_and(|n| n.ends_with(".cleaned")) {
            // A compaction rewrite cut short by a crash; the segment itself is intact.
            let _ = std::fs::remove_file(entry.path());
            continue;
        }
        let Some(stem) = name.to_str().and_then(|n| n.strip_suffix(".log")) else {
            continue;
        };
        match stem.parse::<i64>() {
            Ok(base) if stem.len() == 20 && base >= 0 => bases.push(base),
            _ => tracing::warn!("ignoring {} in {}", stem, dir.display()),
        }
    }
    bases.sort_unstable();
    Ok(bases)
}

/// Reads a segment's batches into `mem`; returns the valid length, the next offset and the
/// largest timestamp. Stops at the first batch that is short, misplaced or fails validation.
fn recover_segment(mem: &mut MemoryLog, data: Bytes, base: i64) -> (usize, Option<String>, i64) {
    let mut at = 0usize;
    let mut max_ts = -1;
    while at < data.len() {
        let rest = &data[at..];
        let len = match batch::first_batch_len(rest) {
            Ok(len) if len <= rest.len() => len,
            Ok(len) => return (at, Some(format!("batch of {len} bytes cut short")), max_ts),
            Err(e) => return (at, Some(e.to_string()), max_ts),
        };
        // Stored batches may be compacted: length, magic and CRC are checked, record counts
        // are not (they fall short of the offset span after compaction).
        let header: BatchHeader = match batch::validate_stored(&rest[..len]) {
            Ok(h) if h.magic == 2 => h,
            Ok(h) => return (at, Some(format!("magic byte {}", h.magic)), max_ts),
            Err(e) => return (at, Some(e.to_string()), max_ts),
        };
        if header.base_offset < base.max(mem.log_end_offset()) {
            let why = format!(
                "batch at offset {} is below the expected {}",
                header.base_offset,
                mem.log_end_offset()
            );
            return (at, Some(why), max_ts);
        }
        mem.restore(data.slice(at..at + len), &header);
        max_ts = max_ts.max(header.max_timestamp);
        at += len;
    }
    (at, None, max_ts)
}

impl DiskLog {
    /// A new, empty log in `dir` (created).
    pub(crate) fn create(dir: PathBuf, roll: RollPolicy) -> Result<Self, StorageError> {
        std::fs::create_dir_all(&dir).map_err(|e| StorageError::io("create", &dir, &e))?;
        DiskLog::open(dir, roll)
    }

    /// Opens the log in `dir`, recovering every segment (see the module docs).
    pub(crate) fn open(dir: PathBuf, roll: RollPolicy) -> Result<Self, StorageError> {
        let mut mem = MemoryLog::new();
        let mut segments = Vec::new();
        let bases = list_segments(&dir)?;
        for (i, &base) in bases.iter().enumerate() {
            let path = segment_path(&dir, base);
            let data = std::fs::read(&path).map_err(|e| StorageError::io("read", &path, &e))?;
            let total = data.len();
            let (valid, problem, max_timestamp) =
                recover_segment(&mut mem, Bytes::from(data), base);
            if let Some(why) = problem {
                if i + 1 < bases.len() {
                    return Err(StorageError::corrupt(
                        &path,
                        format!("bad batch at byte {valid} in a finished segment: {why}"),
                    ));
                }
                tracing::warn!(
                    "{}: truncating {} bytes at byte {valid} (from offset {}): {why} — a write cut short by a crash; nothing after it was acknowledged with acks=all",
                    path.display(),
                    total - valid,
                    mem.log_end_offset()
                );
                let f = OpenOptions::new()
                    .write(true)
                    .open(&path)
                    .map_err(|e| StorageError::io("open", &path, &e))?;
                f.set_len(valid as u64)
                    .and_then(|()| f.sync_all())
                    .map_err(|e| StorageError::io("truncate", &path, &e))?;
            }
            segments.push(Segment {
                base_offset: base,
                path,
                size: valid as u64,
                next_offset: mem.log_end_offset().max(base),
                max_timestamp,
                opened: Instant::now(),
            });
        }
        let checkpoint = read_log_start(&dir)?;
        let first_base = segments.first().map_or(0, |s| s.base_offset);
        let start = checkpoint.unwrap_or(0).max(first_base);
        if mem.segments().is_empty() {
            // No batches: the segment names (or the checkpoint) say where the log is.
            let end = segments.last().map_or(start, |s| s.base_offset).max(start);
            mem.set_recovered_start(end);
        } else {
            mem.advance_log_start(start)?;
        }
        if segments.is_empty() {
            let base = mem.log_end_offset();
            let path = segment_path(&dir, base);
            open_append(&path)?;
            sync_dir(&dir)?;
            segments.push(Segment {
                base_offset: base,
                path,
                size: 0,
                next_offset: base,
                max_timestamp: -1,
                opened: Instant::now(),
            });
        }
        let active_path = segments[segments.len() - 1].path.clone();
        let active = open_append(&active_path)?;
        let sync = SyncHandle::new(Arc::clone(&active), active_path);
        Ok(DiskLog {
            mem,
            dir,
            segments,
            active,
            roll,
            sync,
            dirty: BTreeSet::new(),
        })
    }

    fn active_segment(&mut self) -> &mut Segment {
        let last = self.segments.len() - 1;
        &mut self.segments[last]
    }

    /// Starts a new segment at `base` after syncing the active one.
    fn roll(&mut self, base: i64) -> Result<(), StorageError> {
        let old = self.active_segment().path.clone();
        self.active
            .sync_data()
            .map_err(|e| StorageError::io("sync", &old, &e))?;
        let path = segment_path(&self.dir, base);
        let file = open_append(&path)?;
        sync_dir(&self.dir)?;
        tracing::debug!("rolled {} -> {}", old.display(), path.display());
        self.active = Arc::clone(&file);
        self.sync.rolled(file, path.clone());
        self.segments.push(Segment {
            base_offset: base,
            path,
            size: 0,
            next_offset: base,
            max_timestamp: -1,
            opened: Instant::now(),
        });
        Ok(())
    }

    fn needs_roll(&self, len: u64) -> bool {
        let s = &self.segments[self.segments.len() - 1];
        s.size > 0
            && (s.size + len > self.roll.segment_bytes
                || s.opened.elapsed() >= self.roll.segment_age)
    }

    /// Writes the stored bytes of the batch just appended in memory.
    fn write_last(&mut self, stored: &Bytes) -> Result<u64, StorageError> {
        let len = stored.len() as u64;
        let header = batch::parse_header(stored)
            .map_err(|e| StorageError::corrupt(&self.dir, e.to_string()))?;
        if self.needs_roll(len) {
            self.roll(header.base_offset)?;
        }
        let size = self.active_segment().size;
        let path = self.active_segment().path.clone();
        if let Err(e) = (&*self.active).write_all(stored) {
            // Leave no partial batch behind: recovery would truncate it, but reads after the
            // disk frees up must not find a torn batch before the next one either.
            if let Err(t) = self.active.set_len(size) {
                tracing::error!(
                    "{}: cannot cut a failed write back to {size} bytes: {t}",
                    path.display()
                );
            }
            return Err(StorageError::io("write", &path, &e));
        }
        let next = self.mem.log_end_offset();
        let seg = self.active_segment();
        seg.size += len;
        seg.next_offset = next;
        seg.max_timestamp = seg.max_timestamp.max(header.max_timestamp);
        Ok(self.sync.wrote(len))
    }
}

/// Replaces a finished segment's contents atomically: temp file, sync, rename, sync dir.
fn rewrite(path: &Path, data: &[u8]) -> Result<(), StorageError> {
    let tmp = path.with_extension("cleaned");
    let written = File::create(&tmp)
        .and_then(|mut f| f.write_all(data).and_then(|()| f.sync_all()))
        .and_then(|()| std::fs::rename(&tmp, path));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(StorageError::io("rewrite", path, &e));
    }
    match path.parent() {
        Some(dir) => sync_dir(dir),
        None => Ok(()),
    }
}

fn read_log_start(dir: &Path) -> Result<Option<i64>, StorageError> {
    let path = dir.join(LOG_START_FILE);
    match std::fs::read_to_string(&path) {
        Ok(s) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| StorageError::corrupt(&path, "not an offset")),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(StorageError::io("read", &path, &e)),
    }
}

impl PartitionLog for DiskLog {
    fn log_start_offset(&self) -> i64 {
        self.mem.log_start_offset()
    }

    fn log_end_offset(&self) -> i64 {
        self.mem.log_end_offset()
    }

    fn append(
        &mut self,
        raw: &[u8],
        header: &BatchHeader,
        leader_epoch: i32,
    ) -> Result<Appended, StorageError> {
        let appended = self.mem.append(raw, header, leader_epoch)?;
        let Some(stored) = self.mem.last_batch().cloned() else {
            return Err(StorageError::corrupt(&self.dir, "append left no batch"));
        };
        match self.write_last(&stored) {
            Ok(target) => Ok(Appended {
                base_offset: appended.base_offset,
                sync: Some((self.sync.clone(), target)),
            }),
            Err(e) => {
                self.mem.pop_last();
                Err(e)
            }
        }
    }

    fn read(
        &self,
        offset: i64,
        max_bytes: usize,
        min_one_batch: bool,
    ) -> Result<Bytes, OffsetOutOfRange> {
        self.mem.read(offset, max_bytes, min_one_batch)
    }

    fn offset_for_timestamp(&self, timestamp: i64) -> Option<TimestampOffset> {
        self.mem.offset_for_timestamp(timestamp)
    }

    fn max_timestamp(&self) -> Option<TimestampOffset> {
        self.mem.max_timestamp()
    }

    fn advance_log_start(&mut self, offset: i64) -> Result<i64, StorageError> {
        let target = offset.min(self.mem.log_end_offset());
        if target <= self.mem.log_start_offset() {
            return Ok(self.mem.log_start_offset());
        }
        atomic_write(
            &self.dir.join(LOG_START_FILE),
            target.to_string().as_bytes(),
        )?;
        let start = self.mem.advance_log_start(target)?;
        // Whole segments below the new start go, never the active one.
        while self.segments.len() > 1 && self.segments[0].next_offset <= start {
            let gone = self.segments.remove(0);
            if let Err(e) = std::fs::remove_file(&gone.path) {
                tracing::warn!("cannot delete {}: {e}", gone.path.display());
            } else {
                tracing::debug!(
                    "deleted segment {} (log start {start})",
                    gone.path.display()
                );
            }
        }
        Ok(start)
    }

    fn segments(&self) -> Vec<SegmentInfo> {
        self.segments
            .iter()
            .map(|s| SegmentInfo {
                base_offset: s.base_offset,
                next_offset: s.next_offset,
                size_bytes: s.size,
                max_timestamp: s.max_timestamp,
            })
            .collect()
    }

    fn max_leader_epoch(&self) -> i32 {
        self.mem.max_leader_epoch()
    }

    fn batches(&self) -> Vec<Bytes> {
        self.mem.batches()
    }

    /// Compaction is not applied to logs on disk: rewriting a segment in place (and making
    /// recovery accept batches with offset gaps) is not implemented, so compacted topics under
    /// `--data-dir` keep every record (retention still applies).
    fn replace_batch(&mut self, base_offset: i64, expected_len: usize, new: Option<Bytes>) -> bool {
        let i = self
            .segments
            .partition_point(|s| s.base_offset <= base_offset)
            .saturating_sub(1);
        if i + 1 >= self.segments.len() {
            return false; // the active segment is never compacted
        }
        if !self.mem.replace_batch(base_offset, expected_len, new) {
            return false;
        }
        self.dirty.insert(self.segments[i].base_offset);
        true
    }

    fn flush_rewrites(&mut self) -> Result<(), StorageError> {
        let dirty = std::mem::take(&mut self.dirty);
        let units = self.mem.segments();
        let batches = self.mem.batches();
        let mut first_error = None;
        for base in dirty {
            let Some(seg) = self.segments.iter_mut().find(|s| s.base_offset == base) else {
                continue; // deleted by retention meanwhile
            };
            let mut data = Vec::new();
            for (u, b) in units.iter().zip(&batches) {
                if u.base_offset >= seg.base_offset && u.base_offset < seg.next_offset {
                    data.extend_from_slice(b);
                }
            }
            match rewrite(&seg.path, &data) {
                Ok(()) => {
                    tracing::debug!(
                        "compacted {}: {} -> {} bytes",
                        seg.path.display(),
                        seg.size,
                        data.len()
                    );
                    seg.size = data.len() as u64;
                }
                Err(e) => {
                    // Left dirty: the next compaction pass tries again.
                    self.dirty.insert(base);
                    first_error.get_or_insert(e);
                }
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
#[path = "log_tests.rs"]
mod tests;
