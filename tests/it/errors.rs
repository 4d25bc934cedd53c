//! Malformed specs: each gives a clear message naming the problem, exit 1, and no stdout.
//!
//! Fixtures live in `tests/fixtures/invalid/`; the first line of each says
//! `# expect: <substring of the error>`.

use std::path::PathBuf;

use crate::support::{root, run};

fn fixtures() -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(root().join("tests/fixtures/invalid"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    paths
}

fn expected(path: &PathBuf) -> String {
    let bytes = std::fs::read(path).unwrap();
    let first = bytes.split(|b| *b == b'\n').next().unwrap();
    let first = String::from_utf8_lossy(first);
    first
        .strip_prefix("# expect: ")
        .unwrap_or_else(|| panic!("{} lacks `# expect:`", path.display()))
        .to_owned()
}

#[test]
fn every_malformed_spec_fails_clearly_with_empty_stdout() {
    let fixtures = fixtures();
    assert!(fixtures.len() >= 30, "only {} malformed fixtures", fixtures.len());
    let mut failures = Vec::new();
    for path in &fixtures {
        let out = run(&["render", "-f", path.to_str().unwrap()], None);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let want = expected(path);
        if out.status.code() != Some(1) || !out.stdout.is_empty() || !stderr.contains(&want) {
            failures.push(format!(
                "{}: exit {:?}, stdout {} bytes, wanted `{want}` in:\n{stderr}",
                path.display(),
                out.status.code(),
                out.stdout.len()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn errors_name_the_file_and_line() {
    let path = root().join("tests/fixtures/invalid/negative-replicas.yaml");
    let out = run(&["render", "-f", path.to_str().unwrap()], None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("negative-replicas.yaml:8:27"), "{stderr}");
    assert!(stderr.contains("help: use a whole number from 1 to 10000"), "{stderr}");
}

#[test]
fn huge_input_is_refused_with_the_limit_named() {
    let big = format!("# {}\n", "x".repeat(2 * 1024 * 1024));
    let out = run(&["render", "-f", "-"], Some(big.as_bytes()));
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("larger than the limit of 1048576 bytes")
    );
}

#[test]
fn a_bad_document_stops_every_document() {
    let path = root().join("tests/fixtures/invalid/one-bad-document-of-two.yaml");
    let good = root().join("examples/seed-non-ha.yaml");
    let out = run(&["render", "-f", good.to_str().unwrap(), "-f", path.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "partial output written");
}
