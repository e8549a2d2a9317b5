//! kt-streaming (WIP)
pub mod repr;
pub use repr::PyRepr;
