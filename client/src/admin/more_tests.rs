//! Admin calls against the fake broker: partitions, records, configs, groups.

use std::time::Duration;

use super::{AlterConfigOp, ConfigResource, ConfigSource};
use crate::config::{ConsumerConfig, OffsetReset};
use crate::error::KafkaCode;
use crate::producer::tests::client_for;
use crate::testing::FakeBroker;
use crate::types::{OffsetSpec, ProducerRecord, TopicPartition};

#[tokio::test]
async fn create_partitions_grows_and_never_shrinks() {
    let b = FakeBroker::start().await;
    b.state.create_topic("t", 2);
    let client = client_for(&b).await;
    let admin = client.admin();
    admin.create_partitions(&[("t", 5)]).await.unwrap();
    assert_eq!(
        client.partitions_for("t").await.unwrap(),
        vec![0, 1, 2, 3, 4]
    );
    let e = admin.create_partitions(&[("t", 3)]).await.unwrap_err();
    assert_eq!(e.kafka_code(), Some(KafkaCode::InvalidPartitions), "{e}");
    assert!(e.to_string().contains("can only grow"), "{e}");
    let e = admin.create_partitions(&[("nope", 3)]).await.unwrap_err();
    assert_eq!(e.kafka_code(), Some(KafkaCode::UnknownTopicOrPartition));
}

#[tokio::test]
async fn delete_records_moves_the_log_start() {
    let b = FakeBroker::start().await;
    b.state.create_topic("t", 1);
    let client = client_for(&b).await;
    let p = client.producer(crate::ProducerConfig {
        batch_size: 100,
        linger: Duration::ZERO,
        ..Default::default()
    });
    for i in 0..10 {
        p.send(ProducerRecord::new("t", format!("{i}")).with_partition(0))
            .await
            .unwrap()
            .await
            .unwrap();
    }
    let admin = client.admin();
    let tp = TopicPartition::new("t", 0);
    let low = admin.delete_records(&[(tp.clone(), 4)]).await.unwrap();
    assert_eq!(low[&tp], 4);
    let earliest = admin
        .list_offsets(&[(tp.clone(), OffsetSpec::Earliest)])
        .await
        .unwrap();
    assert_eq!(earliest[&tp], 4);
    let mut c = client.consumer(ConsumerConfig {
        auto_offset_reset: OffsetReset::Earliest,
        fetch_max_wait: Duration::from_millis(50),
        ..Default::default()
    });
    c.assign(vec![tp.clone()]).unwrap();
    let recs = c.poll(Duration::from_secs(2)).await.unwrap();
    assert_eq!(recs.first().map(|r| r.offset), Some(4));
    let e = admin.delete_records(&[(tp, 99)]).await.unwrap_err();
    assert_eq!(e.kafka_code(), Some(KafkaCode::OffsetOutOfRange));
}

#[tokio::test]
async fn describe_and_alter_configs() {
    let b = FakeBroker::start().await;
    b.state.create_topic("t", 1);
    let client = client_for(&b).await;
    let admin = client.admin();
    let topic = ConfigResource::Topic("t".into());
    admin
        .alter_configs(
            &topic,
            &[AlterConfigOp::Set("retention.ms".into(), "1000".into())],
            false,
        )
        .await
        .unwrap();
    let described = admin
        .describe_configs(&[topic.clone(), ConfigResource::Broker(0)])
        .await
        .unwrap();
    let entries = &described[0].1;
    let retention = entries.iter().find(|e| e.name == "retention.ms").unwrap();
    assert_eq!(retention.value.as_deref(), Some("1000"));
    assert_eq!(retention.source, ConfigSource::DynamicTopic);
    assert!(
        entries
            .iter()
            .any(|e| e.name == "cleanup.policy" && e.source == ConfigSource::Default)
    );
    assert_eq!(described[1].0, ConfigResource::Broker(0));
    admin
        .alter_configs(
            &topic,
            &[AlterConfigOp::Delete("retention.ms".into())],
            false,
        )
        .await
        .unwrap();
    let after = admin.describe_configs(&[topic]).await.unwrap();
    assert!(!after[0].1.iter().any(|e| e.name == "retention.ms"));
    let e = admin
        .describe_configs(&[ConfigResource::Topic("nope".into())])
        .await
        .unwrap_err();
    assert_eq!(e.kafka_code(), Some(KafkaCode::UnknownTopicOrPartition));
}

#[tokio::test]
async fn list_describe_and_delete_groups() {
    let b = FakeBroker::start().await;
    b.state.create_topic("t", 2);
    let client = client_for(&b).await;
    let mut c = client.consumer(ConsumerConfig {
        heartbeat_interval: Duration::from_millis(50),
        ..ConsumerConfig::with_group("g1")
    });
    c.subscribe(&["t"]).await.unwrap();
    c.join().await.unwrap();
    let tp0 = TopicPartition::new("t", 0);
    c.commit(&[(tp0.clone(), 5)].into_iter().collect())
        .await
        .unwrap();
    let admin = client.admin();
    let groups = admin.list_groups().await.unwrap();
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0].group_id, "g1");
    assert_eq!(groups[0].state.as_deref(), Some("Stable"));
    let d = admin.describe_groups(&["g1", "ghost"]).await.unwrap();
    assert_eq!(d[0].protocol, "range");
    assert_eq!(d[0].members.len(), 1);
    assert_eq!(
        d[0].members[0].assignment,
        vec![tp0.clone(), TopicPartition::new("t", 1)]
    );
    assert_eq!(d[1].state, "Dead");
    assert_eq!(admin.list_group_offsets("g1").await.unwrap()[&tp0], 5);
    let e = admin.delete_groups(&["g1"]).await.unwrap_err();
    assert_eq!(e.kafka_code(), Some(KafkaCode::NonEmptyGroup));
    c.close().await.unwrap();
    admin.delete_groups(&["g1"]).await.unwrap();
    assert!(admin.list_groups().await.unwrap().is_empty());
}
