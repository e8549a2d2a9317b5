//! Record batch v2: the decoded types and the encoder.
//!
//! Layout (all big-endian; see the protocol guide's "Record Batch" section):
//!
//! ```text
//! 0  baseOffset i64        | 8  batchLength i32   | 12 partitionLeaderEpoch i32
//! 16 magic i8 (=2)         | 17 crc u32 (CRC-32C of bytes 21..end)
//! 21 attributes i16        | 23 lastOffsetDelta i32 | 27 baseTimestamp i64
//! 35 maxTimestamp i64      | 43 producerId i64      | 51 producerEpoch i16
//! 53 baseSequence i32      | 57 recordCount i32     | 61 records (maybe compressed)
//! ```

use bytes::{BufMut, Bytes};

use super::varint::{put_varint, put_varlong, varint_len, varlong_len};
use crate::compression;
use crate::config::Compression;
use crate::error::Error;

/// Size of the batch header up to and including the record count.
pub const BATCH_HEADER_LEN: usize = 61;
/// Offset of the magic byte; the same in every message format, so old formats can be named.
pub const MAGIC_OFFSET: usize = 16;
/// Start of the CRC-covered region.
pub(crate) const CRC_START: usize = 21;

/// Attribute bit: timestamps are LogAppendTime.
pub const ATTR_LOG_APPEND_TIME: i16 = 0x08;
/// Attribute bit: part of a transaction.
pub const ATTR_TRANSACTIONAL: i16 = 0x10;
/// Attribute bit: a control batch (transaction markers), never shown to applications.
pub const ATTR_CONTROL: i16 = 0x20;

/// One record of a batch, with absolute offset and timestamp.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// Absolute offset (base offset + offset delta).
    pub offset: i64,
    /// Absolute timestamp (or the batch's max timestamp for LogAppendTime batches).
    pub timestamp: i64,
    /// Key, a slice of the fetched (or decompressed) buffer.
    pub key: Option<Bytes>,
    /// Value, a slice of the fetched (or decompressed) buffer.
    pub value: Option<Bytes>,
    /// Headers in wire order; duplicate keys are kept.
    pub headers: Vec<(String, Option<Bytes>)>,
}

/// A decoded v2 record batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordBatch {
    /// Offset of the first record.
    pub base_offset: i64,
    /// Leader epoch stamped by the broker.
    pub partition_leader_epoch: i32,
    /// Raw attributes (compression, timestamp type, transactional, control).
    pub attributes: i16,
    /// Offset delta of the last record; the batch covers `base_offset..=base_offset+delta`
    /// even if compaction removed records.
    pub last_offset_delta: i32,
    /// Timestamp of the first record.
    pub base_timestamp: i64,
    /// Largest timestamp in the batch.
    pub max_timestamp: i64,
    /// Producer id (-1 when not idempotent).
    pub producer_id: i64,
    /// Producer epoch.
    pub producer_epoch: i16,
    /// Sequence number of the first record.
    pub base_sequence: i32,
    /// The records. In a control batch they are the transaction markers (never shown to
    /// applications; see [`RecordBatch::control_type`]).
    pub records: Vec<Record>,
}

impl RecordBatch {
    /// The batch's compression codec (unknown codecs are rejected when decoding).
    pub fn compression(&self) -> Compression {
        Compression::from_attribute(self.attributes).unwrap_or_default()
    }

    /// Whether this is a control batch (transaction commit/abort markers).
    pub fn is_control(&self) -> bool {
        self.attributes & ATTR_CONTROL != 0
    }

    /// The marker type of a control batch: 0 = ABORT, 1 = COMMIT (the key of its first
    /// record is `version: i16, type: i16`). `None` for data batches or a malformed marker.
    pub fn control_type(&self) -> Option<i16> {
        if !self.is_control() {
            return None;
        }
        let key = self.records.first()?.key.as_ref()?;
        let t = key.get(2..4)?;
        Some(i16::from_be_bytes([t[0], t[1]]))
    }

    /// Whether this batch belongs to a transaction.
    pub fn is_transactional(&self) -> bool {
        self.attributes & ATTR_TRANSACTIONAL != 0
    }

    /// The last offset the batch covers.
    pub fn last_offset(&self) -> i64 {
        self.base_offset
            .saturating_add(i64::from(self.last_offset_delta))
    }
}

/// Builds one v2 batch, record by record.
///
/// Records are encoded as they are appended (so the producer keeps bytes, not structs);
/// compression and the header are applied by [`BatchBuilder::build`]. Producer id, epoch and
/// base sequence are kept so idempotence can be added without touching the format code.
#[derive(Debug, Clone)]
pub struct BatchBuilder {
    compression: Compression,
    producer_id: i64,
    producer_epoch: i16,
    base_sequence: i32,
    partition_leader_epoch: i32,
    attributes_extra: i16,
    base_timestamp: i64,
    max_timestamp: i64,
    count: i32,
    /// The header's room (`BATCH_HEADER_LEN` bytes, written by `build`/`finish`), then the
    /// encoded records. Keeping the room in front lets [`BatchBuilder::finish`] turn an
    /// uncompressed batch into its wire bytes without copying the records.
    buf: Vec<u8>,
}

