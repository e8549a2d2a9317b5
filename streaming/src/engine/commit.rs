//! The end of a batch: commit its offsets, publish its staged outputs, commit
//! operator state, checkpoint — and what happens when the commit is refused
//! or its outcome is unknown. Also the start-up recovery of a batch a
//! previous run left in progress.
//!
//! The commit is the decision point. Before it, nothing of the batch is
//! visible (outputs are staged, state is pending); a refused commit (the
//! group rebalanced and this member's generation is stale) abandons the
//! batch: staged outputs are removed, pending state dropped, and positions
//! re-read from the committed offsets after rejoining, so whoever owns the
//! partitions now reads those records again and nothing is lost or counted
//! twice. After it, the outputs are published and the state committed.
//! When the outcome is unknown (the commit's answer was lost, a stop came
//! during it, or the process died), it is decided from the committed offsets
//! ([`decide`]).

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::Engine;
use super::batch::source_error;
use super::retry::Attempts;
use crate::checkpoint::{BatchRecord, CheckpointData, Decision, decide};
use crate::error::{SourceError, Stage, StreamingError};
use crate::report::BatchInfo;
use crate::source::{OffsetRange, TopicPartition};
use crate::time::BatchTime;

/// How the commit stage ended (errors aside).
pub(super) enum CommitOutcome {
    /// Offsets committed: publish.
    Committed,
    /// Refused after a rebalance: the batch was dropped; carry on.
    Abandoned,
}

fn ranges_of(info: &BatchInfo) -> Vec<Vec<OffsetRange>> {
    info.inputs
        .iter()
        .map(|i| i.offset_ranges.clone())
        .collect()
}

impl Engine {
    /// Drops everything batch `time` staged or computed.
    pub(super) fn abandon(&mut self, time: BatchTime) {
        for output in &mut self.outputs {
            output.discard(time);
        }
        for op in self.stateful.iter() {
            op.abort();
        }
    }

    /// Forgets every position so the next plan rejoins and starts each
    /// assigned partition at its committed offset.
    fn reset_positions(&mut self) {
        for input in &mut self.inputs {
            input.positions.clear();
        }
    }

    /// Asks each input for the committed offsets of `ranges` and decides
    /// whether they were committed.
    async fn resolve(&mut self, ranges: &[Vec<OffsetRange>]) -> Result<Decision, StreamingError> {
        let mut decisions = Vec::new();
        for (input, ranges) in self.inputs.iter_mut().zip(ranges) {
            let tps: Vec<TopicPartition> = ranges
                .iter()
                .filter(|r| !r.is_empty())
                .map(|r| r.tp.clone())
                .collect();
            if tps.is_empty() {
                continue;
            }
            let committed = input
                .source
                .committed_offsets(&tps)
                .await
                .map_err(source_error(input))?;
            decisions.push(decide(ranges, &committed));
        }
        Ok(
            if decisions.iter().all(|d| *d == Decision::NotCommitted) && !decisions.is_empty() {
                Decision::NotCommitted
            } else if decisions.iter().all(|d| *d == Decision::Committed) {
                Decision::Committed
            } else {
                Decision::Unknown
            },
        )
    }

