//! `kubectl flink apply` against a stand-in `kubectl` (no API server runs here): a script
//! first on `PATH` that records its arguments and stdin and answers like a cluster.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::support::{bin, root, write_executable};

const UID: &str = "5b1d7a0e-2f3c-4d5e-8a9b-0c1d2e3f4a5b";

/// The stand-in: `get` prints the uid (or fails if `$FAIL_GET`), `apply` prints one line per
/// call; call number `$FAIL_ON` exits 1 after printing an error.
const KUBECTL: &str = r#"#!/bin/sh
n=$(( $(cat "$LOG/count" 2>/dev/null || echo 0) + 1 ))
echo "$n" > "$LOG/count"
printf '%s\n' "$@" > "$LOG/args-$n"
cat > "$LOG/stdin-$n"
if [ "$FAIL_ON" = "$n" ]; then echo "error: the server said no ($n)" >&2; exit 1; fi
if [ "$HANG_ON" = "$n" ]; then exec sleep 600; fi
case "$1" in
  get) if [ -n "$FAIL_GET" ]; then echo 'Error from server (NotFound): deployments.apps "x" not found' >&2; exit 1; fi
       printf '%s' "$KUBECTL_UID" ;;
  apply) echo "kubectl apply call $n: $(grep -c '^kind:' "$LOG/stdin-$n") objects" ;;
esac
"#;

struct Cluster {
    dir: tempfile::TempDir,
}

