//! KRM function mode: hand-written `ResourceList`s from `tests/fixtures/krm/<case>/input.yaml`
//! (with an optional `args` file, one argument a line; default `fn`) are piped in the way kpt
//! and kustomize pipe them. Every case checks the contract, then snapshots exit code, stderr
//! and stdout:
//!
//! - every input item comes back in order and equal in meaning, except an earlier run's output
//!   (labelled `app.kubernetes.io/managed-by: kubectl-flink`), which may be replaced;
//! - new items carry a path annotation and an index distinct within that path;
//! - on failure: exit 1, the input items unchanged, no new items, `severity: error` results.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;

use kubectl_flink::yaml::{self, Limits};
use serde_json::Value;

use crate::support::{root, run};

const PATH: &str = "internal.config.kubernetes.io/path";
const INDEX: &str = "internal.config.kubernetes.io/index";

fn parse(text: &str) -> Value {
    let documents = yaml::parse_documents_with(text, Limits::PACKAGE).expect("YAML");
    documents.into_iter().find_map(|d| d.root).expect("a document").to_json_lenient()
}

fn items(list: &Value) -> Vec<Value> {
    list["items"].as_array().cloned().unwrap_or_default()
}

fn is_ours(item: &Value) -> bool {
    item.pointer("/metadata/labels/app.kubernetes.io~1managed-by")
        == Some(&Value::from("kubectl-flink"))
        || item.pointer("/metadata/labels/type") == Some(&Value::from("flink-native-kubernetes"))
}

/// Checks the KRM contract for one run; returns the output list.
fn check_contract(input: &str, out: &std::process::Output) -> Value {
    let input = parse(input);
    let stdout = String::from_utf8(out.stdout.clone()).expect("UTF-8");
    let output = parse(&stdout);
    assert_eq!(output["kind"], "ResourceList");
    let (before, after) = (items(&input), items(&output));
    let results = output["results"].as_array().cloned().unwrap_or_default();
    let errors = results.iter().filter(|r| r["severity"] == "error").count();
    if out.status.success() {
        assert_eq!(errors, 0, "exit 0 with error results");
        let kept: Vec<&Value> = before.iter().filter(|i| !is_ours(i)).collect();
        assert_eq!(
            after[..kept.len()].iter().collect::<Vec<_>>(),
            kept,
            "input items changed or reordered"
        );
        let mut places = BTreeSet::new();
        for item in &after[kept.len()..] {
            assert!(is_ours(item), "a new item without the managed-by label: {item}");
            let at = |key: &str| {
                item.pointer("/metadata/annotations")
                    .and_then(|a| a.get(key))
                    .and_then(Value::as_str)
                    .map_or_else(|| panic!("a new item without {key}: {item}"), str::to_owned)
            };
            assert!(places.insert((at(PATH), at(INDEX))), "two new items at one path and index");
        }
    } else {
        assert_eq!(out.status.code(), Some(1), "failures exit 1");
        assert_eq!(after, before, "a failed run must return the input items unchanged");
        assert!(errors > 0, "a failed run must say why in results");
    }
    output
}

fn args_of(case: &Path) -> Vec<String> {
    std::fs::read_to_string(case.join("args"))
        .map_or_else(|_| vec!["fn".to_owned()], |t| t.lines().map(str::to_owned).collect())
}

#[test]
fn krm_fixtures() {
    insta::glob!("../fixtures/krm", "*/input.yaml", |path| {
        let case = path.parent().unwrap();
        let input = std::fs::read_to_string(path).unwrap();
        let args = args_of(case);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = run(&args, Some(input.as_bytes()));
        check_contract(&input, &out);
        insta::assert_snapshot!(format!(
            "args: {}\nexit: {}\n--- stderr\n{}--- stdout\n{}",
            args.join(" "),
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout),
        ));
    });
}

fn fixture(case: &str) -> String {
    std::fs::read_to_string(root().join("tests/fixtures/krm").join(case).join("input.yaml"))
        .unwrap()
}

