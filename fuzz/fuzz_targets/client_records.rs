//! The client's record set decoder (a Fetch partition's `records`): batches of any codec,
//! CRC-32C, bounded counts, decompression capped per batch.
//!
//! Oracles: a decoded batch's records have offsets inside the batch's range, strictly
//! increasing; the decompressed size never exceeds the cap (checked by the codec itself and by
//! -malloc_limit_mb).
#![no_main]

use bytes::Bytes;
use kt_client::records::decode_record_set;
use libfuzzer_sys::fuzz_target;

const MAX_DECOMPRESSED: usize = 1 << 20;

fuzz_target!(|data: &[u8]| {
    let data = Bytes::copy_from_slice(data);
    if let Ok(set) = decode_record_set(&data, MAX_DECOMPRESSED) {
        for batch in &set.batches {
            let mut last = None;
            for r in &batch.records {
                assert!(r.offset >= batch.base_offset && r.offset <= batch.last_offset());
                assert!(last.is_none_or(|l| r.offset > l), "offsets not increasing");
                last = Some(r.offset);
            }
        }
    }
});
