//! Manifests rendered in CI and committed (issue 19, item 3): `render -f DIR` (`-R`), `--passthrough`
//! of other Kubernetes objects, `render --check FILE` for CI, and the Flux recipe in
//! `gitops/flux/`.

use std::path::Path;
use std::process::{Command, Output};

use kubectl_flink::yaml::{self, Limits, Node, NodeKind};

use crate::support::{bin, output, root};

/// Runs the binary in `dir` with only `PATH` in its environment.
fn run_in(dir: &Path, args: &[&str]) -> Output {
    let mut command = Command::new(bin());
    command
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .current_dir(dir);
    output(&mut command, None)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("output is UTF-8")
}

fn ok(out: &Output) -> String {
    assert!(out.status.success(), "failed: {}", text(&out.stderr));
    text(&out.stdout)
}

/// Exit 1, nothing on stdout, and `expected` in the message.
fn fails_with(out: &Output, expected: &str) -> String {
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(out.stdout.is_empty(), "stdout is not empty: {}", text(&out.stdout));
    assert!(stderr.contains(expected), "expected `{expected}` in: {stderr}");
    stderr
}

fn example(name: &str) -> String {
    std::fs::read_to_string(root().join("examples").join(name)).unwrap()
}

const CONFIG_MAP: &str = "\
# kept out of the output: comments are not data
apiVersion: v1
kind: ConfigMap
metadata:
  name: extra
  labels: {zeta: z, alpha: a}
data:
  on: 'on'
  ratio: 0.50
  payload: \"x\\n---\\napiVersion: v1\\nkind: Secret\"
  '}': \"{{ injected }}\"
";

/// A tree of specs: `a.yaml`, `b.yml` and a ConfigMap `c.yaml` at the top, `sub/d.json`
/// (JSON is YAML), a README and a dot-directory that are not read.
fn tree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let specs = dir.path().join("specs");
    std::fs::create_dir_all(specs.join("sub")).unwrap();
    std::fs::create_dir_all(specs.join(".hidden")).unwrap();
    std::fs::write(specs.join("b.yml"), example("session-cluster.yaml")).unwrap();
    std::fs::write(specs.join("a.yaml"), example("seed-non-ha.yaml")).unwrap();
    std::fs::write(specs.join("README.md"), "not a spec\n").unwrap();
    std::fs::write(specs.join(".hidden/x.yaml"), "not: a spec\n").unwrap();
    let json = serde_json::to_string(
        &yaml::parse_documents(&example("kubernetes-ha.yaml")).unwrap()[0]
            .root
            .as_ref()
            .unwrap()
            .to_json()
            .unwrap(),
    )
    .unwrap();
    std::fs::write(specs.join("sub/d.json"), json).unwrap();
    dir
}

fn with_config_map(dir: &Path) {
    std::fs::write(dir.join("specs/c.yaml"), CONFIG_MAP).unwrap();
}

#[test]
fn a_directory_renders_its_files_sorted_by_path_and_r_descends() {
    let dir = tree();
    let d = dir.path();
    let files = ok(&run_in(d, &["render", "-f", "specs/a.yaml", "-f", "specs/b.yml"]));
    assert_eq!(ok(&run_in(d, &["render", "-f", "specs"])), files);
    let all = ok(&run_in(
        d,
        &["render", "-f", "specs/a.yaml", "-f", "specs/b.yml", "-f", "specs/sub/d.json"],
    ));
    assert_ne!(all, files);
    assert_eq!(ok(&run_in(d, &["render", "-f", "specs", "-R"])), all);
    assert_eq!(ok(&run_in(d, &["render", "--recursive", "-f", "specs"])), all);
    // The same bytes every time.
    for _ in 0..3 {
        assert_eq!(ok(&run_in(d, &["render", "-R", "-f", "specs"])), all);
    }
}

#[test]
fn a_directory_without_spec_files_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    std::fs::write(dir.path().join("sub/a.yaml"), example("seed-non-ha.yaml")).unwrap();
    fails_with(&run_in(dir.path(), &["render", "-f", "."]), "subdirectories are read with -R");
    assert!(run_in(dir.path(), &["render", "-R", "-f", "."]).status.success());
}

#[test]
fn another_kubernetes_document_is_an_error_naming_file_and_line() {
    let dir = tree();
    with_config_map(dir.path());
    let stderr = fails_with(&run_in(dir.path(), &["render", "-f", "specs"]), "(got \"v1\")");
    assert!(stderr.contains("specs/c.yaml:2:"), "{stderr}");
}

