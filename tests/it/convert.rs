//! `convert`: Flink Kubernetes Operator `FlinkDeployment`s → kubectl-flink specs (issue 19,
//! item 6). Each fixture in `tests/fixtures/convert/` converts, its spec and warnings match
//! their snapshot, and the spec renders; a fixture's `# convert-args:` line holds extra
//! arguments. Inputs that cannot be converted fail with exit 1, a message at the field and an
//! empty stdout.

use std::path::Path;
use std::process::Output;

use crate::support::{root, run};

/// `path` relative to the repository root, as the tests pass it to the binary.
fn relative(path: &Path) -> String {
    path.strip_prefix(root()).unwrap_or(path).display().to_string()
}

/// The fixture's `# convert-args:` arguments.
fn extra_args(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .find_map(|line| line.strip_prefix("# convert-args:"))
        .map(|args| args.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default()
}

fn convert(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut all = vec!["convert"];
    all.extend_from_slice(args);
    run(&all, stdin)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("UTF-8")
}

/// Asserts a clean input error: exit 1, nothing on stdout; returns stderr.
fn refused(out: &Output) -> String {
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(out.stdout.is_empty(), "stdout: {}", text(&out.stdout));
    assert!(stderr.starts_with("error: "), "{stderr}");
    stderr
}

#[test]
fn issue_19_operator_examples_convert_and_render() {
    insta::glob!("../fixtures/convert", "*.yaml", |path| {
        let file = relative(path);
        let extra = extra_args(path);
        let mut args = vec!["-f", file.as_str()];
        args.extend(extra.iter().map(String::as_str));
        let out = convert(&args, None);
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        assert!(out.status.success(), "convert {file} failed: {stderr}");
        let rendered = run(&["render", "-f", "-"], Some(stdout.as_bytes()));
        assert!(
            rendered.status.success(),
            "the spec converted from {file} does not render: {}",
            text(&rendered.stderr)
        );
        insta::assert_snapshot!(format!(
            "$ kubectl flink convert {}\n--- stderr\n{stderr}--- stdout\n{stdout}",
            args.join(" ")
        ));
    });
}

#[test]
fn issue_19_convert_reads_stdin() {
    let path = root().join("tests/fixtures/convert/basic.yaml");
    let bytes = std::fs::read(&path).unwrap();
    let from_stdin = convert(&["-f", "-"], Some(&bytes));
    let from_file = convert(&["-f", "tests/fixtures/convert/basic.yaml"], None);
    assert!(from_stdin.status.success(), "{}", text(&from_stdin.stderr));
    assert_eq!(from_stdin.stdout, from_file.stdout);
    assert!(text(&from_stdin.stderr).contains("<stdin>:"), "{}", text(&from_stdin.stderr));
}

#[test]
fn issue_19_convert_refuses_what_is_not_a_flink_deployment() {
    let stderr = refused(&convert(&["-f", "examples/seed-non-ha.yaml"], None));
    insta::assert_snapshot!(stderr);
    let deployment = b"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n";
    let stderr = refused(&convert(&["-f", "-"], Some(deployment)));
    assert!(
        stderr.contains("`Deployment` (apiVersion `apps/v1`) is not a FlinkDeployment"),
        "{stderr}"
    );
    let stderr = refused(&convert(&["-f", "-"], Some(b"# nothing\n")));
    assert!(stderr.contains("holds no FlinkDeployment"), "{stderr}");
}

const MINIMAL: &str = "\
apiVersion: flink.apache.org/v1beta1
kind: FlinkDeployment
metadata: {name: wordcount}
spec:
  image: flink:2.2
  flinkVersion: v2_2
  job: {jarURI: 'local:///opt/flink/usrlib/wordcount.jar', parallelism: 2}
";

#[test]
fn issue_19_convert_refuses_a_flink_version_kubectl_flink_does_not_render() {
    let input = MINIMAL.replace("v2_2", "v2_4");
    let stderr = refused(&convert(&["-f", "-"], Some(input.as_bytes())));
    insta::assert_snapshot!(stderr);
    let input = MINIMAL.replace("v2_2", "2.2");
    let stderr = refused(&convert(&["-f", "-"], Some(input.as_bytes())));
    assert!(stderr.contains("not an operator Flink version such as `v1_20`"), "{stderr}");
}

#[test]
fn issue_19_convert_warns_about_unknown_fields_and_drops_nothing_silently() {
    let input = MINIMAL
        .replace("  image:", "  imagePulPolicy: Always\n  image:")
        .replace("job: {", "job: {savepointTriggerNonce: 1, ");
    let out = convert(&["-f", "-"], Some(input.as_bytes()));
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("<stdin>:5: spec.imagePulPolicy: unknown field"), "{stderr}");
    assert!(
        stderr.contains("spec.job.savepointTriggerNonce: the operator's savepoint trigger"),
        "{stderr}"
    );
    assert!(!text(&out.stdout).contains("imagePulPolicy"));
}

