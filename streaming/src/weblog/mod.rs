//! Apache access-log parsing and the tutorial's web-log jobs.

mod parse;

pub use parse::{LogField, LogLine, LogRecord, WeblogError, parse_log_bytes, parse_log_line};
