//! Produce keyed records with a header, lz4 compression and `acks=all` (idempotent by
//! default), wait for every acknowledgement and print where each record landed. Records
//! with the same key land on the same partition, the one Java's client would pick.
//!
//! ```text
//! kt broker &                  # or any Kafka cluster
//! cargo run -p kt-client --example producer -- 127.0.0.1:9092 greetings 10
//! ```
//!
//! Arguments: bootstrap servers, topic, record count (defaults as above).

use std::time::Duration;

use kt_client::{
    Acks, Client, ClientConfig, Compression, Error, KafkaCode, NewTopic, ProducerConfig,
    ProducerRecord, RecordMetadata,
};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let bootstrap = args.next().unwrap_or_else(|| "127.0.0.1:9092".into());
    let topic = args.next().unwrap_or_else(|| "greetings".into());
    let count = args.next().and_then(|n| n.parse().ok()).unwrap_or(10);

    let client = Client::connect(ClientConfig::new(bootstrap)).await?;
    for m in produce(&client, &topic, count).await? {
        println!("{}-{} @ {}", m.topic, m.partition, m.offset);
    }
    println!("{:?}", client.metrics());
    Ok(())
}

/// Creates `topic` (3 partitions) unless it exists, sends `count` records keyed
/// `user-<i % 4>` and returns their acknowledgements in send order.
pub(crate) async fn produce(
    client: &Client,
    topic: &str,
    count: usize,
) -> Result<Vec<RecordMetadata>, Error> {
    match client
        .admin()
        .create_topics(&[NewTopic::new(topic, 3, 1)])
        .await
    {
        Ok(()) => {}
        Err(e) if e.kafka_code() == Some(KafkaCode::TopicAlreadyExists) => {}
        Err(e) => return Err(e),
    }
    let producer = client.producer(ProducerConfig {
        acks: Acks::All,
        compression: Compression::Lz4,
        linger: Duration::from_millis(5),
        ..Default::default()
    });
    let mut deliveries = Vec::with_capacity(count);
    for i in 0..count {
        let record = ProducerRecord::new(topic, format!("hello {i}"))
            .with_key(format!("user-{}", i % 4))
            .with_header("source", Some("kt example".into()));
        // `send` waits only while the buffer is full (back-pressure), not for the broker;
        // the returned future resolves when the broker acknowledged the record.
        deliveries.push(producer.send(record).await?);
    }
    let mut acks = Vec::with_capacity(count);
    for d in deliveries {
        acks.push(d.await?);
    }
    // Flushes anything still lingering and stops the sender.
    producer.close().await?;
    Ok(acks)
}
