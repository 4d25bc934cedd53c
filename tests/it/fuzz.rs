//! Property-based fuzzing of the `render` and `fn` entry points: generated specs, mutated
//! examples, `--set` arguments and raw bytes. Whatever the input: no panic, no internal
//! error (exit 3), no output on failure, and valid YAML on success.
//!
//! Each target runs a bounded number of cases so `cargo test` stays fast; set
//! `KUBECTL_FLINK_FUZZ_CASES=N` to run N cases per library target (process targets run a
//! quarter of that, since each case starts the binary), e.g. `KUBECTL_FLINK_FUZZ_CASES=20000
//! cargo test --test it fuzz::`.

use kubectl_flink::input::{self, Input};
use kubectl_flink::output::Format;
use kubectl_flink::overrides::Override;
use kubectl_flink::{RenderOptions, yaml};
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence};
use serde_json::{Map, Value, json};

use crate::support::{examples, run};

/// Cases per library target: `KUBECTL_FLINK_FUZZ_CASES`, or `default`.
fn cases(default: u32) -> u32 {
    std::env::var("KUBECTL_FLINK_FUZZ_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(default)
}

fn config(default: u32) -> Config {
    Config {
        cases: cases(default),
        failure_persistence: Some(Box::new(FileFailurePersistence::SourceParallel(
            "proptest-regressions",
        ))),
        ..Config::default()
    }
}

/// Process targets: a quarter of the library budget, at least 8.
fn process_config(default: u32) -> Config {
    Config { cases: (cases(default * 4) / 4).max(8), ..config(default) }
}

/// What a render may do: fail cleanly with an input or usage error, or succeed with a YAML
/// stream of Kubernetes objects (and the same objects as a JSON list).
fn check_render(inputs: &[Input], overrides: &[Override]) -> Result<(), TestCaseError> {
    let options = RenderOptions { format: Format::Yaml, overrides, ..RenderOptions::default() };
    match kubectl_flink::render(inputs, &options) {
        Err(err) => {
            prop_assert!(err.exit_code() == 1 || err.exit_code() == 2, "internal error: {err}");
            prop_assert!(!err.to_string().is_empty());
        }
        Ok(outcome) => {
            let text =
                String::from_utf8(outcome.stdout.into_bytes().unwrap()).expect("output is UTF-8");
            let documents = yaml::parse_documents(&text)
                .map_err(|e| TestCaseError::fail(format!("output is not YAML: {e:?}\n{text}")))?;
            prop_assert!(!documents.is_empty());
            let objects: Vec<Value> = documents
                .iter()
                .map(|d| d.root.as_ref().expect("no empty document").to_json().expect("resolves"))
                .collect();
            for object in &objects {
                prop_assert!(object["apiVersion"].is_string() && object["kind"].is_string());
            }
            let options = RenderOptions { format: Format::Json, ..options };
            let list =
                kubectl_flink::render(inputs, &options).expect("YAML rendered, so JSON does");
            let list: Value = serde_json::from_slice(&list.stdout.into_bytes().unwrap())
                .expect("one JSON document");
            prop_assert_eq!(&list["items"], &Value::Array(objects));
        }
    }
    Ok(())
}

fn input(text: String) -> Input {
    Input { origin: "fuzz.yaml".into(), text }
}

/// Strings that matter to some field: valid values, near misses, payloads.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "wordcount",
            "flink:2.1",
            "1.20",
            "2.1",
            "1.8",
            "zookeeper",
            "zk:2181",
            "/flink",
            "s3://b/ha",
            "hdfs://nn/sp",
            "org.example.Main",
            "1",
            "500m",
            "1600Mi",
            "2Gi",
            "NodePort",
            "ClusterIP",
            "LoadBalancer",
            "Always",
            "IfNotPresent",
            "",
            " ",
            "a b",
            "-x",
            "x-",
            "A",
            "on",
            "yes",
            "~",
            "null",
            "0x1",
            "1e3",
            ".inf",
            "{{ x }}",
            "${X}",
            "a\nb",
            "a: b",
            "- a",
            "#",
            "---",
            "\u{2028}",
            "\u{85}",
            "\u{7f}",
            "\u{ffff}",
            "\u{feff}",
            "\u{202e}",
            "\t",
            "\"",
            "'",
            "app.kubernetes.io/name",
            "state.backend.type",
            "parallelism.default",
            "high-availability.type",
        ])
        .prop_map(str::to_owned),
        "\\PC{0,12}",
        ".{0,6}",
    ]
}

