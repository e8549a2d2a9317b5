//! kt-broker: a Kafka-wire-compatible broker kept in memory, for tests (in-process) and for
//! `kt broker`. Real clients (kcat/librdkafka, kafka-python, confluent-kafka) work against it
//! unchanged.
//!
//! ```no_run
//! # async fn demo() -> Result<(), kt_broker::BrokerError> {
//! let broker = kt_broker::Broker::start(kt_broker::BrokerConfig::for_tests()).await?;
//! println!("bootstrap.servers={}", broker.bootstrap());
//! broker.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! # Layout
//!
//! - `cluster/`: [`Cluster::start`] / [`Broker::start`] (a cluster of one), each node's
//!   listener lifecycle, and [`ClusterHandle`] (addresses, inspection, fault control, shutdown).
//! - `server.rs`: a node's accept loop and one task per connection (drops, latency, stops).
//! - `fault/`: the fault-injection rules ([`InjectError`], [`DropConnection`], latency) and how
//!   a request finds the ones meant for it.
//! - `connection.rs`: the socket and framing (size prefix limits, HTTP/TLS detection).
//! - `protocol/`: request header decoding with length checks, response framing, varints, and
//!   `shape/`, the table-driven guard every request body passes before `kafka_protocol`'s
//!   decoders (which size allocations from counts read off the wire) see it.
//! - `api/`: one dispatch `match` in `api/mod.rs`, one module per Kafka API, each opening with
//!   the versions it serves and its behaviour per version; `api/route.rs`: which node answers
//!   what (leaders, coordinators) and whole-request refusals.
//! - `state/`: `BrokerState` — nodes, topics, partitions, the group coordinator, armed faults;
//!   every change happens there and handlers are plain functions over it.
//! - `log/`: partition logs storing record batches as received (`Bytes`) with a small index;
//!   validation (magic, length, CRC-32C, counts), base offset stamping, zero-decode reads,
//!   behind the `PartitionLog` trait.
//! - `storage/`: the `Storage` trait (memory, or a data directory: segment files, topic
//!   metadata, committed offsets, recovery, group-committed fsync).
//! - `group/`: the classic group coordinator (generations, leader election, protocol
//!   selection, session and rebalance timeouts on tokio time) and committed offsets.
//! - `tls.rs`: loading the TLS certificate and key. `acl.rs`: the ACL file and its evaluation.
//! - `sasl/`: SASL per connection (PLAIN, SCRAM-SHA-256/512) and the `--users` file ([`Users`]).
//! - `log/producer_state.rs`: idempotent producer sequences per partition;
//!   `log/cleaner.rs` + `log/codec.rs`: retention, compaction, bounded decompression;
//!   `state/configs.rs`: topic configs (names, types, defaults, the enforced ones);
//!   `api/fetch/session.rs`: the fetch session cache.
//! - `config.rs`, `error.rs`: [`BrokerConfig`], [`BrokerError`].
//! - `fuzzing.rs`: hidden entry points for the cargo-fuzz targets in `fuzz/` (a connection's
//!   byte stream served against a fresh state without sockets; record batch validation).
//!
//! # References
//!
//! - Kafka protocol guide: <https://kafka.apache.org/protocol> (framing, request/response
//!   headers, BNF per API, error codes); record batch format:
//!   <https://kafka.apache.org/documentation/#recordbatch>.
//! - KIP-74 (Fetch max bytes; at least one batch): <https://cwiki.apache.org/confluence/x/8oWbAw>.
//! - KIP-227 (fetch sessions; session id 0 = none): <https://cwiki.apache.org/confluence/x/zrWbB>.
//! - KIP-394 (MEMBER_ID_REQUIRED from JoinGroup v4): <https://cwiki.apache.org/confluence/x/u4fEBQ>.
//! - KIP-482 (flexible versions, tagged fields), KIP-511 (ApiVersions fallback to v0).
//! - KIP-516 (topic ids; Fetch v13+), KIP-734 (ListOffsets max timestamp, -3).
//! - KIP-345 (static membership; Kafka's `updateStaticMemberAndRebalance` for a restarted
//!   static member), KIP-814 (static leader rejoin, JoinGroup v9 SkipAssignment), KIP-360 (idempotent producer epochs and unknown producer
//!   ids), KIP-98 (idempotent producer sequence numbers), KIP-339 (IncrementalAlterConfigs),
//!   KIP-195 (CreatePartitions), KIP-107 (DeleteRecords), KIP-43/KIP-152 (SASL handshake and
//!   SaslAuthenticate), KIP-84 (SCRAM).
//! - RFC 4616 (PLAIN), RFC 5802 and RFC 7677 (SCRAM-SHA-1/256), RFC 2898 (PBKDF2).
//!
//! # Cluster mode
//!
//! [`Cluster::start`] with `ClusterConfig { nodes: 3, .. }` runs three nodes in this process
//! (`kt broker --nodes 3`: ports 9092–9094), each with its own listener; Metadata on any node
//! lists every live node. Partition `p` of a topic with replication factor `rf` gets replicas
//! `live[(p + i) % n]`, the first leading (Kafka starts at a random node; this is
//! deterministic for tests). Produce, Fetch and ListOffsets for a partition sent to another
//! node get NOT_LEADER_OR_FOLLOWER, with the current leader and its endpoint where the version
//! carries them (Produce v10+, Fetch v12+/v16+, KIP-951). A group's coordinator is the leader
//! of partition `abs(hashCode(group)) % 50` of a virtual offsets topic, as in Kafka; group
//! requests elsewhere get NOT_COORDINATOR.
//!
//! There is no real replication: every node reads and writes one shared log per partition, so
//! a leader move or a node outage never loses an acknowledged record. Replica lists, in-sync
//! replicas (the live replicas) and offline replicas are bookkeeping for Metadata. Leader epochs
//! bump on every move, so clients see Kafka's fencing (FENCED_LEADER_EPOCH on an old epoch).
//! When a node goes down its partitions move to a live replica, else to the next live node
//! (replacing it in the replica list); with every node down, leaders are -1. A node that comes
//! back takes only leaderless partitions (Kafka would later move preferred leaders back).
//!
//! # Fault injection
//!
//! Tests drive faults through the handle (see [`ClusterHandle`] for an example):
//! [`ClusterHandle::inject_error`] (error codes for the next N requests of an API, optionally
//! per node, topic or partition; partition-level APIs — Produce, Fetch, ListOffsets — fail only
//! the matching partitions and handle the rest, others fail as a whole without taking effect),
//! [`ClusterHandle::set_latency`] (tokio time, so a paused clock controls it),
//! [`ClusterHandle::drop_connection_on`] (close the connection of the next N requests of an
//! API before or after they take effect), [`ClusterHandle::drop_connections`] (close every
//! open connection now), [`ClusterHandle::move_leader`], [`ClusterHandle::stop_node`] /
//! [`ClusterHandle::start_node`] (the port refuses connections while down; leaders and
//! coordinators move; no data is lost). Every fault logs a line starting with `fault:` (target
//! `kt_broker::fault`: `RUST_LOG=kt_broker::fault=debug`).
//!
//! # Storage and durability (`data_dir`, `kt broker --data-dir DIR`)
//!
//! Without a data directory everything is in memory. With one, the broker still serves reads
//! from memory (so data must fit in RAM) and writes every change through to disk:
//!
//! ```text
//! DIR/kt-broker.lock               locked while a broker uses DIR (one broker per directory)
//! DIR/storage.version              layout version ("1")
//! DIR/topics/<topic>/topic.meta    id, partitions (leader, epoch, replicas), configs; key=value
//! DIR/topics/<topic>/<p>/<base offset, 20 digits>.log   segment: batches as fetched, back to back
//! DIR/topics/<topic>/<p>/log-start-offset               after DeleteRecords/retention
//! DIR/offsets/committed.log        committed offsets: length | CRC-32C | record, appended
//! ```
//!
//! - Durability: every batch is written to its segment before the produce response is built,
//!   so whatever was acknowledged survives the process being killed (kill -9). acks=all is
//!   answered only after `fdatasync` of the segment (group commit: one sync covers every
//!   batch written before it started), so it also survives an OS crash or power loss; acks=1
//!   and acks=0 do not wait for it. Committed offsets and topic metadata are synced before
//!   they are acknowledged. (Kafka instead relies on replication and the page cache and never
//!   fsyncs per request by default; one node has no replicas, so acks=all pays here.)
//! - Recovery on start: every segment is read and every batch's CRC-32C checked; the
//!   in-memory index is rebuilt from it. A bad or short batch at the end of the last segment
//!   is a write cut short by a crash: the file is truncated there with a warning saying how
//!   many bytes went (never served; it was never acknowledged with acks=all). A bad batch in an
//!   earlier segment stops the broker with an error naming the file. A torn committed-offsets
//!   record is dropped the same way; that log is rewritten as one record per group. Leader
//!   epochs resume one above the last stored, as Kafka bumps them on restart. Idempotent
//!   producers' last five batches per partition are rebuilt from the batch headers, so a
//!   producer retrying a batch whose answer the crash swallowed gets its original offsets.
//! - Segments roll at `segment_bytes` (`log.segment.bytes`, topic `segment.bytes`) or after
//!   `segment_age` (`log.roll.ms`, topic `segment.ms`; age counts from broker start);
//!   retention and DeleteRecords delete whole segment files below the log start offset;
//!   compaction rewrites each finished segment it changed once (temp file, sync, rename) and
//!   never touches the active one, so a restart never computes a smaller log end offset.
//! - Disk full: a write that fails (ENOSPC or any I/O error) is cut back so no partial batch
//!   remains, and the request gets KAFKA_STORAGE_ERROR; everything acknowledged stays, and
//!   appends succeed again once space returns. A committed offset that cannot be written is
//!   answered KAFKA_STORAGE_ERROR (it stays visible in memory until a restart).
//!
//! # Connections
//!
//! Each connection is its own task that holds no lock while it reads or writes, and reads no
//! further request while a response is still going out (as Kafka mutes such a channel): a
//! client that reads one byte a second stalls only itself, at the cost of one response plus a
//! 64 KiB write buffer. `connections_max_idle` (`connections.max.idle.ms`, 10 min) closes a
//! connection that sends no request for that long (the clock runs only while waiting for a
//! request, so a long poll is never cut; a request trickled in over longer than that is).
//! `max_connections` (`max.connections`, 10,000 per node; Kafka: unlimited) closes new
//! connections at once, with a warning at most once a second. A node stopping or the broker
//! shutting down ends every connection, even one blocked writing to a client that never reads.
//!
//! # TLS
//!
//! `tls_cert` + `tls_key` (`kt broker --tls-cert server.pem --tls-key server.key`): every node
//! listens with TLS only (rustls, `ring` crypto, TLS 1.2/1.3, no client certificates). The
//! certificate file is PEM with the server certificate first, then intermediates; the key
//! file a PEM private key. The certificate must name what clients connect to (librdkafka
//! verifies the host by default: give `127.0.0.1` as an IP subject alternative name). Clients
//! use `security.protocol=SSL` and the CA (`ssl.ca.location`). A plaintext client on the TLS
//! port is closed with a log line saying it sent plaintext; a handshake must complete within
//! 30 s.
//!
//! # Access control (`acl_file`, `kt broker --acl FILE`)
//!
//! One rule a line (`#` comments): `allow|deny PRINCIPAL OPERATIONS RESOURCE`, or
//! `super PRINCIPAL`.
//!
//! ```text
//! allow User:alice  produce            topic:orders      # produce = write,describe
//! allow User:bob    consume            topic:orders      # consume = read,describe
//! allow User:bob    read               group:billing-*   # prefix
//! allow User:*      describe           topic:*           # anyone, any topic
//! allow User:ops    create,delete      cluster
//! deny  User:eve    all                topic:*
//! super User:admin
//! ```
//!
//! Principals are `User:NAME` or `User:*`; without SASL every client is `User:ANONYMOUS`.
//! Operations are Kafka's (`read`, `write`, `create`, `delete`, `alter`, `describe`,
//! `describe_configs`, `alter_configs`, `idempotent_write`, `cluster_action`, `all`, plus the
//! shorthands `produce` and `consume`); resources `topic:NAME`, `group:NAME` (NAME may be `*`
//! or end in `*` for a prefix) or `cluster`. As in Kafka: allowed only when an allow rule
//! matches and no deny rule does; `describe` is implied by read/write/delete/alter and
//! `describe_configs` by `alter_configs`; super users may do everything.
//!
//! What each request needs (Kafka's choices): Produce write, Fetch read, ListOffsets describe
//! on the topic (per partition, TOPIC_AUTHORIZATION_FAILED); Metadata lists only topics the
//! principal may describe, answers a named one it may not with TOPIC_AUTHORIZATION_FAILED, and
//! auto-creates only with create on the cluster or topic; CreateTopics create on the cluster
//! or topic, DeleteTopics delete on the topic; JoinGroup, SyncGroup, Heartbeat, LeaveGroup
//! and OffsetCommit read on the group, OffsetFetch and FindCoordinator describe on it
//! (GROUP_AUTHORIZATION_FAILED for the whole request); InitProducerId idempotent_write on the
//! cluster or write on some topic, DescribeCluster describe on the cluster
//! (CLUSTER_AUTHORIZATION_FAILED). Differences: OffsetCommit does not also check read on each
//! topic; a request naming several groups (OffsetFetch v8, FindCoordinator v4) is refused
//! whole when any of them is denied; ListGroups is not filtered (Kafka lists only the groups
//! the principal may describe); API modules added later are covered only as far as this
//! table and their `Routed` group say.
//!
//! # SASL (`users`, `kt broker --users FILE`)
//!
//! The users file holds one `USER:PASSWORD` a line (the first `:` separates them; `#` starts
//! a comment). Every user may authenticate with PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512; the
//! broker keeps only SCRAM credentials derived at load (random salt, PBKDF2, 4096 iterations).
//! With a users file, a connection may send only ApiVersions, SaslHandshake and
//! SaslAuthenticate until it authenticates; anything else closes it with a log line. A wrong
//! password gets SASL_AUTHENTICATION_FAILED and a closed connection, logged with the user name
//! and mechanism (never the password; client-supplied names are escaped and cut to 64
//! characters, so they can neither forge nor flood log lines). A mechanism not offered gets
//! UNSUPPORTED_SASL_MECHANISM and a close, as in Kafka; SaslAuthenticate after a login gets
//! ILLEGAL_SASL_STATE and the connection stays logged in. Those failure answers are held back
//! `failed_authentication_delay` (`connection.failed.authentication.delay.ms`, 100 ms), as
//! Kafka holds them, so guessing passwords over one connection after another is slow. Both the v0 handshake (raw tokens) and SaslAuthenticate
//! are served. Authenticated connections act as `User:NAME` for ACLs. With a TLS listener
//! the same exchange runs inside TLS (SASL_SSL); only SASL_PLAINTEXT is covered by tests.
//!
//! # Topic configs, retention and compaction
//!
//! CreateTopics, AlterConfigs and IncrementalAlterConfigs accept every topic config Kafka
//! knows, checked by type; DescribeConfigs lists them all with their source. Acted on:
//! `max.message.bytes` (per produce request), `retention.ms` (default 7 days), `retention.bytes`
//! (default unlimited), `cleanup.policy` (`delete`, `compact` or both) and `delete.retention.ms`,
//! by a cleaner task every `log_cleanup_interval` (`log.retention.check.interval.ms`, 5 min;
//! [`ClusterHandle::run_log_cleaner`] runs it at once). Retention drops whole storage units:
//! segments with a data directory, single batches in memory; compaction keeps the latest
//! record per key (tombstones go after `delete.retention.ms`) and rewrites whole batches,
//! keeping offsets (see `log/cleaner.rs`; with a data directory, finished segments only). Other configs are stored and described
//! only. Broker configs (resource type 4) are described read-only.
//!
//! # APIs served
//!
//! | API (key) | versions | notes |
//! |---|---|---|
//! | Produce (0) | 0–11 | acks 0/1/-1; one format-2 batch per partition; idempotent sequence checks |
//! | Fetch (1) | 4–18 | long poll; fetch sessions (KIP-227); topic ids from v13 |
//! | ListOffsets (2) | 1–7 | -1, -2, -3 (max timestamp) and timestamps, per record |
//! | Metadata (3) | 0–12 | auto-create; topic ids |
//! | OffsetCommit (8) | 2–8 | |
//! | OffsetFetch (9) | 1–8 | v8 multi-group |
//! | FindCoordinator (10) | 0–4 | groups only |
//! | JoinGroup (11) | 0–7 | MEMBER_ID_REQUIRED from v4; static membership from v5; vote |
//! | Heartbeat (12) | 0–4 | |
//! | LeaveGroup (13) | 0–5 | |
//! | SyncGroup (14) | 0–5 | |
//! | DescribeGroups (15) | 0–6 | members, subscriptions and assignments as the clients sent them |
//! | ListGroups (16) | 0–5 | states filter (v4), types filter (v5) |
//! | SaslHandshake (17) | 0–1 | PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 (with `users`) |
//! | ApiVersions (18) | 0–4 | KIP-511 fallback |
//! | CreateTopics (19) | 2–7 | |
//! | DeleteTopics (20) | 1–6 | by id from v6 |
//! | DeleteRecords (21) | 0–2 | moves the log start offset |
//! | InitProducerId (22) | 0–5 | idempotent producers; transactional ids refused |
//! | DescribeConfigs (32) | 1–4 | topic and broker resources |
//! | AlterConfigs (33) | 0–2 | topic resources (replaces the overrides) |
//! | SaslAuthenticate (36) | 0–2 | |
//! | CreatePartitions (37) | 0–3 | |
//! | DeleteGroups (42) | 0–2 | empty groups only |
//! | IncrementalAlterConfigs (44) | 0–1 | SET, DELETE, APPEND, SUBTRACT |
//! | OffsetDelete (47) | 0 | not for topics the group subscribes to |
//! | DescribeCluster (60) | 0–2 | broker endpoints only |
//!
//! What each client family used against this broker (the broker's debug log of a run of
//! `tests/peers/confluent_admin.py`, `kafka_python_admin.py` and `kafkajs_roundtrip.js`:
//! admin calls, an idempotent
//! producer, a consumer group; plus SaslHandshake v1 and SaslAuthenticate with SASL):
//!
//! | client | Produce | Fetch | ListOffsets | Metadata | JoinGroup / SyncGroup / Heartbeat / LeaveGroup | OffsetCommit / OffsetFetch | FindCoordinator | InitProducerId | admin |
//! |---|---|---|---|---|---|---|---|---|---|
//! | librdkafka 2.16 (confluent-kafka 2.16.1, kcat) | 10 | 16 | 7 | 12 | 5 / 3 / 3 / 1 | 8 / 8 | 2 | 4 | CreateTopics 4, DeleteTopics 4, CreatePartitions 2, DescribeConfigs 1, AlterConfigs 2, ListGroups 5, DescribeGroups 5, DeleteGroups 2 |
//! | librdkafka 2.0.2 (confluent-kafka 1.7, Debian kcat) | 7 | 11 | 2 | 4 | 5 / 3 / 3 / 1 | 7 / 7 | 2 | 4 | CreateTopics 4, DeleteTopics 1, CreatePartitions 0, DescribeConfigs 1, AlterConfigs 0 |
//! | kafka-python 3.0.12 | 9 | 12 | 7 | 12 | 7 / 5 / – / 5 | 8 / 8 | 4 | 4 | CreateTopics 7, DeleteTopics 6, DescribeConfigs 4, ListGroups 5, DescribeGroups 6 |
//! | kafka-python 2.0.2 | 7 | 4 | 1 | 0, 1, 5 | 2 / 1 / – / 1 | 2 / 1, 3 | 0 | – | CreateTopics 3, DeleteTopics 3, DescribeConfigs 2, ListGroups 1, DescribeGroups 3 |
//! | kafkajs 2.2.4 | 7 | 11 | 3 | 6 | 5 / 3 / 3 / 3 | 5 / 4 | 2 | 1 | CreateTopics 3, DeleteTopics 1, CreatePartitions 1, DescribeConfigs 2, ListGroups 2, DescribeGroups 2, DeleteGroups 1 |
//!
//! # Known differences from Apache Kafka
//!
//! - Everything in memory unless `data_dir` is set, and even then reads are served from memory
//!   (see Storage). Several nodes share one log per partition instead of replicating (see
//!   Cluster mode); `min.insync.replicas` is not enforced.
//! - Retention is per storage unit (a batch in memory, a segment on disk) and may drop the
//!   newest unit; Kafka keeps the active segment. Compaction decides per whole batch
//!   (`log/cleaner.rs`); on disk it rewrites finished segments, never the active one.
//!   Rewritten batches are stored uncompressed (Kafka recompresses). Records without a key
//!   are kept by compaction (Kafka refuses them on compacted topics at produce time).
//! - No transactions: InitProducerId with a transactional id gets INVALID_REQUEST,
//!   FindCoordinator for transactions COORDINATOR_NOT_AVAILABLE, transactional and control
//!   batches INVALID_RECORD. Idempotent producers are checked as Kafka 2.5+ checks them (last
//!   five batches per producer and partition, OUT_OF_ORDER_SEQUENCE_NUMBER,
//!   INVALID_PRODUCER_EPOCH; an unknown producer id is accepted at any sequence, so
//!   UNKNOWN_PRODUCER_ID is never sent). Producer state lives in memory beside the log; with a
//!   data directory it is rebuilt from the stored batches' headers on start (Kafka also keeps
//!   snapshots of it), so a batch retried across a restart is not stored twice. At most
//!   10,000 producers per partition are tracked (least recently written dropped). Every InitProducerId without a transactional
//!   id gets a new producer id (as Kafka), starting from the wall clock in ms.
//! - Fetch sessions: one cache (1000 sessions, LRU eviction; Kafka also weighs size and
//!   followers) for all nodes of a cluster; at most 100,000 partitions per session.
//! - Topic configs other than the enforced five are stored only; broker configs cannot be
//!   altered (INVALID_REQUEST). Configs of other resource types (broker loggers, client
//!   metrics) are not served.
//! - Group admin: ListGroups on a node lists the groups it coordinates; an unknown group in
//!   DescribeGroups is "Dead" (v6: GROUP_ID_NOT_FOUND), as in Kafka.
//! - SASL: no GSSAPI, OAUTHBEARER or delegation tokens; sessions never expire (lifetime 0);
//!   no re-authentication (KIP-368). The users file cannot be changed at run time (no
//!   AlterUserScramCredentials).
//! - ACLs (see Access control) do not yet cover the admin APIs added with issue 3
//!   (DescribeConfigs, AlterConfigs, IncrementalAlterConfigs, CreatePartitions, DeleteRecords,
//!   DescribeGroups, ListGroups, DeleteGroups, OffsetDelete).
//! - librdkafka 2.x pads its "all topics" Metadata request with 3 bytes and librdkafka 2.0
//!   repeats its client nonce in the SCRAM client-final message; Kafka's parsers tolerate
//!   both and so does this broker, for exactly those shapes.
//! - A partition whose next batch does not fit the remaining `max_bytes` gets no data in that
//!   response (Kafka would send a truncated batch); the first partition with data always gets
//!   at least one whole batch.
//! - ListOffsets by timestamp decompresses a compressed batch to search it per record (up to
//!   64 MiB decompressed; past that, or if it cannot be read, the batch's base offset stands
//!   in). Produce and Fetch never decompress.
//! - The KIP-848 consumer group protocol and share groups are not implemented (classic groups
//!   only, with static membership).
//! - JoinGroup stops at v7, so there is no SkipAssignment (KIP-814, v9): a restarted static
//!   leader is told the leader id from before its restart and no members, as Kafka tells
//!   v0–8 clients, and does not notice topic changes made while it was away until the next
//!   rebalance. A static member that does not rejoin a rebalance within the rebalance timeout
//!   is removed with it (Kafka keeps static members until their session times out).
//! - A request for an unknown API key or an unsupported version (other than ApiVersions) is
//!   answered with a response header and the single int16 error code 35 (UNSUPPORTED_VERSION);
//!   Kafka closes the connection instead.
//! - A malformed body gets the API's response with INVALID_REQUEST where the response has a
//!   top-level error code (else an empty response) and the connection stays open; Kafka closes
//!   it. Either way the broker logs which client sent what.
//! - Produce with acks=0 is answered by closing the connection when any partition failed, as
//!   Kafka does; the log line names the partitions and error codes (Kafka logs the same).
//! - Authorized operations are never computed (INT32_MIN, "not requested").
//! - Copies: an appended batch is copied once (so stored bytes own exactly their batch instead
//!   of pinning the request frame); a fetch of one batch hands out the stored `Bytes`, a fetch
//!   spanning several batches concatenates them into one buffer; the response encoder then
//!   copies records into the response frame.
//! - Produce v0–2 are advertised and served (librdkafka before 2.10 compresses gzip, snappy and
//!   lz4 only for brokers whose Produce range starts at v0), but only with format-2 batches;
//!   message formats 0/1 get UNSUPPORTED_FOR_MESSAGE_FORMAT. Fetch starts at v4: there is no
//!   down-conversion for clients that only read formats 0/1.

