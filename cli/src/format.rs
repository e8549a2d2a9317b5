//! `kt consume --format` templates: `%k %v %p %o %t %T %%`, `\n`, `\t`, `\\`.
//!
//! The template is parsed once into parts, so printing a record is a walk over a short list.

use std::io::{self, Write};

/// One piece of a parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(Vec<u8>),
    Key,
    Value,
    Partition,
    Offset,
    Timestamp,
    Topic,
}

/// A parsed `--format` template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Template {
    parts: Vec<Part>,
}

/// The fields of a record a template can print.
#[derive(Debug)]
pub(crate) struct Fields<'a> {
    pub(crate) topic: &'a str,
    pub(crate) partition: i32,
    pub(crate) offset: i64,
    pub(crate) timestamp: i64,
    pub(crate) key: Option<&'a [u8]>,
    pub(crate) value: Option<&'a [u8]>,
}

impl Template {
    /// Parses a template; an unknown `%x` is an error naming it.
    pub(crate) fn parse(template: &str) -> Result<Template, String> {
        let mut parts = Vec::new();
        let mut literal = Vec::new();
        let mut chars = template.chars();
        while let Some(c) = chars.next() {
            let field = match c {
                '%' => match chars.next() {
                    Some('k') => Part::Key,
                    Some('v') | Some('s') => Part::Value,
                    Some('p') => Part::Partition,
                    Some('o') => Part::Offset,
                    Some('t') => Part::Timestamp,
                    Some('T') => Part::Topic,
                    Some('%') => {
                        literal.push(b'%');
                        continue;
                    }
                    Some(other) => {
                        return Err(format!(
                            "unknown format field %{other} (known: %k %v %p %o %t %T %%)"
                        ));
                    }
                    None => return Err("format ends with a lone %".to_string()),
                },
                '\\' => {
                    match chars.next() {
                        Some('n') => literal.push(b'\n'),
                        Some('t') => literal.push(b'\t'),
                        Some('\\') => literal.push(b'\\'),
                        Some(other) => {
                            literal.push(b'\\');
                            let mut buf = [0; 4];
                            literal.extend_from_slice(other.encode_utf8(&mut buf).as_bytes());
                        }
                        None => literal.push(b'\\'),
                    }
                    continue;
                }
                other => {
                    let mut buf = [0; 4];
                    literal.extend_from_slice(other.encode_utf8(&mut buf).as_bytes());
                    continue;
                }
            };
            if !literal.is_empty() {
                parts.push(Part::Literal(std::mem::take(&mut literal)));
            }
            parts.push(field);
        }
        if !literal.is_empty() {
            parts.push(Part::Literal(literal));
        }
        Ok(Template { parts })
    }

    /// Writes one record followed by a newline. Keys and values are written as raw bytes;
    /// a null prints as `null`, as kafka-console-consumer does.
    pub(crate) fn write(&self, out: &mut impl Write, f: &Fields<'_>) -> io::Result<()> {
        for part in &self.parts {
            match part {
                Part::Literal(bytes) => out.write_all(bytes)?,
                Part::Key => out.write_all(f.key.unwrap_or(b"null"))?,
                Part::Value => out.write_all(f.value.unwrap_or(b"null"))?,
                Part::Partition => write!(out, "{}", f.partition)?,
                Part::Offset => write!(out, "{}", f.offset)?,
                Part::Timestamp => write!(out, "{}", f.timestamp)?,
                Part::Topic => out.write_all(f.topic.as_bytes())?,
            }
        }
        out.write_all(b"\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(template: &str, key: Option<&[u8]>) -> String {
        let t = Template::parse(template).unwrap();
        let mut out = Vec::new();
        t.write(
            &mut out,
            &Fields {
                topic: "mytopic",
                partition: 2,
                offset: 41,
                timestamp: 1_700_000_000_000,
                key,
                value: Some(b"message1"),
            },
        )
        .unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn fields_and_escapes() {
        assert_eq!(render("%k %v %p %o", Some(b"key1")), "key1 message1 2 41\n");
        assert_eq!(render("%T\\t%t %%", None), "mytopic\t1700000000000 %\n");
        assert_eq!(render("%k=%v", None), "null=message1\n");
        assert_eq!(render("é %v", None), "é message1\n");
    }

    #[test]
    fn unknown_field_is_an_error() {
        let err = Template::parse("%q").unwrap_err();
        assert!(err.contains("%q"), "{err}");
        assert!(Template::parse("abc %").is_err());
    }
}
