//! Native mode (issue 4): the objects Flink's native client creates, in two phases.
//!
//! The field-by-field comparison with Flink's own client is `scripts/native-compare` (it
//! needs a JVM and Flink's jars); these tests pin the CLI, the phases, the refusals and the
//! examples under `examples/native/`.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::support::{root, run};

/// The uid the examples are rendered with (a Deployment's uid is assigned by the API server).
const UID: &str = "3f0c1c64-1b8e-4a6f-9a53-1f5b8e9d2c7a";

fn native_examples() -> Vec<PathBuf> {
    crate::support::yaml_files(&root().join("examples/native"))
}

/// Whether an example renders without ownerReferences (`native.ownerReferences: false`), so
/// takes no uid.
fn is_unowned(path: &Path) -> bool {
    std::fs::read_to_string(path).unwrap().contains("ownerReferences: false")
}

fn render(args: &[&str]) -> (String, String, i32) {
    let out = run(args, None);
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
        out.status.code().unwrap_or(-1),
    )
}

fn render_ok(args: &[&str]) -> String {
    let (stdout, stderr, code) = render(args);
    assert_eq!(code, 0, "{args:?} failed: {stderr}");
    stdout
}

fn items(args: &[&str]) -> Vec<Value> {
    let mut args = args.to_vec();
    args.extend(["-o", "json"]);
    let list: Value = serde_json::from_str(&render_ok(&args)).unwrap();
    list["items"].as_array().unwrap().clone()
}

fn kinds(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|i| {
            format!("{}/{}", i["kind"].as_str().unwrap(), i["metadata"]["name"].as_str().unwrap())
        })
        .collect()
}

fn spec_file(dir: &Path, text: &str) -> String {
    let path = dir.join("spec.yaml");
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_owned()
}

const SESSION: &str = "apiVersion: kubectl-flink/v1alpha1\nkind: FlinkSessionCluster\nmetadata: {name: s}\nspec:\n  image: flink:2.3\n";

#[test]
fn examples_render_both_phases_as_their_snapshots() {
    insta::glob!("../../examples/native", "*.yaml", |path| {
        let uid: &[&str] = if is_unowned(path) { &[] } else { &["--owner-uid", UID] };
        let path = path.to_str().unwrap();
        insta::assert_snapshot!(render_ok(&[&["render", "-f", path], uid].concat()));
    });
}

