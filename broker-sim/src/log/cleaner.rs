//! Retention and compaction decisions over a partition's stored batches (Kafka's
//! `LogManager.cleanupLogs` and `LogCleaner`), as pure functions the partition applies.
//!
//! - Retention (`cleanup.policy` includes `delete`) works on the log's storage units: segment
//!   files with `--data-dir` (as Kafka), single batches in memory. The log start offset moves
//!   past every unit whose max timestamp is older than `retention.ms`, and past the oldest
//!   units while the partition is larger than `retention.bytes`. Kafka never deletes the
//!   active segment; here the newest unit goes too once it is due.
//! - Compaction (`cleanup.policy` includes `compact`) works on whole batches, in memory: for
//!   every key the latest record is
//!   kept and older ones dropped; a tombstone (null value) that is the latest for its key is
//!   dropped too once its batch is older than `delete.retention.ms`. Records without a key are
//!   kept. The newest batch is never rewritten (Kafka's active segment). A batch losing
//!   records is rewritten with its original base offset, last offset delta, timestamps,
//!   producer fields and the surviving records' own offset deltas (offset gaps are legal in
//!   compacted logs); it is written uncompressed (Kafka recompresses with the original
//!   codec). A batch losing every record is removed.
//!
//! Compaction decompresses batches (up to [`DECOMPRESS_LIMIT`] each; a larger or corrupt
//! batch is left as it is, with a log line). It runs on the cleaner task, never on the
//! produce or fetch path.

use std::collections::HashMap;

use bytes::{BufMut, Bytes, BytesMut};

use super::SegmentInfo;
use super::batch::{self, BatchHeader, HEADER_LEN, LOG_OVERHEAD};
use super::codec;
use super::records::{RecordIter, RecordMeta};
use crate::state::configs::CleanupSettings;

/// The most a batch may decompress to for the cleaner and timestamp lookups.
pub(crate) const DECOMPRESS_LIMIT: usize = 64 << 20;

/// Where retention moves the log start offset, if anywhere: past the oldest storage units
/// (segments on disk, batches in memory) that are too old or over the size limit.
pub(crate) fn retention_target(
    batches: &[SegmentInfo],
    log_end_offset: i64,
    s: &CleanupSettings,
    now_ms: i64,
) -> Option<i64> {
    if !s.delete || batches.is_empty() {
        return None;
    }
    let mut drop = 0;
    if let Some(ms) = s.retention_ms {
        let cutoff = now_ms.saturating_sub(ms);
        drop = batches
            .iter()
            .take_while(|b| b.max_timestamp < cutoff)
            .count();
    }
    if let Some(limit) = s.retention_bytes {
        let mut size: u64 = batches[drop..].iter().map(|b| b.size_bytes).sum();
        while size > limit && drop < batches.len() {
            size -= batches[drop].size_bytes;
            drop += 1;
        }
    }
    match drop {
        0 => None,
        n if n == batches.len() => Some(log_end_offset),
        n => Some(batches[n].base_offset),
    }
}

/// A batch's header and its records section, decompressed.
pub(crate) fn open_batch(stored: &[u8]) -> Result<(BatchHeader, Vec<u8>), String> {
    let header = batch::parse_header(stored).map_err(|e| e.to_string())?;
    let payload = stored.get(HEADER_LEN..).unwrap_or(&[]);
    let records = codec::decompress(header.compression(), payload, DECOMPRESS_LIMIT)
        .map_err(|e| e.to_string())?;
    Ok((header, records))
}

