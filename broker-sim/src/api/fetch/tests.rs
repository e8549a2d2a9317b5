//! Fetch handler tests: offsets and high watermark, KIP-74, errors, long polling.

use std::sync::Arc;
use std::time::Duration;

use kafka_protocol::ResponseError;
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::{ApiKey, FetchRequest, TopicName};

use super::handle;
use crate::api::sb;
use crate::api::test_util::{ctx, encode_all_versions};
use crate::log::batch::{self, tests::build_batch};
use crate::state::{BrokerState, NewTopic};

fn fetch_req(topic: &str, parts: &[(i32, i64)], max_wait_ms: i32, min_bytes: i32) -> FetchRequest {
    FetchRequest::default()
        .with_max_wait_ms(max_wait_ms)
        .with_min_bytes(min_bytes)
        .with_max_bytes(50 << 20)
        .with_topics(vec![
            FetchTopic::default()
                .with_topic(TopicName(sb(topic)))
                .with_partitions(
                    parts
                        .iter()
                        .map(|&(p, o)| {
                            FetchPartition::default()
                                .with_partition(p)
                                .with_fetch_offset(o)
                                .with_partition_max_bytes(1 << 20)
                        })
                        .collect(),
                ),
        ])
}

fn state_with(partitions: i32) -> Arc<BrokerState> {
    let s = Arc::new(BrokerState::for_tests());
    s.create_topic(
        &NewTopic {
            num_partitions: partitions,
            ..NewTopic::with_defaults("t")
        },
        false,
    )
    .unwrap();
    s
}

fn append(s: &BrokerState, p: i32, values: &[&[u8]]) {
    let recs: Vec<_> = values.iter().map(|v| (None, Some(*v), 1)).collect();
    s.topic("t").unwrap().partitions[p as usize]
        .append(&build_batch(&recs), 1 << 20)
        .unwrap();
}

#[tokio::test]
async fn returns_stored_bytes_with_offsets() {
    let s = state_with(2);
    append(&s, 0, &[b"a", b"b"]);
    append(&s, 0, &[b"c"]);
    let r = handle(
        &s,
        &ctx(ApiKey::Fetch, 12),
        fetch_req("t", &[(0, 1), (1, 0)], 0, 1),
    )
    .await;
    let p0 = &r.responses[0].partitions[0];
    assert_eq!(
        (
            p0.error_code,
            p0.high_watermark,
            p0.last_stable_offset,
            p0.log_start_offset
        ),
        (0, 3, 3, 0)
    );
    let records = p0.records.clone().unwrap();
    // both batches, the first starting at offset 0 although offset 1 was asked for
    let first = batch::parse_header(&records).unwrap();
    assert_eq!(first.base_offset, 0);
    let second = batch::parse_header(&records[first.total_len()..]).unwrap();
    assert_eq!(second.base_offset, 2);
    let p1 = &r.responses[0].partitions[1];
    assert_eq!((p1.error_code, p1.high_watermark), (0, 0));
    assert!(p1.records.as_ref().unwrap().is_empty());
}

#[tokio::test]
async fn big_batch_is_returned_whole_to_the_first_partition_only() {
    let s = state_with(2);
    let big = vec![7u8; 3000];
    append(&s, 0, &[&big]);
    append(&s, 1, &[&big]);
    let mut req = fetch_req("t", &[(0, 0), (1, 0)], 0, 1);
    for p in &mut req.topics[0].partitions {
        p.partition_max_bytes = 100;
    }
    let r = handle(&s, &ctx(ApiKey::Fetch, 11), req).await;
    let len = |i: usize| r.responses[0].partitions[i].records.as_ref().unwrap().len();
    assert!(len(0) > 3000, "KIP-74: the first batch comes whole");
    assert_eq!(len(1), 0, "later partitions respect their limit");
}