/// The mappings' keys, depth first, in the order they stand.
fn keys(node: &Node, out: &mut Vec<String>) {
    match &node.kind {
        NodeKind::Map(entries) => {
            for (key, value) in entries {
                out.push(key.name.clone());
                keys(value, out);
            }
        }
        NodeKind::Seq(items) => items.iter().for_each(|item| keys(item, out)),
        NodeKind::Scalar { .. } => {}
    }
}

fn roots(text: &str) -> Vec<Node> {
    yaml::parse_documents_with(text, Limits::PACKAGE)
        .unwrap()
        .into_iter()
        .filter_map(|d| d.root)
        .collect()
}

#[test]
fn passthrough_writes_other_objects_in_place_as_the_same_data() {
    let dir = tree();
    with_config_map(dir.path());
    let out = ok(&run_in(dir.path(), &["render", "-f", "specs", "--passthrough"]));
    let specs = ok(&run_in(dir.path(), &["render", "-f", "specs/a.yaml", "-f", "specs/b.yml"]));
    let documents = roots(&out);
    // a.yaml's objects, b.yml's, then the ConfigMap (c.yaml): one more document, no more.
    assert_eq!(documents.len(), roots(&specs).len() + 1, "{out}");
    assert!(out.starts_with(&specs), "{out}");
    let written = documents.last().unwrap();
    let read = &roots(CONFIG_MAP)[0];
    assert_eq!(written.to_json().unwrap(), read.to_json().unwrap());
    let (mut written_keys, mut read_keys) = (Vec::new(), Vec::new());
    keys(written, &mut written_keys);
    keys(read, &mut read_keys);
    assert_eq!(written_keys, read_keys, "key order is kept");
    assert!(!out.contains("# kept out"), "comments are not data");
    // The one writer: `on` stays a quoted string for YAML 1.1 readers such as kubectl.
    assert!(out.contains("on: \"on\"") || out.contains("\"on\": \"on\""), "{out}");
    for _ in 0..3 {
        assert_eq!(ok(&run_in(dir.path(), &["render", "-f", "specs", "--passthrough"])), out);
    }
}

#[test]
fn namespace_puts_the_specs_in_it_and_leaves_passed_through_objects_alone() {
    let dir = tree();
    with_config_map(dir.path());
    let d = dir.path();
    let out = ok(&run_in(d, &["render", "-f", "specs", "--passthrough", "-n", "streaming"]));
    let specs =
        ok(&run_in(d, &["render", "-f", "specs/a.yaml", "-f", "specs/b.yml", "-n", "streaming"]));
    let config_map = ok(&run_in(d, &["render", "-f", "specs/c.yaml", "--passthrough"]));
    assert_eq!(out, format!("{specs}{config_map}"));
    assert!(!config_map.contains("namespace"), "{config_map}");
}

#[test]
fn passthrough_in_json_keeps_key_order_and_skips_no_spec() {
    let dir = tree();
    with_config_map(dir.path());
    let out = ok(&run_in(dir.path(), &["render", "-f", "specs", "--passthrough", "-o", "json"]));
    let list: serde_json::Value = serde_json::from_str(&out).unwrap();
    let items = list["items"].as_array().unwrap();
    let last = items.last().unwrap();
    assert_eq!(last, &roots(CONFIG_MAP)[0].to_json().unwrap());
    // serde_json sorts its own maps: the order is checked in the text.
    let at = out.rfind("\"name\": \"extra\"").unwrap();
    let labels = &out[at..];
    assert!(labels.find("\"zeta\"").unwrap() < labels.find("\"alpha\"").unwrap(), "{out}");
}

#[test]
fn passthrough_does_not_pass_what_is_not_a_kubernetes_object() {
    let dir = tree();
    std::fs::write(dir.path().join("specs/c.yaml"), "name: no-kind\n").unwrap();
    fails_with(
        &run_in(dir.path(), &["render", "-f", "specs", "--passthrough"]),
        "missing field `apiVersion`",
    );
    // A misspelt kind of ours is still a spec, and refused.
    let typo = example("seed-non-ha.yaml").replace("kind: FlinkJobCluster", "kind: FlinkJobClustr");
    std::fs::write(dir.path().join("specs/c.yaml"), typo).unwrap();
    fails_with(
        &run_in(dir.path(), &["render", "-f", "specs", "--passthrough"]),
        "did you mean `FlinkJobCluster`",
    );
}

