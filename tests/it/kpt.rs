//! kpt with the real binary: `kpt fn render --allow-exec` runs the Kptfile pipeline of
//! `examples/kpt/wordcount`, again without change, and after a rename without stale files;
//! `kpt fn eval --exec kubectl-flink` with and without settings; a broken spec fails kpt and
//! leaves the package as it was. Only exec functions: nothing reaches the network.

use std::path::{Path, PathBuf};

use crate::shell::{Sandbox, copy_dir, dump_dir, success, tool};
use crate::support::root;

const COPY: &str = "cp -r examples/kpt/wordcount my-pkg";
const RENDER: &str = "kpt fn render my-pkg --allow-exec";
const EVAL: &str = "kpt fn eval my-pkg --exec kubectl-flink";
const EVAL_SETTINGS: &str =
    "kpt fn eval my-pkg --exec kubectl-flink -- spec.taskManager.replicas=3";

fn kpt() -> bool {
    tool("kpt", "KPT", &["version"]).is_some()
}

/// A sandbox whose work directory holds `examples/` (a copy of the repository's) and the
/// package copied by the documented command.
fn package() -> (Sandbox, PathBuf) {
    let sandbox = Sandbox::new();
    let work = sandbox.path().join("work");
    copy_dir(&root().join("examples/kpt"), &work.join("examples/kpt"));
    success(&sandbox.shell(COPY, &work), COPY);
    (sandbox, work)
}

fn files(dir: &Path) -> Vec<String> {
    crate::shell::files(dir).into_iter().map(|(name, _)| name).collect()
}

#[test]
fn kpt_fn_render_runs_the_pipeline_idempotently() {
    if !kpt() {
        return;
    }
    let (sandbox, work) = package();
    let pkg = work.join("my-pkg");
    let spec_before = std::fs::read_to_string(pkg.join("cluster.yaml")).unwrap();
    success(&sandbox.shell(RENDER, &work), RENDER);
    let first = dump_dir(&pkg);
    assert_eq!(
        std::fs::read_to_string(pkg.join("cluster.yaml")).unwrap(),
        spec_before,
        "the spec file, comments included, is unchanged"
    );
    insta::assert_snapshot!("kpt_fn_render", first);
    success(&sandbox.shell(RENDER, &work), RENDER);
    assert_eq!(dump_dir(&pkg), first, "a second render changes nothing");

    let renamed = spec_before.replace("name: wordcount", "name: wordcount-v2");
    std::fs::write(pkg.join("cluster.yaml"), renamed).unwrap();
    success(&sandbox.shell(RENDER, &work), RENDER);
    assert_eq!(
        files(&pkg),
        ["Kptfile", "cluster.yaml", "generated/wordcount-v2.yaml"],
        "the old cluster's file is gone"
    );
}

#[test]
fn kpt_fn_eval_exec_renders_with_and_without_settings() {
    if !kpt() {
        return;
    }
    let (sandbox, work) = package();
    let pkg = work.join("my-pkg");
    success(&sandbox.shell(EVAL, &work), EVAL);
    let generated = std::fs::read_to_string(pkg.join("generated/wordcount.yaml")).unwrap();
    assert!(generated.contains("  replicas: 2\n"), "{generated}");
    success(&sandbox.shell(EVAL_SETTINGS, &work), EVAL_SETTINGS);
    let generated = std::fs::read_to_string(pkg.join("generated/wordcount.yaml")).unwrap();
    assert!(generated.contains("  replicas: 3\n"), "{generated}");
    assert_eq!(files(&pkg), ["Kptfile", "cluster.yaml", "generated/wordcount.yaml"]);
}

#[test]
fn kpt_reports_spec_errors_and_keeps_the_package() {
    if !kpt() {
        return;
    }
    let (sandbox, work) = package();
    let pkg = work.join("my-pkg");
    success(&sandbox.shell(RENDER, &work), RENDER);
    let before = dump_dir(&pkg);
    let spec = std::fs::read_to_string(pkg.join("cluster.yaml")).unwrap();
    std::fs::write(pkg.join("cluster.yaml"), spec.replace("replicas: 2", "replicas: -2")).unwrap();
    let broken = dump_dir(&pkg);
    for line in [RENDER, EVAL] {
        let out = sandbox.shell(line, &work);
        assert!(!out.status.success(), "{line} passed a broken spec");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("[error]"), "{line}: {stderr}");
        assert!(stderr.contains("spec.taskManager.replicas: must be ≥ 1 (got -2)"), "{stderr}");
        assert_eq!(dump_dir(&pkg), broken, "{line} changed the package");
    }
    assert_ne!(before, broken);
}

#[test]
fn package_specs_validate_against_the_schema() {
    let tool = std::env::var("CHECK_JSONSCHEMA").unwrap_or_else(|_| "check-jsonschema".into());
    if std::process::Command::new(&tool).arg("--version").output().is_err() {
        assert!(std::env::var_os("CI").is_none(), "check-jsonschema is missing under CI");
        eprintln!("SKIPPED: check-jsonschema not found (set CHECK_JSONSCHEMA or run scripts/test)");
        return;
    }
    let out = std::process::Command::new(&tool)
        .arg("--schemafile")
        .arg(root().join("schema/flink-job-cluster.schema.json"))
        .arg(root().join("examples/kpt/wordcount/cluster.yaml"))
        .arg(root().join("kustomize/base/cluster/flink-cluster.yaml"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Issue 17: kpt writes every item a function returns back to the package, so a file the
/// function does not own (merge keys, tags, `.inf`, integers beyond 64 bits, a key over 1,024
/// characters) must read the same afterwards, to kpt and to a YAML 1.1 reader; a second
/// render changes nothing.
#[test]
fn kpt_fn_render_keeps_the_meaning_of_files_it_does_not_own() {
    if !kpt() {
        return;
    }
    let (sandbox, work) = package();
    let pkg = work.join("my-pkg");
    let fixture =
        std::fs::read_to_string(root().join("tests/fixtures/krm/foreign-yaml/input.yaml")).unwrap();
    let (start, end) = (
        fixture.find("- apiVersion: v1").unwrap(),
        fixture.find("- apiVersion: kubectl-flink/").unwrap(),
    );
    let foreign: String = fixture[start..end]
        .lines()
        .filter(|line| {
            !line.contains("internal.config.kubernetes.io")
                && !line.trim_end().ends_with("annotations:")
        })
        .fold(String::new(), |mut text, line| {
            text.push_str(line.get(2..).unwrap_or_default());
            text.push('\n');
            text
        });
    std::fs::write(pkg.join("foreign.yaml"), &foreign).unwrap();
    success(&sandbox.shell(RENDER, &work), RENDER);
    let written = std::fs::read_to_string(pkg.join("foreign.yaml")).unwrap();
    let Some(before) = crate::krm::pyyaml_reading(&foreign) else { return };
    assert_eq!(crate::krm::pyyaml_reading(&written).unwrap(), before, "{written}");
    let first = dump_dir(&pkg);
    success(&sandbox.shell(RENDER, &work), RENDER);
    assert_eq!(dump_dir(&pkg), first, "a second render changes nothing");
}
