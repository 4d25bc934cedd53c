//! Shell completion: `clap_complete` scripts for `kubectl-flink`, and `kubectl flink <TAB>`
//! through the real kubectl, which runs the `kubectl_complete-flink` helper (cobra protocol).

use crate::shell::{Sandbox, assert_documented, success, tool};
use crate::support::{root, run};

const BASH: &str = "source <(kubectl-flink completion bash)";
const HELPER: &str =
    "kubectl flink completion kubectl > kubectl_complete-flink && chmod +x kubectl_complete-flink";

#[test]
fn every_shell_gets_a_script() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = run(&["completion", shell], None);
        assert!(out.status.success(), "{shell}");
        let script = String::from_utf8(out.stdout).unwrap();
        assert!(script.contains("kubectl-flink"), "{shell}: {script}");
        assert!(script.contains("kustomize-plugin"), "{shell} misses a subcommand");
        assert!(!script.contains("__complete"), "{shell} offers the hidden subcommand");
    }
    assert_eq!(run(&["completion", "tcsh"], None).status.code(), Some(2));
}

#[test]
fn the_kubectl_helper_is_the_committed_script() {
    let committed = std::fs::read(root().join("scripts/kubectl_complete-flink")).unwrap();
    assert_eq!(run(&["completion", "kubectl"], None).stdout, committed);
    let mode = std::fs::metadata(root().join("scripts/kubectl_complete-flink")).unwrap();
    assert!(std::os::unix::fs::PermissionsExt::mode(&mode.permissions()) & 0o111 != 0);
}

#[test]
fn bash_registers_the_completion() {
    let sandbox = Sandbox::new();
    if sandbox.command("bash", sandbox.path()).arg("--version").output().is_err() {
        eprintln!("SKIPPED: bash not found");
        return;
    }
    assert_documented(BASH);
    let out = sandbox
        .command("bash", &root())
        .args(["-c", &format!("{BASH} && complete -p kubectl-flink")])
        .output()
        .unwrap();
    assert!(success(&out, BASH).contains("kubectl-flink"));
}

#[test]
fn kubectl_flink_tab_completes_through_kubectl() {
    if tool("kubectl", "KUBECTL", &["version", "--client"]).is_none() {
        return;
    }
    let sandbox = Sandbox::new();
    success(&sandbox.shell(HELPER, &sandbox.bin()), HELPER);
    let complete = |words: &[&str]| {
        let out = sandbox
            .command("kubectl", sandbox.path())
            .args(["__complete", "flink"])
            .args(words)
            .output()
            .unwrap();
        success(&out, "kubectl __complete")
    };
    let top = complete(&[""]);
    let names: Vec<&str> = top.lines().map(|l| l.split('\t').next().unwrap()).collect();
    for name in ["render", "schema", "version", "fn", "kustomize-plugin", "completion", "help"] {
        assert!(names.contains(&name), "{name} missing: {top}");
    }
    assert!(!top.contains("__complete"), "{top}");
    assert_eq!(names.last(), Some(&":4"), "{top}");
    assert_eq!(
        complete(&["ren"]).lines().next().unwrap_or_default().split('\t').next(),
        Some("render")
    );
    let formats = complete(&["render", "-o", ""]);
    let names: Vec<&str> = formats.lines().map(|l| l.split('\t').next().unwrap()).collect();
    assert_eq!(names, ["yaml", "json", ":4"], "{formats}");
    assert_eq!(complete(&["render", "-f", ""]), ":0\n", "file names are the shell's");
    assert!(complete(&["render", "--"]).contains("--filename\t"));
    assert!(complete(&["kustomize-plugin", ""]).starts_with("install\t"));
}
