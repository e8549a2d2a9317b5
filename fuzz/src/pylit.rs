//! A decoder for the Python literals kt's `PyRepr` writes: `None`, `True`, `False`, integers,
//! floats (including `inf`, `-inf`, `nan`, which Python's `repr` prints bare), strings in single
//! or double quotes with Python's escapes, tuples, lists and dicts.
//!
//! Written from the Python language reference (lexical analysis: string and bytes literals,
//! numeric literals; displays for lists and dicts), independent of kt's writer, so the round
//! trip `decode(repr(x)) == x` checks the writer against the language and not against itself.
//! The tests cross-check it with CPython's `ast.literal_eval` on the machine.

use std::fmt::Write as _;

/// A decoded Python value.
#[derive(Debug, Clone, PartialEq)]
pub enum Py {
    None,
    Bool(bool),
    /// An integer as sign and magnitude (kt writes integers up to 128 bits).
    Int {
        negative: bool,
        magnitude: u128,
    },
    Float(f64),
    Str(String),
    Tuple(Vec<Py>),
    List(Vec<Py>),
    Dict(Vec<(Py, Py)>),
}

impl Py {
    /// Equality with floats compared by bits, except that every NaN equals every NaN (Python
    /// prints them all as `nan`) and `-0` is not `0` (Python prints `-0.0`).
    pub fn same(&self, other: &Py) -> bool {
        match (self, other) {
            (Py::Float(a), Py::Float(b)) => {
                (a.is_nan() && b.is_nan()) || a.to_bits() == b.to_bits()
            }
            (Py::Tuple(a), Py::Tuple(b)) | (Py::List(a), Py::List(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.same(y))
            }
            (Py::Dict(a), Py::Dict(b)) => {
                a.len() == b.len()
                    && a.iter()
                        .zip(b)
                        .all(|((k1, v1), (k2, v2))| k1.same(k2) && v1.same(v2))
            }
            _ => self == other,
        }
    }

    /// A tagged text form shared with the CPython cross-check in the tests: `N`, `B0`/`B1`,
    /// `I<decimal>`, `F<float.hex()>`, `S<utf-8 hex>`, `T[..]`, `L[..]`, `D[k:v,..]`.
    pub fn canonical(&self) -> String {
        let mut out = String::new();
        self.write_canonical(&mut out);
        out
    }

    fn write_canonical(&self, out: &mut String) {
        match self {
            Py::None => out.push('N'),
            Py::Bool(b) => out.push_str(if *b { "B1" } else { "B0" }),
            Py::Int {
                negative,
                magnitude,
            } => {
                let sign = if *negative && *magnitude != 0 {
                    "-"
                } else {
                    ""
                };
                let _ = write!(out, "I{sign}{magnitude}");
            }
            Py::Float(f) => {
                out.push('F');
                out.push_str(&float_hex(*f));
            }
            Py::Str(s) => {
                out.push('S');
                for b in s.bytes() {
                    let _ = write!(out, "{b:02x}");
                }
            }
            Py::Tuple(items) | Py::List(items) => {
                out.push(if matches!(self, Py::Tuple(_)) {
                    'T'
                } else {
                    'L'
                });
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write_canonical(out);
                }
                out.push(']');
            }
            Py::Dict(items) => {
                out.push_str("D[");
                for (i, (k, v)) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    k.write_canonical(out);
                    out.push(':');
                    v.write_canonical(out);
                }
                out.push(']');
            }
        }
    }
}

/// Python's `float.hex()`: `0x1.8000000000000p+0`, `-0x0.0p+0`, `inf`, `nan`.
pub fn float_hex(f: f64) -> String {
    if f.is_nan() {
        return "nan".to_owned();
    }
    let sign = if f.is_sign_negative() { "-" } else { "" };
    if f.is_infinite() {
        return format!("{sign}inf");
    }
    if f == 0.0 {
        return format!("{sign}0x0.0p+0");
    }
    let bits = f.to_bits();
    let exp_bits = ((bits >> 52) & 0x7ff) as i64;
    let mantissa = bits & ((1 << 52) - 1);
    let (lead, exp) = if exp_bits == 0 {
        (0, -1022)
    } else {
        (1, exp_bits - 1023)
    };
    let exp_sign = if exp >= 0 { "+" } else { "-" };
    format!("{sign}0x{lead}.{mantissa:013x}p{exp_sign}{}", exp.abs())
}

