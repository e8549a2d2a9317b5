//! The checkpoint directory: what a restarted context resumes from.
//!
//! One file, `DIR/checkpoint.json`, replaced atomically (written to
//! `checkpoint.json.tmp`, synced, renamed over the old one, directory synced),
//! so a crash leaves either the old or the new checkpoint, never a torn one.
//! Format (version 1):
//!
//! ```text
//! {
//!   "format": 1,
//!   "batch_interval_ms": 5000,
//!   "completed": {                          // the last completed batch, or null
//!     "batch_time": 1700000005000,
//!     "inputs": [[{"topic": "mytopic", "partition": 0, "from": 10, "until": 42}]],
//!     "state": [{"kind": "window", "state": [[1700000000000, ["a", "b"]], ...]}]
//!   },
//!   "pending": null                         // or a batch in the same shape
//! }
//! ```
//!
//! `inputs` holds each input's offset ranges, in input order; `state` each
//! stateful operator's state (its serde JSON form) in the order the operators
//! were created. A batch is written as `pending` after its outputs are staged
//! and before its offsets are committed, with the state as it will be once
//! committed; after the commit and the publication of its outputs it is
//! written again as `completed`. At start, a `pending` batch is resolved by
//! asking the source which offsets are committed (see
//! [`decide`](crate::checkpoint::decide)): committed means its staged
//! outputs are published and its state is kept; not committed means they
//! are discarded and the `completed` state is restored.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::StreamingError;
use crate::graph::StatefulOp;
use crate::source::{OffsetRange, TopicPartition};

const FILE: &str = "checkpoint.json";
const FORMAT: u32 = 1;

/// One offset range as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct RangeRecord {
    topic: String,
    partition: i32,
    from: i64,
    until: i64,
}

impl From<&OffsetRange> for RangeRecord {
    fn from(r: &OffsetRange) -> Self {
        RangeRecord {
            topic: r.tp.topic.to_string(),
            partition: r.tp.partition,
            from: r.from,
            until: r.until,
        }
    }
}

impl RangeRecord {
    pub(crate) fn to_range(&self) -> OffsetRange {
        OffsetRange {
            tp: TopicPartition::new(self.topic.as_str(), self.partition),
            from: self.from,
            until: self.until,
        }
    }
}

/// One stateful operator's state as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct OpState {
    kind: String,
    state: serde_json::Value,
}

/// A batch as stored: its time, offset ranges per input, operator state.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct BatchRecord {
    pub(crate) batch_time: i64,
    pub(crate) inputs: Vec<Vec<RangeRecord>>,
    pub(crate) state: Vec<OpState>,
}

impl BatchRecord {
    pub(crate) fn new(
        batch_time: i64,
        inputs: &[Vec<OffsetRange>],
        ops: &[std::sync::Arc<dyn StatefulOp>],
    ) -> Result<Self, StreamingError> {
        let state = ops
            .iter()
            .map(|op| {
                Ok(OpState {
                    kind: op.kind().to_owned(),
                    state: op.snapshot()?,
                })
            })
            .collect::<Result<_, StreamingError>>()?;
        Ok(BatchRecord {
            batch_time,
            inputs: inputs
                .iter()
                .map(|ranges| ranges.iter().map(RangeRecord::from).collect())
                .collect(),
            state,
        })
    }

    /// Restores every operator's state from this record.
    pub(crate) fn restore(
        &self,
        ops: &[std::sync::Arc<dyn StatefulOp>],
    ) -> Result<(), StreamingError> {
        if self.state.len() != ops.len() {
            return Err(StreamingError::Checkpoint(format!(
                "it holds the state of {} stateful operator(s) but the graph has {}; \
                 a changed job needs a new checkpoint directory",
                self.state.len(),
                ops.len()
            )));
        }
        for (i, (saved, op)) in self.state.iter().zip(ops).enumerate() {
            if saved.kind != op.kind() {
                return Err(StreamingError::Checkpoint(format!(
                    "stateful operator #{i} is a {} in the checkpoint but a {} in the graph; \
                     a changed job needs a new checkpoint directory",
                    saved.kind,
                    op.kind()
                )));
            }
            op.restore(saved.state.clone())?;
        }
        Ok(())
    }
}

