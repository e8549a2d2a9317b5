//! A tour of the admin API: create a topic, grow it, change and read its configuration,
//! list offsets, delete old records, look at consumer groups and their committed offsets,
//! and delete the topic again. Calls a broker does not offer are reported and skipped.
//!
//! ```text
//! cargo run -p kt-client --example admin -- 127.0.0.1:9092 admin-tour
//! ```
//!
//! Arguments: bootstrap servers, topic (defaults as above; the topic is deleted at the end).

use std::collections::BTreeMap;

use kt_client::{
    AlterConfigOp, Client, ClientConfig, ConfigResource, Error, KafkaCode, NewTopic, OffsetSpec,
    ProducerConfig, ProducerRecord, TopicPartition,
};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let bootstrap = args.next().unwrap_or_else(|| "127.0.0.1:9092".into());
    let topic = args.next().unwrap_or_else(|| "admin-tour".into());

    let client = Client::connect(ClientConfig::new(bootstrap)).await?;
    let tour = tour(&client, &topic).await?;
    println!(
        "{topic}: {} partitions, retention.ms {:?}, log start offsets {:?}",
        tour.partitions, tour.retention_ms, tour.log_start
    );
    for (group, offsets) in &tour.group_offsets {
        println!("group {group} committed {offsets:?}");
    }
    Ok(())
}

/// What the tour saw.
#[derive(Debug)]
pub(crate) struct Tour {
    /// Partitions after growing the topic (unchanged if the broker cannot grow topics).
    pub(crate) partitions: usize,
    /// `retention.ms` as described after setting it.
    pub(crate) retention_ms: Option<String>,
    /// Log start offsets after deleting the first record of each partition.
    pub(crate) log_start: BTreeMap<TopicPartition, i64>,
    /// Committed offsets per group (groups that committed nothing are left out).
    pub(crate) group_offsets: BTreeMap<String, BTreeMap<TopicPartition, i64>>,
}

/// Runs the tour on `topic`, which must not exist yet.
pub(crate) async fn tour(client: &Client, topic: &str) -> Result<Tour, Error> {
    let admin = client.admin();
    admin.create_topics(&[NewTopic::new(topic, 2, 1)]).await?;

    // CreatePartitions: partitions can only grow.
    match admin.create_partitions(&[(topic, 4)]).await {
        Ok(()) => println!("{topic} now has 4 partitions"),
        Err(e @ Error::UnsupportedVersion { .. }) => println!("skipped: {e}"),
        Err(e) => return Err(e),
    }
    let partitions = admin.describe_topics(&[topic]).await?[0].partitions.len();

    // IncrementalAlterConfigs, then DescribeConfigs.
    let resource = ConfigResource::Topic(topic.to_owned());
    let day = AlterConfigOp::Set("retention.ms".into(), "86400000".into());
    admin.alter_configs(&resource, &[day], false).await?;
    let mut retention_ms = None;
    for (_, entries) in admin.describe_configs(&[resource]).await? {
        for e in entries.into_iter().filter(|e| e.name == "retention.ms") {
            println!("retention.ms = {:?} ({:?})", e.value, e.source);
            retention_ms = e.value;
        }
    }

    // Two records per partition, then ListOffsets and DeleteRecords.
    let producer = client.producer(ProducerConfig::default());
    let mut deliveries = Vec::new();
    for p in 0..i32::try_from(partitions).unwrap_or(i32::MAX) {
        for i in 0..2 {
            let record = ProducerRecord::new(topic, format!("record {i}")).with_partition(p);
            deliveries.push(producer.send(record).await?);
        }
    }
    for d in deliveries {
        d.await?;
    }
    producer.close().await?;
    let tps: Vec<TopicPartition> = (0..partitions)
        .filter_map(|p| i32::try_from(p).ok())
        .map(|p| TopicPartition::new(topic, p))
        .collect();
    let specs: Vec<(TopicPartition, OffsetSpec)> = tps
        .iter()
        .map(|tp| (tp.clone(), OffsetSpec::Latest))
        .collect();
    for (tp, end) in admin.list_offsets(&specs).await? {
        println!("{tp}: high watermark {end}");
    }
    let before: Vec<(TopicPartition, i64)> = tps.iter().map(|tp| (tp.clone(), 1)).collect();
    let log_start = admin.delete_records(&before).await?;

    // Groups: ListGroups, DescribeGroups, OffsetFetch.
    let mut group_offsets = BTreeMap::new();
    for g in admin.list_groups().await? {
        let d = admin.describe_groups(&[&g.group_id]).await?;
        println!(
            "group {} ({}): {} members",
            g.group_id,
            d[0].state,
            d[0].members.len()
        );
        let offsets = admin.list_group_offsets(&g.group_id).await?;
        if !offsets.is_empty() {
            group_offsets.insert(g.group_id, offsets);
        }
    }

    match admin.delete_topics(&[topic]).await {
        Ok(()) => {}
        Err(e) if e.kafka_code() == Some(KafkaCode::UnknownTopicOrPartition) => {}
        Err(e) => return Err(e),
    }
    Ok(Tour {
        partitions,
        retention_ms,
        log_start,
        group_offsets,
    })
}
