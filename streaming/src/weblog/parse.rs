//! Apache Common/Combined Log Format line parser (nom).
//!
//! The tutorial's regex is
//! `^(\S+) (\S+) (\S+) \[([\w:/]+\s[+\-]\d{4})\] "(\S+) (\S+) (\S+)" (\d{3}) (\d+)`.
//! This parser accepts what that regex accepts and is lenient where real logs
//! are: the size may be `-` (no body), the protocol may be missing
//! (`"GET /"`, HTTP/0.9 style), anything after the size (referer, user agent)
//! is ignored, and so is trailing whitespace or a CR. It is strict where the
//! regex is: single spaces between fields, a bracketed timestamp, a quoted
//! request line of a method token and an endpoint, a three-digit status.
//! Request lines Apache logs for garbage (`"-"`, TLS handshakes written as
//! `"\x16\x03..."`) are rejected with [`WeblogError::BadRequest`].

use nom::bytes::complete::{tag, take_while_m_n, take_while1};
use nom::character::complete::{char, digit1, one_of, satisfy};
use nom::combinator::recognize;
use nom::{IResult, Parser};
use thiserror::Error;

/// A field of a log line, named as Apache's `LogFormat` documentation does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogField {
    /// `%h`, the client host.
    Host,
    /// `%l`, the identd name (nearly always `-`).
    Ident,
    /// `%u`, the authenticated user (or `-`).
    User,
    /// `%t`, the bracketed time.
    Timestamp,
    /// `"%r"`, the quoted request line.
    Request,
    /// `%>s`, the final status.
    Status,
    /// `%b`, the response size in bytes (or `-`).
    Size,
}

impl std::fmt::Display for LogField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            LogField::Host => "host",
            LogField::Ident => "ident",
            LogField::User => "user",
            LogField::Timestamp => "timestamp",
            LogField::Request => "request",
            LogField::Status => "status",
            LogField::Size => "size",
        })
    }
}

/// Why a line is not a Common/Combined Log Format line. Columns are 1-based
/// byte positions in the line (after trailing whitespace is removed).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum WeblogError {
    /// The line is empty or only whitespace.
    #[error("empty line")]
    Empty,
    /// A field is missing or does not have the expected shape.
    #[error("column {column}: expected {expected} for the {field} field")]
    Expected {
        /// The field being parsed.
        field: LogField,
        /// What was expected there.
        expected: &'static str,
        /// Where parsing stopped.
        column: usize,
    },
    /// The request line has no closing quote.
    #[error("column {column}: request line has no closing quote")]
    UnterminatedRequest {
        /// Where the request line's opening quote is.
        column: usize,
    },
    /// The quoted request line is not `METHOD ENDPOINT [PROTOCOL]`.
    #[error("request line {request:?} {reason}")]
    BadRequest {
        /// The request line (at most 80 characters of it).
        request: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The size is a number too large for a u64.
    #[error("column {column}: size does not fit in 64 bits")]
    SizeOverflow {
        /// Where the size starts.
        column: usize,
    },
    /// Text follows the size without a separating space.
    #[error("column {column}: unexpected text after the size")]
    TrailingGarbage {
        /// Where the unexpected text starts.
        column: usize,
    },
}

/// One parsed line, borrowing from the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogLine<'a> {
    /// Client host or address (`%h`).
    pub host: &'a str,
    /// identd name (`%l`), usually `-`.
    pub ident: &'a str,
    /// Authenticated user (`%u`), `-` when none.
    pub user: &'a str,
    /// Time inside the brackets, e.g. `10/Oct/2000:13:55:36 -0700`; kept as
    /// text because the jobs group by method and endpoint, not by time.
    pub timestamp: &'a str,
    /// HTTP method, e.g. `GET`.
    pub method: &'a str,
    /// Request target, e.g. `/index.html?q=1`.
    pub endpoint: &'a str,
    /// Protocol, e.g. `HTTP/1.1`; `None` for a request line without one.
    pub protocol: Option<&'a str>,
    /// Final HTTP status.
    pub status: u16,
    /// Response body size; `None` when logged as `-`.
    pub size: Option<u64>,
}

