//! Window operators (Spark's `window`, `countByWindow`, `reduceByWindow`,
//! `reduceByKeyAndWindow`, `countByValueAndWindow`).
//!
//! A window of length L sliding by S produces a batch at every batch time T
//! that is a multiple of S (aligned to the Unix epoch, as batch times are, so
//! every process and every restart agrees on the window boundaries; Spark
//! aligns to its context's start instead). That batch holds the parent's
//! elements of the batches with times in `(T - L, T]`. L and S must be
//! multiples of the parent's slide (the batch interval, unless the parent is
//! windowed itself); anything else is a [`StreamingError::InvalidWindow`]
//! returned when the window is built.
//!
//! Each window operator keeps the parent's batches (or, for the keyed
//! reductions, one partial aggregate per batch) for as long as a future
//! window needs them. This history is operator state: it is committed with
//! the batch's offsets and checkpointed (see [`crate::StreamingContext::checkpoint`]),
//! so the element types must be [`Checkpointable`].

use std::collections::BTreeMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use super::node::Node;
use super::{Checkpointable, DStream, Element};
use crate::error::StreamingError;
use crate::graph::{BatchScope, OutputOp, StatefulOp};
use crate::time::BatchTime;

/// An operation the engine runs every batch before the outputs (see
/// `GraphState::internal`): feeds a stateful operator its parent's batch.
pub(crate) struct Internal<F> {
    pub(crate) name: &'static str,
    pub(crate) run: F,
}