#[test]
fn without_a_command_a_resource_list_runs_the_function() {
    for case in ["kpt-render", "broken-items"] {
        let input = fixture(case);
        let explicit = run(&["fn"], Some(input.as_bytes()));
        let detected = run(&[], Some(input.as_bytes()));
        assert_eq!(detected.status.code(), explicit.status.code(), "{case}");
        assert_eq!(detected.stdout, explicit.stdout, "{case}");
    }
}

#[test]
fn without_a_command_other_input_is_a_usage_error() {
    for stdin in [&b""[..], b"apiVersion: v1\nkind: List\n", b"{{{", b"\xff"] {
        let out = run(&[], Some(stdin));
        assert_eq!(out.status.code(), Some(2), "{stdin:?}");
        assert!(out.stdout.is_empty());
        assert!(String::from_utf8_lossy(&out.stderr).contains("no command given"));
    }
}

#[test]
fn fn_refuses_what_is_not_a_resource_list_without_output() {
    for stdin in [&b"apiVersion: v1\nkind: List\n"[..], b"items: [", b""] {
        let out = run(&["fn"], Some(stdin));
        assert_eq!(out.status.code(), Some(1), "{stdin:?}");
        assert!(out.stdout.is_empty(), "{stdin:?}");
    }
}

/// What kpt does between two runs: writes the output back and sends it as the next input.
fn rerun(input: &str) -> (std::process::Output, Value) {
    let out = run(&["fn"], Some(input.as_bytes()));
    let output = check_contract(input, &out);
    (out, output)
}

fn first_run() -> String {
    let input = fixture("kpt-render");
    let out = run(&["fn"], Some(input.as_bytes()));
    check_contract(&input, &out);
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn a_second_run_replaces_its_own_output() {
    let first = first_run();
    let (second, _) = rerun(&first);
    assert!(second.status.success());
    assert_eq!(
        String::from_utf8(second.stdout).unwrap(),
        first,
        "kpt fn render twice must change nothing"
    );
}

#[test]
fn a_renamed_cluster_leaves_nothing_behind() {
    let first = first_run();
    let spec = "  kind: FlinkJobCluster\n  metadata:\n    name: wordcount\n";
    assert!(first.contains(spec), "{first}");
    let renamed = first.replace(spec, &spec.replace("wordcount", "renamed"));
    let (out, output) = rerun(&renamed);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let instance = |i: &Value| i.pointer("/metadata/labels/app.kubernetes.io~1instance").cloned();
    assert!(
        items(&output).iter().all(|i| instance(i) != Some(Value::from("wordcount"))),
        "stale objects of the old name: {output}"
    );
    let files: BTreeSet<String> = items(&output)
        .iter()
        .filter(|i| is_ours(i))
        .filter_map(|i| i.pointer("/metadata/annotations").and_then(|a| a.get(PATH)))
        .filter_map(|p| p.as_str().map(str::to_owned))
        .collect();
    assert_eq!(files, BTreeSet::from(["generated/renamed.yaml".to_owned()]));
}

#[test]
fn a_removed_spec_removes_its_objects() {
    let first = parse(&first_run());
    let mut list = first.clone();
    list["items"] = Value::Array(
        items(&first).into_iter().filter(|i| i["kind"] != "FlinkJobCluster").collect(),
    );
    let (out, output) = rerun(&serde_json::to_string(&list).unwrap());
    assert!(out.status.success());
    assert!(items(&output).iter().all(|i| !is_ours(i)), "{output}");
}

#[test]
fn a_new_output_directory_leaves_no_duplicates() {
    let first = first_run();
    let out = run(&["fn", "--output-dir", "manifests"], Some(first.as_bytes()));
    let output = check_contract(&first, &out);
    let paths: BTreeSet<String> = items(&output)
        .iter()
        .filter(|i| is_ours(i))
        .filter_map(|i| i.pointer("/metadata/annotations").and_then(|a| a.get(PATH)))
        .filter_map(|p| p.as_str().map(str::to_owned))
        .collect();
    assert_eq!(paths, BTreeSet::from(["manifests/wordcount.yaml".to_owned()]));
}

/// The alias limits (docs/safety.md) hold for `fn` too: a few hundred bytes of aliases cannot build
/// millions of nodes in a ResourceList (the package's node limit is for its text).
#[test]
fn issue_17_alias_bombs_in_a_resource_list_hit_the_spec_alias_limits() {
    let mut bomb = String::from(
        "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: x}\n  data:\n    a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n",
    );
    for (name, previous) in "bcdefg".chars().zip("abcdef".chars()) {
        let refs = vec![format!("*{previous}"); 9].join(", ");
        let _ = writeln!(bomb, "    {name}: &{name} [{refs}]");
    }
    let out = run(&["fn"], Some(bomb.as_bytes()));
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("aliases expand to more than 20000 YAML nodes"), "{stderr}");
    let long = "x".repeat(64 * 1024);
    let mut strings = format!(
        "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {{name: x}}\n  data:\n    a: &a \"{long}\"\n"
    );
    for i in 0..20 {
        let _ = writeln!(strings, "    k{i}: *a");
    }
    let out = run(&["fn"], Some(strings.as_bytes()));
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("aliases expand to more than {} bytes", Limits::SPEC.alias_bytes)),
        "{stderr}"
    );
    assert_eq!(Limits::PACKAGE.alias_bytes, yaml::MAX_ALIAS_BYTES);
}

