//! Per-batch metadata: [`BatchInfo`] while a batch runs (given to user code)
//! and [`BatchReport`] once it is committed (given to listeners; the CLI
//! prints its one-line `Display` per batch).

use std::time::Duration;

use crate::source::{OffsetRange, TopicPartition};
use crate::time::BatchTime;

/// What one input stream contributes to a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputBatch {
    /// The input's description (see [`BatchSource::describe`](crate::BatchSource::describe)).
    pub input: String,
    /// One range per assigned partition, empty ranges included, ordered by partition.
    pub offset_ranges: Vec<OffsetRange>,
    /// Records fetched (fewer than the ranges' lengths when the log has gaps).
    pub records: u64,
    /// Partitions whose position was reset this batch (out of the log's range).
    pub offset_resets: Vec<OffsetResetEvent>,
    /// Records in the log beyond the batch's ranges when it was planned
    /// (what a rate limit or back-pressure left for later batches).
    pub lag: u64,
}

/// A position that was outside the log and was moved per `auto.offset.reset`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetResetEvent {
    /// The partition.
    pub tp: TopicPartition,
    /// The position before (committed or reached).
    pub from: i64,
    /// The position after.
    pub to: i64,
}

/// A batch in progress, as user code sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchInfo {
    /// The batch time; names the batch's output.
    pub batch_time: BatchTime,
    /// Per input stream, in the order the inputs were created.
    pub inputs: Vec<InputBatch>,
    /// How late the batch started after its batch time.
    pub scheduling_delay: Duration,
    /// 1 for the first attempt at running the outputs, more on retries.
    pub attempt: u32,
}

impl BatchInfo {
    /// Records in the batch over all inputs.
    pub fn records(&self) -> u64 {
        self.inputs.iter().map(|i| i.records).sum()
    }

    /// Every input's offset ranges.
    pub fn offset_ranges(&self) -> impl Iterator<Item = &OffsetRange> {
        self.inputs.iter().flat_map(|i| i.offset_ranges.iter())
    }
}

/// A completed (output and committed) batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchReport {
    /// The batch's metadata.
    pub info: BatchInfo,
    /// Ticks skipped before this batch because the previous one overran.
    pub skipped_ticks: u64,
    /// From the start of the batch to its commit (Spark's processing delay).
    pub processing_time: Duration,
    /// From the batch time to its commit (Spark's total delay).
    pub total_delay: Duration,
    /// Failed attempts that were retried, over all stages.
    pub retries: u32,
    /// Directories the batch's outputs published (`save_as_text_files`).
    pub output_paths: Vec<std::path::PathBuf>,
}

impl std::fmt::Display for BatchReport {
    /// One line: `batch 1700000005000 ms: 42 records from 3 partitions
    /// (mytopic-0 [10, 30), mytopic-1 [7, 29)), scheduling delay 2 ms, processing 15 ms`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let partitions: usize = self.info.inputs.iter().map(|i| i.offset_ranges.len()).sum();
        write!(
            f,
            "batch {}: {} records from {} partition{}",
            self.info.batch_time,
            self.info.records(),
            partitions,
            if partitions == 1 { "" } else { "s" }
        )?;
        let mut nonempty = self
            .info
            .offset_ranges()
            .filter(|r| !r.is_empty())
            .peekable();
        if nonempty.peek().is_some() {
            f.write_str(" (")?;
            for (i, r) in nonempty.enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{r}")?;
            }
            f.write_str(")")?;
        }
        write!(
            f,
            ", scheduling delay {} ms, processing {} ms",
            self.info.scheduling_delay.as_millis(),
            self.processing_time.as_millis()
        )?;
        if self.skipped_ticks > 0 {
            write!(f, ", skipped {} tick(s)", self.skipped_ticks)?;
        }
        if self.retries > 0 {
            write!(
                f,
                ", {} retr{}",
                self.retries,
                if self.retries == 1 { "y" } else { "ies" }
            )?;
        }
        let resets: usize = self.info.inputs.iter().map(|i| i.offset_resets.len()).sum();
        if resets > 0 {
            write!(f, ", {resets} offset reset(s)")?;
        }
        for (i, path) in self.output_paths.iter().enumerate() {
            let sep = if i == 0 { " -> " } else { ", " };
            write!(f, "{sep}{}", path.display())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_report() {
        let tp = |p| TopicPartition::new("mytopic", p);
        let report = BatchReport {
            info: BatchInfo {
                batch_time: BatchTime::from_millis(1_700_000_005_000),
                inputs: vec![InputBatch {
                    input: "memory".into(),
                    offset_ranges: vec![
                        OffsetRange {
                            tp: tp(0),
                            from: 10,
                            until: 30,
                        },
                        OffsetRange {
                            tp: tp(1),
                            from: 7,
                            until: 7,
                        },
                    ],
                    records: 20,
                    offset_resets: vec![],
                    lag: 0,
                }],
                scheduling_delay: Duration::from_millis(2),
                attempt: 1,
            },
            skipped_ticks: 0,
            processing_time: Duration::from_millis(15),
            total_delay: Duration::from_millis(17),
            retries: 1,
            output_paths: vec!["out/f-1700000005000.log".into()],
        };
        assert_eq!(
            report.to_string(),
            "batch 1700000005000 ms: 20 records from 2 partitions (mytopic-0 [10, 30)), \
             scheduling delay 2 ms, processing 15 ms, 1 retry -> out/f-1700000005000.log"
        );
    }
}