#[test]
fn a_passed_through_object_may_not_share_a_rendered_objects_name() {
    let dir = tree();
    let rendered = ok(&run_in(dir.path(), &["render", "-f", "specs/a.yaml"]));
    let first = roots(&rendered)[0].to_json().unwrap();
    let mut clash = serde_json::json!({
        "apiVersion": first["apiVersion"],
        "kind": first["kind"],
        "metadata": {"name": first["metadata"]["name"]},
    });
    if let Some(namespace) = first["metadata"].get("namespace") {
        clash["metadata"]["namespace"] = namespace.clone();
    }
    std::fs::write(dir.path().join("specs/c.yaml"), clash.to_string()).unwrap();
    let stderr = fails_with(
        &run_in(dir.path(), &["render", "-f", "specs", "--passthrough"]),
        "one would overwrite the other",
    );
    assert!(stderr.contains("the document in specs/c.yaml, document 1"), "{stderr}");
}

#[test]
fn check_fails_while_the_committed_output_is_missing_or_stale() {
    let dir = tree();
    let d = dir.path();
    with_config_map(d);
    std::fs::create_dir(d.join("rendered")).unwrap();
    let check = ["render", "-R", "-f", "specs", "--passthrough", "--check", "rendered/flink.yaml"];
    let regenerate = "kubectl flink render -f specs -R --passthrough > rendered/flink.yaml";
    let stderr = fails_with(&run_in(d, &check), "`rendered/flink.yaml` does not exist");
    assert!(stderr.contains(regenerate), "{stderr}");

    let fresh = ok(&run_in(d, &["render", "-f", "specs", "-R", "--passthrough"]));
    std::fs::write(d.join("rendered/flink.yaml"), &fresh).unwrap();
    assert_eq!(ok(&run_in(d, &check)), "`rendered/flink.yaml` is up to date\n");

    let edited = CONFIG_MAP.replace("ratio: 0.50", "ratio: 0.75");
    std::fs::write(d.join("specs/c.yaml"), edited).unwrap();
    let stderr = fails_with(&run_in(d, &check), "is stale: ConfigMap `extra` differs");
    assert!(stderr.contains(regenerate), "{stderr}");

    std::fs::write(d.join("specs/c.yaml"), CONFIG_MAP).unwrap();
    std::fs::remove_file(d.join("specs/sub/d.json")).unwrap();
    fails_with(&run_in(d, &check), "is no longer rendered");
}

#[test]
fn check_is_byte_for_byte_and_a_failed_render_prints_nothing() {
    let dir = tree();
    let d = dir.path();
    let fresh = ok(&run_in(d, &["render", "-f", "specs"]));
    std::fs::write(d.join("out.yaml"), format!("{fresh}\n")).unwrap();
    fails_with(&run_in(d, &["render", "-f", "specs", "--check", "out.yaml"]), "is stale");
    std::fs::write(d.join("out.yaml"), &fresh).unwrap();
    ok(&run_in(d, &["render", "-f", "specs", "--check", "out.yaml"]));
    // An invalid spec fails as a render does, whatever the file holds.
    with_config_map(d);
    fails_with(&run_in(d, &["render", "-f", "specs", "--check", "out.yaml"]), "(got \"v1\")");
}

#[test]
fn the_checked_file_is_never_read_as_input() {
    let dir = tree();
    let d = dir.path();
    let fresh = ok(&run_in(d, &["render", "-f", "specs", "--passthrough"]));
    std::fs::write(d.join("specs/rendered.yaml"), &fresh).unwrap();
    let out =
        run_in(d, &["render", "-f", "specs", "--passthrough", "--check", "specs/rendered.yaml"]);
    assert_eq!(ok(&out), "`specs/rendered.yaml` is up to date\n");
}

fn recipe(name: &str) -> (String, Vec<serde_json::Value>) {
    let text = std::fs::read_to_string(root().join("gitops/flux").join(name)).unwrap();
    let values = roots(&text).iter().map(Node::to_json_lenient).collect();
    (text, values)
}

