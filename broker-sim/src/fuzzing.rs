//! Entry points for the cargo-fuzz targets in `fuzz/`. Not a stable API: hidden from the docs
//! and free to change with the code it exercises.
//!
//! [`FuzzBroker::serve`] takes the bytes a client would write to a connection and runs them
//! through the steps a connection task runs (`server.rs`): size prefix limits, request header,
//! dispatch (shape guard, decode, handler, encode) against a fresh in-memory state, with SASL
//! required or not. The caller provides the tokio runtime, normally a current-thread one with
//! paused time, so long polls and group timeouts cost nothing and the run is deterministic.
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
use crate::sasl::{Session, Users};
use crate::state::{BrokerState, NodeInfo};

/// What happened to one request frame of the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exchange {
    /// The broker answered with this frame (size prefix included).
    Response {
        /// The request's API key, or `None` for a raw SASL token (after a v0 handshake).
        api_key: Option<i16>,
        /// The correlation id of the request, or `None` for a raw SASL token, whose answer is
        /// a size-prefixed token without a response header.
        correlation_id: Option<i32>,
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
    /// The broker closed the connection on purpose (a request before SASL authentication, a
    /// failed authentication, an unsupported SASL mechanism, a failed acks=0 Produce), after
    /// sending what `exchanges` holds.
    ByBroker,
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
    /// A fresh three-node broker state in memory with default settings (as
    /// `kt broker --nodes 3`), `max_request_size` as given, and SASL required when `users` is
    /// given (as `--users FILE`). Must be called inside a tokio runtime: it spawns the group
    /// timer task as the cluster does.
    pub fn new(max_request_size: usize, users: Option<Arc<Users>>) -> Self {
        let config = BrokerConfig {
            users,
            ..BrokerConfig::default()
        };
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
    /// outcome and why the stream ended. The steps are those of `server.rs`'s connection task
    /// (raw SASL tokens after a v0 handshake, header, dispatch with the connection's SASL
    /// session, header errors, closes), without its fault injection and socket handling.
    pub async fn serve(&self, mut input: &[u8]) -> (Vec<Exchange>, Closed) {
        let mut out = Vec::new();
        let mut session = Session::new(self.state.users.clone(), "fuzz:0".to_owned());
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
            let (api_key, correlation_id, outcome) = if session.expects_raw_token() {
                (None, None, Ok(api::raw_sasl_token(&mut session, &frame)))
            } else {
                match protocol::decode_request_header(&frame) {
                    Ok((header, body)) => (
                        Some(header.api_key),
                        Some(header.correlation_id),
                        api::dispatch(&self.state, 0, &mut session, &header, "fuzz", body).await,
                    ),
                    Err(HeaderError::TooShort(_)) => return (out, Closed::HeaderTooShort),
                    Err(HeaderError::Malformed {
                        api_key,
                        api_version,
                        correlation_id,
                        ..
                    }) => (
                        Some(api_key),
                        Some(correlation_id),
                        api::header_error(api_key, api_version, correlation_id),
                    ),
                }
            };
            match outcome {
                Ok(Outcome::Respond(frame)) => out.push(Exchange::Response {
                    api_key,
                    correlation_id,
                    frame,
                }),
                Ok(Outcome::NoResponse) => out.push(Exchange::NoResponse),
                Ok(Outcome::RespondAndClose(frame)) => {
                    out.push(Exchange::Response {
                        api_key,
                        correlation_id,
                        frame,
                    });
                    return (out, Closed::ByBroker);
                }
                Ok(Outcome::Close) => return (out, Closed::ByBroker),
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    /// A size-prefixed request frame with a v1 header (null client id) and `body`.
    fn frame(api_key: i16, version: i16, correlation_id: i32, body: &[u8]) -> Vec<u8> {
        let mut f = Vec::new();
        f.extend_from_slice(&api_key.to_be_bytes());
        f.extend_from_slice(&version.to_be_bytes());
        f.extend_from_slice(&correlation_id.to_be_bytes());
        f.extend_from_slice(&(-1i16).to_be_bytes());
        f.extend_from_slice(body);
        let mut out = (f.len() as i32).to_be_bytes().to_vec();
        out.extend_from_slice(&f);
        out
    }

    fn keys(exchanges: &[Exchange]) -> Vec<(Option<i16>, Option<i32>)> {
        exchanges
            .iter()
            .map(|e| match e {
                Exchange::Response {
                    api_key,
                    correlation_id,
                    ..
                } => (*api_key, *correlation_id),
                Exchange::NoResponse => (None, None),
            })
            .collect()
    }

    #[tokio::test(start_paused = true)]
    async fn serves_frames_in_order_until_a_short_header() {
        let broker = FuzzBroker::new(1 << 20, None);
        let mut input = frame(18, 0, 7, &[]); // ApiVersions v0
        input.extend(frame(3, 1, 8, &(-1i32).to_be_bytes())); // Metadata v1, all topics
        input.extend([0, 0, 0, 3, 0, 3, 0]); // a frame too short for a header
        let (exchanges, closed) = broker.serve(&input).await;
        assert_eq!(
            keys(&exchanges),
            vec![(Some(18), Some(7)), (Some(3), Some(8))]
        );
        assert_eq!(closed, Closed::HeaderTooShort);
    }

    #[tokio::test(start_paused = true)]
    async fn with_users_nothing_but_sasl_is_served_before_authentication() {
        let users = Arc::new(Users::parse("alice:alice-secret\n").unwrap());
        let broker = FuzzBroker::new(1 << 20, Some(Arc::clone(&users)));
        let metadata = frame(3, 1, 1, &(-1i32).to_be_bytes());
        let (exchanges, closed) = broker.serve(&metadata).await;
        assert!(exchanges.is_empty());
        assert_eq!(closed, Closed::ByBroker);

        // SaslHandshake v1 PLAIN, SaslAuthenticate v0 with the right password, then Metadata.
        let mut input = frame(17, 1, 2, &[0, 5, b'P', b'L', b'A', b'I', b'N']);
        let token = b"\0alice\0alice-secret";
        let mut auth = (token.len() as i32).to_be_bytes().to_vec();
        auth.extend_from_slice(token);
        input.extend(frame(36, 0, 3, &auth));
        input.extend(&metadata);
        let (exchanges, closed) = broker.serve(&input).await;
        assert_eq!(
            keys(&exchanges),
            vec![(Some(17), Some(2)), (Some(36), Some(3)), (Some(3), Some(1))]
        );
        assert_eq!(closed, Closed::Eof);

        // A wrong password: the answer, then the broker closes.
        let mut input = frame(17, 1, 2, &[0, 5, b'P', b'L', b'A', b'I', b'N']);
        let token = b"\0alice\0wrong";
        let mut auth = (token.len() as i32).to_be_bytes().to_vec();
        auth.extend_from_slice(token);
        input.extend(frame(36, 0, 3, &auth));
        input.extend(&metadata);
        let (exchanges, closed) = broker.serve(&input).await;
        assert_eq!(
            keys(&exchanges),
            vec![(Some(17), Some(2)), (Some(36), Some(3))]
        );
        assert_eq!(closed, Closed::ByBroker);
    }
}