/// What `PyYAML` (a YAML 1.1 reader, as kubectl's and kpt's go-yaml are) reads in `text`, in key
/// order: tags it does not know are kept with their value. `None` where `PyYAML` is missing outside CI.
pub fn pyyaml_reading(text: &str) -> Option<String> {
    const READ: &str = r#"
import sys, yaml
class Loader(yaml.SafeLoader): pass
def unknown(loader, suffix, node):
    if isinstance(node, yaml.ScalarNode): value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode): value = loader.construct_sequence(node, deep=True)
    else: value = loader.construct_mapping(node, deep=True)
    return ("tagged", node.tag, value)
Loader.add_multi_constructor("!", unknown)
Loader.add_multi_constructor("tag:", unknown)
def norm(value):
    if isinstance(value, dict): return sorted((repr(k), norm(v)) for k, v in value.items())
    if isinstance(value, (set, frozenset)): return ("set", sorted(map(repr, value)))
    if isinstance(value, (list, tuple)): return [norm(v) for v in value]
    return repr(value)
print(norm(yaml.load(sys.stdin.read(), Loader=Loader)))
"#;
    let (python, from) = crate::injection::pyyaml_python();
    let mut child = match std::process::Command::new(&python)
        .args(["-c", READ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
    {
        Ok(child) => child,
        Err(err) => {
            assert!(std::env::var_os("CI").is_none(), "{} ({from}): {err}", python.display());
            eprintln!("SKIPPED: no {} ({from}): {err}", python.display());
            return None;
        }
    };
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    if stderr.contains("No module named 'yaml'") {
        assert!(std::env::var_os("CI").is_none(), "{} ({from}) has no PyYAML", python.display());
        eprintln!("SKIPPED: {} ({from}) has no PyYAML", python.display());
        return None;
    }
    assert!(out.status.success(), "PyYAML could not read:\n{text}\n{stderr}");
    Some(String::from_utf8(out.stdout).unwrap())
}

/// The input items of a list as their own YAML document.
fn items_text(list: &str) -> String {
    let start = list.find("\nitems:\n").expect("items") + 1;
    let end =
        list[start..].find("\n- apiVersion: kubectl-flink/").map_or(list.len(), |e| start + e + 1);
    list[start..end].to_owned()
}

/// Issue 17: items that are not ours may hold any YAML (merge keys, tags, `.inf`, integers
/// beyond 64 bits, keys over 1,024 characters); they come back meaning the same to a YAML 1.1
/// reader, while the spec item beside them renders.
#[test]
fn issue_17_fn_passes_through_yaml_it_does_not_own() {
    let input = fixture("foreign-yaml");
    let out = run(&["fn"], Some(input.as_bytes()));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let output = String::from_utf8(out.stdout).unwrap();
    let Some(before) = pyyaml_reading(&items_text(&input)) else { return };
    let after = pyyaml_reading(&items_text(&output)).unwrap();
    assert_eq!(after, before, "{output}");
    for kept in ["high: .inf\n", "big: 123456789012345678901234567890\n", "local: !Ref bucket\n"] {
        assert!(output.contains(kept), "{kept:?} not kept as written:\n{output}");
    }
}

/// A spec item, and the function's own settings, stay as strict as a spec file: merge keys
/// (written there, or brought in by an alias of another item's) and tags are refused there,
/// with the line.
#[test]
fn issue_17_spec_items_still_refuse_merge_keys_and_tags() {
    let list = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\n";
    let other = "- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: other}\n  data: &tm {<<: {replicas: 2}}\n";
    let spec = "- apiVersion: kubectl-flink/v1alpha1\n  kind: FlinkJobCluster\n  metadata: {name: wc}\n  spec:\n    image: flink:1.20\n    flinkVersion: \"1.20\"\n";
    let items = format!("items:\n{other}{spec}");
    for (input, message) in [
        (
            format!("{list}{items}    taskManager:\n      <<: {{replicas: 2}}\n"),
            "YAML merge keys (`<<`) are not supported (line 15",
        ),
        (
            format!("{list}{items}    taskManager: *tm\n"),
            "YAML merge keys (`<<`) are not supported (line 14",
        ),
        (
            format!("{list}{items}    taskManager:\n      replicas: !!int 2\n"),
            "YAML tag `!!int` is not supported (line 15",
        ),
        (
            format!(
                "{list}functionConfig:\n  apiVersion: v1\n  kind: ConfigMap\n  data: {{<<: {{spec.image: evil}}}}\n"
            ),
            "YAML merge keys (`<<`) are not supported (line 6",
        ),
        (
            format!(
                "{list}functionConfig:\n  apiVersion: v1\n  kind: ConfigMap\n  data: {{spec.image: !Evil flink}}\n"
            ),
            "YAML tag `!Evil` is not supported (line 6",
        ),
    ] {
        let out = run(&["fn"], Some(input.as_bytes()));
        assert_eq!(out.status.code(), Some(1), "{input}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(message), "{stderr}");
    }
}

#[test]
fn issue_19_a_native_cluster_reruns_to_the_same_list() {
    // Native objects carry Flink's labels, not `managed-by`: a re-run must still replace them.
    // The spec in the package says it (kpt re-runs `kpt fn render` on what it wrote back).
    let fixture = fixture("native-without-owner-references");
    let input = fixture
        .split("functionConfig:")
        .next()
        .unwrap()
        .replace("mode: native}", "mode: native, native: {ownerReferences: false}}");
    assert!(input.contains("ownerReferences: false"), "the fixture changed: {fixture}");
    let (first, list) = rerun(&input);
    assert!(first.status.success());
    let all = items(&list);
    let kinds: Vec<&str> = all.iter().filter_map(|i| i["kind"].as_str()).collect();
    assert!(kinds.contains(&"Deployment") && kinds.contains(&"ConfigMap"), "{kinds:?}");
    let first = String::from_utf8(first.stdout).unwrap();
    assert!(all.iter().all(|i| i["metadata"]["ownerReferences"].is_null()), "{first}");
    let (second, _) = rerun(&first);
    assert_eq!(String::from_utf8(second.stdout).unwrap(), first, "a re-run must change nothing");
}
