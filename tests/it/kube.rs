//! Real Kubernetes tooling reads every rendered example: `kubernetes-validate --strict`
//! (schema) and `kubectl kustomize` (the client's own parser).
//!
//! The test command (`scripts/test`) installs both; without them these tests say so and
//! skip, except under CI, where a missing tool fails the run.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::support::{examples, render_file, run};

fn tool(name: &str, env_override: &str) -> Option<String> {
    let candidate = std::env::var(env_override).unwrap_or_else(|_| name.to_owned());
    let found = Command::new(&candidate)
        .arg("--help")
        .output()
        .is_ok_and(|o| o.status.success() || !o.stdout.is_empty());
    if found {
        return Some(candidate);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "`{name}` is missing under CI; run scripts/test, which installs it"
    );
    eprintln!("SKIPPED: `{name}` not found (set {env_override} or run scripts/test)");
    None
}

#[test]
fn every_example_passes_kubernetes_validate_strict() {
    let Some(validate) = tool("kubernetes-validate", "KUBERNETES_VALIDATE") else { return };
    let dir = tempfile::tempdir().unwrap();
    for example in examples() {
        let rendered = dir.path().join(example.file_name().unwrap());
        std::fs::write(&rendered, render_file(&example)).unwrap();
        let out =
            Command::new(&validate).args(["--strict", "--quiet"]).arg(&rendered).output().unwrap();
        assert!(
            out.status.success(),
            "{} fails kubernetes-validate --strict:\n{}{}",
            example.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// `kubectl kustomize` reads the rendered YAML as the objects kubectl-flink means: what it
/// prints, parsed, equals `render -o json` (the same objects as JSON, which has one reading),
/// object by object and field by field. A value kubectl's YAML reader types or splits otherwise
/// (an unquoted `on`, `0x10` or `1e3`, a broken line, a lost or extra object) is a difference.
#[test]
fn kubectl_kustomize_reads_the_rendered_output() {
    let Some(kubectl) = tool("kubectl", "KUBECTL") else { return };
    for example in examples() {
        let dir = tempfile::tempdir().unwrap();
        write_kustomization(dir.path(), &render_file(&example));
        let out = Command::new(&kubectl).arg("kustomize").arg(dir.path()).output().unwrap();
        assert!(
            out.status.success(),
            "{}: {}",
            example.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        let built = String::from_utf8(out.stdout).unwrap();
        let read = by_identity(
            kubectl_flink::yaml::parse_documents(&built)
                .unwrap_or_else(|e| panic!("{}: kustomize's output: {e:?}", example.display()))
                .into_iter()
                .filter_map(|d| d.root)
                .map(|root| root.to_json().expect("kustomize's output resolves to JSON"))
                .collect(),
        );
        let json = run(&["render", "-f", example.to_str().unwrap(), "-o", "json"], None);
        assert!(json.status.success(), "{}: render -o json failed", example.display());
        let list: Value = serde_json::from_slice(&json.stdout).expect("render -o json is JSON");
        let meant = by_identity(list["items"].as_array().expect("a v1 List").clone());
        assert!(meant.len() >= 2, "{}: only {} objects", example.display(), meant.len());
        let differences: Vec<String> = meant
            .keys()
            .chain(read.keys().filter(|k| !meant.contains_key(*k)))
            .filter(|k| meant.get(*k) != read.get(*k))
            .map(|k| match (meant.get(k), read.get(k)) {
                (Some(a), Some(b)) => {
                    let mut lines = Vec::new();
                    diff(a, b, "", &mut lines);
                    format!("{k}:\n    {}", lines.join("\n    "))
                }
                (Some(_), None) => format!("{k}: kustomize lost it"),
                _ => format!("{k}: kustomize made it up"),
            })
            .collect();
        assert!(
            differences.is_empty(),
            "{}: kubectl kustomize reads other objects than kubectl-flink rendered:\n{}",
            example.display(),
            differences.join("\n")
        );
    }
}

/// Where two JSON values differ, as `path: rendered … kustomize read …` lines.
fn diff(meant: &Value, read: &Value, path: &str, out: &mut Vec<String>) {
    match (meant, read) {
        (Value::Object(a), Value::Object(b)) => {
            for key in a.keys().chain(b.keys().filter(|k| !a.contains_key(*k))) {
                let sub = format!("{path}.{key}");
                match (a.get(key), b.get(key)) {
                    (Some(x), Some(y)) => diff(x, y, &sub, out),
                    (x, y) => out.push(format!("{sub}: rendered {x:?} kustomize read {y:?}")),
                }
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                diff(x, y, &format!("{path}[{i}]"), out);
            }
        }
        _ if meant != read => out.push(format!("{path}: rendered {meant} kustomize read {read}")),
        _ => {}
    }
}

/// Objects by `apiVersion kind namespace/name` (kustomize orders them by kind); a repeated
/// identity is kept apart so that a duplicated object is a difference too.
fn by_identity(objects: Vec<Value>) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for object in objects {
        let field =
            |path: &str| object.pointer(path).and_then(Value::as_str).unwrap_or("").to_owned();
        let mut key = format!(
            "{} {} {}/{}",
            field("/apiVersion"),
            field("/kind"),
            field("/metadata/namespace"),
            field("/metadata/name")
        );
        while out.contains_key(&key) {
            key.push_str(" (again)");
        }
        out.insert(key, object);
    }
    out
}

fn write_kustomization(dir: &Path, rendered: &str) {
    std::fs::write(dir.join("cluster.yaml"), rendered).unwrap();
    std::fs::write(
        dir.join("kustomization.yaml"),
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- cluster.yaml\n",
    )
    .unwrap();
}
