//! How one string is written: plain, double-quoted (and escaped), or as a literal block.
//!
//! These are serde-saphyr 2.2's rules in YAML 1.1-safe mode (`src/ser/quoting.rs`, MIT OR
//! Apache-2.0), ported so that `emit` writes the bytes serde-saphyr wrote; `tests/it/emit.rs`
//! compares both. A string that could be read back as anything but itself (`on`, `0x10`,
//! `1e3`, `~`, a date), could start a YAML construct (`- `, `? `, `*`, `&`, `!`, `|`, `---`), end
//! a key (`: `), open a comment (` #`) or lose its edges (leading or trailing white space) is
//! quoted, and a quoted string escapes every control and line break: no string can add
//! structure. Most strings are names and paths: a single pass proves those plain before the
//! full rules run.

use std::fmt::Write as _;

/// Whether `s` may stand plain as a block map value or sequence item.
pub(super) fn is_plain_value(s: &str) -> bool {
    is_plain_word(s, PlainIn::Value) || is_plain_value_safe(s, false, false)
}

/// Whether `s` may stand plain as a map key.
///
/// serde-saphyr quotes a key that would need quotes in a block or in a flow map, so `,`,
/// `[`, `]`, `{`, `}` and `:` anywhere quote it.
pub(super) fn is_plain_key(s: &str) -> bool {
    is_plain_word(s, PlainIn::Key) || (is_plain_safe(s) && is_plain_value_safe(s, false, true))
}

/// Whether a string with a line break can be a literal block: every character can stand in
/// one unescaped and survives a round trip.
///
/// `\r` would be read back as `\n`, the BOM is not allowed in content, and NEL, LS and PS are
/// kept out of blocks because many tools mishandle them.
pub(super) fn is_block_safe(s: &str) -> bool {
    s.chars().all(|ch| match ch {
        '\n' | '\t' => true,
        '\r' | '\u{0085}' | '\u{2028}' | '\u{2029}' | '\u{FEFF}' => false,
        c => matches!(
            u32::from(c),
            0x20..=0x7E | 0xA0..=0xD7FF | 0xE000..=0xFFFD | 0x10000..=0x0010_FFFF
        ),
    })
}

/// Appends `s` in double quotes, escaped.
pub(super) fn write_double_quoted(s: &str, out: &mut String) {
    out.push('"');
    let mut unescaped_from = 0;
    for (at, ch) in s.char_indices() {
        if ch == '\\' || ch == '"' || needs_escaping(ch) {
            out.push_str(&s[unescaped_from..at]);
            write_escape(ch, out);
            unescaped_from = at + ch.len_utf8();
        }
    }
    out.push_str(&s[unescaped_from..]);
    out.push('"');
}

fn write_escape(ch: char, out: &mut String) {
    let named = match ch {
        '\\' => "\\\\",
        '"' => "\\\"",
        '\0' => "\\0",
        '\u{7}' => "\\a",
        '\u{8}' => "\\b",
        '\t' => "\\t",
        '\n' => "\\n",
        '\u{b}' => "\\v",
        '\u{c}' => "\\f",
        '\r' => "\\r",
        '\u{1b}' => "\\e",
        '\u{FEFF}' => "\\uFEFF",
        '\u{0085}' => "\\N",
        '\u{2028}' => "\\L",
        '\u{2029}' => "\\P",
        // Every other character escaped here is a C0/C1 control or U+FFFE/U+FFFF.
        c if u32::from(c) <= 0xFF => {
            write!(out, "\\x{:02X}", u32::from(c)).expect("a String takes any text");
            return;
        }
        c => {
            write!(out, "\\u{:04X}", u32::from(c)).expect("a String takes any text");
            return;
        }
    };
    out.push_str(named);
}

/// Characters that neither a plain nor a single-quoted scalar can hold.
///
/// `char::is_control` misses the BOM, the LS/PS separators and the non-characters
/// U+FFFE/U+FFFF.
fn needs_escaping(ch: char) -> bool {
    ch.is_control() || matches!(ch, '\u{FEFF}' | '\u{2028}' | '\u{2029}' | '\u{FFFE}' | '\u{FFFF}')
}

