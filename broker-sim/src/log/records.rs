//! Walking the records of an *uncompressed* v2 batch: enough to validate their framing and to
//! find a record by timestamp, without building any record objects.
//!
//! ```text
//! Record => length:varint attributes:int8 timestampDelta:varlong offsetDelta:varint
//!           keyLength:varint key valueLength:varint value
//!           headersCount:varint [headerKeyLength:varint key headerValueLength:varint value]
//! ```

use crate::protocol::varint::{read_varint, read_varlong};

/// A framing problem inside the records section.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum RecordError {
    #[error("record {index} is truncated or has a malformed length")]
    Truncated { index: i32 },
    #[error("record {index} declares {declared} bytes but its fields take {used}")]
    LengthMismatch {
        index: i32,
        declared: i32,
        used: usize,
    },
    #[error("record {index} has offsetDelta {offset_delta}, expected {index}")]
    OffsetDelta { index: i32, offset_delta: i32 },
    #[error("batch says {expected} records but {found} bytes remain after them")]
    Trailing { expected: i32, found: usize },
}

/// What a record walk exposes: offset and timestamp deltas relative to the batch header, the
/// key, whether the value is null (a tombstone), and the record's bytes (length prefix
/// included) for the cleaner to copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RecordMeta<'a> {
    pub(crate) offset_delta: i32,
    pub(crate) timestamp_delta: i64,
    pub(crate) key: Option<&'a [u8]>,
    pub(crate) null_value: bool,
    pub(crate) raw: &'a [u8],
}

/// Iterates the records in `buf` (the bytes after the 61-byte batch header).
#[derive(Debug)]
pub(crate) struct RecordIter<'a> {
    buf: &'a [u8],
    index: i32,
}

impl<'a> RecordIter<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        RecordIter { buf, index: 0 }
    }

    fn next_record(&mut self) -> Result<RecordMeta<'a>, RecordError> {
        let index = self.index;
        let trunc = RecordError::Truncated { index };
        let (declared, used) = read_varint(self.buf).ok_or(trunc.clone())?;
        if declared < 0 || declared as usize > self.buf.len() - used {
            return Err(trunc);
        }
        let buf: &'a [u8] = self.buf;
        let body = &buf[used..used + declared as usize];
        let mut pos = 1usize; // attributes
        if body.is_empty() {
            return Err(trunc);
        }
        let varlong = |pos: &mut usize| -> Result<i64, RecordError> {
            let (v, n) = read_varlong(body.get(*pos..).unwrap_or(&[])).ok_or(trunc.clone())?;
            *pos += n;
            Ok(v)
        };
        let timestamp_delta = varlong(&mut pos)?;
        let offset_delta = varlong(&mut pos)?;
        // key, value: length -1 (null) or >= 0 then bytes
        let key_len = varlong(&mut pos)?;
        let key_at = pos;
        skip_bytes(body, &mut pos, key_len, true, index)?;
        let key = (key_len >= 0).then(|| &body[key_at..pos]);
        let value_len = varlong(&mut pos)?;
        skip_bytes(body, &mut pos, value_len, true, index)?;
        let headers = varlong(&mut pos)?;
        if headers < 0 || headers as u64 > (body.len() - pos) as u64 {
            return Err(RecordError::Truncated { index });
        }
        for _ in 0..headers {
            let klen = varlong(&mut pos)?;
            skip_bytes(body, &mut pos, klen, false, index)?;
            let vlen = varlong(&mut pos)?;
            skip_bytes(body, &mut pos, vlen, true, index)?;
        }
        if pos != body.len() {
            return Err(RecordError::LengthMismatch {
                index,
                declared,
                used: pos,
            });
        }
        let offset_delta = i32::try_from(offset_delta).map_err(|_| RecordError::OffsetDelta {
            index,
            offset_delta: -1,
        })?;
        let raw = &buf[..used + declared as usize];
        self.buf = &buf[used + declared as usize..];
        self.index += 1;
        Ok(RecordMeta {
            offset_delta,
            timestamp_delta,
            key,
            null_value: value_len < 0,
            raw,
        })
    }
}

fn skip_bytes(
    body: &[u8],
    pos: &mut usize,
    len: i64,
    nullable: bool,
    index: i32,
) -> Result<(), RecordError> {
    if len == -1 && nullable {
        return Ok(());
    }
    if len < 0 || len as u64 > (body.len() - *pos) as u64 {
        return Err(RecordError::Truncated { index });
    }
    *pos += len as usize;
    Ok(())
}

