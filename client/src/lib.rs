//! kt-client (work in progress)
pub mod compression;
pub mod config;
pub mod error;
pub mod partitioner;
pub mod records;
pub mod types;
