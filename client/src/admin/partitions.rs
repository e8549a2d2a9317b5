//! Partition-level admin calls: CreatePartitions, DeleteRecords, ListOffsets.

use std::collections::{BTreeMap, HashMap};

use kafka_protocol::messages::create_partitions_request::CreatePartitionsTopic;
use kafka_protocol::messages::delete_records_request::{
    DeleteRecordsPartition, DeleteRecordsTopic,
};
use kafka_protocol::messages::{ApiKey, CreatePartitionsRequest, DeleteRecordsRequest, TopicName};
use kafka_protocol::protocol::StrBytes;

use super::{Admin, TopicResults, first_error, retry_on_not_controller, with_message};
use crate::cluster::{Purpose, needs_metadata_refresh};
use crate::error::{Error, KafkaCode};
use crate::types::{OffsetSpec, TopicPartition};

/// Attempts for DeleteRecords when leaders move.
const LEADER_ATTEMPTS: usize = 3;

impl Admin {
    /// Grows topics to `total` partitions each (`(topic, total)`); fails with the first
    /// topic's error. Kafka cannot shrink a topic (INVALID_PARTITIONS).
    pub async fn create_partitions(&self, topics: &[(&str, i32)]) -> Result<(), Error> {
        first_error(self.create_partitions_results(topics).await?)
    }

    /// Grows topics and reports each topic's outcome.
    pub async fn create_partitions_results(
        &self,
        topics: &[(&str, i32)],
    ) -> Result<TopicResults, Error> {
        let mut results = Vec::new();
        for attempt in 0..super::CONTROLLER_ATTEMPTS {
            let conn = self.controller().await?;
            let v = conn.version(ApiKey::CreatePartitions)?;
            let mut req = CreatePartitionsRequest::default();
            req.timeout_ms = self.timeout_ms();
            req.topics = topics
                .iter()
                .map(|(name, count)| {
                    let mut t = CreatePartitionsTopic::default();
                    t.name = TopicName(StrBytes::from_string((*name).to_owned()));
                    t.count = *count;
                    t.assignments = None;
                    t
                })
                .collect();
            let resp = conn
                .send(&req, v, self.cluster.request_timeout() * 2)
                .await?;
            results = resp
                .results
                .iter()
                .map(|r| {
                    let name = r.name.0.to_string();
                    let res = if r.error_code == 0 {
                        Ok(())
                    } else {
                        Err(Error::kafka(
                            r.error_code,
                            with_message(
                                format!("create partitions of '{name}'"),
                                r.error_message.as_deref().unwrap_or(""),
                            ),
                        ))
                    };
                    (name, res)
                })
                .collect();
            if !retry_on_not_controller(&results) || attempt + 1 == super::CONTROLLER_ATTEMPTS {
                break;
            }
            self.cluster.refresh(&[]).await?;
        }
        self.cluster.invalidate();
        Ok(results)
    }

    /// Deletes the records before `offset` of each partition (DeleteRecords at each
    /// leader; `-1` means the high watermark, i.e. everything). Returns each partition's
    /// new log start offset (low watermark).
    pub async fn delete_records(
        &self,
        before: &[(TopicPartition, i64)],
    ) -> Result<BTreeMap<TopicPartition, i64>, Error> {
        let mut out = BTreeMap::new();
        let mut remaining: Vec<(TopicPartition, i64)> = before.to_vec();
        for attempt in 0..LEADER_ATTEMPTS {
            let mut by_leader: HashMap<i32, Vec<(TopicPartition, i64)>> = HashMap::new();
            for (tp, offset) in remaining.drain(..) {
                let leader = self.cluster.leader(&tp.topic, tp.partition).await?;
                by_leader.entry(leader).or_default().push((tp, offset));
            }
            let mut retry = Vec::new();
            let mut last_err = None;
            for (leader, items) in by_leader {
                let results = self.delete_records_on(leader, &items).await?;
                for ((tp, offset), r) in items.into_iter().zip(results) {
                    match r {
                        Ok(low) => {
                            out.insert(tp, low);
                        }
                        Err(e)
                            if e.kafka_code().is_some_and(needs_metadata_refresh)
                                && attempt + 1 < LEADER_ATTEMPTS =>
                        {
                            last_err = Some(e);
                            retry.push((tp, offset));
                        }
                        Err(e) => return Err(e),
                    }
                }
            }
            if retry.is_empty() {
                return Ok(out);
            }
            self.cluster.invalidate();
            tokio::time::sleep(self.cluster.config.retry_backoff).await;
            remaining = retry;
            if let Some(e) = last_err {
                tracing::debug!(error = %e, "DeleteRecords: leader moved, retrying");
            }
        }
        Ok(out)
    }

    async fn delete_records_on(
        &self,
        leader: i32,
        items: &[(TopicPartition, i64)],
    ) -> Result<Vec<Result<i64, Error>>, Error> {
        let conn = self
            .cluster
            .broker_connection(leader, Purpose::Control)
            .await?;
        let v = conn.version(ApiKey::DeleteRecords)?;
        let mut by_topic: BTreeMap<&str, Vec<DeleteRecordsPartition>> = BTreeMap::new();
        for (tp, offset) in items {
            let mut p = DeleteRecordsPartition::default();
            p.partition_index = tp.partition;
            p.offset = *offset;
            by_topic.entry(tp.topic.as_str()).or_default().push(p);
        }
        let mut req = DeleteRecordsRequest::default();
        req.timeout_ms = self.timeout_ms();
        req.topics = by_topic
            .into_iter()
            .map(|(t, partitions)| {
                let mut rt = DeleteRecordsTopic::default();
                rt.name = TopicName(StrBytes::from_string(t.to_owned()));
                rt.partitions = partitions;
                rt
            })
            .collect();
        let resp = conn
            .send(&req, v, self.cluster.request_timeout() * 2)
            .await?;
        let mut found: HashMap<(String, i32), (i16, i64)> = HashMap::new();
        for t in &resp.topics {
            for p in &t.partitions {
                found.insert(
                    (t.name.0.to_string(), p.partition_index),
                    (p.error_code, p.low_watermark),
                );
            }
        }
        Ok(items
            .iter()
            .map(
                |(tp, _)| match found.get(&(tp.topic.clone(), tp.partition)) {
                    Some((0, low)) => Ok(*low),
                    Some((code, _)) => Err(Error::kafka(*code, format!("delete records of {tp}"))),
                    None => Err(Error::kafka(
                        KafkaCode::UnknownServerError,
                        format!("DeleteRecords answer from {} lacks {tp}", conn.broker()),
                    )),
                },
            )
            .collect())
    }

    /// Offsets by spec (earliest, latest, by timestamp) at each partition's leader; the
    /// same as [`Client::list_offsets`](crate::Client::list_offsets).
    pub async fn list_offsets(
        &self,
        specs: &[(TopicPartition, OffsetSpec)],
    ) -> Result<BTreeMap<TopicPartition, i64>, Error> {
        crate::Client {
            cluster: self.cluster.clone(),
        }
        .list_offsets(specs)
        .await
    }
}
