//! Request handlers of the fake broker, one function per API.

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::api_versions_response::ApiVersion;
use kafka_protocol::messages::create_topics_response::CreatableTopicResult;
use kafka_protocol::messages::delete_topics_response::DeletableTopicResult;
use kafka_protocol::messages::fetch_response::{FetchableTopicResponse, PartitionData};
use kafka_protocol::messages::find_coordinator_response::Coordinator;
use kafka_protocol::messages::join_group_response::JoinGroupResponseMember;
use kafka_protocol::messages::list_offsets_response::{
    ListOffsetsPartitionResponse, ListOffsetsTopicResponse,
};
use kafka_protocol::messages::metadata_response::{
    MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
};
use kafka_protocol::messages::offset_commit_response::{
    OffsetCommitResponsePartition, OffsetCommitResponseTopic,
};
use kafka_protocol::messages::offset_fetch_response::{
    OffsetFetchResponsePartition, OffsetFetchResponseTopic,
};
use kafka_protocol::messages::produce_response::{PartitionProduceResponse, TopicProduceResponse};
use kafka_protocol::messages::*;
use kafka_protocol::protocol::StrBytes;

use super::{FakeState, Log, Reply, Topic, body, decode};
use crate::connection::versions::OUR_VERSIONS;

pub(crate) async fn handle(st: &FakeState, h: &RequestHeader, buf: Bytes) -> Reply {
    let v = h.request_api_version;
    match ApiKey::try_from(h.request_api_key).unwrap() {
        ApiKey::ApiVersions => api_versions(st, v),
        ApiKey::Metadata => metadata(st, decode(buf, v), v),
        ApiKey::CreateTopics => create_topics(st, decode(buf, v), v),
        ApiKey::DeleteTopics => delete_topics(st, decode(buf, v), v),
        ApiKey::Produce => produce(st, decode(buf, v), v),
        ApiKey::Fetch => fetch(st, decode(buf, v), v).await,
        ApiKey::ListOffsets => list_offsets(st, decode(buf, v), v),
        ApiKey::FindCoordinator => find_coordinator(st, decode(buf, v), v),
        ApiKey::JoinGroup => join_group(st, decode(buf, v), v),
        ApiKey::SyncGroup => sync_group(st, decode(buf, v), v),
        ApiKey::Heartbeat => heartbeat(st, decode(buf, v), v),
        ApiKey::LeaveGroup => leave_group(st, decode(buf, v), v),
        ApiKey::OffsetCommit => offset_commit(st, decode(buf, v), v),
        ApiKey::OffsetFetch => offset_fetch(st, decode(buf, v), v),
        ApiKey::InitProducerId => init_producer_id(st, decode(buf, v), v),
        other => super::admin_handlers::handle(st, other, buf, v),
    }
}

fn s(x: &str) -> StrBytes {
    StrBytes::from_string(x.to_owned())
}

fn api_versions(st: &FakeState, v: i16) -> Reply {
    let max = st.faults().api_versions_max;
    let mut resp = ApiVersionsResponse::default();
    let hidden = st.faults().hidden_apis.clone();
    resp.api_keys = OUR_VERSIONS
        .iter()
        .filter(|(k, _, _)| !hidden.contains(&(*k as i16)))
        .map(|&(k, _, _)| {
            let r = k.valid_versions();
            let hi = if k == ApiKey::ApiVersions {
                max.unwrap_or(r.max)
            } else {
                r.max
            };
            // Advertise v0 as the minimum, like a Kafka 3.x broker: librdkafka 2.0 ties
            // gzip/snappy to "MsgVer1" (Produce v2) and silently stops compressing against a
            // broker whose Produce starts at v3 (Kafka 4.0 does, KIP-896). Nobody here sends
            // those old versions.
            let _ = r.min;
            ApiVersion::default()
                .with_api_key(k as i16)
                .with_min_version(0)
                .with_max_version(hi)
        })
        .collect();
    if let Some(max) = max
        && v > max
    {
        // KIP-511: UNSUPPORTED_VERSION in the v0 layout, with our table.
        resp.error_code = 35;
        return body(&resp, 0);
    }
    body(&resp, v)
}

