//! The typed check, cheap by design: at run time it reads only what a user wrote (their
//! templates, a pod template merged into a built-in one) through its k8s-openapi type,
//! because the built-in templates print exactly what their types serialize, which is proven
//! here for every example (native ones in both phases), every native scenario, every
//! injection payload and generated specs. And a misspelt field
//! at any depth of a user template is an error naming its path, never silently dropped.

use std::fmt::Write as _;
use std::path::Path;

use kubectl_flink::Policy;
use kubectl_flink::input::Input;
use kubectl_flink::model::{Model, native};
use kubectl_flink::render::{Document, Renderer};
use kubectl_flink::{Error, check, pipeline, yaml};
use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::{Value, json};

use crate::support::{examples, root, yaml_files};

/// A uid for native mode's owned phase (the API server assigns the real one).
const UID: &str = "3f0c1c64-1b8e-4a6f-9a53-1f5b8e9d2c7a";

/// The documents the built-in templates render for the specs in `text`, before the check.
fn documents(origin: &str, text: String) -> Result<Vec<Document>, Error> {
    let input = Input { origin: origin.into(), text };
    let specs = pipeline::load_valid(&[input], &[], Policy::default(), None)?;
    let renderer = Renderer::new(None)?;
    let mut documents = Vec::new();
    for spec in &specs {
        // A spec without ownerReferences takes no uid.
        let owner_uid = native::owner_references(&spec.valid).then_some(UID);
        let options =
            native::Options { phase: Some(native::Phase::All), owner_uid, ..Default::default() };
        let model = Model::build(&spec.valid, &options)?.expect("phase all renders every cluster");
        documents.extend(renderer.render(&model)?);
    }
    Ok(documents)
}

/// The document's object is exactly what its k8s-openapi type serializes it to.
fn assert_round_trip(origin: &str, document: &Document) {
    assert!(!document.user);
    // serde_json keeps the last of a repeated key; the strict YAML reader refuses it, so a
    // template that printed a key twice would show here.
    let strict = kubectl_flink::yaml::parse_documents_with(
        &document.text,
        kubectl_flink::yaml::Limits::PACKAGE,
    )
    .unwrap_or_else(|e| panic!("{origin}: {} is not strict YAML: {e}", document.template));
    let strict = strict[0].root.as_ref().unwrap().to_json().unwrap();
    let (printed, typed) = check::printed_and_typed(document).unwrap();
    if document.pod_template.is_none() {
        assert_eq!(strict, printed, "{origin}: {}", document.template);
    }
    assert_eq!(
        printed, typed,
        "{origin}: {} printed what its k8s-openapi type does not serialize back (a null, an \
         empty field, an unknown field?):\n{}",
        document.template, document.text
    );
}

fn spec_files() -> Vec<std::path::PathBuf> {
    let mut files = examples();
    files.extend(yaml_files(&root().join("examples/native")));
    files.extend(yaml_files(&root().join("tests/native/scenarios")));
    files
}

#[test]
fn examples_print_what_their_types_serialize() {
    let mut templates = std::collections::BTreeSet::new();
    for path in spec_files() {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(&path).unwrap();
        for document in documents(&origin, text).unwrap() {
            assert_round_trip(&origin, &document);
            templates.insert(document.template);
        }
    }
    // Every built-in template took part.
    let all: Vec<&str> = kubectl_flink::render::BUILTIN
        .iter()
        .map(|(name, _)| *name)
        .filter(|name| !Path::new(name).file_name().unwrap().to_str().unwrap().starts_with('_'))
        .collect();
    let missing: Vec<&&str> = all.iter().filter(|name| !templates.contains(**name)).collect();
    assert!(missing.is_empty(), "no example renders {missing:?}");
}

/// Specs with `value` in one free-text field each, for a standalone and a native cluster.
fn specs_with(value: &str) -> Vec<Value> {
    let base = |mode: &str| {
        json!({
            "apiVersion": "kubectl-flink/v1alpha1",
            "kind": "FlinkJobCluster",
            "metadata": {"name": "payload"},
            "spec": {"image": "flink:2.1", "mode": mode, "job": {"args": ["--in"]}},
        })
    };
    let mut specs = Vec::new();
    for mode in ["standalone", "native"] {
        let mut spec = base(mode);
        spec["spec"]["job"]["args"] = json!(["--in", value]);
        if mode == "native" {
            spec["spec"]["job"]["jarURI"] = json!("local:///opt/flink/usrlib/job.jar");
        }
        specs.push(spec.clone());
        spec["metadata"]["annotations"] = json!({ "note": value });
        specs.push(spec.clone());
        spec["spec"]["env"] = json!([{"name": "NOTE", "value": value}]);
        specs.push(spec.clone());
        spec["spec"]["flinkConfiguration"] = json!({ "custom.option": value });
        specs.push(spec);
    }
    specs
}

