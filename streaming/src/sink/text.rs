//! `save_as_text_files`: one directory per batch, published atomically.
//!
//! Layout (as Spark's `saveAsTextFiles` with one partition):
//! `PREFIX-<ms>.SUFFIX/part-00000` and an empty `PREFIX-<ms>.SUFFIX/_SUCCESS`.
//! The directory is built under a hidden name in the same parent
//! (`.NAME.tmp-<pid>-<n>`), its files are synced, and it is renamed into
//! place, so a reader listing the parent sees a batch complete or not at all,
//! and the output is durable before the batch's offsets are committed.
//! [`write_batch_dir`] writes and publishes in one step (a retried write
//! replaces the earlier directory: the old one is renamed aside, the new one
//! renamed in, then the old one deleted).
//!
//! The engine's `save_as_text_files` splits this in two for exactly-once
//! output: [`stage_batch_dir`] writes the complete directory under a hidden,
//! deterministic name (`.NAME.staged`) during the output stage, and
//! [`publish_staged`] renames it into place only after the batch's offsets
//! were committed. A batch abandoned before its commit has its staged copy
//! removed ([`discard_staged`]), so nothing of it is ever visible.

use std::ffi::OsString;
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::dstream::Element;
use crate::dstream::node::Node;
use crate::error::StreamingError;
use crate::graph::{BatchScope, OutputOp};
use crate::repr::PyRepr;
use crate::time::BatchTime;

/// The directory a batch writes to: `PREFIX-<ms>.SUFFIX`, or `PREFIX-<ms>`
/// when `suffix` is empty (Spark's `rddToFileName`).
pub fn batch_dir(prefix: &Path, suffix: &str, time: BatchTime) -> PathBuf {
    let mut name = OsString::from(prefix.as_os_str());
    name.push(format!("-{}", time.millis()));
    if !suffix.is_empty() {
        name.push(".");
        name.push(suffix);
    }
    PathBuf::from(name)
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

fn sibling(target: &Path, tag: &str) -> io::Result<PathBuf> {
    let name = target.file_name().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} has no file name", target.display()),
        )
    })?;
    let mut hidden = OsString::from(".");
    hidden.push(name);
    hidden.push(format!(
        ".{tag}-{}-{}",
        std::process::id(),
        TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    Ok(target.with_file_name(hidden))
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Writes one batch directory at `target` with `part-00000` holding `lines`
/// (each followed by `\n`) and an empty `_SUCCESS`, atomically (see the module
/// docs). `cancelled` is checked before publishing; when it returns true the
/// temporary directory is removed and [`io::ErrorKind::Interrupted`] returned.
pub fn write_batch_dir<'a>(
    target: &Path,
    lines: impl IntoIterator<Item = &'a str>,
    cancelled: impl Fn() -> bool,
) -> io::Result<()> {
    let parent = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent)?;
    let temp = sibling(target, "tmp")?;
    let result = (|| {
        fs::create_dir(&temp)?;
        let mut part = BufWriter::with_capacity(1 << 16, File::create(temp.join("part-00000"))?);
        for line in lines {
            part.write_all(line.as_bytes())?;
            part.write_all(b"\n")?;
        }
        part.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        File::create(temp.join("_SUCCESS"))?.sync_all()?;
        sync_dir(&temp)?;
        if cancelled() {
            return Err(io::Error::new(
                io::ErrorKind::Interrupted,
                "batch abandoned by Stop::Now",
            ));
        }
        publish(&temp, target)?;
        sync_dir(&parent)
    })();
    if result.is_err() {
        let _ = fs::remove_dir_all(&temp);
    }
    result
}

fn publish(temp: &Path, target: &Path) -> io::Result<()> {
    match fs::symlink_metadata(target) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => fs::rename(temp, target),
        Err(e) => Err(e),
        Ok(_) => {
            let old = sibling(target, "old")?;
            fs::rename(target, &old)?;
            fs::rename(temp, target)?;
            // The new batch is in place; failing to delete the old copy only leaves a hidden directory.
            if let Err(e) = fs::remove_dir_all(&old) {
                tracing::warn!(
                    "could not remove replaced batch output {}: {e}",
                    old.display()
                );
            }
            Ok(())
        }
    }
}

/// The hidden name a batch directory is staged under until its batch is
/// committed: `.NAME.staged` beside `NAME`. Deterministic, so a restarted
/// process finds what an earlier one staged.
pub fn staged_dir(target: &Path) -> io::Result<PathBuf> {
    let name = target.file_name().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} has no file name", target.display()),
        )
    })?;
    let mut hidden = OsString::from(".");
    hidden.push(name);
    hidden.push(".staged");
    Ok(target.with_file_name(hidden))
}

