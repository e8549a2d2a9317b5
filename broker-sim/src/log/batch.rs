//! Record batch (magic v2) header parsing and validation, without decompressing anything.
//!
//! Layout (<https://kafka.apache.org/documentation/#recordbatch>):
//! ```text
//! baseOffset int64 | batchLength int32 | partitionLeaderEpoch int32 | magic int8 | crc uint32
//! | attributes int16 | lastOffsetDelta int32 | baseTimestamp int64 | maxTimestamp int64
//! | producerId int64 | producerEpoch int16 | baseSequence int32 | records count int32 | records
//! ```
//! `batchLength` counts the bytes after itself; the CRC-32C covers attributes to the end, so
//! the broker may rewrite baseOffset and partitionLeaderEpoch without recomputing it.

use bytes::{BufMut, Bytes, BytesMut};

use super::records::{self, RecordError};

/// Bytes before the first record.
pub(crate) const HEADER_LEN: usize = 61;
/// Bytes before `batchLength`'s coverage starts (baseOffset + batchLength).
pub(crate) const LOG_OVERHEAD: usize = 12;
const PARTITION_LEADER_EPOCH_AT: usize = 12;
const MAGIC_AT: usize = 16;
const CRC_AT: usize = 17;
const ATTRIBUTES_AT: usize = 21;

/// The fixed header of a v2 record batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BatchHeader {
    pub(crate) base_offset: i64,
    pub(crate) batch_length: i32,
    pub(crate) partition_leader_epoch: i32,
    pub(crate) magic: i8,
    pub(crate) crc: u32,
    pub(crate) attributes: i16,
    pub(crate) last_offset_delta: i32,
    pub(crate) base_timestamp: i64,
    pub(crate) max_timestamp: i64,
    pub(crate) producer_id: i64,
    pub(crate) producer_epoch: i16,
    pub(crate) base_sequence: i32,
    pub(crate) records_count: i32,
}

impl BatchHeader {
    /// Compression codec: 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd.
    pub(crate) fn compression(&self) -> i16 {
        self.attributes & 0x07
    }
    pub(crate) fn is_transactional(&self) -> bool {
        self.attributes & 0x10 != 0
    }
    pub(crate) fn is_control(&self) -> bool {
        self.attributes & 0x20 != 0
    }
    /// Total bytes of the batch including baseOffset and batchLength.
    #[cfg(test)]
    pub(crate) fn total_len(&self) -> usize {
        LOG_OVERHEAD + self.batch_length as usize
    }
}

/// Why a batch was refused. Each maps to a Kafka error code in the produce handler.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum BatchError {
    #[error("record batch of {0} bytes is shorter than the 61-byte v2 header")]
    TooShort(usize),
    #[error("batchLength says {declared} bytes follow but {actual} do")]
    LengthMismatch { declared: i64, actual: usize },
    #[error("magic byte is {0}; only v2 record batches (magic 2) are accepted")]
    Magic(i8),
    #[error("CRC-32C mismatch: batch says {stored:#010x}, bytes give {computed:#010x}")]
    Crc { stored: u32, computed: u32 },
    #[error("batch holds no records")]
    Empty,
    #[error("records count {count} disagrees with lastOffsetDelta {last_offset_delta}")]
    CountMismatch { count: i32, last_offset_delta: i32 },
    #[error("invalid record in batch: {0}")]
    Record(#[from] RecordError),
    #[error("unknown compression codec {0}")]
    Codec(i16),
}

fn be_i16(b: &[u8], at: usize) -> i16 {
    i16::from_be_bytes([b[at], b[at + 1]])
}
fn be_i32(b: &[u8], at: usize) -> i32 {
    i32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}
fn be_i64(b: &[u8], at: usize) -> i64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    i64::from_be_bytes(a)
}

/// Reads the header of the batch at the start of `buf` (which may hold more batches after it).
pub(crate) fn parse_header(buf: &[u8]) -> Result<BatchHeader, BatchError> {
    if buf.len() < HEADER_LEN {
        return Err(BatchError::TooShort(buf.len()));
    }
    Ok(BatchHeader {
        base_offset: be_i64(buf, 0),
        batch_length: be_i32(buf, 8),
        partition_leader_epoch: be_i32(buf, PARTITION_LEADER_EPOCH_AT),
        magic: buf[MAGIC_AT] as i8,
        crc: u32::from_be_bytes([
            buf[CRC_AT],
            buf[CRC_AT + 1],
            buf[CRC_AT + 2],
            buf[CRC_AT + 3],
        ]),
        attributes: be_i16(buf, ATTRIBUTES_AT),
        last_offset_delta: be_i32(buf, 23),
        base_timestamp: be_i64(buf, 27),
        max_timestamp: be_i64(buf, 35),
        producer_id: be_i64(buf, 43),
        producer_epoch: be_i16(buf, 51),
        base_sequence: be_i32(buf, 53),
        records_count: be_i32(buf, 57),
    })
}

