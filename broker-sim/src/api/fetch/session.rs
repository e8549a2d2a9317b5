//! Fetch sessions (KIP-227): a cache of the partitions each consumer fetches, so that
//! incremental Fetch requests name only what changed and responses carry only partitions with
//! something new.
//!
//! Request (session id, epoch):
//! - (0, -1): sessionless full fetch; no session.
//! - (0, 0): full fetch that creates a session holding the request's partitions (when the cache
//!   has no room even after evicting the least recently used session, or the request names
//!   more than [`MAX_SESSION_PARTITIONS`] partitions, the fetch is served sessionless, with
//!   session id 0, as Kafka does when its cache is full).
//! - (id, -1) / (id, 0): a full fetch closes session `id` first; with epoch 0 a new one is made.
//! - (id, n > 0): incremental: FETCH_SESSION_ID_NOT_FOUND for an unknown id,
//!   INVALID_FETCH_SESSION_EPOCH when `n` is not the session's next epoch. The request's
//!   partitions are added to or updated in the session, `forgotten_topics_data` removed, and
//!   the epoch advances.
//!
//! An incremental response holds exactly the session partitions with a change since the last
//! response that carried them, as Kafka decides it: records, an error, a new high watermark,
//! last stable offset or log start offset, or a partition new to the session. Partitions that
//! are answered move to the end of the session's order, so a `max_bytes` limit rotates fairly.
//!
//! The cache holds at most `max.incremental.fetch.session.cache.slots` (1000) sessions;
//! eviction is least-recently-used (Kafka also weighs session size and follower status).

use std::collections::HashMap;
use std::sync::Mutex;

use indexmap::IndexMap;
use kafka_protocol::ResponseError;
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::fetch_response::FetchableTopicResponse;
use kafka_protocol::messages::{FetchRequest, FetchResponse, TopicName};
use rand::Rng;
use uuid::Uuid;

use crate::state::lock;

/// Kafka's `max.incremental.fetch.session.cache.slots` default.
pub(crate) const MAX_SESSIONS: usize = 1000;
/// Partitions one session may hold; larger full fetches are served without a session.
pub(crate) const MAX_SESSION_PARTITIONS: usize = 100_000;

const INITIAL_EPOCH: i32 = 0;
const FINAL_EPOCH: i32 = -1;

/// A partition as a session knows it: by topic id (v13+) or name, and index.
type Key = (Uuid, String, i32);

#[derive(Debug, Clone)]
struct Cached {
    request: FetchPartition,
    /// Last values sent to the client; None until first sent.
    sent: Option<(i64, i64, i64)>,
}

#[derive(Debug)]
struct Session {
    epoch: i32,
    partitions: IndexMap<Key, Cached>,
    last_used: u64,
}

/// How this request is served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Sessionless,
    /// A full fetch that created session `id`.
    New(i32),
    /// An incremental fetch in session `id`.
    Incremental(i32),
}

/// All fetch sessions of this node.
#[derive(Debug, Default)]
pub(crate) struct FetchSessions {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    sessions: HashMap<i32, Session>,
    clock: u64,
}

fn key_of(topic: &FetchTopic, p: &FetchPartition) -> Key {
    (topic.topic_id, topic.topic.0.to_string(), p.partition)
}

/// Regroups session partitions into request topics (consecutive partitions of one topic).
fn as_topics(parts: &IndexMap<Key, Cached>) -> Vec<FetchTopic> {
    let mut topics: Vec<FetchTopic> = Vec::new();
    for ((id, name, _), c) in parts {
        match topics.last_mut() {
            Some(t) if t.topic_id == *id && t.topic.0.as_str() == name => {
                t.partitions.push(c.request.clone());
            }
            _ => topics.push(
                FetchTopic::default()
                    .with_topic_id(*id)
                    .with_topic(TopicName(super::super::sb(name.clone())))
                    .with_partitions(vec![c.request.clone()]),
            ),
        }
    }
    topics
}