/// An uncompressed copy of `original` holding only `records`, CRC recomputed.
fn rebuild(original: &[u8], header: &BatchHeader, records: &[RecordMeta<'_>]) -> Bytes {
    let body: usize = records.iter().map(|r| r.raw.len()).sum();
    let mut out = BytesMut::with_capacity(HEADER_LEN + body);
    out.extend_from_slice(&original[..HEADER_LEN]);
    let attributes = header.attributes & !0x07;
    out[21..23].copy_from_slice(&attributes.to_be_bytes());
    out[57..61].copy_from_slice(&(records.len() as i32).to_be_bytes());
    for r in records {
        out.put_slice(r.raw);
    }
    let batch_length = (out.len() - LOG_OVERHEAD) as i32;
    out[8..12].copy_from_slice(&batch_length.to_be_bytes());
    let crc = crc32c::crc32c(&out[21..]);
    out[17..21].copy_from_slice(&crc.to_be_bytes());
    out.freeze()
}

/// Compaction rewrites: (base offset of a stored batch, its stored length, its replacement or
/// None to remove).
/// `batches` are the stored batches in offset order.
pub(crate) fn compact(
    batches: &[Bytes],
    now_ms: i64,
    delete_retention_ms: i64,
) -> Vec<(i64, usize, Option<Bytes>)> {
    // Decompress once; batches that cannot be read are left alone.
    let opened: Vec<Option<(BatchHeader, Vec<u8>)>> = batches
        .iter()
        .map(|b| match open_batch(b) {
            Ok(x) => Some(x),
            Err(e) => {
                tracing::warn!("log cleaner skips a batch it cannot read: {e}");
                None
            }
        })
        .collect();
    let mut latest: HashMap<&[u8], i64> = HashMap::new();
    for (h, records) in opened.iter().flatten() {
        for r in RecordIter::new(records).flatten() {
            if let Some(k) = r.key {
                latest.insert(k, h.base_offset + i64::from(r.offset_delta));
            }
        }
    }
    let tombstone_cutoff = now_ms.saturating_sub(delete_retention_ms);
    let mut rewrites = Vec::new();
    let cleanable = batches.len().saturating_sub(1);
    for (stored, opened) in batches.iter().zip(&opened).take(cleanable) {
        let Some((h, records)) = opened else { continue };
        let all: Vec<RecordMeta<'_>> = RecordIter::new(records).flatten().collect();
        let keep: Vec<RecordMeta<'_>> = all
            .iter()
            .filter(|r| {
                let Some(k) = r.key else { return true };
                let offset = h.base_offset + i64::from(r.offset_delta);
                let newest = latest.get(k) == Some(&offset);
                newest && !(r.null_value && h.max_timestamp < tombstone_cutoff)
            })
            .copied()
            .collect();
        if keep.len() == all.len() {
            continue;
        }
        let replacement = (!keep.is_empty()).then(|| rebuild(stored, h, &keep));
        rewrites.push((h.base_offset, stored.len(), replacement));
    }
    rewrites
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::batch::tests::build_batch;

    fn settings(ms: Option<i64>, bytes: Option<u64>) -> CleanupSettings {
        CleanupSettings {
            retention_ms: ms,
            retention_bytes: bytes,
            delete: true,
            compact: false,
            delete_retention_ms: 0,
        }
    }

    fn info(base: i64, last: i64, ts: i64, size: u64) -> SegmentInfo {
        SegmentInfo {
            base_offset: base,
            next_offset: last + 1,
            max_timestamp: ts,
            size_bytes: size,
        }
    }

    #[test]
    fn retention_by_time_and_size() {
        let b = [
            info(0, 1, 100, 10),
            info(2, 2, 200, 10),
            info(3, 5, 300, 10),
        ];
        assert_eq!(
            retention_target(&b, 6, &settings(Some(50), None), 220),
            Some(2)
        );
        assert_eq!(
            retention_target(&b, 6, &settings(Some(50), None), 1000),
            Some(6)
        );
        assert_eq!(
            retention_target(&b, 6, &settings(Some(1000), None), 1000),
            None
        );
        assert_eq!(
            retention_target(&b, 6, &settings(None, Some(20)), 0),
            Some(2)
        );
        assert_eq!(
            retention_target(&b, 6, &settings(None, Some(0)), 0),
            Some(6)
        );
        assert_eq!(
            retention_target(&b, 6, &settings(None, None), 1 << 40),
            None
        );
        let mut compact_only = settings(Some(1), None);
        compact_only.delete = false;
        assert_eq!(retention_target(&b, 6, &compact_only, 1000), None);
    }

    #[test]
    fn compaction_keeps_latest_per_key_and_drops_old_tombstones() {
        let stamp = |b: Vec<u8>, base: i64| batch::stamp(&b, base, 0);
        let batches = vec![
            stamp(
                build_batch(&[
                    (Some(b"a"), Some(b"1"), 10),
                    (Some(b"b"), Some(b"1"), 10),
                    (None, Some(b"n"), 10),
                ]),
                0,
            ),
            stamp(
                build_batch(&[(Some(b"a"), Some(b"2"), 20), (Some(b"c"), None, 20)]),
                3,
            ),
            stamp(build_batch(&[(Some(b"b"), Some(b"2"), 30)]), 5),
        ];
        // tombstone of "c" is older than delete.retention: dropped
        let rw = compact(&batches, 1000, 100);
        assert_eq!(rw.len(), 2);
        let (base, _, Some(first)) = &rw[0] else {
            panic!("{rw:?}")
        };
        assert_eq!(*base, 0);
        let h = batch::validate_stored(first).unwrap();
        assert_eq!(
            (h.base_offset, h.last_offset_delta, h.records_count),
            (0, 2, 1)
        );
        let kept: Vec<i32> = RecordIter::new(&first[HEADER_LEN..])
            .flatten()
            .map(|r| r.offset_delta)
            .collect();
        assert_eq!(kept, vec![2], "only the keyless record survives in batch 0");
        let (base, _, Some(second)) = &rw[1] else {
            panic!("{rw:?}")
        };
        assert_eq!(*base, 3);
        let kept: Vec<_> = RecordIter::new(&second[HEADER_LEN..])
            .flatten()
            .map(|r| r.key)
            .collect();
        assert_eq!(kept, vec![Some(&b"a"[..])]);
        // a recent tombstone stays: batch 3 (a=2, c=null) is untouched
        let rw = compact(&batches, 25, 100);
        assert_eq!(rw.len(), 1, "{rw:?}");
        assert_eq!(rw[0].0, 0);
        // compacting again changes nothing
        let again: Vec<Bytes> = vec![
            rw[0].2.clone().unwrap(),
            batches[1].clone(),
            batches[2].clone(),
        ];
        assert!(compact(&again, 25, 100).is_empty());
    }
}
