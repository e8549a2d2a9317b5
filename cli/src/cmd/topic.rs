//! `kt topic create|list|describe|delete`, like kafka-topics.sh.

use std::io::Write;

use anyhow::{Context, bail};
use kt_client::{KafkaCode, NewTopic, OffsetSpec, TopicPartition};

use crate::args::TopicCommand;

pub(crate) async fn run(bootstrap: &str, cmd: TopicCommand) -> anyhow::Result<()> {
    let client = super::connect(bootstrap).await?;
    let admin = client.admin();
    match cmd {
        TopicCommand::Create {
            name,
            partitions,
            replication_factor,
            if_not_exists,
        } => {
            let result = admin
                .create_topics(&[NewTopic::new(&name, partitions, replication_factor)])
                .await;
            match result {
                Ok(()) => println!("Created topic {name} ({partitions} partitions)."),
                Err(e)
                    if if_not_exists && e.kafka_code() == Some(KafkaCode::TopicAlreadyExists) =>
                {
                    println!("Topic {name} already exists.");
                }
                // The client's error already names the topic and the Kafka error.
                Err(e) => return Err(e.into()),
            }
        }
        TopicCommand::List => {
            let topics = admin.list_topics().await.context("listing topics")?;
            let mut out = std::io::stdout().lock();
            for t in topics {
                writeln!(out, "{t}")?;
            }
        }
        TopicCommand::Describe { name } => {
            let descriptions = admin.describe_topics(&[name.as_str()]).await?;
            let Some(d) = descriptions.into_iter().find(|d| d.name == name) else {
                bail!("describing topic '{name}': the broker did not describe it");
            };
            let tps: Vec<TopicPartition> = d
                .partitions
                .iter()
                .map(|p| TopicPartition::new(&name, p.partition))
                .collect();
            let spec = |s: OffsetSpec| tps.iter().map(|tp| (tp.clone(), s)).collect::<Vec<_>>();
            let earliest = client
                .list_offsets(&spec(OffsetSpec::Earliest))
                .await
                .with_context(|| format!("reading the earliest offsets of '{name}'"))?;
            let latest = client
                .list_offsets(&spec(OffsetSpec::Latest))
                .await
                .with_context(|| format!("reading the latest offsets of '{name}'"))?;
            let mut out = std::io::stdout().lock();
            writeln!(
                out,
                "Topic: {}\tTopicId: {}\tPartitions: {}",
                d.name,
                d.topic_id,
                d.partitions.len()
            )?;
            writeln!(
                out,
                "{:>9}  {:>6}  {:<8}  {:<8}  {:>10}  {:>10}",
                "Partition", "Leader", "Replicas", "Isr", "Earliest", "Latest"
            )?;
            let offset = |m: &std::collections::BTreeMap<TopicPartition, i64>, tp| {
                m.get(tp).map_or_else(|| "?".to_string(), i64::to_string)
            };
            for (p, tp) in d.partitions.iter().zip(&tps) {
                writeln!(
                    out,
                    "{:>9}  {:>6}  {:<8}  {:<8}  {:>10}  {:>10}",
                    p.partition,
                    p.leader,
                    join(&p.replicas),
                    join(&p.isr),
                    offset(&earliest, tp),
                    offset(&latest, tp)
                )?;
            }
        }
        TopicCommand::Delete { name, if_exists } => {
            match admin.delete_topics(&[name.as_str()]).await {
                Ok(()) => println!("Deleted topic {name}."),
                Err(e)
                    if if_exists && e.kafka_code() == Some(KafkaCode::UnknownTopicOrPartition) =>
                {
                    println!("Topic {name} does not exist.");
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(())
}

fn join(ids: &[i32]) -> String {
    ids.iter().map(i32::to_string).collect::<Vec<_>>().join(",")
}