impl<'a> Iterator for RecordIter<'a> {
    type Item = Result<RecordMeta<'a>, RecordError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.buf.is_empty() {
            return None;
        }
        let item = self.next_record();
        if item.is_err() {
            self.buf = &[];
        }
        Some(item)
    }
}

/// Checks that `buf` holds exactly `count` well-framed records with offset deltas 0..count.
///
/// The produce path runs this over every record a client sends, so it is a straight walk with
/// one position and no record objects: going through `RecordIter` cost about 270 instructions
/// a record, half of the broker's produce work (callgrind). It accepts and rejects exactly
/// what the walk does, with the same errors (a property test compares the two).
pub(crate) fn validate(buf: &[u8], count: i32) -> Result<(), RecordError> {
    let mut pos = 0usize;
    for index in 0..count {
        let trunc = || RecordError::Truncated { index };
        let rest = buf.get(pos..).unwrap_or(&[]);
        if rest.is_empty() {
            return Err(trunc());
        }
        let (declared, used) = read_varint(rest).ok_or_else(trunc)?;
        if declared < 0 || declared as usize > rest.len() - used {
            return Err(trunc());
        }
        let body = &rest[used..used + declared as usize];
        if body.is_empty() {
            return Err(trunc());
        }
        let mut at = 1usize; // attributes
        let _timestamp_delta = field(body, &mut at).ok_or_else(trunc)?;
        let offset_delta = field(body, &mut at).ok_or_else(trunc)?;
        let key_len = field(body, &mut at).ok_or_else(trunc)?;
        skip(body, &mut at, key_len, true).ok_or_else(trunc)?;
        let value_len = field(body, &mut at).ok_or_else(trunc)?;
        skip(body, &mut at, value_len, true).ok_or_else(trunc)?;
        let headers = field(body, &mut at).ok_or_else(trunc)?;
        if headers < 0 || headers as u64 > (body.len() - at) as u64 {
            return Err(trunc());
        }
        for _ in 0..headers {
            let klen = field(body, &mut at).ok_or_else(trunc)?;
            skip(body, &mut at, klen, false).ok_or_else(trunc)?;
            let vlen = field(body, &mut at).ok_or_else(trunc)?;
            skip(body, &mut at, vlen, true).ok_or_else(trunc)?;
        }
        if at != body.len() {
            return Err(RecordError::LengthMismatch {
                index,
                declared,
                used: at,
            });
        }
        let offset_delta = i32::try_from(offset_delta).map_err(|_| RecordError::OffsetDelta {
            index,
            offset_delta: -1,
        })?;
        if offset_delta != index {
            return Err(RecordError::OffsetDelta {
                index,
                offset_delta,
            });
        }
        pos += used + declared as usize;
    }
    match buf.len() - pos.min(buf.len()) {
        0 => Ok(()),
        found => Err(RecordError::Trailing {
            expected: count,
            found,
        }),
    }
}

/// The zig-zag varlong at `body[*at..]`, moving `at` past it.
#[inline(always)]
fn field(body: &[u8], at: &mut usize) -> Option<i64> {
    match body.get(*at) {
        Some(&b) if b < 0x80 => {
            *at += 1;
            Some(i64::from(b >> 1) ^ -i64::from(b & 1))
        }
        _ => {
            let (v, n) = read_varlong(body.get(*at..)?)?;
            *at += n;
            Some(v)
        }
    }
}

/// Moves `at` past `len` bytes (`-1`: null, when `nullable`); `None` when they are not there.
#[inline(always)]
fn skip(body: &[u8], at: &mut usize, len: i64, nullable: bool) -> Option<()> {
    if len == -1 && nullable {
        return Some(());
    }
    if len < 0 || len as u64 > (body.len() - *at) as u64 {
        return None;
    }
    *at += len as usize;
    Some(())
}

