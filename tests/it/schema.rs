//! The committed JSON Schema is current, and every example spec validates against it.

use std::process::Command;

use crate::support::{examples, root, run};

#[test]
fn committed_schema_is_current() {
    let generated = run(&["schema"], None).stdout;
    let committed = std::fs::read(root().join("schema/flink-job-cluster.schema.json")).unwrap();
    assert!(
        generated == committed,
        "schema/flink-job-cluster.schema.json is stale: run `cargo run -- schema > schema/flink-job-cluster.schema.json`"
    );
}

#[test]
fn example_specs_validate_against_the_schema() {
    let tool = std::env::var("CHECK_JSONSCHEMA").unwrap_or_else(|_| "check-jsonschema".into());
    if Command::new(&tool).arg("--version").output().is_err() {
        assert!(
            std::env::var_os("CI").is_none(),
            "check-jsonschema is missing under CI; run scripts/test"
        );
        eprintln!("SKIPPED: check-jsonschema not found (set CHECK_JSONSCHEMA or run scripts/test)");
        return;
    }
    let out = Command::new(&tool)
        .arg("--schemafile")
        .arg(root().join("schema/flink-job-cluster.schema.json"))
        .args(examples())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_schema_rejects_what_render_rejects() {
    let tool = std::env::var("CHECK_JSONSCHEMA").unwrap_or_else(|_| "check-jsonschema".into());
    if Command::new(&tool).arg("--version").output().is_err() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "apiVersion: kubectl-flink/v1alpha1\nkind: FlinkJobCluster\nmetadata: {name: a}\nspec: {image: x, taskManager: {replica: 2}}\n").unwrap();
    let out = Command::new(&tool)
        .arg("--schemafile")
        .arg(root().join("schema/flink-job-cluster.schema.json"))
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!out.status.success(), "a misspelt field must fail schema validation");
}
