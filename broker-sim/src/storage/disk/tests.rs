//! DiskStorage: the lock, topics and offsets across reopen, cut-short creations, deletions,
//! and the broker state recovered from it.

use std::time::Duration;

use uuid::Uuid;

use super::*;
use crate::config::BrokerConfig;
use crate::group::CommittedOffset;
use crate::log::batch::{self, tests::build_batch};
use crate::state::{BrokerState, NewTopic, NodeInfo};
use crate::storage::PartitionMeta;

const ROLL: RollPolicy = RollPolicy {
    segment_bytes: 1 << 30,
    segment_age: Duration::from_secs(3600),
};

fn meta(name: &str, partitions: usize) -> TopicMeta {
    TopicMeta {
        name: name.into(),
        id: Uuid::from_u128(7),
        partitions: (0..partitions)
            .map(|_| PartitionMeta {
                replicas: vec![0],
                leader: 0,
                leader_epoch: 4,
            })
            .collect(),
        configs: vec![("segment.bytes".into(), "2048".into())],
    }
}

#[test]
fn one_broker_per_directory() {
    let dir = tempfile::tempdir().unwrap();
    let first = DiskStorage::open(dir.path(), ROLL).unwrap();
    let e = DiskStorage::open(dir.path(), ROLL).unwrap_err();
    assert!(e.message.contains("in use by another kt broker"), "{e}");
    drop(first);
    DiskStorage::open(dir.path(), ROLL).unwrap();
    std::fs::write(dir.path().join("storage.version"), "9").unwrap();
    let e = DiskStorage::open(dir.path(), ROLL).unwrap_err();
    assert!(e.message.contains("version"), "{e}");
}

#[test]
fn topics_and_offsets_survive_reopen_and_cut_short_work_is_undone() {
    let dir = tempfile::tempdir().unwrap();
    {
        let s = DiskStorage::open(dir.path(), ROLL).unwrap();
        let m = meta("t", 2);
        let mut log = s.create_log(&m, 1).unwrap();
        let b = build_batch(&[(None, Some(b"v"), 1)]);
        log.append(&b, &batch::validate(&b).unwrap(), 4).unwrap();
        s.create_log(&m, 0).unwrap();
        s.save_topic(&m).unwrap();
        // a creation cut short: partition dirs without topic.meta
        s.create_log(&meta("half", 1), 0).unwrap();
        // a deleted topic
        let gone = meta("gone", 1);
        s.create_log(&gone, 0).unwrap();
        s.save_topic(&gone).unwrap();
        s.delete_topic("gone").unwrap();
        let c = |o| CommittedOffset {
            offset: o,
            leader_epoch: -1,
            metadata: String::new(),
        };
        for r in [
            OffsetRecord::Commit {
                group: "g".into(),
                entries: vec![("t".into(), 0, c(1)), ("t".into(), 1, c(1))],
            },
            OffsetRecord::Commit {
                group: "g".into(),
                entries: vec![("t".into(), 1, c(5))],
            },
            OffsetRecord::DeleteGroup { group: "h".into() },
        ] {
            s.append_offsets(&r).unwrap();
        }
    }
    let s = DiskStorage::open(dir.path(), ROLL).unwrap();
    let (topics, offsets) = s.load().unwrap();
    assert_eq!(topics.len(), 1);
    assert_eq!(topics[0].meta, meta("t", 2));
    assert_eq!(topics[0].logs[1].log_end_offset(), 1);
    assert!(!dir.path().join("topics/half").exists());
    assert!(!dir.path().join("topics/gone").exists());
    assert_eq!(offsets.len(), 1, "compacted to one record per group");
    let OffsetRecord::Commit { entries, .. } = &offsets[0] else {
        panic!("{offsets:?}")
    };
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[1].2.offset, 5);
    // the rewritten log reads back the same, and a torn tail is ignored
    drop((topics, s));
    let path = dir.path().join("offsets/committed.log");
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.extend_from_slice(&[0, 0, 0, 9, 1, 2]);
    std::fs::write(&path, &bytes).unwrap();
    let s = DiskStorage::open(dir.path(), ROLL).unwrap();
    assert_eq!(s.load().unwrap().1, offsets);
}

fn node(id: i32) -> NodeInfo {
    NodeInfo {
        node_id: id,
        host: "127.0.0.1".into(),
        port: 9092 + id,
        rack: None,
    }
}