/// Any JSON-ish value, shallow.
fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        text().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        prop::sample::select(vec![0i64, 1, -1, 2, 1024, 1025, 10_000, 32_768, 32_769])
            .prop_map(Value::from),
        any::<bool>().prop_map(Value::from),
        Just(Value::Null),
        (-1e6f64..1e6).prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 12, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(text(), inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Every field path of a spec, and some that are not.
const FIELDS: &[&str] = &[
    "/metadata/name",
    "/metadata/namespace",
    "/metadata/labels/team",
    "/metadata/annotations/note",
    "/spec/image",
    "/spec/imagePullPolicy",
    "/spec/flinkVersion",
    "/spec/job",
    "/spec/job/entryClass",
    "/spec/job/args",
    "/spec/job/parallelism",
    "/spec/job/fromSavepoint",
    "/spec/job/allowNonRestoredState",
    "/spec/jobManager/resources/cpu",
    "/spec/jobManager/resources/memory",
    "/spec/taskManager/replicas",
    "/spec/taskManager/slots",
    "/spec/taskManager/resources",
    "/spec/taskManager/autoscaling",
    "/spec/taskManager/autoscaling/maxReplicas",
    "/spec/flinkConfiguration/scheduler-mode",
    "/spec/service/type",
    "/spec/highAvailability",
    "/spec/highAvailability/type",
    "/spec/highAvailability/zookeeper/quorum",
    "/spec/highAvailability/zookeeper/pathRoot",
    "/spec/highAvailability/storageDir",
    "/spec/savepointDir",
    "/spec/flinkConfiguration",
    "/spec/flinkConfiguration/state.backend.type",
    "/spec/flinkConfiguration/a",
    "/kind",
    "/apiVersion",
    "/metadata",
    "/spec",
    "/spec/unknown",
];

fn set_pointer(root: &mut Value, pointer: &str, value: Value) {
    let mut node = root;
    let parts: Vec<&str> = pointer.split('/').skip(1).collect();
    for (i, part) in parts.iter().enumerate() {
        if !node.is_object() {
            *node = Value::Object(Map::new());
        }
        let map = node.as_object_mut().unwrap();
        if i + 1 == parts.len() {
            map.insert((*part).to_owned(), value);
            return;
        }
        node = map.entry(*part).or_insert_with(|| Value::Object(Map::new()));
    }
}

/// A spec: a valid core with fields set to generated values.
pub fn spec() -> impl Strategy<Value = Value> {
    let edits = prop::collection::vec((prop::sample::select(FIELDS), value()), 0..6);
    let ha = any::<bool>();
    (edits, ha).prop_map(|(edits, ha)| {
        let mut spec = json!({
            "apiVersion": "kubectl-flink/v1alpha1",
            "kind": "FlinkJobCluster",
            "metadata": {"name": "fuzz"},
            "spec": {"image": "flink:2.1"},
        });
        if ha {
            spec["spec"]["highAvailability"] = json!({
                "type": "zookeeper", "zookeeper": {"quorum": "zk:2181"}, "storageDir": "s3://b/ha"
            });
        }
        for (pointer, value) in edits {
            set_pointer(&mut spec, pointer, value);
        }
        spec
    })
}

/// An example's text with a few byte-level mutations, YAML syntax characters favoured.
fn mutated_example() -> impl Strategy<Value = Vec<u8>> {
    let texts: Vec<Vec<u8>> = examples().iter().map(|p| std::fs::read(p).unwrap()).collect();
    let mutation = (
        0usize..4,
        any::<prop::sample::Index>(),
        prop::collection::vec(
            prop_oneof![
                prop::sample::select(b":-[]{}#&*!|>'\"%@`,? \t\n\\~".to_vec()),
                any::<u8>()
            ],
            0..4,
        ),
        0usize..8,
    );
    (prop::sample::select(texts), prop::collection::vec(mutation, 1..5)).prop_map(
        |(mut text, mutations)| {
            for (kind, at, bytes, len) in mutations {
                let at = at.index(text.len() + 1);
                match kind {
                    0 => drop(text.splice(at..at, bytes)),
                    1 => drop(text.drain(at..(at + len).min(text.len()))),
                    2 => {
                        let end = (at + len).min(text.len());
                        text.splice(at..end, bytes);
                    }
                    _ => text.truncate(at),
                }
            }
            text
        },
    )
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn generated_specs_render_or_fail_cleanly(spec in spec(), as_yaml in any::<bool>()) {
        let text = if as_yaml {
            String::from_utf8(kubectl_flink::output::encode_yaml([&spec])).unwrap()
        } else {
            spec.to_string()
        };
        check_render(&[input(text)], &[])?;
    }

    #[test]
    fn mutated_examples_render_or_fail_cleanly(bytes in mutated_example()) {
        if let Ok(input) = input::decode("fuzz.yaml".into(), bytes) {
            check_render(&[input], &[])?;
        }
    }

    #[test]
    fn arbitrary_bytes_render_or_fail_cleanly(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        match input::decode("fuzz.yaml".into(), bytes) {
            Ok(input) => check_render(&[input], &[])?,
            Err(err) => prop_assert_eq!(err.exit_code(), 1),
        }
    }

    #[test]
    fn set_arguments_render_or_fail_cleanly(
        example in prop::sample::select(examples()),
        sets in prop::collection::vec(
            (
                prop_oneof![
                    prop::sample::select(FIELDS).prop_map(|p| p[1..].replace('/', ".")),
                    "[a-z.\\[\\]0-9\"]{1,24}",
                ],
                prop_oneof![text(), value().prop_map(|v| v.to_string())],
            ),
            1..4,
        ),
    ) {
        let text = std::fs::read_to_string(&example).unwrap();
        let mut overrides = Vec::new();
        for (path, value) in sets {
            if let Ok(o) = format!("{path}={value}").parse::<Override>() {
                overrides.push(o);
            }
        }
        check_render(&[input(text)], &overrides)?;
    }
}

/// What a process run may do, for `render`: exit 0 with YAML, or exit 1/2 with empty stdout;
/// never a panic or a crash.
fn check_process(args: &[&str], stdin: &[u8], krm: bool) -> Result<(), TestCaseError> {
    let out = run(args, Some(stdin));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    for text in [&stderr, &stdout] {
        prop_assert!(!text.contains("panicked") && !text.contains("this is a bug"), "{text}");
    }
    let code = out.status.code();
    prop_assert!(matches!(code, Some(0..=2)), "exit {code:?}: {stderr}");
    if code == Some(0) || krm {
        let text = std::str::from_utf8(&out.stdout).expect("output is UTF-8");
        if !text.is_empty() {
            let parsed = yaml::parse_documents(text);
            prop_assert!(parsed.is_ok(), "output is not YAML: {parsed:?}\n{text}");
        }
    } else {
        prop_assert!(out.stdout.is_empty(), "partial output on exit {code:?}");
    }
    Ok(())
}

/// Whether the binary has the `fn` command (KRM function), which other work adds.
fn has_fn_command() -> bool {
    static HAS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *HAS.get_or_init(|| {
        let help = run(&["--help"], None);
        let help = String::from_utf8_lossy(&help.stdout);
        let has = help.lines().any(|l| l.trim_start().starts_with("fn "));
        if !has {
            eprintln!("NOTE: `kubectl-flink fn` does not exist yet; it was not fuzzed");
        }
        has
    })
}

/// A ResourceList holding `spec` as functionConfig and as an item, in YAML.
fn resource_list(spec: &Value, items: &[Value]) -> Vec<u8> {
    let list = json!({
        "apiVersion": "config.kubernetes.io/v1",
        "kind": "ResourceList",
        "functionConfig": spec,
        "items": items,
    });
    kubectl_flink::output::encode_yaml([&list])
}

proptest! {
    #![proptest_config(process_config(16))]

    #[test]
    fn the_render_command_never_panics(bytes in prop_oneof![
        mutated_example(),
        prop::collection::vec(any::<u8>(), 0..256),
        spec().prop_map(|s| s.to_string().into_bytes()),
    ]) {
        check_process(&["render", "-f", "-"], &bytes, false)?;
    }

    #[test]
    fn the_fn_command_never_panics(
        spec in spec(),
        items in prop::collection::vec(value(), 0..3),
        raw in prop::collection::vec(any::<u8>(), 0..128),
        mutate in any::<bool>(),
    ) {
        if !has_fn_command() {
            return Ok(());
        }
        let mut stdin = resource_list(&spec, &items);
        if mutate {
            let at = raw.len() % (stdin.len() + 1);
            stdin.splice(at..at, raw);
        }
        check_process(&["fn"], &stdin, true)?;
    }
}