#[test]
fn examples_pass_kubernetes_validate_strict_in_both_phases() {
    let validate =
        std::env::var("KUBERNETES_VALIDATE").unwrap_or_else(|_| "kubernetes-validate".into());
    if Command::new(&validate).arg("--version").output().is_err() {
        assert!(
            std::env::var_os("CI").is_none(),
            "`kubernetes-validate` is missing under CI; run scripts/test"
        );
        eprintln!(
            "SKIPPED: `kubernetes-validate` not found (set KUBERNETES_VALIDATE or run scripts/test)"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for example in native_examples() {
        let path = example.to_str().unwrap();
        let owns = !is_unowned(&example) && !path.ends_with("ha.yaml"); // ha sets ownerReference
        let mut phases = vec![
            ("owner", vec!["--phase", "owner"]),
            ("owned", vec!["--phase", "owned", "--owner-uid", UID]),
        ];
        if is_unowned(&example) {
            phases = vec![("all", vec![])];
        } else if owns {
            phases.push(("unowned", vec!["--no-owner-references"]));
        }
        for (phase, extra) in phases {
            let mut args = vec!["render", "-f", path];
            args.extend(extra);
            let rendered = dir
                .path()
                .join(format!("{}-{phase}.yaml", example.file_stem().unwrap().to_str().unwrap()));
            std::fs::write(&rendered, render_ok(&args)).unwrap();
            let out = Command::new(&validate)
                .args(["--strict", "--quiet"])
                .arg(&rendered)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{path} ({phase} phase) fails kubernetes-validate --strict:\n{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

#[test]
fn the_owner_phase_comes_first_and_alone_without_a_uid() {
    let owner = items(&["render", "-f", "examples/native/session.yaml"]);
    assert_eq!(
        kinds(&owner),
        ["ServiceAccount/sessions", "Role/sessions", "RoleBinding/sessions", "Deployment/sessions"]
    );
    for item in &owner {
        assert!(item["metadata"]["ownerReferences"].is_null(), "{item}");
        assert_eq!(item["metadata"]["namespace"], "flink");
    }
    let all = items(&["render", "-f", "examples/native/session.yaml", "--owner-uid", UID]);
    assert_eq!(
        kinds(&all)[4..],
        ["ConfigMap/flink-config-sessions", "Service/sessions", "Service/sessions-rest"]
    );
    for item in &all[4..] {
        assert_eq!(
            item["metadata"]["ownerReferences"],
            serde_json::json!([{"apiVersion": "apps/v1", "kind": "Deployment", "name": "sessions",
                "uid": UID, "controller": true, "blockOwnerDeletion": true}])
        );
    }
}

#[test]
fn owner_then_owned_is_all() {
    let file = "examples/native/ha.yaml";
    let owner = render_ok(&["render", "-f", file, "--phase", "owner", "--owner-uid", UID]);
    let owned = render_ok(&["render", "-f", file, "--phase", "owned", "--owner-uid", UID]);
    let all = render_ok(&["render", "-f", file, "--phase", "all", "--owner-uid", UID]);
    assert_eq!(format!("{owner}{owned}"), all);
    assert_eq!(all, render_ok(&["render", "-f", file, "--owner-uid", UID]), "a uid means all");
    assert!(!owner.contains(UID));
}

#[test]
fn owned_objects_without_a_uid_say_how_to_get_it() {
    let (stdout, stderr, code) =
        render(&["render", "-f", "examples/native/session.yaml", "--phase", "owned"]);
    assert_eq!((stdout.as_str(), code), ("", 2));
    assert!(
        stderr.contains("kubectl get deployment sessions -n flink -o jsonpath='{.metadata.uid}'"),
        "{stderr}"
    );
    let (stdout, stderr, code) =
        render(&["render", "-f", "examples/native/session.yaml", "--owner-uid", "not-a-uid"]);
    assert_eq!((stdout.as_str(), code), ("", 2));
    assert!(stderr.contains("is not a Kubernetes uid"), "{stderr}");
}

#[test]
fn mode_flag_overrides_the_spec() {
    let dir = tempfile::tempdir().unwrap();
    let spec = spec_file(dir.path(), SESSION);
    let native = items(&["render", "-f", &spec, "--mode", "native"]);
    assert_eq!(kinds(&native).last().unwrap(), "Deployment/s");
    assert_eq!(
        native.last().unwrap()["spec"]["template"]["spec"]["containers"][0]["name"],
        "flink-main-container"
    );
    let standalone =
        items(&["render", "-f", "examples/native/session.yaml", "--mode", "standalone"]);
    assert!(kinds(&standalone).iter().all(|k| k.contains("sessions")), "{:?}", kinds(&standalone));
    assert!(kinds(&standalone).iter().any(|k| k == "Deployment/sessions-taskmanager"));
    let (stdout, stderr, code) = render(&["render", "-f", &spec, "--phase", "owner"]);
    assert_eq!((stdout.as_str(), code), ("", 2), "{stderr}");
    assert!(stderr.contains("apply to native mode"), "{stderr}");
}

#[test]
fn config_file_follows_the_version_and_is_byte_stable() {
    let uid = ["--owner-uid", UID];
    let config = |version: &str| {
        let mut args = vec!["render", "-f", "examples/native/session.yaml", "--set"];
        let set = format!("spec.flinkVersion=\"{version}\"");
        args.push(&set);
        args.extend(uid);
        let all = items(&args);
        all.iter().find(|i| i["kind"] == "ConfigMap").unwrap()["data"].clone()
    };
    let v2 = config("2.0");
    assert!(v2["config.yaml"].as_str().unwrap().contains("kubernetes.cluster-id: sessions\n"));
    assert!(v2.get("flink-conf.yaml").is_none());
    // 1.20 ships and reads the standard-YAML config.yaml too (FLIP-366).
    let v1 = config("1.20");
    let file = v1["config.yaml"].as_str().unwrap();
    assert!(file.contains("kubernetes.cluster-id: sessions\n"), "{file}");
    assert!(v1.get("flink-conf.yaml").is_none());
    let keys: Vec<&str> = file.lines().map(|l| l.split(": ").next().unwrap()).collect();
    let mut sorted = keys.clone();
    sorted.sort_unstable();
    assert_eq!(keys, sorted, "sorted keys");
    assert_eq!(config("2.3"), config("2.3"));
}

#[test]
fn native_specs_say_what_flinks_client_cannot_carry() {
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&str, &str)] = &[
        ("kind: FlinkJobCluster\nspec: {image: i, mode: native}", "needs `job.jarURI`"),
        (
            "kind: FlinkJobCluster\nspec: {image: i, mode: native, job: {jarURI: /opt/job.jar}}",
            "local:///opt/job.jar",
        ),
        (
            "kind: FlinkJobCluster\nspec: {image: i, job: {jarURI: local:///j.jar}}",
            "`jarURI` is for native mode",
        ),
        (
            "kind: FlinkSessionCluster\nspec: {image: i, mode: native, flinkVersion: \"1.19\"}",
            "Flink 1.20 or newer",
        ),
        (
            "kind: FlinkSessionCluster\nspec: {image: i, mode: native, taskManager: {replicas: 2}}",
            "starts TaskManager pods",
        ),
        (
            "kind: FlinkSessionCluster\nmetadata: {name: s, labels: {app: x}}\nspec: {image: i, mode: native}",
            "set by Flink in native mode",
        ),
        (
            "kind: FlinkSessionCluster\nspec: {image: i, mode: native, flinkConfiguration: {kubernetes.cluster-id: x}}",
            "set by `metadata.name`",
        ),
        (
            "kind: FlinkSessionCluster\nspec: {image: i, mode: native, flinkConfiguration: {kubernetes.hostnetwork.enabled: true}}",
            "does not render",
        ),
        (
            "kind: FlinkSessionCluster\nspec: {image: i, mode: native, flinkConfiguration: {kubernetes.jobmanager.replicas: 2}}",
            "need high availability",
        ),
        (
            "kind: FlinkSessionCluster\nspec: {image: i, mode: native, podAnnotations: {a: \"b:c\"}}",
            "cannot be passed to Flink",
        ),
        (
            "kind: FlinkSessionCluster\nspec: {image: i, mode: native, affinity: {}}",
            "not available in native mode",
        ),
        (
            "kind: FlinkSessionCluster\nspec: {image: i, ownerReference: {apiVersion: v1, kind: K, name: n, uid: u}}",
            "for native mode",
        ),
    ];
    for (body, expected) in cases {
        let body = if body.contains("metadata:") {
            (*body).to_owned()
        } else {
            body.replacen('\n', "\nmetadata: {name: s}\n", 1)
        };
        let spec = spec_file(dir.path(), &format!("apiVersion: kubectl-flink/v1alpha1\n{body}\n"));
        let (stdout, stderr, code) = render(&["render", "-f", &spec]);
        assert_eq!((stdout.as_str(), code), ("", 1), "{body}: {stderr}");
        assert!(stderr.contains(expected), "{body}: expected {expected:?} in\n{stderr}");
    }
    let long = format!("{SESSION}  mode: native\n")
        .replace("name: s", &format!("name: {}", "a".repeat(46)));
    let spec = spec_file(dir.path(), &long);
    let (_, stderr, code) = render(&["render", "-f", &spec]);
    assert_eq!(code, 1);
    assert!(stderr.contains("at most 45"), "{stderr}");
}

#[test]
fn user_templates_override_native_ones_from_a_native_subdirectory() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("native")).unwrap();
    let builtin =
        std::fs::read_to_string(root().join("templates/native/rest-service.yaml.j2")).unwrap();
    std::fs::write(dir.path().join("native/rest-service.yaml.j2"), {
        let from = r#""type": {{ s.type }}"#;
        assert!(builtin.contains(from), "the built-in template no longer holds {from:?}");
        builtin.replace(from, r#""type": "LoadBalancer""#)
    })
    .unwrap();
    let all = items(&[
        "render",
        "-f",
        "examples/native/session.yaml",
        "--owner-uid",
        UID,
        "--templates",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(all.last().unwrap()["spec"]["type"], "LoadBalancer");
}

/// `value` without `metadata.ownerReferences`.
fn without_owner_references(mut value: Value) -> Value {
    if let Some(metadata) = value["metadata"].as_object_mut() {
        metadata.remove("ownerReferences");
    }
    value
}

#[test]
fn issue_19_without_owner_references_one_render_holds_both_phases_unowned() {
    for file in ["examples/native/session.yaml", "examples/native/application.yaml"] {
        let owned = items(&["render", "-f", file, "--owner-uid", UID]);
        let unowned = items(&["render", "-f", file, "--no-owner-references"]);
        // The same objects, names, labels and order as both phases; only the references go.
        let expected: Vec<Value> = owned.into_iter().map(without_owner_references).collect();
        assert_eq!(unowned, expected, "{file}");
        let yaml = render_ok(&["render", "-f", file, "--no-owner-references"]);
        assert!(!yaml.contains("ownerReferences"), "{file}:\n{yaml}");
        assert_eq!(yaml, render_ok(&["render", "-f", file, "--no-owner-references"]));
        // The spec field says the same as the flag.
        let set = ["render", "-f", file, "--set", "spec.native.ownerReferences=false"];
        assert_eq!(render_ok(&set), yaml, "{file}");
        // Phases still choose which objects: owner then owned is the whole.
        let owner = render_ok(&["render", "-f", file, "--no-owner-references", "--phase", "owner"]);
        let rest = render_ok(&["render", "-f", file, "--no-owner-references", "--phase", "owned"]);
        assert_eq!(format!("{owner}{rest}"), yaml, "{file}");
        assert_eq!(owner, render_ok(&["render", "-f", file]), "the owner phase is unchanged");
    }
}

#[test]
fn issue_19_the_gitops_example_renders_whole_without_flags() {
    let file = "examples/native/gitops.yaml";
    let all = items(&["render", "-f", file]);
    assert_eq!(
        kinds(&all),
        [
            "ServiceAccount/orders",
            "Role/orders",
            "RoleBinding/orders",
            "Deployment/orders",
            "ConfigMap/flink-config-orders",
            "ConfigMap/pod-template-orders",
            "Service/orders",
            "Service/orders-rest"
        ]
    );
    assert!(all.iter().all(|i| i["metadata"]["ownerReferences"].is_null()));
    // `kubectl flink apply` sends all of it at once and reads no uid.
    let (stdout, stderr, code) = render(&["render", "-f", file, "--phase", "owned"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("kind: ConfigMap") && !stdout.contains("kind: Deployment"));
}

#[test]
fn issue_19_owner_references_and_their_absence_do_not_mix() {
    let dir = tempfile::tempdir().unwrap();
    let standalone = spec_file(dir.path(), SESSION);
    let gitops = "examples/native/gitops.yaml";
    let session = "examples/native/session.yaml";
    let no_refs = "--no-owner-references";
    let cases: &[(&[&str], &str)] = &[
        (&["-f", session, no_refs, "--owner-uid", UID], "cannot be used with"),
        (&["-f", gitops, "--owner-uid", UID], "rendered without ownerReferences"),
        (&["-f", gitops, "--phase", "owned", "--owner-uid", UID], "without ownerReferences"),
        (&["-f", &standalone, no_refs], "--no-owner-references applies to native mode"),
        (&["-f", "examples/native/ha.yaml", no_refs], "sets spec.ownerReference"),
    ];
    for (args, expected) in cases {
        let (stdout, stderr, code) = render(&[&["render"], *args].concat());
        assert_eq!((stdout.as_str(), code), ("", 2), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: expected {expected:?} in\n{stderr}");
    }
    for (body, expected) in [
        (format!("{SESSION}  native: {{ownerReferences: false}}\n"), "`native` is for native mode"),
        (
            format!(
                "{SESSION}  mode: native\n  native: {{ownerReferences: false}}\n  ownerReference: {{apiVersion: v1, kind: K, name: n, uid: u}}\n"
            ),
            "renders none",
        ),
        (
            format!("{SESSION}  mode: native\n  native: {{ownerReferences: no}}\n"),
            "ownerReferences",
        ),
    ] {
        let spec = spec_file(dir.path(), &body);
        let (stdout, stderr, code) = render(&["render", "-f", &spec]);
        assert_eq!((stdout.as_str(), code), ("", 1), "{body}: {stderr}");
        assert!(stderr.contains(expected), "{body}: expected {expected:?} in\n{stderr}");
    }
}