#[tokio::test]
async fn errors_are_per_partition_and_immediate() {
    let s = state_with(1);
    append(&s, 0, &[b"a"]);
    let r = handle(
        &s,
        &ctx(ApiKey::Fetch, 12),
        fetch_req("t", &[(0, 5), (3, 0)], 10_000, 1),
    )
    .await;
    let p = &r.responses[0].partitions;
    assert_eq!(p[0].error_code, ResponseError::OffsetOutOfRange.code());
    assert_eq!(
        p[1].error_code,
        ResponseError::UnknownTopicOrPartition.code()
    );
    let r = handle(
        &s,
        &ctx(ApiKey::Fetch, 4),
        fetch_req("nope", &[(0, 0)], 10_000, 1),
    )
    .await;
    assert_eq!(
        r.responses[0].partitions[0].error_code,
        ResponseError::UnknownTopicOrPartition.code()
    );
    let mut req = fetch_req("t", &[(0, 0)], 0, 1);
    req.topics[0].partitions[0].current_leader_epoch = 5;
    let r = handle(&s, &ctx(ApiKey::Fetch, 9), req).await;
    assert_eq!(
        r.responses[0].partitions[0].error_code,
        ResponseError::UnknownLeaderEpoch.code()
    );
    let r = handle(
        &s,
        &ctx(ApiKey::Fetch, 7),
        fetch_req("t", &[(0, 0)], 0, 1)
            .with_session_id(9)
            .with_session_epoch(1),
    )
    .await;
    assert_eq!(r.error_code, ResponseError::FetchSessionIdNotFound.code());
}

#[tokio::test]
async fn topic_ids_from_v13() {
    let s = state_with(1);
    append(&s, 0, &[b"a"]);
    let id = s.topic("t").unwrap().id;
    let mut req = fetch_req("", &[(0, 0)], 0, 1);
    req.topics[0].topic_id = id;
    let r = handle(&s, &ctx(ApiKey::Fetch, 13), req.clone()).await;
    assert_eq!(r.responses[0].topic_id, id);
    assert_eq!(r.responses[0].partitions[0].high_watermark, 1);
    req.topics[0].topic_id = uuid::Uuid::from_u128(42);
    let r = handle(&s, &ctx(ApiKey::Fetch, 16), req).await;
    assert_eq!(
        r.responses[0].partitions[0].error_code,
        ResponseError::UnknownTopicId.code()
    );
}

#[tokio::test(start_paused = true)]
async fn long_poll_returns_after_max_wait_when_nothing_arrives() {
    let s = state_with(1);
    let start = tokio::time::Instant::now();
    let r = handle(
        &s,
        &ctx(ApiKey::Fetch, 11),
        fetch_req("t", &[(0, 0)], 500, 1),
    )
    .await;
    assert_eq!(start.elapsed(), Duration::from_millis(500));
    assert!(
        r.responses[0].partitions[0]
            .records
            .as_ref()
            .unwrap()
            .is_empty()
    );
}

