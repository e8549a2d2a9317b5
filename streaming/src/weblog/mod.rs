//! Apache access-log parsing ([`parse_log_line`]) and the tutorial's web-log
//! jobs ([`WeblogJob`]).

mod job;
mod parse;

pub use job::{WeblogJob, endpoints_count, methods_count, parse_lines, rejected_count, top_n};
pub use parse::{LogField, LogLine, LogRecord, WeblogError, parse_log_bytes, parse_log_line};