/// Where a plain word would stand.
#[derive(Clone, Copy, PartialEq, Eq)]
enum PlainIn {
    Key,
    Value,
}

/// The quick proof for the common case: a letter, then printable ASCII with single spaces
/// inside, no `: `, ` #` or final `:`, and not a word YAML 1.1 reads as null, a boolean or a
/// float. Every rule of `is_plain_value_safe` and `is_plain_safe` holds for such a string;
/// `false` only means "ask the full rules".
fn is_plain_word(s: &str, position: PlainIn) -> bool {
    let bytes = s.as_bytes();
    let (Some(first), Some(last)) = (bytes.first(), bytes.last()) else { return false };
    if !first.is_ascii_alphabetic() || matches!(last, b' ' | b':') || is_keyword(s) {
        return false;
    }
    let mut previous = b' ';
    bytes.iter().all(|&byte| {
        let fine = match byte {
            b' ' => previous != b':',
            b'#' => previous != b' ',
            b':' | b',' | b'[' | b']' | b'{' | b'}' => position == PlainIn::Value,
            _ => byte.is_ascii_graphic(),
        };
        previous = byte;
        fine
    })
}

/// The words starting with a letter that a YAML 1.1 or 1.2 reader resolves to null, a
/// boolean or a float, in any case.
fn is_keyword(s: &str) -> bool {
    s.len() <= 5
        && ["null", "true", "false", "yes", "no", "on", "off", "y", "n", "nan", "inf"]
            .iter()
            .any(|word| s.eq_ignore_ascii_case(word))
}

// The full rules, as serde-saphyr 2.2 `src/ser/quoting.rs` states them.

/// Check numeric syntax without constructing a value: overflow and resolver errors
/// must not turn a serialized string into a number or an unreadable document.
fn is_numeric(s: &str, yaml_12: bool) -> bool {
    if !matches!(s.as_bytes().first(), Some(b'0'..=b'9' | b'+' | b'-' | b'.' | b'_')) {
        return false;
    }
    let unsigned = s.strip_prefix(['+', '-']).unwrap_or(s);
    if unsigned.eq_ignore_ascii_case(".inf") || unsigned.eq_ignore_ascii_case(".nan") {
        return true;
    }
    if !yaml_12 {
        if is_yaml11_sexagesimal(s) {
            return true;
        }
        // YAML 1.1 radix productions accept [digits_]+, even an all-underscore
        // suffix that a resolver tags as numeric but cannot construct.
        if let Some((radix, digits)) = radix_digits(unsigned)
            && is_digit_run(digits, radix, false)
        {
            return true;
        }
    }

    // Go YAML removes underscores before numeric resolution, including around
    // radix prefixes and exponents. YAML 1.2 output keeps the stricter spelling.
    let normalized;
    let s = if !yaml_12 && s.contains('_') {
        normalized = s.replace('_', "");
        normalized.as_str()
    } else {
        s
    };
    let unsigned = s.strip_prefix(['+', '-']).unwrap_or(s);
    if let Some((radix, digits)) = radix_digits(unsigned) {
        // Go YAML's binary fallback (and octal fallback in v3.0.1) accepts
        // a sign after an unsigned lowercase 0b or 0o prefix.
        let digits = if !yaml_12 && (s.starts_with("0b") || s.starts_with("0o")) {
            digits.strip_prefix(['+', '-']).unwrap_or(digits)
        } else {
            digits
        };
        return is_digit_run(digits, radix, true);
    }
    let mantissa = match unsigned.split_once(['e', 'E']) {
        Some((mantissa, exponent)) => {
            let exponent = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
            if !is_digit_run(exponent, 10, true) {
                return false;
            }
            mantissa
        }
        None => unsigned,
    };
    match mantissa.split_once('.') {
        Some((whole, fraction)) => {
            if !whole.is_empty() && !is_digit_run(whole, 10, true) {
                return false;
            }
            if !yaml_12 {
                // The YAML 1.1 float production allows an empty integer part
                // and [0-9.]* after the dot, including unconstructible spellings.
                fraction.bytes().all(|b| b.is_ascii_digit() || b == b'.')
            } else if fraction.is_empty() {
                !whole.is_empty()
            } else {
                is_digit_run(fraction, 10, true)
            }
        }
        None => is_digit_run(mantissa, 10, true),
    }
}

