//! Helpers for trying operators on fixed input, without Kafka (as Spark's
//! `queueStream` is used in tests).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::context::StreamingContext;
use crate::dstream::{DStream, Element};
use crate::error::StreamingError;
use crate::source::{InputOptions, MemorySource, OffsetReset};

/// Runs one batch whose input is `values` (unkeyed, in order) through the
/// DStream `build` returns, and collects that DStream's elements.
/// Outputs `build` registers run too. Uses a 1 ms batch interval on the real clock.
pub async fn one_batch<T: Element>(
    values: &[&str],
    build: impl FnOnce(&DStream<(Option<String>, String)>) -> DStream<T>,
) -> Result<Vec<T>, StreamingError> {
    let source = MemorySource::new();
    source.create_topic("test", 1);
    for value in values {
        source.produce("test", 0, value);
    }
    let ssc = StreamingContext::new(Duration::from_millis(1)).stop_after_batches(1);
    let input = ssc.input_stream(
        source,
        InputOptions {
            offset_reset: OffsetReset::Earliest,
            ..InputOptions::default()
        },
    );
    let collected = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&collected);
    build(&input).foreach_batch(move |_, items: &[T]| {
        sink.lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(items);
    });
    ssc.run().await?;
    let out = std::mem::take(&mut *collected.lock().unwrap_or_else(|e| e.into_inner()));
    Ok(out)
}
