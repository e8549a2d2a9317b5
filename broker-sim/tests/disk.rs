//! `data_dir` over real sockets: a restart keeps every acknowledged batch and committed
//! offset; a full disk answers KAFKA_STORAGE_ERROR, keeps what was acknowledged and recovers
//! when space returns (on a small tmpfs: needs root to mount, as CI has).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use bytes::Bytes;
use common::{RawClient, batch};
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::offset_commit_request::{
    OffsetCommitRequestPartition, OffsetCommitRequestTopic,
};
use kafka_protocol::messages::offset_fetch_request::OffsetFetchRequestTopic;
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::*;
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::records::{Compression, RecordBatchDecoder};
use kt_broker::{Broker, BrokerConfig, BrokerHandle, ResponseError};

fn name(s: &str) -> TopicName {
    TopicName(StrBytes::from_string(s.to_owned()))
}

async fn start(dir: &Path) -> BrokerHandle {
    Broker::start(BrokerConfig {
        data_dir: Some(dir.to_owned()),
        segment_bytes: 64 * 1024,
        ..BrokerConfig::for_tests()
    })
    .await
    .unwrap()
}

async fn produce(c: &mut RawClient, records: Bytes) -> ProducePartition {
    let req = ProduceRequest::default()
        .with_acks(-1)
        .with_timeout_ms(5000)
        .with_topic_data(vec![
            TopicProduceData::default()
                .with_name(name("t"))
                .with_partition_data(vec![
                    PartitionProduceData::default()
                        .with_index(0)
                        .with_records(Some(records)),
                ]),
        ]);
    let r: ProduceResponse = c.request(ApiKey::Produce, 9, &req).await;
    let p = &r.responses[0].partition_responses[0];
    ProducePartition {
        error_code: p.error_code,
        base_offset: p.base_offset,
    }
}

struct ProducePartition {
    error_code: i16,
    base_offset: i64,
}

/// Every record value in partition t-0 from `offset` on, in offset order.
async fn read_from(c: &mut RawClient, mut offset: i64) -> Vec<(i64, String)> {
    let mut out = Vec::new();
    loop {
        let req = FetchRequest::default()
            .with_max_wait_ms(0)
            .with_max_bytes(64 << 20)
            .with_topics(vec![
                FetchTopic::default()
                    .with_topic(name("t"))
                    .with_partitions(vec![
                        FetchPartition::default()
                            .with_fetch_offset(offset)
                            .with_partition_max_bytes(64 << 20),
                    ]),
            ]);
        let r: FetchResponse = c.request(ApiKey::Fetch, 12, &req).await;
        let p = &r.responses[0].partitions[0];
        assert_eq!(p.error_code, 0);
        let mut bytes = p.records.clone().unwrap_or_default();
        if bytes.is_empty() {
            return out;
        }
        for b in RecordBatchDecoder::decode_all(&mut bytes).unwrap() {
            for r in b.records {
                out.push((
                    r.offset,
                    String::from_utf8(r.value.unwrap().to_vec()).unwrap(),
                ));
                offset = r.offset + 1;
            }
        }
    }
}