fn describe(st: &FakeState, name: &str, t: &Topic, v: i16) -> MetadataResponseTopic {
    let _ = st;
    let mut mt = MetadataResponseTopic::default();
    mt.name = Some(TopicName(s(name)));
    mt.is_internal = name.starts_with("__");
    if v >= 10 {
        mt.topic_id = t.id;
    }
    mt.partitions = (0..t.partitions.len())
        .map(|i| {
            let mut p = MetadataResponsePartition::default();
            p.partition_index = i as i32;
            p.leader_id = BrokerId(0);
            p.replica_nodes = vec![BrokerId(0)];
            p.isr_nodes = vec![BrokerId(0)];
            p
        })
        .collect();
    mt
}

fn metadata(st: &FakeState, req: MetadataRequest, v: i16) -> Reply {
    let code = st.next_error(ApiKey::Metadata);
    let d = st.data();
    let mut resp = MetadataResponse::default();
    let mut b = MetadataResponseBroker::default();
    b.node_id = BrokerId(0);
    b.host = s(&st.host);
    b.port = st.port;
    resp.brokers = vec![b];
    resp.controller_id = BrokerId(0);
    if v >= 2 {
        resp.cluster_id = Some(s("fake"));
    }
    match req.topics {
        None => {
            for (name, t) in &d.topics {
                resp.topics.push(describe(st, name, t, v));
            }
        }
        Some(topics) => {
            for rt in topics {
                let name = rt.name.map(|n| n.0.to_string()).unwrap_or_default();
                match d.topics.get(&name) {
                    Some(t) if code == 0 => resp.topics.push(describe(st, &name, t, v)),
                    _ => {
                        let mut mt = MetadataResponseTopic::default();
                        mt.name = Some(TopicName(s(&name)));
                        mt.error_code = if code != 0 { code } else { 3 };
                        resp.topics.push(mt);
                    }
                }
            }
        }
    }
    body(&resp, v)
}

fn create_topics(st: &FakeState, req: CreateTopicsRequest, v: i16) -> Reply {
    let mut resp = CreateTopicsResponse::default();
    for t in req.topics {
        let name = t.name.0.to_string();
        let mut r = CreatableTopicResult::default();
        r.name = t.name.clone();
        if v < 5 {
            r.configs = None;
        }
        let exists = st.data().topics.contains_key(&name);
        if exists {
            r.error_code = 36;
            r.error_message = Some(s("Topic already exists."));
        } else if t.num_partitions == 0 || t.num_partitions < -1 {
            r.error_code = 37;
        } else {
            let n = if t.num_partitions == -1 {
                1
            } else {
                t.num_partitions
            };
            st.create_topic(&name, n as usize);
            if v >= 5 {
                r.num_partitions = n;
                r.replication_factor = 1;
            }
            if v >= 7 {
                r.topic_id = st.data().topics[&name].id;
            }
        }
        resp.topics.push(r);
    }
    body(&resp, v)
}

fn delete_topics(st: &FakeState, req: DeleteTopicsRequest, v: i16) -> Reply {
    let names: Vec<String> = if v >= 6 {
        req.topics
            .iter()
            .filter_map(|t| t.name.as_ref().map(|n| n.0.to_string()))
            .collect()
    } else {
        req.topic_names.iter().map(|n| n.0.to_string()).collect()
    };
    let mut resp = DeleteTopicsResponse::default();
    for n in names {
        let mut r = DeletableTopicResult::default();
        r.name = Some(TopicName(s(&n)));
        if st.data().topics.remove(&n).is_none() {
            r.error_code = 3;
        }
        resp.responses.push(r);
    }
    body(&resp, v)
}

