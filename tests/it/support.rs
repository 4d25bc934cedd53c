//! Running the built binary with a clean environment.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Writes `text` to `path` as an executable script (a stand-in for a tool on `PATH`).
pub fn write_executable(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

/// The built `kubectl-flink` binary.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_kubectl-flink")
}

/// Runs the binary with only `PATH` in its environment, from the repository root.
pub fn run(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut command = Command::new(bin());
    command
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .current_dir(root());
    output(&mut command, stdin)
}

/// Runs `command` with `stdin` written to it from a thread (so a large input cannot block
/// against a full stdout pipe), stdout and stderr captured.
pub fn output(command: &mut Command, stdin: Option<&[u8]>) -> Output {
    command
        .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("the command starts");
    if let Some(bytes) = stdin {
        let mut pipe = child.stdin.take().expect("stdin is piped");
        let bytes = bytes.to_vec();
        std::thread::spawn(move || {
            let _ = pipe.write_all(&bytes);
        });
    }
    child.wait_with_output().expect("the command runs")
}

/// Renders one spec file and returns stdout, asserting success.
pub fn render_file(path: &Path) -> String {
    let out = run(&["render", "-f", path.to_str().unwrap()], None);
    assert!(
        out.status.success(),
        "render {} failed: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("output is UTF-8")
}

/// Every example spec, sorted.
pub fn examples() -> Vec<PathBuf> {
    yaml_files(&root().join("examples"))
}

/// The `*.yaml` files directly in `dir`, sorted.
pub fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    paths.sort();
    paths
}
