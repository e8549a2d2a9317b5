//! The in-memory partition log: a vector of stamped batches and an index entry per batch.

use bytes::{Bytes, BytesMut};

use super::batch::{self, BatchHeader, HEADER_LEN};
use super::cleaner;
use super::records::RecordIter;
use super::{Appended, OffsetOutOfRange, PartitionLog, SegmentInfo, TimestampOffset};
use crate::storage::StorageError;

/// Index entry for one stored batch.
#[derive(Debug, Clone, Copy)]
struct IndexEntry {
    base_offset: i64,
    last_offset_delta: i32,
    base_timestamp: i64,
    max_timestamp: i64,
    compressed: bool,
}

impl IndexEntry {
    fn last_offset(&self) -> i64 {
        self.base_offset + i64::from(self.last_offset_delta)
    }
}

/// Batches kept in memory, in offset order.
#[derive(Debug, Default)]
pub(crate) struct MemoryLog {
    index: Vec<IndexEntry>,
    batches: Vec<Bytes>,
    log_start_offset: i64,
    log_end_offset: i64,
    size: u64,
}

impl MemoryLog {
    pub(crate) fn new() -> Self {
        MemoryLog::default()
    }

    /// Adds a batch exactly as stored (recovery from disk): its base offset and leader epoch
    /// stay. Offsets may jump forward (compacted logs have gaps), never back.
    pub(crate) fn restore(&mut self, stored: Bytes, header: &BatchHeader) -> bool {
        if header.base_offset < self.log_end_offset {
            return false;
        }
        if self.index.is_empty() {
            self.log_start_offset = self.log_start_offset.max(header.base_offset);
        }
        self.push(stored, header, header.base_offset);
        true
    }

    /// Sets the log start offset of a log recovered from disk (a DeleteRecords checkpoint).
    pub(crate) fn set_recovered_start(&mut self, offset: i64) {
        if offset > self.log_start_offset && offset <= self.log_end_offset {
            self.log_start_offset = offset;
        }
        if self.index.is_empty() && offset > self.log_end_offset {
            self.log_start_offset = offset;
            self.log_end_offset = offset;
        }
    }

    /// The stored bytes of the last batch (what a disk log writes after an append).
    pub(crate) fn last_batch(&self) -> Option<&Bytes> {
        self.batches.last()
    }

    /// Takes back the last append (its write to disk failed).
    pub(crate) fn pop_last(&mut self) {
        if let (Some(e), Some(b)) = (self.index.pop(), self.batches.pop()) {
            self.size -= b.len() as u64;
            self.log_end_offset = e.base_offset;
        }
    }

    fn push(&mut self, stored: Bytes, header: &BatchHeader, base_offset: i64) {
        self.index.push(IndexEntry {
            base_offset,
            last_offset_delta: header.last_offset_delta,
            base_timestamp: header.base_timestamp,
            max_timestamp: header.max_timestamp,
            compressed: header.compression() != 0,
        });
        self.size += stored.len() as u64;
        self.batches.push(stored);
        self.log_end_offset = base_offset + i64::from(header.last_offset_delta) + 1;
    }

    /// Finds the record matching `pick` in batch `i`. A compressed batch is decompressed for
    /// this (bounded by `cleaner::DECOMPRESS_LIMIT`; ListOffsets only, never produce or fetch);
    /// if that fails, its base (or last) offset stands in.
    fn record_in(
        &self,
        i: usize,
        pick: impl Fn(i64) -> bool,
        want_last_max: bool,
    ) -> TimestampOffset {
        let e = self.index[i];
        let opened;
        let records: Option<&[u8]> = if e.compressed {
            opened = cleaner::open_batch(&self.batches[i]).ok();
            opened.as_ref().map(|(_, r)| r.as_slice())
        } else {
            self.batches[i].get(HEADER_LEN..)
        };
        if let Some(records) = records {
            let mut found: Option<TimestampOffset> = None;
            for meta in RecordIter::new(records).flatten() {
                let ts = e.base_timestamp + meta.timestamp_delta;
                let offset = e.base_offset + i64::from(meta.offset_delta);
                if want_last_max {
                    // the first record carrying the maximum timestamp
                    if found.is_none_or(|f| ts > f.timestamp) {
                        found = Some(TimestampOffset {
                            offset,
                            timestamp: ts,
                        });
                    }
                } else if pick(ts) {
                    return TimestampOffset {
                        offset,
                        timestamp: ts,
                    };
                }
            }
            if let Some(f) = found {
                return f;
            }
        }
        if want_last_max {
            TimestampOffset {
                offset: e.last_offset(),
                timestamp: e.max_timestamp,
            }
        } else {
            TimestampOffset {
                offset: e.base_offset,
                timestamp: e.max_timestamp,
            }
        }
    }
}

