//! Output operations: what makes a DStream's batches get computed.

use std::path::Path;
use std::sync::{Arc, Mutex};

use super::node::Node;
use super::{DStream, Element};
use crate::error::{BoxError, StreamingError};
use crate::graph::{BatchScope, OutputOp};
use crate::report::BatchInfo;
use crate::repr::PyRepr;
use crate::sink::text::TextFilesOutput;
use crate::time::BatchTime;

/// What an output function may return: `()`, or a `Result` whose error
/// fails the batch's output stage (which is then retried; see the engine's
/// retry policy).
pub trait OutputResult {
    /// The outcome as a result.
    fn into_result(self) -> Result<(), BoxError>;
}

impl OutputResult for () {
    fn into_result(self) -> Result<(), BoxError> {
        Ok(())
    }
}

impl<E: Into<BoxError>> OutputResult for Result<(), E> {
    fn into_result(self) -> Result<(), BoxError> {
        self.map_err(Into::into)
    }
}

/// Runs a user function on every batch's elements.
struct Foreach<T, F> {
    node: Arc<Node<T>>,
    name: &'static str,
    f: Mutex<F>,
}

impl<T, F, R> OutputOp for Foreach<T, F>
where
    T: Element,
    F: FnMut(&BatchInfo, &[T]) -> R + Send,
    R: OutputResult,
{
    fn describe(&self) -> String {
        self.name.to_owned()
    }

    fn run(&mut self, scope: &BatchScope) -> Result<(), StreamingError> {
        let items = self.node.pull(scope)?;
        let f = self.f.get_mut().unwrap_or_else(|e| e.into_inner());
        f(&scope.info, &items)
            .into_result()
            .map_err(|source| StreamingError::Output {
                output: self.name.to_owned(),
                source,
            })
    }
}

impl<T: Element> DStream<T> {
    fn add_output(
        &self,
        operation: &'static str,
        make: impl FnOnce(Arc<Node<T>>) -> Box<dyn OutputOp>,
    ) {
        self.ctx.before_start(operation, |state| {
            self.node.add_consumer();
            state.outputs.push(make(Arc::clone(&self.node)));
        });
    }

    /// Calls `f(batch_time, elements)` for every batch, empty ones included
    /// (PySpark's `foreachRDD`). Returning an `Err` fails the batch.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), kt_streaming::StreamingError> {
    /// use std::sync::{Arc, Mutex};
    /// let seen = Arc::new(Mutex::new(Vec::new()));
    /// let sink = Arc::clone(&seen);
    /// kt_streaming::testing::one_batch(&["x", "y"], move |lines| {
    ///     let values = lines.map(|(_key, v)| v);
    ///     values.foreach_batch(move |_time, items: &[String]| sink.lock().unwrap().extend_from_slice(items));
    ///     values
    /// }).await?;
    /// assert_eq!(*seen.lock().unwrap(), ["x", "y"]);
    /// # Ok(()) }
    /// ```
    pub fn foreach_batch<F, R>(&self, mut f: F)
    where
        F: FnMut(BatchTime, &[T]) -> R + Send + 'static,
        R: OutputResult + 'static,
    {
        self.add_output("foreach_batch", |node| {
            Box::new(Foreach {
                node,
                name: "foreach_batch",
                f: Mutex::new(move |info: &BatchInfo, items: &[T]| f(info.batch_time, items)),
            })
        });
    }

    /// Like [`foreach_batch`](Self::foreach_batch), with the batch's metadata:
    /// offset ranges, record counts, scheduling delay, attempt number.
    pub fn foreach_batch_info<F, R>(&self, f: F)
    where
        F: FnMut(&BatchInfo, &[T]) -> R + Send + 'static,
        R: OutputResult + 'static,
    {
        self.add_output("foreach_batch_info", |node| {
            Box::new(Foreach {
                node,
                name: "foreach_batch_info",
                f: Mutex::new(f),
            })
        });
    }

    /// Writes every batch, empty ones included, to the directory
    /// `PREFIX-<batch ms>.SUFFIX` (no dot when `suffix` is empty) holding
    /// `part-00000` — one line per element, Python's `str(element)` — and an
    /// empty `_SUCCESS` (PySpark's `saveAsTextFiles`). The directory appears
    /// complete or not at all: it is written under a hidden temporary name
    /// beside it and renamed.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), kt_streaming::StreamingError> {
    /// let dir = tempfile::tempdir().unwrap();
    /// let prefix = dir.path().join("f");
    /// kt_streaming::testing::one_batch(&["message1"], |messages| {
    ///     messages.save_as_text_files(&prefix, "log");
    ///     messages.clone()
    /// }).await?;
    /// let batch = std::fs::read_dir(dir.path()).unwrap().next().unwrap().unwrap().path();
    /// assert!(batch.file_name().unwrap().to_str().unwrap().ends_with(".log"));
    /// assert_eq!(std::fs::read_to_string(batch.join("part-00000")).unwrap(), "(None, 'message1')\n");
    /// assert!(batch.join("_SUCCESS").exists());
    /// # Ok(()) }
    /// ```
    pub fn save_as_text_files(&self, prefix: impl AsRef<Path>, suffix: &str)
    where
        T: PyRepr,
    {
        let prefix = prefix.as_ref().to_path_buf();
        let suffix = suffix.to_owned();
        self.add_output("save_as_text_files", |node| {
            Box::new(TextFilesOutput::new(node, prefix, suffix))
        });
    }
}
