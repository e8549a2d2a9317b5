//! Every codec's decompressor on arbitrary bytes with a cap, and compress/decompress round
//! trips of arbitrary data. The first byte picks the codec (gzip, snappy, lz4, zstd; 0 = none).
//!
//! Oracles: output never exceeds the cap; what kt compresses, kt decompresses to the same bytes.
#![no_main]

use kt_client::Compression;
use kt_client::compression::{compress, decompress};
use libfuzzer_sys::fuzz_target;

const LIMIT: usize = 1 << 20;

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let Some(codec) = Compression::from_attribute(i16::from(first % 5)) else {
        return;
    };
    if let Ok(out) = decompress(codec, rest, LIMIT) {
        assert!(out.len() <= LIMIT, "{codec:?} produced {} bytes", out.len());
    }
    if first >= 0x80 {
        let packed = compress(codec, rest).expect("compressing in memory cannot fail");
        let unpacked = decompress(codec, &packed, LIMIT).expect("kt reads what kt writes");
        assert_eq!(unpacked, rest, "{codec:?} round trip");
    }
});
