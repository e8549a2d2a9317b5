//! kt-client's runnable examples (`client/examples/`), run against kt-broker: the code a
//! user copies is the code tested. Each example file is included as a module; its `main`
//! (argument parsing) is not used here.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use kt_broker::{Broker, BrokerConfig, Users};
use kt_client::{
    Client, ClientConfig, Error, KafkaCode, OffsetSpec, SaslConfig, SaslMechanism, Security,
    TlsConfig, TopicPartition,
};

#[allow(dead_code)]
#[path = "../../client/examples/producer.rs"]
mod producer;

#[allow(dead_code)]
#[path = "../../client/examples/consumer_group.rs"]
mod consumer_group;

#[allow(dead_code)]
#[path = "../../client/examples/admin.rs"]
mod admin;

#[allow(dead_code)]
#[path = "../../client/examples/tls_sasl.rs"]
mod tls_sasl;

async fn broker() -> kt_broker::BrokerHandle {
    let mut config = BrokerConfig::for_tests();
    config.group_initial_rebalance_delay = Duration::ZERO;
    Broker::start(config).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn producer_then_consumer_group_examples() {
    let broker = broker().await;
    let client = Client::connect(ClientConfig::new(broker.bootstrap()))
        .await
        .unwrap();
    let acks = producer::produce(&client, "greetings", 40).await.unwrap();
    assert_eq!(acks.len(), 40);
    // Same key, same partition; offsets grow per partition in send order.
    let mut by_key: BTreeMap<usize, i32> = BTreeMap::new();
    let mut last: BTreeMap<i32, i64> = BTreeMap::new();
    for (i, m) in acks.iter().enumerate() {
        assert_eq!(*by_key.entry(i % 4).or_insert(m.partition), m.partition);
        assert!(
            last.insert(m.partition, m.offset)
                .is_none_or(|o| o < m.offset)
        );
    }

    let read = consumer_group::consume(
        &client,
        "greetings",
        "examples",
        40,
        Duration::from_secs(20),
    )
    .await
    .unwrap();
    let mut values: Vec<String> = read
        .iter()
        .map(|r| String::from_utf8(r.value.clone().unwrap().to_vec()).unwrap())
        .collect();
    values.sort_by_key(|v| v.rsplit(' ').next().unwrap().parse::<u32>().unwrap());
    let want: Vec<String> = (0..40).map(|i| format!("hello {i}")).collect();
    assert_eq!(values, want);
    assert!(read.iter().all(|r| r.headers.len() == 1));

    // The group committed everything it read.
    let committed = client.admin().list_group_offsets("examples").await.unwrap();
    let ends: Vec<(TopicPartition, OffsetSpec)> = (0..3)
        .map(|p| (TopicPartition::new("greetings", p), OffsetSpec::Latest))
        .collect();
    let ends = client.list_offsets(&ends).await.unwrap();
    for (tp, end) in ends {
        assert_eq!(committed.get(&tp).copied().unwrap_or(0), end, "{tp}");
    }
    broker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_example() {
    let broker = broker().await;
    let client = Client::connect(ClientConfig::new(broker.bootstrap()))
        .await
        .unwrap();
    // A group with committed offsets for the tour to find.
    producer::produce(&client, "seen", 3).await.unwrap();
    consumer_group::consume(&client, "seen", "tour-group", 3, Duration::from_secs(20))
        .await
        .unwrap();

    let tour = admin::tour(&client, "admin-tour").await.unwrap();
    assert_eq!(tour.partitions, 4);
    assert_eq!(tour.retention_ms.as_deref(), Some("86400000"));
    assert_eq!(tour.log_start.len(), 4);
    assert!(
        tour.log_start.values().all(|o| *o == 1),
        "{:?}",
        tour.log_start
    );
    let offsets = &tour.group_offsets["tour-group"];
    assert_eq!(offsets.values().sum::<i64>(), 3, "{offsets:?}");
    assert!(
        !client
            .admin()
            .list_topics()
            .await
            .unwrap()
            .contains(&"admin-tour".to_owned())
    );
    broker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_sasl_example() {
    let dir = tempfile::tempdir().unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let (cert_path, key_path) = (dir.path().join("server.pem"), dir.path().join("server.key"));
    std::fs::write(&cert_path, cert.pem()).unwrap();
    std::fs::write(&key_path, key.serialize_pem()).unwrap();
    let mut config = BrokerConfig::for_tests();
    config.users = Some(Arc::new(Users::parse("alice:wonderland\n").unwrap()));
    config.tls_cert = Some(cert_path.clone());
    config.tls_key = Some(key_path);
    let broker = Broker::start(config).await.unwrap();

    let security = |password: &str| Security {
        tls: Some(TlsConfig::with_ca_file(&cert_path)),
        sasl: Some(SaslConfig::new(
            SaslMechanism::ScramSha512,
            "alice",
            password,
        )),
    };
    let value = tls_sasl::round_trip(&broker.bootstrap(), security("wonderland"), "kt-secure")
        .await
        .unwrap();
    assert_eq!(value, b"secret message");
    let e = tls_sasl::round_trip(&broker.bootstrap(), security("queen"), "kt-secure")
        .await
        .unwrap_err();
    assert_eq!(
        e.kafka_code(),
        Some(KafkaCode::SaslAuthenticationFailed),
        "{e}"
    );
    let untrusted = Security {
        tls: Some(TlsConfig::system_roots()),
        sasl: None,
    };
    let e = tls_sasl::round_trip(&broker.bootstrap(), untrusted, "kt-secure")
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Tls { .. }), "{e:?}");
    broker.shutdown().await;
}
