//! The krew manifest: `scripts/release-krew` fills `plugins/flink.yaml` from release archives,
//! one per platform, each with the `kubectl-flink` binary and the LICENSE at its top level.

use std::process::Command;

use kubectl_flink::yaml;
use serde_json::Value;

use crate::shell::{Sandbox, success};
use crate::support::root;

const RELEASE: &str = "scripts/release-krew 0.1.0 dist/ > flink.yaml";

const TARGETS: [(&str, &str, &str); 4] = [
    ("linux", "amd64", "x86_64-unknown-linux-musl"),
    ("linux", "arm64", "aarch64-unknown-linux-musl"),
    ("darwin", "amd64", "x86_64-apple-darwin"),
    ("darwin", "arm64", "aarch64-apple-darwin"),
];

/// Every platform's archive in `dist`, with distinct binaries, so a sha256 put on the wrong
/// platform is caught.
fn archives(dist: &std::path::Path) {
    for (_, _, target) in TARGETS {
        archive_with(dist, target, &["kubectl-flink", "LICENSE"]);
    }
}

/// A sandbox with a release directory: `scripts/` linked in, and every platform's archive in
/// `dist/`. Returns the sandbox, the directory and `dist/`.
fn release_dir() -> (Sandbox, std::path::PathBuf, std::path::PathBuf) {
    let sandbox = Sandbox::new();
    let work = sandbox.path().join("work");
    let dist = work.join("dist");
    std::fs::create_dir_all(&dist).unwrap();
    std::os::unix::fs::symlink(root().join("scripts"), work.join("scripts")).unwrap();
    archives(&dist);
    (sandbox, work, dist)
}

fn sha256(path: &std::path::Path) -> String {
    let out = Command::new("sha256sum").arg(path).output().expect("sha256sum runs");
    String::from_utf8(out.stdout).unwrap().split_whitespace().next().unwrap().to_owned()
}

#[test]
fn release_krew_fills_the_manifest_from_the_archives() {
    let (sandbox, work, dist) = release_dir();
    success(&sandbox.shell(RELEASE, &work), RELEASE);
    let text = std::fs::read_to_string(work.join("flink.yaml")).unwrap();
    let manifest = yaml::parse_documents(&text).unwrap().remove(0).root.unwrap().to_json().unwrap();
    assert_eq!(manifest["apiVersion"], "krew.googlecontainertools.github.com/v1alpha2");
    assert_eq!(manifest["kind"], "Plugin");
    assert_eq!(manifest["metadata"]["name"], "flink", "the name makes `kubectl flink`");
    assert_eq!(manifest["spec"]["version"], "v0.1.0");
    let platforms = manifest["spec"]["platforms"].as_array().unwrap();
    assert_eq!(platforms.len(), TARGETS.len());
    for ((os, arch, target), platform) in TARGETS.iter().zip(platforms) {
        assert_eq!(
            platform["selector"]["matchLabels"],
            serde_json::json!({"os": os, "arch": arch})
        );
        let archive = dist.join(format!("kubectl-flink-v0.1.0-{target}.tar.gz"));
        assert_eq!(platform["sha256"], Value::from(sha256(&archive)), "{target}");
        let uri = platform["uri"].as_str().unwrap();
        assert!(uri.ends_with(&format!("/v0.1.0/kubectl-flink-v0.1.0-{target}.tar.gz")), "{uri}");
        assert_eq!(platform["bin"], "kubectl-flink");
        assert_eq!(
            platform["files"],
            serde_json::json!([{"from": "kubectl-flink", "to": "."}, {"from": "LICENSE", "to": "."}]),
            "krew-index: the license is installed with the binary"
        );
    }
    let caveats = manifest["spec"]["caveats"].as_str().unwrap();
    assert!(
        !caveats.contains("\n    kubectl "),
        "krew-index: no command list in caveats: {caveats}"
    );
    assert_eq!(manifest["spec"]["homepage"], "https://github.com/kubectl-flink/kubectl-flink");
    let short = manifest["spec"]["shortDescription"].as_str().unwrap();
    assert!(
        short.len() <= 50 && !short.contains("kubectl"),
        "krew-index: a short description: {short}"
    );
}

/// The homepage is the release's to say, as the download location is.
#[test]
fn issue_19_release_krew_fills_the_homepage_given() {
    let (sandbox, work, _) = release_dir();
    let line = "KREW_HOMEPAGE=https://flink.example.org/kubectl scripts/release-krew 0.1.0 dist/";
    let out = sandbox.command("sh", &work).args(["-c", line]).output().unwrap();
    let text = success(&out, line);
    assert!(text.contains("\n  homepage: https://flink.example.org/kubectl\n"), "{text}");
}

#[test]
fn release_krew_refuses_an_archive_without_the_license() {
    let dist = tempfile::tempdir().unwrap();
    for (_, _, target) in TARGETS {
        archive_with(dist.path(), target, &["kubectl-flink"]);
    }
    assert!(refused(dist.path()).contains("has no LICENSE at its top level"));
}

