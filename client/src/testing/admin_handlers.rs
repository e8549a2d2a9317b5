//! Admin API handlers of the fake broker: partitions, records, configs, groups.

use bytes::Bytes;
use kafka_protocol::messages::create_partitions_response::CreatePartitionsTopicResult;
use kafka_protocol::messages::delete_groups_response::DeletableGroupResult;
use kafka_protocol::messages::delete_records_response::{
    DeleteRecordsPartitionResult, DeleteRecordsTopicResult,
};
use kafka_protocol::messages::describe_configs_response::{
    DescribeConfigsResourceResult, DescribeConfigsResult,
};
use kafka_protocol::messages::describe_groups_response::{DescribedGroup, DescribedGroupMember};
use kafka_protocol::messages::incremental_alter_configs_response::AlterConfigsResourceResponse;
use kafka_protocol::messages::list_groups_response::ListedGroup;
use kafka_protocol::messages::*;
use kafka_protocol::protocol::StrBytes;

use super::{FakeState, Log, Reply, body, decode};

fn s(x: &str) -> StrBytes {
    StrBytes::from_string(x.to_owned())
}

pub(crate) fn handle(st: &FakeState, api: ApiKey, buf: Bytes, v: i16) -> Reply {
    match api {
        ApiKey::CreatePartitions => create_partitions(st, decode(buf, v), v),
        ApiKey::DeleteRecords => delete_records(st, decode(buf, v), v),
        ApiKey::DescribeConfigs => describe_configs(st, decode(buf, v), v),
        ApiKey::IncrementalAlterConfigs => alter_configs(st, decode(buf, v), v),
        ApiKey::ListGroups => list_groups(st, decode(buf, v), v),
        ApiKey::DescribeGroups => describe_groups(st, decode(buf, v), v),
        ApiKey::DeleteGroups => delete_groups(st, decode(buf, v), v),
        other => panic!("fake broker does not implement {other:?}"),
    }
}

fn create_partitions(st: &FakeState, req: CreatePartitionsRequest, v: i16) -> Reply {
    let mut d = st.data();
    let mut resp = CreatePartitionsResponse::default();
    for t in req.topics {
        let mut r = CreatePartitionsTopicResult::default();
        r.name = t.name.clone();
        match d.topics.get_mut(t.name.0.as_str()) {
            None => r.error_code = 3,
            Some(topic) if t.count as usize <= topic.partitions.len() => {
                r.error_code = 37; // INVALID_PARTITIONS
                r.error_message = Some(s("partitions can only grow"));
            }
            Some(topic) => {
                while topic.partitions.len() < t.count as usize {
                    topic.partitions.push(Log::default());
                }
            }
        }
        resp.results.push(r);
    }
    body(&resp, v)
}

fn delete_records(st: &FakeState, req: DeleteRecordsRequest, v: i16) -> Reply {
    let mut d = st.data();
    let mut resp = DeleteRecordsResponse::default();
    for t in req.topics {
        let mut tr = DeleteRecordsTopicResult::default();
        tr.name = t.name.clone();
        for p in t.partitions {
            let mut pr = DeleteRecordsPartitionResult::default();
            pr.partition_index = p.partition_index;
            match d
                .topics
                .get_mut(t.name.0.as_str())
                .and_then(|x| x.partitions.get_mut(p.partition_index as usize))
            {
                None => pr.error_code = 3,
                Some(log) => {
                    let to = if p.offset < 0 {
                        log.next_offset
                    } else {
                        p.offset
                    };
                    if to > log.next_offset {
                        pr.error_code = 1;
                    } else {
                        log.log_start = log.log_start.max(to);
                        let start = log.log_start;
                        log.batches.retain(|(_, last, _, _)| *last >= start);
                        pr.low_watermark = log.log_start;
                    }
                }
            }
            tr.partitions.push(pr);
        }
        resp.topics.push(tr);
    }
    body(&resp, v)
}

