//! The built-in templates print only what the fast YAML reader (`yaml::block`) reads, so the
//! typed check takes the fast path for them, and it reads each document exactly as the full
//! parser does: for every example (native ones in both phases) and every injection payload.
//! And they print each object exactly as its k8s-openapi type serializes it, so the check
//! builds no second tree (`check::is_typed_as_printed`).

use std::path::Path;

use kubectl_flink::input::Input;
use kubectl_flink::model::{Model, native};
use kubectl_flink::render::{Document, Renderer};
use kubectl_flink::{Error, check, pipeline, yaml};
use serde_json::{Value, json};

use crate::support::{examples, root, yaml_files};

/// A uid for native mode's owned phase (the API server assigns the real one).
const UID: &str = "3f0c1c64-1b8e-4a6f-9a53-1f5b8e9d2c7a";

/// The documents the built-in templates render for the specs in `text`, before the check.
fn documents(origin: &str, text: String) -> Result<Vec<Document>, Error> {
    let input = Input { origin: origin.into(), text };
    let specs =
        pipeline::load_valid(&[input], &[], kubectl_flink::validate::Policy::default(), None)?;
    let renderer = Renderer::new(None)?;
    let options = native::Options { phase: Some(native::Phase::All), owner_uid: Some(UID) };
    let mut documents = Vec::new();
    for spec in &specs {
        let model = Model::build(&spec.valid, &options)?.expect("phase all renders every cluster");
        documents.extend(renderer.render(&model)?);
    }
    Ok(documents)
}

/// The check reads `document` with the fast reader and builds no second tree for it.
fn assert_fast_paths(origin: &str, document: &Document) {
    let full = yaml::parse_documents(&document.text).unwrap().remove(0).root.unwrap().to_json();
    assert_eq!(
        yaml::block::to_json(&document.text),
        Some(full.unwrap()),
        "{origin}: {} printed what the fast reader does not read, or reads otherwise:\n{}",
        document.template,
        document.text
    );
    assert!(
        check::is_typed_as_printed(document).unwrap(),
        "{origin}: {} printed a field its k8s-openapi type drops (null or empty?):\n{}",
        document.template,
        document.text
    );
}

fn spec_files() -> Vec<std::path::PathBuf> {
    let mut files = examples();
    files.extend(yaml_files(&root().join("examples/native")));
    files.extend(yaml_files(&root().join("tests/native/scenarios")));
    files
}

#[test]
fn examples_print_only_what_the_fast_reader_reads() {
    let mut templates = std::collections::BTreeSet::new();
    for path in spec_files() {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(&path).unwrap();
        for document in documents(&origin, text).unwrap() {
            assert_fast_paths(&origin, &document);
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
fn injection_payloads_print_only_what_the_fast_reader_reads() {
    let (mut specs, mut rendered) = (0, 0);
    for payload in crate::injection::payloads() {
        for spec in specs_with(&payload.value) {
            specs += 1;
            let origin = format!("payload {}", payload.name);
            // A value refused by validation renders nothing: nothing to read.
            let Ok(documents) = documents(&origin, spec.to_string()) else { continue };
            rendered += 1;
            for document in &documents {
                assert_fast_paths(&origin, document);
            }
        }
    }
    // Any job argument renders, and most values elsewhere.
    assert!(rendered * 4 >= specs * 3, "only {rendered} of {specs} specs rendered");
}
