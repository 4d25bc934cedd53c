//! The schema-driven check [`super::strict`] replaced, kept as a test oracle.
//!
//! `deserialize` used to generate the JSON Schema and walk the document beside it, refusing a
//! sequence wherever every alternative of the schema wants an object, before serde read the
//! document. These tests give that version and the current one the same documents (every
//! example with each of its nodes replaced, and values planted at every field the schema
//! describes) and require the same spec or the same problem, message, help and path alike.
//! A spec type the serde-level check cannot see into (a flattened field, an internally tagged
//! enum) makes them fail.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use serde_json::{Value, json};

use super::de::{explain_serde_error, segment};
use super::{FlinkCluster, KINDS, deserialize};
use crate::error::Diagnostic;
use crate::yaml::PathSegment;

/// The spec's JSON Schema, as a value.
fn spec_schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(|| serde_json::to_value(schemars::schema_for!(FlinkCluster)).unwrap())
}

/// `deserialize` as it was: the schema check, then serde on its own.
fn deserialize_by_schema(document: Value) -> Result<FlinkCluster, Diagnostic> {
    let root = spec_schema();
    let mut at = Vec::new();
    if sequence_for_struct(&document, &[root], root, &mut at) {
        return Err(Diagnostic::field(at, "wrong type: got a list, expected a map")
            .with_help("write `key: value` entries here, not a `- item` list"));
    }
    serde_path_to_error::deserialize(document).map_err(|err| {
        let path = err.path().iter().filter_map(segment).collect::<Vec<_>>();
        explain_serde_error(path, &err.into_inner().to_string())
    })
}

/// Whether `value` holds a sequence where every schema in `schemas` wants a mapping; `at`
/// is then its path.
fn sequence_for_struct(
    value: &Value,
    schemas: &[&Value],
    root: &Value,
    at: &mut Vec<PathSegment>,
) -> bool {
    let mut alternatives = Vec::new();
    for schema in schemas {
        flatten_schema(schema, root, &mut alternatives, 0);
    }
    let children = |field: Option<&str>| -> Vec<&Value> {
        alternatives
            .iter()
            .filter_map(|s| match field {
                Some(key) => s
                    .get("properties")
                    .and_then(|p| p.get(key))
                    .or_else(|| s.get("additionalProperties").filter(|a| a.is_object())),
                None => s.get("items"),
            })
            .collect()
    };
    match value {
        Value::Array(items) => {
            // `Option<Struct>` is `anyOf: [{$ref}, {type: null}]`: null is no sequence either.
            let mut types = Vec::new();
            for schema in &alternatives {
                match schema.get("type") {
                    Some(Value::String(t)) => types.push(t.as_str()),
                    Some(Value::Array(list)) => types.extend(list.iter().filter_map(Value::as_str)),
                    _ => types.push("any"),
                }
            }
            if types.contains(&"object") && types.iter().all(|t| matches!(*t, "object" | "null")) {
                return true;
            }
            let schemas = children(None);
            items.iter().enumerate().any(|(i, item)| {
                at.push(PathSegment::Index(i));
                let found = sequence_for_struct(item, &schemas, root, at);
                found || at.pop().is_none()
            })
        }
        Value::Object(map) => map.iter().any(|(key, item)| {
            at.push(PathSegment::Key(key.clone()));
            let found = sequence_for_struct(item, &children(Some(key)), root, at);
            found || at.pop().is_none()
        }),
        _ => false,
    }
}

/// A schema's alternatives, `$ref`s resolved and `anyOf`/`oneOf`/`allOf` flattened.
fn flatten_schema<'a>(schema: &'a Value, root: &'a Value, out: &mut Vec<&'a Value>, depth: u8) {
    if depth > 16 {
        return;
    }
    if let Some(target) = schema.get("$ref").and_then(Value::as_str) {
        if let Some(resolved) = target.strip_prefix('#').and_then(|p| root.pointer(p)) {
            flatten_schema(resolved, root, out, depth + 1);
        }
        return;
    }
    let mut combined = false;
    for keyword in ["anyOf", "oneOf", "allOf"] {
        for alternative in schema.get(keyword).and_then(Value::as_array).into_iter().flatten() {
            combined = true;
            flatten_schema(alternative, root, out, depth + 1);
        }
    }
    if !combined || schema.get("type").is_some() {
        out.push(schema);
    }
}

/// Every path the schema describes below `schema`, `x` standing for any map key and 0 for any
/// list index, down to `depth` steps (`ConfigValue` nests without end).
fn schema_paths(
    schema: &Value,
    at: &mut Vec<PathSegment>,
    depth: usize,
    out: &mut Vec<Vec<PathSegment>>,
) {
    if depth == 0 {
        return;
    }
    let mut alternatives = Vec::new();
    flatten_schema(schema, spec_schema(), &mut alternatives, 0);
    for alternative in alternatives {
        let properties = alternative.get("properties").and_then(Value::as_object);
        let children = properties
            .into_iter()
            .flatten()
            .map(|(name, child)| (PathSegment::Key(name.clone()), child))
            .chain(
                alternative
                    .get("additionalProperties")
                    .filter(|a| a.is_object() || a.as_bool() == Some(true))
                    .map(|child| (PathSegment::Key("x".into()), child)),
            )
            .chain(alternative.get("items").map(|child| (PathSegment::Index(0), child)));
        for (step, child) in children {
            at.push(step);
            if !out.contains(at) {
                out.push(at.clone());
            }
            schema_paths(child, at, depth - 1, out);
            at.pop();
        }
    }
}