/// Validates that `batch` is exactly one well-formed v2 batch and returns its header.
///
/// Checks, in order: header present, batchLength matches the bytes, magic 2, CRC-32C over
/// attributes..end, a known codec, at least one record and `count == lastOffsetDelta + 1`.
/// Uncompressed batches additionally have every record walked (lengths, offset deltas);
/// compressed ones are not opened.
pub(crate) fn validate(batch: &[u8]) -> Result<BatchHeader, BatchError> {
    let header = parse_header(batch)?;
    let declared = i64::from(header.batch_length);
    let actual = batch.len() - LOG_OVERHEAD;
    if declared != actual as i64 {
        return Err(BatchError::LengthMismatch { declared, actual });
    }
    if header.magic != 2 {
        return Err(BatchError::Magic(header.magic));
    }
    let computed = crc32c::crc32c(&batch[ATTRIBUTES_AT..]);
    if computed != header.crc {
        return Err(BatchError::Crc {
            stored: header.crc,
            computed,
        });
    }
    if !(0..=4).contains(&header.compression()) {
        return Err(BatchError::Codec(header.compression()));
    }
    if header.records_count <= 0 {
        return Err(BatchError::Empty);
    }
    if header.last_offset_delta < 0
        || i64::from(header.records_count) != i64::from(header.last_offset_delta) + 1
    {
        return Err(BatchError::CountMismatch {
            count: header.records_count,
            last_offset_delta: header.last_offset_delta,
        });
    }
    if header.compression() == 0 {
        records::validate(&batch[HEADER_LEN..], header.records_count)?;
    }
    Ok(header)
}

/// Checks a stored (possibly compacted) batch: header, length, magic and CRC-32C, but not the
/// record count against the offset delta (compaction leaves gaps). Recovery from disk uses it.
pub(crate) fn validate_stored(batch: &[u8]) -> Result<BatchHeader, BatchError> {
    let header = parse_header(batch)?;
    let actual = batch.len() - LOG_OVERHEAD;
    if i64::from(header.batch_length) != actual as i64 {
        return Err(BatchError::LengthMismatch {
            declared: i64::from(header.batch_length),
            actual,
        });
    }
    let computed = crc32c::crc32c(&batch[ATTRIBUTES_AT..]);
    if computed != header.crc {
        return Err(BatchError::Crc {
            stored: header.crc,
            computed,
        });
    }
    Ok(header)
}

/// Splits `records` into the length of its first batch and what follows, using only the
/// batchLength field (no validation beyond bounds).
pub(crate) fn first_batch_len(records: &[u8]) -> Result<usize, BatchError> {
    if records.len() < LOG_OVERHEAD {
        return Err(BatchError::TooShort(records.len()));
    }
    let declared = i64::from(be_i32(records, 8));
    let total = declared + LOG_OVERHEAD as i64;
    if declared < (HEADER_LEN - LOG_OVERHEAD) as i64 || total > records.len() as i64 {
        return Err(BatchError::LengthMismatch {
            declared,
            actual: records.len() - LOG_OVERHEAD,
        });
    }
    Ok(total as usize)
}

