//! The README as a user meets it: small, without internal words, every link resolving (docs/
//! too), and every command of its `sh` blocks run as written (bash, pipefail), in order, from a
//! copy of the repository's examples. Commands that talk to a cluster go to a `kubectl` stand-in that records
//! what it gets; the few that cannot run here are listed in [`NOT_RUN_HERE`] with what runs them.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::shell::{Sandbox, copy_dir, tool};
use crate::support::{root, write_executable};

const README_LIMIT: usize = 12 * 1024;

/// Markdown files whose relative links and anchors must resolve, besides everything in docs/.
const LINKED_DOCS: &[&str] = &["README.md", "gitops/argocd/README.md", "gitops/flux/README.md"];

/// README command lines this test does not run, each with what runs it instead.
const NOT_RUN_HERE: &[(&str, &str)] = &[
    ("scripts/test", "the suite this test is part of"),
    (
        "cargo install --locked --path .",
        "a release build into ~/.cargo/bin: the same code as the binary under test",
    ),
    (
        "kubectl krew install --manifest=flink.yaml",
        "needs krew and a published release: scripts/test builds the archive and manifest (scripts/release), tests/it/krew.rs checks them",
    ),
    (
        "kubectl flink status -f ",
        "needs a running cluster: tests/lifecycle/scenarios.py runs it on real Flink",
    ),
    (
        "kubectl flink savepoint -f ",
        "needs a running cluster: tests/lifecycle/scenarios.py runs it on real Flink",
    ),
    (
        "kubectl flink upgrade -f ",
        "needs a running cluster: tests/lifecycle/scenarios.py runs it on real Flink",
    ),
    (
        "kubectl flink scale -f ",
        "needs a running cluster: tests/lifecycle/scenarios.py runs it on real Flink",
    ),
    (
        "kubectl flink delete -f ",
        "needs a running cluster: tests/lifecycle/scenarios.py runs it on real Flink",
    ),
];

/// The first line builds with cargo; the test runs the binary it built on the same arguments.
const CARGO_RUN: &str = "cargo run --release -- ";

/// Stands in for a cluster: `flink` and `kustomize` go to the real kubectl; `-f -` (apply,
/// create) needs objects on stdin; `get … jsonpath={.metadata.uid}` answers a uid; the rest is recorded.
const KUBECTL: &str = r#"#!/bin/sh
case "$1" in flink|kustomize) exec "$REAL_KUBECTL" "$@" ;; esac
n=$(( $(cat "$LOG/count" 2>/dev/null || echo 0) + 1 ))
echo "$n" > "$LOG/count"
printf '%s\n' "$@" > "$LOG/args-$n"
case " $* " in
  *" -f - "*)
    cat > "$LOG/stdin-$n"
    objects=$(grep -c '^kind: ' "$LOG/stdin-$n")
    [ "$objects" -gt 0 ] || { echo "kubectl stand-in: no objects on stdin" >&2; exit 1; }
    echo "$objects objects applied" ;;
  *" get "*"jsonpath={.metadata.uid}"*) printf '5b1d7a0e-2f3c-4d5e-8a9b-0c1d2e3f4a5b' ;;
  *" get "*) echo "kubectl stand-in: unexpected $*" >&2; exit 1 ;;
esac
"#;

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn readme_is_a_short_front_page() {
    let readme = read("README.md");
    assert!(
        readme.len() < README_LIMIT,
        "README.md is {} bytes, over {README_LIMIT}",
        readme.len()
    );
    let lower = readme.to_lowercase();
    for word in ["seed 004", "the seed", "seed's", "issue 1", "issue 2", "issue 3", "cargo run"] {
        let count = lower.matches(word).count();
        let allowed = usize::from(word == "cargo run"); // the first line, for contributors
        assert!(count <= allowed, "README.md says `{word}` {count} times: words for users only");
    }
}

#[test]
fn every_example_is_in_the_readme_index() {
    let readme = read("README.md");
    let examples = root().join("examples");
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(&examples).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        let linked = if examples.join(&name).is_dir() {
            format!("](examples/{name}/")
        } else {
            format!("](examples/{name})")
        };
        if !readme.contains(&linked) {
            missing.push(name);
        }
    }
    for native in std::fs::read_dir(examples.join("native")).unwrap() {
        let name = native.unwrap().file_name().to_string_lossy().into_owned();
        if !readme.contains(&format!("](examples/native/{name})")) {
            missing.push(format!("native/{name}"));
        }
    }
    assert!(missing.is_empty(), "examples the README's index does not link: {missing:?}");
}

