//! Response shapes: produce, fetch, metadata, versions, offsets, producer ids.
//!
//! One function per response struct, in field order, with the version ranges in which each
//! field exists: transcribed from the `kafka-protocol` 0.18 decoders (the Kafka message JSON
//! schemas). `super::tests` cross-checks every function against that crate's encoders.

use super::{Step, Walk};

pub(super) fn api_versions_response(w: &mut Walk<'_>, v: i16) -> Step {
    w.i16()?;
    w.array(v >= 3, |w| api_version(w, v))?;
    if v >= 1 {
        w.i32()?;
    }
    if v >= 3 {
        w.tags(|w, tag| match tag {
            0 => Some((|| -> Step {
                w.array(true, |w| supported_feature_key(w, v))?;
                Ok(())
            })()),
            1 => Some((|| -> Step {
                w.i64()?;
                Ok(())
            })()),
            2 => Some((|| -> Step {
                w.array(true, |w| finalized_feature_key(w, v))?;
                Ok(())
            })()),
            3 => Some((|| -> Step {
                w.i8()?;
                Ok(())
            })()),
            _ => None,
        })?;
    }
    Ok(())
}

fn api_version(w: &mut Walk<'_>, v: i16) -> Step {
    w.i16()?;
    w.i16()?;
    w.i16()?;
    if v >= 3 {
        w.tags(|_, _| None)?;
    }
    Ok(())
}

fn supported_feature_key(w: &mut Walk<'_>, v: i16) -> Step {
    if v >= 3 {
        w.string(true)?;
    }
    if v >= 3 {
        w.i16()?;
    }
    if v >= 3 {
        w.i16()?;
    }
    if v >= 3 {
        w.tags(|_, _| None)?;
    }
    Ok(())
}

fn finalized_feature_key(w: &mut Walk<'_>, v: i16) -> Step {
    if v >= 3 {
        w.string(true)?;
    }
    if v >= 3 {
        w.i16()?;
    }
    if v >= 3 {
        w.i16()?;
    }
    if v >= 3 {
        w.tags(|_, _| None)?;
    }
    Ok(())
}

pub(super) fn metadata_response(w: &mut Walk<'_>, v: i16) -> Step {
    if v >= 3 {
        w.i32()?;
    }
    w.array(v >= 9, |w| metadata_response_broker(w, v))?;
    if v >= 2 {
        w.string(v >= 9)?;
    }
    if v >= 1 {
        w.i32()?;
    }
    w.array(v >= 9, |w| metadata_response_topic(w, v))?;
    if (8..=10).contains(&v) {
        w.i32()?;
    }
    if v >= 13 {
        w.i16()?;
    }
    if v >= 9 {
        w.tags(|_, _| None)?;
    }
    Ok(())
}

fn metadata_response_broker(w: &mut Walk<'_>, v: i16) -> Step {
    w.i32()?;
    w.string(v >= 9)?;
    w.i32()?;
    if v >= 1 {
        w.string(v >= 9)?;
    }
    if v >= 9 {
        w.tags(|_, _| None)?;
    }
    Ok(())
}

fn metadata_response_topic(w: &mut Walk<'_>, v: i16) -> Step {
    w.i16()?;
    w.string(v >= 9)?;
    if v >= 10 {
        w.uuid()?;
    }
    if v >= 1 {
        w.i8()?;
    }
    w.array(v >= 9, |w| metadata_response_partition(w, v))?;
    if v >= 8 {
        w.i32()?;
    }
    if v >= 9 {
        w.tags(|_, _| None)?;
    }
    Ok(())
}

fn metadata_response_partition(w: &mut Walk<'_>, v: i16) -> Step {
    w.i16()?;
    w.i32()?;
    w.i32()?;
    if v >= 7 {
        w.i32()?;
    }
    w.array(v >= 9, |w| w.i32())?;
    w.array(v >= 9, |w| w.i32())?;
    if v >= 5 {
        w.array(v >= 9, |w| w.i32())?;
    }
    if v >= 9 {
        w.tags(|_, _| None)?;
    }
    Ok(())
}

pub(super) fn produce_response(w: &mut Walk<'_>, v: i16) -> Step {
    w.array(v >= 9, |w| topic_produce_response(w, v))?;
    w.i32()?;
    if v >= 9 {
        w.tags(|w, tag| match tag {
            0 if v >= 10 => Some((|| -> Step {
                w.array(true, |w| produce_node_endpoint(w, v))?;
                Ok(())
            })()),
            _ => None,
        })?;
    }
    Ok(())
}

fn topic_produce_response(w: &mut Walk<'_>, v: i16) -> Step {
    if v <= 12 {
        w.string(v >= 9)?;
    }
    if v >= 13 {
        w.uuid()?;
    }
    w.array(v >= 9, |w| partition_produce_response(w, v))?;
    if v >= 9 {
        w.tags(|_, _| None)?;
    }
    Ok(())
}

fn produce_node_endpoint(w: &mut Walk<'_>, v: i16) -> Step {
    if v >= 10 {
        w.i32()?;
    }
    if v >= 10 {
        w.string(true)?;
    }
    if v >= 10 {
        w.i32()?;
    }
    if v >= 10 {
        w.string(true)?;
    }
    if v >= 9 {
        w.tags(|_, _| None)?;
    }
    Ok(())
}

