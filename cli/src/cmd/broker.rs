//! `kt broker`: a Kafka-compatible broker in this process until Ctrl-C / SIGTERM.

use kt_broker::{Broker, BrokerConfig};

use crate::args::BrokerArgs;

pub(crate) async fn run(args: BrokerArgs) -> anyhow::Result<()> {
    let config = BrokerConfig {
        listen: args.listen,
        advertised_host: args.advertised_host,
        node_id: args.node_id,
        default_partitions: args.partitions,
        auto_create_topics: !args.no_auto_create,
        group_initial_rebalance_delay: args.group_initial_rebalance_delay,
        ..BrokerConfig::default()
    };
    let handle = Broker::start(config).await?;
    let addr = handle.local_addr();
    if !addr.ip().is_loopback() {
        eprintln!(
            "kt broker: warning: listening on {addr}, which is reachable from other machines; \
             kt broker has no authentication"
        );
    }
    eprintln!(
        "kt broker listening on {addr} (node {}, in memory: data is lost on exit); \
         auto-create topics: {}; Ctrl-C to stop",
        args.node_id,
        if args.no_auto_create { "off" } else { "on" }
    );
    super::shutdown_signal().await;
    eprintln!("kt broker: shutting down");
    handle.shutdown().await;
    Ok(())
}