/// The workflow's `kubectl-flink render` commands, as written.
fn workflow_commands() -> Vec<String> {
    let (_, documents) = recipe("render.yaml");
    let [workflow] = documents.as_slice() else { panic!("one document: {documents:?}") };
    let mut commands = Vec::new();
    for job in workflow["jobs"].as_object().expect("jobs").values() {
        for step in job["steps"].as_array().expect("steps") {
            let run = step["run"].as_str().unwrap_or_default();
            commands.extend(
                run.lines().filter(|l| l.contains("kubectl-flink render")).map(str::to_owned),
            );
        }
    }
    commands
}

/// Runs `kubectl-flink ARGS` or `kubectl flink ARGS [> FILE]` (words without quotes) in `dir`.
fn run_line(dir: &Path, line: &str) -> Output {
    let (command, target) = match line.split_once(" > ") {
        Some((command, target)) => (command, Some(target.trim())),
        None => (line, None),
    };
    let command = command.trim().replacen("kubectl flink ", "kubectl-flink ", 1);
    let words: Vec<&str> = command.split_whitespace().collect();
    assert_eq!(words[0], "kubectl-flink", "{line}");
    let out = run_in(dir, &words[1..]);
    if let Some(target) = target {
        assert!(out.status.success(), "{line}: {}", text(&out.stderr));
        std::fs::write(dir.join(target), &out.stdout).unwrap();
    }
    out
}

#[test]
fn the_flux_workflow_runs_the_real_cli() {
    let commands = workflow_commands();
    let [check] = commands.as_slice() else { panic!("one render command: {commands:?}") };
    assert!(check.contains("--check"), "{check}");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("flink/specs/team-a")).unwrap();
    std::fs::create_dir_all(d.join("flink/rendered")).unwrap();
    std::fs::write(d.join("flink/specs/session.yaml"), example("session-cluster.yaml")).unwrap();
    std::fs::write(d.join("flink/specs/team-a/job.yaml"), example("kubernetes-ha.yaml")).unwrap();
    std::fs::write(d.join("flink/specs/namespace.yaml"), CONFIG_MAP).unwrap();

    // Nothing committed yet: the check fails and says how to write the file.
    let stderr = fails_with(&run_line(d, check), "does not exist");
    let regenerate = stderr.split('`').find(|part| part.starts_with("kubectl flink render"));
    let regenerate = regenerate.expect("the message names the command").to_owned();
    let readme = std::fs::read_to_string(root().join("gitops/flux/README.md")).unwrap();
    assert!(readme.contains(&regenerate), "README's step 1 is `{regenerate}`");
    run_line(d, &regenerate);
    let committed = std::fs::read_to_string(d.join("flink/rendered/flink.yaml")).unwrap();
    assert!(committed.contains("kind: ConfigMap") && committed.contains("name: extra"));
    assert!(run_line(d, check).status.success());

    // A spec edited without rendering again fails the workflow.
    let edited = example("session-cluster.yaml").replace("replicas: 3", "replicas: 4");
    assert_ne!(edited, example("session-cluster.yaml"));
    std::fs::write(d.join("flink/specs/session.yaml"), edited).unwrap();
    fails_with(&run_line(d, check), "is stale");
}

fn is_duration(text: &str) -> bool {
    let digits = text.trim_end_matches(|c: char| "hms".contains(c));
    !digits.is_empty() && digits.len() < text.len() && digits.chars().all(|c| c.is_ascii_digit())
}

#[test]
fn the_flux_objects_are_a_git_repository_and_a_kustomization_of_the_rendered_directory() {
    let (_, documents) = recipe("flux.yaml");
    let [source, kustomization] = documents.as_slice() else { panic!("two objects") };
    let fields = |value: &serde_json::Value| {
        value.as_object().unwrap().keys().cloned().collect::<Vec<_>>().join(",")
    };

    assert_eq!(source["apiVersion"], "source.toolkit.fluxcd.io/v1");
    assert_eq!(source["kind"], "GitRepository");
    // Flux's GitRepository v1: `url` and `interval` are required.
    assert_eq!(fields(&source["spec"]), "interval,ref,url");
    assert!(source["spec"]["url"].as_str().unwrap().starts_with("https://"));
    assert!(is_duration(source["spec"]["interval"].as_str().unwrap()));
    assert!(source["spec"]["ref"]["branch"].is_string());

    assert_eq!(kustomization["apiVersion"], "kustomize.toolkit.fluxcd.io/v1");
    assert_eq!(kustomization["kind"], "Kustomization");
    // Flux's Kustomization v1: `interval`, `sourceRef` and `prune` are required.
    let spec = &kustomization["spec"];
    assert_eq!(fields(spec), "interval,path,prune,sourceRef");
    assert!(is_duration(spec["interval"].as_str().unwrap()));
    assert_eq!(spec["prune"], true);
    assert_eq!(spec["sourceRef"]["kind"], "GitRepository");
    assert_eq!(spec["sourceRef"]["name"], source["metadata"]["name"]);
    assert_eq!(kustomization["metadata"]["namespace"], source["metadata"]["namespace"]);

    // The path is the directory of the file the workflow checks.
    let check = workflow_commands().pop().unwrap();
    let file = check.split_whitespace().skip_while(|w| *w != "--check").nth(1).unwrap();
    let dir = Path::new(file).parent().unwrap().display().to_string();
    assert_eq!(spec["path"], format!("./{dir}"));
}