/// `scripts/release-krew 0.1.0 DIST` fails with nothing on stdout; its stderr.
fn refused(dist: &std::path::Path) -> String {
    let out = Command::new(root().join("scripts/release-krew"))
        .args(["0.1.0", dist.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn release_krew_refuses_a_missing_archive_or_a_bad_version() {
    let dist = tempfile::tempdir().unwrap();
    let script = root().join("scripts/release-krew");
    // No built binary to pack a missing archive from, whatever the developer has built.
    let out = Command::new(&script)
        .args(["0.1.0", dist.path().to_str().unwrap()])
        .env("CARGO_TARGET_DIR", dist.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing"));
    let out =
        Command::new(&script).args(["latest", dist.path().to_str().unwrap()]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn release_krew_packs_a_missing_archive_from_the_dist_profile() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let (target_dir, dist) = (dir.path().join("target"), dir.path().join("dist"));
    for (_, _, target) in TARGETS {
        // The shipped binary is the `dist` profile's; a `release` build beside it is not.
        for profile in ["dist", "release"] {
            let binary = target_dir.join(target).join(profile).join("kubectl-flink");
            std::fs::create_dir_all(binary.parent().unwrap()).unwrap();
            std::fs::write(&binary, format!("{profile} binary for {target}")).unwrap();
            std::fs::set_permissions(&binary, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
    }
    let out = Command::new(root().join("scripts/release-krew"))
        .arg("0.1.0")
        .arg(&dist)
        .env("CARGO_TARGET_DIR", &target_dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for (_, _, target) in TARGETS {
        let archive = dist.join(format!("kubectl-flink-v0.1.0-{target}.tar.gz"));
        let packed = Command::new("tar").arg("-xOzf").arg(&archive).arg("kubectl-flink").output();
        let packed = packed.unwrap().stdout;
        assert_eq!(String::from_utf8_lossy(&packed), format!("dist binary for {target}"));
        let license = Command::new("tar").arg("-xOzf").arg(&archive).arg("LICENSE").output();
        assert_eq!(license.unwrap().stdout, std::fs::read(root().join("LICENSE")).unwrap());
    }
}

/// A `kubectl-flink-v0.1.0-TARGET.tar.gz` in `dist` holding `files` (written with their names
/// as contents, the LICENSE as it is).
fn archive_with(dist: &std::path::Path, target: &str, files: &[&str]) {
    let staging = tempfile::tempdir().unwrap();
    for file in files {
        let text = if *file == "LICENSE" {
            std::fs::read_to_string(root().join("LICENSE")).unwrap()
        } else {
            format!("{file} for {target}")
        };
        std::fs::write(staging.path().join(file), text).unwrap();
    }
    let status = Command::new("tar")
        .arg("-czf")
        .arg(dist.join(format!("kubectl-flink-v0.1.0-{target}.tar.gz")))
        .arg("-C")
        .arg(staging.path())
        .args(files)
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn issue_19_only_built_leaves_out_the_platforms_without_an_archive() {
    // What scripts/release makes on Linux: the two Linux archives, no darwin build.
    let dist = tempfile::tempdir().unwrap();
    for (_, _, target) in &TARGETS[..2] {
        archive_with(dist.path(), target, &["kubectl-flink", "LICENSE"]);
    }
    let script = root().join("scripts/release-krew");
    let empty_target_dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        Command::new(&script)
            .args(args)
            .arg(dist.path())
            .env("CARGO_TARGET_DIR", empty_target_dir.path())
            .output()
            .unwrap()
    };
    let out = run(&["0.1.0"]);
    assert_eq!(out.status.code(), Some(1), "all four platforms unless --only-built");
    let out = run(&["--only-built", "0.1.0"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let manifest = yaml::parse_documents(&text).unwrap().remove(0).root.unwrap().to_json().unwrap();
    let platforms = manifest["spec"]["platforms"].as_array().unwrap();
    assert_eq!(platforms.len(), 2, "{text}");
    for ((os, arch, target), platform) in TARGETS.iter().zip(platforms) {
        assert_eq!(
            platform["selector"]["matchLabels"],
            serde_json::json!({"os": os, "arch": arch})
        );
        let archive = dist.path().join(format!("kubectl-flink-v0.1.0-{target}.tar.gz"));
        assert_eq!(platform["sha256"], Value::from(sha256(&archive)), "{target}");
    }
    assert_eq!(manifest["spec"]["caveats"].as_str().map(str::is_empty), Some(false), "{text}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let left_out = "left out (not asked for, or no archive and no build): \
                    x86_64-apple-darwin aarch64-apple-darwin";
    assert!(stderr.contains(left_out), "{stderr}");
    // --only: the other platforms are left out although their archives are there.
    let out = run(&["--only-built", "--only=aarch64-unknown-linux-musl", "0.1.0"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.matches("- selector:").count(), 1, "{text}");
    assert!(text.contains("arch: arm64"), "{text}");
}

#[test]
fn issue_19_an_archive_must_hold_exactly_the_manifests_files() {
    let dist = tempfile::tempdir().unwrap();
    for (_, _, target) in TARGETS {
        archive_with(dist.path(), target, &["kubectl-flink", "LICENSE", "README.md"]);
    }
    let stderr = refused(dist.path());
    assert!(
        stderr.contains("holds README.md, which plugins/flink.yaml's files: does not list"),
        "{stderr}"
    );
}
