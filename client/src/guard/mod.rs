//! The response shape guard: a walk over a response body before `kafka-protocol` decodes it.
//!
//! Why: kafka-protocol's array decoders call `Vec::with_capacity(n)` with `n` read off the
//! wire, so a broker (hostile, buggy, or not a Kafka broker at all) could put a count of two
//! billion into a 20-byte response and make the client try to allocate gigabytes and abort.
//! This walk follows the response's schema for the negotiated version — one function per
//! struct (`data.rs`, `groups.rs`, `admin.rs`) — and checks, allocating nothing:
//!
//! * every array's count fits in the bytes that remain (each element takes at least one
//!   byte) and each element really is there (it is walked);
//! * every string and bytes length fits; tagged fields the decoder knows are walked and must
//!   be exactly as long as they declare; unknown ones are skipped by their length;
//! * at most [`MAX_ELEMENTS`] array elements in one response;
//! * nothing trails the body.
//!
//! A body that passes decodes with allocations bounded by a small multiple of its length.
//! This is kt-client's own code, independent of the broker's request guard (the design keeps
//! the client and the broker from sharing protocol code); the tests cross-check it against
//! kafka-protocol's encoders for every API and version the client speaks.

mod admin;
mod data;
#[cfg(test)]
mod fill;
mod groups;
#[cfg(test)]
mod tests;

use kafka_protocol::messages::ApiKey;

/// Most array elements one response may hold. A Metadata answer for 100,000 partitions with
/// three replicas each has about 700,000; a Fetch answer a few thousand.
pub(crate) const MAX_ELEMENTS: usize = 1 << 21;

/// Why a body was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Bad(pub(crate) &'static str);

pub(crate) type Step = Result<(), Bad>;

/// A cursor over the body that checks every length it reads.
#[derive(Debug)]
pub(crate) struct Walk<'a> {
    buf: &'a [u8],
    elements: usize,
}

impl<'a> Walk<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Walk { buf, elements: 0 }
    }

    fn take(&mut self, n: usize) -> Step {
        if n > self.buf.len() {
            return Err(Bad("a field runs past the end of the response"));
        }
        self.buf = &self.buf[n..];
        Ok(())
    }

    fn remaining(&self) -> usize {
        self.buf.len()
    }

    pub(crate) fn i8(&mut self) -> Step {
        self.take(1)
    }
    pub(crate) fn i16(&mut self) -> Step {
        self.take(2)
    }
    pub(crate) fn i32(&mut self) -> Step {
        self.take(4)
    }
    pub(crate) fn i64(&mut self) -> Step {
        self.take(8)
    }
    pub(crate) fn uuid(&mut self) -> Step {
        self.take(16)
    }

    fn read_i16(&mut self) -> Result<i16, Bad> {
        let b = self.buf.get(..2).ok_or(Bad("truncated length"))?;
        let v = i16::from_be_bytes([b[0], b[1]]);
        self.take(2)?;
        Ok(v)
    }

    fn read_i32(&mut self) -> Result<i32, Bad> {
        let b = self.buf.get(..4).ok_or(Bad("truncated length"))?;
        let v = i32::from_be_bytes([b[0], b[1], b[2], b[3]]);
        self.take(4)?;
        Ok(v)
    }

    /// An unsigned varint of at most 5 bytes (a u32).
    pub(crate) fn read_uvarint(&mut self) -> Result<u32, Bad> {
        let mut v: u32 = 0;
        for i in 0..5 {
            let b = *self.buf.first().ok_or(Bad("truncated varint"))?;
            self.take(1)?;
            if i == 4 && b > 0x0f {
                return Err(Bad("varint overflows 32 bits"));
            }
            v |= u32::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(Bad("varint longer than 5 bytes"))
    }

    /// A length for strings and bytes; `None` for null.
    fn length(&mut self, compact: bool, wide: bool) -> Result<Option<usize>, Bad> {
        if compact {
            let n = self.read_uvarint()?;
            return Ok(n.checked_sub(1).map(|n| n as usize));
        }
        let n = if wide {
            self.read_i32()?
        } else {
            i32::from(self.read_i16()?)
        };
        match n {
            -1 => Ok(None),
            n if n < 0 => Err(Bad("negative length")),
            n => Ok(Some(n as usize)),
        }
    }

    /// STRING / NULLABLE_STRING (COMPACT_ in flexible versions).
    pub(crate) fn string(&mut self, compact: bool) -> Step {
        if let Some(n) = self.length(compact, false)? {
            self.take(n)?;
        }
        Ok(())
    }

    /// BYTES / NULLABLE_BYTES / RECORDS (COMPACT_ in flexible versions).
    pub(crate) fn bytes(&mut self, compact: bool) -> Step {
        if let Some(n) = self.length(compact, true)? {
            self.take(n)?;
        }
        Ok(())
    }

    /// ARRAY / COMPACT_ARRAY (null allowed), each element walked by `element`.
    pub(crate) fn array(
        &mut self,
        compact: bool,
        mut element: impl FnMut(&mut Self) -> Step,
    ) -> Step {
        let Some(n) = self.length(compact, true)? else {
            return Ok(());
        };
        if n > self.remaining() {
            return Err(Bad("an array count exceeds the bytes that follow"));
        }
        self.elements = self.elements.saturating_add(n);
        if self.elements > MAX_ELEMENTS {
            return Err(Bad("too many array elements in one response"));
        }
        for _ in 0..n {
            let before = self.remaining();
            element(self)?;
            if self.remaining() == before {
                return Err(Bad("an array element took no bytes"));
            }
        }
        Ok(())
    }

    /// A tagged-field section. `known` walks the tags the decoder understands (returning
    /// `None` for others, which are skipped by their length).
    pub(crate) fn tags(&mut self, mut known: impl FnMut(&mut Self, u32) -> Option<Step>) -> Step {
        let count = self.read_uvarint()? as usize;
        if count > self.remaining() {
            return Err(Bad("a tagged-field count exceeds the bytes that follow"));
        }
        for _ in 0..count {
            let tag = self.read_uvarint()?;
            let size = self.read_uvarint()? as usize;
            if size > self.remaining() {
                return Err(Bad("a tagged field runs past the end of the response"));
            }
            let before = self.remaining();
            match known(self, tag) {
                Some(step) => {
                    step?;
                    if before - self.remaining() != size {
                        return Err(Bad("a tagged field's length does not match its content"));
                    }
                }
                None => self.take(size)?,
            }
        }
        Ok(())
    }
}