/// One parsed line, owning its fields (for DStream elements, which are `'static`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LogRecord {
    /// See [`LogLine::host`].
    pub host: String,
    /// See [`LogLine::ident`].
    pub ident: String,
    /// See [`LogLine::user`].
    pub user: String,
    /// See [`LogLine::timestamp`].
    pub timestamp: String,
    /// See [`LogLine::method`].
    pub method: String,
    /// See [`LogLine::endpoint`].
    pub endpoint: String,
    /// See [`LogLine::protocol`].
    pub protocol: Option<String>,
    /// See [`LogLine::status`].
    pub status: u16,
    /// See [`LogLine::size`].
    pub size: Option<u64>,
}

impl LogLine<'_> {
    /// Copies the fields into an owned [`LogRecord`].
    pub fn to_record(&self) -> LogRecord {
        LogRecord {
            host: self.host.to_owned(),
            ident: self.ident.to_owned(),
            user: self.user.to_owned(),
            timestamp: self.timestamp.to_owned(),
            method: self.method.to_owned(),
            endpoint: self.endpoint.to_owned(),
            protocol: self.protocol.map(str::to_owned),
            status: self.status,
            size: self.size,
        }
    }
}

type Res<'a, T> = IResult<&'a str, T>;

fn non_space(input: &str) -> Res<'_, &str> {
    take_while1(|c: char| !c.is_whitespace())(input)
}

/// `[\w:/]+\s[+\-]\d{4}` as the tutorial's regex (with `\w` as Unicode word characters).
fn timestamp(input: &str) -> Res<'_, &str> {
    recognize((
        take_while1(|c: char| c.is_alphanumeric() || c == '_' || c == ':' || c == '/'),
        satisfy(char::is_whitespace),
        one_of("+-"),
        take_while_m_n(4, 4, |c: char| c.is_ascii_digit()),
    ))
    .parse(input)
}

/// The text between the quotes of the request field; `\"` and `\\` (Apache's
/// escapes) do not end it. Returns `None` when no closing quote exists.
fn quoted(input: &str) -> Option<(&str, &str)> {
    let mut escaped = false;
    for (i, c) in input.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => return Some((&input[i + 1..], &input[..i])),
            _ => {}
        }
    }
    None
}

