//! `yaml::write`, the one YAML writer (serde-saphyr's serializer with kubectl-flink's
//! options): whatever it writes reads back as exactly the value written, with kubectl-flink's
//! own (YAML 1.2) reader and with `PyYAML` (YAML 1.1, as kubectl's go-yaml reads it), so strings
//! such as `on`, `0x10`, `~` or a leading space stay strings and nothing a string holds adds
//! structure: on generated values, on strings YAML could misread, on layouts with long keys
//! and block scalars, and on every example's rendered objects.
//!
//! `KUBECTL_FLINK_FUZZ_CASES=N` runs N generated cases instead of the default.

use kubectl_flink::input::Input;
use kubectl_flink::output::{self, Format};
use kubectl_flink::{RenderOptions, render, yaml};
use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::{Map, Number, Value, json};

use crate::support::{examples, root, yaml_files};

fn written(value: &Value) -> String {
    yaml::to_string(value)
}

/// Whole strings that YAML 1.1 or 1.2 reads as something else, or that start, end or contain
/// YAML syntax, line breaks, escapes or unusual characters.
#[rustfmt::skip]
const NASTY: &[&str] = &[
    // Null, booleans and floats in YAML 1.1 and 1.2, in every case.
    "", "~", "y", "Y", "n", "N", "yes", "Yes", "YES", "no", "No", "NO", "on", "On", "ON",
    "off", "Off", "OFF", "true", "True", "TRUE", "tRUE", "false", "False", "FALSE", "null",
    "Null", "NULL", "nULL", "nan", "NaN", ".nan", ".NaN", "inf", "Inf", "+inf", "-INF", ".inf",
    "-.inf", "+.Inf", "<<", "=",
    // Numbers, base 60, dates and timestamps, and near misses.
    "0", "-0", "+1", "-1", "012", "0x10", "0X1f", "0o17", "0b101", "0b+1", "1e3", "1E-3", "1e",
    "1_000", "_1", "1__0", "1.", ".5", "1.5.5", ".", "..", "0.1", "1e300", "-0.0", "1:30",
    "190:20:30", "0:30", "1:60", "2024-01-02", "2024-1-2", "2001-12-14t21:59:43.10-05:00",
    "2001-12-14 21:59:43.10 Z",
    // Indicators, comments, document markers, quotes, flow characters, edge white space.
    "-", "?", ":", "#", "- a", "? a", ": a", "-a", "?a", ":a", "a: b", "a:b", "a:", "a :",
    "a #b", "a#b", "#a", " a", "a ", "\ta", "a\t", " ", "---", "...", "--- a", "---a", "... a",
    "*a", "&a", "!a", "!!str", "|", "|a", ">", ">-", "%YAML", "@a", "`a`", "'a'", "\"a\"",
    "a'b", "a\"b", "a\\b", "\\", "a,b", "[a]", "{a}", "a]", "a}", ",a", "a\tb",
    // Line breaks: single, leading, trailing, only, CR LF; indented and tabbed first lines.
    "a\nb", "a\n", "\na", "\n", "\n\n", "a\n\n", "a\n\n\n", "\n\na", "a\r\nb", "a\r\n", "\r",
    "a\rb", "  a\nb", "\n  a", " \n", "a\n \n", "\t\n", "a\n\tb", "\ta\nb", "#x\ny", "- a\n- b",
    "a: b\nc: d", "---\n",
    // Controls, DEL, C1, NBSP, BOM, separators, non-characters, beyond the BMP.
    "a\u{0}b", "\u{7}", "\u{8}", "\u{b}", "\u{c}", "\u{1b}", "\u{1f}", "\u{7f}", "\u{80}",
    "\u{85}", "\u{9f}", "\u{a0}", "a\u{a0}", "\u{feff}", "\u{feff}a", "\u{2028}", "a\u{2029}b",
    "\u{fffe}", "\u{ffff}", "a\u{85}b\nc", "a\u{2028}\nb", "a\u{feff}\nb", "😀", "é", "é\nü",
    // Ordinary text.
    "app.kubernetes.io/name", "flink:2.1", "/opt/flink/conf", "2Gi", "a b", "a  b", "a b ",
];