//! # Tests
//!
//! - Unit tests beside the code (handlers over `BrokerState` without sockets, the group
//!   coordinator on paused tokio time, proptests cross-checking the shape tables against
//!   `kafka_protocol`'s encoders).
//! - `tests/socket.rs`: hand-encoded requests over TCP (framing limits, garbage, versions,
//!   acks=0, ordering, long polls). `tests/cluster.rs`: a 3-node cluster and every fault of
//!   the control API over sockets; `tests/fault_log.rs`: the `fault:` log lines;
//!   `tests/disk.rs`: restart with a data directory, and a full disk on a small tmpfs (needs
//!   root to mount; skipped otherwise unless `CI=true`). The kill -9 tests are the CLI's
//!   (`cli/tests/data_dir.rs`; `cli/tests/broker_kill.rs`: kill -9 and restart under an
//!   idempotent producer and a `kt stream` job), as is the SASL attack test on a `kt broker`
//!   process and its log (`cli/tests/sasl_security.rs`). `tests/connections.rs`: idle timeout on a paused clock, the
//!   connection cap, 1,000 concurrent clients beside a slow reader and a slow writer.
//!   `tests/tls.rs`: certificates made at test time (rcgen), a rustls client, kcat over TLS
//!   on librdkafka 2.0.2 and 2.16. `tests/acl.rs`: kcat refused by topic and group ACLs.
//!   `tests/hostile_alloc.rs`: a hostile count under an address-space cap (`prlimit`).
//! - `tests/interop.rs` with scripts in `tests/peers/`: confluent-kafka 1.7 and 2.16.1 and
//!   kafka-python 2.0.2 and 3.0.12, kafkajs 2.2.4 (admin: topics, configs, partitions, groups;
//!   idempotent producer with acks=all; max.message.bytes; a consumer group with commits),
//!   SASL PLAIN/SCRAM-SHA-256/SCRAM-SHA-512 with all five and with kcat on librdkafka 2.0.2
//!   and 2.16 (right and wrong passwords), and a client refused before authenticating.
//! - `tests/kcat.rs`, `tests/python.rs`: kcat (librdkafka 2.0.2), kafka-python 2.0.2 and
//!   confluent-kafka 1.7. A missing peer prints `SKIPPED: ...` unless `CI=true`, where it
//!   fails. `KT_LIBRDKAFKA_DIR=<folder with librdkafka.so.1>` also runs kcat on that (newer)
//!   librdkafka.
//! - `examples/serve.rs`: a broker in the foreground for manual poking.
//! - Whole-flow tests that need the kt client live in `kt-tests` (`tests/tests/`):
//!   `interop_kt_kcat_group.rs` (a kt consumer and kcat on librdkafka 2.0.2 and 2.16 split one
//!   group), `static_membership.rs` (static kt and kcat members killed and restarted keep their
//!   generation and partitions), `client_failover.rs`, `client_suite.rs`,
//!   `client_security.rs`, `broker_cleaner.rs` (retention and compaction run by the timer
//!   alone), `python_group_churn.rs` (confluent-kafka 2.16 and 1.7 members join and leave one
//!   group while messages flow; nothing lost, nothing re-read after a committed read). The `kt broker` flags: `cli/tests/cli.rs`.