#[test]
fn links_in_the_docs_resolve() {
    let mut docs: Vec<String> = LINKED_DOCS.iter().map(|d| (*d).to_owned()).collect();
    for entry in std::fs::read_dir(root().join("docs")).unwrap() {
        docs.push(format!("docs/{}", entry.unwrap().file_name().to_string_lossy()));
    }
    let mut broken = Vec::new();
    for doc in &docs {
        let from = root().join(doc);
        let text = read(doc);
        for target in link_targets(&text) {
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let (file, anchor) = target.split_once('#').unwrap_or((&target, ""));
            let path =
                if file.is_empty() { from.clone() } else { from.parent().unwrap().join(file) };
            if !path.exists() {
                broken.push(format!("{doc}: {target} (no such file)"));
            } else if !anchor.is_empty() && !anchors(&path).contains(anchor) {
                broken.push(format!("{doc}: {target} (no such heading)"));
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

/// Targets of Markdown links `[text](target)`.
fn link_targets(text: &str) -> Vec<String> {
    text.split("](")
        .skip(1)
        .filter_map(|rest| rest.split_once(')').map(|(target, _)| target.to_owned()))
        .filter(|target| !target.contains(char::is_whitespace))
        .collect()
}

/// GitHub's anchors for the headings of a Markdown file.
fn anchors(path: &Path) -> BTreeSet<String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter(|l| l.starts_with('#'))
        .map(|l| {
            l.trim_start_matches('#')
                .trim()
                .to_lowercase()
                .chars()
                .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
                .map(|c| if c == ' ' { '-' } else { c })
                .collect()
        })
        .collect()
}

/// The command lines of the README's `sh` blocks, in order (comments and blank lines dropped).
fn readme_commands() -> Vec<String> {
    let readme = read("README.md");
    let mut commands = Vec::new();
    for block in readme.split("```sh\n").skip(1) {
        let body = block.split("```").next().unwrap();
        commands.extend(
            body.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .map(str::to_owned),
        );
    }
    commands
}

fn not_run_here(line: &str) -> Option<&'static str> {
    NOT_RUN_HERE.iter().find(|(prefix, _)| line.starts_with(prefix)).map(|(_, why)| *why)
}

#[test]
fn lines_not_run_here_are_run_elsewhere() {
    let scenarios = read("tests/lifecycle/scenarios.py");
    for (prefix, why) in NOT_RUN_HERE {
        if let Some(command) = prefix.strip_prefix("kubectl flink ") {
            let verb = command.split_whitespace().next().unwrap();
            assert!(
                scenarios.contains(&format!("\"{verb}\"")),
                "{why}, but it does not run `{verb}`"
            );
        }
    }
}

#[test]
fn every_readme_command_runs_as_written() {
    let Some(kubectl) = tool("kubectl", "KUBECTL", &["version", "--client"]) else { return };
    if tool("kpt", "KPT", &["version"]).is_none() {
        return;
    }
    let sandbox = Sandbox::new();
    let repo = sandbox.path().join("repo");
    for dir in ["examples", "kustomize", "gitops", "schema", "tests/fixtures/convert"] {
        copy_dir(&root().join(dir), &repo.join(dir));
    }
    // The intro's `cluster.yaml` is the user's own spec: the quickstart's here.
    std::fs::copy(root().join("examples/quickstart.yaml"), repo.join("cluster.yaml")).unwrap();
    let log = sandbox.path().join("log");
    std::fs::create_dir_all(&log).unwrap();
    write_executable(&sandbox.bin().join("kubectl"), KUBECTL);

    // The stand-in first, even where the suite was given a kubectl path (KUBECTL).
    let path = std::env::join_paths(
        [sandbox.bin(), PathBuf::from(crate::support::bin()).parent().unwrap().to_path_buf()]
            .into_iter()
            .chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())),
    )
    .unwrap();
    let mut ran = 0;
    for line in readme_commands() {
        if not_run_here(&line).is_some() {
            continue;
        }
        let command = match line.strip_prefix(CARGO_RUN) {
            Some(args) => format!("kubectl-flink {args}"),
            None => line.clone(),
        };
        let out = sandbox
            .command("bash", &repo)
            .args(["-o", "pipefail", "-c", &command])
            .env("PATH", &path)
            .env("REAL_KUBECTL", absolute(&kubectl))
            .env("LOG", &log)
            .output()
            .expect("bash runs");
        assert!(
            out.status.success(),
            "README command `{line}` failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        ran += 1;
    }
    assert!(ran >= 10, "only {ran} README commands ran");
    let applied = std::fs::read_dir(&log)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().starts_with("stdin-"))
        .count();
    assert!(
        applied >= 3,
        "the stand-in got objects {applied} times: the apply lines did not reach it"
    );
}

/// `program` as an absolute path, looked up on `PATH` when it has no directory.
fn absolute(program: &str) -> PathBuf {
    let path = Path::new(program);
    if path.components().count() > 1 {
        return path.to_path_buf();
    }
    std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| panic!("`{program}` is not on PATH"))
}