impl PartitionLog for MemoryLog {
    fn log_start_offset(&self) -> i64 {
        self.log_start_offset
    }

    fn log_end_offset(&self) -> i64 {
        self.log_end_offset
    }

    fn append(
        &mut self,
        raw: &[u8],
        header: &BatchHeader,
        leader_epoch: i32,
    ) -> Result<Appended, StorageError> {
        let base_offset = self.log_end_offset;
        let stored = batch::stamp(raw, base_offset, leader_epoch);
        self.push(stored, header, base_offset);
        Ok(Appended {
            base_offset,
            sync: None,
        })
    }

    fn read(
        &self,
        offset: i64,
        max_bytes: usize,
        min_one_batch: bool,
    ) -> Result<Bytes, OffsetOutOfRange> {
        if offset < self.log_start_offset || offset > self.log_end_offset {
            return Err(OffsetOutOfRange {
                offset,
                log_start_offset: self.log_start_offset,
                log_end_offset: self.log_end_offset,
            });
        }
        let first = self.index.partition_point(|e| e.last_offset() < offset);
        let mut end = first;
        let mut total = 0usize;
        while end < self.batches.len() {
            let len = self.batches[end].len();
            let fits = total + len <= max_bytes;
            if !(fits || (min_one_batch && end == first)) {
                break;
            }
            total += len;
            end += 1;
        }
        Ok(match end - first {
            0 => Bytes::new(),
            1 => self.batches[first].clone(),
            _ => {
                let mut out = BytesMut::with_capacity(total);
                for b in &self.batches[first..end] {
                    out.extend_from_slice(b);
                }
                out.freeze()
            }
        })
    }

    fn offset_for_timestamp(&self, timestamp: i64) -> Option<TimestampOffset> {
        let i = self
            .index
            .iter()
            .position(|e| e.max_timestamp >= timestamp)?;
        Some(self.record_in(i, |ts| ts >= timestamp, false))
    }

    fn batches(&self) -> Vec<Bytes> {
        self.batches.clone()
    }

    fn replace_batch(&mut self, base_offset: i64, expected_len: usize, new: Option<Bytes>) -> bool {
        let Ok(i) = self
            .index
            .binary_search_by_key(&base_offset, |e| e.base_offset)
        else {
            return false;
        };
        if self.batches[i].len() != expected_len {
            return false;
        }
        self.size -= expected_len as u64;
        match new {
            Some(b) => {
                self.size += b.len() as u64;
                self.index[i].compressed = false;
                self.batches[i] = b;
            }
            None => {
                self.index.remove(i);
                self.batches.remove(i);
            }
        }
        true
    }

    fn max_timestamp(&self) -> Option<TimestampOffset> {
        let mut best: Option<usize> = None;
        for (i, e) in self.index.iter().enumerate() {
            if best.is_none_or(|b| e.max_timestamp > self.index[b].max_timestamp) {
                best = Some(i);
            }
        }
        best.map(|i| self.record_in(i, |_| false, true))
    }

