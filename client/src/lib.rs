//! kt-client (work in progress)
pub mod compression;
pub mod config;
pub(crate) mod connection;
pub mod error;
pub mod partitioner;
pub mod records;
pub mod types;
#[cfg(test)]
pub(crate) mod testing;
