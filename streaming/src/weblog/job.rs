//! The tutorial's step 3 as DStream helpers: per batch, how many requests of
//! each HTTP method and each endpoint, and how many lines were rejected.
//!
//! Lines are parsed once per batch and shared by all three counts (a DStream
//! with several consumers is computed once per batch).

use std::time::Duration;

use crate::{DStream, StreamingError};

use super::{LogRecord, WeblogError, parse_log_line};

/// Parses every line; rejected lines stay in the stream as `Err`, so they can
/// be counted or inspected.
pub fn parse_lines(lines: &DStream<String>) -> DStream<Result<LogRecord, WeblogError>> {
    lines.map(|line| parse_log_line(&line).map(|l| l.to_record()))
}

/// `(method, count)` per batch, sorted by method: `('GET', 12)`.
pub fn methods_count(parsed: &DStream<Result<LogRecord, WeblogError>>) -> DStream<(String, u64)> {
    parsed
        .flat_map(|r| r.ok().map(|r| (r.method, 1u64)))
        .reduce_by_key(|a, b| a + b)
}

/// `(endpoint, count)` per batch, sorted by endpoint: `('/index.html', 3)`.
pub fn endpoints_count(parsed: &DStream<Result<LogRecord, WeblogError>>) -> DStream<(String, u64)> {
    parsed
        .flat_map(|r| r.ok().map(|r| (r.endpoint, 1u64)))
        .reduce_by_key(|a, b| a + b)
}

/// The `n` pairs with the highest counts, highest first (ties by key):
/// the classic log-analysis "top endpoints" list.
pub fn top_n(counts: &DStream<(String, u64)>, n: usize) -> DStream<(String, u64)> {
    counts.transform(move |mut pairs| {
        pairs.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        pairs.truncate(n);
        pairs
    })
}

/// One element per batch: how many lines did not parse.
pub fn rejected_count(parsed: &DStream<Result<LogRecord, WeblogError>>) -> DStream<u64> {
    parsed.filter(Result::is_err).count()
}

/// The three counts over one stream of lines.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), kt_streaming::StreamingError> {
/// use kt_streaming::weblog::WeblogJob;
/// let lines = [
///     r#"10.0.0.1 - - [01/Jul/1995:00:00:01 -0400] "GET /index.html HTTP/1.0" 200 6245"#,
///     r#"10.0.0.2 - - [01/Jul/1995:00:00:02 -0400] "POST /login HTTP/1.0" 302 -"#,
///     r#"10.0.0.3 - - [01/Jul/1995:00:00:03 -0400] "-" 408 -"#,
///     r#"10.0.0.1 - - [01/Jul/1995:00:00:04 -0400] "GET /index.html HTTP/1.0" 304 -"#,
/// ];
/// let methods = kt_streaming::testing::one_batch(&lines, |messages| {
///     WeblogJob::new(&messages.map(|(_key, line)| line)).methods
/// }).await?;
/// assert_eq!(methods, vec![("GET".to_owned(), 2), ("POST".to_owned(), 1)]);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct WeblogJob {
    /// Every line, parsed or rejected.
    pub parsed: DStream<Result<LogRecord, WeblogError>>,
    /// See [`methods_count`].
    pub methods: DStream<(String, u64)>,
    /// See [`endpoints_count`].
    pub endpoints: DStream<(String, u64)>,
    /// See [`rejected_count`].
    pub rejected: DStream<u64>,
}

impl WeblogJob {
    /// Builds the parse step and the three counts over `lines`.
    pub fn new(lines: &DStream<String>) -> Self {
        let parsed = parse_lines(lines);
        WeblogJob {
            methods: methods_count(&parsed),
            endpoints: endpoints_count(&parsed),
            rejected: rejected_count(&parsed),
            parsed,
        }
    }

    /// Like [`new`](Self::new), with the method and endpoint counts over a
    /// sliding window (kept incrementally); `rejected` stays per batch.
    pub fn windowed(
        lines: &DStream<String>,
        length: Duration,
        slide: Duration,
    ) -> Result<Self, StreamingError> {
        let parsed = parse_lines(lines);
        let count = |pairs: DStream<(String, u64)>| {
            pairs.reduce_by_key_and_window(
                |a, b| a + b,
                Some(|a: u64, b: u64| a - b),
                length,
                slide,
            )
        };
        Ok(WeblogJob {
            methods: count(parsed.flat_map(|r| r.ok().map(|r| (r.method, 1u64))))?,
            endpoints: count(parsed.flat_map(|r| r.ok().map(|r| (r.endpoint, 1u64))))?,
            rejected: rejected_count(&parsed),
            parsed,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    #[tokio::test]
    async fn counts_methods_endpoints_and_rejections_in_one_pass() {
        let lines = [
            r#"a - - [01/Jul/1995:00:00:01 -0400] "GET /b HTTP/1.0" 200 1"#,
            r#"a - - [01/Jul/1995:00:00:01 -0400] "GET /a HTTP/1.0" 200 1"#,
            r#"a - - [01/Jul/1995:00:00:01 -0400] "HEAD /a" 200 -"#,
            "garbage",
            "",
        ];
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&seen);
        let endpoints = crate::testing::one_batch(&lines, move |messages| {
            let job = WeblogJob::new(&messages.map(|(_, v)| v));
            job.rejected
                .foreach_batch(move |_, n: &[u64]| sink.lock().unwrap().extend_from_slice(n));
            job.endpoints
        })
        .await
        .unwrap();
        assert_eq!(endpoints, vec![("/a".to_owned(), 2), ("/b".to_owned(), 1)]);
        assert_eq!(*seen.lock().unwrap(), vec![2]);
    }
}