impl BatchBuilder {
    /// An empty batch using `compression`, not idempotent (producer id -1).
    pub fn new(compression: Compression) -> Self {
        Self::with_capacity(compression, 0)
    }

    /// Like [`BatchBuilder::new`], with room for about `bytes` of records up front (capped at
    /// 64 KiB: larger batches grow as records arrive, so an idle partition holds little).
    pub fn with_capacity(compression: Compression, bytes: usize) -> Self {
        let mut buf = Vec::with_capacity(BATCH_HEADER_LEN + bytes.min(64 * 1024));
        buf.resize(BATCH_HEADER_LEN, 0);
        BatchBuilder {
            compression,
            producer_id: -1,
            producer_epoch: -1,
            base_sequence: -1,
            partition_leader_epoch: -1,
            attributes_extra: 0,
            base_timestamp: 0,
            max_timestamp: -1,
            count: 0,
            buf,
        }
    }

    /// Sets producer id, epoch and base sequence (idempotent / transactional producers).
    pub fn with_producer(
        mut self,
        producer_id: i64,
        producer_epoch: i16,
        base_sequence: i32,
    ) -> Self {
        self.producer_id = producer_id;
        self.producer_epoch = producer_epoch;
        self.base_sequence = base_sequence;
        self
    }

    /// Re-stamps producer id, epoch and base sequence in place (a retried idempotent batch
    /// that needs a new producer identity).
    pub fn set_producer(&mut self, producer_id: i64, producer_epoch: i16, base_sequence: i32) {
        self.producer_id = producer_id;
        self.producer_epoch = producer_epoch;
        self.base_sequence = base_sequence;
    }

    /// Sets the transactional / control / LogAppendTime attribute bits (tests and tools).
    pub fn with_attribute_bits(mut self, bits: i16) -> Self {
        self.attributes_extra = bits & (ATTR_LOG_APPEND_TIME | ATTR_TRANSACTIONAL | ATTR_CONTROL);
        self
    }

    /// Sets the partition leader epoch field.
    pub fn with_partition_leader_epoch(mut self, epoch: i32) -> Self {
        self.partition_leader_epoch = epoch;
        self
    }

    /// Number of records appended.
    pub fn len(&self) -> usize {
        self.count as usize
    }

    /// Whether no record was appended.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Uncompressed size of the batch if built now.
    pub fn size(&self) -> usize {
        self.buf.len()
    }

    /// Upper bound of the bytes one more record adds (for the batch-full decision).
    pub fn record_size_upper_bound(
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        headers: &[(String, Option<Bytes>)],
    ) -> usize {
        // length(5) + attributes(1) + timestamp delta(10) + offset delta(5)
        // + key len(5) + value len(5) + header count(5), then the payloads.
        let mut n = 36 + key.map_or(0, <[u8]>::len) + value.map_or(0, <[u8]>::len);
        for (k, v) in headers {
            n += 10 + k.len() + v.as_ref().map_or(0, Bytes::len);
        }
        n
    }

    /// Appends a record; returns its offset delta.
    pub fn append(
        &mut self,
        timestamp: i64,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        headers: &[(String, Option<Bytes>)],
    ) -> Result<i32, Error> {
        let offset_delta = self.count;
        if self.count == 0 {
            self.base_timestamp = timestamp;
        }
        let ts_delta = timestamp.wrapping_sub(self.base_timestamp);
        let len_of = |b: Option<&[u8]>| -> Result<i32, Error> {
            match b {
                None => Ok(-1),
                Some(b) => i32::try_from(b.len())
                    .map_err(|_| Error::Encode("record field larger than 2 GiB".into())),
            }
        };
        let key_len = len_of(key)?;
        let value_len = len_of(value)?;
        let header_count =
            i32::try_from(headers.len()).map_err(|_| Error::Encode("too many headers".into()))?;

        let mut body_len = 1
            + varlong_len(ts_delta)
            + varint_len(offset_delta)
            + varint_len(key_len)
            + key.map_or(0, <[u8]>::len)
            + varint_len(value_len)
            + value.map_or(0, <[u8]>::len)
            + varint_len(header_count);
        let mut header_lens = Vec::with_capacity(headers.len());
        for (k, v) in headers {
            let kl = len_of(Some(k.as_bytes()))?;
            let vl = len_of(v.as_deref())?;
            body_len +=
                varint_len(kl) + k.len() + varint_len(vl) + v.as_ref().map_or(0, Bytes::len);
            header_lens.push((kl, vl));
        }
        let body_len_i32 = i32::try_from(body_len)
            .map_err(|_| Error::Encode("record larger than 2 GiB".into()))?;

        let r = &mut self.buf;
        r.reserve(body_len + 5);
        put_varint(r, body_len_i32);
        r.push(0); // record attributes: unused
        put_varlong(r, ts_delta);
        put_varint(r, offset_delta);
        put_varint(r, key_len);
        if let Some(k) = key {
            r.extend_from_slice(k);
        }
        put_varint(r, value_len);
        if let Some(v) = value {
            r.extend_from_slice(v);
        }
        put_varint(r, header_count);
        for ((k, v), (kl, vl)) in headers.iter().zip(header_lens) {
            put_varint(r, kl);
            r.extend_from_slice(k.as_bytes());
            put_varint(r, vl);
            if let Some(v) = v {
                r.extend_from_slice(v);
            }
        }
        self.count += 1;
        self.max_timestamp = self.max_timestamp.max(timestamp);
        Ok(offset_delta)
    }

