//! Running real tools (kubectl, kpt) and the commands the integration docs show.
//!
//! A test that needs a tool skips with a message on stderr when it is missing, except under
//! `CI`, where a missing tool fails the run. Commands run with a clean environment: `PATH`
//! (the built binary's directory first, so `kubectl flink` finds it, then the sandbox's
//! `bin`), and a temporary `HOME` and `XDG_CONFIG_HOME`, so nothing touches the real home.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::support::{bin, root};

/// The docs that hold the commands the tests run.
const DOCS: &[&str] = &[
    "README.md",
    "docs/reference.md",
    "docs/integrations.md",
    "docs/lifecycle.md",
    "docs/native.md",
    "gitops/argocd/README.md",
    "gitops/flux/README.md",
];

/// `name` on PATH (or the path in `env_override`), or `None` after saying why it is skipped.
/// `probe` are arguments that make it answer without a cluster or network.
pub fn tool(name: &str, env_override: &str, probe: &[&str]) -> Option<String> {
    let candidate = std::env::var(env_override).unwrap_or_else(|_| name.to_owned());
    let found = Command::new(&candidate)
        .args(probe)
        .stdin(Stdio::null())
        .output()
        .is_ok_and(|o| o.status.success());
    if found {
        return Some(candidate);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "`{name}` is missing under CI; install it (set {env_override} to its path)"
    );
    eprintln!("SKIPPED: `{name}` not found (set {env_override} to its path)");
    None
}

/// A temporary home for tools, with the built binary first on `PATH`.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
}

impl Sandbox {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        std::fs::create_dir_all(dir.path().join("home")).unwrap();
        std::fs::create_dir_all(dir.path().join("config")).unwrap();
        std::fs::create_dir_all(dir.path().join("bin")).unwrap();
        Self { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `XDG_CONFIG_HOME`, where the kustomize plugin is installed.
    pub fn config_home(&self) -> PathBuf {
        self.path().join("config")
    }

    /// A directory on the sandbox's `PATH`.
    pub fn bin(&self) -> PathBuf {
        self.path().join("bin")
    }

    /// A command with the sandbox environment, run from `cwd`.
    pub fn command(&self, program: &str, cwd: &Path) -> Command {
        let bin_dir = Path::new(bin()).parent().expect("the binary has a directory");
        let mut path = std::env::join_paths(
            [bin_dir.to_path_buf(), self.bin()]
                .into_iter()
                .chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())),
        )
        .unwrap();
        if let Some(kubectl) = std::env::var_os("KUBECTL").map(PathBuf::from)
            && let Some(dir) = kubectl.parent()
        {
            path = std::env::join_paths(
                std::iter::once(dir.to_path_buf()).chain(std::env::split_paths(&path)),
            )
            .unwrap();
        }
        let mut command = Command::new(program);
        command
            .env_clear()
            .env("PATH", path)
            .env("HOME", self.path().join("home"))
            .env("XDG_CONFIG_HOME", self.config_home())
            .current_dir(cwd)
            .stdin(Stdio::null());
        command
    }

    /// Runs one documented shell command line from `cwd`, asserting it is in the docs.
    pub fn shell(&self, line: &str, cwd: &Path) -> Output {
        assert_documented(line);
        self.command("sh", cwd).args(["-c", line]).output().expect("sh runs")
    }
}

/// Fails unless `line` appears verbatim in the README or the integration docs, so the
/// examples there are the ones the tests run.
pub fn assert_documented(line: &str) {
    let found = DOCS
        .iter()
        .any(|doc| std::fs::read_to_string(root().join(doc)).is_ok_and(|text| text.contains(line)));
    assert!(found, "`{line}` is run by a test but shown in none of {DOCS:?}");
}

/// Asserts success and returns stdout.
pub fn success(out: &Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).expect("UTF-8 output")
}

/// Every file under `dir`, sorted, each after a `==> path <==` line: a package as one snapshot.
pub fn dump_dir(dir: &Path) -> String {
    let mut out = String::new();
    for (name, path) in files(dir) {
        out.push_str("==> ");
        out.push_str(&name);
        out.push_str(" <==\n");
        out.push_str(&std::fs::read_to_string(path).unwrap());
    }
    out
}

/// The files under `dir`, as sorted relative slash paths and full paths.
pub fn files(dir: &Path) -> Vec<(String, PathBuf)> {
    let mut files = Vec::new();
    collect(dir, dir, &mut files);
    files.sort();
    files
}

fn collect(base: &Path, dir: &Path, files: &mut Vec<(String, PathBuf)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(base, &path, files);
        } else {
            let name = path.strip_prefix(base).unwrap().to_string_lossy().replace('\\', "/");
            files.push((name, path));
        }
    }
}

/// Copies a directory tree.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}
