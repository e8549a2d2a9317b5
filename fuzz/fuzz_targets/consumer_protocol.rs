//! Consumer-protocol bytes (a member's subscription as the group leader reads it, an
//! assignment as a member reads it), which other group members — any client — write.
//!
//! Oracles: no panic, no abort, no allocation over -malloc_limit_mb.
#![no_main]

use bytes::Bytes;
use kt_client::fuzzing::consumer_protocol;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = consumer_protocol(Bytes::copy_from_slice(data));
});