    /// Compresses the records, writes the header and CRC-32C; `base_offset` is 0 for a
    /// producer (the broker assigns offsets). The builder stays usable; see
    /// [`BatchBuilder::finish`] for the variant that does not copy.
    pub fn build(&self, base_offset: i64) -> Result<Bytes, Error> {
        self.check_not_empty()?;
        let records = &self.buf[BATCH_HEADER_LEN..];
        let compressed;
        let payload: &[u8] = if self.compression == Compression::None {
            records
        } else {
            compressed = compression::compress(self.compression, records)?;
            &compressed
        };
        let mut out = Vec::with_capacity(BATCH_HEADER_LEN + payload.len());
        out.resize(BATCH_HEADER_LEN, 0);
        out.extend_from_slice(payload);
        self.write_header(&mut out, base_offset)?;
        Ok(Bytes::from(out))
    }

    /// Like [`BatchBuilder::build`], consuming the builder: an uncompressed batch becomes its
    /// wire bytes in place, with no copy of the records.
    pub fn finish(mut self, base_offset: i64) -> Result<Bytes, Error> {
        if self.compression != Compression::None {
            return self.build(base_offset);
        }
        self.check_not_empty()?;
        let mut buf = std::mem::take(&mut self.buf);
        self.write_header(&mut buf, base_offset)?;
        Ok(Bytes::from(buf))
    }

    fn check_not_empty(&self) -> Result<(), Error> {
        if self.count == 0 {
            return Err(Error::Encode(
                "a record batch needs at least one record".into(),
            ));
        }
        Ok(())
    }

    /// Fills `out[..BATCH_HEADER_LEN]` (the room in front of the payload) and the CRC-32C.
    fn write_header(&self, out: &mut [u8], base_offset: i64) -> Result<(), Error> {
        let batch_length = i32::try_from(out.len() - 12)
            .map_err(|_| Error::Encode("record batch larger than 2 GiB".into()))?;
        let attributes = self.compression.attribute() | self.attributes_extra;
        let mut h: &mut [u8] = &mut out[..BATCH_HEADER_LEN];
        h.put_i64(base_offset);
        h.put_i32(batch_length);
        h.put_i32(self.partition_leader_epoch);
        h.put_i8(2);
        h.put_u32(0); // CRC, patched below
        h.put_i16(attributes);
        h.put_i32(self.count - 1);
        h.put_i64(self.base_timestamp);
        h.put_i64(self.max_timestamp);
        h.put_i64(self.producer_id);
        h.put_i16(self.producer_epoch);
        h.put_i32(self.base_sequence);
        h.put_i32(self.count);
        let crc = crc32c::crc32c(&out[CRC_START..]);
        out[17..21].copy_from_slice(&crc.to_be_bytes());
        Ok(())
    }
}

/// A copy of an encoded v2 batch with new producer id, epoch and base sequence (and its
/// CRC-32C recomputed): an idempotent batch re-sent under a new producer id.
pub fn restamp(
    batch: &Bytes,
    producer_id: i64,
    producer_epoch: i16,
    base_sequence: i32,
) -> Result<Bytes, Error> {
    if batch.len() < BATCH_HEADER_LEN {
        return Err(Error::Encode(format!(
            "cannot re-stamp a {}-byte batch",
            batch.len()
        )));
    }
    let mut b = batch.to_vec();
    b[43..51].copy_from_slice(&producer_id.to_be_bytes());
    b[51..53].copy_from_slice(&producer_epoch.to_be_bytes());
    b[53..57].copy_from_slice(&base_sequence.to_be_bytes());
    let crc = crc32c::crc32c(&b[CRC_START..]);
    b[17..21].copy_from_slice(&crc.to_be_bytes());
    Ok(Bytes::from(b))
}
