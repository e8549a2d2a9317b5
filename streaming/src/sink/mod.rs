//! Batch sinks: where output operations write.

pub(crate) mod text;

pub use text::{
    batch_dir, discard_staged, publish_staged, stage_batch_dir, staged_dir, write_batch_dir,
};
