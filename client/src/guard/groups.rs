//! Response shapes: group coordination, offsets and group administration.
//!
//! One function per response struct, in field order, with the version ranges in which each
//! field exists: transcribed from the `kafka-protocol` 0.18 decoders (the Kafka message JSON
//! schemas). `super::tests` cross-checks every function against that crate's encoders.

use super::{Step, Walk};

pub(super) fn find_coordinator_response(w: &mut Walk<'_>, v: i16) -> Step {
    if v >= 1 {
        w.i32()?;
    }
    if v <= 3 {
        w.i16()?;
    }
    if (1..=3).contains(&v) {
        w.string(v >= 3)?;
    }
    if v <= 3 {
        w.i32()?;
    }
    if v <= 3 {
        w.string(v >= 3)?;
    }
    if v <= 3 {
        w.i32()?;
    }
    if v >= 4 {
        w.array(true, |w| coordinator(w, v))?;
    }
    if v >= 3 {
        w.tags(|_, _| None)?;
    }
    Ok(())
}

fn coordinator(w: &mut Walk<'_>, v: i16) -> Step {
    if v >= 4 {
        w.string(true)?;
    }
    if v >= 4 {
        w.i32()?;
    }
    if v >= 4 {
        w.string(true)?;
    }
    if v >= 4 {
        w.i32()?;
    }
    if v >= 4 {
        w.i16()?;
    }
    if v >= 4 {
        w.string(true)?;
    }
    if v >= 3 {
        w.tags(|_, _| None)?;
    }
    Ok(())
}

pub(super) fn join_group_response(w: &mut Walk<'_>, v: i16) -> Step {
    if v >= 2 {
        w.i32()?;
    }
    w.i16()?;
    w.i32()?;
    if v >= 7 {
        w.string(true)?;
    }
    w.string(v >= 6)?;
    w.string(v >= 6)?;
    if v >= 9 {
        w.i8()?;
    }
    w.string(v >= 6)?;
    w.array(v >= 6, |w| join_group_response_member(w, v))?;
    if v >= 6 {
        w.tags(|_, _| None)?;
    }
    Ok(())
}

fn join_group_response_member(w: &mut Walk<'_>, v: i16) -> Step {
    w.string(v >= 6)?;
    if v >= 5 {
        w.string(v >= 6)?;
    }
    w.bytes(v >= 6)?;
    if v >= 6 {
        w.tags(|_, _| None)?;
    }
    Ok(())
}

pub(super) fn sync_group_response(w: &mut Walk<'_>, v: i16) -> Step {
    if v >= 1 {
        w.i32()?;
    }
    w.i16()?;
    if v >= 5 {
        w.string(true)?;
    }
    if v >= 5 {
        w.string(true)?;
    }
    w.bytes(v >= 4)?;
    if v >= 4 {
        w.tags(|_, _| None)?;
    }
    Ok(())
}

pub(super) fn heartbeat_response(w: &mut Walk<'_>, v: i16) -> Step {
    if v >= 1 {
        w.i32()?;
    }
    w.i16()?;
    if v >= 4 {
        w.tags(|_, _| None)?;
    }
    Ok(())
}

pub(super) fn leave_group_response(w: &mut Walk<'_>, v: i16) -> Step {
    if v >= 1 {
        w.i32()?;
    }
    w.i16()?;
    if v >= 3 {
        w.array(v >= 4, |w| member_response(w, v))?;
    }
    if v >= 4 {
        w.tags(|_, _| None)?;
    }
    Ok(())
}

fn member_response(w: &mut Walk<'_>, v: i16) -> Step {
    if v >= 3 {
        w.string(v >= 4)?;
    }
    if v >= 3 {
        w.string(v >= 4)?;
    }
    if v >= 3 {
        w.i16()?;
    }
    if v >= 4 {
        w.tags(|_, _| None)?;
    }
    Ok(())
}

pub(super) fn offset_commit_response(w: &mut Walk<'_>, v: i16) -> Step {
    if v >= 3 {
        w.i32()?;
    }
    w.array(v >= 8, |w| offset_commit_response_topic(w, v))?;
    if v >= 8 {
        w.tags(|_, _| None)?;
    }
    Ok(())
}

fn offset_commit_response_topic(w: &mut Walk<'_>, v: i16) -> Step {
    if v <= 9 {
        w.string(v >= 8)?;
    }
    if v >= 10 {
        w.uuid()?;
    }
    w.array(v >= 8, |w| offset_commit_response_partition(w, v))?;
    if v >= 8 {
        w.tags(|_, _| None)?;
    }
    Ok(())
}

fn offset_commit_response_partition(w: &mut Walk<'_>, v: i16) -> Step {
    w.i32()?;
    w.i16()?;
    if v >= 8 {
        w.tags(|_, _| None)?;
    }
    Ok(())
}