fn append(log: &mut Log, records: &Bytes) -> Result<i64, i16> {
    let mut pos = 0;
    let mut first_base = None;
    while pos + 61 <= records.len() {
        let len = i32::from_be_bytes(records[pos + 8..pos + 12].try_into().unwrap()) as usize;
        let total = len + 12;
        let mut b = BytesMut::from(&records[pos..pos + total]);
        let last_delta = i32::from_be_bytes(b[23..27].try_into().unwrap()) as i64;
        let max_ts = i64::from_be_bytes(b[35..43].try_into().unwrap());
        let pid = i64::from_be_bytes(b[43..51].try_into().unwrap());
        let epoch = i16::from_be_bytes(b[51..53].try_into().unwrap());
        let seq = i32::from_be_bytes(b[53..57].try_into().unwrap());
        let count = i32::from_be_bytes(b[57..61].try_into().unwrap());
        let base = log.next_offset;
        if pid >= 0 {
            let last_seq = seq.wrapping_add(count - 1);
            match log.producers.get_mut(&pid) {
                None if seq != 0 => return Err(59), // UNKNOWN_PRODUCER_ID
                None => {}
                Some(p) if epoch < p.epoch => return Err(47), // INVALID_PRODUCER_EPOCH
                Some(p) if epoch > p.epoch && seq != 0 => return Err(45),
                Some(p) if epoch > p.epoch => {}
                Some(p) => {
                    if let Some(&(_, _, off)) = p
                        .recent
                        .iter()
                        .find(|(f, l, _)| *f == seq && *l == last_seq)
                    {
                        // A retry of a batch already written: answer with its offset.
                        return Ok(off);
                    }
                    if seq != p.last_seq.wrapping_add(1) {
                        return Err(45); // OUT_OF_ORDER_SEQUENCE_NUMBER
                    }
                }
            }
            let p = log.producers.entry(pid).or_default();
            if epoch != p.epoch {
                p.recent.clear();
            }
            p.epoch = epoch;
            p.last_seq = last_seq;
            p.recent.push_back((seq, last_seq, base));
            if p.recent.len() > 5 {
                p.recent.pop_front();
            }
        }
        b[0..8].copy_from_slice(&base.to_be_bytes());
        log.batches
            .push((base, base + last_delta, max_ts, b.freeze()));
        log.next_offset = base + last_delta + 1;
        first_base.get_or_insert(base);
        pos += total;
    }
    Ok(first_base.unwrap_or(log.next_offset))
}

fn init_producer_id(st: &FakeState, _req: InitProducerIdRequest, v: i16) -> Reply {
    let mut d = st.data();
    d.next_producer_id += 1;
    let mut resp = InitProducerIdResponse::default();
    resp.error_code = st.next_error(ApiKey::InitProducerId);
    resp.producer_id = ProducerId(1000 + d.next_producer_id);
    resp.producer_epoch = 0;
    body(&resp, v)
}

fn produce(st: &FakeState, req: ProduceRequest, v: i16) -> Reply {
    let mut resp = ProduceResponse::default();
    for t in req.topic_data {
        let name = t.name.0.to_string();
        let mut tr = TopicProduceResponse::default();
        tr.name = t.name.clone();
        for p in t.partition_data {
            let mut pr = PartitionProduceResponse::default();
            pr.index = p.index;
            pr.log_append_time_ms = -1;
            let code = st.next_error(ApiKey::Produce);
            let mut d = st.data();
            match d
                .topics
                .get_mut(&name)
                .and_then(|t| t.partitions.get_mut(p.index as usize))
            {
                _ if code != 0 => pr.error_code = code,
                None => pr.error_code = 3,
                Some(log) => {
                    match p.records.as_ref().map(|r| append(log, r)) {
                        Some(Ok(base)) => pr.base_offset = base,
                        Some(Err(code)) => pr.error_code = code,
                        None => pr.base_offset = log.next_offset,
                    }
                    if v >= 5 {
                        pr.log_start_offset = log.log_start;
                    }
                }
            }
            tr.partition_responses.push(pr);
        }
        resp.responses.push(tr);
    }
    st.appended.notify_waiters();
    if req.acks == 0 {
        return Reply::Nothing;
    }
    body(&resp, v)
}

