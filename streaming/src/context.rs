//! [`StreamingContext`]: the entry point (Spark's `StreamingContext`).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::checkpoint::Checkpoint;
use crate::dstream::DStream;
use crate::dstream::node::Node;
use crate::engine::retry::RetryPolicy;
use crate::engine::signal::StopControl;
use crate::engine::{Engine, InputState, Progress};
use crate::error::StreamingError;
use crate::graph::{PendingInput, Shared};
use crate::report::BatchReport;
use crate::running::{RunSummary, RunningContext};
use crate::source::{BatchSource, InputOptions, SourceRecord};
use crate::time::{AnchoredClock, BatchTime, Clock, first_batch_after};

/// Defines a streaming computation and starts it.
///
/// ```no_run
/// use std::time::Duration;
/// use kt_streaming::{KafkaSource, Stop, StreamingContext};
/// # async fn demo() -> Result<(), kt_streaming::StreamingError> {
/// let ssc = StreamingContext::new(Duration::from_secs(5));
/// let messages = ssc.kafka_stream(KafkaSource::new("127.0.0.1:9092").group("sparkit").topic("mytopic"));
/// let counts = messages
///     .map(|(_key, value)| value)
///     .flat_map(|line| line.split(' ').map(str::to_owned).collect::<Vec<_>>())
///     .map(|word| (word, 1))
///     .reduce_by_key(|a, b| a + b);
/// counts.save_as_text_files("out/f", "log");
/// let running = ssc.start().await?;
/// running.stop(Stop::Gracefully).await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct StreamingContext {
    interval: Duration,
    retry: RetryPolicy,
    max_batches: Option<u64>,
    clock: Clock,
    checkpoint: Option<PathBuf>,
    shared: Arc<Shared>,
}

impl StreamingContext {
    /// A context ticking every `batch_interval` (a positive whole number of
    /// milliseconds; checked by [`start`](Self::start)).
    pub fn new(batch_interval: Duration) -> Self {
        StreamingContext {
            interval: batch_interval,
            retry: RetryPolicy::default(),
            max_batches: None,
            clock: Clock::System,
            checkpoint: None,
            shared: Arc::new(Shared::new(batch_interval)),
        }
    }

    /// The batch interval.
    pub fn batch_interval(&self) -> Duration {
        self.interval
    }

