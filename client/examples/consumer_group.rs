//! Consume a topic in a consumer group with the cooperative-sticky assignor (KIP-429):
//! read in per-partition batches, commit after each round, and commit what was processed
//! before a rebalance takes partitions away. Run it twice with the same group to watch the
//! partitions split between the two.
//!
//! ```text
//! cargo run -p kt-client --example producer -- 127.0.0.1:9092 greetings 10
//! cargo run -p kt-client --example consumer_group -- 127.0.0.1:9092 greetings my-group 10
//! ```
//!
//! Arguments: bootstrap servers, topic, group id, records to read before stopping
//! (defaults as above). It also stops after 10 s without new records once it is in the group.

use std::time::Duration;

use futures::future::BoxFuture;
use kt_client::{
    AssignmentStrategy, Client, ClientConfig, Consumer, ConsumerConfig, ConsumerRecord, Error,
    OffsetReset, RebalanceListener, TopicPartition,
};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let bootstrap = args.next().unwrap_or_else(|| "127.0.0.1:9092".into());
    let topic = args.next().unwrap_or_else(|| "greetings".into());
    let group = args.next().unwrap_or_else(|| "my-group".into());
    let want = args.next().and_then(|n| n.parse().ok()).unwrap_or(10);

    let client = Client::connect(ClientConfig::new(bootstrap)).await?;
    let records = consume(&client, &topic, &group, want, Duration::from_secs(10)).await?;
    println!("read {} records", records.len());
    Ok(())
}

/// Commits the consumer's positions before its partitions move to another member.
struct CommitOnRevoke;

impl RebalanceListener for CommitOnRevoke {
    fn on_partitions_revoked<'a>(
        &'a mut self,
        consumer: &'a mut Consumer,
        revoked: &'a [TopicPartition],
    ) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            println!("revoked {revoked:?}");
            if let Err(e) = consumer.commit_positions().await {
                eprintln!("commit before revocation failed: {e}");
            }
        })
    }

    fn on_partitions_assigned<'a>(
        &'a mut self,
        _consumer: &'a mut Consumer,
        assigned: &'a [TopicPartition],
    ) -> BoxFuture<'a, ()> {
        Box::pin(async move { println!("assigned {assigned:?}") })
    }
}

/// Reads `topic` as a member of `group` until `want` records arrived or nothing came for
/// `idle`; commits after every round and leaves the group at the end.
pub(crate) async fn consume(
    client: &Client,
    topic: &str,
    group: &str,
    want: usize,
    idle: Duration,
) -> Result<Vec<ConsumerRecord>, Error> {
    let mut consumer = client.consumer(ConsumerConfig {
        auto_offset_reset: OffsetReset::Earliest,
        // Commit explicitly, after the records are processed: at-least-once.
        enable_auto_commit: false,
        assignment_strategies: vec![AssignmentStrategy::CooperativeSticky],
        ..ConsumerConfig::with_group(group)
    });
    consumer.set_rebalance_listener(CommitOnRevoke);
    consumer.subscribe(&[topic]).await?;
    let mut out = Vec::new();
    // Idle time counts from the end of a poll, not from the start: the first poll joins the
    // group, which can take a while (a broker's initial rebalance delay, other members).
    let mut quiet_since: Option<tokio::time::Instant> = None;
    while out.len() < want {
        let batches = consumer.poll_batches(Duration::from_millis(500)).await?;
        if batches.is_empty() {
            let since = *quiet_since.get_or_insert_with(tokio::time::Instant::now);
            if since.elapsed() >= idle {
                break;
            }
            continue;
        }
        quiet_since = None;
        for batch in batches {
            for r in &batch.records {
                let value = r.value.as_deref().map(String::from_utf8_lossy);
                println!("{}-{} @ {}: {value:?}", r.topic, r.partition, r.offset);
            }
            out.extend(batch.records);
        }
        consumer.commit_positions().await?;
    }
    // Leaves the group at once (LeaveGroup), so the others rebalance without waiting for
    // the session timeout.
    consumer.close().await?;
    Ok(out)
}
