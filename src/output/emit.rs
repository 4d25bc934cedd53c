//! One `serde_json::Value` → a block YAML document, appended to a `String`.
//!
//! The layout is serde-saphyr 2.2's with `prefer_block_scalars` and no folding, byte for byte:
//! two spaces per level; a sequence under a key starts at the key's column, one inside a
//! sequence on the dash's line (`- - a`), and so does a map inside a sequence (`- a: 1`);
//! empty collections are `{}` and `[]`; text with line breaks is a literal block (`|`, `|-`,
//! `|+`, with `|2` when its first line starts with spaces); a key longer than 1024 characters
//! takes the explicit `? key` form (YAML's limit for implicit keys). `scalar` decides how each
//! string is written. Floats are the one scalar still formatted by serde-saphyr, whose
//! shortest round-trip spelling (`1.0e+300`) is its own.

use std::fmt::Write as _;

use serde_json::{Map, Number, Value};

use super::scalar;

/// Appends `value` as a YAML document body (without the `---` line) to `out`.
pub(super) fn write_document(value: &Value, out: &mut String) {
    write_node(value, Position::Root, out);
}

/// Where a node starts. The column is that of the enclosing map's keys or sequence's dashes
/// (0 at the root); block content nested in the node goes two columns further.
#[derive(Clone, Copy)]
enum Position {
    /// The start of the document.
    Root,
    /// After `key:`.
    MapValue(usize),
    /// After `- `.
    SeqItem(usize),
    /// After the `:` that answers a `? key` line.
    ExplicitValue(usize),
}

impl Position {
    fn column(self) -> usize {
        match self {
            Self::Root => 0,
            Self::MapValue(column) | Self::SeqItem(column) | Self::ExplicitValue(column) => column,
        }
    }

    /// What separates a scalar, an empty collection or a block header from what precedes it
    /// on its line.
    fn separator(self) -> &'static str {
        match self {
            Self::Root | Self::SeqItem(_) => "",
            Self::MapValue(_) | Self::ExplicitValue(_) => " ",
        }
    }
}

fn write_node(value: &Value, position: Position, out: &mut String) {
    match value {
        Value::Null => write_plain_scalar("null", position, out),
        Value::Bool(true) => write_plain_scalar("true", position, out),
        Value::Bool(false) => write_plain_scalar("false", position, out),
        Value::Number(number) => write_number(number, position, out),
        Value::String(text) => write_string(text, position, out),
        Value::Array(items) => write_sequence(items, position, out),
        Value::Object(map) => write_map(map, position, out),
    }
}

fn write_plain_scalar(text: &str, position: Position, out: &mut String) {
    out.push_str(position.separator());
    out.push_str(text);
    out.push('\n');
}

fn write_number(number: &Number, position: Position, out: &mut String) {
    out.push_str(position.separator());
    match number.as_f64() {
        Some(float) if number.is_f64() => {
            // A root document of one float is its spelling and a line break.
            serde_saphyr::to_fmt_writer(out, &float).expect("a float always serializes");
        }
        _ => writeln!(out, "{number}").expect("a String takes any text"),
    }
}

fn write_string(text: &str, position: Position, out: &mut String) {
    out.push_str(position.separator());
    if is_literal_block(text) {
        write_literal_block(text, position.column() + 2, out);
        return;
    }
    write_inline_string(text, out);
    out.push('\n');
}

/// Whether `text` is written as a literal block rather than on one line.
pub(super) fn is_literal_block(text: &str) -> bool {
    text.contains('\n') && scalar::is_block_safe(text)
}

/// A string that is not a literal block: plain, single- or double-quoted.
pub(super) fn write_inline_string(text: &str, out: &mut String) {
    if matches!(text, "." | "#" | "-") {
        // serde-saphyr's choice for these three: single quotes.
        out.push('\'');
        out.push_str(text);
        out.push('\'');
    } else if scalar::is_plain_value(text) {
        out.push_str(text);
    } else {
        scalar::write_double_quoted(text, out);
    }
}