/// Checks a response body of `api` at `version` (after the response header). With
/// `allow_trailing` bytes after the known fields are tolerated (the ApiVersions v0 fallback
/// answer, which is read as a prefix).
pub(crate) fn check(
    api: ApiKey,
    version: i16,
    body: &[u8],
    allow_trailing: bool,
) -> Result<(), String> {
    let mut w = Walk::new(body);
    let v = version;
    let walked = match api {
        ApiKey::ApiVersions => data::api_versions_response(&mut w, v),
        ApiKey::Metadata => data::metadata_response(&mut w, v),
        ApiKey::Produce => data::produce_response(&mut w, v),
        ApiKey::Fetch => data::fetch_response(&mut w, v),
        ApiKey::ListOffsets => data::list_offsets_response(&mut w, v),
        ApiKey::InitProducerId => data::init_producer_id_response(&mut w, v),
        ApiKey::FindCoordinator => groups::find_coordinator_response(&mut w, v),
        ApiKey::JoinGroup => groups::join_group_response(&mut w, v),
        ApiKey::SyncGroup => groups::sync_group_response(&mut w, v),
        ApiKey::Heartbeat => groups::heartbeat_response(&mut w, v),
        ApiKey::LeaveGroup => groups::leave_group_response(&mut w, v),
        ApiKey::OffsetCommit => groups::offset_commit_response(&mut w, v),
        ApiKey::OffsetFetch => groups::offset_fetch_response(&mut w, v),
        ApiKey::ListGroups => groups::list_groups_response(&mut w, v),
        ApiKey::DescribeGroups => groups::describe_groups_response(&mut w, v),
        ApiKey::DeleteGroups => groups::delete_groups_response(&mut w, v),
        ApiKey::CreateTopics => admin::create_topics_response(&mut w, v),
        ApiKey::DeleteTopics => admin::delete_topics_response(&mut w, v),
        ApiKey::CreatePartitions => admin::create_partitions_response(&mut w, v),
        ApiKey::DeleteRecords => admin::delete_records_response(&mut w, v),
        ApiKey::DescribeConfigs => admin::describe_configs_response(&mut w, v),
        ApiKey::IncrementalAlterConfigs => admin::incremental_alter_configs_response(&mut w, v),
        ApiKey::SaslHandshake => admin::sasl_handshake_response(&mut w, v),
        ApiKey::SaslAuthenticate => admin::sasl_authenticate_response(&mut w, v),
        other => return Err(format!("kt has no response shape for {other:?}")),
    };
    walked.map_err(|Bad(why)| why.to_owned())?;
    if w.remaining() != 0 && !allow_trailing {
        return Err(format!("{} bytes trail the response", w.remaining()));
    }
    Ok(())
}