#[test]
fn issue_19_convert_refuses_a_jobmanager_pod_template_in_native_mode() {
    // The fixture converts with `--mode standalone`; as the operator runs it (native), kubectl-flink
    // cannot template the JobManager.
    let stderr = refused(&convert(&["-f", "tests/fixtures/convert/pod-template.yaml"], None));
    insta::assert_snapshot!(stderr);
}

#[test]
fn issue_19_convert_points_a_render_refusal_at_the_flink_deployment_field() {
    let stderr = refused(&convert(
        &["-f", "tests/fixtures/convert-invalid/job-from-savepoint.yaml", "--mode", "standalone"],
        None,
    ));
    insta::assert_snapshot!(stderr);
}

#[test]
fn issue_19_convert_errors_name_the_field_and_the_fix() {
    let cases = [
        (MINIMAL.replace("  image: flink:2.2\n", ""), "spec: a FlinkDeployment needs `spec.image`"),
        (MINIMAL.replace("jarURI: 'local:///opt/flink/usrlib/wordcount.jar', ", ""), "a native job needs `jarURI`"),
        (MINIMAL.replace(", parallelism: 2", ""), "the job needs a parallelism"),
        (
            MINIMAL.replace("  job:", "  flinkConfiguration: {high-availability.type: kubernetes}\n  job:"),
            "high availability needs `high-availability.storageDir`",
        ),
        (
            MINIMAL.replace("  job:", "  jobManager: {resource: {memory: lots}}\n  job:"),
            "`lots` is not a memory size",
        ),
        (
            MINIMAL.replace("  job:", "  mode: standalone\n  flinkConfiguration: {scheduler-mode: reactive}\n  taskManager:\n    resources: {requests: {cpu: 1}, limits: {cpu: 2}}\n  job:"),
            "a cpu limit other than the request cannot be converted to standalone mode",
        ),
        (
            MINIMAL.replace("  job:", "  flinkConfiguration: {scheduler-mode: reactive}\n  job:"),
            "spec.flinkConfiguration.scheduler-mode: native mode's JobManager",
        ),
        (
            MINIMAL.replace("parallelism: 2}", "parallelism: 2, state: suspended}"),
            "spec.job.state: the job is suspended: the converted spec would start it, without its state",
        ),
        (
            MINIMAL.replace("v2_2", "v1_18"),
            "help: convert with `--mode standalone`",
        ),
    ];
    for (input, want) in cases {
        let stderr = refused(&convert(&["-f", "-"], Some(input.as_bytes())));
        assert!(stderr.contains(want), "want `{want}` in:\n{stderr}");
    }
}

/// What a standalone cluster would read differently from the operator is said, not passed on:
/// native-only Kubernetes options, the shutdown option `jobManager.kind` decides, and `$(`
/// that Kubernetes would expand in container arguments.
#[test]
fn issue_19_convert_to_standalone_warns_where_meaning_would_change() {
    let input = MINIMAL
        .replace("job: {", "job: {args: ['--at', '$(HOSTNAME)'], ")
        .replace(
            "  job:",
            "  mode: standalone\n  flinkConfiguration:\n    kubernetes.taskmanager.node-selector: 'pool:flink'\n    execution.shutdown-on-application-finish: 'true'\n    pipeline.name: '$(POD_NAME)'\n  job:",
        );
    let out = convert(&["-f", "-"], Some(input.as_bytes()));
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let stdout = text(&out.stdout);
    for (warning, dropped) in [
        (
            "`kubernetes.taskmanager.node-selector`: options of Flink's native Kubernetes client",
            true,
        ),
        ("`execution.shutdown-on-application-finish`: the operator sets it itself", true),
        ("`pipeline.name`: Kubernetes expands `$(NAME)`", false),
        ("job arguments: Kubernetes expands `$(NAME)`", false),
    ] {
        assert!(stderr.contains(warning), "want `{warning}` in:\n{stderr}");
        let key = warning.split('`').nth(1).unwrap();
        if dropped {
            assert!(!stdout.contains(key), "{key} is still in:\n{stdout}");
        }
    }
}
