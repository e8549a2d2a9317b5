//! Python 3 `repr()` of a `float`: the shortest digits that round-trip
//! (both CPython and Rust's formatter produce them), laid out as CPython's
//! `float_repr` does: positional notation with at least one digit after the
//! point when the decimal exponent `e` satisfies `-4 <= e < 16`, otherwise
//! scientific notation with a signed, at least two-digit exponent
//! (`1e+16`, `1.5e-05`). Non-finite values print as `inf`, `-inf`, `nan`.

/// Appends `repr(x)` as Python 3 prints it.
pub fn write_float_repr(x: f64, out: &mut String) {
    if x.is_nan() {
        out.push_str("nan");
        return;
    }
    if x.is_infinite() {
        out.push_str(if x < 0.0 { "-inf" } else { "inf" });
        return;
    }
    // `{:e}` without a precision prints the shortest round-trip digits as
    // `[-]d[.ddd]e[-]N`, e.g. `-1.5e-5`, `1e16`, `0e0`.
    let sci = format!("{x:e}");
    let (mantissa, exp) = match sci.split_once('e') {
        Some(parts) => parts,
        None => {
            // Not reachable for finite floats; fall back to Rust's own output.
            out.push_str(&sci);
            return;
        }
    };
    let exp: i32 = exp.parse().unwrap_or(0);
    let (negative, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    if negative {
        out.push('-');
    }
    if (-4..16).contains(&exp) {
        // Position of the decimal point counted from the start of `digits`.
        let point = exp + 1;
        if point <= 0 {
            out.push_str("0.");
            for _ in 0..(-point) {
                out.push('0');
            }
            out.push_str(&digits);
        } else {
            let point = point as usize; // 1..=16, positive
            if digits.len() <= point {
                out.push_str(&digits);
                for _ in digits.len()..point {
                    out.push('0');
                }
                out.push_str(".0");
            } else {
                let (int, frac) = digits.split_at(point);
                out.push_str(int);
                out.push('.');
                out.push_str(frac);
            }
        }
    } else {
        let (first, rest) = digits.split_at(1.min(digits.len()));
        out.push_str(first);
        if !rest.is_empty() {
            out.push('.');
            out.push_str(rest);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        let abs = exp.unsigned_abs();
        if abs < 10 {
            out.push('0');
        }
        out.push_str(&abs.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repr(x: f64) -> String {
        let mut out = String::new();
        write_float_repr(x, &mut out);
        out
    }

    #[test]
    fn known_values() {
        assert_eq!(repr(0.0), "0.0");
        assert_eq!(repr(-0.0), "-0.0");
        assert_eq!(repr(1.0), "1.0");
        assert_eq!(repr(0.1), "0.1");
        assert_eq!(repr(2.5), "2.5");
        assert_eq!(repr(-123.456), "-123.456");
        assert_eq!(repr(1e15), "1000000000000000.0");
        assert_eq!(repr(1e16), "1e+16");
        assert_eq!(repr(1.5e16), "1.5e+16");
        assert_eq!(repr(0.0001), "0.0001");
        assert_eq!(repr(0.00001), "1e-05");
        assert_eq!(repr(1.25e-7), "1.25e-07");
        assert_eq!(repr(1e100), "1e+100");
        assert_eq!(repr(f64::MAX), "1.7976931348623157e+308");
        assert_eq!(repr(5e-324), "5e-324");
        assert_eq!(repr(f64::INFINITY), "inf");
        assert_eq!(repr(f64::NEG_INFINITY), "-inf");
        assert_eq!(repr(f64::NAN), "nan");
        assert_eq!(repr(123456789012345.6), "123456789012345.6");
    }
}