pub(super) fn offset_fetch_response(w: &mut Walk<'_>, v: i16) -> Step {
    if v >= 3 {
        w.i32()?;
    }
    if v <= 7 {
        w.array(v >= 6, |w| offset_fetch_response_topic(w, v))?;
    }
    if (2..=7).contains(&v) {
        w.i16()?;
    }
    if v >= 8 {
        w.array(true, |w| offset_fetch_response_group(w, v))?;
    }
    if v >= 6 {
        w.tags(|_, _| None)?;
    }
    Ok(())
}

fn offset_fetch_response_topic(w: &mut Walk<'_>, v: i16) -> Step {
    if v <= 7 {
        w.string(v >= 6)?;
    }
    if v <= 7 {
        w.array(v >= 6, |w| offset_fetch_response_partition(w, v))?;
    }
    if v >= 6 {
        w.tags(|_, _| None)?;
    }
    Ok(())
}

fn offset_fetch_response_group(w: &mut Walk<'_>, v: i16) -> Step {
    if v >= 8 {
        w.string(true)?;
    }
    if v >= 8 {
        w.array(true, |w| offset_fetch_response_topics(w, v))?;
    }
    if v >= 8 {
        w.i16()?;
    }
    if v >= 6 {
        w.tags(|_, _| None)?;
    }
    Ok(())
}

fn offset_fetch_response_partition(w: &mut Walk<'_>, v: i16) -> Step {
    if v <= 7 {
        w.i32()?;
    }
    if v <= 7 {
        w.i64()?;
    }
    if (5..=7).contains(&v) {
        w.i32()?;
    }
    if v <= 7 {
        w.string(v >= 6)?;
    }
    if v <= 7 {
        w.i16()?;
    }
    if v >= 6 {
        w.tags(|_, _| None)?;
    }
    Ok(())
}

fn offset_fetch_response_topics(w: &mut Walk<'_>, v: i16) -> Step {
    if (8..=9).contains(&v) {
        w.string(true)?;
    }
    if v >= 10 {
        w.uuid()?;
    }
    if v >= 8 {
        w.array(true, |w| offset_fetch_response_partitions(w, v))?;
    }
    if v >= 6 {
        w.tags(|_, _| None)?;
    }
    Ok(())
}

fn offset_fetch_response_partitions(w: &mut Walk<'_>, v: i16) -> Step {
    if v >= 8 {
        w.i32()?;
    }
    if v >= 8 {
        w.i64()?;
    }
    if v >= 8 {
        w.i32()?;
    }
    if v >= 8 {
        w.string(true)?;
    }
    if v >= 8 {
        w.i16()?;
    }
    if v >= 6 {
        w.tags(|_, _| None)?;
    }
    Ok(())
}

pub(super) fn list_groups_response(w: &mut Walk<'_>, v: i16) -> Step {
    if v >= 1 {
        w.i32()?;
    }
    w.i16()?;
    w.array(v >= 3, |w| listed_group(w, v))?;
    if v >= 3 {
        w.tags(|_, _| None)?;
    }
    Ok(())
}

fn listed_group(w: &mut Walk<'_>, v: i16) -> Step {
    w.string(v >= 3)?;
    w.string(v >= 3)?;
    if v >= 4 {
        w.string(true)?;
    }
    if v >= 5 {
        w.string(true)?;
    }
    if v >= 3 {
        w.tags(|_, _| None)?;
    }
    Ok(())
}

pub(super) fn describe_groups_response(w: &mut Walk<'_>, v: i16) -> Step {
    if v >= 1 {
        w.i32()?;
    }
    w.array(v >= 5, |w| described_group(w, v))?;
    if v >= 5 {
        w.tags(|_, _| None)?;
    }
    Ok(())
}

fn described_group(w: &mut Walk<'_>, v: i16) -> Step {
    w.i16()?;
    if v >= 6 {
        w.string(true)?;
    }
    w.string(v >= 5)?;
    w.string(v >= 5)?;
    w.string(v >= 5)?;
    w.string(v >= 5)?;
    w.array(v >= 5, |w| described_group_member(w, v))?;
    if v >= 3 {
        w.i32()?;
    }
    if v >= 5 {
        w.tags(|_, _| None)?;
    }
    Ok(())
}

fn described_group_member(w: &mut Walk<'_>, v: i16) -> Step {
    w.string(v >= 5)?;
    if v >= 4 {
        w.string(v >= 5)?;
    }
    w.string(v >= 5)?;
    w.string(v >= 5)?;
    w.bytes(v >= 5)?;
    w.bytes(v >= 5)?;
    if v >= 5 {
        w.tags(|_, _| None)?;
    }
    Ok(())
}

pub(super) fn delete_groups_response(w: &mut Walk<'_>, v: i16) -> Step {
    w.i32()?;
    w.array(v >= 2, |w| deletable_group_result(w, v))?;
    if v >= 2 {
        w.tags(|_, _| None)?;
    }
    Ok(())
}

fn deletable_group_result(w: &mut Walk<'_>, v: i16) -> Step {
    w.string(v >= 2)?;
    w.i16()?;
    if v >= 2 {
        w.tags(|_, _| None)?;
    }
    Ok(())
}