#[test]
fn the_broker_state_recovers_topics_epochs_and_offsets() {
    let dir = tempfile::tempdir().unwrap();
    let config = BrokerConfig::for_tests();
    let id;
    {
        let storage = DiskStorage::open(dir.path(), ROLL).unwrap();
        let s = BrokerState::open(&config, vec![node(0), node(1)], Box::new(storage)).unwrap();
        let mut t = NewTopic::with_defaults("t");
        t.num_partitions = 2;
        t.configs = vec![("retention.ms".into(), Some("1000".into()))];
        let (_, topic) = s.create_topic(&t, false).unwrap();
        let topic = topic.unwrap();
        id = topic.id;
        let b = build_batch(&[(None, Some(b"v"), 1)]);
        topic.partitions[1].append(&b, 1 << 20).unwrap();
        s.move_leader("t", 1, 0).unwrap();
        s.groups.restore_offsets("g", vec![]);
        let results = s.commit_offsets(
            "g",
            "",
            None,
            -1,
            vec![crate::group::OffsetCommitEntry {
                topic: "t".into(),
                partition: 1,
                offset: 1,
                leader_epoch: 0,
                metadata: Some("m".into()),
            }],
        );
        assert_eq!(results, vec![None]);
        s.persist_offsets(&OffsetRecord::DeleteGroup {
            group: "other".into(),
        })
        .unwrap();
    }
    // restarted as a single node: replicas on node 1 fall back to node 0
    let storage = DiskStorage::open(dir.path(), ROLL).unwrap();
    let s = BrokerState::open(&config, vec![node(0)], Box::new(storage)).unwrap();
    let t = s.topic("t").unwrap();
    assert_eq!(t.id, id);
    assert_eq!(
        t.meta().configs,
        vec![("retention.ms".to_owned(), "1000".to_owned())]
    );
    assert_eq!(t.partitions[1].offsets(), (0, 1));
    // epochs resume above what was stored: 1 after the move, so 2 now
    assert_eq!(t.partitions[1].leader(), (0, 2));
    assert_eq!(t.partitions[0].leader(), (0, 1));
    let committed = s.groups.fetch_offsets("g", None);
    assert_eq!(committed[0].1[0].1.as_ref().unwrap().offset, 1);
    // a deleted topic stays deleted, with its offsets
    s.delete_topic("t").unwrap();
    drop(s);
    let storage = DiskStorage::open(dir.path(), ROLL).unwrap();
    let s = BrokerState::open(&config, vec![node(0)], Box::new(storage)).unwrap();
    assert!(s.topic("t").is_none());
    assert!(s.groups.fetch_offsets("g", None).is_empty());
}

/// A producer retrying, after a restart, the batch it sent just before the crash (its answer
/// lost) gets the original offsets: the idempotent producer state is rebuilt from the log.
#[test]
fn idempotent_producer_state_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let config = BrokerConfig::for_tests();
    let idem = |seq: i32, n: usize| {
        let recs: Vec<_> = (0..n).map(|_| (None, Some(&b"v"[..]), 1)).collect();
        let mut b = build_batch(&recs);
        b[43..51].copy_from_slice(&1234i64.to_be_bytes());
        b[51..53].copy_from_slice(&2i16.to_be_bytes());
        b[53..57].copy_from_slice(&seq.to_be_bytes());
        let crc = crc32c::crc32c(&b[21..]);
        b[17..21].copy_from_slice(&crc.to_be_bytes());
        b
    };
    {
        let storage = DiskStorage::open(dir.path(), ROLL).unwrap();
        let s = BrokerState::open(&config, vec![node(0)], Box::new(storage)).unwrap();
        let (_, topic) = s
            .create_topic(&NewTopic::with_defaults("t"), false)
            .unwrap();
        let p = &topic.unwrap().partitions[0];
        assert_eq!(p.append(&idem(0, 3), 1 << 20).unwrap().base_offset, 0);
        assert_eq!(p.append(&idem(3, 2), 1 << 20).unwrap().base_offset, 3);
    }
    let storage = DiskStorage::open(dir.path(), ROLL).unwrap();
    let s = BrokerState::open(&config, vec![node(0)], Box::new(storage)).unwrap();
    let p = &s.topic("t").unwrap().partitions[0];
    let again = p.append(&idem(3, 2), 1 << 20).unwrap();
    assert!(again.duplicate, "the retried batch is recognised");
    assert_eq!(again.base_offset, 3);
    assert_eq!(p.offsets(), (0, 5), "and not stored twice");
    assert!(matches!(
        p.append(&idem(9, 1), 1 << 20),
        Err(crate::state::AppendError::OutOfOrderSequence {
            expected: 5,
            got: 9,
            ..
        })
    ));
    assert_eq!(p.append(&idem(5, 1), 1 << 20).unwrap().base_offset, 5);
}