impl FetchSessions {
    /// Decides how `req` is served and returns the partitions to read (for a session, all of
    /// the session's partitions in its order).
    pub(crate) fn prepare(
        &self,
        req: &FetchRequest,
    ) -> Result<(Mode, Vec<FetchTopic>), ResponseError> {
        let mut inner = lock(&self.inner);
        inner.clock += 1;
        let now = inner.clock;
        let full = req.session_epoch == INITIAL_EPOCH || req.session_epoch == FINAL_EPOCH;
        if full {
            if req.session_id != 0 && inner.sessions.remove(&req.session_id).is_some() {
                tracing::debug!(session_id = req.session_id, "fetch session closed");
            }
            let count: usize = req.topics.iter().map(|t| t.partitions.len()).sum();
            if req.session_epoch == FINAL_EPOCH || count > MAX_SESSION_PARTITIONS {
                return Ok((Mode::Sessionless, req.topics.clone()));
            }
            if inner.sessions.len() >= MAX_SESSIONS {
                let lru = inner
                    .sessions
                    .iter()
                    .min_by_key(|(_, s)| s.last_used)
                    .map(|(id, _)| *id);
                if let Some(id) = lru {
                    inner.sessions.remove(&id);
                    tracing::debug!(session_id = id, "fetch session evicted (cache full)");
                }
            }
            let mut rng = rand::rng();
            let mut id: i32 = rng.random_range(1..i32::MAX);
            while inner.sessions.contains_key(&id) {
                id = rng.random_range(1..i32::MAX);
            }
            let mut partitions = IndexMap::with_capacity(count);
            for t in &req.topics {
                for p in &t.partitions {
                    partitions.insert(
                        key_of(t, p),
                        Cached {
                            request: p.clone(),
                            sent: None,
                        },
                    );
                }
            }
            let topics = as_topics(&partitions);
            inner.sessions.insert(
                id,
                Session {
                    epoch: 1,
                    partitions,
                    last_used: now,
                },
            );
            return Ok((Mode::New(id), topics));
        }
        let Some(session) = inner.sessions.get_mut(&req.session_id) else {
            return Err(ResponseError::FetchSessionIdNotFound);
        };
        if session.epoch != req.session_epoch {
            return Err(ResponseError::InvalidFetchSessionEpoch);
        }
        for t in &req.topics {
            for p in &t.partitions {
                let key = key_of(t, p);
                let room = session.partitions.len() < MAX_SESSION_PARTITIONS;
                match session.partitions.get_mut(&key) {
                    Some(c) => c.request = p.clone(),
                    None if room => {
                        session.partitions.insert(
                            key,
                            Cached {
                                request: p.clone(),
                                sent: None,
                            },
                        );
                    }
                    None => {}
                }
            }
        }
        for f in &req.forgotten_topics_data {
            for p in &f.partitions {
                session
                    .partitions
                    .shift_remove(&(f.topic_id, f.topic.0.to_string(), *p));
            }
        }
        session.epoch = if session.epoch == i32::MAX {
            1
        } else {
            session.epoch + 1
        };
        session.last_used = now;
        Ok((
            Mode::Incremental(req.session_id),
            as_topics(&session.partitions),
        ))
    }

    /// Shapes the response for `mode`: records what was sent; for an incremental fetch keeps
    /// only the partitions with a change (and moves them to the end of the session's order).
    pub(crate) fn finish(&self, mode: Mode, mut response: FetchResponse) -> FetchResponse {
        let id = match mode {
            Mode::Sessionless => return response.with_session_id(0),
            Mode::New(id) | Mode::Incremental(id) => id,
        };
        let incremental = matches!(mode, Mode::Incremental(_));
        let mut inner = lock(&self.inner);
        let Some(session) = inner.sessions.get_mut(&id) else {
            // Evicted or closed meanwhile: the client will start over.
            return response.with_session_id(0);
        };
        let mut answered = Vec::new();
        let topics = std::mem::take(&mut response.responses);
        let mut kept: Vec<FetchableTopicResponse> = Vec::with_capacity(topics.len());
        for mut t in topics {
            let parts = std::mem::take(&mut t.partitions);
            t.partitions = parts
                .into_iter()
                .filter(|p| {
                    let key = (t.topic_id, t.topic.0.to_string(), p.partition_index);
                    let now = (p.high_watermark, p.last_stable_offset, p.log_start_offset);
                    let Some(c) = session.partitions.get_mut(&key) else {
                        return true;
                    };
                    let has_records = p.records.as_ref().is_some_and(|r| !r.is_empty());
                    let changed = c.sent != Some(now) || has_records || p.error_code != 0;
                    c.sent = Some(now);
                    if changed && incremental {
                        answered.push(key);
                    }
                    changed || !incremental
                })
                .collect();
            if !t.partitions.is_empty() || !incremental {
                kept.push(t);
            }
        }
        for key in answered {
            if let Some(c) = session.partitions.shift_remove(&key) {
                session.partitions.insert(key, c);
            }
        }
        response.responses = kept;
        response.with_session_id(id)
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        lock(&self.inner).sessions.len()
    }
}