#[tokio::test(start_paused = true)]
async fn long_poll_wakes_on_append() {
    let s = state_with(1);
    let start = tokio::time::Instant::now();
    let waiter = {
        let s = Arc::clone(&s);
        tokio::spawn(async move {
            handle(
                &s,
                &ctx(ApiKey::Fetch, 11),
                fetch_req("t", &[(0, 0)], 30_000, 1),
            )
            .await
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!waiter.is_finished());
    append(&s, 0, &[b"x"]);
    let r = waiter.await.unwrap();
    assert_eq!(
        start.elapsed(),
        Duration::from_millis(100),
        "woken by the append, not the timeout"
    );
    assert!(
        !r.responses[0].partitions[0]
            .records
            .as_ref()
            .unwrap()
            .is_empty()
    );
}

#[tokio::test(start_paused = true)]
async fn long_poll_wakes_on_topic_deletion() {
    let s = state_with(1);
    let waiter = {
        let s = Arc::clone(&s);
        tokio::spawn(async move {
            handle(
                &s,
                &ctx(ApiKey::Fetch, 11),
                fetch_req("t", &[(0, 0)], 30_000, 1),
            )
            .await
        })
    };
    tokio::time::sleep(Duration::from_millis(10)).await;
    s.delete_topic("t").unwrap();
    let r = waiter.await.unwrap();
    assert_eq!(
        r.responses[0].partitions[0].error_code,
        ResponseError::UnknownTopicOrPartition.code()
    );
}

#[tokio::test]
async fn encodes_at_every_version() {
    let s = state_with(1);
    append(&s, 0, &[b"a"]);
    let id = s.topic("t").unwrap().id;
    let rt = tokio::runtime::Handle::current();
    let responses: Vec<_> = {
        let mut v = Vec::new();
        for version in 4..=18 {
            let mut req = fetch_req("t", &[(0, 0), (1, 0)], 0, 1);
            req.topics[0].topic_id = id;
            v.push(handle(&s, &ctx(ApiKey::Fetch, version), req).await);
        }
        v
    };
    drop(rt);
    encode_all_versions(ApiKey::Fetch, 0, |v| responses[(v - 4) as usize].clone());
}

#[tokio::test]
async fn fetch_sessions_full_then_incremental() {
    let s = state_with(3);
    append(&s, 0, &[b"a"]);
    let c = ctx(ApiKey::Fetch, 12);
    // epoch 0: a new session with all three partitions, all answered
    let req = fetch_req("t", &[(0, 0), (1, 0), (2, 0)], 0, 0).with_session_epoch(0);
    let r = handle(&s, &c, req).await;
    assert_eq!(r.error_code, 0);
    let id = r.session_id;
    assert!(id > 0);
    assert_eq!(r.responses[0].partitions.len(), 3);
    assert_eq!(s.fetch_sessions.len(), 1);
    // epoch 1: the client consumed partition 0 and names only its new offset; nothing else
    // changed -> an empty response (partition 0 at offset 0 would still have records)
    let inc = |epoch: i32, parts: &[(i32, i64)]| {
        let mut r = fetch_req("t", parts, 0, 0)
            .with_session_id(id)
            .with_session_epoch(epoch);
        if parts.is_empty() {
            r.topics.clear();
        }
        r
    };
    let r = handle(&s, &c, inc(1, &[(0, 1)])).await;
    assert_eq!((r.error_code, r.session_id), (0, id));
    assert!(r.responses.is_empty(), "{:?}", r.responses);
    // an append to partition 2 makes only partition 2 show up (high watermark changed)
    append(&s, 2, &[b"x"]);
    let r = handle(&s, &c, inc(2, &[])).await;
    let parts: Vec<i32> = r
        .responses
        .iter()
        .flat_map(|t| t.partitions.iter().map(|p| p.partition_index))
        .collect();
    assert_eq!(parts, vec![2]);
    let rec = r.responses[0].partitions[0].records.as_ref().unwrap();
    assert_eq!(batch::parse_header(rec).unwrap().base_offset, 0);
    // the client moves partition 2 past its record: no change to report
    let r = handle(&s, &c, inc(3, &[(2, 1)])).await;
    assert!(r.responses.is_empty());
    // wrong epoch, unknown session
    let r = handle(&s, &c, inc(3, &[])).await;
    assert_eq!(r.error_code, ResponseError::InvalidFetchSessionEpoch.code());
    let r = handle(&s, &c, inc(4, &[]).with_session_id(id.wrapping_add(1))).await;
    assert_eq!(r.error_code, ResponseError::FetchSessionIdNotFound.code());
    // forgotten partitions are dropped from the session
    append(&s, 1, &[b"y"]);
    let mut req = inc(4, &[]);
    req.forgotten_topics_data = vec![
        kafka_protocol::messages::fetch_request::ForgottenTopic::default()
            .with_topic(TopicName(sb("t")))
            .with_partitions(vec![1]),
    ];
    let r = handle(&s, &c, req).await;
    assert!(r.responses.is_empty(), "partition 1 was forgotten");
    // epoch -1 closes the session and is served sessionless
    let r = handle(
        &s,
        &c,
        fetch_req("t", &[(1, 0)], 0, 0)
            .with_session_id(id)
            .with_session_epoch(-1),
    )
    .await;
    assert_eq!((r.error_code, r.session_id), (0, 0));
    assert_eq!(r.responses[0].partitions.len(), 1);
    assert_eq!(s.fetch_sessions.len(), 0);
}

#[tokio::test]
async fn incremental_fetch_long_polls_until_a_change() {
    let s = state_with(1);
    let c = ctx(ApiKey::Fetch, 12);
    let r = handle(
        &s,
        &c,
        fetch_req("t", &[(0, 0)], 0, 0).with_session_epoch(0),
    )
    .await;
    let id = r.session_id;
    let mut req = fetch_req("t", &[], 10_000, 1)
        .with_session_id(id)
        .with_session_epoch(1);
    req.topics.clear();
    let s2 = Arc::clone(&s);
    let waiter = tokio::spawn(async move { handle(&s2, &ctx(ApiKey::Fetch, 12), req).await });
    tokio::task::yield_now().await;
    append(&s, 0, &[b"late"]);
    let r = tokio::time::timeout(Duration::from_secs(30), waiter)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(r.responses[0].partitions[0].high_watermark, 1);
}