    /// Sets how failing batch stages are retried (default: [`RetryPolicy::default`]).
    pub fn with_retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Stops by itself after `n` completed batches (the CLI's `--batches N`).
    pub fn stop_after_batches(mut self, n: u64) -> Self {
        self.max_batches = Some(n);
        self
    }

    /// Sets where the wall clock starts (default: the system clock).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Keeps a checkpoint in `dir` (Spark's `ssc.checkpoint(dir)`): after
    /// every batch, its time, offset ranges and the state of every stateful
    /// operator (windows, `update_state_by_key`) are written there
    /// atomically, and a restart with the same directory resumes from them:
    /// the state is restored and a batch that was in progress is finished or
    /// dropped depending on whether its offsets were committed, which makes
    /// `save_as_text_files` output exactly once across crashes (see the crate
    /// docs). The directory belongs to one job: a changed graph or batch
    /// interval is refused at start.
    pub fn checkpoint(mut self, dir: impl Into<PathBuf>) -> Self {
        self.checkpoint = Some(dir.into());
        self
    }

    /// Calls `f` with every completed batch's report, on the engine task,
    /// after the batch is committed (Spark's `StreamingListener.onBatchCompleted`).
    /// Keep it quick: the next batch waits for it.
    pub fn on_batch_completed(&self, f: impl FnMut(&BatchReport) + Send + 'static) {
        self.shared.before_start("on_batch_completed", |state| {
            state.listeners.push(Box::new(f))
        });
    }

    /// A stream of `(key, value)` records read from `source` in batches
    /// (the general form of [`kafka_stream`](Self::kafka_stream)). A null
    /// value becomes `""` (see [`SourceRecord::to_element`](crate::SourceRecord::to_element)).
    pub fn input_stream<S: BatchSource>(
        &self,
        source: S,
        options: InputOptions,
    ) -> DStream<(Option<String>, String)> {
        self.input_with(source, options, SourceRecord::to_element)
    }

    /// The records themselves, with partition, offset, timestamp and raw
    /// key and value bytes, null values included (`value: None`, a
    /// tombstone), for jobs that must tell a null value from an empty one.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), kt_streaming::StreamingError> {
    /// use std::time::Duration;
    /// use kt_streaming::{InputOptions, MemorySource, OffsetReset, SourceRecord, StreamingContext};
    /// let source = MemorySource::new();
    /// source.append("t", 0, Some("k".into()), None);
    /// let ssc = StreamingContext::new(Duration::from_millis(1)).stop_after_batches(1);
    /// let options = InputOptions { offset_reset: OffsetReset::Earliest, ..Default::default() };
    /// ssc.input_records(source, options).foreach_batch(|_, records: &[SourceRecord]| {
    ///     assert_eq!(records[0].value, None);
    /// });
    /// ssc.run().await?;
    /// # Ok(()) }
    /// ```
    pub fn input_records<S: BatchSource>(
        &self,
        source: S,
        options: InputOptions,
    ) -> DStream<SourceRecord> {
        self.input_with(source, options, SourceRecord::clone)
    }

    fn input_with<S: BatchSource, T: crate::Element>(
        &self,
        source: S,
        options: InputOptions,
        convert: fn(&SourceRecord) -> T,
    ) -> DStream<T> {
        let mut id = usize::MAX;
        self.shared.before_start("input_stream", |state| {
            id = state.next_input;
            state.next_input += 1;
            state.inputs.push(PendingInput {
                id,
                source: Box::new(source),
                options,
            });
        });
        let node = Node::new(
            "input",
            0,
            Box::new(move |scope| Ok(scope.input(id)?.iter().map(convert).collect())),
        );
        DStream::from_node(node, Arc::clone(&self.shared))
    }

    /// Starts the computation: checks the graph, reads each input's
    /// assignment and starting offsets (so connection errors surface here),
    /// then runs batches on a tokio task from the next aligned tick on.
    ///
    /// Fails with [`StreamingError::NoOutputs`] or
    /// [`StreamingError::InvalidBatchInterval`] for a bad graph, and with
    /// [`StreamingError::BatchFailed`] (stage `Plan`, named after the start
    /// time) when a source cannot be read within the retry policy.
    pub async fn start(self) -> Result<RunningContext, StreamingError> {
        let interval_ms = self
            .shared
            .interval_ms()
            .ok_or(StreamingError::InvalidBatchInterval(self.interval))?;
        let (inputs, outputs, stateful, caches, listeners) = {
            let mut state = self.shared.lock();
            if let Some(error) = state.errors.first() {
                return Err(StreamingError::InvalidGraph(error.clone()));
            }
            if state.outputs.is_empty() {
                return Err(StreamingError::NoOutputs);
            }
            state.started = true;
            let mut outputs = std::mem::take(&mut state.internal);
            outputs.append(&mut state.outputs);
            (
                std::mem::take(&mut state.inputs),
                outputs,
                std::mem::take(&mut state.stateful),
                std::mem::take(&mut state.caches),
                std::mem::take(&mut state.listeners),
            )
        };
        let (checkpoint, recovered) = match &self.checkpoint {
            Some(dir) => {
                let (cp, data) = Checkpoint::open(dir, interval_ms)?;
                (Some(cp), data)
            }
            None => (None, None),
        };
        let (control, stop) = StopControl::new();
        let clock = AnchoredClock::new(self.clock);
        let progress = Arc::new(Progress::default());
        let mut engine = Engine {
            interval_ms,
            retry: self.retry,
            max_batches: self.max_batches,
            clock,
            inputs: inputs
                .into_iter()
                .map(|p| InputState {
                    id: p.id,
                    name: p.source.describe(),
                    source: p.source,
                    options: p.options,
                    positions: Default::default(),
                    pending_resets: Vec::new(),
                    rate: p
                        .options
                        .backpressure
                        .then(|| crate::engine::backpressure::PidEstimator::new(interval_ms)),
                    rate_limit: None,
                })
                .collect(),
            outputs,
            stateful: stateful.into(),
            checkpoint,
            caches: caches.into(),
            listeners,
            shared: Arc::clone(&self.shared),
            stop,
            progress: Arc::clone(&progress),
        };
        if let Err(e) = engine.initialize().await {
            engine.close_sources().await;
            return Err(e);
        }
        let last = match engine.recover(recovered).await {
            Ok(last) => last,
            Err(e) => {
                engine.close_sources().await;
                return Err(e);
            }
        };
        // New batches come after any batch the checkpoint knows, even if the
        // wall clock went back.
        let mut first = first_batch_after(clock.now_ms(), interval_ms);
        if let Some(last) = last {
            first = first.max(last.saturating_add(interval_ms));
        }
        let task = tokio::spawn(engine.run(first));
        Ok(RunningContext::new(
            control,
            task,
            progress,
            BatchTime::from_millis(first),
        ))
    }

    /// Starts and waits until the run ends by itself (batch limit or error).
    pub async fn run(self) -> Result<RunSummary, StreamingError> {
        self.start().await?.wait().await
    }

    /// Runs `n` batches and returns (Spark has no equivalent; the CLI's `--batches N`).
    pub async fn run_batches(self, n: u64) -> Result<RunSummary, StreamingError> {
        self.stop_after_batches(n).run().await
    }
}
