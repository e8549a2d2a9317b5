//! The client's response path: the input is `[api key: i16][version: i16]` and then a response
//! frame after its size prefix (correlation id, response header, body) as a broker would send
//! it to a request of that API and version. It goes through the header, the decode every
//! response goes through, and the processing the client does with the result (metadata cache,
//! version table, consumer-protocol bytes, the record sets of a Fetch).
//!
//! Oracles: no panic, no abort, no allocation over -malloc_limit_mb.
#![no_main]

use bytes::Bytes;
use kt_client::fuzzing::response;
use libfuzzer_sys::fuzz_target;

/// The per-batch decompression cap (the consumer's default is 128 MiB; smaller here so each
/// run stays fast, the cap logic is the same).
const MAX_DECOMPRESSED: usize = 1 << 20;

fuzz_target!(|data: &[u8]| {
    if data.len() < 4 {
        return;
    }
    let api_key = i16::from_be_bytes([data[0], data[1]]);
    let version = i16::from_be_bytes([data[2], data[3]]);
    let frame = Bytes::copy_from_slice(&data[4..]);
    let _ = response(api_key, version, frame, MAX_DECOMPRESSED);
});
