//! One batch: plan → fetch → output (staged) → commit → publish, each stage
//! retried with the same inputs (see [`retry`](super::retry)); the commit
//! and what follows it are in [`commit`](super::commit).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::backpressure::partition_caps;
use super::commit::CommitOutcome;
use super::plan::{
    apply_resets, arrange, beyond_log_end, decide_ranges_capped, lags, lookup, per_batch_cap,
    starting_position, sync_assignment,
};
use super::retry::Attempts;
use super::signal::StopSignal;
use super::{Engine, InputState};
use crate::error::{SourceError, Stage, StreamingError};
use crate::graph::{BatchScope, OutputOp};
use crate::report::{BatchInfo, BatchReport, InputBatch, OffsetResetEvent};
use crate::source::{OffsetRange, OffsetReset, SourceRecord};
use crate::time::BatchTime;

pub(super) fn source_error(input: &InputState) -> impl Fn(SourceError) -> StreamingError + '_ {
    |source| StreamingError::Source {
        input: input.name.clone(),
        source,
    }
}

/// Reads the assignment, drops revoked partitions and gives new ones their
/// starting positions (committed offset, else per `auto.offset.reset`).
pub(super) async fn refresh_assignment(
    input: &mut InputState,
    stop: &mut StopSignal,
) -> Result<(), StreamingError> {
    let assigned = stop
        .unless_now(input.source.assignment())
        .await?
        .map_err(source_error(input))?;
    let new = sync_assignment(&mut input.positions, &assigned);
    if new.is_empty() {
        return Ok(());
    }
    let committed = stop
        .unless_now(input.source.committed_offsets(&new))
        .await?
        .map_err(source_error(input))?;
    let earliest = stop
        .unless_now(input.source.earliest_offsets(&new))
        .await?
        .map_err(source_error(input))?;
    let latest = stop
        .unless_now(input.source.latest_offsets(&new))
        .await?
        .map_err(source_error(input))?;
    let explicit = input.source.starting_offsets();
    let mut events = Vec::new();
    let mut starts = Vec::with_capacity(new.len());
    for tp in new {
        // The group's committed offset wins (a restart continues where the
        // last run committed); an explicit starting offset comes next.
        let committed = committed
            .get(&tp)
            .copied()
            .flatten()
            .or_else(|| explicit.get(&tp).copied());
        let earliest = lookup(&earliest, &tp).map_err(source_error(input))?;
        let latest = lookup(&latest, &tp).map_err(source_error(input))?;
        let start = starting_position(committed, earliest, latest, input.options.offset_reset);
        if let Some(c) = committed.filter(|c| *c != start) {
            tracing::warn!(
                "{tp}: committed offset {c} is outside the log [{earliest}, {latest}]; starting at {start}"
            );
            events.push(OffsetResetEvent {
                tp: tp.clone(),
                from: c,
                to: start,
            });
        }
        tracing::debug!("input {}: {tp} assigned, starting at {start}", input.name);
        starts.push((tp, start));
    }
    input.positions.extend(starts);
    input.pending_resets.extend(events);
    Ok(())
}

/// One input's plan: its ranges, the resets made, and the lag left behind.
type Plan = (Vec<OffsetRange>, Vec<OffsetResetEvent>, u64);

/// Decides one input's ranges for the batch.
async fn plan_input(
    input: &mut InputState,
    cap: Option<i64>,
    interval_ms: i64,
    stop: &mut StopSignal,
) -> Result<Plan, StreamingError> {
    refresh_assignment(input, stop).await?;
    let tps: Vec<_> = input.positions.keys().cloned().collect();
    if tps.is_empty() {
        return Ok((Vec::new(), std::mem::take(&mut input.pending_resets), 0));
    }
    let latest = stop
        .unless_now(input.source.latest_offsets(&tps))
        .await?
        .map_err(source_error(input))?;
    let beyond = beyond_log_end(&input.positions, &latest).map_err(source_error(input))?;
    if !beyond.is_empty() {
        let targets = match input.options.offset_reset {
            OffsetReset::Latest => beyond
                .iter()
                .map(|tp| Ok((tp.clone(), lookup(&latest, tp)?)))
                .collect::<Result<_, SourceError>>()
                .map_err(source_error(input))?,
            OffsetReset::Earliest => stop
                .unless_now(input.source.earliest_offsets(&beyond))
                .await?
                .map_err(source_error(input))?,
        };
        let events = apply_resets(&mut input.positions, &targets);
        input.pending_resets.extend(events);
    }
    let lags = lags(&input.positions, &latest).map_err(source_error(input))?;
    let caps = partition_caps(input.rate_limit, interval_ms, &lags, cap);
    let ranges =
        decide_ranges_capped(&input.positions, &latest, &caps).map_err(source_error(input))?;
    let lag = ranges
        .iter()
        .zip(&lags)
        .map(|(r, l)| l.saturating_sub(r.len()))
        .sum();
    Ok((ranges, std::mem::take(&mut input.pending_resets), lag))
}

/// Runs the outputs not yet `done` in order; stops at the first failure.
fn execute_outputs(
    outputs: &mut [Box<dyn OutputOp>],
    done: &mut [bool],
    scope: &BatchScope,
) -> Result<(), StreamingError> {
    for (output, done) in outputs.iter_mut().zip(done.iter_mut()) {
        if *done {
            continue;
        }
        if scope.cancelled() {
            return Err(StreamingError::Cancelled);
        }
        match catch_unwind(AssertUnwindSafe(|| output.run(scope))) {
            Ok(Ok(())) => *done = true,
            Ok(Err(e)) => return Err(e),
            Err(payload) => {
                let message = payload
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "non-string panic payload".to_owned());
                return Err(StreamingError::Panicked {
                    operation: output.describe(),
                    message,
                });
            }
        }
    }
    Ok(())
}