/// The whole checkpoint file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct CheckpointData {
    format: u32,
    batch_interval_ms: i64,
    pub(crate) completed: Option<BatchRecord>,
    pub(crate) pending: Option<BatchRecord>,
}

/// A checkpoint directory.
#[derive(Debug, Clone)]
pub(crate) struct Checkpoint {
    dir: PathBuf,
    interval_ms: i64,
    /// The last completed batch, kept to rewrite beside a new pending one.
    completed: Option<BatchRecord>,
}

fn io_err(path: &Path, what: &str, e: io::Error) -> StreamingError {
    StreamingError::Checkpoint(format!("{what} {}: {e}", path.display()))
}

impl Checkpoint {
    /// Opens `dir` (creating it) and reads the checkpoint in it, if any.
    pub(crate) fn open(
        dir: &Path,
        interval_ms: i64,
    ) -> Result<(Checkpoint, Option<CheckpointData>), StreamingError> {
        fs::create_dir_all(dir).map_err(|e| io_err(dir, "creating", e))?;
        let path = dir.join(FILE);
        let data = match fs::read(&path) {
            Ok(bytes) => {
                let data: CheckpointData = serde_json::from_slice(&bytes).map_err(|e| {
                    StreamingError::Checkpoint(format!(
                        "{} is not a valid checkpoint: {e}",
                        path.display()
                    ))
                })?;
                if data.format != FORMAT {
                    return Err(StreamingError::Checkpoint(format!(
                        "{} has format {}, this kt reads format {FORMAT}",
                        path.display(),
                        data.format
                    )));
                }
                if data.batch_interval_ms != interval_ms {
                    return Err(StreamingError::Checkpoint(format!(
                        "{} was written with a {} ms batch interval, not {interval_ms} ms; \
                         use the same interval or a new checkpoint directory",
                        path.display(),
                        data.batch_interval_ms
                    )));
                }
                Some(data)
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(io_err(&path, "reading", e)),
        };
        let completed = data.as_ref().and_then(|d| d.completed.clone());
        Ok((
            Checkpoint {
                dir: dir.to_path_buf(),
                interval_ms,
                completed,
            },
            data,
        ))
    }

    /// Records `batch` as in progress (outputs staged, offsets not yet committed).
    pub(crate) fn write_pending(&mut self, batch: BatchRecord) -> Result<(), StreamingError> {
        let completed = self.completed.clone();
        self.write(&CheckpointData {
            format: FORMAT,
            batch_interval_ms: self.interval_ms,
            completed,
            pending: Some(batch),
        })
    }

    /// Records `batch` as the last completed one.
    pub(crate) fn write_completed(&mut self, batch: BatchRecord) -> Result<(), StreamingError> {
        self.write(&CheckpointData {
            format: FORMAT,
            batch_interval_ms: self.interval_ms,
            completed: Some(batch.clone()),
            pending: None,
        })?;
        self.completed = Some(batch);
        Ok(())
    }

    /// Drops a pending record (its batch was abandoned), keeping the last completed one.
    pub(crate) fn clear_pending(&mut self) -> Result<(), StreamingError> {
        self.write(&CheckpointData {
            format: FORMAT,
            batch_interval_ms: self.interval_ms,
            completed: self.completed.clone(),
            pending: None,
        })
    }

    fn write(&self, data: &CheckpointData) -> Result<(), StreamingError> {
        let bytes = serde_json::to_vec(data)
            .map_err(|e| StreamingError::Checkpoint(format!("encoding: {e}")))?;
        let tmp = self.dir.join(format!("{FILE}.tmp"));
        let path = self.dir.join(FILE);
        (|| {
            let mut f = File::create(&tmp)?;
            f.write_all(&bytes)?;
            f.sync_all()?;
            fs::rename(&tmp, &path)?;
            File::open(&self.dir)?.sync_all()
        })()
        .map_err(|e| io_err(&path, "writing", e))
    }
}

/// Whether a batch's offsets were committed, judged from the committed
/// offsets now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Every non-empty range's partition is committed at the range's end.
    Committed,
    /// None is: each is still at the range's start (or has no commit).
    NotCommitted,
    /// Some are, some are not, or the offsets moved elsewhere (another
    /// member took the partitions over and committed since).
    Unknown,
}