    /// Writes the pending checkpoint, then commits every input's range ends.
    pub(super) async fn commit_stage(
        &mut self,
        time: BatchTime,
        info: &BatchInfo,
        retries: &mut u32,
    ) -> Result<CommitOutcome, StreamingError> {
        let ranges = ranges_of(info);
        if let Some(cp) = self.checkpoint.as_mut() {
            let written = BatchRecord::new(time.millis(), &ranges, &self.stateful)
                .and_then(|record| cp.write_pending(record));
            if let Err(e) = written {
                self.abandon(time);
                return Err(StreamingError::BatchFailed {
                    batch_time: time,
                    stage: Stage::Commit,
                    attempts: 1,
                    source: Box::new(e),
                });
            }
        }
        // Set once an attempt may have been applied without us knowing.
        let mut uncertain = false;
        for idx in 0..self.inputs.len() {
            let Some(batch) = info.inputs.get(idx) else {
                continue;
            };
            if batch.offset_ranges.is_empty() {
                continue;
            }
            let offsets: BTreeMap<TopicPartition, i64> = batch
                .offset_ranges
                .iter()
                .map(|r| (r.tp.clone(), r.until))
                .collect();
            let mut attempts = Attempts::new(self.retry, Stage::Commit, time);
            loop {
                let input = &mut self.inputs[idx];
                let result = match self.stop.unless_now(input.source.commit(&offsets)).await {
                    Ok(result) => result,
                    Err(cancelled) => {
                        self.unresolved(time, &ranges).await;
                        return Err(cancelled);
                    }
                };
                match result {
                    Ok(()) => break,
                    Err(SourceError::Fenced(why)) if !uncertain && idx == 0 => {
                        tracing::warn!(
                            "batch {time}: commit refused ({why}); the group rebalanced, so the \
                             batch is dropped and its records are read again by whoever owns \
                             their partitions now"
                        );
                        self.abandon(time);
                        self.reset_positions();
                        self.clear_pending_checkpoint();
                        return Ok(CommitOutcome::Abandoned);
                    }
                    Err(SourceError::Fenced(why)) => {
                        tracing::warn!(
                            "batch {time}: commit refused after an uncertain attempt ({why})"
                        );
                        self.reset_positions();
                        return self.settle(time, &ranges).await;
                    }
                    Err(e) => {
                        uncertain = true;
                        let e = source_error(&self.inputs[idx])(e);
                        if let Err(last) = attempts.failed(e, &mut self.stop).await {
                            self.unresolved(time, &ranges).await;
                            return Err(last);
                        }
                    }
                }
            }
            *retries += attempts.failures();
            self.inputs[idx].positions.extend(offsets);
        }
        Ok(CommitOutcome::Committed)
    }

    /// After a refusal that followed an uncertain attempt: decide from the
    /// committed offsets; unknown counts as committed (at least once).
    async fn settle(
        &mut self,
        time: BatchTime,
        ranges: &[Vec<OffsetRange>],
    ) -> Result<CommitOutcome, StreamingError> {
        match self.resolve(ranges).await {
            Ok(Decision::NotCommitted) => {
                self.abandon(time);
                self.clear_pending_checkpoint();
                Ok(CommitOutcome::Abandoned)
            }
            Ok(Decision::Committed) => Ok(CommitOutcome::Committed),
            Ok(Decision::Unknown) | Err(_) => {
                tracing::warn!(
                    "batch {time}: cannot tell whether its offsets were committed; publishing \
                     its output (its records may appear twice, never lost)"
                );
                Ok(CommitOutcome::Committed)
            }
        }
    }

    /// The commit failed for good or was interrupted: its outcome is unknown.
    /// With a checkpoint, the staged output and the pending record stay for
    /// the next start to resolve. Without one, the outcome is decided now if
    /// the source answers, else the output is published (at least once).
    async fn unresolved(&mut self, time: BatchTime, ranges: &[Vec<OffsetRange>]) {
        if self.checkpoint.is_some() {
            tracing::warn!(
                "batch {time}: commit outcome unknown; the next start decides it from the \
                 committed offsets (checkpoint)"
            );
            return;
        }
        let decision = self.resolve(ranges).await.unwrap_or(Decision::Unknown);
        for output in &mut self.outputs {
            let result = output.recover(time, decision != Decision::NotCommitted);
            if let Err(e) = result {
                tracing::warn!("batch {time}: {e}");
            }
        }
        for op in self.stateful.iter() {
            op.abort();
        }
    }

    fn clear_pending_checkpoint(&mut self) {
        if let Some(cp) = self.checkpoint.as_mut()
            && let Err(e) = cp.clear_pending()
        {
            tracing::warn!("{e}");
        }
    }