impl<F> OutputOp for Internal<F>
where
    F: FnMut(&BatchScope) -> Result<(), StreamingError> + Send,
{
    fn describe(&self) -> String {
        self.name.to_owned()
    }

    fn run(&mut self, scope: &BatchScope) -> Result<(), StreamingError> {
        (self.run)(scope)
    }
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

pub(crate) fn state_error(what: &str, e: serde_json::Error) -> StreamingError {
    StreamingError::Checkpoint(format!("{what} state: {e}"))
}

/// Window length and slide in ms, checked against the parent's slide.
#[derive(Debug, Clone, Copy)]
struct Span {
    len: i64,
    slide: i64,
}

impl Span {
    /// Whether a batch at `t` lies in the window ending at `end`.
    fn contains(self, end: i64, t: i64) -> bool {
        t > end - self.len && t <= end
    }
}

impl<T: Element> DStream<T> {
    fn check_span(&self, length: Duration, slide: Duration) -> Result<Span, StreamingError> {
        let parent = self.slide_ms_effective();
        if parent <= 0 {
            return Err(StreamingError::InvalidBatchInterval(self.ctx.interval));
        }
        let check = |what: &'static str, d: Duration| {
            i64::try_from(d.as_millis())
                .ok()
                .filter(|ms| *ms > 0 && Duration::from_millis(*ms as u64) == d && ms % parent == 0)
                .ok_or(StreamingError::InvalidWindow {
                    what,
                    duration: d,
                    multiple_of: Duration::from_millis(parent as u64),
                })
        };
        Ok(Span {
            len: check("window length", length)?,
            slide: check("slide", slide)?,
        })
    }

    /// A stream whose batch at time T holds this stream's elements of the
    /// batches in `(T - length, T]`, produced every `slide` (PySpark's
    /// `window(windowDuration, slideDuration)`). Elements come in batch order.
    ///
    /// ```
    /// use std::time::Duration;
    /// use kt_streaming::{StreamingContext, StreamingError};
    /// let ssc = StreamingContext::new(Duration::from_secs(5));
    /// # let source = kt_streaming::MemorySource::new();
    /// let lines = ssc.input_stream(source, Default::default());
    /// // Every 10 s, the last 30 s of lines.
    /// let recent = lines.window(Duration::from_secs(30), Duration::from_secs(10))?;
    /// assert_eq!(recent.slide_duration(), Duration::from_secs(10));
    /// // 7 s is not a multiple of the 5 s batch interval: refused when built.
    /// assert!(matches!(
    ///     lines.window(Duration::from_secs(7), Duration::from_secs(5)),
    ///     Err(StreamingError::InvalidWindow { .. })
    /// ));
    /// # Ok::<(), StreamingError>(())
    /// ```
    pub fn window(&self, length: Duration, slide: Duration) -> Result<DStream<T>, StreamingError>
    where
        T: Checkpointable,
    {
        let span = self.check_span(length, slide)?;
        let op = Arc::new(WindowOp {
            span,
            inner: Mutex::new(WindowInner {
                committed: BTreeMap::new(),
                pending: None,
            }),
        });
        self.node.add_consumer();
        let parent = Arc::clone(&self.node);
        let feeder = Arc::clone(&op);
        self.ctx.add_internal(Box::new(Internal {
            name: "window",
            run: move |scope: &BatchScope| {
                let batch = parent.pull_opt(scope)?;
                lock(&feeder.inner).pending = batch.map(|b| (scope.time().millis(), b));
                Ok(())
            },
        }));
        self.ctx.register_stateful(op.clone());
        let node = Node::new(
            "window",
            span.slide,
            Box::new(move |scope| Ok(op.elements(scope.time().millis()))),
        );
        Ok(DStream::from_node(node, Arc::clone(&self.ctx)))
    }

    /// One element per window: how many elements the window holds (PySpark's
    /// `countByWindow`; 0 for an empty window). Kept incrementally: each
    /// slide adds the new batches' counts and subtracts the old ones'.
    ///
    /// ```no_run
    /// # use std::time::Duration;
    /// # let ssc = kt_streaming::StreamingContext::new(Duration::from_secs(5));
    /// # let lines = ssc.input_stream(kt_streaming::MemorySource::new(), Default::default());
    /// let per_minute = lines.count_by_window(Duration::from_secs(60), Duration::from_secs(10))?;
    /// per_minute.print(1);
    /// # Ok::<(), kt_streaming::StreamingError>(())
    /// ```
    pub fn count_by_window(
        &self,
        length: Duration,
        slide: Duration,
    ) -> Result<DStream<u64>, StreamingError> {
        let counts = self.map(|_| ((), 1u64)).reduce_by_key_and_window(
            |a, b| a + b,
            Some(|a: u64, b: u64| a.saturating_sub(b)),
            length,
            slide,
        )?;
        Ok(counts.transform(|c| vec![c.first().map_or(0, |(_, n)| *n)]))
    }

    /// The window's elements combined with `f` (PySpark's `reduceByWindow`):
    /// one element per non-empty window. With `inverse` (undoes `f`: with
    /// `f = +`, `inverse = -`) the result is kept incrementally.
    ///
    /// ```no_run
    /// # use std::time::Duration;
    /// # let ssc = kt_streaming::StreamingContext::new(Duration::from_secs(5));
    /// # let lines = ssc.input_stream(kt_streaming::MemorySource::new(), Default::default());
    /// let bytes = lines.map(|(_k, v)| v.len() as u64);
    /// let last_30s = bytes.reduce_by_window(|a, b| a + b, Some(|a, b| a - b),
    ///     Duration::from_secs(30), Duration::from_secs(5))?;
    /// # Ok::<(), kt_streaming::StreamingError>(())
    /// ```
    pub fn reduce_by_window(
        &self,
        f: impl Fn(T, T) -> T + Send + Sync + 'static,
        inverse: Option<impl Fn(T, T) -> T + Send + Sync + 'static>,
        length: Duration,
        slide: Duration,
    ) -> Result<DStream<T>, StreamingError>
    where
        T: Checkpointable,
    {
        let reduced = self
            .map(|x| ((), x))
            .reduce_by_key_and_window(f, inverse, length, slide)?;
        Ok(reduced.map(|((), v)| v))
    }

    /// `(element, count)` over the window, sorted by element (PySpark's
    /// `countByValueAndWindow`); elements no longer in the window disappear.
    ///
    /// ```no_run
    /// # use std::time::Duration;
    /// # let ssc = kt_streaming::StreamingContext::new(Duration::from_secs(5));
    /// # let lines = ssc.input_stream(kt_streaming::MemorySource::new(), Default::default());
    /// let words = lines.flat_map(|(_k, v)| v.split(' ').map(str::to_owned).collect::<Vec<_>>());
    /// words.count_by_value_and_window(Duration::from_secs(30), Duration::from_secs(10))?
    ///     .save_as_text_files("out/words", "txt");
    /// # Ok::<(), kt_streaming::StreamingError>(())
    /// ```
    pub fn count_by_value_and_window(
        &self,
        length: Duration,
        slide: Duration,
    ) -> Result<DStream<(T, u64)>, StreamingError>
    where
        T: Checkpointable + Ord + Hash,
    {
        self.map(|x| (x, 1u64)).reduce_by_key_and_window(
            |a, b| a + b,
            Some(|a: u64, b: u64| a.saturating_sub(b)),
            length,
            slide,
        )
    }
}

