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

use libfuzzer_sys::fuzz_target;

/// Frames above this are refused (`socket.request.max.bytes`); libFuzzer inputs are far smaller.
const MAX_REQUEST: usize = 1 << 20;

fuzz_target!(|data: &[u8]| {
    kt_fuzz::broker::serve_and_check(data, MAX_REQUEST, None);
});
