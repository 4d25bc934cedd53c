//! The lifecycle commands over the binary, with a `kubectl` script first on `PATH`: exit codes,
//! empty stdout on failure, kubectl's flags passed on. Their flows against real Flink are
//! `tests/lifecycle/scenarios.py`; their logic against scripted answers, the unit tests.

use std::path::Path;
use std::process::{Command, Output};

use crate::support::{bin, output, write_executable};

/// Logs its arguments; `get jobs.batch,…` prints `$DIR/objects.json`, `get --raw …/PATH`
/// prints `$DIR/rest/PATH` (slashes as `_`) or fails as the API server does without a pod.
const KUBECTL: &str = r#"#!/bin/sh
printf '%s\n' "$*" >> "$DIR/calls"
case "$1 $2" in
  "config view") printf '%s' "$CONTEXT_NAMESPACE" ;;
  "get jobs.batch,deployments.apps,pods,services,configmaps,horizontalpodautoscalers.autoscaling") cat "$DIR/objects.json" ;;
  "get --raw")
    file="$DIR/rest/$(printf '%s' "$3" | sed 's|.*/proxy/||; s|/|_|g')"
    if [ -f "$file" ]; then cat "$file"; else
      echo 'Error from server (ServiceUnavailable): no endpoints available for service "x"' >&2; exit 1; fi ;;
  *) echo "unexpected: $*" >&2; exit 1 ;;
esac
"#;

fn run(dir: &Path, args: &[&str], path: &str, env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(bin());
    command.args(args).env("PATH", path).env("DIR", dir);
    for (key, value) in env {
        command.env(key, value);
    }
    output(&mut command, None)
}

fn cluster(objects: &str, rest: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("bin")).unwrap();
    std::fs::create_dir_all(dir.path().join("rest")).unwrap();
    std::fs::write(dir.path().join("objects.json"), objects).unwrap();
    for (path, body) in rest {
        std::fs::write(dir.path().join("rest").join(path.replace('/', "_")), body).unwrap();
    }
    let kubectl = dir.path().join("bin/kubectl");
    write_executable(&kubectl, KUBECTL);
    dir
}

fn path_with(dir: &Path) -> String {
    format!("{}:/usr/bin:/bin", dir.join("bin").display())
}

const JOB: &str = r#"{"kind": "List", "items": [{"kind": "Job", "metadata": {"name": "orders-jobmanager",
  "labels": {"app.kubernetes.io/component": "jobmanager"}}, "spec": {"template": {"spec": {"containers": []}}},
  "status": {"active": 1}}]}"#;

#[test]
fn status_of_a_cluster_that_is_not_there_is_exit_5_with_nothing_on_stdout() {
    let dir = cluster(r#"{"kind": "List", "items": []}"#, &[]);
    let out = run(dir.path(), &["status", "orders"], &path_with(dir.path()), &[]);
    assert_eq!(out.status.code(), Some(5), "{out:?}");
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no object of cluster `orders` in namespace default"), "{stderr}");
    // By name, standalone first, then native; the namespace from the context (none: default).
    let calls = std::fs::read_to_string(dir.path().join("calls")).unwrap();
    assert!(calls.starts_with("config view --minify -o jsonpath={..namespace}\n"), "{calls}");
    assert!(calls.contains("--selector app.kubernetes.io/name=flink,app.kubernetes.io/instance=orders -o json --namespace default"), "{calls}");
    assert!(
        calls.contains(
            "--selector app=orders,type=flink-native-kubernetes -o json --namespace default"
        ),
        "{calls}"
    );
}

#[test]
fn status_prints_its_report_and_exits_4_while_the_job_manager_does_not_answer() {
    let dir = cluster(JOB, &[]);
    let out = run(
        dir.path(),
        &["status", "orders", "-n", "team-a", "--context", "prod", "--kubeconfig", "/k/config"],
        &path_with(dir.path()),
        &[],
    );
    assert_eq!(out.status.code(), Some(4), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with("cluster       orders (namespace team-a, standalone, HA: none)\n"),
        "{stdout}"
    );
    assert!(
        stdout
            .contains("job           unknown (JobManager: Error from server (ServiceUnavailable)"),
        "{stdout}"
    );
    let calls = std::fs::read_to_string(dir.path().join("calls")).unwrap();
    assert!(!calls.contains("config view"), "-n names the namespace: {calls}");
    for call in calls.lines() {
        assert!(
            call.ends_with("--namespace team-a --context prod --kubeconfig /k/config"),
            "{call}"
        );
    }
}

#[test]
fn a_running_job_is_exit_0_and_json_on_request() {
    let overview = r#"{"jobs": [{"jid": "j1", "name": "n", "state": "RUNNING", "start-time": 0}]}"#;
    let dir =
        cluster(JOB, &[("jobs/overview", overview), ("jobs/j1/checkpoints", r#"{"latest": {}}"#)]);
    let out = run(dir.path(), &["status", "orders", "-o", "json"], &path_with(dir.path()), &[]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["job"]["state"], "RUNNING");
    assert_eq!(report["job"]["startTime"], "1970-01-01T00:00:00Z");
}

#[test]
fn a_savepoint_of_a_job_that_is_not_running_fails_with_nothing_on_stdout() {
    let overview =
        r#"{"jobs": [{"jid": "j1", "name": "n", "state": "RESTARTING", "start-time": 0}]}"#;
    let dir = cluster(JOB, &[("jobs/overview", overview)]);
    let out = run(dir.path(), &["savepoint", "orders"], &path_with(dir.path()), &[]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "the job j1 of cluster `orders` is RESTARTING, not RUNNING; nothing was changed"
        ),
        "{stderr}"
    );
}

#[test]
fn without_kubectl_the_commands_say_how_to_get_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &["delete", "orders", "-n", "x"], dir.path().to_str().unwrap(), &[]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot run `kubectl`") && stderr.contains("put it on PATH"),
        "{stderr}"
    );
}

#[test]
fn usage_errors_are_exit_2_before_kubectl_runs() {
    let dir = cluster(JOB, &[]);
    for args in [
        &["status"][..],
        &["status", "Not/A/Name"],
        &["status", "orders", "-n", "Bad_NS"],
        &["upgrade"],
        &["scale", "-f", "x.yaml"],
        &["upgrade", "-f", "x.yaml", "--mode", "sideways"],
    ] {
        let out = run(dir.path(), args, &path_with(dir.path()), &[]);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    assert!(!dir.path().join("calls").exists(), "kubectl ran");
}

#[test]
fn a_context_namespace_that_is_no_namespace_is_refused() {
    let dir = cluster(JOB, &[]);
    let out = run(
        dir.path(),
        &["status", "orders"],
        &path_with(dir.path()),
        &[("CONTEXT_NAMESPACE", "a/b")],
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("the current context's namespace `a/b`"));
}
