//! A fast reader for the YAML the templates print, straight to JSON.
//!
//! Templates write block mappings and sequences with plain-word keys; every value goes through
//! `render`'s JSON formatter (a one-line JSON scalar or flow collection) or is a plain word
//! written in the template (`kind: Job`). Reading that back with the full parser (events, a node
//! tree with spans, then JSON) was a third of a batch render. [`to_json`] reads only that subset
//! and gives `None` for anything else or anything it is unsure of; the caller then uses
//! [`super::parse_documents`], which also words every error. What it accepts it must read
//! exactly as the full parser and [`super::Node::to_json`] do, so plain words go through the same
//! [`resolve_plain`] and the full parser's limits apply. It never says why it refused.

use serde_json::{Map, Value};

use super::{MAX_DEPTH, MAX_INPUT_BYTES, MAX_NODES, is_printable, resolve_plain};

/// Longest mapping key read here, in bytes (so in characters too). The scanner gives up on a
/// key whose `:` comes more than 1024 characters after its start (granit-parser's
/// `simple_key_max_lookahead`).
const MAX_KEY_BYTES: usize = 1000;

/// The JSON value of `text` if it is one document of the subset, exactly as
/// `parse_documents(text)` and `to_json` of its root would give it; `None` otherwise.
pub fn to_json(text: &str) -> Option<Value> {
    if text.len() > MAX_INPUT_BYTES || !text.chars().all(|c| c == '\n' || is_printable(c)) {
        return None;
    }
    let lines = lines(text)?;
    let indent = lines.first()?.indent;
    let mut reader = Reader { lines, next: 0, nodes: 0 };
    let value = reader.block(indent, 0)?;
    (reader.next == reader.lines.len()).then_some(value)
}

/// A line with content: its indentation, and its text without the spaces around it.
#[derive(Debug, Clone, Copy)]
struct Line<'a> {
    indent: usize,
    content: &'a str,
}

/// The lines with content, or `None` for a comment or a document marker.
fn lines(text: &str) -> Option<Vec<Line<'_>>> {
    let mut lines = Vec::new();
    for line in text.split('\n') {
        let content = line.trim_start_matches(' ');
        let indent = line.len() - content.len();
        let content = content.trim_end_matches(' ');
        if content.is_empty() {
            continue;
        }
        let marker = indent == 0 && (content.starts_with("---") || content.starts_with("..."));
        if marker || content.starts_with('#') {
            return None;
        }
        lines.push(Line { indent, content });
    }
    Some(lines)
}

/// A block sequence entry: `- …`, or a lone `-`.
fn is_item(content: &str) -> bool {
    content == "-" || content.starts_with("- ")
}

/// Whether `content` starts a one-line JSON value.
fn is_json(content: &str) -> bool {
    content.starts_with(['"', '[', '{'])
}

/// A block mapping entry `key: value` or `key:`, split into the key and the value text.
fn entry(content: &str) -> Option<(&str, &str)> {
    let (key, rest) = content.split_once(':')?;
    let value = match rest {
        "" => "",
        _ if rest.starts_with(' ') => rest.trim_start_matches(' '),
        _ => return None,
    };
    is_key(key).then_some((key, value))
}

/// A plain key as templates write them (`app.kubernetes.io/name`): it starts with a letter or
/// digit (no indicator) and holds only letters, digits and `._/-`. Keys stay text, whatever
/// they look like (`1`, `true`).
fn is_key(text: &str) -> bool {
    text.len() <= MAX_KEY_BYTES
        && text.starts_with(|c: char| c.is_ascii_alphanumeric())
        && text.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'/' | b'-'))
}

/// A plain word as a template writes one (`Job`, `apps/v1`, `8081`): no space, no indicator
/// that could start something else, no `:` or `#`.
fn is_word(text: &str) -> bool {
    text != "-"
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'/' | b'-' | b'+'))
}

/// Reads the lines in order, counting nodes the way the full parser does.
struct Reader<'a> {
    lines: Vec<Line<'a>>,
    next: usize,
    nodes: usize,
}