#[test]
fn injection_payloads_print_what_their_types_serialize() {
    let (mut specs, mut rendered) = (0, 0);
    for payload in crate::injection::payloads() {
        for spec in specs_with(&payload.value) {
            specs += 1;
            let origin = format!("payload {}", payload.name);
            // A value refused by validation renders nothing: nothing to check.
            let Ok(documents) = documents(&origin, spec.to_string()) else { continue };
            rendered += 1;
            for document in &documents {
                assert_round_trip(&origin, document);
            }
        }
    }
    // Any job argument renders, and most values elsewhere.
    assert!(rendered * 4 >= specs * 3, "only {rendered} of {specs} specs rendered");
}

/// The Kubernetes fragments a spec passes into its pods may carry what their types drop:
/// nulls, and unknown fields that hold nothing but empty mappings and nulls (an unknown field
/// holding `null` or a list is refused). They come out as their types print them, in both
/// modes (the built-in documents are not read through their types at run time).
#[test]
fn fragments_with_nulls_and_empty_unknown_fields_print_what_their_types_serialize() {
    for junk in [json!({}), json!({"a": null}), json!({"a": {"b": null}})] {
        let toleration = json!({"key": "dedicated", "operator": "Equal", "value": "flink",
            "effect": "NoSchedule", "tolerationSeconds": null, "junk": junk});
        let env = json!({"name": "FOO", "value": "bar", "valueFrom": null, "junk": junk});
        let standalone = json!({
            "apiVersion": "kubectl-flink/v1alpha1", "kind": "FlinkJobCluster",
            "metadata": {"name": "fragments"},
            "spec": {
                "image": "flink:2.2", "flinkVersion": "2.2",
                "tolerations": [toleration], "env": [env],
                "affinity": {"nodeAffinity": null, "junk": junk},
                "securityContext": {"runAsUser": 9999, "fsGroup": null, "junk": junk},
                "envFrom": [{"configMapRef": {"name": "c", "optional": null}, "junk": junk}],
                "volumes": [{"name": "scratch", "emptyDir": {"sizeLimit": null}, "secret": null, "junk": junk}],
                "volumeMounts": [{"name": "scratch", "mountPath": "/tmp/flink", "readOnly": null, "junk": junk}],
            },
        });
        let native = json!({
            "apiVersion": "kubectl-flink/v1alpha1", "kind": "FlinkJobCluster",
            "metadata": {"name": "fragments"},
            "spec": {
                "image": "flink:2.2", "flinkVersion": "2.2", "mode": "native",
                "job": {"jarURI": "local:///opt/flink/usrlib/job.jar"},
                "tolerations": [toleration], "env": [env],
            },
        });
        for spec in [standalone, native] {
            let origin = format!("fragments with `junk: {junk}`");
            let documents = documents(&origin, spec.to_string()).expect("renders");
            for document in &documents {
                assert_round_trip(&origin, document);
                assert!(!document.text.contains("junk"), "{origin}: {}", document.text);
            }
        }
    }
}