/// Decides from the committed offsets whether `ranges` were committed.
/// Only non-empty ranges tell anything (an empty range commits the same
/// offset either way); with none, the batch counts as committed.
pub(crate) fn decide<'a>(
    ranges: impl IntoIterator<Item = &'a OffsetRange>,
    committed: &std::collections::BTreeMap<TopicPartition, Option<i64>>,
) -> Decision {
    let (mut done, mut not_done, mut other) = (0, 0, 0);
    for r in ranges.into_iter().filter(|r| !r.is_empty()) {
        match committed.get(&r.tp).copied().flatten() {
            Some(c) if c == r.until => done += 1,
            Some(c) if c == r.from => not_done += 1,
            None => not_done += 1,
            Some(_) => other += 1,
        }
    }
    match (done, not_done, other) {
        (_, 0, 0) => Decision::Committed,
        (0, _, 0) => Decision::NotCommitted,
        _ => Decision::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn range(p: i32, from: i64, until: i64) -> OffsetRange {
        OffsetRange {
            tp: TopicPartition::new("t", p),
            from,
            until,
        }
    }

    #[test]
    fn decisions() {
        let ranges = [range(0, 10, 20), range(1, 5, 5), range(2, 0, 3)];
        let tp = |p| TopicPartition::new("t", p);
        let c = |a: Option<i64>, b: Option<i64>| -> BTreeMap<_, _> {
            [(tp(0), a), (tp(1), Some(5)), (tp(2), b)].into()
        };
        assert_eq!(decide(&ranges, &c(Some(20), Some(3))), Decision::Committed);
        assert_eq!(decide(&ranges, &c(Some(10), None)), Decision::NotCommitted);
        assert_eq!(decide(&ranges, &c(Some(20), None)), Decision::Unknown);
        assert_eq!(decide(&ranges, &c(Some(25), Some(3))), Decision::Unknown);
        assert_eq!(
            decide(&[range(0, 4, 4)], &BTreeMap::new()),
            Decision::Committed
        );
    }

    #[test]
    fn writes_atomically_and_checks_interval() {
        let dir = tempfile::tempdir().unwrap();
        let (mut cp, data) = Checkpoint::open(dir.path(), 1000).unwrap();
        assert!(data.is_none());
        let batch = BatchRecord::new(5000, &[vec![range(0, 1, 2)]], &[]).unwrap();
        cp.write_pending(batch.clone()).unwrap();
        let (_, data) = Checkpoint::open(dir.path(), 1000).unwrap();
        let data = data.unwrap();
        assert!(data.completed.is_none());
        assert_eq!(data.pending.unwrap().batch_time, 5000);
        cp.write_completed(batch).unwrap();
        let (_, data) = Checkpoint::open(dir.path(), 1000).unwrap();
        let data = data.unwrap();
        assert!(data.pending.is_none());
        assert_eq!(
            data.completed.unwrap().inputs[0][0].to_range(),
            range(0, 1, 2)
        );
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from(FILE)]);
        assert!(matches!(
            Checkpoint::open(dir.path(), 2000),
            Err(StreamingError::Checkpoint(m)) if m.contains("1000 ms batch interval")
        ));
        fs::write(dir.path().join(FILE), b"{not json").unwrap();
        assert!(matches!(
            Checkpoint::open(dir.path(), 1000),
            Err(StreamingError::Checkpoint(_))
        ));
    }
}