impl<'a> Reader<'a> {
    fn peek(&self) -> Option<Line<'a>> {
        self.lines.get(self.next).copied()
    }

    /// Counts one node at `depth` (keys included), refusing what the full parser's limits would.
    fn count(&mut self, depth: usize) -> Option<()> {
        self.nodes += 1;
        (self.nodes <= MAX_NODES && depth <= MAX_DEPTH).then_some(())
    }

    /// The block collection whose first line is the next one, at `indent`.
    fn block(&mut self, indent: usize, depth: usize) -> Option<Value> {
        if is_item(self.peek()?.content) {
            self.sequence(indent, depth)
        } else {
            self.mapping(indent, depth)
        }
    }

    fn mapping(&mut self, indent: usize, depth: usize) -> Option<Value> {
        self.count(depth)?;
        let mut map = Map::new();
        while let Some(line) = self.peek() {
            if line.indent < indent {
                break;
            }
            if line.indent > indent || is_item(line.content) {
                return None;
            }
            let (key, text) = entry(line.content)?;
            self.next += 1;
            self.count(depth + 1)?;
            let value = if text.is_empty() {
                self.below(indent, depth + 1, true)?
            } else {
                self.inline(text, depth + 1)?
            };
            if map.insert(key.to_owned(), value).is_some() {
                return None; // a duplicate key, which the full parser refuses
            }
        }
        Some(Value::Object(map))
    }

    fn sequence(&mut self, indent: usize, depth: usize) -> Option<Value> {
        self.count(depth)?;
        let mut items = Vec::new();
        while let Some(line) = self.peek() {
            if line.indent < indent || line.indent == indent && !is_item(line.content) {
                break;
            }
            if line.indent > indent {
                return None;
            }
            let text = line.content[1..].trim_start_matches(' ');
            let item = if text.is_empty() {
                self.next += 1;
                self.below(indent, depth + 1, false)?
            } else if !is_json(text) && (is_item(text) || text.contains(':')) {
                // `- key: value` and `- - item` open a collection at the column after the dash.
                let column = line.indent + line.content.len() - text.len();
                self.lines[self.next] = Line { indent: column, content: text };
                self.block(column, depth + 1)?
            } else {
                self.next += 1;
                self.inline(text, depth + 1)?
            };
            items.push(item);
        }
        Some(Value::Array(items))
    }

    /// The value of a key or item with nothing after it: the collection on the lines below,
    /// or null.
    fn below(&mut self, indent: usize, depth: usize, of_key: bool) -> Option<Value> {
        match self.peek() {
            Some(line) if line.indent > indent => self.block(line.indent, depth),
            // A key's sequence may stand at the key's own indentation.
            Some(line) if of_key && line.indent == indent && is_item(line.content) => {
                self.sequence(indent, depth)
            }
            _ => {
                self.count(depth)?;
                Some(Value::Null)
            }
        }
    }

    /// A value written on its key's or item's line: JSON or a plain word.
    fn inline(&mut self, text: &str, depth: usize) -> Option<Value> {
        if is_json(text) {
            let mut at = 0;
            let value = self.flow(text, &mut at, depth)?;
            return (at == text.len()).then_some(value);
        }
        self.count(depth)?;
        if is_word(text) { resolve_plain(text).ok() } else { None }
    }

    /// The compact JSON value at `at` (no spaces, as `serde_json::to_string` prints it), which
    /// YAML reads as a flow collection or scalar; `at` moves past it.
    fn flow(&mut self, text: &str, at: &mut usize, depth: usize) -> Option<Value> {
        self.count(depth)?;
        match text.as_bytes().get(*at)? {
            b'"' => json_string(text, at).map(Value::String),
            b'[' => self.flow_sequence(text, at, depth),
            b'{' => self.flow_mapping(text, at, depth),
            _ => resolve_plain(json_literal(text, at)?).ok(),
        }
    }

    fn flow_sequence(&mut self, text: &str, at: &mut usize, depth: usize) -> Option<Value> {
        let mut items = Vec::new();
        *at += 1;
        if text.as_bytes().get(*at) == Some(&b']') {
            *at += 1;
            return Some(Value::Array(items));
        }
        loop {
            items.push(self.flow(text, at, depth + 1)?);
            if !next_in_collection(text, at, b']')? {
                return Some(Value::Array(items));
            }
        }
    }

    fn flow_mapping(&mut self, text: &str, at: &mut usize, depth: usize) -> Option<Value> {
        let mut map = Map::new();
        *at += 1;
        if text.as_bytes().get(*at) == Some(&b'}') {
            *at += 1;
            return Some(Value::Object(map));
        }
        loop {
            let start = *at;
            if text.as_bytes().get(start) != Some(&b'"') {
                return None;
            }
            let key = json_string(text, at)?;
            if *at - start > MAX_KEY_BYTES || text.as_bytes().get(*at) != Some(&b':') {
                return None;
            }
            *at += 1;
            self.count(depth + 1)?;
            let value = self.flow(text, at, depth + 1)?;
            if map.insert(key, value).is_some() {
                return None;
            }
            if !next_in_collection(text, at, b'}')? {
                return Some(Value::Object(map));
            }
        }
    }
}

