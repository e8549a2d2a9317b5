//! The broker's record batch checks (length, magic, CRC-32C, codec, counts, and every record's
//! framing when uncompressed), then stamping and the timestamp walk, on arbitrary bytes.
//!
//! Oracles: an accepted batch stays valid after stamping and carries the stamped base offset;
//! an accepted uncompressed batch walks as exactly `records_count` records with offset deltas
//! 0, 1, 2, ...
#![no_main]

use kt_broker::fuzzing::{stamped_is_valid, validate_batch};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let verdict = validate_batch(data);
    if let Ok(count) = verdict.result {
        let stamped = verdict
            .stamped
            .as_ref()
            .expect("an accepted batch is stamped");
        assert_eq!(stamped_is_valid(stamped), Ok(1000));
        let attributes = i16::from_be_bytes([data[21], data[22]]);
        if attributes & 0x07 == 0 {
            assert_eq!(verdict.records.len(), count as usize);
            for (i, (delta, _)) in verdict.records.iter().enumerate() {
                assert_eq!(*delta as usize, i);
            }
        }
    }
});