fn parent_of(target: &Path) -> PathBuf {
    match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Writes a complete batch directory (`part-00000` with `lines`, `_SUCCESS`)
/// at the staged name of `target`, synced, without publishing it. Replaces an
/// earlier staged copy (a retried attempt). Fails if `target` already exists:
/// a batch is never written twice, and two writers must not share a prefix.
pub fn stage_batch_dir<'a>(
    target: &Path,
    lines: impl IntoIterator<Item = &'a str>,
    cancelled: impl Fn() -> bool,
) -> io::Result<PathBuf> {
    if fs::symlink_metadata(target).is_ok() {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            "the batch directory already exists (does another process write to the same \
             prefix? give each its own output prefix)",
        ));
    }
    fs::create_dir_all(parent_of(target))?;
    let staged = staged_dir(target)?;
    if fs::symlink_metadata(&staged).is_ok() {
        fs::remove_dir_all(&staged)?;
    }
    let result = (|| {
        fs::create_dir(&staged)?;
        let mut part = BufWriter::with_capacity(1 << 16, File::create(staged.join("part-00000"))?);
        for line in lines {
            part.write_all(line.as_bytes())?;
            part.write_all(b"\n")?;
        }
        part.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        File::create(staged.join("_SUCCESS"))?.sync_all()?;
        sync_dir(&staged)?;
        if cancelled() {
            return Err(io::Error::new(
                io::ErrorKind::Interrupted,
                "batch abandoned by Stop::Now",
            ));
        }
        Ok(())
    })();
    match result {
        Ok(()) => Ok(staged),
        Err(e) => {
            let _ = fs::remove_dir_all(&staged);
            Err(e)
        }
    }
}

/// Publishes a staged batch directory: renames it to `target` and syncs the
/// parent. Idempotent: when `target` exists and nothing is staged, the batch
/// was published before and this does nothing.
pub fn publish_staged(target: &Path) -> io::Result<()> {
    let staged = staged_dir(target)?;
    let staged_exists = fs::symlink_metadata(&staged).is_ok();
    let target_exists = fs::symlink_metadata(target).is_ok();
    match (staged_exists, target_exists) {
        (true, false) => {
            fs::rename(&staged, target)?;
            sync_dir(&parent_of(target))
        }
        (false, true) => Ok(()),
        (true, true) => Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!(
                "both {} and its staged copy exist; another writer uses this prefix",
                target.display()
            ),
        )),
        (false, false) => Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("nothing staged for {}", target.display()),
        )),
    }
}