struct WindowInner<T> {
    /// Parent batches still inside some future window, by batch time.
    committed: BTreeMap<i64, Arc<Vec<T>>>,
    /// The batch in progress, until it is committed or aborted.
    pending: Option<(i64, Arc<Vec<T>>)>,
}

struct WindowOp<T> {
    span: Span,
    inner: Mutex<WindowInner<T>>,
}

impl<T: Element> WindowOp<T> {
    fn elements(&self, end: i64) -> Vec<T> {
        let inner = lock(&self.inner);
        let pending = inner.pending.iter().map(|(t, b)| (t, b));
        let mut out = Vec::new();
        for (t, batch) in inner.committed.iter().chain(pending) {
            if self.span.contains(end, *t) {
                out.extend(batch.iter().cloned());
            }
        }
        out
    }
}

impl<T: Checkpointable> StatefulOp for WindowOp<T> {
    fn kind(&self) -> &'static str {
        "window"
    }

    fn snapshot(&self) -> Result<serde_json::Value, StreamingError> {
        let inner = lock(&self.inner);
        let mut all: Vec<(i64, &[T])> = inner
            .committed
            .iter()
            .map(|(t, b)| (*t, b.as_slice()))
            .collect();
        if let Some((t, b)) = &inner.pending {
            all.retain(|(x, _)| x != t);
            all.push((*t, b.as_slice()));
            let oldest = t - self.span.len;
            all.retain(|(x, _)| *x > oldest);
        }
        serde_json::to_value(all).map_err(|e| state_error("window", e))
    }

    fn restore(&self, state: serde_json::Value) -> Result<(), StreamingError> {
        let all: Vec<(i64, Vec<T>)> =
            serde_json::from_value(state).map_err(|e| state_error("window", e))?;
        let mut inner = lock(&self.inner);
        inner.committed = all.into_iter().map(|(t, b)| (t, Arc::new(b))).collect();
        inner.pending = None;
        Ok(())
    }

    fn commit(&self, time: BatchTime) {
        let mut inner = lock(&self.inner);
        if let Some((t, b)) = inner.pending.take()
            && t == time.millis()
        {
            inner.committed.insert(t, b);
        }
        let oldest = time.millis() - self.span.len;
        inner.committed.retain(|t, _| *t > oldest);
    }

    fn abort(&self) {
        lock(&self.inner).pending = None;
    }
}

type Combine<V> = Arc<dyn Fn(V, V) -> V + Send + Sync>;

/// Per key: the combined value and how many elements went into it, so a key
/// whose elements all left the window is removed (Spark keeps such keys with
/// a "zero" value unless given a filter function).
type Partial<K, V> = BTreeMap<K, (V, u64)>;

struct KeyedInner<K, V> {
    /// One partial aggregate per parent batch still needed, by batch time.
    batches: BTreeMap<i64, Partial<K, V>>,
    /// The last window computed and committed, for the incremental update.
    last: Option<(i64, Partial<K, V>)>,
    pending_batch: Option<(i64, Partial<K, V>)>,
    pending_window: Option<(i64, Partial<K, V>)>,
}

struct KeyedWindowOp<K, V> {
    span: Span,
    reduce: Combine<V>,
    inverse: Option<Combine<V>>,
    inner: Mutex<KeyedInner<K, V>>,
}

fn merge<K: Ord + Clone, V: Clone>(into: &mut Partial<K, V>, from: &Partial<K, V>, f: &Combine<V>) {
    for (k, (v, n)) in from {
        match into.remove(k) {
            Some((acc, m)) => into.insert(k.clone(), (f(acc, v.clone()), m + n)),
            None => into.insert(k.clone(), (v.clone(), *n)),
        };
    }
}