/// Why a literal could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    pub at: usize,
    pub what: &'static str,
}

/// Decodes exactly one literal (surrounding whitespace not allowed: kt writes none).
pub fn decode(text: &str) -> Result<Py, DecodeError> {
    let mut p = Parser { s: text, pos: 0 };
    let v = p.value(0)?;
    if p.pos != text.len() {
        return Err(p.err("trailing text"));
    }
    Ok(v)
}

struct Parser<'a> {
    s: &'a str,
    pos: usize,
}

/// Nesting deeper than this is refused (the fuzz target skips deeper values).
pub const MAX_DEPTH: usize = 64;

impl Parser<'_> {
    fn err(&self, what: &'static str) -> DecodeError {
        DecodeError { at: self.pos, what }
    }

    fn rest(&self) -> &str {
        &self.s[self.pos..]
    }

    fn eat(&mut self, token: &str) -> bool {
        if self.rest().starts_with(token) {
            self.pos += token.len();
            true
        } else {
            false
        }
    }

    fn value(&mut self, depth: usize) -> Result<Py, DecodeError> {
        if depth > MAX_DEPTH {
            return Err(self.err("nested too deeply"));
        }
        let rest = self.rest();
        let Some(c) = rest.chars().next() else {
            return Err(self.err("expected a value"));
        };
        match c {
            '(' => {
                self.pos += 1;
                let (items, trailing_comma) = self.items(')', depth)?;
                if items.len() == 1 && !trailing_comma {
                    // `(x)` is x in parentheses, which kt never writes for a 1-tuple.
                    return Err(self.err("one-element tuple without a comma"));
                }
                if items.len() > 1 && trailing_comma {
                    return Err(self.err("kt writes no trailing comma after 2+ elements"));
                }
                Ok(Py::Tuple(items))
            }
            '[' => {
                self.pos += 1;
                let (items, trailing_comma) = self.items(']', depth)?;
                if trailing_comma {
                    return Err(self.err("kt writes no trailing comma in a list"));
                }
                Ok(Py::List(items))
            }
            '{' => {
                self.pos += 1;
                self.dict(depth)
            }
            '\'' | '"' => self.string(),
            _ if self.eat("None") => Ok(Py::None),
            _ if self.eat("True") => Ok(Py::Bool(true)),
            _ if self.eat("False") => Ok(Py::Bool(false)),
            _ => self.number(),
        }
    }

    /// `a, b, c` up to `close`; returns the items and whether a comma preceded `close`.
    fn items(&mut self, close: char, depth: usize) -> Result<(Vec<Py>, bool), DecodeError> {
        let mut items = Vec::new();
        let mut close_buf = [0u8; 4];
        let close = &*close.encode_utf8(&mut close_buf);
        if self.eat(close) {
            return Ok((items, false));
        }
        loop {
            items.push(self.value(depth + 1)?);
            if self.eat(close) {
                return Ok((items, false));
            }
            if self.eat(",") {
                if self.eat(close) {
                    return Ok((items, true));
                }
                if !self.eat(" ") {
                    return Err(self.err("expected ', ' between elements"));
                }
                continue;
            }
            return Err(self.err("expected ',' or a closing bracket"));
        }
    }

    fn dict(&mut self, depth: usize) -> Result<Py, DecodeError> {
        let mut items = Vec::new();
        if self.eat("}") {
            return Ok(Py::Dict(items));
        }
        loop {
            let k = self.value(depth + 1)?;
            if !self.eat(": ") {
                return Err(self.err("expected ': ' after a dict key"));
            }
            let v = self.value(depth + 1)?;
            items.push((k, v));
            if self.eat("}") {
                return Ok(Py::Dict(items));
            }
            if !self.eat(", ") {
                return Err(self.err("expected ', ' or '}'"));
            }
        }
    }

    fn number(&mut self) -> Result<Py, DecodeError> {
        let start = self.pos;
        let negative = self.eat("-");
        if self.eat("inf") {
            return Ok(Py::Float(if negative {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            }));
        }
        if !negative && self.eat("nan") {
            return Ok(Py::Float(f64::NAN));
        }
        let digits_start = self.pos;
        let bytes = self.s.as_bytes();
        let mut end = self.pos;
        let mut is_float = false;
        while end < bytes.len() {
            match bytes[end] {
                b'0'..=b'9' => {}
                b'.' | b'e' | b'E' => is_float = true,
                b'+' | b'-' if matches!(bytes[end - 1], b'e' | b'E') => {}
                _ => break,
            }
            end += 1;
        }
        let text = &self.s[digits_start..end];
        if text.is_empty() || !text.as_bytes()[0].is_ascii_digit() {
            return Err(DecodeError {
                at: start,
                what: "expected a value",
            });
        }
        self.pos = end;
        if is_float {
            // Python's float grammar: digits with a '.' and/or an exponent. Rust's parser
            // accepts the same decimal forms and rounds correctly, as CPython does.
            let f: f64 = text.parse().map_err(|_| DecodeError {
                at: start,
                what: "bad float",
            })?;
            return Ok(Py::Float(if negative { -f } else { f }));
        }
        if text.len() > 1 && text.starts_with('0') {
            return Err(DecodeError {
                at: start,
                what: "leading zero in an integer (invalid in Python 3)",
            });
        }
        let magnitude: u128 = text.parse().map_err(|_| DecodeError {
            at: start,
            what: "integer beyond 128 bits",
        })?;
        Ok(Py::Int {
            negative,
            magnitude,
        })
    }

    fn string(&mut self) -> Result<Py, DecodeError> {
        let quote = self.s[self.pos..].chars().next().ok_or(self.err("quote"))?;
        self.pos += 1;
        let mut out = String::new();
        loop {
            let Some(c) = self.rest().chars().next() else {
                return Err(self.err("unterminated string"));
            };
            self.pos += c.len_utf8();
            match c {
                _ if c == quote => return Ok(Py::Str(out)),
                '\n' | '\r' => return Err(self.err("raw line break in a string")),
                '\\' => out.push(self.escape()?),
                _ => out.push(c),
            }
        }
    }

    fn escape(&mut self) -> Result<char, DecodeError> {
        let Some(c) = self.rest().chars().next() else {
            return Err(self.err("unterminated escape"));
        };
        self.pos += c.len_utf8();
        let hex = |p: &mut Self, n: usize| -> Result<char, DecodeError> {
            let digits = p.s.get(p.pos..p.pos + n).ok_or(p.err("short escape"))?;
            if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(p.err("non-hex digit in escape"));
            }
            let v = u32::from_str_radix(digits, 16).map_err(|_| p.err("bad escape"))?;
            p.pos += n;
            char::from_u32(v).ok_or(p.err("escape is not a Unicode scalar value"))
        };
        match c {
            '\\' => Ok('\\'),
            '\'' => Ok('\''),
            '"' => Ok('"'),
            'a' => Ok('\x07'),
            'b' => Ok('\x08'),
            'f' => Ok('\x0c'),
            'n' => Ok('\n'),
            'r' => Ok('\r'),
            't' => Ok('\t'),
            'v' => Ok('\x0b'),
            'x' => hex(self, 2),
            'u' => hex(self, 4),
            'U' => hex(self, 8),
            '0'..='7' => {
                // Octal: up to three digits.
                let mut v = c.to_digit(8).unwrap_or(0);
                for _ in 0..2 {
                    match self.rest().chars().next().and_then(|d| d.to_digit(8)) {
                        Some(d) => {
                            v = v * 8 + d;
                            self.pos += 1;
                        }
                        None => break,
                    }
                }
                char::from_u32(v).ok_or(self.err("bad octal escape"))
            }
            _ => Err(self.err("unknown escape (kt never writes one Python would keep)")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;
    use std::process::{Command, Stdio};

    fn int(v: i128) -> Py {
        Py::Int {
            negative: v < 0,
            magnitude: v.unsigned_abs(),
        }
    }

    #[test]
    fn tutorial_forms() {
        assert_eq!(
            decode("(None, 'message1')").unwrap(),
            Py::Tuple(vec![Py::None, Py::Str("message1".into())])
        );
        assert_eq!(
            decode("('message', 2)").unwrap(),
            Py::Tuple(vec![Py::Str("message".into()), int(2)])
        );
        assert_eq!(decode("(1,)").unwrap(), Py::Tuple(vec![int(1)]));
        assert_eq!(decode("()").unwrap(), Py::Tuple(vec![]));
        assert_eq!(
            decode("{'a': [1, -2.5e-07]}").unwrap(),
            Py::Dict(vec![(
                Py::Str("a".into()),
                Py::List(vec![int(1), Py::Float(-2.5e-07)])
            )])
        );
        assert_eq!(
            decode(r#""it's \x07\u1234\U0001f600\\""#).unwrap(),
            Py::Str("it's \x07\u{1234}\u{1f600}\\".into())
        );
    }

    #[test]
    fn rejects_what_python_or_kt_would_not_produce() {
        for bad in [
            "(1)",
            "[1,]",
            "'abc",
            "01",
            "1 ",
            "(1,2)",
            "{1:2}",
            "'\\q'",
            "'\\ud800'",
        ] {
            assert!(decode(bad).is_err(), "{bad}");
        }
    }

    /// Every literal here is decoded by this module and by CPython (`ast.literal_eval`), and
    /// both render the canonical form; they must agree.
    #[test]
    fn agrees_with_cpython() {
        let literals = [
            "None",
            "True",
            "(False, 0, -0, 340282366920938463463374607431768211455)",
            "-170141183460469231731687303715884105728",
            "[0.1, -0.0, 1e+16, 1e-05, 5e-324, 1.7976931348623157e+308, inf, -inf]",
            "'plain'",
            "\"it's\"",
            r"'tab\there\nnew\rline\\ \x00\x7f\x80\xa0 \u200b \U0010ffff'",
            r#"'both \' and "'"#,
            "'\u{e9}\u{4e2d}\u{1f600}'",
            "{'k': (None, 'v'), 'z': [[], ()]}",
            "((1,), ('a', 'b'))",
            r"'\0\07\101'",
        ];
        let script = r#"
import ast, sys
def c(v):
    if v is None: return 'N'
    if isinstance(v, bool): return 'B1' if v else 'B0'
    if isinstance(v, int): return 'I%d' % v
    if isinstance(v, float): return 'F' + v.hex()
    if isinstance(v, str): return 'S' + v.encode('utf-8', 'surrogatepass').hex()
    if isinstance(v, tuple): return 'T[' + ','.join(map(c, v)) + ']'
    if isinstance(v, list): return 'L[' + ','.join(map(c, v)) + ']'
    if isinstance(v, dict): return 'D[' + ','.join(c(k) + ':' + c(x) for k, x in v.items()) + ']'
    raise TypeError(type(v))
for line in sys.stdin.read().split('\n'):
    if line:
        print(c(ast.literal_eval(line.replace('inf', '1e999'))))
"#;
        let mut child = Command::new("/usr/bin/python3")
            .arg("-c")
            .arg(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3");
        let input = literals.join("\n");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        let python: Vec<String> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect();
        assert_eq!(python.len(), literals.len());
        for (lit, py) in literals.iter().zip(&python) {
            let ours = decode(lit)
                .unwrap_or_else(|e| panic!("{lit}: {e:?}"))
                .canonical();
            assert_eq!(&ours, py, "{lit}");
        }
    }
}