/// The topic a Fetch names: by id from v13, by name before.
fn fetch_topic_name(
    d: &super::Data,
    t: &kafka_protocol::messages::fetch_request::FetchTopic,
) -> String {
    if !t.topic_id.is_nil() {
        return d
            .topics
            .iter()
            .find(|(_, topic)| topic.id == t.topic_id)
            .map(|(n, _)| n.clone())
            .unwrap_or_default();
    }
    t.topic.0.to_string()
}

/// One partition a Fetch covers: (topic, topic id, partition, fetch offset, max bytes).
type Want = (String, uuid::Uuid, i32, i64, i32);

fn has_data(st: &FakeState, wanted: &[Want]) -> bool {
    let d = st.data();
    wanted.iter().any(|(t, _, p, offset, _)| {
        d.topics
            .get(t)
            .and_then(|tt| tt.partitions.get(*p as usize))
            .is_some_and(|log| log.next_offset > *offset)
    })
}

/// Applies the request to its fetch session (KIP-227) when sessions are on; returns the
/// partitions to answer for, whether the answer is incremental, and the session id.
fn fetch_session(st: &FakeState, req: &FetchRequest) -> Result<(Vec<Want>, bool, i32), i16> {
    let mut d = st.data();
    let mut named: Vec<Want> = Vec::new();
    for t in &req.topics {
        let name = fetch_topic_name(&d, t);
        for p in &t.partitions {
            named.push((
                name.clone(),
                t.topic_id,
                p.partition,
                p.fetch_offset,
                p.partition_max_bytes,
            ));
        }
    }
    let sessions_on = st.faults().fetch_sessions;
    if !sessions_on || (req.session_id == 0 && req.session_epoch == -1) {
        return Ok((named, false, 0));
    }
    if req.session_id == 0 {
        if req.session_epoch != 0 {
            return Err(71);
        }
        d.next_session += 1;
        let id = d.next_session;
        let map = named
            .iter()
            .map(|w| ((w.0.clone(), w.2), w.clone()))
            .collect();
        d.sessions.insert(id, (1, map));
        return Ok((named, false, id));
    }
    let forgotten: Vec<(String, i32)> = req
        .forgotten_topics_data
        .iter()
        .flat_map(|f| {
            let name = if f.topic_id.is_nil() {
                f.topic.0.to_string()
            } else {
                d.topics
                    .iter()
                    .find(|(_, t)| t.id == f.topic_id)
                    .map(|(n, _)| n.clone())
                    .unwrap_or_default()
            };
            f.partitions.iter().map(move |p| (name.clone(), *p))
        })
        .collect();
    let Some((epoch, map)) = d.sessions.get_mut(&req.session_id) else {
        return Err(70);
    };
    if *epoch != req.session_epoch {
        return Err(71);
    }
    *epoch += 1;
    for w in named {
        map.insert((w.0.clone(), w.2), w);
    }
    for k in forgotten {
        map.remove(&k);
    }
    Ok((map.values().cloned().collect(), true, req.session_id))
}