impl<K: Element + Ord, V: Element> KeyedWindowOp<K, V> {
    fn compute(&self, end: i64) -> Vec<(K, V)> {
        let mut inner = lock(&self.inner);
        let span = self.span;
        let result = {
            let pending = inner.pending_batch.iter().map(|(t, b)| (t, b));
            let batches: Vec<(i64, &Partial<K, V>)> = inner
                .batches
                .iter()
                .filter(|(t, _)| inner.pending_batch.as_ref().is_none_or(|(p, _)| p != *t))
                .chain(pending)
                .map(|(t, b)| (*t, b))
                .collect();
            match (&self.inverse, &inner.last) {
                (Some(inverse), Some((prev_end, prev))) if *prev_end == end - span.slide => {
                    let mut window = prev.clone();
                    for (t, b) in &batches {
                        // Entered the window (with slide > length, batches
                        // between two windows never do).
                        if *t > *prev_end && span.contains(end, *t) {
                            merge(&mut window, b, &self.reduce);
                        }
                    }
                    for (t, b) in &batches {
                        if span.contains(*prev_end, *t) && !span.contains(end, *t) {
                            for (k, (v, n)) in b.iter() {
                                if let Some((acc, m)) = window.remove(k) {
                                    let left = m.saturating_sub(*n);
                                    if left > 0 {
                                        window.insert(k.clone(), (inverse(acc, v.clone()), left));
                                    }
                                }
                            }
                        }
                    }
                    window
                }
                _ => {
                    let mut window = Partial::new();
                    for (t, b) in &batches {
                        if span.contains(end, *t) {
                            merge(&mut window, b, &self.reduce);
                        }
                    }
                    window
                }
            }
        };
        let out = result
            .iter()
            .map(|(k, (v, _))| (k.clone(), v.clone()))
            .collect();
        inner.pending_window = Some((end, result));
        out
    }
}

/// A [`Partial`] as stored: `(key, value, elements)` triples.
type Flat<K, V> = Vec<(K, V, u64)>;

#[derive(serde::Serialize, serde::Deserialize)]
struct KeyedSnapshot<K, V> {
    batches: Vec<(i64, Flat<K, V>)>,
    last: Option<(i64, Flat<K, V>)>,
}

fn flatten<K: Clone, V: Clone>(p: &Partial<K, V>) -> Flat<K, V> {
    p.iter()
        .map(|(k, (v, n))| (k.clone(), v.clone(), *n))
        .collect()
}

fn unflatten<K: Ord, V>(items: Flat<K, V>) -> Partial<K, V> {
    items.into_iter().map(|(k, v, n)| (k, (v, n))).collect()
}

impl<K: Checkpointable + Ord, V: Checkpointable> StatefulOp for KeyedWindowOp<K, V> {
    fn kind(&self) -> &'static str {
        "reduce_by_key_and_window"
    }

    fn snapshot(&self) -> Result<serde_json::Value, StreamingError> {
        let inner = lock(&self.inner);
        let mut batches: BTreeMap<i64, &Partial<K, V>> =
            inner.batches.iter().map(|(t, b)| (*t, b)).collect();
        if let Some((t, b)) = &inner.pending_batch {
            batches.insert(*t, b);
        }
        let last = inner.pending_window.as_ref().or(inner.last.as_ref());
        let snap = KeyedSnapshot {
            batches: batches.iter().map(|(t, b)| (*t, flatten(b))).collect(),
            last: last.map(|(t, w)| (*t, flatten(w))),
        };
        serde_json::to_value(snap).map_err(|e| state_error("reduce_by_key_and_window", e))
    }

    fn restore(&self, state: serde_json::Value) -> Result<(), StreamingError> {
        let snap: KeyedSnapshot<K, V> = serde_json::from_value(state)
            .map_err(|e| state_error("reduce_by_key_and_window", e))?;
        let mut inner = lock(&self.inner);
        inner.batches = snap
            .batches
            .into_iter()
            .map(|(t, b)| (t, unflatten(b)))
            .collect();
        inner.last = snap.last.map(|(t, w)| (t, unflatten(w)));
        inner.pending_batch = None;
        inner.pending_window = None;
        Ok(())
    }

    fn commit(&self, time: BatchTime) {
        let t = time.millis();
        let mut inner = lock(&self.inner);
        if let Some((bt, b)) = inner.pending_batch.take()
            && bt == t
        {
            inner.batches.insert(bt, b);
        }
        if let Some((wt, w)) = inner.pending_window.take()
            && wt == t
        {
            inner.last = Some((wt, w));
        }
        // The next incremental step subtracts batches down to `t - len - slide`.
        let oldest = t - self.span.len - self.span.slide;
        inner.batches.retain(|bt, _| *bt > oldest);
    }

    fn abort(&self) {
        let mut inner = lock(&self.inner);
        inner.pending_batch = None;
        inner.pending_window = None;
    }
}

