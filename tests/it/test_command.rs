//! `scripts/test` (the README's test command, what CI runs) refuses, under CI, the variables
//! that skip the Flink steps or narrow their version lists: a green CI run must prove every
//! version the README claims.
//!
//! The script runs with a `PATH` holding only `dirname`: past its guard the first step needs
//! `mkdir` and `python3`, so a run the guard lets through stops there (exit 127) and never
//! starts the real suite.

use std::path::Path;
use std::process::{Command, Output};

use crate::support::root;

fn run_test_command(env: &[(&str, &str)]) -> Output {
    let tmp = tempfile::tempdir().unwrap();
    let bin = tmp.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let find = |name: &str| {
        ["/usr/bin", "/bin"]
            .iter()
            .map(|d| Path::new(d).join(name))
            .find(|p| p.exists())
            .expect(name)
    };
    std::os::unix::fs::symlink(find("dirname"), bin.join("dirname")).unwrap();
    // An absolute bash: `Command` looks the program up in the child's (stub) PATH.
    let mut cmd = Command::new(find("bash"));
    cmd.arg(root().join("scripts/test"))
        .env_clear()
        .env("PATH", &bin)
        .env("HOME", tmp.path())
        .env("XDG_CACHE_HOME", tmp.path().join("cache"));
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

/// Passed the guard: the first step started (and stopped at once for want of tools).
fn passed_guard(out: &Output) -> bool {
    String::from_utf8_lossy(&out.stdout).contains("==> tools:") && out.status.code() != Some(2)
}

#[test]
fn test_command_refuses_skipping_or_narrowing_flink_under_ci() {
    let narrowing = [
        ("SKIP_FLINK_E2E", "1"),
        ("SKIP_FLINK_E2E", "yes"),
        ("E2E_FLINK_VERSIONS", "2.3.0"),
        ("FLINK_MATRIX_VERSIONS", "1.20.5"),
        ("NATIVE_COMPARE_VERSIONS", "2.3.0"),
        ("E2E_INSTALL_ONLY", "1"),
        ("FLINK_MATRIX_INSTALL_ONLY", "1"),
        // A deliberately broken render makes a red run, never a green one that proves less,
        // but a break switch left set in CI would hide which failure is real.
        ("E2E_BREAK", "tm-rpc-address"),
        ("FLINK_MATRIX_BREAK", "memory"),
    ];
    for ci in ["true", "1"] {
        for (var, value) in narrowing {
            let out = run_test_command(&[("CI", ci), (var, value)]);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "CI={ci} {var}={value}: not refused\n{stderr}");
            assert!(
                stderr.contains("refusing to run under CI")
                    && stderr.contains(&format!("{var}={value}")),
                "CI={ci} {var}={value}: the message does not say what is refused: {stderr}"
            );
            assert!(!passed_guard(&out), "CI={ci} {var}={value}: a step started");
        }
    }
}

#[test]
fn test_command_runs_in_ci_without_them_and_skips_locally() {
    for env in [
        &[("CI", "true")][..],
        &[("CI", "true"), ("SKIP_FLINK_E2E", "0")],
        &[("SKIP_FLINK_E2E", "1"), ("E2E_FLINK_VERSIONS", "2.3.0")],
        &[("CI", "false"), ("SKIP_FLINK_E2E", "1")],
    ] {
        let out = run_test_command(env);
        assert!(passed_guard(&out), "{env:?}: refused\n{}", String::from_utf8_lossy(&out.stderr));
    }
}