    fn advance_log_start(&mut self, offset: i64) -> Result<i64, StorageError> {
        let offset = offset.min(self.log_end_offset);
        if offset <= self.log_start_offset {
            return Ok(self.log_start_offset);
        }
        let drop = self.index.partition_point(|e| e.last_offset() < offset);
        for b in self.batches.drain(..drop) {
            self.size -= b.len() as u64;
        }
        self.index.drain(..drop);
        self.log_start_offset = offset;
        Ok(offset)
    }

    fn segments(&self) -> Vec<SegmentInfo> {
        self.index
            .iter()
            .zip(&self.batches)
            .map(|(e, b)| SegmentInfo {
                base_offset: e.base_offset,
                next_offset: e.last_offset() + 1,
                size_bytes: b.len() as u64,
                max_timestamp: e.max_timestamp,
            })
            .collect()
    }

    fn max_leader_epoch(&self) -> i32 {
        self.batches
            .iter()
            .filter_map(|b| batch::parse_header(b).ok())
            .map(|h| h.partition_leader_epoch)
            .max()
            .unwrap_or(-1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::batch::{self, tests::TestRecord, tests::build_batch, tests::build_batch_with};

    fn append(log: &mut MemoryLog, recs: &[TestRecord<'_>]) -> i64 {
        let b = build_batch(recs);
        let h = batch::validate(&b).unwrap();
        log.append(&b, &h, 0).unwrap().base_offset
    }

    #[test]
    fn offsets_are_dense_and_reads_return_whole_batches() {
        let mut log = MemoryLog::new();
        assert_eq!(
            append(&mut log, &[(None, Some(b"a"), 1), (None, Some(b"b"), 2)]),
            0
        );
        assert_eq!(append(&mut log, &[(None, Some(b"c"), 3)]), 2);
        assert_eq!(log.log_end_offset(), 3);
        // offset 1 is inside the first batch: the read starts at that batch
        let all = log.read(1, usize::MAX, true).unwrap();
        let first = batch::parse_header(&all).unwrap();
        assert_eq!(first.base_offset, 0);
        assert_eq!(all.len() as u64, log.size);
        // limit smaller than the first batch: still one batch (KIP-74) ...
        let one = log.read(0, 1, true).unwrap();
        assert_eq!(one.len(), first.total_len());
        // ... unless min_one_batch is off
        assert!(log.read(0, 1, false).unwrap().is_empty());
        assert!(log.read(3, 100, true).unwrap().is_empty());
        assert!(log.read(4, 100, true).is_err());
        assert!(log.read(-1, 100, true).is_err());
        let second = log.read(2, 1000, true).unwrap();
        assert_eq!(batch::parse_header(&second).unwrap().base_offset, 2);
    }

    #[test]
    fn timestamp_lookup_is_per_record_for_uncompressed() {
        let mut log = MemoryLog::new();
        append(
            &mut log,
            &[
                (None, Some(b"a"), 100),
                (None, Some(b"b"), 200),
                (None, Some(b"c"), 150),
            ],
        );
        append(&mut log, &[(None, Some(b"d"), 300)]);
        assert_eq!(
            log.offset_for_timestamp(0),
            Some(TimestampOffset {
                offset: 0,
                timestamp: 100
            })
        );
        assert_eq!(
            log.offset_for_timestamp(101),
            Some(TimestampOffset {
                offset: 1,
                timestamp: 200
            })
        );
        assert_eq!(
            log.offset_for_timestamp(201),
            Some(TimestampOffset {
                offset: 3,
                timestamp: 300
            })
        );
        assert_eq!(log.offset_for_timestamp(301), None);
        assert_eq!(
            log.max_timestamp(),
            Some(TimestampOffset {
                offset: 3,
                timestamp: 300
            })
        );
    }

    #[test]
    fn undecodable_compressed_batches_answer_at_batch_granularity() {
        let mut log = MemoryLog::new();
        // codec bit set but the records are not gzip: the lookup falls back to the batch
        let b = build_batch_with(&[(None, Some(b"a"), 100), (None, Some(b"b"), 200)], 1);
        let h = batch::validate(&b).unwrap();
        log.append(&b, &h, 0).unwrap();
        assert_eq!(
            log.offset_for_timestamp(150),
            Some(TimestampOffset {
                offset: 0,
                timestamp: 200
            })
        );
        assert_eq!(
            log.max_timestamp(),
            Some(TimestampOffset {
                offset: 1,
                timestamp: 200
            })
        );
    }

    #[test]
    fn advance_log_start_drops_whole_batches_and_restore_keeps_offsets() {
        let mut log = MemoryLog::new();
        append(&mut log, &[(None, Some(b"a"), 1), (None, Some(b"b"), 2)]);
        append(&mut log, &[(None, Some(b"c"), 3)]);
        assert_eq!(log.segments().len(), 2);
        // inside the first batch: it stays (it holds offset 1), the start moves
        assert_eq!(log.advance_log_start(1).unwrap(), 1);
        assert_eq!(log.segments().len(), 2);
        assert!(log.read(0, 100, true).is_err());
        assert_eq!(log.advance_log_start(0).unwrap(), 1, "never back");
        assert_eq!(log.advance_log_start(2).unwrap(), 2);
        assert_eq!(log.segments()[0].base_offset, 2);
        assert_eq!(log.advance_log_start(99).unwrap(), 3, "never past the end");
        assert!(log.segments().is_empty());

        // restore keeps stored offsets and epochs; a gap is allowed, going back is not
        let mut copy = MemoryLog::new();
        let mut src = MemoryLog::new();
        let b = build_batch(&[(None, Some(b"x"), 1)]);
        let h = batch::validate(&b).unwrap();
        src.append(&b, &h, 7).unwrap();
        let stored = src.last_batch().unwrap().clone();
        let mut header = batch::parse_header(&stored).unwrap();
        header.base_offset = 5;
        let moved = batch::stamp(&stored, 5, 7);
        assert!(copy.restore(moved, &header));
        assert_eq!((copy.log_start_offset(), copy.log_end_offset()), (5, 6));
        assert_eq!(copy.max_leader_epoch(), 7);
        assert!(!copy.restore(
            stored,
            &batch::parse_header(&src.read(0, 100, true).unwrap()).unwrap()
        ));
        copy.pop_last();
        assert_eq!(copy.log_end_offset(), 5);
    }
}

#[cfg(test)]
mod compressed_tests {
    use super::*;
    use crate::log::batch::{self, tests::build_batch};
    use std::io::Write;

    /// `build_batch` with its records section gzipped and the header fixed up.
    fn gzip_batch(records: &[crate::log::batch::tests::TestRecord<'_>]) -> Vec<u8> {
        let plain = build_batch(records);
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(&plain[HEADER_LEN..]).unwrap();
        let mut b = plain[..HEADER_LEN].to_vec();
        b.extend_from_slice(&e.finish().unwrap());
        b[21..23].copy_from_slice(&1i16.to_be_bytes());
        let len = (b.len() - 12) as i32;
        b[8..12].copy_from_slice(&len.to_be_bytes());
        let crc = crc32c::crc32c(&b[21..]);
        b[17..21].copy_from_slice(&crc.to_be_bytes());
        b
    }

    #[test]
    fn timestamps_inside_compressed_batches_are_found_per_record() {
        let mut log = MemoryLog::new();
        let b = gzip_batch(&[
            (None, Some(b"a"), 100),
            (None, Some(b"b"), 300),
            (None, Some(b"c"), 200),
        ]);
        let h = batch::validate(&b).unwrap();
        log.append(&b, &h, 0).unwrap();
        assert_eq!(
            log.offset_for_timestamp(150),
            Some(TimestampOffset {
                offset: 1,
                timestamp: 300
            })
        );
        assert_eq!(
            log.offset_for_timestamp(100),
            Some(TimestampOffset {
                offset: 0,
                timestamp: 100
            })
        );
        assert_eq!(
            log.max_timestamp(),
            Some(TimestampOffset {
                offset: 1,
                timestamp: 300
            })
        );
    }
}