/// A literal block whose lines start at `body_column`. Chomping keeps the trailing line
/// breaks exact: `|-` for none, `|` for one, `|+` for more (or for nothing but breaks).
fn write_literal_block(text: &str, body_column: usize, out: &mut String) {
    let content = text.trim_end_matches('\n');
    let trailing_breaks = text.len() - content.len();
    out.push('|');
    if first_line_indentation(content) > 0 {
        // The indentation indicator: one level (two columns) past the parent node, which a
        // reader could not infer from a first line that starts with spaces.
        out.push('2');
    }
    match trailing_breaks {
        0 => out.push('-'),
        1 if !content.is_empty() => {}
        _ => out.push('+'),
    }
    out.push('\n');
    if content.is_empty() {
        push_line_breaks(out, trailing_breaks);
        return;
    }
    for line in content.split('\n') {
        if !line.is_empty() {
            indent(out, body_column);
            out.push_str(line);
        }
        out.push('\n');
    }
    push_line_breaks(out, trailing_breaks.saturating_sub(1));
}

/// Leading spaces of the first non-empty line.
fn first_line_indentation(content: &str) -> usize {
    content
        .split('\n')
        .find(|line| !line.is_empty())
        .map_or(0, |line| line.len() - line.trim_start_matches(' ').len())
}

fn write_sequence(items: &[Value], position: Position, out: &mut String) {
    if items.is_empty() {
        out.push_str(position.separator());
        out.push_str("[]\n");
        return;
    }
    let (dash_column, mut inline) = match position {
        Position::Root => (0, false),
        Position::MapValue(column) | Position::ExplicitValue(column) => {
            out.push('\n');
            (column, false)
        }
        Position::SeqItem(column) => (column + 2, true),
    };
    for item in items {
        if !inline {
            indent(out, dash_column);
        }
        inline = false;
        out.push_str("- ");
        write_node(item, Position::SeqItem(dash_column), out);
    }
}

fn write_map(map: &Map<String, Value>, position: Position, out: &mut String) {
    if map.is_empty() {
        out.push_str(position.separator());
        out.push_str("{}\n");
        return;
    }
    let (key_column, mut inline) = match position {
        Position::Root => (0, false),
        Position::MapValue(column) => {
            out.push('\n');
            (column + 2, false)
        }
        Position::SeqItem(column) => (column + 2, true),
        Position::ExplicitValue(column) => {
            out.push(' ');
            (column + 2, true)
        }
    };
    for (key, value) in map {
        if !inline {
            indent(out, key_column);
        }
        inline = false;
        write_entry(key, value, key_column, out);
    }
}

/// YAML 1.2.2 §7.4.2: an implicit key ends within 1024 characters.
const IMPLICIT_KEY_MAX_CHARS: usize = 1024;

/// One map entry, its key at `key_column` (the line is already indented).
fn write_entry(key: &str, value: &Value, key_column: usize, out: &mut String) {
    let key_start = out.len();
    if scalar::is_plain_key(key) {
        out.push_str(key);
    } else {
        scalar::write_double_quoted(key, out);
    }
    if is_implicit_key(&out[key_start..]) {
        out.push(':');
        write_node(value, Position::MapValue(key_column), out);
    } else {
        out.insert_str(key_start, "? ");
        out.push('\n');
        indent(out, key_column);
        out.push(':');
        write_node(value, Position::ExplicitValue(key_column), out);
    }
}

fn is_implicit_key(written: &str) -> bool {
    // A byte count bounds the character count from above.
    written.len() <= IMPLICIT_KEY_MAX_CHARS || written.chars().count() <= IMPLICIT_KEY_MAX_CHARS
}

fn indent(out: &mut String, columns: usize) {
    const SPACES: &str = "                                ";
    let mut left = columns;
    while left > 0 {
        let step = left.min(SPACES.len());
        out.push_str(&SPACES[..step]);
        left -= step;
    }
}

fn push_line_breaks(out: &mut String, count: usize) {
    out.extend(std::iter::repeat_n('\n', count));
}
