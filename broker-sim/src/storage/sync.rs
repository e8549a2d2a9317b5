//! Group-committed fsync for one partition's segment files.
//!
//! Every append adds its length to the partition's `written` count and gets that count as its
//! target; acks=all waits until `synced` reaches it. The first waiter runs `fdatasync` on a
//! blocking thread (never under the partition lock, never on a runtime worker) and, when it
//! returns, marks everything written before it started as synced: waiters that queued behind
//! it usually find their target covered and return without a sync of their own. A segment
//! roll syncs the old file first, so the count only ever needs the active file.

use std::fs::File;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::StorageError;
use crate::state::lock;

#[derive(Debug)]
struct Active {
    file: Arc<File>,
    path: PathBuf,
    written: u64,
}

#[derive(Debug)]
struct SyncState {
    active: Mutex<Active>,
    synced: AtomicU64,
    gate: tokio::sync::Mutex<()>,
}

/// A partition's durability tracker; cheap to clone (shared).
#[derive(Debug, Clone)]
pub(crate) struct SyncHandle(Arc<SyncState>);

impl SyncHandle {
    /// Tracks `file` (the active segment), with nothing written yet.
    pub(crate) fn new(file: Arc<File>, path: PathBuf) -> Self {
        SyncHandle(Arc::new(SyncState {
            active: Mutex::new(Active {
                file,
                path,
                written: 0,
            }),
            synced: AtomicU64::new(0),
            gate: tokio::sync::Mutex::new(()),
        }))
    }

    /// Counts `bytes` just written to the active file; returns the target an append waits for.
    pub(crate) fn wrote(&self, bytes: u64) -> u64 {
        let mut a = lock(&self.0.active);
        a.written += bytes;
        a.written
    }

    /// The active file changed after the old one was synced: everything written so far is
    /// durable.
    pub(crate) fn rolled(&self, file: Arc<File>, path: PathBuf) {
        let mut a = lock(&self.0.active);
        a.file = file;
        a.path = path;
        self.0.synced.fetch_max(a.written, Ordering::AcqRel);
    }

    fn is_synced(&self, target: u64) -> bool {
        self.0.synced.load(Ordering::Acquire) >= target
    }

    /// Returns once every byte counted up to `target` is on stable storage.
    pub(crate) async fn wait(&self, target: u64) -> Result<(), StorageError> {
        if self.is_synced(target) {
            return Ok(());
        }
        let _turn = self.0.gate.lock().await;
        if self.is_synced(target) {
            return Ok(());
        }
        let (file, path, written) = {
            let a = lock(&self.0.active);
            (Arc::clone(&a.file), a.path.clone(), a.written)
        };
        let sync_path = path.clone();
        let result = tokio::task::spawn_blocking(move || file.sync_data()).await;
        match result {
            Ok(Ok(())) => {
                self.0.synced.fetch_max(written, Ordering::AcqRel);
                Ok(())
            }
            Ok(Err(e)) => {
                tracing::error!("fsync of {} failed: {e}", sync_path.display());
                Err(StorageError::io("sync", &path, &e))
            }
            Err(e) => Err(StorageError {
                action: "sync",
                path,
                kind: std::io::ErrorKind::Other,
                message: e.to_string(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_sync_covers_everything_written_before_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("seg");
        let file = Arc::new(File::create(&path).unwrap());
        let h = SyncHandle::new(file, path.clone());
        let a = h.wrote(10);
        let b = h.wrote(5);
        assert!(!h.is_synced(a));
        h.wait(a).await.unwrap();
        assert!(
            h.is_synced(b),
            "the sync for a covered b, written before it"
        );
        let c = h.wrote(1);
        assert!(!h.is_synced(c));
        let next = dir.path().join("seg2");
        h.rolled(Arc::new(File::create(&next).unwrap()), next);
        assert!(h.is_synced(c), "a roll syncs the old file first");
    }
}