async fn fetch(st: &FakeState, req: FetchRequest, v: i16) -> Reply {
    st.fetch_sizes
        .lock()
        .unwrap()
        .push(req.topics.iter().map(|t| t.partitions.len()).sum());
    let mut resp = FetchResponse::default();
    let (wanted, incremental, session_id) = match fetch_session(st, &req) {
        Ok(w) => w,
        Err(code) => {
            resp.error_code = code;
            return body(&resp, v);
        }
    };
    resp.session_id = session_id;
    let deadline =
        tokio::time::Instant::now() + Duration::from_millis(req.max_wait_ms.max(0) as u64);
    loop {
        let notified = st.appended.notified();
        if has_data(st, &wanted) || tokio::time::Instant::now() >= deadline {
            break;
        }
        let _ = tokio::time::timeout_at(deadline, notified).await;
    }
    let (truncate, aborted) = {
        let f = st.faults();
        (f.truncate_fetch, f.aborted.clone())
    };
    for (name, topic_id, partition, fetch_offset, max_bytes) in &wanted {
        let mut pd = PartitionData::default();
        pd.partition_index = *partition;
        let code = st.next_error(ApiKey::Fetch);
        let d = st.data();
        match d
            .topics
            .get(name)
            .and_then(|tt| tt.partitions.get(*partition as usize))
        {
            _ if code != 0 => pd.error_code = code,
            None if v >= 13 => pd.error_code = 100, // UNKNOWN_TOPIC_ID
            None => pd.error_code = 3,
            Some(log) => {
                pd.high_watermark = log.next_offset;
                pd.last_stable_offset = log.next_offset;
                if v >= 5 {
                    pd.log_start_offset = log.log_start;
                }
                if req.isolation_level == 1 && v >= 4 {
                    pd.aborted_transactions = Some(
                        aborted
                            .iter()
                            .map(|&(pid, first)| {
                                let mut a = kafka_protocol::messages::fetch_response::AbortedTransaction::default();
                                a.producer_id = ProducerId(pid);
                                a.first_offset = first;
                                a
                            })
                            .collect(),
                    );
                }
                if *fetch_offset > log.next_offset || *fetch_offset < log.log_start {
                    pd.error_code = 1;
                } else {
                    let mut out = BytesMut::new();
                    for (_, last, _, b) in &log.batches {
                        if *last < *fetch_offset {
                            continue;
                        }
                        if !out.is_empty() && out.len() + b.len() > *max_bytes as usize {
                            break;
                        }
                        out.extend_from_slice(b);
                    }
                    if !out.is_empty() && truncate > 0 {
                        let keep = out.len().saturating_sub(truncate);
                        out.truncate(keep);
                    }
                    pd.records = Some(out.freeze());
                }
            }
        }
        let empty = pd.error_code == 0 && pd.records.as_ref().is_none_or(|r| r.is_empty());
        if incremental && empty {
            continue;
        }
        match resp.responses.last_mut() {
            Some(tr)
                if tr.topic.0.as_str() == name.as_str()
                    || (v >= 13 && tr.topic_id == *topic_id) =>
            {
                tr.partitions.push(pd)
            }
            _ => {
                let mut tr = FetchableTopicResponse::default();
                tr.topic = TopicName(s(name));
                tr.topic_id = *topic_id;
                tr.partitions.push(pd);
                resp.responses.push(tr);
            }
        }
    }
    body(&resp, v)
}

fn list_offsets(st: &FakeState, req: ListOffsetsRequest, v: i16) -> Reply {
    let d = st.data();
    let mut resp = ListOffsetsResponse::default();
    for t in req.topics {
        let mut tr = ListOffsetsTopicResponse::default();
        tr.name = t.name.clone();
        for p in t.partitions {
            let mut pr = ListOffsetsPartitionResponse::default();
            pr.partition_index = p.partition_index;
            match d
                .topics
                .get(t.name.0.as_str())
                .and_then(|tt| tt.partitions.get(p.partition_index as usize))
            {
                None => pr.error_code = 3,
                Some(log) => {
                    pr.offset = match p.timestamp {
                        -2 => log.log_start,
                        -1 => log.next_offset,
                        ts => log
                            .batches
                            .iter()
                            .find(|(_, _, max_ts, _)| *max_ts >= ts)
                            .map_or(-1, |(base, ..)| *base),
                    };
                    pr.timestamp = -1;
                }
            }
            tr.partitions.push(pr);
        }
        resp.topics.push(tr);
    }
    body(&resp, v)
}

fn find_coordinator(st: &FakeState, req: FindCoordinatorRequest, v: i16) -> Reply {
    let code = st.next_error(ApiKey::FindCoordinator);
    let mut resp = FindCoordinatorResponse::default();
    if v >= 4 {
        resp.error_message = None;
        for key in req.coordinator_keys {
            let mut c = Coordinator::default();
            c.key = key;
            c.node_id = BrokerId(0);
            c.host = s(&st.host);
            c.port = st.port;
            c.error_code = code;
            c.error_message = None;
            resp.coordinators.push(c);
        }
    } else {
        resp.error_code = code;
        resp.error_message = None;
        resp.node_id = BrokerId(0);
        resp.host = s(&st.host);
        resp.port = st.port;
    }
    body(&resp, v)
}

