//! Committed-offsets changes as a log of framed records, and their replay.
//!
//! File format (`offsets/committed.log`): records back to back, each
//! `length u32 | crc32c u32 | payload` (big-endian; the CRC-32C covers the payload, the length
//! counts the payload). Payload: a tag byte, then fields; strings are `u32 length | UTF-8`.
//!
//! | tag | record | fields |
//! |---|---|---|
//! | 1 | commit | group, count u32, then per entry: topic, partition i32, offset i64, leader epoch i32, metadata |
//! | 2 | group deleted | group |
//! | 3 | partitions' offsets deleted | group, topic, count u32, partitions i32... |
//! | 4 | topic deleted (from every group) | topic |
//!
//! Replay stops at the first record that is short, oversized or fails its CRC (a torn write
//! from a crash), which is where the file is then truncated. Every count is checked against
//! the bytes actually left before anything is allocated.

use std::collections::BTreeMap;

use bytes::{Buf, BufMut, BytesMut};

use crate::group::CommittedOffset;

/// The largest record accepted on replay (a commit of ~100k partitions).
pub(crate) const MAX_RECORD: usize = 16 << 20;
/// Frame header: length and CRC.
const FRAME: usize = 8;

/// One change to committed offsets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum OffsetRecord {
    /// Offsets committed (or restored) for a group: (topic, partition, offset).
    Commit {
        group: String,
        entries: Vec<(String, i32, CommittedOffset)>,
    },
    /// A group and all its offsets were deleted.
    DeleteGroup { group: String },
    /// Some partitions' offsets of a group were deleted (OffsetDelete).
    DeletePartitions {
        group: String,
        topic: String,
        partitions: Vec<i32>,
    },
    /// A topic was deleted: its offsets go from every group.
    DeleteTopic { topic: String },
}

/// Committed offsets by group, topic, partition: the result of a replay.
pub(crate) type OffsetTable = BTreeMap<String, BTreeMap<String, BTreeMap<i32, CommittedOffset>>>;

fn put_str(buf: &mut BytesMut, s: &str) {
    buf.put_u32(s.len() as u32);
    buf.put_slice(s.as_bytes());
}

impl OffsetRecord {
    /// The framed bytes of this record.
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut p = BytesMut::new();
        match self {
            OffsetRecord::Commit { group, entries } => {
                p.put_u8(1);
                put_str(&mut p, group);
                p.put_u32(entries.len() as u32);
                for (topic, partition, c) in entries {
                    put_str(&mut p, topic);
                    p.put_i32(*partition);
                    p.put_i64(c.offset);
                    p.put_i32(c.leader_epoch);
                    put_str(&mut p, &c.metadata);
                }
            }
            OffsetRecord::DeleteGroup { group } => {
                p.put_u8(2);
                put_str(&mut p, group);
            }
            OffsetRecord::DeletePartitions {
                group,
                topic,
                partitions,
            } => {
                p.put_u8(3);
                put_str(&mut p, group);
                put_str(&mut p, topic);
                p.put_u32(partitions.len() as u32);
                for x in partitions {
                    p.put_i32(*x);
                }
            }
            OffsetRecord::DeleteTopic { topic } => {
                p.put_u8(4);
                put_str(&mut p, topic);
            }
        }
        let mut out = Vec::with_capacity(FRAME + p.len());
        out.put_u32(p.len() as u32);
        out.put_u32(crc32c::crc32c(&p));
        out.extend_from_slice(&p);
        out
    }

    /// Applies this change to `table`.
    pub(crate) fn apply(self, table: &mut OffsetTable) {
        match self {
            OffsetRecord::Commit { group, entries } => {
                let g = table.entry(group).or_default();
                for (topic, partition, c) in entries {
                    g.entry(topic).or_default().insert(partition, c);
                }
            }
            OffsetRecord::DeleteGroup { group } => {
                table.remove(&group);
            }
            OffsetRecord::DeletePartitions {
                group,
                topic,
                partitions,
            } => {
                if let Some(t) = table.get_mut(&group).and_then(|g| g.get_mut(&topic)) {
                    for p in partitions {
                        t.remove(&p);
                    }
                }
            }
            OffsetRecord::DeleteTopic { topic } => {
                for g in table.values_mut() {
                    g.remove(&topic);
                }
            }
        }
    }
}

/// Payload reader: every read checks what is left.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn u8(&mut self) -> Option<u8> {
        (self.0.remaining() >= 1).then(|| self.0.get_u8())
    }
    fn u32(&mut self) -> Option<u32> {
        (self.0.remaining() >= 4).then(|| self.0.get_u32())
    }
    fn i32(&mut self) -> Option<i32> {
        (self.0.remaining() >= 4).then(|| self.0.get_i32())
    }
    fn i64(&mut self) -> Option<i64> {
        (self.0.remaining() >= 8).then(|| self.0.get_i64())
    }
    fn string(&mut self) -> Option<String> {
        let n = self.u32()? as usize;
        if n > self.0.len() {
            return None;
        }
        let (s, rest) = self.0.split_at(n);
        self.0 = rest;
        String::from_utf8(s.to_vec()).ok()
    }
    /// A count of items each at least `min` bytes long, checked against what is left.
    fn count(&mut self, min: usize) -> Option<usize> {
        let n = self.u32()? as usize;
        (n.checked_mul(min)? <= self.0.len()).then_some(n)
    }
}

