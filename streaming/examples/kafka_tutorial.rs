//! The tutorial's steps 1 and 2 against a real broker, for manual checks:
//! saves each batch's raw (key, value) pairs and word counts, printing one
//! report line per batch.
//!
//! `cargo run -p kt-streaming --example kafka_tutorial -- 127.0.0.1:9092 mytopic out 3`
//! (bootstrap, topic, output directory, number of 5 s batches).

use std::time::Duration;

use kt_streaming::{KafkaSource, StreamingContext};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let bootstrap = args.next().unwrap_or_else(|| "127.0.0.1:9092".into());
    let topic = args.next().unwrap_or_else(|| "mytopic".into());
    let out = std::path::PathBuf::from(args.next().unwrap_or_else(|| "out".into()));
    let batches: u64 = args.next().and_then(|n| n.parse().ok()).unwrap_or(3);

    let ssc = StreamingContext::new(Duration::from_secs(5)).stop_after_batches(batches);
    ssc.on_batch_completed(|report| println!("{report}"));
    let messages = ssc.kafka_stream(
        KafkaSource::new(bootstrap)
            .group("sparkit")
            .topic(topic)
            .from_beginning(true),
    );
    messages.save_as_text_files(out.join("messages"), "log");
    messages
        .map(|(_key, value)| value)
        .flat_map(|line| line.split(' ').map(str::to_owned).collect::<Vec<_>>())
        .map(|word| (word, 1))
        .reduce_by_key(|a, b| a + b)
        .save_as_text_files(out.join("wordcount"), "log");
    let summary = ssc.run().await?;
    println!("{summary:?}");
    Ok(())
}