fn describe_configs(st: &FakeState, req: DescribeConfigsRequest, v: i16) -> Reply {
    let d = st.data();
    let mut resp = DescribeConfigsResponse::default();
    for r in req.resources {
        let mut rr = DescribeConfigsResult::default();
        rr.resource_type = r.resource_type;
        rr.resource_name = r.resource_name.clone();
        let entry = |k: &str, val: &str, source: i8| {
            let mut c = DescribeConfigsResourceResult::default();
            c.name = s(k);
            c.value = Some(s(val));
            c.config_source = source;
            c
        };
        match (r.resource_type, d.topics.get(r.resource_name.as_str())) {
            (2, None) => rr.error_code = 3,
            (2, Some(t)) => {
                rr.configs.push(entry("cleanup.policy", "delete", 5));
                for (k, val) in &t.configs {
                    rr.configs.push(entry(k, val, 1));
                }
            }
            (4, _) => rr.configs.push(entry("num.partitions", "1", 4)),
            _ => rr.error_code = 42,
        }
        resp.results.push(rr);
    }
    body(&resp, v)
}

fn alter_configs(st: &FakeState, req: IncrementalAlterConfigsRequest, v: i16) -> Reply {
    let mut d = st.data();
    let mut resp = IncrementalAlterConfigsResponse::default();
    for r in req.resources {
        let mut rr = AlterConfigsResourceResponse::default();
        rr.resource_type = r.resource_type;
        rr.resource_name = r.resource_name.clone();
        match d.topics.get_mut(r.resource_name.as_str()) {
            Some(t) if r.resource_type == 2 => {
                if !req.validate_only {
                    for c in r.configs {
                        match c.config_operation {
                            0 => {
                                let v = c.value.map(|x| x.to_string()).unwrap_or_default();
                                t.configs.insert(c.name.to_string(), v);
                            }
                            1 => {
                                t.configs.remove(c.name.as_str());
                            }
                            _ => rr.error_code = 40,
                        }
                    }
                }
            }
            _ => rr.error_code = 3,
        }
        resp.responses.push(rr);
    }
    body(&resp, v)
}

fn list_groups(st: &FakeState, _req: ListGroupsRequest, v: i16) -> Reply {
    let d = st.data();
    let mut resp = ListGroupsResponse::default();
    let mut ids: Vec<&String> = d.groups.keys().collect();
    ids.sort();
    for id in ids {
        let g = &d.groups[id];
        let mut l = ListedGroup::default();
        l.group_id = GroupId(s(id));
        l.protocol_type = s("consumer");
        l.group_state = s(if g.members.is_empty() {
            "Empty"
        } else {
            "Stable"
        });
        resp.groups.push(l);
    }
    body(&resp, v)
}

fn describe_groups(st: &FakeState, req: DescribeGroupsRequest, v: i16) -> Reply {
    let d = st.data();
    let mut resp = DescribeGroupsResponse::default();
    for id in req.groups {
        let mut g = DescribedGroup::default();
        g.group_id = id.clone();
        match d.groups.get(id.0.as_str()) {
            None => g.group_state = s("Dead"),
            Some(group) => {
                g.group_state = s(if group.members.is_empty() {
                    "Empty"
                } else {
                    "Stable"
                });
                g.protocol_type = s("consumer");
                g.protocol_data = s(&group.protocol);
                for member in group.members.keys() {
                    let mut m = DescribedGroupMember::default();
                    m.member_id = s(member);
                    m.client_id = s("kt");
                    m.client_host = s("/127.0.0.1");
                    m.member_assignment =
                        group.assignments.get(member).cloned().unwrap_or_default();
                    g.members.push(m);
                }
            }
        }
        resp.groups.push(g);
    }
    body(&resp, v)
}

fn delete_groups(st: &FakeState, req: DeleteGroupsRequest, v: i16) -> Reply {
    let mut d = st.data();
    let mut resp = DeleteGroupsResponse::default();
    for id in req.groups_names {
        let mut r = DeletableGroupResult::default();
        r.group_id = id.clone();
        r.error_code = match d.groups.get(id.0.as_str()) {
            None => 69,                             // GROUP_ID_NOT_FOUND
            Some(g) if !g.members.is_empty() => 68, // NON_EMPTY_GROUP
            Some(_) => {
                d.groups.remove(id.0.as_str());
                0
            }
        };
        resp.results.push(r);
    }
    body(&resp, v)
}
