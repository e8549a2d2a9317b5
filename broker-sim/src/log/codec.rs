//! Decompression of record batch payloads, used only off the hot path: ListOffsets by
//! timestamp inside a compressed batch and the log cleaner (compaction needs the keys).
//! Produce and Fetch never decompress.
//!
//! Codecs as Kafka's clients write them: gzip (possibly several members), snappy (raw, or the
//! xerial framing the Java client writes: a 16-byte header then `[len: i32][block]` chunks),
//! lz4 (frame format), zstd (one or more frames). Every decoder stops at `limit` bytes of
//! output and fails instead of allocating more (a batch of 1 MiB can claim gigabytes).

use std::io::Read;

/// Why a payload could not be decompressed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum CodecError {
    #[error("decompressed size exceeds the {0}-byte limit")]
    TooLarge(usize),
    #[error("{codec}: {why}")]
    Corrupt { codec: &'static str, why: String },
    #[error("unknown compression codec {0}")]
    Unknown(i16),
}

const XERIAL_MAGIC: [u8; 8] = [0x82, b'S', b'N', b'A', b'P', b'P', b'Y', 0];

fn corrupt(codec: &'static str, e: impl std::fmt::Display) -> CodecError {
    CodecError::Corrupt {
        codec,
        why: e.to_string(),
    }
}

fn read_bounded(r: impl Read, limit: usize, codec: &'static str) -> Result<Vec<u8>, CodecError> {
    let mut out = Vec::new();
    r.take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| corrupt(codec, e))?;
    if out.len() > limit {
        return Err(CodecError::TooLarge(limit));
    }
    Ok(out)
}

fn snappy_block(block: &[u8], limit: usize, out: &mut Vec<u8>) -> Result<(), CodecError> {
    let len = snap::raw::decompress_len(block).map_err(|e| corrupt("snappy", e))?;
    if len > limit.saturating_sub(out.len()) {
        return Err(CodecError::TooLarge(limit));
    }
    let start = out.len();
    out.resize(start + len, 0);
    let n = snap::raw::Decoder::new()
        .decompress(block, &mut out[start..])
        .map_err(|e| corrupt("snappy", e))?;
    out.truncate(start + n);
    Ok(())
}

fn snappy(data: &[u8], limit: usize) -> Result<Vec<u8>, CodecError> {
    let mut out = Vec::new();
    if data.len() >= 16 && data[..8] == XERIAL_MAGIC {
        let mut rest = &data[16..];
        while !rest.is_empty() {
            let Some(len) = rest.first_chunk::<4>().map(|b| i32::from_be_bytes(*b)) else {
                return Err(corrupt("snappy", "truncated xerial chunk length"));
            };
            let len = usize::try_from(len).map_err(|_| corrupt("snappy", "negative chunk"))?;
            let block = rest
                .get(4..4 + len)
                .ok_or_else(|| corrupt("snappy", "truncated xerial chunk"))?;
            snappy_block(block, limit, &mut out)?;
            rest = &rest[4 + len..];
        }
    } else {
        snappy_block(data, limit, &mut out)?;
    }
    Ok(out)
}

fn zstd(data: &[u8], limit: usize) -> Result<Vec<u8>, CodecError> {
    let mut out = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        // The window is what the decoder allocates up front: refuse absurd ones.
        let mut decoder =
            ruzstd::decoding::StreamingDecoder::new_with_max_window_size(&mut rest, 32 << 20)
                .map_err(|e| corrupt("zstd", e))?;
        let room = limit - out.len();
        let frame = read_bounded(&mut decoder, room, "zstd")?;
        out.extend_from_slice(&frame);
    }
    Ok(out)
}

/// Decompresses the records section of a batch compressed with `codec` (attributes & 7).
pub(crate) fn decompress(codec: i16, data: &[u8], limit: usize) -> Result<Vec<u8>, CodecError> {
    match codec {
        0 => {
            if data.len() > limit {
                return Err(CodecError::TooLarge(limit));
            }
            Ok(data.to_vec())
        }
        1 => read_bounded(flate2::read::MultiGzDecoder::new(data), limit, "gzip"),
        2 => snappy(data, limit),
        3 => read_bounded(lz4_flex::frame::FrameDecoder::new(data), limit, "lz4"),
        4 => zstd(data, limit),
        other => Err(CodecError::Unknown(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn every_codec_round_trips_and_is_bounded() {
        let data: Vec<u8> = (0..10_000u32).flat_map(|i| (i % 7).to_be_bytes()).collect();
        let raw_snappy = snap::raw::Encoder::new().compress_vec(&data).unwrap();
        let mut xerial = XERIAL_MAGIC.to_vec();
        xerial.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 1]);
        xerial.extend_from_slice(&(raw_snappy.len() as i32).to_be_bytes());
        xerial.extend_from_slice(&raw_snappy);
        let mut lz4 = lz4_flex::frame::FrameEncoder::new(Vec::new());
        lz4.write_all(&data).unwrap();
        let lz4 = lz4.finish().unwrap();
        let zstd = ruzstd::encoding::compress_to_vec(
            &data[..],
            ruzstd::encoding::CompressionLevel::Fastest,
        );
        let cases = [
            (1, gzip(&data)),
            (2, raw_snappy),
            (2, xerial),
            (3, lz4),
            (4, zstd),
        ];
        for (codec, compressed) in &cases {
            assert_eq!(
                decompress(*codec, compressed, data.len()).unwrap(),
                data,
                "codec {codec}"
            );
            assert_eq!(
                decompress(*codec, compressed, data.len() - 1),
                Err(CodecError::TooLarge(data.len() - 1)),
                "codec {codec}"
            );
            assert!(decompress(*codec, &compressed[..compressed.len() / 2], data.len()).is_err());
        }
        assert_eq!(decompress(7, b"", 10), Err(CodecError::Unknown(7)));
    }
}