/// `document` with `value` at `at`, making the mappings and lists on the way.
fn plant(document: &Value, at: &[PathSegment], value: &Value) -> Value {
    let mut document = document.clone();
    let mut here = &mut document;
    for step in at {
        here = match step {
            PathSegment::Key(name) => {
                if !here.is_object() {
                    *here = json!({});
                }
                here.as_object_mut().unwrap().entry(name.clone()).or_insert(Value::Null)
            }
            PathSegment::Index(index) => {
                if !here.is_array() {
                    *here = json!([]);
                }
                let items = here.as_array_mut().unwrap();
                items.resize(items.len().max(index + 1), Value::Null);
                &mut items[*index]
            }
        };
    }
    *here = value.clone();
    document
}

/// Every path to a node of `value`, `value` itself included.
fn node_paths(value: &Value, at: &mut Vec<PathSegment>, out: &mut Vec<Vec<PathSegment>>) {
    out.push(at.clone());
    match value {
        Value::Object(map) => {
            for (name, child) in map {
                at.push(PathSegment::Key(name.clone()));
                node_paths(child, at, out);
                at.pop();
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                at.push(PathSegment::Index(index));
                node_paths(child, at, out);
                at.pop();
            }
        }
        _ => {}
    }
}

fn pointer(at: &[PathSegment]) -> String {
    at.iter()
        .map(|step| match step {
            PathSegment::Key(name) => format!("/{}", name.replace('~', "~0").replace('/', "~1")),
            PathSegment::Index(index) => format!("/{index}"),
        })
        .collect()
}

/// The spec documents of `examples/` that read, parsed the way `load` parses them (the
/// envsubst example reads only after substitution).
fn example_specs() -> Vec<(String, Value)> {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "yaml") {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples"), &mut files);
    files.sort();
    let mut specs = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for document in crate::yaml::parse_documents(&text).unwrap() {
            let Some(root) = document.root else { continue };
            let value = root.to_json().unwrap();
            if value["kind"].as_str().is_some_and(|kind| KINDS.contains(&kind))
                && deserialize(value.clone()).is_ok()
            {
                specs.push((file.display().to_string(), value));
            }
        }
    }
    specs
}

/// Both versions read `document` alike; the message says where they differ.
fn compare(name: &str, document: &Value) -> Result<(), String> {
    let before = deserialize_by_schema(document.clone());
    let now = deserialize(document.clone());
    if before == now {
        Ok(())
    } else {
        Err(format!("{name}:\n  schema check: {before:?}\n  serde check:  {now:?}"))
    }
}

fn report(failures: &[String]) {
    assert!(
        failures.is_empty(),
        "{} documents read differently, e.g.:\n{}",
        failures.len(),
        failures.iter().take(10).cloned().collect::<Vec<_>>().join("\n")
    );
}

#[test]
fn examples_with_any_node_replaced_read_as_before() {
    let specs = example_specs();
    assert!(specs.len() >= 10, "only {} example specs", specs.len());
    let replacements =
        [json!([]), json!(["a"]), json!([[]]), json!([{}]), json!(null), json!("x"), json!({})];
    let mut failures = Vec::new();
    let mut compared = 0;
    for (file, spec) in &specs {
        let mut paths = Vec::new();
        node_paths(spec, &mut Vec::new(), &mut paths);
        for at in &paths {
            let original = spec.pointer(&pointer(at)).unwrap();
            let wrapped = json!([original]);
            for value in replacements.iter().chain([&wrapped]) {
                let name = format!("{file} with {} = {value}", pointer(at));
                compared += 1;
                failures.extend(compare(&name, &plant(spec, at, value)).err());
            }
        }
    }
    assert!(compared > 2500, "only {compared} documents compared");
    report(&failures);
}

#[test]
fn values_at_every_field_of_the_schema_read_as_before() {
    let base = json!({
        "apiVersion": super::API_VERSION,
        "kind": super::JOB_CLUSTER,
        "metadata": {"name": "a"},
        "spec": {"image": "flink"},
    });
    let mut paths = vec![Vec::new()];
    schema_paths(spec_schema(), &mut Vec::new(), 6, &mut paths);
    let fields = paths.iter().map(|at| pointer(at)).collect::<BTreeSet<_>>();
    // Every kind of position: struct fields, optional and defaulted structs, structs in lists,
    // maps, untagged enums, Kubernetes objects and what they hold.
    for field in [
        "/metadata",
        "/metadata/labels",
        "/spec/job",
        "/spec/job/args/0",
        "/spec/jobManager",
        "/spec/jobManager/resources/cpu",
        "/spec/highAvailability/zookeeper",
        "/spec/metrics/prometheus",
        "/spec/secrets/0",
        "/spec/flinkConfiguration/x",
        "/spec/flinkConfiguration/x/x",
        "/spec/affinity",
        "/spec/affinity/x",
        "/spec/tolerations/0",
        "/spec/taskManager/podTemplate",
    ] {
        assert!(fields.contains(field), "the schema walk misses {field}");
    }
    let values = [
        json!([]),
        json!(["a"]),
        json!([{}]),
        json!([["a"]]),
        json!([{"name": ["a"]}]),
        json!("x"),
        json!(1),
        json!(null),
        json!(true),
        json!({}),
    ];
    assert!(paths.len() > 100, "only {} fields", paths.len());
    let mut failures = Vec::new();
    for at in &paths {
        for value in &values {
            let name = format!("{} = {value}", pointer(at));
            failures.extend(compare(&name, &plant(&base, at, value)).err());
        }
    }
    report(&failures);
}