fn millis_between(earlier: i64, later: i64) -> Duration {
    Duration::from_millis(u64::try_from(later.saturating_sub(earlier)).unwrap_or(0))
}

impl Engine {
    pub(super) async fn run_batch(
        &mut self,
        time: BatchTime,
        skipped_ticks: u64,
    ) -> Result<Option<BatchReport>, StreamingError> {
        let started = Instant::now();
        let scheduling_delay = millis_between(time.millis(), self.clock.now_ms());
        if let Some(operation) = self.shared.late_operation() {
            return Err(StreamingError::GraphChangedAfterStart { operation });
        }
        let mut retries = 0;

        // Plan: decide every input's ranges once; retries below reuse them.
        let cap = |input: &InputState| {
            per_batch_cap(input.options.max_rate_per_partition, self.interval_ms)
        };
        let mut planned = Vec::with_capacity(self.inputs.len());
        for input in &mut self.inputs {
            let cap = cap(input);
            let mut attempts = Attempts::new(self.retry, Stage::Plan, time);
            let plan = loop {
                match plan_input(input, cap, self.interval_ms, &mut self.stop).await {
                    Ok(plan) => break plan,
                    Err(e) => attempts.failed(e, &mut self.stop).await?,
                }
            };
            retries += attempts.failures();
            planned.push(plan);
        }

        // Fetch exactly those ranges.
        let mut fetched: Vec<Arc<Vec<SourceRecord>>> = Vec::with_capacity(self.inputs.len());
        let mut infos = Vec::with_capacity(self.inputs.len());
        for (input, (ranges, resets, lag)) in self.inputs.iter_mut().zip(planned) {
            let wanted: Vec<OffsetRange> =
                ranges.iter().filter(|r| !r.is_empty()).cloned().collect();
            let mut attempts = Attempts::new(self.retry, Stage::Fetch, time);
            let records = if wanted.is_empty() {
                Vec::new()
            } else {
                loop {
                    let result = self
                        .stop
                        .unless_now(input.source.fetch_ranges(&wanted))
                        .await?;
                    match result.map_err(source_error(input)) {
                        Ok(records) => break records,
                        Err(e) => attempts.failed(e, &mut self.stop).await?,
                    }
                }
            };
            retries += attempts.failures();
            let records = arrange(records, &wanted);
            debug_assert_eq!(input.id, fetched.len());
            infos.push(InputBatch {
                input: input.name.clone(),
                offset_ranges: ranges,
                records: records.len() as u64,
                offset_resets: resets,
                lag,
            });
            fetched.push(Arc::new(records));
        }

        // Output: every output once; a retry reruns only the ones not done.
        let mut done = vec![false; self.outputs.len()];
        let mut attempts = Attempts::new(self.retry, Stage::Output, time);
        let info = loop {
            let info = Arc::new(BatchInfo {
                batch_time: time,
                inputs: infos.clone(),
                scheduling_delay,
                attempt: attempts.attempt(),
            });
            let scope = BatchScope {
                info: Arc::clone(&info),
                inputs: fetched.clone(),
                cancel: self.stop.cancel_flag(),
            };
            match self.run_outputs(scope, &mut done).await {
                Ok(()) => break info,
                Err(e) => {
                    if let Err(e) = attempts.failed(e, &mut self.stop).await {
                        self.abandon(time);
                        return Err(e);
                    }
                }
            }
        };
        retries += attempts.failures();
        drop(fetched);

        // Commit (outputs are staged, not visible), then publish the outputs.
        match self.commit_stage(time, &info, &mut retries).await? {
            CommitOutcome::Committed => {}
            CommitOutcome::Abandoned => return Ok(None),
        }
        let output_paths = self.finish_committed(time, &info, &mut retries).await?;
        let processing_time = started.elapsed();
        for (input, batch) in self.inputs.iter_mut().zip(&info.inputs) {
            if let Some(pid) = input.rate.as_mut()
                && let Some(rate) = pid.compute(
                    time.millis(),
                    batch.records,
                    processing_time.as_millis() as u64,
                    scheduling_delay.as_millis() as u64,
                )
            {
                tracing::debug!(
                    "input {}: back-pressure rate {rate:.0} records/s",
                    input.name
                );
                input.rate_limit = Some(rate);
            }
        }

        let info = Arc::unwrap_or_clone(info);
        Ok(Some(BatchReport {
            total_delay: millis_between(time.millis(), self.clock.now_ms()),
            processing_time,
            info,
            skipped_ticks,
            retries,
            output_paths,
        }))
    }

    /// Runs the outputs on a blocking thread (operators and file writes are
    /// synchronous). Not abandoned by `Stop::Now`: the outputs poll the
    /// cancel flag instead, so nothing is left running once stop returns.
    async fn run_outputs(
        &mut self,
        scope: BatchScope,
        done: &mut Vec<bool>,
    ) -> Result<(), StreamingError> {
        let mut outputs = std::mem::take(&mut self.outputs);
        let mut flags = done.clone();
        let caches = Arc::clone(&self.caches);
        let task = tokio::task::spawn_blocking(move || {
            let result = execute_outputs(&mut outputs, &mut flags, &scope);
            for cache in caches.iter() {
                cache.clear();
            }
            (outputs, flags, result)
        });
        let (outputs, flags, result) = task
            .await
            .map_err(|e| StreamingError::EngineTask(format!("output stage: {e}")))?;
        self.outputs = outputs;
        *done = flags;
        result
    }
}