fn radix_digits(s: &str) -> Option<(u32, &str)> {
    match s.as_bytes() {
        [b'0', b'b' | b'B', ..] => Some((2, &s[2..])),
        [b'0', b'o' | b'O', ..] => Some((8, &s[2..])),
        [b'0', b'x' | b'X', ..] => Some((16, &s[2..])),
        _ => None,
    }
}

fn is_digit_run(s: &str, radix: u32, strict_underscores: bool) -> bool {
    let is_digit = |b: u8| b.is_ascii() && char::from(b).is_digit(radix);
    let bytes = s.as_bytes();
    !bytes.is_empty()
        && bytes.iter().enumerate().all(|(i, &b)| {
            is_digit(b)
                || (b == b'_'
                    && (!strict_underscores
                        || (i > 0
                            && is_digit(bytes[i - 1])
                            && bytes.get(i + 1).is_some_and(|&next| is_digit(next)))))
        })
}

/// Recognize YAML 1.1 base-60 integers and floats without parsing their magnitude.
fn is_yaml11_sexagesimal(s: &str) -> bool {
    let unsigned = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (integer, fraction) = match unsigned.split_once('.') {
        Some((integer, fraction)) => (integer, Some(fraction)),
        None => (unsigned, None),
    };
    let Some((first, rest)) = integer.split_once(':') else {
        return false;
    };
    let Some(first_digit) = first.as_bytes().first() else {
        return false;
    };
    if !first_digit.is_ascii_digit()
        || (fraction.is_none() && *first_digit == b'0')
        || !first.bytes().all(|b| b.is_ascii_digit() || b == b'_')
    {
        return false;
    }
    // Every subsequent base-60 component is one or two digits in 0..=59.
    if !rest.split(':').all(|part| match part.as_bytes() {
        [digit] => digit.is_ascii_digit(),
        [tens, units] => matches!(tens, b'0'..=b'5') && units.is_ascii_digit(),
        _ => false,
    }) {
        return false;
    }
    fraction.is_none_or(|part| part.bytes().all(|b| b.is_ascii_digit() || b == b'_'))
}

/// Match timestamp syntax without calendar validation: a reader can assign a
/// timestamp tag even when constructing the date would fail.
fn is_yaml11_timestamp(mut s: &str) -> bool {
    fn digits(s: &mut &str, min: usize, max: usize) -> bool {
        let len = s.bytes().take_while(u8::is_ascii_digit).count();
        if !(min..=max).contains(&len) {
            return false;
        }
        *s = &s[len..];
        true
    }
    fn prefix(s: &mut &str, ch: char) -> bool {
        if let Some(rest) = s.strip_prefix(ch) {
            *s = rest;
            true
        } else {
            false
        }
    }
    if !digits(&mut s, 4, 4)
        || !prefix(&mut s, '-')
        || !digits(&mut s, 1, 2)
        || !prefix(&mut s, '-')
        || !digits(&mut s, 1, 2)
    {
        return false;
    }
    // Go YAML also accepts single-digit date and time components.
    if s.is_empty() {
        return true;
    }
    if let Some(rest) = s.strip_prefix(['T', 't']) {
        s = rest;
    } else {
        let rest = s.trim_start_matches([' ', '\t']);
        if rest.len() == s.len() {
            return false;
        }
        s = rest;
    }
    if !digits(&mut s, 1, 2)
        || !prefix(&mut s, ':')
        || !digits(&mut s, 1, 2)
        || !prefix(&mut s, ':')
        || !digits(&mut s, 1, 2)
    {
        return false;
    }
    // Go's time parser also accepts a comma as the fractional separator.
    if prefix(&mut s, '.') || prefix(&mut s, ',') {
        digits(&mut s, 0, usize::MAX);
    }
    s = s.trim_start_matches([' ', '\t']);
    if s.is_empty() || s == "Z" {
        return true;
    }
    if !(prefix(&mut s, '+') || prefix(&mut s, '-')) || !digits(&mut s, 1, 2) {
        return false;
    }
    if prefix(&mut s, ':') && !digits(&mut s, 2, 2) {
        return false;
    }
    s.is_empty()
}

