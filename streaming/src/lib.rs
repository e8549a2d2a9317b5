//! kt-streaming (WIP)
pub mod repr;
pub mod weblog;
pub use repr::PyRepr;
