//! Bounded, zero-copy decoding of v2 record batches.
//!
//! Input is untrusted (it comes off the network, possibly written by another client), so:
//! every length is checked before it is used, the CRC-32C is verified before the payload is
//! looked at, the record count never sizes an allocation beyond what the bytes can hold,
//! decompression is capped, and a record or batch with bytes left over is an error.
//! Keys, values and header values are `Bytes` slices of the input (or of the decompressed
//! buffer), not copies.

use bytes::Bytes;

use super::batch::{
    ATTR_LOG_APPEND_TIME, BATCH_HEADER_LEN, CRC_START, MAGIC_OFFSET, Record, RecordBatch,
};
use super::varint::Reader;
use crate::compression;
use crate::config::Compression;
use crate::error::Error;

/// The smallest possible record: seven one-byte fields.
const MIN_RECORD_LEN: usize = 7;

/// Batches of a Fetch response's `records` field.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct RecordSet {
    /// Complete batches, in order.
    pub batches: Vec<RecordBatch>,
    /// Whether the data ended inside a batch. Brokers cut responses at the size limit, so a
    /// partial last batch is normal; the consumer fetches it again from its offset.
    pub truncated: bool,
}

fn be_i32(b: &[u8], at: usize) -> i32 {
    // Callers check `b.len() >= at + 4` first; a short slice yields 0 rather than a panic.
    b.get(at..at + 4)
        .and_then(|s| <[u8; 4]>::try_from(s).ok())
        .map_or(0, i32::from_be_bytes)
}

fn be_i64(b: &[u8], at: usize) -> i64 {
    b.get(at..at + 8)
        .and_then(|s| <[u8; 8]>::try_from(s).ok())
        .map_or(0, i64::from_be_bytes)
}

fn be_i16(b: &[u8], at: usize) -> i16 {
    b.get(at..at + 2)
        .and_then(|s| <[u8; 2]>::try_from(s).ok())
        .map_or(0, i16::from_be_bytes)
}

/// Decodes every complete batch in `data`; a partial trailing batch sets `truncated`.
pub fn decode_record_set(data: &Bytes, max_decompressed: usize) -> Result<RecordSet, Error> {
    let mut set = RecordSet::default();
    let mut pos = 0usize;
    while pos < data.len() {
        let rest = &data[pos..];
        if rest.len() < 12 {
            set.truncated = true;
            break;
        }
        let batch_length = be_i32(rest, 8);
        let Ok(batch_length) = usize::try_from(batch_length) else {
            return Err(Error::CorruptRecord(format!(
                "negative batch length {batch_length}"
            )));
        };
        let total = batch_length.saturating_add(12);
        if rest.len() < total {
            // A batch that ends beyond the data: the broker cut the response here.
            // Only the magic can be checked; anything else waits for the full batch.
            if rest.len() > MAGIC_OFFSET {
                check_magic(rest[MAGIC_OFFSET])?;
            }
            set.truncated = true;
            break;
        }
        let batch = decode_batch(data.slice(pos..pos + total), max_decompressed)?;
        set.batches.push(batch);
        pos += total;
    }
    Ok(set)
}

fn check_magic(magic: u8) -> Result<(), Error> {
    if magic == 2 {
        Ok(())
    } else {
        Err(Error::CorruptRecord(format!(
            "message format v{magic} is not supported (kt reads record batch v2, Kafka >= 0.11)"
        )))
    }
}