fn partition_produce_response(w: &mut Walk<'_>, v: i16) -> Step {
    w.i32()?;
    w.i16()?;
    w.i64()?;
    w.i64()?;
    if v >= 5 {
        w.i64()?;
    }
    if v >= 8 {
        w.array(v >= 9, |w| batch_index_and_error_message(w, v))?;
    }
    if v >= 8 {
        w.string(v >= 9)?;
    }
    if v >= 9 {
        w.tags(|w, tag| match tag {
            0 if v >= 10 => Some((|| -> Step {
                produce_leader_id_and_epoch(w, v)?;
                Ok(())
            })()),
            _ => None,
        })?;
    }
    Ok(())
}

fn batch_index_and_error_message(w: &mut Walk<'_>, v: i16) -> Step {
    if v >= 8 {
        w.i32()?;
    }
    if v >= 8 {
        w.string(v >= 9)?;
    }
    if v >= 9 {
        w.tags(|_, _| None)?;
    }
    Ok(())
}

fn produce_leader_id_and_epoch(w: &mut Walk<'_>, v: i16) -> Step {
    if v >= 10 {
        w.i32()?;
    }
    if v >= 10 {
        w.i32()?;
    }
    if v >= 9 {
        w.tags(|_, _| None)?;
    }
    Ok(())
}

pub(super) fn fetch_response(w: &mut Walk<'_>, v: i16) -> Step {
    w.i32()?;
    if v >= 7 {
        w.i16()?;
    }
    if v >= 7 {
        w.i32()?;
    }
    w.array(v >= 12, |w| fetchable_topic_response(w, v))?;
    if v >= 12 {
        w.tags(|w, tag| match tag {
            0 if v >= 16 => Some((|| -> Step {
                w.array(true, |w| node_endpoint(w, v))?;
                Ok(())
            })()),
            _ => None,
        })?;
    }
    Ok(())
}

fn fetchable_topic_response(w: &mut Walk<'_>, v: i16) -> Step {
    if v <= 12 {
        w.string(v >= 12)?;
    }
    if v >= 13 {
        w.uuid()?;
    }
    w.array(v >= 12, |w| partition_data(w, v))?;
    if v >= 12 {
        w.tags(|_, _| None)?;
    }
    Ok(())
}

fn node_endpoint(w: &mut Walk<'_>, v: i16) -> Step {
    if v >= 16 {
        w.i32()?;
    }
    if v >= 16 {
        w.string(true)?;
    }
    if v >= 16 {
        w.i32()?;
    }
    if v >= 16 {
        w.string(true)?;
    }
    if v >= 12 {
        w.tags(|_, _| None)?;
    }
    Ok(())
}

fn partition_data(w: &mut Walk<'_>, v: i16) -> Step {
    w.i32()?;
    w.i16()?;
    w.i64()?;
    w.i64()?;
    if v >= 5 {
        w.i64()?;
    }
    w.array(v >= 12, |w| aborted_transaction(w, v))?;
    if v >= 11 {
        w.i32()?;
    }
    w.bytes(v >= 12)?;
    if v >= 12 {
        w.tags(|w, tag| match tag {
            0 => Some((|| -> Step {
                epoch_end_offset(w, v)?;
                Ok(())
            })()),
            1 => Some((|| -> Step {
                leader_id_and_epoch(w, v)?;
                Ok(())
            })()),
            2 => Some((|| -> Step {
                snapshot_id(w, v)?;
                Ok(())
            })()),
            _ => None,
        })?;
    }
    Ok(())
}

fn aborted_transaction(w: &mut Walk<'_>, v: i16) -> Step {
    w.i64()?;
    w.i64()?;
    if v >= 12 {
        w.tags(|_, _| None)?;
    }
    Ok(())
}

fn epoch_end_offset(w: &mut Walk<'_>, v: i16) -> Step {
    if v >= 12 {
        w.i32()?;
    }
    if v >= 12 {
        w.i64()?;
    }
    if v >= 12 {
        w.tags(|_, _| None)?;
    }
    Ok(())
}

fn leader_id_and_epoch(w: &mut Walk<'_>, v: i16) -> Step {
    if v >= 12 {
        w.i32()?;
    }
    if v >= 12 {
        w.i32()?;
    }
    if v >= 12 {
        w.tags(|_, _| None)?;
    }
    Ok(())
}

fn snapshot_id(w: &mut Walk<'_>, v: i16) -> Step {
    w.i64()?;
    w.i32()?;
    if v >= 12 {
        w.tags(|_, _| None)?;
    }
    Ok(())
}

pub(super) fn list_offsets_response(w: &mut Walk<'_>, v: i16) -> Step {
    if v >= 2 {
        w.i32()?;
    }
    w.array(v >= 6, |w| list_offsets_topic_response(w, v))?;
    if v >= 6 {
        w.tags(|_, _| None)?;
    }
    Ok(())
}

fn list_offsets_topic_response(w: &mut Walk<'_>, v: i16) -> Step {
    w.string(v >= 6)?;
    w.array(v >= 6, |w| list_offsets_partition_response(w, v))?;
    if v >= 6 {
        w.tags(|_, _| None)?;
    }
    Ok(())
}

fn list_offsets_partition_response(w: &mut Walk<'_>, v: i16) -> Step {
    w.i32()?;
    w.i16()?;
    w.i64()?;
    w.i64()?;
    if v >= 4 {
        w.i32()?;
    }
    if v >= 6 {
        w.tags(|_, _| None)?;
    }
    Ok(())
}

pub(super) fn init_producer_id_response(w: &mut Walk<'_>, v: i16) -> Step {
    w.i32()?;
    w.i16()?;
    w.i64()?;
    w.i16()?;
    if v >= 6 {
        w.i64()?;
    }
    if v >= 6 {
        w.i16()?;
    }
    if v >= 2 {
        w.tags(|_, _| None)?;
    }
    Ok(())
}
