//! Malformed specs: each gives a clear message naming the problem, exit 1, and no stdout.
//!
//! The corpus lives in `tests/corpus/malformed/` (see its README): the first line of each
//! `*.yaml` says `# expect: <substring of the error>`, or a sidecar `<name>.expect` holds the
//! substring when the file cannot start with a comment (UTF-16, a NUL first byte). Inputs too
//! big to commit (over the size limit, a megabyte on one line) are generated here.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::support::{root, run};

/// Every `*.yaml` of the malformed corpus, sorted.
pub fn corpus() -> Vec<PathBuf> {
    crate::support::yaml_files(&root().join("tests/corpus/malformed"))
}

/// The substring the error must contain.
fn expected(path: &Path) -> String {
    if let Ok(text) = std::fs::read_to_string(path.with_extension("expect")) {
        return text.trim_end_matches('\n').to_owned();
    }
    let bytes = std::fs::read(path).unwrap();
    let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(&bytes);
    let first = bytes.split(|b| *b == b'\n').next().unwrap();
    String::from_utf8_lossy(first)
        .strip_prefix("# expect: ")
        .unwrap_or_else(|| panic!("{} lacks `# expect:` and a .expect file", path.display()))
        .to_owned()
}

/// Why `out` is not a clean input error mentioning `want`, if it is not.
fn problem(out: &Output, want: &str) -> Option<String> {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let clean = out.status.code() == Some(1)
        && out.stdout.is_empty()
        && stderr.contains(want)
        && stderr.starts_with("error: ")
        && !stderr.contains("panicked");
    (!clean).then(|| {
        format!(
            "exit {:?}, stdout {} bytes, wanted `{want}` in:\n{}",
            out.status.code(),
            out.stdout.len(),
            stderr.chars().take(2000).collect::<String>()
        )
    })
}

#[test]
fn every_malformed_spec_fails_clearly_with_empty_stdout() {
    let corpus = corpus();
    assert!(corpus.len() >= 200, "only {} malformed specs", corpus.len());
    let mut failures = Vec::new();
    for path in &corpus {
        let want = expected(path);
        assert!(want.len() >= 6, "{}: `{want}` is too vague an expectation", path.display());
        let out = run(&["render", "-f", path.to_str().unwrap()], None);
        if let Some(problem) = problem(&out, &want) {
            failures.push(format!("{}: {problem}", path.display()));
        }
    }
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

/// Every sidecar belongs to a spec, so none is silently ignored.
#[test]
fn every_expect_file_has_its_spec() {
    for entry in std::fs::read_dir(root().join("tests/corpus/malformed")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "expect") {
            assert!(path.with_extension("yaml").is_file(), "{} has no spec", path.display());
        }
    }
}

/// A file with several documents where one is bad writes nothing, although the good ones
/// render on their own.
#[test]
fn one_bad_document_stops_every_document() {
    let multi: Vec<PathBuf> = corpus()
        .into_iter()
        .filter(|p| p.file_name().unwrap().to_str().unwrap().starts_with("multi-"))
        .collect();
    assert!(multi.len() >= 10, "only {} multi-document cases", multi.len());
    for path in multi {
        let text = std::fs::read(&path).unwrap();
        let whole = run(&["render", "-f", path.to_str().unwrap()], None);
        assert!(whole.stdout.is_empty(), "{}: partial output", path.display());
        let rendered_alone = String::from_utf8_lossy(&text)
            .split("\n---\n")
            .filter(|document| {
                let out = run(&["render", "-f", "-"], Some(document.as_bytes()));
                out.status.success() && !out.stdout.is_empty()
            })
            .count();
        assert!(rendered_alone >= 1, "{}: no document renders alone", path.display());
    }
}

