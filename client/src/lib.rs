//! kt-client (docs in progress)

pub mod admin;
mod client;
pub(crate) mod cluster;
pub mod compression;
pub mod config;
pub(crate) mod connection;
pub mod consumer;
pub mod error;
pub mod partitioner;
pub mod producer;
pub mod records;
#[cfg(test)]
pub(crate) mod testing;
pub mod types;

pub use admin::Admin;
pub use client::Client;
pub use config::{
    Acks, AssignmentStrategy, ClientConfig, Compression, ConsumerConfig, OffsetReset,
    ProducerConfig,
};
pub use consumer::Consumer;
pub use error::{Error, KafkaCode};
pub use producer::{DeliveryFuture, Producer};
pub use types::{
    ConsumerRecord, NewTopic, OffsetRange, OffsetSpec, PartitionDescription, ProducerRecord,
    RecordMetadata, TopicDescription, TopicPartition,
};