/// Pieces that, joined, make strings no list holds.
#[rustfmt::skip]
const PIECES: &[&str] = &[
    "a", "Yes", "on", "1", "0x", "e3", ".", "_", " ", "  ", ":", ": ", "#", " #", "-", "- ", "?",
    "\n", "\r\n", "\t", "'", "\"", "\\", "{", "}", "[", "]", ",", "*", "&", "!", "|", ">", "%",
    "@", "`", "~", "---", "...", "\u{0}", "\u{7f}", "\u{85}", "\u{a0}", "\u{2028}", "\u{feff}",
    "😀", "é",
];

fn string() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(NASTY).prop_map(str::to_owned),
        4 => prop::collection::vec(prop::sample::select(PIECES), 1..5).prop_map(|p| p.concat()),
        2 => prop::collection::vec(any::<char>(), 0..8).prop_map(String::from_iter),
        2 => "[a-z][a-z0-9.-]{0,12}",
        1 => long_string(),
    ]
}

/// Strings around 1024 characters, YAML's limit for an implicit key, in bytes and in
/// characters, some of which grow past it when quoted.
fn long_string() -> impl Strategy<Value = String> {
    (prop::sample::select(&["a", "é", "a b", "\"", "\n", "x\n", " a"][..]), 1000usize..1100)
        .prop_map(|(piece, chars)| piece.chars().cycle().take(chars).collect())
}

fn number() -> impl Strategy<Value = Number> {
    prop_oneof![
        prop::sample::select(vec![
            Number::from(i64::MIN),
            Number::from(i64::MAX),
            Number::from(u64::MAX),
            Number::from(0u64),
            Number::from(-1i64),
        ]),
        any::<i64>().prop_map(Number::from),
        any::<u64>().prop_map(Number::from),
        prop::sample::select(vec![0.0, -0.0, 1e300, -1e300, 0.1, 1.5, 1e-7, 1e16, 1e15, 5e-324])
            .prop_map(|f| Number::from_f64(f).expect("finite")),
        any::<f64>().prop_filter_map("finite", Number::from_f64),
    ]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        1 => Just(Value::Null),
        1 => any::<bool>().prop_map(Value::Bool),
        1 => number().prop_map(Value::Number),
        3 => string().prop_map(Value::String),
    ]
}

