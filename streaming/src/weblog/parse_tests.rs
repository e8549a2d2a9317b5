use super::*;
use proptest::prelude::*;

const NASA: &str =
    r#"199.72.81.55 - - [01/Jul/1995:00:00:01 -0400] "GET /history/apollo/ HTTP/1.0" 200 6245"#;
const COMBINED: &str = r#"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326 "http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)""#;

#[test]
fn common_log_format() {
    let l = parse_log_line(NASA).unwrap();
    assert_eq!(
        l,
        LogLine {
            host: "199.72.81.55",
            ident: "-",
            user: "-",
            timestamp: "01/Jul/1995:00:00:01 -0400",
            method: "GET",
            endpoint: "/history/apollo/",
            protocol: Some("HTTP/1.0"),
            status: 200,
            size: Some(6245),
        }
    );
}

#[test]
fn combined_log_format_ignores_referer_and_agent() {
    let l = parse_log_line(COMBINED).unwrap();
    assert_eq!(
        (l.host, l.user, l.method, l.endpoint),
        ("127.0.0.1", "frank", "GET", "/apache_pb.gif")
    );
    assert_eq!(
        (l.status, l.size, l.protocol),
        (200, Some(2326), Some("HTTP/1.0"))
    );
}

#[test]
fn lenient_where_real_logs_are() {
    // size '-' (304 Not Modified has no body)
    let l = parse_log_line(
        r#"in24.inetnebr.com - - [01/Jul/1995:00:00:12 -0400] "GET /images/x.gif HTTP/1.0" 304 -"#,
    )
    .unwrap();
    assert_eq!((l.status, l.size), (304, None));
    // no protocol (HTTP/0.9 style)
    let l = parse_log_line(r#"10.0.0.1 - - [01/Jul/1995:00:00:12 +0000] "GET /" 200 12"#).unwrap();
    assert_eq!((l.endpoint, l.protocol), ("/", None));
    // trailing CR, LF and spaces
    for line in [
        format!("{NASA} \r\n"),
        format!("{NASA}\r"),
        format!("{NASA}\t "),
    ] {
        assert_eq!(parse_log_line(&line).unwrap().size, Some(6245));
    }
    // escaped quote inside the request line
    let l =
        parse_log_line(r#"h - - [01/Jul/1995:00:00:12 -0400] "GET /a\"b HTTP/1.1" 404 0"#).unwrap();
    assert_eq!(l.endpoint, r#"/a\"b"#);
    // Unicode word characters in the timestamp, other methods
    let l = parse_log_line(r#"h - - [01/Jül/1995:00:00:12 -0400] "PROPFIND /dav HTTP/1.1" 207 10"#)
        .unwrap();
    assert_eq!(
        (l.timestamp, l.method),
        ("01/Jül/1995:00:00:12 -0400", "PROPFIND")
    );
}

#[test]
fn non_utf8_bytes_become_replacement_characters() {
    let mut line = br#"h - - [01/Jul/1995:00:00:12 -0400] "GET /caf"#.to_vec();
    line.push(0xe9);
    line.extend_from_slice(br#" HTTP/1.0" 200 1"#);
    let r = parse_log_bytes(&line).unwrap();
    assert_eq!(r.endpoint, "/caf\u{fffd}");
    assert_eq!(r.status, 200);
}

fn err(line: &str) -> WeblogError {
    parse_log_line(line).unwrap_err()
}

#[test]
fn rejects_malformed_lines_with_a_reason() {
    assert_eq!(err(""), WeblogError::Empty);
    assert_eq!(err(" \r\n"), WeblogError::Empty);
    // 408 lines have "-" as the request
    assert!(matches!(
        err(r#"1.2.3.4 - - [01/Jul/1995:00:00:12 -0400] "-" 408 -"#),
        WeblogError::BadRequest {
            reason: "has no method and endpoint",
            ..
        }
    ));
    // TLS handshake sent to a plain-HTTP port, as Apache logs it
    assert!(matches!(
        err(
            r#"1.2.3.4 - - [01/Jul/1995:00:00:12 -0400] "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" 400 226"#
        ),
        WeblogError::BadRequest { .. }
    ));
    assert!(matches!(
        err(r#"1.2.3.4 - - [01/Jul/1995:00:00:12 -0400] "GET /a b HTTP/1.1" 400 226"#),
        WeblogError::BadRequest {
            reason: "has more than three space-separated parts",
            ..
        }
    ));
    assert!(matches!(
        err(r#"1.2.3.4 - - [01/Jul/1995:00:00:12 -0400] "GET" 400 0"#),
        WeblogError::BadRequest {
            reason: "has no endpoint",
            ..
        }
    ));
    // missing brackets
    assert_eq!(
        err(r#"1.2.3.4 - - 01/Jul/1995:00:00:12 -0400 "GET / HTTP/1.0" 200 1"#),
        WeblogError::Expected {
            field: LogField::Timestamp,
            expected: "[dd/Mon/yyyy:hh:mm:ss +zzzz]",
            column: 13
        }
    );
    assert!(matches!(
        err(r#"1.2.3.4 - - [01/Jul/1995:00:00:12 -0400 "GET / HTTP/1.0" 200 1"#),
        WeblogError::Expected {
            field: LogField::Timestamp,
            ..
        }
    ));
    assert!(matches!(
        err(r#"1.2.3.4 - - [01/Jul/1995:00:00:12] "GET / HTTP/1.0" 200 1"#),
        WeblogError::Expected {
            field: LogField::Timestamp,
            ..
        }
    ));
    assert!(matches!(
        err(r#"1.2.3.4 - - [01/Jul/1995:00:00:12 -0400] "GET / HTTP/1.0 200 1"#),
        WeblogError::UnterminatedRequest { column: 42 }
    ));
    assert!(matches!(
        err(r#"1.2.3.4 - - [01/Jul/1995:00:00:12 -0400] "GET / HTTP/1.0" 20 1"#),
        WeblogError::Expected {
            field: LogField::Status,
            ..
        }
    ));
    assert!(matches!(
        err(r#"1.2.3.4 - - [01/Jul/1995:00:00:12 -0400] "GET / HTTP/1.0" 2000 1"#),
        WeblogError::Expected {
            field: LogField::Status,
            ..
        }
    ));
    assert!(matches!(
        err(r#"1.2.3.4 - - [01/Jul/1995:00:00:12 -0400] "GET / HTTP/1.0" 200"#),
        WeblogError::Expected {
            field: LogField::Size,
            ..
        }
    ));
    assert!(matches!(
        err(r#"1.2.3.4 - - [01/Jul/1995:00:00:12 -0400] "GET / HTTP/1.0" 200 12abc"#),
        WeblogError::TrailingGarbage { column: 65 }
    ));
    assert!(matches!(
        err(
            r#"1.2.3.4 - - [01/Jul/1995:00:00:12 -0400] "GET / HTTP/1.0" 200 99999999999999999999999"#
        ),
        WeblogError::SizeOverflow { .. }
    ));
    assert!(matches!(
        err("just some words"),
        WeblogError::Expected {
            field: LogField::Timestamp,
            ..
        }
    ));
    assert!(matches!(
        err("host"),
        WeblogError::Expected {
            field: LogField::Ident,
            ..
        }
    ));
    assert!(matches!(
        err("a  b c"),
        WeblogError::Expected {
            field: LogField::Ident,
            ..
        }
    ));
    // Errors render as one readable line.
    assert_eq!(
        err(r#"1.2.3.4 - - [01/Jul/1995:00:00:12 -0400] "-" 408 -"#).to_string(),
        "request line \"-\" has no method and endpoint"
    );
}

#[derive(Debug, Clone)]
struct Fields {
    host: String,
    ident: String,
    user: String,
    timestamp: String,
    method: String,
    endpoint: String,
    protocol: Option<String>,
    status: u16,
    size: Option<u64>,
    tail: String,
}

fn fields() -> impl Strategy<Value = Fields> {
    let token = "[!#-~]{1,16}"; // printable ASCII without space and '"'
    (
        (
            token,
            prop_oneof!["-".prop_map(String::from), token.prop_map(String::from)],
            token,
        ),
        "[0-3][0-9]/[A-Z][a-z]{2}/[0-9]{4}:[0-2][0-9]:[0-5][0-9]:[0-5][0-9] [+-][0-9]{4}",
        (
            "[A-Z]{1,9}",
            "/[!#-\\[\\]-~]{0,30}",
            proptest::option::of("HTTP/[0-9]\\.[0-9]"),
        ),
        (100u16..1000, proptest::option::of(any::<u64>())),
        prop_oneof![
            Just(String::new()),
            " \"[^\"]{0,20}\" \"[^\"]{0,30}\"",
            "[ \t]{1,3}\r?",
        ],
    )
        .prop_map(
            |(
                (host, ident, user),
                timestamp,
                (method, endpoint, protocol),
                (status, size),
                tail,
            )| Fields {
                host,
                ident,
                user,
                timestamp,
                method,
                endpoint,
                protocol,
                status,
                size,
                tail,
            },
        )
}

proptest! {
    #[test]
    fn never_panics_on_arbitrary_text(line in any::<String>()) {
        let _ = parse_log_line(&line);
    }

    #[test]
    fn never_panics_on_arbitrary_bytes(line in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = parse_log_bytes(&line);
    }

    #[test]
    fn never_panics_on_near_misses(f in fields(), cut in 0usize..200, junk in "[ \"\\[\\]\\\\-]") {
        // Valid lines truncated or with one character replaced by a delimiter.
        let line = render(&f);
        let mut chars: Vec<char> = line.chars().collect();
        let at = cut % (chars.len() + 1);
        let _ = parse_log_line(&chars[..at].iter().collect::<String>());
        if at < chars.len() {
            chars[at] = junk.chars().next().unwrap_or(' ');
            let _ = parse_log_line(&chars.iter().collect::<String>());
        }
    }

    #[test]
    fn valid_fields_parse_back(f in fields()) {
        let line = render(&f);
        let l = parse_log_line(&line).map_err(|e| TestCaseError::fail(format!("{line}: {e}")))?;
        prop_assert_eq!(l.host, f.host.as_str());
        prop_assert_eq!(l.ident, f.ident.as_str());
        prop_assert_eq!(l.user, f.user.as_str());
        prop_assert_eq!(l.timestamp, f.timestamp.as_str());
        prop_assert_eq!(l.method, f.method.as_str());
        prop_assert_eq!(l.endpoint, f.endpoint.as_str());
        prop_assert_eq!(l.protocol, f.protocol.as_deref());
        prop_assert_eq!(l.status, f.status);
        prop_assert_eq!(l.size, f.size);
    }
}

fn render(f: &Fields) -> String {
    let request = match &f.protocol {
        Some(p) => format!("{} {} {}", f.method, f.endpoint, p),
        None => format!("{} {}", f.method, f.endpoint),
    };
    let size = f.size.map_or_else(|| "-".to_owned(), |s| s.to_string());
    format!(
        "{} {} {} [{}] \"{}\" {} {}{}",
        f.host, f.ident, f.user, f.timestamp, request, f.status, size, f.tail
    )
}
