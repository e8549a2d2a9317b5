//! `topic.meta`: a topic's id, partition placement and configs as `key=value` lines.
//!
//! ```text
//! # kt broker topic metadata
//! id=6f1c0f8e-3a4b-4c2d-9e8f-0a1b2c3d4e5f
//! partition.0=leader 1 epoch 3 replicas 1,2
//! config.retention.ms=86400000
//! ```
//!
//! Partition lines must number 0..n without gaps. Config values escape `\` as `\\` and a line
//! break as `\n`. Anything else (an unknown key, a malformed line) is an error naming the file
//! and line: the broker refuses to start rather than guess.

use std::path::Path;

use uuid::Uuid;

use crate::storage::{PartitionMeta, StorageError, TopicMeta};

/// Partition numbers beyond this are refused before anything is allocated for them.
const MAX_PARTITIONS: usize = 1 << 20;

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('\n', "\\n")
        .replace('\r', "\\r")
}

fn unescape(v: &str) -> Option<String> {
    let mut out = String::with_capacity(v.len());
    let mut chars = v.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next()? {
            '\\' => out.push('\\'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            _ => return None,
        }
    }
    Some(out)
}

/// The file's text for `meta` (the topic name is the directory's).
pub(crate) fn encode(meta: &TopicMeta) -> String {
    let mut s = String::from("# kt broker topic metadata\n");
    s.push_str(&format!("id={}\n", meta.id));
    for (i, p) in meta.partitions.iter().enumerate() {
        let replicas: Vec<String> = p.replicas.iter().map(i32::to_string).collect();
        s.push_str(&format!(
            "partition.{i}=leader {} epoch {} replicas {}\n",
            p.leader,
            p.leader_epoch,
            replicas.join(",")
        ));
    }
    for (k, v) in &meta.configs {
        s.push_str(&format!("config.{k}={}\n", escape(v)));
    }
    s
}

fn parse_partition(v: &str) -> Option<PartitionMeta> {
    let words: Vec<&str> = v.split(' ').collect();
    let ["leader", leader, "epoch", epoch, "replicas", replicas] = words.as_slice() else {
        return None;
    };
    let replicas = if replicas.is_empty() {
        Vec::new()
    } else {
        replicas
            .split(',')
            .map(|r| r.parse().ok())
            .collect::<Option<Vec<i32>>>()?
    };
    Some(PartitionMeta {
        replicas,
        leader: leader.parse().ok()?,
        leader_epoch: epoch.parse().ok()?,
    })
}

/// Parses a `topic.meta` of topic `name` read from `path`.
pub(crate) fn decode(name: &str, text: &str, path: &Path) -> Result<TopicMeta, StorageError> {
    let mut id = None;
    let mut partitions: Vec<Option<PartitionMeta>> = Vec::new();
    let mut configs = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let bad = |why: &str| StorageError::corrupt(path, format!("line {}: {why}", n + 1));
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            return Err(bad("expected key=value"));
        };
        if key == "id" {
            id = Some(Uuid::parse_str(value).map_err(|_| bad("not a topic id"))?);
        } else if let Some(i) = key.strip_prefix("partition.") {
            let i: usize = i.parse().map_err(|_| bad("bad partition number"))?;
            if i >= MAX_PARTITIONS {
                return Err(bad("partition number too large"));
            }
            if partitions.len() <= i {
                partitions.resize(i + 1, None);
            }
            partitions[i] = Some(parse_partition(value).ok_or_else(|| bad("bad partition line"))?);
        } else if let Some(k) = key.strip_prefix("config.") {
            configs.push((
                k.to_owned(),
                unescape(value).ok_or_else(|| bad("bad escape in config value"))?,
            ));
        } else {
            return Err(bad("unknown key"));
        }
    }
    let id = id.ok_or_else(|| StorageError::corrupt(path, "no id line"))?;
    let partitions = partitions
        .into_iter()
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| StorageError::corrupt(path, "partition numbers have a gap"))?;
    if partitions.is_empty() {
        return Err(StorageError::corrupt(path, "no partitions"));
    }
    Ok(TopicMeta {
        name: name.to_owned(),
        id,
        partitions,
        configs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_what_it_did_not_write() {
        let meta = TopicMeta {
            name: "t".into(),
            id: Uuid::from_u128(42),
            partitions: vec![
                PartitionMeta {
                    replicas: vec![1, 2],
                    leader: 1,
                    leader_epoch: 3,
                },
                PartitionMeta {
                    replicas: vec![],
                    leader: -1,
                    leader_epoch: 0,
                },
            ],
            configs: vec![
                ("retention.ms".into(), "1000".into()),
                ("odd".into(), "a=b\\c\nd".into()),
            ],
        };
        let text = encode(&meta);
        let p = Path::new("topic.meta");
        assert_eq!(decode("t", &text, p).unwrap(), meta);
        for bad in [
            "id=nope\npartition.0=leader 0 epoch 0 replicas 0\n",
            "id=00000000-0000-0000-0000-00000000002a\n",
            "id=00000000-0000-0000-0000-00000000002a\npartition.1=leader 0 epoch 0 replicas 0\n",
            "id=00000000-0000-0000-0000-00000000002a\npartition.0=leader x epoch 0 replicas 0\n",
            "id=00000000-0000-0000-0000-00000000002a\npartition.0=leader 0 epoch 0 replicas 0\nwhat=1\n",
            "id=00000000-0000-0000-0000-00000000002a\npartition.99999999999=leader 0 epoch 0 replicas 0\n",
            "id=00000000-0000-0000-0000-00000000002a\npartition.0=leader 0 epoch 0 replicas 0\nconfig.a=\\q\n",
        ] {
            let e = decode("t", bad, p).unwrap_err();
            assert_eq!(e.kind, std::io::ErrorKind::InvalidData, "{bad}");
        }
    }
}