/// Nested maps and sequences, empty ones, sequences of sequences and of maps.
fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 48, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((string(), inner), 0..5)
                .prop_map(|entries| Value::Object(entries.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn cases() -> u32 {
    std::env::var("KUBECTL_FLINK_FUZZ_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(400)
}

/// The value a YAML document reads back as.
fn read_back(text: &str) -> Value {
    let mut documents = yaml::parse_documents(text).expect("the output is YAML");
    assert_eq!(documents.len(), 1, "one document: {text}");
    // The reader gives a document holding only `null` no root node.
    documents.remove(0).root.map_or(Value::Null, |root| root.to_json().expect("resolves"))
}

proptest! {
    #![proptest_config(Config { cases: cases(), ..Config::default() })]

    /// No string, key or number changes the structure: what is written reads back as itself.
    #[test]
    fn what_the_writer_writes_reads_back_unchanged(value in value()) {
        let text = format!("---\n{}", written(&value));
        prop_assert_eq!(read_back(&text), value, "{}", text);
    }
}

/// Writes each value, asserts that kubectl-flink's reader reads it back unchanged, and
/// that `PyYAML` does too.
fn assert_reads_back(values: &[Value]) {
    let mut outputs = Vec::new();
    for value in values {
        // Under a key: the injection test's reader wants a root node, which `null` is not.
        let value = json!({ "v": value });
        let text = format!("---\n{}", written(&value));
        assert_eq!(read_back(&text), value, "{text}");
        outputs.push(text.into_bytes());
    }
    crate::injection::check_with_pyyaml(&outputs);
}

#[test]
fn every_nasty_string_as_key_value_and_item_reads_back_as_itself() {
    let mut values = Vec::new();
    for s in NASTY {
        values.push(json!(s));
        values.push(json!({ *s: s, "k": [s, [s], { *s: [s] }] }));
        values.push(json!([[s, { "k": s }], { "k": { *s: s } }]));
    }
    assert_reads_back(&values);
}

#[test]
fn yaml_1_1_words_and_numbers_are_quoted() {
    for s in [
        "on",
        "Off",
        "yes",
        "NO",
        "y",
        "~",
        "null",
        "0x10",
        "0o17",
        "1e3",
        "1_000",
        "012",
        "1:30",
        "2024-01-02",
        ".inf",
    ] {
        let text = written(&json!({ "k": s }));
        assert!(text.starts_with("k: \"") || text.starts_with("k: '"), "{s:?} unquoted: {text}");
    }
}

#[test]
fn layouts_read_back_unchanged() {
    let long_key = "k".repeat(1025);
    assert_reads_back(&[
        json!(null),
        json!(1),
        json!(-1.5),
        json!({}),
        json!([]),
        json!([[]]),
        json!([{}]),
        json!({"a": {}, "b": [], "c": [[]], "d": [{}], "e": [[1, [2, []]], {"f": [3]}]}),
        json!([[[["deep"]]], [{"a": [{"b": "x\ny\n"}]}]]),
        json!({"a": ["x\n  y", "  x\n", "\n", "\n\n", "x", "x\n\n"]}),
        json!({ long_key.clone(): "v" }),
        json!({ long_key.clone(): {"a": 1, "b": [2]} }),
        json!({ long_key.clone(): [1, {"a": 2}] }),
        json!({ long_key.clone(): {} }),
        json!({ long_key.clone(): [] }),
        json!({ long_key.clone(): "a\nb\n" }),
        json!([{ long_key.clone(): { long_key.clone(): [[1]] }, "z": 1 }]),
        json!({"s": "é".repeat(1000), "é".repeat(1000): 1, "\"".repeat(600): 2}),
    ]);
}

/// Multi-line text (config files in `ConfigMap`s) is a literal block, never folded.
#[test]
fn multi_line_text_is_a_literal_block() {
    let text =
        written(&json!({"data": {"flink-conf.yaml": "a: 1\nb: 2\n", "long": "word ".repeat(40)}}));
    assert!(text.contains("flink-conf.yaml: |\n    a: 1\n    b: 2\n"), "{text}");
    assert!(!text.contains(": >"), "{text}");
}

/// The objects an example renders to, read back from the JSON list output.
fn rendered(path: &std::path::Path, format: Format) -> Vec<u8> {
    let text = std::fs::read_to_string(path).unwrap();
    let input = Input { origin: path.display().to_string(), text };
    let options = RenderOptions { format, ..RenderOptions::default() };
    render(&[input], &options).expect("the example renders").stdout.into_bytes().unwrap()
}

/// `-o yaml` holds exactly the objects `-o json` lists, for every example.
#[test]
fn every_examples_yaml_reads_back_as_its_json() {
    let mut paths = examples();
    paths.extend(yaml_files(&root().join("examples/native")));
    for path in paths {
        let list: Value = serde_json::from_slice(&rendered(&path, Format::Json)).unwrap();
        let objects = list["items"].as_array().expect("a List").clone();
        assert!(!objects.is_empty(), "{}", path.display());
        let stream = String::from_utf8(rendered(&path, Format::Yaml)).unwrap();
        let read: Vec<Value> = yaml::parse_documents(&stream)
            .unwrap()
            .into_iter()
            .map(|d| d.root.unwrap().to_json().unwrap())
            .collect();
        assert_eq!(read, objects, "{}", path.display());
        assert_eq!(String::from_utf8(output::encode_yaml(&objects)).unwrap(), stream);
    }
}
