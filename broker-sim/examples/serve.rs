//! Runs a broker in the foreground until Ctrl-C, for poking at it with kcat and friends:
//! `cargo run -p kt-broker --example serve -- 127.0.0.1:19092` (RUST_LOG=kt_broker=debug for
//! request logs).

use kt_broker::{Broker, BrokerConfig};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let listen = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:19092".to_owned())
        .parse()?;
    let broker = Broker::start(BrokerConfig {
        listen,
        ..BrokerConfig::for_tests()
    })
    .await?;
    println!("kt broker on {}", broker.bootstrap());
    tokio::signal::ctrl_c().await?;
    broker.shutdown().await;
    Ok(())
}
