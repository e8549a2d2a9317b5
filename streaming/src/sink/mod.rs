//! Batch sinks: where output operations write.

pub(crate) mod text;

pub use text::{batch_dir, write_batch_dir};