/// An HTTP method is a `token` (RFC 9110 section 5.6.2).
fn is_tchar(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

fn bad_request(request: &str, reason: &'static str) -> WeblogError {
    WeblogError::BadRequest {
        request: request.chars().take(80).collect(),
        reason,
    }
}

fn split_request(request: &str) -> Result<(&str, &str, Option<&str>), WeblogError> {
    if request.is_empty() || request == "-" {
        return Err(bad_request(request, "has no method and endpoint"));
    }
    let mut parts = request.split(' ');
    let (Some(method), Some(endpoint)) = (parts.next(), parts.next()) else {
        return Err(bad_request(request, "has no endpoint"));
    };
    let protocol = parts.next();
    if parts.next().is_some() {
        return Err(bad_request(
            request,
            "has more than three space-separated parts",
        ));
    }
    if method.is_empty() || !method.chars().all(is_tchar) {
        return Err(bad_request(
            request,
            "does not start with an HTTP method token",
        ));
    }
    let bad_part = |p: &str| p.is_empty() || p.chars().any(char::is_whitespace);
    if bad_part(endpoint) || protocol.is_some_and(bad_part) {
        return Err(bad_request(
            request,
            "has an empty part or whitespace inside a part",
        ));
    }
    Ok((method, endpoint, protocol))
}

/// Parses one Common or Combined Log Format line.
///
/// ```
/// use kt_streaming::weblog::parse_log_line;
/// let line = r#"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326 "http://example.com/" "Mozilla/4.08""#;
/// let entry = parse_log_line(line)?;
/// assert_eq!((entry.method, entry.endpoint, entry.status, entry.size), ("GET", "/apache_pb.gif", 200, Some(2326)));
/// # Ok::<(), kt_streaming::weblog::WeblogError>(())
/// ```
pub fn parse_log_line(line: &str) -> Result<LogLine<'_>, WeblogError> {
    let line = line.trim_end();
    if line.trim_start().is_empty() {
        return Err(WeblogError::Empty);
    }
    let column = |rest: &str| line.len() - rest.len() + 1;
    let expected = |field, expected, rest: &str| WeblogError::Expected {
        field,
        expected,
        column: column(rest),
    };
    let space = |rest, field| {
        char::<_, nom::error::Error<&str>>(' ')(rest)
            .map(|(rest, _)| rest)
            .map_err(|_| expected(field, "a single space before it", rest))
    };

    let (rest, host) =
        non_space(line).map_err(|_| expected(LogField::Host, "a non-blank host", line))?;
    let rest = space(rest, LogField::Ident)?;
    let (rest, ident) =
        non_space(rest).map_err(|_| expected(LogField::Ident, "a non-blank ident", rest))?;
    let rest = space(rest, LogField::User)?;
    let (rest, user) =
        non_space(rest).map_err(|_| expected(LogField::User, "a non-blank user", rest))?;
    let rest = space(rest, LogField::Timestamp)?;

    let ts_err = |rest| expected(LogField::Timestamp, "[dd/Mon/yyyy:hh:mm:ss +zzzz]", rest);
    let (rest, _) = char::<_, nom::error::Error<&str>>('[')(rest).map_err(|_| ts_err(rest))?;
    let (after, ts) = timestamp(rest).map_err(|_| ts_err(rest))?;
    let (rest, _) = char::<_, nom::error::Error<&str>>(']')(after).map_err(|_| ts_err(after))?;
    let rest = space(rest, LogField::Request)?;

    let request_column = column(rest);
    let (rest, _) = char::<_, nom::error::Error<&str>>('"')(rest)
        .map_err(|_| expected(LogField::Request, "a quoted request line", rest))?;
    let (rest, request) = quoted(rest).ok_or(WeblogError::UnterminatedRequest {
        column: request_column,
    })?;
    let (method, endpoint, protocol) = split_request(request)?;
    let rest = space(rest, LogField::Status)?;

    let status_err = |rest| expected(LogField::Status, "a three-digit status", rest);
    let (after, digits) =
        take_while_m_n::<_, _, nom::error::Error<&str>>(3, 3, |c: char| c.is_ascii_digit())(rest)
            .map_err(|_| status_err(rest))?;
    if after.starts_with(|c: char| c.is_ascii_digit()) {
        return Err(status_err(rest));
    }
    let status: u16 = digits.parse().map_err(|_| status_err(rest))?;
    let rest = space(after, LogField::Size)?;

    let size_column = column(rest);
    let (rest, size_text) = tag::<_, _, nom::error::Error<&str>>("-")
        .or(digit1)
        .parse(rest)
        .map_err(|_| expected(LogField::Size, "a byte count or '-'", rest))?;
    let size = if size_text == "-" {
        None
    } else {
        Some(
            size_text
                .parse::<u64>()
                .map_err(|_| WeblogError::SizeOverflow {
                    column: size_column,
                })?,
        )
    };
    // Whatever follows (referer, user agent, custom fields) is ignored, but it
    // must be separated from the size: `200 12abc` is not a size of 12.
    if rest.chars().next().is_some_and(|c| !c.is_whitespace()) {
        return Err(WeblogError::TrailingGarbage {
            column: column(rest),
        });
    }
    Ok(LogLine {
        host,
        ident,
        user,
        timestamp: ts,
        method,
        endpoint,
        protocol,
        status,
        size,
    })
}

/// Parses a line given as raw bytes; bytes that are not UTF-8 become U+FFFD first.
pub fn parse_log_bytes(line: &[u8]) -> Result<LogRecord, WeblogError> {
    let text = String::from_utf8_lossy(line);
    parse_log_line(&text).map(|l| l.to_record())
}

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;