mod acl;
mod api;
mod cluster;
mod config;
mod connection;
mod error;
mod fault;
#[doc(hidden)]
pub mod fuzzing;
mod group;
mod log;
mod protocol;
mod sasl;
mod server;
mod state;
mod storage;
mod tls;

pub use cluster::{
    Broker, BrokerHandle, Cluster, ClusterConfig, ClusterHandle, MAX_NODES, NodeStatus,
};
pub use config::{
    BrokerConfig, DEFAULT_CONNECTIONS_MAX_IDLE, DEFAULT_FAILED_AUTHENTICATION_DELAY,
    DEFAULT_FETCH_MAX_BYTES, DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_MESSAGE_BYTES,
    DEFAULT_MAX_REQUEST_SIZE, DEFAULT_SEGMENT_AGE, DEFAULT_SEGMENT_BYTES,
};
pub use error::BrokerError;
pub use fault::{DropConnection, DropPoint, InjectError};
pub use group::{GroupState, GroupSummary, MemberSummary};
/// Kafka error codes, as the fault API injects them (re-exported from `kafka-protocol`).
pub use kafka_protocol::ResponseError;
/// Kafka API keys, as the fault API names them (re-exported from `kafka-protocol`).
pub use kafka_protocol::messages::ApiKey;
pub use sasl::{Users, UsersError};
