//! Real Kubernetes tooling reads every rendered example: `kubernetes-validate --strict`
//! (schema) and `kubectl kustomize` (the client's own parser).
//!
//! The test command (`scripts/test`) installs both; without them these tests say so and
//! skip, except under CI, where a missing tool fails the run.

use std::path::Path;
use std::process::Command;

use crate::support::{examples, render_file};

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
        let objects = render_file(&example).matches("\n---\n").count() + 1;
        assert_eq!(
            built.matches("\n---\n").count() + 1,
            objects,
            "{} lost objects",
            example.display()
        );
    }
}

fn write_kustomization(dir: &Path, rendered: &str) {
    std::fs::write(dir.join("cluster.yaml"), rendered).unwrap();
    std::fs::write(
        dir.join("kustomization.yaml"),
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- cluster.yaml\n",
    )
    .unwrap();
}
