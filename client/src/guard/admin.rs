//! Response shapes: topic, partition, record and config administration; SASL.
//!
//! One function per response struct, in field order, with the version ranges in which each
//! field exists: transcribed from the `kafka-protocol` 0.18 decoders (the Kafka message JSON
//! schemas). `super::tests` cross-checks every function against that crate's encoders.

use super::{Step, Walk};

pub(super) fn create_topics_response(w: &mut Walk<'_>, v: i16) -> Step {
    w.i32()?;
    w.array(v >= 5, |w| creatable_topic_result(w, v))?;
    if v >= 5 {
        w.tags(|_, _| None)?;
    }
    Ok(())
}

fn creatable_topic_result(w: &mut Walk<'_>, v: i16) -> Step {
    w.string(v >= 5)?;
    if v >= 7 {
        w.uuid()?;
    }
    w.i16()?;
    w.string(v >= 5)?;
    if v >= 5 {
        w.i32()?;
    }
    if v >= 5 {
        w.i16()?;
    }
    if v >= 5 {
        w.array(true, |w| creatable_topic_configs(w, v))?;
    }
    if v >= 5 {
        w.tags(|w, tag| match tag {
            0 => Some((|| -> Step {
                w.i16()?;
                Ok(())
            })()),
            _ => None,
        })?;
    }
    Ok(())
}

fn creatable_topic_configs(w: &mut Walk<'_>, v: i16) -> Step {
    if v >= 5 {
        w.string(true)?;
    }
    if v >= 5 {
        w.string(true)?;
    }
    if v >= 5 {
        w.i8()?;
    }
    if v >= 5 {
        w.i8()?;
    }
    if v >= 5 {
        w.i8()?;
    }
    if v >= 5 {
        w.tags(|_, _| None)?;
    }
    Ok(())
}

pub(super) fn delete_topics_response(w: &mut Walk<'_>, v: i16) -> Step {
    w.i32()?;
    w.array(v >= 4, |w| deletable_topic_result(w, v))?;
    if v >= 4 {
        w.tags(|_, _| None)?;
    }
    Ok(())
}

fn deletable_topic_result(w: &mut Walk<'_>, v: i16) -> Step {
    w.string(v >= 4)?;
    if v >= 6 {
        w.uuid()?;
    }
    w.i16()?;
    if v >= 5 {
        w.string(true)?;
    }
    if v >= 4 {
        w.tags(|_, _| None)?;
    }
    Ok(())
}

pub(super) fn create_partitions_response(w: &mut Walk<'_>, v: i16) -> Step {
    w.i32()?;
    w.array(v >= 2, |w| create_partitions_topic_result(w, v))?;
    if v >= 2 {
        w.tags(|_, _| None)?;
    }
    Ok(())
}

fn create_partitions_topic_result(w: &mut Walk<'_>, v: i16) -> Step {
    w.string(v >= 2)?;
    w.i16()?;
    w.string(v >= 2)?;
    if v >= 2 {
        w.tags(|_, _| None)?;
    }
    Ok(())
}

pub(super) fn delete_records_response(w: &mut Walk<'_>, v: i16) -> Step {
    w.i32()?;
    w.array(v >= 2, |w| delete_records_topic_result(w, v))?;
    if v >= 2 {
        w.tags(|_, _| None)?;
    }
    Ok(())
}

fn delete_records_topic_result(w: &mut Walk<'_>, v: i16) -> Step {
    w.string(v >= 2)?;
    w.array(v >= 2, |w| delete_records_partition_result(w, v))?;
    if v >= 2 {
        w.tags(|_, _| None)?;
    }
    Ok(())
}

fn delete_records_partition_result(w: &mut Walk<'_>, v: i16) -> Step {
    w.i32()?;
    w.i64()?;
    w.i16()?;
    if v >= 2 {
        w.tags(|_, _| None)?;
    }
    Ok(())
}

pub(super) fn describe_configs_response(w: &mut Walk<'_>, v: i16) -> Step {
    w.i32()?;
    w.array(v >= 4, |w| describe_configs_result(w, v))?;
    if v >= 4 {
        w.tags(|_, _| None)?;
    }
    Ok(())
}

fn describe_configs_result(w: &mut Walk<'_>, v: i16) -> Step {
    w.i16()?;
    w.string(v >= 4)?;
    w.i8()?;
    w.string(v >= 4)?;
    w.array(v >= 4, |w| describe_configs_resource_result(w, v))?;
    if v >= 4 {
        w.tags(|_, _| None)?;
    }
    Ok(())
}

fn describe_configs_resource_result(w: &mut Walk<'_>, v: i16) -> Step {
    w.string(v >= 4)?;
    w.string(v >= 4)?;
    w.i8()?;
    w.i8()?;
    w.i8()?;
    w.array(v >= 4, |w| describe_configs_synonym(w, v))?;
    if v >= 3 {
        w.i8()?;
    }
    if v >= 3 {
        w.string(v >= 4)?;
    }
    if v >= 4 {
        w.tags(|_, _| None)?;
    }
    Ok(())
}

fn describe_configs_synonym(w: &mut Walk<'_>, v: i16) -> Step {
    w.string(v >= 4)?;
    w.string(v >= 4)?;
    w.i8()?;
    if v >= 4 {
        w.tags(|_, _| None)?;
    }
    Ok(())
}

pub(super) fn incremental_alter_configs_response(w: &mut Walk<'_>, v: i16) -> Step {
    w.i32()?;
    w.array(v >= 1, |w| alter_configs_resource_response(w, v))?;
    if v >= 1 {
        w.tags(|_, _| None)?;
    }
    Ok(())
}

fn alter_configs_resource_response(w: &mut Walk<'_>, v: i16) -> Step {
    w.i16()?;
    w.string(v >= 1)?;
    w.i8()?;
    w.string(v >= 1)?;
    if v >= 1 {
        w.tags(|_, _| None)?;
    }
    Ok(())
}

pub(super) fn sasl_handshake_response(w: &mut Walk<'_>, _v: i16) -> Step {
    w.i16()?;
    w.array(false, |w| w.string(false))?;
    Ok(())
}

pub(super) fn sasl_authenticate_response(w: &mut Walk<'_>, v: i16) -> Step {
    w.i16()?;
    w.string(v >= 2)?;
    w.bytes(v >= 2)?;
    if v >= 1 {
        w.i64()?;
    }
    if v >= 2 {
        w.tags(|_, _| None)?;
    }
    Ok(())
}