/// Past a `,` (another entry follows: `true`) or the closing `close` (`false`).
fn next_in_collection(text: &str, at: &mut usize, close: u8) -> Option<bool> {
    let byte = *text.as_bytes().get(*at)?;
    *at += 1;
    match byte {
        b',' => Some(true),
        _ if byte == close => Some(false),
        _ => None,
    }
}

/// The JSON string at `at` (its opening quote), if each of its escapes means the same in a
/// YAML double-quoted scalar; `at` moves past its closing quote.
fn json_string(text: &str, at: &mut usize) -> Option<String> {
    let bytes = text.as_bytes();
    let open = *at;
    let mut i = open + 1;
    let mut escaped = false;
    loop {
        match *bytes.get(i)? {
            b'"' => break,
            b'\\' => {
                escaped = true;
                i += 1 + escape_len(&bytes[i + 1..])?;
            }
            _ => i += 1,
        }
    }
    *at = i + 1;
    if escaped {
        serde_json::from_str(&text[open..=i]).ok()
    } else {
        Some(text[open + 1..i].into())
    }
}

/// The length of a JSON escape after its backslash. `None` for what JSON lacks, and for UTF-16
/// surrogates: the formatter never prints them, and YAML readers differ on pairing them.
fn escape_len(after: &[u8]) -> Option<usize> {
    match after.first()? {
        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => Some(1),
        b'u' => {
            let hex = after.get(1..5)?;
            if !hex.iter().all(u8::is_ascii_hexdigit) {
                return None;
            }
            let high = u8::from_str_radix(std::str::from_utf8(&hex[..2]).ok()?, 16).ok()?;
            (!(0xd8..=0xdf).contains(&high)).then_some(5)
        }
        _ => None,
    }
}

/// The JSON number, `true`, `false` or `null` at `at`; `at` moves past it. YAML reads it as a
/// plain scalar, ended by the `,`, `]` or `}` after it.
fn json_literal<'t>(text: &'t str, at: &mut usize) -> Option<&'t str> {
    let rest = &text[*at..];
    let len = rest
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'+' | b'-'))
        .count();
    let literal = &rest[..len];
    *at += len;
    (matches!(literal, "true" | "false" | "null") || is_json_number(literal)).then_some(literal)
}