/// The walk `validate` replaced, kept as the reference it is checked against.
#[cfg(test)]
fn validate_by_iter(buf: &[u8], count: i32) -> Result<(), RecordError> {
    let mut iter = RecordIter::new(buf);
    for index in 0..count {
        let meta = iter.next().ok_or(RecordError::Truncated { index })??;
        if meta.offset_delta != index {
            return Err(RecordError::OffsetDelta {
                index,
                offset_delta: meta.offset_delta,
            });
        }
    }
    match iter.buf.len() {
        0 => Ok(()),
        found => Err(RecordError::Trailing {
            expected: count,
            found,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::batch::{HEADER_LEN, tests::build_batch};
    use proptest::prelude::*;

    #[test]
    fn walks_records_of_built_batch() {
        let b = build_batch(&[
            (Some(b"a"), Some(b"1"), 10),
            (None, None, 15),
            (None, Some(b"3"), 12),
        ]);
        let metas: Vec<_> = RecordIter::new(&b[HEADER_LEN..])
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(metas.len(), 3);
        assert_eq!((metas[1].offset_delta, metas[1].timestamp_delta), (1, 5));
        assert_eq!(
            (metas[0].key, metas[0].null_value),
            (Some(&b"a"[..]), false)
        );
        assert_eq!((metas[1].key, metas[1].null_value), (None, true));
        let total: usize = metas.iter().map(|m| m.raw.len()).sum();
        assert_eq!(total, b.len() - HEADER_LEN);
        validate(&b[HEADER_LEN..], 3).unwrap();
        assert!(validate(&b[HEADER_LEN..], 2).is_err());
        assert!(validate(&b[HEADER_LEN..], 4).is_err());
    }

    fn put_zigzag(v: i64, out: &mut Vec<u8>) {
        let mut z = ((v << 1) ^ (v >> 63)) as u64;
        while z >= 0x80 {
            out.push((z as u8) | 0x80);
            z >>= 7;
        }
        out.push(z as u8);
    }

    type Header = (Vec<u8>, Option<Vec<u8>>);
    /// Key, value, timestamp delta, headers.
    type TestRecord = (Option<Vec<u8>>, Option<Vec<u8>>, i64, Vec<Header>);

    /// Records with headers and deltas of any size (multi-byte varints included).
    fn encode(records: &[TestRecord]) -> Vec<u8> {
        let mut out = Vec::new();
        for (i, (k, v, ts, headers)) in records.iter().enumerate() {
            let mut rec = vec![0u8];
            put_zigzag(*ts, &mut rec);
            put_zigzag(i as i64, &mut rec);
            for field in [k, v] {
                match field {
                    None => put_zigzag(-1, &mut rec),
                    Some(b) => {
                        put_zigzag(b.len() as i64, &mut rec);
                        rec.extend_from_slice(b);
                    }
                }
            }
            put_zigzag(headers.len() as i64, &mut rec);
            for (hk, hv) in headers {
                put_zigzag(hk.len() as i64, &mut rec);
                rec.extend_from_slice(hk);
                match hv {
                    None => put_zigzag(-1, &mut rec),
                    Some(b) => {
                        put_zigzag(b.len() as i64, &mut rec);
                        rec.extend_from_slice(b);
                    }
                }
            }
            put_zigzag(rec.len() as i64, &mut out);
            out.extend_from_slice(&rec);
        }
        out
    }

    fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(any::<u8>(), 0..max)
    }

    proptest! {
        #[test]
        fn garbage_never_panics(buf in proptest::collection::vec(any::<u8>(), 0..80), count in 0i32..5) {
            let _ = validate(&buf, count);
            for _ in RecordIter::new(&buf) {}
        }

        /// The straight walk and the iterator agree on every input, errors included: valid
        /// records, then with one byte changed, cut short, or the wrong count.
        #[test]
        fn validate_agrees_with_the_record_walk(
            records in proptest::collection::vec(
                (
                    proptest::option::of(bytes(20)),
                    proptest::option::of(bytes(200)),
                    any::<i64>(),
                    proptest::collection::vec((bytes(8), proptest::option::of(bytes(8))), 0..3),
                ),
                0..6,
            ),
            change in (any::<proptest::sample::Index>(), any::<u8>()),
            cut in proptest::option::of(any::<proptest::sample::Index>()),
            count_delta in -1i32..=1,
        ) {
            let mut buf = encode(&records);
            let count = records.len() as i32;
            prop_assert_eq!(validate(&buf, count), Ok(()));
            prop_assert_eq!(validate(&buf, count + count_delta), validate_by_iter(&buf, count + count_delta));
            if !buf.is_empty() {
                let i = change.0.index(buf.len());
                buf[i] = change.1;
                prop_assert_eq!(validate(&buf, count), validate_by_iter(&buf, count));
            }
            if let Some(cut) = cut {
                let at = cut.index(buf.len() + 1);
                buf.truncate(at);
                prop_assert_eq!(validate(&buf, count), validate_by_iter(&buf, count));
            }
        }
    }
}
