//! `kt broker`: a Kafka-compatible broker in this process until Ctrl-C / SIGTERM.

use std::sync::Arc;

use anyhow::Context;
use kt_broker::{BrokerConfig, Cluster, ClusterConfig, Users};

use crate::args::BrokerArgs;

pub(crate) async fn run(args: BrokerArgs) -> anyhow::Result<()> {
    if args.group_min_session_timeout > args.group_max_session_timeout {
        anyhow::bail!(
            "--group-min-session-timeout is above --group-max-session-timeout: no member could \
             join a group; lower the minimum or raise the maximum"
        );
    }
    if args.segment_age.is_zero() {
        anyhow::bail!("--segment-age must be above zero, e.g. `1h`");
    }
    if args.partitions > args.max_partitions_per_topic {
        anyhow::bail!(
            "--partitions {} is above --max-partitions-per-topic {}: raise the maximum",
            args.partitions,
            args.max_partitions_per_topic
        );
    }
    let users = match &args.users {
        Some(path) => Some(Arc::new(Users::load(path).with_context(|| {
            "check the --users file: one USER:PASSWORD per line".to_owned()
        })?)),
        None => None,
    };
    let auth = match &users {
        Some(u) => format!(
            "SASL PLAIN/SCRAM-SHA-256/SCRAM-SHA-512 required ({} users)",
            u.len()
        ),
        None => "no authentication".to_owned(),
    };
    // Every field from a flag, no `..Default::default()`: a new config field does not compile
    // until `kt broker` has a flag for it.
    let config = BrokerConfig {
        listen: args.listen,
        advertised_host: args.advertised_host,
        node_id: args.node_id,
        default_partitions: args.partitions,
        auto_create_topics: !args.no_auto_create,
        group_initial_rebalance_delay: args.group_initial_rebalance_delay,
        data_dir: args.data_dir.clone(),
        acl_file: args.acl.clone(),
        tls_cert: args.tls_cert.clone(),
        tls_key: args.tls_key.clone(),
        connections_max_idle: args.connections_max_idle,
        failed_authentication_delay: args.failed_authentication_delay,
        max_connections: args.max_connections as usize,
        segment_bytes: args.segment_bytes,
        group_min_session_timeout: args.group_min_session_timeout,
        group_max_session_timeout: args.group_max_session_timeout,
        cluster_id: args.cluster_id.clone(),
        rack: args.rack.clone(),
        segment_age: args.segment_age,
        max_request_size: args.max_request_size as usize,
        fetch_max_bytes: args.fetch_max_bytes as usize,
        max_partitions_per_topic: args.max_partitions_per_topic,
        max_message_bytes: args.message_max_bytes as usize,
        log_cleanup_interval: args.log_cleanup_interval,
        users,
    };
    let handle = Cluster::start(ClusterConfig {
        nodes: usize::from(args.nodes),
        broker: config,
    })
    .await?;
    let addr = handle.local_addr();
    let nodes = handle.nodes();
    let transport = if args.tls_cert.is_some() {
        "TLS"
    } else {
        "plaintext"
    };
    // Loopback unless told otherwise (`--listen` defaults to 127.0.0.1:9092); the start line
    // says which, and anything else also gets a warning.
    let reach = if addr.ip().is_loopback() {
        "loopback only"
    } else {
        "reachable from other machines"
    };
    if !addr.ip().is_loopback() {
        eprintln!(
            "kt broker: warning: listening on {}, which is reachable from other machines \
             ({transport}, {auth})",
            addr.ip()
        );
    }
    let storage = match &args.data_dir {
        Some(dir) => format!(
            "data in {}: acks=all is synced to disk before it is answered",
            dir.display()
        ),
        None => "in memory: data is lost on exit".to_owned(),
    };
    if let [only] = nodes.as_slice() {
        eprintln!(
            "kt broker listening on {} ({reach}, {transport}, node {}, {storage}); \
             auto-create topics: {}; {auth}; Ctrl-C to stop",
            only.addr,
            only.node_id,
            if args.no_auto_create { "off" } else { "on" }
        );
    } else {
        for n in &nodes {
            eprintln!(
                "kt broker node {} listening on {} ({reach}, {transport})",
                n.node_id, n.addr
            );
        }
        eprintln!(
            "kt broker: {} nodes in one process ({storage}); \
             bootstrap servers {}; auto-create topics: {}; {auth}; Ctrl-C to stop",
            nodes.len(),
            handle.bootstrap(),
            if args.no_auto_create { "off" } else { "on" }
        );
    }
    super::shutdown_signal().await;
    eprintln!("kt broker: shutting down");
    handle.shutdown().await;
    Ok(())
}