/// Copies a validated batch, stamping the broker-assigned base offset and leader epoch.
///
/// One copy per batch: the stored bytes then own exactly their batch instead of pinning the
/// whole request frame they arrived in. The CRC stays valid (neither field is covered).
pub(crate) fn stamp(batch: &[u8], base_offset: i64, leader_epoch: i32) -> Bytes {
    let mut out = BytesMut::with_capacity(batch.len());
    out.put_i64(base_offset);
    out.extend_from_slice(&batch[8..PARTITION_LEADER_EPOCH_AT]);
    out.put_i32(leader_epoch);
    out.extend_from_slice(&batch[MAGIC_AT..]);
    out.freeze()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// (key, value, timestamp) of a test record.
    pub(crate) type TestRecord<'a> = (Option<&'a [u8]>, Option<&'a [u8]>, i64);

    /// Builds an uncompressed v2 batch with the given (key, value, timestamp) records.
    pub(crate) fn build_batch(records: &[TestRecord<'_>]) -> Vec<u8> {
        build_batch_with(records, 0)
    }

    /// As [`build_batch`] but with `attributes` (codec bits are only a label here: the record
    /// bytes are not compressed, which the broker cannot tell and does not check).
    pub(crate) fn build_batch_with(records: &[TestRecord<'_>], attributes: i16) -> Vec<u8> {
        let base_ts = records.first().map(|r| r.2).unwrap_or(0);
        let max_ts = records.iter().map(|r| r.2).max().unwrap_or(0);
        let mut body = Vec::new();
        for (i, (k, v, ts)) in records.iter().enumerate() {
            let mut rec = Vec::new();
            rec.push(0u8);
            put_varlong(ts - base_ts, &mut rec);
            put_varlong(i as i64, &mut rec);
            for field in [k, v] {
                match field {
                    None => put_varlong(-1, &mut rec),
                    Some(b) => {
                        put_varlong(b.len() as i64, &mut rec);
                        rec.extend_from_slice(b);
                    }
                }
            }
            put_varlong(0, &mut rec);
            put_varlong(rec.len() as i64, &mut body);
            body.extend_from_slice(&rec);
        }
        let mut b = Vec::new();
        b.extend_from_slice(&0i64.to_be_bytes());
        b.extend_from_slice(&((HEADER_LEN - LOG_OVERHEAD + body.len()) as i32).to_be_bytes());
        b.extend_from_slice(&(-1i32).to_be_bytes());
        b.push(2);
        b.extend_from_slice(&[0, 0, 0, 0]);
        b.extend_from_slice(&attributes.to_be_bytes());
        b.extend_from_slice(&((records.len() as i32) - 1).to_be_bytes());
        b.extend_from_slice(&base_ts.to_be_bytes());
        b.extend_from_slice(&max_ts.to_be_bytes());
        b.extend_from_slice(&(-1i64).to_be_bytes());
        b.extend_from_slice(&(-1i16).to_be_bytes());
        b.extend_from_slice(&(-1i32).to_be_bytes());
        b.extend_from_slice(&(records.len() as i32).to_be_bytes());
        b.extend_from_slice(&body);
        let crc = crc32c::crc32c(&b[ATTRIBUTES_AT..]);
        b[CRC_AT..CRC_AT + 4].copy_from_slice(&crc.to_be_bytes());
        b
    }

    pub(crate) fn put_varlong(v: i64, out: &mut Vec<u8>) {
        let mut z = ((v << 1) ^ (v >> 63)) as u64;
        while z >= 0x80 {
            out.push((z as u8) | 0x80);
            z >>= 7;
        }
        out.push(z as u8);
    }

    #[test]
    fn valid_batch_passes_and_reports_header() {
        let b = build_batch(&[(Some(b"k"), Some(b"v1"), 100), (None, Some(b"v2"), 105)]);
        let h = validate(&b).unwrap();
        assert_eq!(h.records_count, 2);
        assert_eq!(h.last_offset_delta, 1);
        assert_eq!(h.max_timestamp, 105);
        assert_eq!(h.total_len(), b.len());
        assert_eq!(first_batch_len(&b).unwrap(), b.len());
    }

    #[test]
    fn crc_flip_is_rejected() {
        let mut b = build_batch(&[(None, Some(b"hello"), 1)]);
        let last = b.len() - 2;
        b[last] ^= 0xff;
        assert!(matches!(validate(&b), Err(BatchError::Crc { .. })));
    }

    #[test]
    fn wrong_magic_length_and_count_are_rejected() {
        let good = build_batch(&[(None, Some(b"x"), 1)]);
        let mut b = good.clone();
        b[MAGIC_AT] = 1;
        assert_eq!(validate(&b), Err(BatchError::Magic(1)));
        let mut b = good.clone();
        b.push(0);
        assert!(matches!(
            validate(&b),
            Err(BatchError::LengthMismatch { .. })
        ));
        assert!(matches!(
            validate(&good[..40]),
            Err(BatchError::TooShort(40))
        ));
        // count 2 but lastOffsetDelta 0 (recompute CRC so the count check is what fails)
        let mut b = good.clone();
        b[57..61].copy_from_slice(&2i32.to_be_bytes());
        let crc = crc32c::crc32c(&b[ATTRIBUTES_AT..]);
        b[CRC_AT..CRC_AT + 4].copy_from_slice(&crc.to_be_bytes());
        assert!(matches!(
            validate(&b),
            Err(BatchError::CountMismatch { .. })
        ));
    }

    #[test]
    fn stamp_sets_offset_and_epoch_and_keeps_crc_valid() {
        let b = build_batch(&[(None, Some(b"x"), 1), (None, Some(b"y"), 2)]);
        let s = stamp(&b, 42, 7);
        let h = validate(&s).unwrap();
        assert_eq!(h.base_offset, 42);
        assert_eq!(h.partition_leader_epoch, 7);
        assert_eq!(&s[MAGIC_AT..], &b[MAGIC_AT..]);
    }

    #[test]
    fn first_batch_len_bounds() {
        assert!(first_batch_len(&[0; 5]).is_err());
        let mut b = vec![0u8; 12];
        b[8..12].copy_from_slice(&i32::MAX.to_be_bytes());
        assert!(first_batch_len(&b).is_err());
        b[8..12].copy_from_slice(&(-5i32).to_be_bytes());
        assert!(first_batch_len(&b).is_err());
    }
}