#[tokio::test]
async fn a_restart_keeps_acknowledged_batches_and_committed_offsets() {
    let dir = tempfile::tempdir().unwrap();
    let b = start(dir.path()).await;
    b.create_topic("t", 1).unwrap();
    let mut c = RawClient::connect(b.local_addr()).await;
    let mut want = Vec::new();
    for i in 0..200 {
        let value = format!("record-{i:04}-{}", "x".repeat(600));
        let p = produce(&mut c, batch(&[&value], Compression::None)).await;
        assert_eq!((p.error_code, p.base_offset), (0, i));
        want.push((i, value));
    }
    // 200 batches of ~700 bytes over 64 KiB segments: several files
    assert!(b.log_segments("t", 0).unwrap().len() >= 2);
    let commit = OffsetCommitRequest::default()
        .with_group_id(GroupId(StrBytes::from_static_str("g")))
        .with_generation_id_or_member_epoch(-1)
        .with_topics(vec![
            OffsetCommitRequestTopic::default()
                .with_name(name("t"))
                .with_partitions(vec![
                    OffsetCommitRequestPartition::default()
                        .with_committed_offset(123)
                        .with_committed_metadata(Some(StrBytes::from_static_str("meta"))),
                ]),
        ]);
    let r: OffsetCommitResponse = c.request(ApiKey::OffsetCommit, 8, &commit).await;
    assert_eq!(r.topics[0].partitions[0].error_code, 0);
    assert_eq!(b.delete_records("t", 0, 10).unwrap(), 10);
    b.shutdown().await;

    let b = start(dir.path()).await;
    assert_eq!(b.partition_offsets("t", 0), Some((10, 200)));
    let mut c = RawClient::connect(b.local_addr()).await;
    let got = read_from(&mut c, 10).await;
    assert_eq!(got, want[10..].to_vec());
    let fetch = OffsetFetchRequest::default()
        .with_group_id(GroupId(StrBytes::from_static_str("g")))
        .with_topics(Some(vec![
            OffsetFetchRequestTopic::default()
                .with_name(name("t"))
                .with_partition_indexes(vec![0]),
        ]));
    let r: OffsetFetchResponse = c.request(ApiKey::OffsetFetch, 5, &fetch).await;
    let p = &r.topics[0].partitions[0];
    assert_eq!(
        (p.committed_offset, p.metadata.as_deref()),
        (123, Some("meta"))
    );
    // the restart bumped the leader epoch (clients must never see it go back)
    assert_eq!(b.partition_leader("t", 0), Some((0, 1)));
    b.shutdown().await;
}

/// A tmpfs of `size` mounted at a fresh directory, unmounted on drop.
struct Tmpfs(PathBuf, #[allow(dead_code)] tempfile::TempDir);

impl Tmpfs {
    fn mount(size: &str) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output()
            .is_ok_and(|o| o.status.success());
        if !ok {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("cannot mount a tmpfs (CI runs as root and must be able to)");
            }
            println!("SKIPPED: cannot mount a tmpfs (needs root)");
            return None;
        }
        Some(Tmpfs(dir.path().to_owned(), dir))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[tokio::test]
async fn a_full_disk_answers_storage_error_keeps_what_was_acked_and_recovers() {
    let Some(fs) = Tmpfs::mount("2m") else {
        return;
    };
    let data = fs.0.join("data");
    let b = start(&data).await;
    b.create_topic("t", 1).unwrap();
    // Leave little room: a ballast file takes most of what is left.
    let ballast = fs.0.join("ballast");
    let _ = std::fs::write(&ballast, vec![0u8; 1900 * 1024]);
    let mut c = RawClient::connect(b.local_addr()).await;
    let mut acked = Vec::new();
    let mut failed = 0;
    for i in 0..400 {
        let value = format!("v{i:04}-{}", "y".repeat(1000));
        let p = produce(&mut c, batch(&[&value], Compression::None)).await;
        match p.error_code {
            0 => acked.push((p.base_offset, value)),
            e if e == ResponseError::KafkaStorageError.code() => {
                failed += 1;
                if failed == 5 {
                    break;
                }
            }
            e => panic!("unexpected error {e}"),
        }
    }
    assert_eq!(failed, 5, "the disk never filled up");
    assert!(!acked.is_empty());
    // nothing half-written is served, offsets stay dense
    assert_eq!(read_from(&mut c, 0).await, acked);
    assert_eq!(b.partition_offsets("t", 0).unwrap().1, acked.len() as i64);

    // space returns: appends work again
    std::fs::remove_file(&ballast).unwrap();
    let value = "after".to_owned();
    let p = produce(&mut c, batch(&[&value], Compression::None)).await;
    assert_eq!(p.error_code, 0);
    assert_eq!(p.base_offset, acked.len() as i64);
    acked.push((p.base_offset, value));
    b.shutdown().await;

    let b = start(&data).await;
    let mut c = RawClient::connect(b.local_addr()).await;
    assert_eq!(read_from(&mut c, 0).await, acked);
    b.shutdown().await;
}
