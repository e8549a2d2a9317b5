//! The broker's request path: the input is the byte stream one client connection sends
//! (size-prefixed frames). Each frame goes through the size check, the request header, the
//! shape guard, kafka-protocol's decoder, the API handler against a fresh in-memory broker state
//! and the response encoder, in order, as a connection task runs them. Time is paused so long
//! polls and group timeouts resolve at once.
//!
//! Oracles besides "no panic, no abort, no allocation over -malloc_limit_mb": every response
//! frame's size prefix matches its length and it carries the request's correlation id; no
//! request hangs (a request that is still waiting after 60 virtual days is a bug: every wait a
//! client can ask for is bounded by an int32 of milliseconds, under 25 days).
#![no_main]

use std::time::Duration;

use kt_broker::fuzzing::{Closed, Exchange, FuzzBroker};
use libfuzzer_sys::fuzz_target;

/// Frames above this are refused (`socket.request.max.bytes`); libFuzzer inputs are far smaller.
const MAX_REQUEST: usize = 1 << 20;

fuzz_target!(|data: &[u8]| {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("runtime");
    rt.block_on(async {
        let broker = FuzzBroker::new(MAX_REQUEST);
        let served = tokio::time::timeout(Duration::from_secs(60 * 86_400), broker.serve(data));
        let (exchanges, closed) = served.await.expect("a request hung for 60 virtual days");
        if let Closed::Encode(e) = &closed {
            panic!("the broker could not encode its own response: {e}");
        }
        for exchange in &exchanges {
            if let Exchange::Response {
                correlation_id,
                frame,
            } = exchange
            {
                assert!(frame.len() >= 8, "response frame of {} bytes", frame.len());
                let size = i32::from_be_bytes([frame[0], frame[1], frame[2], frame[3]]);
                assert_eq!(size as usize, frame.len() - 4, "size prefix");
                let id = i32::from_be_bytes([frame[4], frame[5], frame[6], frame[7]]);
                assert_eq!(id, *correlation_id, "correlation id");
            }
        }
    });
});