/// JSON's number grammar: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
fn is_json_number(text: &str) -> bool {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    let (mantissa, exponent) = match unsigned.split_once(['e', 'E']) {
        Some((mantissa, exponent)) => (mantissa, Some(exponent)),
        None => (unsigned, None),
    };
    let (int, fraction) = match mantissa.split_once('.') {
        Some((int, fraction)) => (int, Some(fraction)),
        None => (mantissa, None),
    };
    digits(int)
        && (int == "0" || !int.starts_with('0'))
        && fraction.is_none_or(digits)
        && exponent.is_none_or(|e| digits(e.strip_prefix(['+', '-']).unwrap_or(e)))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::fmt::Write as _;

    use proptest::prelude::*;
    use serde_json::{Number, json};

    use super::*;
    use crate::yaml::parse_documents;

    /// What the full parser reads from `text`, when it reads one document without error.
    fn full(text: &str) -> Option<Value> {
        let mut documents = parse_documents(text).ok()?;
        if documents.len() != 1 {
            return None;
        }
        documents.pop()?.root?.to_json().ok()
    }

    /// The fast reader's answer, after checking that the full parser agrees when it answers.
    fn fast(text: &str) -> Option<Value> {
        let value = to_json(text);
        if let Some(value) = &value {
            assert_eq!(full(text).as_ref(), Some(value), "{text:?}");
        }
        value
    }

    #[test]
    fn reads_what_the_templates_print() {
        let text = r#"apiVersion: batch/v1
kind: Job
metadata:
  name: "wordcount-jobmanager"
  labels: {"app.kubernetes.io/name":"flink","n":1}
spec:
  template:
    spec:
      containers:
      - name: "jobmanager"
        args: ["--job","a \"b\"\u0007\u00e9 🚀"]
        ports:
        - name: "rpc"
          containerPort: 6123
        securityContext: {}
      restartPolicy: OnFailure
subjects:
- kind: ServiceAccount
  namespace: null
"#;
        let want = json!({
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {"name": "wordcount-jobmanager", "labels": {"app.kubernetes.io/name": "flink", "n": 1}},
            "spec": {"template": {"spec": {
                "containers": [{
                    "name": "jobmanager",
                    "args": ["--job", "a \"b\"\u{7}é 🚀"],
                    "ports": [{"name": "rpc", "containerPort": 6123}],
                    "securityContext": {},
                }],
                "restartPolicy": "OnFailure",
            }}},
            "subjects": [{"kind": "ServiceAccount", "namespace": null}],
        });
        assert_eq!(fast(text), Some(want));
    }

    #[test]
    fn plain_words_resolve_as_the_full_parser_resolves_them() {
        let cases = [
            ("8081", json!(8081)),
            ("-1", json!(-1)),
            ("+1", json!(1)),
            ("012", json!(12)),
            ("0x1F", json!(31)),
            ("0o7", json!(7)),
            ("1e3", json!(1000.0)),
            ("true", json!(true)),
            ("True", json!(true)),
            ("null", json!(null)),
            ("1_000", json!("1_000")),
            ("yes", json!("yes")),
            ("apps/v1", json!("apps/v1")),
        ];
        for (word, want) in cases {
            assert_eq!(fast(&format!("a: {word}\n")), Some(json!({ "a": want })), "{word}");
        }
        for word in [".inf", "-.Inf", ".nan", "99999999999999999999", "1e999"] {
            assert_eq!(fast(&format!("a: {word}\n")), None, "{word}");
        }
    }

    #[test]
    fn keys_stay_strings_and_empty_values_are_null() {
        let text = "1: a\ntrue: b\nnull: c\n0x1F:\nlist:\n- \n-\n  - x\nlast:\n";
        let want = json!({"1": "a", "true": "b", "null": "c", "0x1F": null, "list": [null, ["x"]], "last": null});
        assert_eq!(fast(text), Some(want));
    }

    #[test]
    fn compact_collections_open_at_the_column_after_the_dash() {
        let text = "-   a: 1\n    b:\n    - x\n- - y\n  - z\n-\n  c: [1,{\"d\":-0.5e+3}]\n";
        let want = json!([{"a": 1, "b": ["x"]}, ["y", "z"], {"c": [1, {"d": -500.0}]}]);
        assert_eq!(fast(text), Some(want));
    }

    #[test]
    fn refuses_what_it_does_not_read() {
        let refused = [
            "",
            "# only a comment\n",
            "a: 1 # comment\n",
            "a: 1\n# comment\n",
            "a:\tb\n",
            "---\na: 1\n",
            "a: 1\n...\n",
            "%YAML 1.2\n---\na: 1\n",
            "a: &x 1\nb: *x\n",
            "a: !!str 1\n",
            "a: 'b'\n",
            "a: |\n  b\n",
            "a: [1,\n  2]\n",
            "a: 1\na: 2\n",
            "a: {\"b\":1,\"b\":2}\n",
            "a: b c\n",
            "a: b\n  c\n",
            "- a\n  b\n",
            "a b: 1\n",
            "\"a\": 1\n",
            "a: ~\n",
            "a: -\n",
            "a: \"\\ud83d\\ude00\"\n",
            "a: \"\\x41\"\n",
            "a: \"\\N\"\n",
            "a: \"\u{feff}\"\n",
            "a: \"\u{7f}\"\n",
            "a: 1\r\n",
            "a: [1, 2]\n",
            "a: {\"b\": 1}\n",
            "a: [01]\n",
            "a: [.5]\n",
            "a: 1\n- b\n",
            "- a\nb: 1\n",
            "a:\n    b: 1\n  c: 2\n",
            "plain\n",
            "\"quoted\"\n",
            "{\"a\":1}\n",
        ];
        for text in refused {
            assert_eq!(fast(text), None, "{text:?}");
        }
    }

    #[test]
    fn long_keys_are_left_to_the_full_parser() {
        for len in [MAX_KEY_BYTES, MAX_KEY_BYTES + 1, 1024, 1030] {
            let key = "k".repeat(len);
            let block = fast(&format!("{key}: 1\n"));
            let flow = fast(&format!("a: {{\"{key}\":1}}\n"));
            assert_eq!((block.is_some(), flow.is_some()), (len <= MAX_KEY_BYTES, len <= 998));
        }
        // The scanner stops looking for the `:`, so the full parser refuses these.
        assert_eq!(full(&format!("{}: 1\n", "k".repeat(1030))), None);
        assert_eq!(full(&format!("a: {{\"{}\":1}}\n", "k".repeat(1030))), None);
    }

    #[test]
    fn the_full_parsers_limits_apply() {
        let nested = |depth: usize| {
            let mut text = String::new();
            for level in 0..depth {
                text.push_str(&" ".repeat(level));
                text.push_str("a:\n");
            }
            text
        };
        assert!(fast(&nested(MAX_DEPTH - 1)).is_some());
        assert!(parse_documents(&nested(MAX_DEPTH + 1)).is_err());
        assert_eq!(fast(&nested(MAX_DEPTH + 1)), None);
        let items = |n: usize| format!("a: [{}]\n", vec!["1"; n].join(","));
        assert!(fast(&items(MAX_NODES - 3)).is_some());
        assert!(parse_documents(&items(MAX_NODES)).is_err());
        assert_eq!(fast(&items(MAX_NODES)), None);
    }

    /// A document tree to print in the subset's styles.
    #[derive(Debug, Clone)]
    enum Tree {
        /// A value written on its key's or item's line.
        Inline(String),
        /// Nothing after the key or dash.
        Empty,
        Map(Vec<(String, Tree)>),
        Seq(Vec<Tree>),
    }

    /// Chance decisions while printing, from a seed (xorshift).
    struct Dice(u64);

    impl Dice {
        fn below(&mut self, n: u64) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            usize::try_from(self.0 % n).unwrap()
        }

        fn spaces(&mut self, most: u64) -> String {
            " ".repeat(self.below(most + 1))
        }
    }

    fn print(tree: &Tree, seed: u64) -> String {
        let mut out = String::new();
        print_block(&mut out, tree, 0, &mut Dice(seed | 1));
        out
    }

    fn print_block(out: &mut String, tree: &Tree, indent: usize, dice: &mut Dice) {
        let pad = " ".repeat(indent);
        match tree {
            Tree::Map(entries) => {
                for (key, value) in entries {
                    out.push_str(&pad);
                    out.push_str(key);
                    out.push(':');
                    print_after(out, value, indent, true, dice);
                }
            }
            Tree::Seq(items) => {
                for item in items {
                    out.push_str(&pad);
                    out.push('-');
                    print_after(out, item, indent, false, dice);
                }
            }
            Tree::Inline(_) | Tree::Empty => unreachable!("only collections are blocks"),
        }
    }

    /// Prints what follows a key's `:` or an item's `-`.
    fn print_after(out: &mut String, tree: &Tree, indent: usize, of_key: bool, dice: &mut Dice) {
        match tree {
            Tree::Inline(text) => {
                out.push(' ');
                out.push_str(&dice.spaces(2));
                out.push_str(text);
                out.push_str(&dice.spaces(2));
                out.push('\n');
            }
            Tree::Empty => {
                out.push_str(&dice.spaces(2));
                out.push('\n');
            }
            Tree::Seq(_) if of_key && dice.below(2) == 0 => {
                out.push('\n');
                print_block(out, tree, indent, dice);
            }
            Tree::Map(_) | Tree::Seq(_) if !of_key && dice.below(2) == 0 => {
                // Compact: the collection's first line goes on the dash's line.
                let gap = 1 + dice.below(3);
                let mut block = String::new();
                print_block(&mut block, tree, indent + 1 + gap, dice);
                out.push_str(&" ".repeat(gap));
                out.push_str(block.trim_start_matches(' '));
            }
            Tree::Map(_) | Tree::Seq(_) => {
                out.push_str(&dice.spaces(1));
                out.push('\n');
                if dice.below(4) == 0 {
                    out.push_str(&dice.spaces(3));
                    out.push('\n');
                }
                print_block(out, tree, indent + 1 + dice.below(4), dice);
            }
        }
    }

    /// JSON as `render`'s formatter prints it: compact, non-printable characters escaped.
    fn print_json(value: &Value) -> String {
        let mut out = String::new();
        for c in serde_json::to_string(value).unwrap().chars() {
            if is_printable(c) {
                out.push(c);
            } else {
                write!(out, "\\u{:04x}", u32::from(c)).unwrap();
            }
        }
        out
    }

    fn json_text() -> impl Strategy<Value = String> {
        let special = prop::sample::select(vec![
            '"',
            '\\',
            '/',
            '\n',
            '\r',
            '\t',
            '\0',
            '\u{7}',
            '\u{1b}',
            '\u{7f}',
            '\u{85}',
            '\u{a0}',
            '\u{2028}',
            '\u{feff}',
            '\u{fffe}',
            '\u{10ffff}',
            'é',
            '🚀',
            ':',
            '#',
            ' ',
            '\'',
            '{',
            ']',
            ',',
            '&',
            '*',
            '!',
            '-',
        ]);
        prop::collection::vec(prop_oneof![any::<char>(), special], 0..6).prop_map(String::from_iter)
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>().prop_filter_map("finite", |f| Number::from_f64(f).map(Value::Number)),
            json_text().prop_map(Value::String),
        ];
        leaf.prop_recursive(3, 16, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map(json_text(), inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    /// Plain words a template may write, each read without error.
    const WORDS: &[&str] = &[
        "Job",
        "OnFailure",
        "apps/v1",
        "rbac.authorization.k8s.io/v1",
        "true",
        "True",
        "TRUE",
        "false",
        "null",
        "Null",
        "0x1F",
        "0o7",
        "1e3",
        "1E-3",
        "-1",
        "+1",
        "1_000",
        "012",
        "8081",
        "1.5",
        ".5",
        "-.5",
        "+1.0e-3",
        "a.b",
        "x-y",
        "-x",
        "on",
        "yes",
        "y",
        "0x",
        "0o",
        "0b1",
        "1.2.3",
        ".",
        "--",
        "a+b",
        "_a",
    ];

    /// Near misses: words and JSON-like values the full parser reads otherwise or refuses.
    const NEAR_MISSES: &[&str] = &[
        ".inf",
        "-.Inf",
        ".nan",
        "99999999999999999999",
        "0xFFFFFFFFFFFFFFFFF",
        "1e999",
        "~",
        "-",
        "a b",
        "a:b",
        "a: b",
        "?x",
        "? x",
        ":x",
        "!x",
        "&x",
        "*x",
        "@x",
        "`x",
        "'x'",
        "x#y",
        "x #y",
        "|",
        ">",
        "%x",
        "[x",
        "{x",
        "\"x",
        "\"\\/\"",
        "\"a\\u00e9\"",
        "\"\\u0000\"",
        "\"\\ud83d\\ude00\"",
        "\"\\x41\"",
        "\"\\N\"",
        "\"\\ \"",
        "{\"a\":1,\"a\":2}",
        "[1,2,]",
        "[1 ,2]",
        "{\"a\" :1}",
        "{\"a\": 1}",
        "{a:1}",
        "['a']",
        "[1e3]",
        "[01]",
        "[-0]",
        "[.5]",
        "[+1]",
        "[true,False]",
        "[\"a\"]]",
        "{\"a\":[}",
        "[-]",
        "{\"\":{}}",
        "[[[]]]",
        "\"",
        "\"a\"b",
        "[1]#",
        "{\"<<\":1}",
        "[null,~]",
        "[1.]",
        "[1e]",
        "[-01]",
        "[0x1]",
    ];

    /// Keys a template may write.
    const KEYS: &[&str] = &[
        "a",
        "b",
        "name",
        "app.kubernetes.io/name",
        "x-y",
        "k8s",
        "a_b",
        "1",
        "true",
        "null",
        "0x1F",
        "A",
        "containerPort",
        "a/b.c-d",
    ];

    /// Keys and values around the length where the scanner stops looking for a key's `:`.
    fn long_keys() -> Vec<String> {
        let lengths = [MAX_KEY_BYTES - 2, MAX_KEY_BYTES, MAX_KEY_BYTES + 1, 1022, 1024, 1030];
        let keys = lengths.map(|n| "k".repeat(n));
        keys.iter().flat_map(|k| [k.clone(), format!("{{\"{k}\":1}}")]).collect()
    }

    fn key(keys: Vec<String>) -> impl Strategy<Value = String> {
        prop::sample::select(keys)
    }

    fn strings(texts: &[&str]) -> Vec<String> {
        texts.iter().map(|&t| t.to_owned()).collect()
    }

    fn tree(words: Vec<String>, keys: Vec<String>) -> impl Strategy<Value = Tree> {
        let word = prop::sample::select(words);
        let leaf = prop_oneof![
            3 => word.prop_map(Tree::Inline),
            3 => json_value().prop_map(|v| Tree::Inline(print_json(&v))),
            1 => Just(Tree::Empty),
        ];
        let root_key = key(keys.clone());
        let tree = leaf.prop_recursive(5, 48, 4, move |inner| {
            prop_oneof![
                prop::collection::btree_map(key(keys.clone()), inner.clone(), 1..4)
                    .prop_map(|m: BTreeMap<_, _>| Tree::Map(m.into_iter().collect())),
                prop::collection::vec(inner, 1..4).prop_map(Tree::Seq),
            ]
        });
        // A document is a collection.
        (tree, root_key).prop_map(|(tree, key)| match tree {
            Tree::Map(_) | Tree::Seq(_) => tree,
            leaf => Tree::Map(vec![(key, leaf)]),
        })
    }

    /// A small edit of a document.
    #[derive(Debug, Clone)]
    enum Edit {
        Insert(usize, String),
        Delete(usize),
        Reindent(usize, usize),
        Duplicate(usize),
    }

    fn edit() -> impl Strategy<Value = Edit> {
        let pieces = prop::sample::select(vec![
            "#",
            " #c",
            "\t",
            "'",
            "\"",
            "&a ",
            "*a",
            "!!str ",
            "? ",
            ": ",
            "- ",
            "-",
            "|",
            ">",
            "---\n",
            "...\n",
            "%YAML 1.2\n",
            "~",
            " ",
            "  ",
            "\n",
            "\r",
            "{",
            "}",
            "[",
            "]",
            ",",
            "\\",
            "\\u",
            "<<: ",
            "\u{85}",
            "\u{feff}",
            "\u{2028}",
            "a:",
            "a: 1\n",
            "\n- ",
        ])
        .prop_map(String::from);
        prop_oneof![
            (any::<usize>(), prop_oneof![4 => pieces, 1 => any::<String>()])
                .prop_map(|(at, s)| Edit::Insert(at, s)),
            any::<usize>().prop_map(Edit::Delete),
            (any::<usize>(), 0..4usize).prop_map(|(line, spaces)| Edit::Reindent(line, spaces)),
            any::<usize>().prop_map(Edit::Duplicate),
        ]
    }

    fn boundary(text: &str, at: usize) -> usize {
        let mut at = at % (text.len() + 1);
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        at
    }

    fn apply(text: &mut String, edit: &Edit) {
        let mut lines: Vec<String> = text.split('\n').map(String::from).collect();
        match edit {
            Edit::Insert(at, piece) => text.insert_str(boundary(text, *at), piece),
            Edit::Delete(at) => {
                let at = boundary(text, *at);
                if at < text.len() {
                    text.remove(at);
                }
            }
            Edit::Reindent(line, spaces) => {
                let count = lines.len();
                let line = &mut lines[line % count];
                *line = format!("{}{}", " ".repeat(*spaces), line.trim_start_matches(' '));
                *text = lines.join("\n");
            }
            Edit::Duplicate(line) => {
                let line = line % lines.len();
                lines.insert(line, lines[line].clone());
                *text = lines.join("\n");
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, .. ProptestConfig::default() })]

        /// Documents of the subset are all read, exactly as the full parser reads them.
        #[test]
        fn reads_the_subset_as_the_full_parser_does(
            tree in tree(strings(WORDS), strings(KEYS)),
            seed in any::<u64>(),
        ) {
            let text = print(&tree, seed);
            let value = to_json(&text);
            prop_assert!(value.is_some(), "refused {:?}", text);
            prop_assert_eq!(full(&text), value, "{:?}", text);
        }

        /// Whatever it reads, near misses included, it reads as the full parser does.
        #[test]
        fn never_reads_otherwise_than_the_full_parser(
            tree in tree(
                [strings(WORDS), strings(NEAR_MISSES), long_keys()].concat(),
                [strings(KEYS), long_keys()].concat(),
            ),
            seed in any::<u64>(),
            edits in prop::collection::vec(edit(), 0..4),
        ) {
            let mut text = print(&tree, seed);
            for edit in &edits {
                apply(&mut text, edit);
            }
            if let Some(value) = to_json(&text) {
                prop_assert_eq!(full(&text), Some(value), "{:?}", text);
            }
        }
    }
}