fn join_group(st: &FakeState, req: JoinGroupRequest, v: i16) -> Reply {
    let code = st.next_error(ApiKey::JoinGroup);
    let mut resp = JoinGroupResponse::default();
    if v >= 7 {
        resp.protocol_type = Some(s("consumer"));
    }
    if code != 0 {
        resp.error_code = code;
        resp.generation_id = -1;
        return body(&resp, v);
    }
    let mut d = st.data();
    let mut member_id = req.member_id.to_string();
    if member_id.is_empty() {
        d.next_member += 1;
        member_id = format!("{}-{}", req.group_id.0, d.next_member);
        if v >= 4 {
            resp.error_code = 79;
            resp.generation_id = -1;
            resp.member_id = s(&member_id);
            return body(&resp, v);
        }
    }
    let g = d.groups.entry(req.group_id.0.to_string()).or_default();
    g.members.insert(
        member_id.clone(),
        req.protocols
            .iter()
            .map(|p| (p.name.to_string(), p.metadata.clone()))
            .collect(),
    );
    g.generation += 1;
    if g.leader.is_empty() || !g.members.contains_key(&g.leader) {
        g.leader = member_id.clone();
    }
    let protocol = req
        .protocols
        .first()
        .map(|p| p.name.to_string())
        .unwrap_or_default();
    g.protocol = protocol.clone();
    g.assignments.clear();
    resp.generation_id = g.generation;
    resp.protocol_name = Some(s(&protocol));
    resp.leader = s(&g.leader);
    resp.member_id = s(&member_id);
    if g.leader == member_id {
        for (id, protos) in &g.members {
            let mut m = JoinGroupResponseMember::default();
            m.member_id = s(id);
            m.metadata = protos
                .iter()
                .find(|(n, _)| *n == protocol)
                .map(|(_, md)| md.clone())
                .unwrap_or_default();
            resp.members.push(m);
        }
    }
    body(&resp, v)
}

fn sync_group(st: &FakeState, req: SyncGroupRequest, v: i16) -> Reply {
    let mut d = st.data();
    let mut resp = SyncGroupResponse::default();
    let Some(g) = d.groups.get_mut(req.group_id.0.as_str()) else {
        resp.error_code = 16;
        return body(&resp, v);
    };
    let member = req.member_id.to_string();
    if !g.members.contains_key(&member) {
        resp.error_code = 25;
    } else if req.generation_id != g.generation {
        resp.error_code = 22;
    } else {
        for a in req.assignments {
            g.assignments.insert(a.member_id.to_string(), a.assignment);
        }
        match g.assignments.get(&member) {
            Some(a) => resp.assignment = a.clone(),
            None => resp.error_code = 27,
        }
    }
    if v >= 5 {
        resp.protocol_type = Some(s("consumer"));
        resp.protocol_name = Some(s(&g.protocol));
    }
    body(&resp, v)
}

fn heartbeat(st: &FakeState, req: HeartbeatRequest, v: i16) -> Reply {
    let code = st.next_error(ApiKey::Heartbeat);
    let mut d = st.data();
    if code == 25 {
        // An injected UNKNOWN_MEMBER_ID: the coordinator really forgot the member.
        if let Some(g) = d.groups.get_mut(req.group_id.0.as_str()) {
            g.members.remove(req.member_id.as_str());
            if g.leader == req.member_id.as_str() {
                g.leader.clear();
            }
        }
    }
    let mut resp = HeartbeatResponse::default();
    resp.error_code = match d.groups.get(req.group_id.0.as_str()) {
        _ if code != 0 => code,
        None => 16,
        Some(g) if !g.members.contains_key(req.member_id.as_str()) => 25,
        Some(g) if g.generation != req.generation_id => 22,
        Some(_) => 0,
    };
    body(&resp, v)
}