/// A YAML 1.1 boolean spelling, padded or not (serde-saphyr `parse_scalars.rs`).
fn is_yaml11_bool(s: &str) -> bool {
    let t = s.trim_matches([' ', '\t', '\r', '\n']);
    ["true", "yes", "y", "on", "false", "no", "n", "off"]
        .iter()
        .any(|word| t.eq_ignore_ascii_case(word))
}

/// Whether implicit scalar resolution can change a string's type or reject it.
fn is_ambiguous(s: &str, yaml_12: bool) -> bool {
    s.is_empty()
        || s == "~"
        || s.eq_ignore_ascii_case("null")
        || s.eq_ignore_ascii_case("true")
        || s.eq_ignore_ascii_case("false")
        || is_numeric(s, yaml_12)
        // Preserve compatibility with readers accepting undotted float tokens.
        || s.eq_ignore_ascii_case("nan")
        || s.eq_ignore_ascii_case("inf")
        || s.eq_ignore_ascii_case("+inf")
        || s.eq_ignore_ascii_case("-inf")
        || (!yaml_12 && (is_yaml11_bool(s) || is_yaml11_timestamp(s) || matches!(s, "<<" | "=")))
}

fn starts_with_document_marker(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("---").or_else(|| s.strip_prefix("...")) else {
        return false;
    };
    rest.is_empty() || rest.as_bytes().first().is_some_and(u8::is_ascii_whitespace)
}

/// serde-saphyr's `is_plain_safe`: the key rules (with YAML 1.2 ambiguity).
fn is_plain_safe(s: &str) -> bool {
    // A plain, untagged "<<" key would be a YAML merge key, not the literal string "<<".
    if is_ambiguous(s, true) || s == "<<" || has_unsafe_edges(s) {
        return false;
    }
    !contains_any_or_is_control(s, &[':']) && !has_comment_start(s)
}

/// serde-saphyr's `is_plain_value_safe`.
fn is_plain_value_safe(s: &str, yaml_12: bool, in_flow: bool) -> bool {
    if is_ambiguous(s, yaml_12) || has_unsafe_edges(s) {
        return false;
    }
    if s.contains(": ") || s.trim().ends_with(':') {
        return false;
    }
    if in_flow {
        !contains_any_or_is_control(s, &[',', '[', ']', '{', '}']) && !has_comment_start(s)
    } else {
        !contains_any_or_is_control(s, &[]) && !has_comment_start(s)
    }
}

/// What both plain forms refuse at a string's edges: a document marker first, white space at
/// either end, an indicator character first (`-` and `?` alone or before white space).
fn has_unsafe_edges(s: &str) -> bool {
    let bytes = s.as_bytes();
    match bytes {
        [b'-' | b'?', b1, ..] if b1.is_ascii_whitespace() => true,
        [b'-' | b'?']
        | [
            b',' | b':' | b'[' | b']' | b'{' | b'}' | b'#' | b'&' | b'*' | b'!' | b'|' | b'>'
            | b'\'' | b'"' | b'%' | b'@' | b'`',
            ..,
        ] => true,
        _ => {
            starts_with_document_marker(s)
                || bytes.first().is_some_and(u8::is_ascii_whitespace)
                || bytes.last().is_some_and(u8::is_ascii_whitespace)
        }
    }
}

fn contains_any_or_is_control(string: &str, values: &[char]) -> bool {
    string.chars().any(|x| needs_escaping(x) || values.contains(&x))
}

/// In plain style, `#` starts a comment only after white space.
fn has_comment_start(string: &str) -> bool {
    string
        .match_indices('#')
        .any(|(index, _)| string[..index].chars().next_back().is_some_and(char::is_whitespace))
}
