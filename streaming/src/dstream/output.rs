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
        let Some(items) = self.node.pull_opt(scope)? else {
            return Ok(()); // a windowed stream between its slides: no batch
        };
        let f = self.f.get_mut().unwrap_or_else(|e| e.into_inner());
        f(&scope.info, &items)
            .into_result()
            .map_err(|source| StreamingError::Output {
                output: self.name.to_owned(),
                source,
            })
    }
}

/// Spark's `print` text for one batch: header, up to `n` elements, `...`
/// when there are more, and an empty line.
pub(crate) fn pprint<T: PyRepr>(time: BatchTime, n: usize, items: &[T]) -> String {
    const RULE: &str = "-------------------------------------------";
    let mut text = format!("{RULE}\nTime: {time}\n{RULE}\n");
    for item in items.iter().take(n) {
        item.write_str(&mut text);
        text.push('\n');
    }
    if items.len() > n {
        text.push_str("...\n");
    }
    text.push('\n');
    text
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
    /// `f` runs before the batch's offsets are committed and may run again
    /// for the same batch (a retry, or a restart after a crash before the
    /// commit): its effects are at least once. Make them idempotent by keying
    /// them on the batch time, or use [`foreach_batch_info`](Self::foreach_batch_info)
    /// to see the offset ranges.
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

    /// Prints the first `n` elements of every batch to stdout in Spark's
    /// layout (`DStream.print` / PySpark's `pprint`), `...` when there are
    /// more:
    ///
    /// ```text
    /// -------------------------------------------
    /// Time: 1700000005000 ms
    /// -------------------------------------------
    /// ('hello', 2)
    /// ('world', 1)
    ///
    /// ```
    ///
    /// The time line is Scala Spark's `Time` (epoch ms); PySpark's `pprint`
    /// prints the same layout with a local date-time there.
    pub fn print(&self, n: usize)
    where
        T: PyRepr,
    {
        self.print_to(n, std::io::stdout());
    }

    /// [`print`](Self::print) to any writer (a file, a buffer in tests).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), kt_streaming::StreamingError> {
    /// use std::sync::{Arc, Mutex};
    /// #[derive(Clone, Default)]
    /// struct Buf(Arc<Mutex<Vec<u8>>>);
    /// impl std::io::Write for Buf {
    ///     fn write(&mut self, b: &[u8]) -> std::io::Result<usize> { self.0.lock().unwrap().write(b) }
    ///     fn flush(&mut self) -> std::io::Result<()> { Ok(()) }
    /// }
    /// let buf = Buf::default();
    /// let out = buf.clone();
    /// kt_streaming::testing::one_batch(&["a", "b", "c"], move |lines| {
    ///     let values = lines.map(|(_k, v)| v);
    ///     values.print_to(2, out);
    ///     values
    /// }).await?;
    /// let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    /// let body: Vec<&str> = text.lines().skip(3).collect();
    /// assert_eq!(body, ["a", "b", "...", ""]);
    /// assert!(text.starts_with("-------------------------------------------\nTime: "));
    /// # Ok(()) }
    /// ```
    pub fn print_to(&self, n: usize, mut out: impl std::io::Write + Send + 'static)
    where
        T: PyRepr,
    {
        self.add_output("print", |node| {
            Box::new(Foreach {
                node,
                name: "print",
                f: Mutex::new(move |info: &BatchInfo, items: &[T]| {
                    let text = pprint(info.batch_time, n, items);
                    out.write_all(text.as_bytes()).and_then(|()| out.flush())
                }),
            })
        });
    }

    /// Writes every batch, empty ones included, to the directory
    /// `PREFIX-<batch ms>.SUFFIX` (no dot when `suffix` is empty) holding
    /// `part-00000` — one line per element, Python's `str(element)` — and an
    /// empty `_SUCCESS` (PySpark's `saveAsTextFiles`). The directory appears
    /// complete or not at all, and only once the batch's offsets are
    /// committed: it is staged under a hidden name beside it (`.NAME.staged`)
    /// and renamed into place after the commit. A windowed stream writes only
    /// at its slide times.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pprint_layout_matches_spark() {
        let t = BatchTime::from_millis(1_700_000_005_000);
        let items = vec![("hello".to_owned(), 2u64), ("world".to_owned(), 1)];
        assert_eq!(
            pprint(t, 10, &items),
            "-------------------------------------------\n\
             Time: 1700000005000 ms\n\
             -------------------------------------------\n\
             ('hello', 2)\n\
             ('world', 1)\n\
             \n"
        );
        assert_eq!(
            pprint(t, 1, &items),
            "-------------------------------------------\n\
             Time: 1700000005000 ms\n\
             -------------------------------------------\n\
             ('hello', 2)\n\
             ...\n\
             \n"
        );
        assert!(pprint::<u8>(t, 3, &[]).ends_with("-\n\n"));
    }
}