    /// After the commit: publish every output, commit the state, checkpoint.
    pub(super) async fn finish_committed(
        &mut self,
        time: BatchTime,
        info: &BatchInfo,
        retries: &mut u32,
    ) -> Result<Vec<PathBuf>, StreamingError> {
        let mut paths = Vec::new();
        let mut attempts = Attempts::new(self.retry, Stage::Output, time);
        let mut next = 0;
        while next < self.outputs.len() {
            match self.outputs[next].publish(time) {
                Ok(published) => {
                    paths.extend(published);
                    next += 1;
                }
                // The offsets are committed: a restart with a checkpoint
                // publishes what is still staged.
                Err(e) => attempts.failed(e, &mut self.stop).await?,
            }
        }
        *retries += attempts.failures();
        for op in self.stateful.iter() {
            op.commit(time);
        }
        if let Some(cp) = self.checkpoint.as_mut() {
            let written = BatchRecord::new(time.millis(), &ranges_of(info), &self.stateful)
                .and_then(|record| cp.write_completed(record));
            if let Err(e) = written {
                // The pending record is still there and resolves the same way.
                tracing::warn!("batch {time}: {e}");
            }
        }
        Ok(paths)
    }

    /// At start: restores state from the checkpoint and resolves a batch the
    /// previous run left in progress. Returns the time of the last batch the
    /// checkpoint knows, so new batches come after it.
    pub(crate) async fn recover(
        &mut self,
        data: Option<CheckpointData>,
    ) -> Result<Option<i64>, StreamingError> {
        // Staged output not covered by a pending record was never committed
        // (the record is written before the commit): with a checkpoint it is
        // removed; without one its outcome is unknown, so it is only reported.
        let keep = data
            .as_ref()
            .and_then(|d| d.pending.as_ref())
            .map(|p| BatchTime::from_millis(p.batch_time));
        let remove = self.checkpoint.is_some();
        for output in &mut self.outputs {
            for path in output.orphans(keep, remove) {
                if remove {
                    tracing::info!(
                        "removed {}, staged by a run that died before committing it",
                        path.display()
                    );
                } else {
                    tracing::warn!(
                        "{} was staged by a run that died; without a checkpoint kt cannot tell \
                         whether its offsets were committed, so it is left as it is",
                        path.display()
                    );
                }
            }
        }
        let Some(data) = data else {
            return Ok(None);
        };
        let mut base = data.completed.clone();
        let mut last = base.as_ref().map(|b| b.batch_time);
        if let Some(pending) = &data.pending {
            if pending.inputs.len() != self.inputs.len() {
                return Err(StreamingError::Checkpoint(format!(
                    "it has {} input(s) but the graph has {}; a changed job needs a new \
                     checkpoint directory",
                    pending.inputs.len(),
                    self.inputs.len()
                )));
            }
            let time = BatchTime::from_millis(pending.batch_time);
            let ranges: Vec<Vec<OffsetRange>> = pending
                .inputs
                .iter()
                .map(|rs| rs.iter().map(|r| r.to_range()).collect())
                .collect();
            let mut attempts = Attempts::new(self.retry, Stage::Plan, time);
            let decision = loop {
                match self.resolve(&ranges).await {
                    Ok(d) => break d,
                    Err(e) => attempts.failed(e, &mut self.stop).await?,
                }
            };
            let committed = match decision {
                Decision::Committed => true,
                Decision::NotCommitted => false,
                Decision::Unknown => {
                    tracing::warn!(
                        "batch {time} was in progress when the last run ended and its offsets \
                         moved on since (another member?); publishing its staged output, whose \
                         records may then appear twice (never lost)"
                    );
                    true
                }
            };
            tracing::info!(
                "batch {time} was in progress when the last run ended; its offsets were {}",
                if committed {
                    "committed: finishing it"
                } else {
                    "not committed: dropping it"
                }
            );
            for output in &mut self.outputs {
                output.recover(time, committed)?;
            }
            if committed {
                base = Some(pending.clone());
            }
            last = last.max(Some(pending.batch_time));
            if let Some(cp) = self.checkpoint.as_mut() {
                match &base {
                    Some(b) => cp.write_completed(b.clone())?,
                    None => cp.clear_pending()?,
                }
            }
        }
        if let Some(b) = &base {
            b.restore(&self.stateful)?;
            tracing::info!(
                "restored {} operator state(s) from the checkpoint of batch {}",
                self.stateful.len(),
                BatchTime::from_millis(b.batch_time)
            );
        }
        Ok(last)
    }
}