impl<K, V> DStream<(K, V)>
where
    K: Element + Ord + Hash,
    V: Element,
{
    /// `reduce_by_key` over a sliding window (PySpark's
    /// `reduceByKeyAndWindow(func, invFunc, windowDuration, slideDuration)`):
    /// one `(key, value)` per key with elements in the window, sorted by key.
    ///
    /// Without `inverse`, each window is reduced from the per-batch partial
    /// results it covers. With `inverse` (undoes `f`: for `+` it is `-`), the
    /// previous window's result is updated: the batches that entered are
    /// added, those that left are removed with `inverse` — cheaper for long
    /// windows with short slides. Either way keys whose elements all left the
    /// window are dropped, so both give the same result (checked by a
    /// property test).
    ///
    /// ```no_run
    /// # use std::time::Duration;
    /// # let ssc = kt_streaming::StreamingContext::new(Duration::from_secs(5));
    /// # let lines = ssc.input_stream(kt_streaming::MemorySource::new(), Default::default());
    /// let pairs = lines.flat_map(|(_k, v)| v.split(' ').map(|w| (w.to_owned(), 1u64)).collect::<Vec<_>>());
    /// let counts = pairs.reduce_by_key_and_window(|a, b| a + b, Some(|a, b| a - b),
    ///     Duration::from_secs(30), Duration::from_secs(10))?;
    /// counts.print(10);
    /// # Ok::<(), kt_streaming::StreamingError>(())
    /// ```
    pub fn reduce_by_key_and_window(
        &self,
        f: impl Fn(V, V) -> V + Send + Sync + 'static,
        inverse: Option<impl Fn(V, V) -> V + Send + Sync + 'static>,
        length: Duration,
        slide: Duration,
    ) -> Result<DStream<(K, V)>, StreamingError>
    where
        K: Checkpointable,
        V: Checkpointable,
    {
        let span = self.check_span(length, slide)?;
        let reduce: Combine<V> = Arc::new(f);
        let op = Arc::new(KeyedWindowOp {
            span,
            reduce: Arc::clone(&reduce),
            inverse: inverse.map(|i| Arc::new(i) as Combine<V>),
            inner: Mutex::new(KeyedInner {
                batches: BTreeMap::new(),
                last: None,
                pending_batch: None,
                pending_window: None,
            }),
        });
        self.node.add_consumer();
        let parent = Arc::clone(&self.node);
        let feeder = Arc::clone(&op);
        self.ctx.add_internal(Box::new(Internal {
            name: "reduce_by_key_and_window",
            run: move |scope: &BatchScope| {
                let partial = match parent.pull_opt(scope)? {
                    Some(batch) => {
                        let mut p = Partial::new();
                        for (k, v) in batch.iter() {
                            match p.remove(k) {
                                Some((acc, n)) => {
                                    p.insert(k.clone(), (reduce(acc, v.clone()), n + 1))
                                }
                                None => p.insert(k.clone(), (v.clone(), 1)),
                            };
                        }
                        Some((scope.time().millis(), p))
                    }
                    None => None,
                };
                lock(&feeder.inner).pending_batch = partial;
                Ok(())
            },
        }));
        self.ctx.register_stateful(op.clone());
        let node = Node::new(
            "reduce_by_key_and_window",
            span.slide,
            Box::new(move |scope| Ok(op.compute(scope.time().millis()))),
        );
        Ok(DStream::from_node(node, Arc::clone(&self.ctx)))
    }
}