fn leave_group(st: &FakeState, req: LeaveGroupRequest, v: i16) -> Reply {
    let mut d = st.data();
    let mut resp = LeaveGroupResponse::default();
    if let Some(g) = d.groups.get_mut(req.group_id.0.as_str()) {
        let ids: Vec<String> = if v >= 3 {
            req.members
                .iter()
                .map(|m| m.member_id.to_string())
                .collect()
        } else {
            vec![req.member_id.to_string()]
        };
        for id in ids {
            g.members.remove(&id);
            if v >= 3 {
                let mut m = leave_group_response::MemberResponse::default();
                m.member_id = s(&id);
                resp.members.push(m);
            }
        }
        if !g.members.contains_key(&g.leader) {
            g.leader.clear();
        }
    }
    body(&resp, v)
}

fn offset_commit(st: &FakeState, req: OffsetCommitRequest, v: i16) -> Reply {
    let mut resp = OffsetCommitResponse::default();
    for t in req.topics {
        let mut tr = OffsetCommitResponseTopic::default();
        tr.name = t.name.clone();
        for p in t.partitions {
            let code = st.next_error(ApiKey::OffsetCommit);
            let mut d = st.data();
            let g = d.groups.entry(req.group_id.0.to_string()).or_default();
            let mut pr = OffsetCommitResponsePartition::default();
            pr.partition_index = p.partition_index;
            if code != 0 {
                pr.error_code = code;
            } else if req.generation_id_or_member_epoch >= 0
                && req.generation_id_or_member_epoch != g.generation
            {
                pr.error_code = 22;
            } else {
                g.offsets.insert(
                    (t.name.0.to_string(), p.partition_index),
                    p.committed_offset,
                );
            }
            tr.partitions.push(pr);
        }
        resp.topics.push(tr);
    }
    body(&resp, v)
}

fn offset_fetch(st: &FakeState, req: OffsetFetchRequest, v: i16) -> Reply {
    let d = st.data();
    let offset = |group: &str, topic: &str, p: i32| {
        d.groups
            .get(group)
            .and_then(|g| g.offsets.get(&(topic.to_owned(), p)).copied())
            .unwrap_or(-1)
    };
    let mut resp = OffsetFetchResponse::default();
    if v >= 8 {
        use kafka_protocol::messages::offset_fetch_response::{
            OffsetFetchResponseGroup, OffsetFetchResponsePartitions, OffsetFetchResponseTopics,
        };
        for g in req.groups {
            let mut gr = OffsetFetchResponseGroup::default();
            gr.group_id = g.group_id.clone();
            let topics = g.topics.unwrap_or_else(|| {
                // No topic list: everything the group committed.
                let mut by_topic: BTreeMap<String, Vec<i32>> = BTreeMap::new();
                if let Some(group) = d.groups.get(g.group_id.0.as_str()) {
                    for (t, p) in group.offsets.keys() {
                        by_topic.entry(t.clone()).or_default().push(*p);
                    }
                }
                by_topic
                    .into_iter()
                    .map(|(t, ps)| {
                        let mut rt = kafka_protocol::messages::offset_fetch_request::OffsetFetchRequestTopics::default();
                        rt.name = TopicName(s(&t));
                        rt.partition_indexes = ps;
                        rt
                    })
                    .collect()
            });
            for t in topics {
                let mut tr = OffsetFetchResponseTopics::default();
                tr.name = t.name.clone();
                for p in t.partition_indexes {
                    let mut pr = OffsetFetchResponsePartitions::default();
                    pr.partition_index = p;
                    pr.committed_offset = offset(g.group_id.0.as_str(), t.name.0.as_str(), p);
                    pr.metadata = Some(s(""));
                    tr.partitions.push(pr);
                }
                gr.topics.push(tr);
            }
            resp.groups.push(gr);
        }
        return body(&resp, v);
    }
    for t in req.topics.unwrap_or_default() {
        let mut tr = OffsetFetchResponseTopic::default();
        tr.name = t.name.clone();
        for p in t.partition_indexes {
            let mut pr = OffsetFetchResponsePartition::default();
            pr.partition_index = p;
            pr.committed_offset = offset(req.group_id.0.as_str(), t.name.0.as_str(), p);
            pr.metadata = Some(s(""));
            tr.partitions.push(pr);
        }
        resp.topics.push(tr);
    }
    body(&resp, v)
}
