//! Entry points for the cargo-fuzz targets in `fuzz/`. Not a stable API: hidden from the docs
//! and free to change with the code it exercises.
//!
//! [`FuzzBroker::serve`] takes the bytes a client would write to a connection and runs them
//! through the steps a connection task runs (`server.rs`): size prefix limits, request header,
//! dispatch (shape guard, decode, handler, encode) against a fresh in-memory state. The caller
//! provides the tokio runtime, normally a current-thread one with paused time, so long polls and
//! group timeouts cost nothing and the run is deterministic.
//!
//! [`validate_batch`] runs a produced record batch through the log's checks.

use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::api::{self, Outcome};
use crate::config::BrokerConfig;
use crate::log::batch;
use crate::log::records::RecordIter;
use crate::protocol::{self, HeaderError};
use crate::state::{BrokerState, NodeInfo};

/// What happened to one request frame of the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exchange {
    /// The broker answered with this frame (size prefix included).
    Response {
        /// The correlation id of the request.
        correlation_id: i32,
        /// The response frame.
        frame: Bytes,
    },
    /// No answer (Produce with acks=0).
    NoResponse,
}

/// Why [`FuzzBroker::serve`] stopped before the end of its input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Closed {
    /// The input ended cleanly between frames.
    Eof,
    /// The input ended inside a frame.
    Truncated,
    /// A frame size outside 1..=socket.request.max.bytes: the connection would be closed.
    BadSize(i32),
    /// A frame too short for a request header: the connection would be closed.
    HeaderTooShort,
    /// Encoding a response failed (a broker bug; the connection would be closed).
    Encode(String),
}

/// A broker state with its group timers, driven without sockets.
#[derive(Debug)]
pub struct FuzzBroker {
    state: Arc<BrokerState>,
    max_request_size: usize,
    shutdown: watch::Sender<bool>,
    timers: JoinHandle<()>,
}

impl FuzzBroker {
    /// A fresh three-node broker state in memory with default settings (as `kt broker --nodes 3`,
    /// but with `max_request_size` as given). Must be called inside a tokio runtime: it spawns the group
    /// timer task as `Broker::start` does.
    pub fn new(max_request_size: usize) -> Self {
        let config = BrokerConfig::default();
        // Three nodes, so partition leadership and group coordination spread across them and
        // the routing refusals (NOT_LEADER_OR_FOLLOWER, NOT_COORDINATOR) are reachable; the
        // connection is to node 0.
        let nodes = (0..3)
            .map(|node_id| NodeInfo {
                node_id,
                host: "127.0.0.1".to_owned(),
                port: 9092 + node_id,
                rack: None,
            })
            .collect();
        let state = Arc::new(BrokerState::new(&config, nodes));
        let (shutdown, rx) = watch::channel(false);
        let timers = {
            let state = Arc::clone(&state);
            tokio::spawn(async move { state.groups.run_timers(rx).await })
        };
        FuzzBroker {
            state,
            max_request_size,
            shutdown,
            timers,
        }
    }

    /// Serves `input` as one connection's byte stream, in order, and returns each request's
    /// outcome and why the stream ended.
    pub async fn serve(&self, mut input: &[u8]) -> (Vec<Exchange>, Closed) {
        let mut out = Vec::new();
        loop {
            let Some(prefix) = input.first_chunk::<4>() else {
                let closed = if input.is_empty() {
                    Closed::Eof
                } else {
                    Closed::Truncated
                };
                return (out, closed);
            };
            let size = i32::from_be_bytes(*prefix);
            if size <= 0 || size as usize > self.max_request_size {
                return (out, Closed::BadSize(size));
            }
            let Some(frame) = input.get(4..4 + size as usize) else {
                return (out, Closed::Truncated);
            };
            input = &input[4 + size as usize..];
            let frame = Bytes::copy_from_slice(frame);
            let (correlation_id, outcome) = match protocol::decode_request_header(&frame) {
                Ok((header, body)) => (
                    header.correlation_id,
                    api::dispatch(&self.state, 0, &header, "fuzz", body).await,
                ),
                Err(HeaderError::TooShort(_)) => return (out, Closed::HeaderTooShort),
                Err(HeaderError::Malformed {
                    api_key,
                    api_version,
                    correlation_id,
                    ..
                }) => (
                    correlation_id,
                    api::header_error(api_key, api_version, correlation_id),
                ),
            };
            match outcome {
                Ok(Outcome::Respond(frame)) => out.push(Exchange::Response {
                    correlation_id,
                    frame,
                }),
                Ok(Outcome::NoResponse) => out.push(Exchange::NoResponse),
                Err(e) => return (out, Closed::Encode(e.to_string())),
            }
        }
    }
}

impl Drop for FuzzBroker {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
        self.timers.abort();
    }
}

/// What the log's checks made of a record batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchVerdict {
    /// `Ok(records_count)` or the refusal as text.
    pub result: Result<i32, String>,
    /// The batch as stored after stamping base offset 1000 and leader epoch 7, when accepted.
    pub stamped: Option<Bytes>,
    /// For an accepted uncompressed batch, the (offset delta, timestamp delta) of each record
    /// as the timestamp search walks them.
    pub records: Vec<(i32, i64)>,
}

/// Runs the produce path's batch checks on `bytes`: the first batch's length
/// (`first_batch_len`), then `validate`; an accepted batch is stamped as the log stores it and,
/// when uncompressed, walked as ListOffsets-by-timestamp walks it.
pub fn validate_batch(bytes: &[u8]) -> BatchVerdict {
    let mut verdict = BatchVerdict {
        result: Err(String::new()),
        stamped: None,
        records: Vec::new(),
    };
    let len = match batch::first_batch_len(bytes) {
        Ok(len) => len,
        Err(e) => {
            verdict.result = Err(e.to_string());
            return verdict;
        }
    };
    let first = &bytes[..len];
    match batch::validate(first) {
        Ok(header) => {
            verdict.result = Ok(header.records_count);
            verdict.stamped = Some(batch::stamp(first, 1000, 7));
            if header.compression() == 0 {
                verdict.records = RecordIter::new(&first[batch::HEADER_LEN..])
                    .filter_map(Result::ok)
                    .map(|m| (m.offset_delta, m.timestamp_delta))
                    .collect();
            }
        }
        Err(e) => verdict.result = Err(e.to_string()),
    }
    verdict
}

/// Re-validates a stamped batch (the oracle for [`validate_batch`]: stamping must keep an
/// accepted batch valid and carry the new base offset).
pub fn stamped_is_valid(stamped: &[u8]) -> Result<i64, String> {
    batch::validate(stamped)
        .map(|h| h.base_offset)
        .map_err(|e| e.to_string())
}