/// Decodes exactly one batch; `data` must hold the whole batch and nothing else.
pub fn decode_batch(data: Bytes, max_decompressed: usize) -> Result<RecordBatch, Error> {
    if data.len() <= MAGIC_OFFSET {
        return Err(Error::CorruptRecord(format!(
            "{} bytes is too short for a record batch",
            data.len()
        )));
    }
    check_magic(data[MAGIC_OFFSET])?;
    if data.len() < BATCH_HEADER_LEN {
        return Err(Error::CorruptRecord(format!(
            "{} bytes is too short for a v2 record batch",
            data.len()
        )));
    }
    let declared = be_i32(&data, 8);
    if usize::try_from(declared).ok().map(|l| l.saturating_add(12)) != Some(data.len()) {
        return Err(Error::CorruptRecord(format!(
            "batch length {declared} does not match {} bytes",
            data.len()
        )));
    }
    let stored_crc = u32::from_be_bytes([data[17], data[18], data[19], data[20]]);
    let computed = crc32c::crc32c(&data[CRC_START..]);
    if stored_crc != computed {
        return Err(Error::CorruptRecord(format!(
            "CRC-32C mismatch: batch says {stored_crc:#010x}, data has {computed:#010x}"
        )));
    }

    let base_offset = be_i64(&data, 0);
    let attributes = be_i16(&data, 21);
    let mut batch = RecordBatch {
        base_offset,
        partition_leader_epoch: be_i32(&data, 12),
        attributes,
        last_offset_delta: be_i32(&data, 23),
        base_timestamp: be_i64(&data, 27),
        max_timestamp: be_i64(&data, 35),
        producer_id: be_i64(&data, 43),
        producer_epoch: be_i16(&data, 51),
        base_sequence: be_i32(&data, 53),
        records: Vec::new(),
    };
    let count = be_i32(&data, 57);
    let count = usize::try_from(count)
        .map_err(|_| Error::CorruptRecord(format!("negative record count {count}")))?;
    if batch.last_offset_delta < 0 {
        return Err(Error::CorruptRecord("negative last offset delta".into()));
    }
    let codec = Compression::from_attribute(attributes).ok_or_else(|| {
        Error::CorruptRecord(format!("unknown compression codec {}", attributes & 0x07))
    })?;

    let payload = if codec == Compression::None {
        data.slice(BATCH_HEADER_LEN..)
    } else {
        Bytes::from(compression::decompress(
            codec,
            &data[BATCH_HEADER_LEN..],
            max_decompressed,
        )?)
    };
    if count > payload.len() / MIN_RECORD_LEN {
        return Err(Error::CorruptRecord(format!(
            "record count {count} cannot fit in {} bytes",
            payload.len()
        )));
    }
    let log_append_time = attributes & ATTR_LOG_APPEND_TIME != 0;
    batch.records.reserve_exact(count);
    let mut reader = Reader::new(&payload);
    for _ in 0..count {
        let rec = decode_record(&payload, &mut reader, &batch, log_append_time)?;
        batch.records.push(rec);
    }
    if reader.remaining() != 0 {
        return Err(Error::CorruptRecord(format!(
            "{} bytes left after {count} records",
            reader.remaining()
        )));
    }
    Ok(batch)
}

fn decode_record(
    payload: &Bytes,
    r: &mut Reader<'_>,
    batch: &RecordBatch,
    log_append_time: bool,
) -> Result<Record, Error> {
    let len = r.varint("record length")?;
    let len = usize::try_from(len)
        .map_err(|_| Error::CorruptRecord(format!("negative record length {len}")))?;
    if len > r.remaining() {
        return Err(Error::CorruptRecord(format!(
            "record length {len} exceeds the {} bytes left",
            r.remaining()
        )));
    }
    let end = r.pos() + len;
    let _attributes = r.u8("record attributes")?;
    let ts_delta = r.varlong("timestamp delta")?;
    let offset_delta = r.varint("offset delta")?;
    let key = nullable_bytes(payload, r, "key")?;
    let value = nullable_bytes(payload, r, "value")?;
    let header_count = r.varint("header count")?;
    let header_count = usize::try_from(header_count)
        .map_err(|_| Error::CorruptRecord(format!("negative header count {header_count}")))?;
    // Each header takes at least two bytes (two zero lengths).
    if header_count > end.saturating_sub(r.pos()) / 2 {
        return Err(Error::CorruptRecord(format!(
            "header count {header_count} cannot fit in the record"
        )));
    }
    let mut headers = Vec::with_capacity(header_count);
    for _ in 0..header_count {
        let klen = r.varint("header key length")?;
        let klen = usize::try_from(klen)
            .map_err(|_| Error::CorruptRecord("null or negative header key".into()))?;
        let range = r.take(klen, "header key")?;
        let key = std::str::from_utf8(&payload[range])
            .map_err(|_| Error::CorruptRecord("header key is not UTF-8".into()))?
            .to_owned();
        let value = nullable_bytes(payload, r, "header value")?;
        headers.push((key, value));
    }
    if r.pos() != end {
        return Err(Error::CorruptRecord(format!(
            "record declares {len} bytes but its fields use {}",
            len as isize + (r.pos() as isize - end as isize)
        )));
    }
    let timestamp = if log_append_time {
        batch.max_timestamp
    } else {
        batch.base_timestamp.wrapping_add(ts_delta)
    };
    Ok(Record {
        offset: batch.base_offset.wrapping_add(i64::from(offset_delta)),
        timestamp,
        key,
        value,
        headers,
    })
}

fn nullable_bytes(payload: &Bytes, r: &mut Reader<'_>, what: &str) -> Result<Option<Bytes>, Error> {
    let len = r.varint(what)?;
    if len < 0 {
        if len != -1 {
            return Err(Error::CorruptRecord(format!("{what} length {len}")));
        }
        return Ok(None);
    }
    let range = r.take(len as usize, what)?;
    Ok(Some(payload.slice(range)))
}