fn cases() -> u32 {
    std::env::var("KUBECTL_FLINK_FUZZ_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(128)
}

proptest! {
    #![proptest_config(Config { cases: cases(), ..Config::default() })]

    /// The property tests' generated values in every free-text field (`props.rs`).
    #[test]
    fn generated_values_print_what_their_types_serialize(value in crate::props::payload()) {
        let spec = crate::props::spec_with(&value);
        if let Ok(documents) = documents("generated.yaml", spec.to_string()) {
            for document in &documents {
                assert_round_trip("generated.yaml", document);
            }
        }
    }

    /// The fuzz tests' generated specs (`fuzz.rs`): fields set to generated values.
    #[test]
    fn generated_specs_print_what_their_types_serialize(spec in crate::fuzz::spec()) {
        if let Ok(documents) = documents("generated.yaml", spec.to_string()) {
            for document in &documents {
                assert_round_trip("generated.yaml", document);
            }
        }
    }
}

/// One step of a path into an object.
#[derive(Clone)]
enum Step {
    Key(String),
    Index(usize),
}

/// The path as the check's messages spell it: `spec.ports[0].name`.
fn spelt(path: &[Step]) -> String {
    let mut out = String::new();
    for step in path {
        match step {
            Step::Key(key) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            Step::Index(i) => {
                let _ = write!(out, "[{i}]");
            }
        }
    }
    out
}

/// Every map entry of `value`: its path, and whether its value is vacuous (null, empty
/// collections only), which the check drops rather than refuses.
fn entries(value: &Value, at: &mut Vec<Step>, out: &mut Vec<(Vec<Step>, bool)>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                at.push(Step::Key(key.clone()));
                out.push((at.clone(), is_vacuous(v)));
                entries(v, at, out);
                at.pop();
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                at.push(Step::Index(i));
                entries(v, at, out);
                at.pop();
            }
        }
        _ => {}
    }
}

fn is_vacuous(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Object(map) => map.values().all(is_vacuous),
        Value::Array(items) => items.is_empty(),
        _ => false,
    }
}

/// The parent of the entry at `path`, and the entry's key.
fn parent<'a>(
    value: &'a mut Value,
    path: &[Step],
) -> (&'a mut serde_json::Map<String, Value>, String) {
    let (Step::Key(key), steps) = path.split_last().unwrap() else { unreachable!() };
    let mut node = value;
    for step in steps {
        node = match step {
            Step::Key(k) => &mut node[k.as_str()],
            Step::Index(i) => &mut node[*i],
        };
    }
    (node.as_object_mut().unwrap(), key.clone())
}

/// Every key of every example's objects, misspelt in turn in a user template: the check
/// refuses it and names the misspelt field (or the first leaf under it), or keeps it where
/// the type holds free-form keys (labels, annotations, `ConfigMap` data, resource limits).
#[test]
fn a_misspelt_field_at_any_depth_of_a_user_template_is_named() {
    let mut paths = examples();
    paths.extend(yaml_files(&root().join("examples/native")));
    let (mut refused, mut kept) = (0, 0);
    for path in paths {
        let origin = path.display().to_string();
        for document in documents(&origin, std::fs::read_to_string(&path).unwrap()).unwrap() {
            let (printed, _) = check::printed_and_typed(&document).unwrap();
            let mut all = Vec::new();
            entries(&printed, &mut Vec::new(), &mut all);
            for (at, vacuous) in all {
                let top = matches!(&at[..], [Step::Key(k)] if k == "apiVersion" || k == "kind");
                if vacuous || top {
                    continue;
                }
                let mut value = printed.clone();
                let (map, key) = parent(&mut value, &at);
                let misspelt = format!("{key}x");
                let moved = map.remove(&key).unwrap();
                map.insert(misspelt.clone(), moved);
                let mut misspelt_at = at.clone();
                *misspelt_at.last_mut().unwrap() = Step::Key(misspelt.clone());
                let user = Document {
                    template: document.template.clone(),
                    user: true,
                    text: yaml::to_string(&value),
                    pod_template: None,
                };
                let field = spelt(&misspelt_at);
                match check::check(std::slice::from_ref(&user)) {
                    Err(err) => {
                        let message = err.to_string();
                        assert_eq!(err.exit_code(), 1, "{message}");
                        if let Some(at) = message.find(&format!("field `{field}")) {
                            let rest = &message[at + "field `".len() + field.len()..];
                            assert!(
                                rest.starts_with(['`', '.', '['])
                                    && rest.contains("is not part of"),
                                "{origin}: {field}: {message}"
                            );
                            refused += 1;
                        } else {
                            // A free-form key (a label) that an API rule needs: the rule
                            // names it, misspelt or as the key it misses.
                            assert!(message.contains(&key), "{origin}: {field}: {message}");
                        }
                    }
                    Ok(mut objects) => {
                        let (map, key) = parent(&mut objects[0].value, &misspelt_at);
                        assert!(map.contains_key(&key), "{origin}: {field} was dropped");
                        kept += 1;
                    }
                }
            }
        }
    }
    assert!(refused > 500 && kept > 50, "refused {refused}, kept {kept}");
}
