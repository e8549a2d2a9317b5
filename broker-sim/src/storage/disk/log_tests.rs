//! DiskLog: write-through, reopen, torn tails, rolls, log start, failed writes.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use super::*;
use crate::log::batch::tests::build_batch;

const ROLL: RollPolicy = RollPolicy {
    segment_bytes: 1 << 30,
    segment_age: Duration::from_secs(3600),
};

fn append(log: &mut DiskLog, value: &[u8]) -> i64 {
    let b = build_batch(&[(None, Some(value), 1_000)]);
    let h = batch::validate(&b).unwrap();
    log.append(&b, &h, 2).unwrap().base_offset
}

fn all(log: &DiskLog) -> Bytes {
    log.read(log.log_start_offset(), usize::MAX, true).unwrap()
}

fn segment_files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".log"))
        .collect();
    v.sort();
    v
}

#[test]
fn appends_survive_reopen_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("0");
    let mut log = DiskLog::create(p.clone(), ROLL).unwrap();
    for i in 0..5u8 {
        assert_eq!(append(&mut log, &[i; 10]), i64::from(i));
    }
    let before = all(&log);
    drop(log);
    let log = DiskLog::open(p.clone(), ROLL).unwrap();
    assert_eq!((log.log_start_offset(), log.log_end_offset()), (0, 5));
    assert_eq!(all(&log), before);
    assert_eq!(log.max_leader_epoch(), 2);
    assert_eq!(segment_files(&p), vec![format!("{:020}.log", 0)]);
}

#[test]
fn a_torn_tail_is_truncated_and_never_served() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("0");
    let mut log = DiskLog::create(p.clone(), ROLL).unwrap();
    append(&mut log, b"one");
    append(&mut log, b"two");
    let good = all(&log);
    drop(log);
    let seg = p.join(format!("{:020}.log", 0));
    // a third batch cut short, as kill -9 in the middle of a write leaves it
    let third = build_batch(&[(None, Some(b"three"), 1)]);
    let mut f = OpenOptions::new().append(true).open(&seg).unwrap();
    f.write_all(&third[..third.len() - 3]).unwrap();
    drop(f);
    let mut log = DiskLog::open(p.clone(), ROLL).unwrap();
    assert_eq!(log.log_end_offset(), 2);
    assert_eq!(all(&log), good);
    assert_eq!(std::fs::metadata(&seg).unwrap().len(), good.len() as u64);
    // and appends continue after the cut
    assert_eq!(append(&mut log, b"three"), 2);
    drop(log);

    // a flipped bit in the last batch: the CRC catches it
    let mut bytes = std::fs::read(&seg).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x40;
    std::fs::write(&seg, &bytes).unwrap();
    let log = DiskLog::open(p, ROLL).unwrap();
    assert_eq!(log.log_end_offset(), 2);
}

#[test]
fn a_bad_batch_in_a_finished_segment_stops_the_open() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("0");
    let tiny = RollPolicy {
        segment_bytes: 1,
        ..ROLL
    };
    let mut log = DiskLog::create(p.clone(), tiny).unwrap();
    append(&mut log, b"a");
    append(&mut log, b"b");
    drop(log);
    let first = p.join(format!("{:020}.log", 0));
    let mut bytes = std::fs::read(&first).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&first, &bytes).unwrap();
    let e = DiskLog::open(p, tiny).unwrap_err();
    assert!(e.message.contains("finished segment"), "{e}");
}