fn decode_payload(p: &[u8]) -> Option<OffsetRecord> {
    let mut r = Reader(p);
    let record = match r.u8()? {
        1 => {
            let group = r.string()?;
            let n = r.count(24)?;
            let mut entries = Vec::with_capacity(n);
            for _ in 0..n {
                let topic = r.string()?;
                let partition = r.i32()?;
                let offset = r.i64()?;
                let leader_epoch = r.i32()?;
                let metadata = r.string()?;
                entries.push((
                    topic,
                    partition,
                    CommittedOffset {
                        offset,
                        leader_epoch,
                        metadata,
                    },
                ));
            }
            OffsetRecord::Commit { group, entries }
        }
        2 => OffsetRecord::DeleteGroup { group: r.string()? },
        3 => {
            let group = r.string()?;
            let topic = r.string()?;
            let n = r.count(4)?;
            let mut partitions = Vec::with_capacity(n);
            for _ in 0..n {
                partitions.push(r.i32()?);
            }
            OffsetRecord::DeletePartitions {
                group,
                topic,
                partitions,
            }
        }
        4 => OffsetRecord::DeleteTopic { topic: r.string()? },
        _ => return None,
    };
    r.0.is_empty().then_some(record)
}

/// Decodes records from the start of `data`; returns them and the length of the valid
/// prefix (everything after it is a torn or corrupt tail).
pub(crate) fn decode_all(data: &[u8]) -> (Vec<OffsetRecord>, usize) {
    let mut out = Vec::new();
    let mut at = 0;
    while data.len() - at >= FRAME {
        let mut h = &data[at..at + FRAME];
        let len = h.get_u32() as usize;
        let crc = h.get_u32();
        if len > MAX_RECORD || len > data.len() - at - FRAME {
            break;
        }
        let payload = &data[at + FRAME..at + FRAME + len];
        if crc32c::crc32c(payload) != crc {
            break;
        }
        let Some(record) = decode_payload(payload) else {
            break;
        };
        out.push(record);
        at += FRAME + len;
    }
    (out, at)
}

/// The records that recreate `table`: one commit per group.
pub(crate) fn snapshot(table: &OffsetTable) -> Vec<OffsetRecord> {
    table
        .iter()
        .map(|(group, topics)| OffsetRecord::Commit {
            group: group.clone(),
            entries: topics
                .iter()
                .flat_map(|(t, ps)| ps.iter().map(|(p, c)| (t.clone(), *p, c.clone())))
                .collect(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn committed(offset: i64) -> CommittedOffset {
        CommittedOffset {
            offset,
            leader_epoch: 3,
            metadata: "m".into(),
        }
    }

    #[test]
    fn records_round_trip_and_replay() {
        let records = vec![
            OffsetRecord::Commit {
                group: "g".into(),
                entries: vec![("t".into(), 0, committed(5)), ("u".into(), 1, committed(7))],
            },
            OffsetRecord::Commit {
                group: "h".into(),
                entries: vec![("t".into(), 0, committed(9))],
            },
            OffsetRecord::DeletePartitions {
                group: "g".into(),
                topic: "u".into(),
                partitions: vec![1],
            },
            OffsetRecord::DeleteTopic { topic: "t".into() },
            OffsetRecord::DeleteGroup { group: "h".into() },
        ];
        let bytes: Vec<u8> = records.iter().flat_map(|r| r.encode()).collect();
        let (back, valid) = decode_all(&bytes);
        assert_eq!(back, records);
        assert_eq!(valid, bytes.len());
        let mut table = OffsetTable::new();
        for r in back {
            r.apply(&mut table);
        }
        // g keeps an empty map for t and u, h is gone
        assert_eq!(table.len(), 1);
        assert!(table["g"].values().all(|t| t.is_empty()));
    }

    #[test]
    fn torn_and_corrupt_tails_end_the_replay() {
        let r = OffsetRecord::DeleteGroup { group: "g".into() };
        let one = r.encode();
        let mut data = [one.clone(), one.clone()].concat();
        // torn: the second record lost its last byte
        data.pop();
        assert_eq!(decode_all(&data), (vec![r.clone()], one.len()));
        // corrupt: a flipped payload bit fails the CRC
        let mut bad = [one.clone(), one.clone()].concat();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert_eq!(decode_all(&bad).1, one.len());
        // a huge count or length is refused without allocating
        let mut huge = BytesMut::new();
        huge.put_u8(1);
        put_str(&mut huge, "g");
        huge.put_u32(u32::MAX);
        let mut framed = Vec::new();
        framed.put_u32(huge.len() as u32);
        framed.put_u32(crc32c::crc32c(&huge));
        framed.extend_from_slice(&huge);
        assert_eq!(decode_all(&framed), (vec![], 0));
        let mut long = Vec::new();
        long.put_u32(u32::MAX);
        long.put_u32(0);
        assert_eq!(decode_all(&long), (vec![], 0));
    }
}