/// Removes a staged batch directory if there is one.
pub fn discard_staged(target: &Path) -> io::Result<()> {
    let staged = staged_dir(target)?;
    match fs::remove_dir_all(&staged) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// The `save_as_text_files` output operation: stages each batch's directory
/// during the output stage; the engine publishes it once the batch's offsets
/// are committed (see the crate docs, "Exactly-once output").
pub(crate) struct TextFilesOutput<T> {
    node: Arc<Node<T>>,
    prefix: PathBuf,
    suffix: String,
    /// The batch whose directory is staged and not yet published.
    staged: Option<BatchTime>,
}

impl<T> TextFilesOutput<T> {
    pub(crate) fn new(node: Arc<Node<T>>, prefix: PathBuf, suffix: String) -> Self {
        TextFilesOutput {
            node,
            prefix,
            suffix,
            staged: None,
        }
    }

    fn io_error(&self, target: &Path, e: io::Error) -> StreamingError {
        StreamingError::Output {
            output: format!(
                "save_as_text_files({}-<ms>{}{})",
                self.prefix.display(),
                if self.suffix.is_empty() { "" } else { "." },
                self.suffix
            ),
            source: Box::new(io::Error::new(
                e.kind(),
                format!("{}: {e}", target.display()),
            )),
        }
    }
}

impl<T: Element + PyRepr> OutputOp for TextFilesOutput<T> {
    fn describe(&self) -> String {
        let dot = if self.suffix.is_empty() { "" } else { "." };
        format!(
            "save_as_text_files({}-<ms>{dot}{})",
            self.prefix.display(),
            self.suffix
        )
    }

    fn run(&mut self, scope: &BatchScope) -> Result<(), StreamingError> {
        let Some(items) = self.node.pull_opt(scope)? else {
            return Ok(()); // a windowed stream between its slides: no batch
        };
        let target = batch_dir(&self.prefix, &self.suffix, scope.time());
        // Render all lines first: one buffer, then one pass of writes.
        let mut text = String::with_capacity(items.len() * 16);
        let mut ends = Vec::with_capacity(items.len());
        for item in items.iter() {
            item.write_str(&mut text);
            ends.push(text.len());
        }
        let mut start = 0;
        let lines = ends.iter().map(|&end| {
            let line = &text[start..end];
            start = end;
            line
        });
        match stage_batch_dir(&target, lines, || scope.cancelled()) {
            Ok(_) => {
                self.staged = Some(scope.time());
                Ok(())
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted && scope.cancelled() => {
                Err(StreamingError::Cancelled)
            }
            Err(e) => Err(self.io_error(&target, e)),
        }
    }

    fn publish(&mut self, time: BatchTime) -> Result<Vec<PathBuf>, StreamingError> {
        if self.staged != Some(time) {
            return Ok(Vec::new());
        }
        let target = batch_dir(&self.prefix, &self.suffix, time);
        publish_staged(&target).map_err(|e| self.io_error(&target, e))?;
        self.staged = None;
        Ok(vec![target])
    }

    fn discard(&mut self, time: BatchTime) {
        let target = batch_dir(&self.prefix, &self.suffix, time);
        if let Err(e) = discard_staged(&target) {
            tracing::warn!(
                "could not remove staged output of {}: {e}",
                target.display()
            );
        }
        self.staged = None;
    }

    fn orphans(&mut self, keep: Option<BatchTime>, remove: bool) -> Vec<PathBuf> {
        let probe = batch_dir(&self.prefix, &self.suffix, BatchTime::from_millis(0));
        let Some(stem) = self
            .prefix
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
        else {
            return Vec::new();
        };
        // `.STEM-<ms>.SUFFIX.staged` (no `.SUFFIX` when the suffix is empty).
        let head = format!(".{stem}-");
        let tail = if self.suffix.is_empty() {
            ".staged".to_owned()
        } else {
            format!(".{}.staged", self.suffix)
        };
        let parent = parent_of(&probe);
        let Ok(entries) = fs::read_dir(&parent) else {
            return Vec::new();
        };
        let mut found = Vec::new();
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(ms) = name
                .strip_prefix(&head)
                .and_then(|rest| rest.strip_suffix(&tail))
                .and_then(|ms| ms.parse::<i64>().ok())
            else {
                continue;
            };
            if keep.is_some_and(|k| k.millis() == ms) {
                continue;
            }
            let path = entry.path();
            if remove && let Err(e) = fs::remove_dir_all(&path) {
                tracing::warn!("could not remove {}: {e}", path.display());
            }
            found.push(path);
        }
        found
    }

    fn recover(&mut self, time: BatchTime, committed: bool) -> Result<(), StreamingError> {
        let target = batch_dir(&self.prefix, &self.suffix, time);
        let staged = staged_dir(&target).map_err(|e| self.io_error(&target, e))?;
        if fs::symlink_metadata(&staged).is_err() {
            return Ok(()); // published already, or never staged
        }
        if committed {
            tracing::info!(
                "publishing {} staged by batch {time}, whose offsets were committed",
                target.display()
            );
            publish_staged(&target).map_err(|e| self.io_error(&target, e))
        } else {
            tracing::info!(
                "discarding {} staged by batch {time}, whose offsets were not committed",
                staged.display()
            );
            discard_staged(&target).map_err(|e| self.io_error(&target, e))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_spark() {
        let t = BatchTime::from_millis(1_700_000_005_000);
        assert_eq!(
            batch_dir(Path::new("out/f"), "log", t),
            PathBuf::from("out/f-1700000005000.log")
        );
        assert_eq!(
            batch_dir(Path::new("out/f"), "", t),
            PathBuf::from("out/f-1700000005000")
        );
    }

    #[test]
    fn writes_then_replaces_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out").join("f-5000.log");
        write_batch_dir(&target, ["(None, 'a')", "('k', 'b')"], || false).unwrap();
        assert_eq!(
            fs::read_to_string(target.join("part-00000")).unwrap(),
            "(None, 'a')\n('k', 'b')\n"
        );
        assert_eq!(fs::read(target.join("_SUCCESS")).unwrap(), b"");
        write_batch_dir(&target, ["x"], || false).unwrap();
        assert_eq!(
            fs::read_to_string(target.join("part-00000")).unwrap(),
            "x\n"
        );
        // Only the published directory is left: no temporary or replaced copies.
        let names: Vec<_> = fs::read_dir(target.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![OsString::from("f-5000.log")]);
    }

    #[test]
    fn empty_batch_writes_empty_part_file() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("f-5000");
        write_batch_dir(&target, std::iter::empty(), || false).unwrap();
        assert_eq!(fs::read(target.join("part-00000")).unwrap(), b"");
        assert!(target.join("_SUCCESS").exists());
    }

    #[test]
    fn cancelled_write_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("f-5000.log");
        let err = write_batch_dir(&target, ["a"], || true).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::Interrupted);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn io_errors_are_returned() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("file");
        fs::write(&blocker, "x").unwrap();
        // The parent "directory" is a file.
        assert!(write_batch_dir(&blocker.join("f-1"), ["a"], || false).is_err());
    }
}