#[test]
fn segments_roll_by_size_and_log_start_deletes_whole_ones() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("0");
    let one = build_batch(&[(None, Some(&[0u8; 100]), 1)]).len() as u64;
    let roll = RollPolicy {
        segment_bytes: 2 * one,
        ..ROLL
    };
    let mut log = DiskLog::create(p.clone(), roll).unwrap();
    for _ in 0..5 {
        append(&mut log, &[0u8; 100]);
    }
    // two batches per segment: [0,2) [2,4) [4,5)
    let segs: Vec<(i64, i64)> = log
        .segments()
        .iter()
        .map(|s| (s.base_offset, s.next_offset))
        .collect();
    assert_eq!(segs, vec![(0, 2), (2, 4), (4, 5)]);
    assert_eq!(segment_files(&p).len(), 3);
    // inside the second segment: the first goes, the second stays
    assert_eq!(log.advance_log_start(3).unwrap(), 3);
    assert_eq!(segment_files(&p).len(), 2);
    assert!(log.read(2, 100, true).is_err());
    drop(log);
    let mut log = DiskLog::open(p.clone(), roll).unwrap();
    assert_eq!((log.log_start_offset(), log.log_end_offset()), (3, 5));
    // past everything: only the active segment file remains, empty of live records
    assert_eq!(log.advance_log_start(5).unwrap(), 5);
    assert_eq!(segment_files(&p), vec![format!("{:020}.log", 4)]);
    drop(log);
    let mut log = DiskLog::open(p, roll).unwrap();
    assert_eq!((log.log_start_offset(), log.log_end_offset()), (5, 5));
    assert_eq!(append(&mut log, b"next"), 5);
}

#[test]
fn an_empty_rolled_segment_keeps_the_end_offset() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("0");
    let mut log = DiskLog::create(p.clone(), ROLL).unwrap();
    append(&mut log, b"a");
    log.roll(1).unwrap();
    drop(log);
    let log = DiskLog::open(p, ROLL).unwrap();
    assert_eq!(log.log_end_offset(), 1);
    assert_eq!(log.segments().len(), 2);
}

#[tokio::test]
async fn acks_all_sync_handle_covers_the_append() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = DiskLog::create(dir.path().join("0"), ROLL).unwrap();
    let b = build_batch(&[(None, Some(b"x"), 1)]);
    let h = batch::validate(&b).unwrap();
    let appended = log.append(&b, &h, 0).unwrap();
    let (handle, target) = appended.sync.unwrap();
    assert_eq!(target, b.len() as u64);
    handle.wait(target).await.unwrap();
}

#[test]
fn compaction_rewrites_finished_segments_and_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("0");
    let tiny = RollPolicy {
        segment_bytes: 1,
        ..ROLL
    };
    let mut log = DiskLog::create(p.clone(), tiny).unwrap();
    // one batch per segment: a=1, b=1, a=2, b=2 (the last is the active segment)
    for (k, v) in [(b"a", b"1"), (b"b", b"1"), (b"a", b"2"), (b"b", b"2")] {
        let b = build_batch(&[(Some(&k[..]), Some(&v[..]), 1_000)]);
        log.append(&b, &batch::validate(&b).unwrap(), 0).unwrap();
    }
    std::fs::write(p.join("00000000000000000009.cleaned"), b"left by a crash").unwrap();
    let before = all(&log);
    let rewrites = crate::log::cleaner::compact(&log.batches(), 2_000, 0);
    assert!(!rewrites.is_empty());
    let mut replaced = 0;
    for (base, len, new) in rewrites {
        if log.replace_batch(base, len, new) {
            replaced += 1;
        }
    }
    assert!(replaced >= 1);
    log.flush_rewrites().unwrap();
    let compacted = all(&log);
    assert!(compacted.len() < before.len(), "a=1 and b=1 are gone");
    assert!(segment_files(&p).iter().all(|f| f.ends_with(".log")));
    drop(log);
    let log = DiskLog::open(p.clone(), tiny).unwrap();
    assert_eq!(all(&log), compacted);
    assert_eq!(log.log_end_offset(), 4);
    assert!(!p.join("00000000000000000009.cleaned").exists());
    // the active segment is never rewritten
    let mut log = log;
    let last = log.segments().last().unwrap().base_offset;
    let len = log.read(last, usize::MAX, true).unwrap().len();
    assert!(!log.replace_batch(last, len, None));
}
