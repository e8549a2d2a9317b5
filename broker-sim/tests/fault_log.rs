//! Every fault is visible in a `fault:` log line. Its own test binary: the subscriber is
//! process-global, so no other test's callsites interfere with what it captures.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::{RawClient, batch};
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::*;
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::records::Compression;
use kt_broker::{Cluster, ClusterConfig, DropConnection, DropPoint, InjectError, ResponseError};

/// Collects what `tracing` writes, for asserting on log lines.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn every_fault_logs_a_line() {
    let captured = Captured::default();
    let sink = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || sink.clone())
        .finish();
    tracing::subscriber::set_global_default(subscriber).unwrap();
    let c = Cluster::start(ClusterConfig::for_tests(2)).await.unwrap();
    c.create_topic("t", 1).unwrap();
    c.inject_error(InjectError::new(
        ApiKey::Produce,
        ResponseError::NotEnoughReplicas,
    ))
    .unwrap();
    let mut client = RawClient::connect(c.node_addr(0).unwrap()).await;
    let produce = ProduceRequest::default().with_acks(1).with_topic_data(vec![
        TopicProduceData::default()
            .with_name(TopicName(StrBytes::from_static_str("t")))
            .with_partition_data(vec![
                PartitionProduceData::default()
                    .with_index(0)
                    .with_records(Some(batch(&["x"], Compression::None))),
            ]),
    ]);
    let r: ProduceResponse = client.request(ApiKey::Produce, 9, &produce).await;
    assert_eq!(
        r.responses[0].partition_responses[0].error_code,
        ResponseError::NotEnoughReplicas.code()
    );
    c.drop_connection_on(DropConnection::new(
        ApiKey::Metadata,
        DropPoint::BeforeHandling,
    ));
    let mut client = RawClient::connect(c.node_addr(0).unwrap()).await;
    client
        .send(ApiKey::Metadata, 12, &MetadataRequest::default())
        .await;
    assert!(client.closed_by_server().await);
    c.move_leader("t", 0, 1).unwrap();
    c.stop_node(1).await.unwrap();
    c.start_node(1).await.unwrap();
    c.shutdown().await;
    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    for want in [
        "fault: armed NotEnoughReplicas",
        "injected NotEnoughReplicas on t-0",
        "fault: armed connection drop",
        "fault: connection dropped before handling",
        "fault: leader of t-0 moved from node 0 to node 1 (epoch 1)",
        "fault: node down",
        "fault: leader of t-0 moved from node 1 to node 0 (epoch 2)",
        "fault: node up",
    ] {
        assert!(log.contains(want), "no {want:?} in:\n{log}");
    }
}