#[test]
fn the_regenerate_command_carries_the_flags_that_change_the_output() {
    let dir = tree();
    let out = run_in(
        dir.path(),
        &[
            "render",
            "-f",
            "specs/a.yaml",
            "-n",
            "team-a",
            "-o",
            "json",
            "--check",
            "out dir/x.json",
        ],
    );
    fails_with(&out, "kubectl flink render -f specs/a.yaml -o json -n team-a > 'out dir/x.json'");
}

#[test]
fn issue_19_a_directory_with_native_clusters_renders_whole_without_owner_references() {
    let dir = tempfile::tempdir().unwrap();
    let specs = dir.path().join("specs");
    std::fs::create_dir_all(&specs).unwrap();
    std::fs::write(specs.join("a.yaml"), example("seed-non-ha.yaml")).unwrap();
    std::fs::write(specs.join("b.yaml"), example("native/session.yaml")).unwrap();
    // The flag touches native clusters only: the standalone one renders as without it.
    let out = run_in(dir.path(), &["render", "-f", "specs", "--no-owner-references"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(!stdout.contains("ownerReferences"), "{stdout}");
    assert!(stdout.contains("name: flink-config-sessions\n"), "{stdout}");
    let standalone = text(&run_in(dir.path(), &["render", "-f", "specs/a.yaml"]).stdout);
    assert!(stdout.starts_with(&standalone), "{stdout}");
    let out = run_in(
        dir.path(),
        &["render", "-f", "specs", "--no-owner-references", "--check", "rendered.yaml"],
    );
    fails_with(&out, "kubectl flink render -f specs --no-owner-references > rendered.yaml");
}

/// The regenerate command is the whole render: variables, mode, phase and uid included, quoted
/// for a shell, so running it as printed makes the check pass.
#[test]
fn issue_19_the_regenerate_command_as_printed_makes_the_check_pass() {
    let dir = tempfile::tempdir().unwrap();
    let spec = example("native/application.yaml").replace("name: wordcount\n", "name: ${JOB}\n");
    std::fs::write(dir.path().join("app.yaml"), spec).unwrap();
    std::fs::write(dir.path().join("prod.env"), "JOB=orders\n").unwrap();
    let check = [
        "render",
        "-f",
        "app.yaml",
        "--env-file",
        "prod.env",
        "--var",
        "TAG=a b",
        "--only",
        "$JOB",
        "--strict-env",
        "--phase",
        "owned",
        "--owner-uid",
        "5b1d7a0e-2f3c-4d5e-8a9b-0c1d2e3f4a5b",
        "--check",
        "out.yaml",
    ];
    let stderr = fails_with(
        &run_in(dir.path(), &check),
        "kubectl flink render -f app.yaml --phase owned --owner-uid \
         5b1d7a0e-2f3c-4d5e-8a9b-0c1d2e3f4a5b --env-file prod.env --var 'TAG=a b' --only '$JOB' \
         --strict-env > out.yaml",
    );
    let line = stderr.split('`').find(|part| part.starts_with("kubectl flink render")).unwrap();
    let status = Command::new("sh")
        .arg("-c")
        .arg(line.replacen("kubectl flink", bin(), 1))
        .current_dir(dir.path())
        .status()
        .unwrap();
    assert!(status.success(), "`{line}` failed");
    let out = run_in(dir.path(), &check);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(std::fs::read_to_string(dir.path().join("out.yaml")).unwrap().contains("orders"));
}