#[test]
fn a_bad_file_stops_every_file() {
    let bad = root().join("tests/corpus/malformed/one-bad-document-of-two.yaml");
    let good = root().join("examples/seed-non-ha.yaml");
    let out = run(&["render", "-f", good.to_str().unwrap(), "-f", bad.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "partial output written");
    let out = run(&["render", "-f", good.to_str().unwrap(), "-f", good.to_str().unwrap()], None);
    assert!(problem(&out, "two clusters are named `flink-on-kubernetes`").is_none());
}

#[test]
fn errors_name_the_file_and_line() {
    let path = root().join("tests/corpus/malformed/negative-replicas.yaml");
    let out = run(&["render", "-f", path.to_str().unwrap()], None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("negative-replicas.yaml:8:27"), "{stderr}");
    assert!(stderr.contains("help: use a whole number from 1 to 10000"), "{stderr}");
}

const SPEC: &str = "apiVersion: kubectl-flink/v1alpha1\nkind: FlinkJobCluster\nmetadata: {name: big}\nspec: {image: flink}\n";

/// Inputs too big to commit, each with the error it must give.
fn generated() -> Vec<(&'static str, Vec<u8>, &'static str)> {
    let over_limit = format!("{SPEC}# {}\n", "x".repeat(1024 * 1024));
    let long_line = format!("{SPEC}# {}\n", "x".repeat(1024 * 1024 - SPEC.len() - 3));
    let long_bad_line =
        SPEC.replace("image: flink", &format!("image: \"{}\t\"", "i".repeat(900_000)));
    let deep = format!("{}{}", "[".repeat(500_000), "]".repeat(500_000));
    let deep_block: String = (0..2_000).map(|i| "  ".repeat(i % 200) + "- \n").collect();
    let empty_documents = "---\n".repeat(250_000);
    let many_bad_labels = SPEC.replace(
        "metadata: {name: big}",
        &format!(
            "metadata:\n  name: big\n  labels:\n{}",
            (0..5_000)
                .map(|i| "    k".to_owned() + &i.to_string() + ": \"bad value\"\n")
                .collect::<String>()
        ),
    );
    vec![
        ("over-the-size-limit", over_limit.into_bytes(), "larger than the limit of 1048576 bytes"),
        // Exactly at the limit is read, and fails only for what it holds: the comment is fine.
        ("a-megabyte-comment-line", long_line.into_bytes(), "document"),
        (
            "a-900-kb-value-with-a-tab",
            long_bad_line.into_bytes(),
            "spec.image: must not contain control characters",
        ),
        ("500000-open-brackets", deep.into_bytes(), "deeper than the limit of 32"),
        ("2000-nested-block-sequences", deep_block.into_bytes(), "deeper than the limit of 32"),
        ("250000-empty-documents", empty_documents.into_bytes(), "more than 20000 YAML nodes"),
        ("5000-bad-label-values", many_bad_labels.into_bytes(), "more problems not shown"),
    ]
}

/// Each bomb is stopped by a count (nodes, depth, bytes, problems) that its message names; no
/// clock is read here (timing belongs to the benchmarks): a bomb that got past its count would
/// hang or exhaust memory and fail the run that way.
#[test]
fn generated_resource_bombs_fail_with_the_limit_named() {
    let dir = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    for (name, bytes, want) in generated() {
        let path = dir.path().join(format!("{name}.yaml"));
        std::fs::write(&path, &bytes).unwrap();
        let from_file = run(&["render", "-f", path.to_str().unwrap()], None);
        let from_stdin = run(&["render", "-f", "-"], Some(&bytes));
        for (how, out) in [("file", &from_file), ("stdin", &from_stdin)] {
            if name == "a-megabyte-comment-line" {
                // Within the limits: it renders.
                if !out.status.success() {
                    failures
                        .push(format!("{name} ({how}): {}", String::from_utf8_lossy(&out.stderr)));
                }
                continue;
            }
            if let Some(problem) = problem(out, want) {
                failures.push(format!("{name} ({how}): {problem}"));
            }
            if out.stderr.len() > 64 * 1024 {
                failures.push(format!("{name} ({how}): {} bytes on stderr", out.stderr.len()));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A `--set` path deeper than specs may be is refused (it overflowed the stack).
#[test]
fn issue_8_a_deep_set_path_is_a_usage_error() {
    let path = format!("spec{}=1", ".a".repeat(50_000));
    let out = run(&["render", "-f", "-", "--set", &path], Some(SPEC.as_bytes()));
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("deeper than the limit of 32 levels"));
}

/// Issue 16: every field the spec types refuse is reported, not only the first serde meets,
/// in the order of the file (serde reads a struct's fields alphabetically by type, not by
/// line), each at its line; and every rule a spec that reads breaks, in file order too.
#[test]
fn issue_16_every_spec_error_in_file_order() {
    let spec = "apiVersion: kubectl-flink/v1alpha1
kind: FlinkJobCluster
metadata:
  name: wordcount
spec:
  image: flink:1.20
  taskManager:
    slotz: 2
  jobManager:
    replcas: 1
  service:
    type: Nodeport
  job:
    parallelism: \"x\"
";
    let out = run(&["render", "-f", "-"], Some(spec.as_bytes()));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(out.stdout.is_empty());
    let places: Vec<&str> =
        stderr.lines().filter_map(|l| l.trim_start().strip_prefix("--> <stdin>:")).collect();
    assert_eq!(places, ["8:5", "10:5", "12:11", "14:18"], "{stderr}");
    for want in ["`slotz`", "`replcas`", "`Nodeport`", "got string \"x\""] {
        assert!(stderr.contains(want), "{want} missing from:\n{stderr}");
    }

    let spec = "apiVersion: kubectl-flink/v1alpha1
kind: FlinkJobCluster
metadata:
  name: wordcount
spec:
  image: flink:1.20
  taskManager:
    replicas: 0
  jobManager:
    replicas: -1
";
    let out = run(&["render", "-f", "-"], Some(spec.as_bytes()));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let places: Vec<&str> =
        stderr.lines().filter_map(|l| l.trim_start().strip_prefix("--> <stdin>:")).collect();
    assert_eq!(
        places.iter().map(|p| p.split(':').next().unwrap()).collect::<Vec<_>>(),
        ["8", "10"],
        "{stderr}"
    );
}

/// Issue 16: a missing field is reported once; what the placeholder that stands in for it
/// makes serde say next is not reported as a second problem. And a document with more
/// problems than are reported says so.
#[test]
fn issue_16_a_missing_field_is_one_problem_and_the_cap_is_said() {
    for name in ["missing-spec", "missing-metadata", "ha-missing-type"] {
        let path = root().join(format!("tests/corpus/malformed/{name}.yaml"));
        let out = run(&["render", "-f", path.to_str().unwrap()], None);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let errors = stderr.lines().filter(|l| l.starts_with("error: ")).count();
        assert_eq!(errors, 1, "{name}:\n{stderr}");
    }
    let mut spec = String::from(
        "apiVersion: kubectl-flink/v1alpha1\nkind: FlinkJobCluster\nmetadata: {name: a}\nspec:\n  image: flink:2.3\n  taskManager:\n",
    );
    spec.extend((0..60).map(|i| format!("    typo{i}: 1\n")));
    let out = run(&["render", "-f", "-"], Some(spec.as_bytes()));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr.contains("`typo0`") && stderr.contains("`typo49`"), "{stderr}");
    assert!(stderr.contains("more than 50 such problems"), "{stderr}");
}