impl Cluster {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("bin")).unwrap();
        std::fs::create_dir(dir.path().join("log")).unwrap();
        let kubectl = dir.path().join("bin/kubectl");
        write_executable(&kubectl, KUBECTL);
        Self { dir }
    }

    fn log(&self) -> PathBuf {
        self.dir.path().join("log")
    }

    fn apply(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let path = format!(
            "{}:{}",
            self.dir.path().join("bin").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let mut command = Command::new(bin());
        command
            .arg("apply")
            .args(args)
            .env_clear()
            .env("PATH", path)
            .env("LOG", self.log())
            .env("KUBECTL_UID", UID)
            .current_dir(root())
            .stdin(Stdio::null());
        for (k, v) in env {
            command.env(k, v);
        }
        command.output().unwrap()
    }

    /// Each kubectl call: its arguments joined by spaces, and its stdin.
    fn calls(&self) -> Vec<(String, String)> {
        let count: usize = std::fs::read_to_string(self.log().join("count"))
            .map_or(0, |c| c.trim().parse().unwrap());
        (1..=count)
            .map(|n| {
                let args = std::fs::read_to_string(self.log().join(format!("args-{n}"))).unwrap();
                let stdin = std::fs::read_to_string(self.log().join(format!("stdin-{n}"))).unwrap();
                (args.lines().collect::<Vec<_>>().join(" "), stdin)
            })
            .collect()
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn applies_the_owner_phase_reads_the_uid_then_applies_the_owned_phase() {
    let cluster = Cluster::new();
    let out = cluster.apply(
        &[
            "-f",
            "examples/native/session.yaml",
            "--context",
            "prod",
            "--kubeconfig",
            "/k/config",
            "--dry-run=server",
        ],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "kubectl apply call 1: 4 objects\nkubectl apply call 3: 3 objects\n"
    );
    let calls = cluster.calls();
    let args: Vec<&str> = calls.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(
        args,
        [
            "apply -f - --dry-run=server --context prod --kubeconfig /k/config",
            "get deployment sessions --namespace flink -o jsonpath={.metadata.uid} --context prod --kubeconfig /k/config",
            "apply -f - --dry-run=server --context prod --kubeconfig /k/config",
        ]
    );
    let (owner, owned) = (&calls[0].1, &calls[2].1);
    assert!(owner.contains("kind: Deployment") && owner.contains("kind: RoleBinding"));
    assert!(!owner.contains("ownerReferences"), "{owner}");
    assert!(
        owned.contains("kind: ConfigMap")
            && !owned.contains("apiVersion: apps/v1\nkind: Deployment")
    );
    assert_eq!(owned.matches(&format!("uid: {UID}")).count(), 3, "{owned}");
}

#[test]
fn the_namespace_flag_places_specs_without_one_and_refuses_a_different_one() {
    let cluster = Cluster::new();
    let out =
        cluster.apply(&["-f", "tests/native/scenarios/session-defaults.yaml", "-n", "team-a"], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let calls = cluster.calls();
    assert_eq!(calls[0].0, "apply -f - --namespace team-a");
    assert!(calls[0].1.contains("namespace: team-a"));
    assert!(calls[1].0.contains("--namespace team-a"));
    assert!(calls[2].1.contains("kubernetes.namespace: team-a"), "{}", calls[2].1);
    assert!(calls[2].1.contains("jobmanager.rpc.address: session.team-a"));

    let cluster = Cluster::new();
    let out = cluster.apply(&["-f", "examples/native/session.yaml", "--namespace", "other"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("disagrees with `sessions`"), "{}", text(&out.stderr));
    assert!(cluster.calls().is_empty(), "nothing runs");
}

#[test]
fn stops_at_the_first_failure_with_what_was_and_was_not_applied() {
    for (fail_on, calls, message) in [
        ("1", 1, "stopped before the owned phase"),
        ("2", 2, "the owner phase was applied, the owned objects were not"),
        ("3", 3, "the owner phase was applied; run the same command again"),
    ] {
        let cluster = Cluster::new();
        let out = cluster.apply(&["-f", "examples/native/session.yaml"], &[("FAIL_ON", fail_on)]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert_eq!(cluster.calls().len(), calls);
        assert!(stderr.contains(message), "call {fail_on}: {stderr}");
        assert!(stderr.contains("the server said no"), "kubectl's own message is shown: {stderr}");
        if fail_on == "3" {
            assert_eq!(
                text(&out.stdout),
                "kubectl apply call 1: 4 objects\n",
                "phase 1 output is kept"
            );
        }
    }
}

#[test]
fn a_dry_run_of_a_new_cluster_checks_the_owned_phase_with_a_placeholder_uid() {
    let cluster = Cluster::new();
    let out = cluster
        .apply(&["-f", "examples/native/session.yaml", "--dry-run=client"], &[("FAIL_GET", "1")]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("placeholder uid"), "{}", text(&out.stderr));
    assert!(cluster.calls()[2].1.contains("uid: 00000000-0000-0000-0000-000000000000"));
}

#[test]
fn standalone_specs_apply_in_one_call() {
    let cluster = Cluster::new();
    let out = cluster.apply(&["-f", "examples/seed-ha.yaml"], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let calls = cluster.calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].0, "apply -f -");
}

#[test]
fn invalid_specs_and_a_missing_kubectl_are_reported_before_anything_runs() {
    let cluster = Cluster::new();
    let out = cluster.apply(
        &["-f", "examples/native/session.yaml", "--set", "spec.taskManager.replicas=2"],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(cluster.calls().is_empty());

    let out = Command::new(bin())
        .args(["apply", "-f", "examples/native/session.yaml"])
        .env_clear()
        .env("PATH", Path::new("/nonexistent"))
        .current_dir(root())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("cannot run `kubectl`"), "{}", text(&out.stderr));
}

/// A kubectl call that hangs (an unreachable API server) is stopped after `--timeout`, and
/// the message names the step.
#[test]
fn issue_17_a_hanging_kubectl_is_stopped_and_its_step_named() {
    let cluster = Cluster::new();
    for (hang_on, step) in [
        ("1", "while applying the owner phase"),
        ("2", "while reading the uid of deployment/sessions in flink"),
    ] {
        let _ = std::fs::remove_file(cluster.log().join("count"));
        let out = cluster.apply(
            &["-f", "examples/native/session.yaml", "--timeout", "1"],
            &[("HANG_ON", hang_on)],
        );
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains("`kubectl` was stopped"), "{stderr}");
        assert!(stderr.contains(step), "{stderr}");
        assert!(stderr.contains("did not finish within 1 s (--timeout)"), "{stderr}");
    }
}
