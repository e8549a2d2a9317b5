//! Support code for kt's fuzz targets (`fuzz_targets/`): a Python-literal decoder for the
//! `PyRepr` round trip, and the value type that target generates.
//!
//! # Layout
//! - `broker.rs`: the broker request targets' driver and response oracles.
//! - `pylit.rs`: [`pylit::decode`], Python literals as kt's writer produces them, cross-checked
//!   with CPython in its tests.
//! - `pyvalue.rs`: [`pyvalue::Value`], an arbitrary nesting of the Rust types kt prints in
//!   Python form, and the Python value each must print as.
//!
//! # References
//! - Python language reference, lexical analysis (string and numeric literals) and displays:
//!   <https://docs.python.org/3/reference/lexical_analysis.html>.
//! - libFuzzer options (`-rss_limit_mb`, `-malloc_limit_mb`, `-max_total_time`):
//!   <https://llvm.org/docs/LibFuzzer.html>.

pub mod broker;
pub mod pylit;
pub mod pyvalue;
