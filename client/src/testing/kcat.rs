//! Interop with librdkafka through kcat, against the in-test fake broker.
//!
//! * kcat produces with every codec; the fake stores librdkafka's raw batches; kt's decoder
//!   must read them (CRC, xerial/raw snappy, LZ4 frame, zstd, headers, keys).
//! * kt's producer writes every codec; kcat must read the records back.
//!
//! Without `/usr/bin/kcat` these print `SKIPPED: kcat not found` and pass, unless `CI=true`.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use super::FakeBroker;
use crate::config::{Compression, ProducerConfig};
use crate::producer::tests::client_for;
use crate::records::decode_record_set;
use crate::types::ProducerRecord;

const KCAT: &str = "/usr/bin/kcat";

const HELLO: &str = "hello hello hello hello hello hello hello hello hello hello hello hello hello hello hello hello hello hello hello hello hello hello hello hello hello hello hello hello hello hello";
const WORLD: &str = "world world world world world world world world world world world world world world world world world world world world world world world world world world world world world world";
const INPUT: &str = "k1:hello hello hello hello hello hello hello hello hello hello hello hello hello hello hello hello hello hello hello hello hello hello hello hello hello hello hello hello hello hello\nk2:world world world world world world world world world world world world world world world world world world world world world world world world world world world world world world\n:no key\n";

fn kcat_available() -> bool {
    if std::path::Path::new(KCAT).exists() {
        return true;
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("kcat not found at {KCAT} and CI=true");
    }
    println!("SKIPPED: kcat not found");
    false
}

/// Runs kcat with `args`, feeding `stdin`, with a timeout; returns stdout.
async fn kcat(args: Vec<String>, stdin: &'static [u8]) -> String {
    tokio::task::spawn_blocking(move || {
        let mut child = Command::new(KCAT)
            .args(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn kcat");
        child.stdin.take().unwrap().write_all(stdin).unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            if child.try_wait().unwrap().is_some() {
                break;
            }
            if std::time::Instant::now() > deadline {
                let _ = child.kill();
                panic!("kcat {args:?} did not finish in 30 s");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "kcat {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kt_decodes_librdkafka_batches_of_every_codec() {
    if !kcat_available() {
        return;
    }
    let b = FakeBroker::start().await;
    for codec in ["none", "gzip", "snappy", "lz4", "zstd"] {
        b.state.create_topic(codec, 1);
        let args = vec![
            "-P".into(),
            "-b".into(),
            b.addr.clone(),
            "-t".into(),
            codec.into(),
            "-p".into(),
            "0".into(),
            "-X".into(),
            format!("compression.codec={codec}"),
            "-K".into(),
            ":".into(),
            "-H".into(),
            "h1=v1".into(),
            "-H".into(),
            "h1=v2".into(),
        ];
        // Long, repetitive values: librdkafka sends a batch uncompressed when compressing
        // would not make it smaller.
        kcat(args, INPUT.as_bytes()).await;
        let d = b.state.data();
        let log = &d.topics[codec].partitions[0];
        let mut records = Vec::new();
        let want = ["none", "gzip", "snappy", "lz4", "zstd"]
            .iter()
            .position(|c| *c == codec)
            .unwrap() as i16;
        let mut codecs_seen = Vec::new();
        for (_, _, _, bytes) in &log.batches {
            let attr = i16::from_be_bytes([bytes[21], bytes[22]]) & 7;
            // On a loaded machine librdkafka may split the input into several batches; one
            // too small to shrink is sent uncompressed (attribute 0). Every batch must decode,
            // and at least one must use the codec.
            assert!(
                attr == want || attr == 0,
                "{codec}: librdkafka used codec {attr}"
            );
            codecs_seen.push(attr);
            let set = decode_record_set(bytes, 1 << 24).unwrap();
            assert!(!set.truncated);
            for batch in set.batches {
                records.extend(batch.records);
            }
        }
        assert!(
            codecs_seen.contains(&want),
            "{codec}: batches used {codecs_seen:?}"
        );
        assert_eq!(records.len(), 3, "{codec}");
        assert_eq!(records[0].key.as_deref(), Some(&b"k1"[..]));
        assert_eq!(records[0].value.as_deref(), Some(HELLO.as_bytes()));
        assert_eq!(records[1].value.as_deref(), Some(WORLD.as_bytes()));
        assert_eq!(records[2].value.as_deref(), Some(&b"no key"[..]));
        let h: Vec<(&str, Option<&[u8]>)> = records[0]
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_deref()))
            .collect();
        assert_eq!(
            h,
            vec![("h1", Some(&b"v1"[..])), ("h1", Some(&b"v2"[..]))],
            "{codec}: duplicate header keys kept"
        );
        assert_eq!(
            records.iter().map(|r| r.offset).collect::<Vec<_>>(),
            vec![0, 1, 2]
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn librdkafka_reads_what_kt_produces() {
    if !kcat_available() {
        return;
    }
    let b = FakeBroker::start().await;
    b.state.create_topic("t", 1);
    let client = client_for(&b).await;
    let codecs = [
        Compression::None,
        Compression::Gzip,
        Compression::Snappy,
        Compression::Lz4,
        Compression::Zstd,
    ];
    for codec in codecs {
        let p = client.producer(ProducerConfig {
            compression: codec,
            ..Default::default()
        });
        let mut futs = Vec::new();
        for i in 0..3 {
            let r = ProducerRecord::new(
                "t",
                format!("{codec:?}-{i} some repeated text some repeated text"),
            )
            .with_key(format!("key{i}"));
            futs.push(p.send(r).await.unwrap());
        }
        p.close().await.unwrap();
        for f in futs {
            f.await.unwrap();
        }
    }
    let out = kcat(
        vec![
            "-C".into(),
            "-b".into(),
            b.addr.clone(),
            "-t".into(),
            "t".into(),
            "-p".into(),
            "0".into(),
            "-o".into(),
            "beginning".into(),
            "-e".into(),
            "-f".into(),
            "%o %k %s\\n".into(),
        ],
        b"",
    )
    .await;
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 15, "{out}");
    for (n, codec) in codecs.iter().enumerate() {
        for i in 0..3 {
            let want = format!(
                "{} key{i} {codec:?}-{i} some repeated text some repeated text",
                n * 3 + i
            );
            assert_eq!(lines[n * 3 + i], want);
        }
    }
}
