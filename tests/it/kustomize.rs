//! kustomize with the real `kubectl kustomize`: the legacy exec plugin installed by
//! `kubectl flink kustomize-plugin install` (into a temporary `XDG_CONFIG_HOME`) builds both
//! overlays of `kustomize/`; plugin errors fail the build; a KRM exec function is skipped
//! without a word, as the docs say; and a pre-rendered file works with no plugin at all.

use std::path::Path;

use crate::shell::{Sandbox, success, tool};
use crate::support::{bin, root, run};

const INSTALL: &str = "kubectl flink kustomize-plugin install";
const BUILD_DEV: &str = "kubectl kustomize --enable-alpha-plugins kustomize/overlays/dev";
const BUILD_PROD: &str = "kubectl kustomize --enable-alpha-plugins kustomize/overlays/prod";
const PRE_RENDER: &str = "kubectl flink render -f cluster.yaml > base/flink.yaml";
const BUILD_PRE_RENDERED: &str = "kubectl kustomize base/";

fn installed(sandbox: &Sandbox) -> String {
    let out = sandbox.shell(INSTALL, &root());
    let report = success(&out, INSTALL);
    let plugin = sandbox
        .config_home()
        .join("kustomize/plugin/kubectl-flink/v1alpha1/flinkjobcluster/FlinkJobCluster");
    assert!(plugin.exists(), "{INSTALL} did not create {}: {report}", plugin.display());
    report
}

#[test]
fn both_overlays_build_with_kubectl_kustomize() {
    if tool("kubectl", "KUBECTL", &["version", "--client"]).is_none() {
        return;
    }
    let sandbox = Sandbox::new();
    installed(&sandbox);
    let dev = success(&sandbox.shell(BUILD_DEV, &root()), BUILD_DEV);
    let prod = success(&sandbox.shell(BUILD_PROD, &root()), BUILD_PROD);
    for built in [&dev, &prod] {
        assert!(built.starts_with("apiVersion: v1\nkind: Namespace\n"), "{built}");
        for kind in ["kind: Service", "kind: Deployment", "kind: Job"] {
            assert!(built.contains(kind), "{kind} missing:\n{built}");
        }
        assert_eq!(built.matches("  namespace: flink\n").count(), 4, "{built}");
    }
    assert!(dev.contains("  type: ClusterIP\n") && dev.contains("  replicas: 1\n"), "{dev}");
    assert!(prod.contains("  replicas: 4\n"), "{prod}");
    assert!(prod.contains("-Dhigh-availability.type=zookeeper"), "{prod}");
    assert!(prod.contains("-Dtaskmanager.memory.process.size=4g"), "{prod}");
    assert_eq!(prod.matches("    environment: production\n").count(), 4, "{prod}");
    insta::assert_snapshot!("kustomize_overlay_dev", dev);
    insta::assert_snapshot!("kustomize_overlay_prod", prod);
}

#[test]
fn plugin_errors_fail_the_build_with_the_message() {
    if tool("kubectl", "KUBECTL", &["version", "--client"]).is_none() {
        return;
    }
    let sandbox = Sandbox::new();
    installed(&sandbox);
    let dir = sandbox.path().join("broken");
    std::fs::create_dir_all(&dir).unwrap();
    write(&dir, "kustomization.yaml", "generators:\n- cluster.yaml\n");
    write(
        &dir,
        "cluster.yaml",
        "apiVersion: kubectl-flink/v1alpha1\nkind: FlinkJobCluster\nmetadata: {name: wordcount}\n\
         spec: {image: 'flink:2.1', taskManager: {replicas: 0}}\n",
    );
    let out = sandbox
        .command("kubectl", sandbox.path())
        .args(["kustomize", "--enable-alpha-plugins", "broken"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("spec.taskManager.replicas: must be ≥ 1 (got 0)"), "{stderr}");
}

#[test]
fn kubectl_kustomize_skips_exec_krm_functions() {
    // The reason the docs steer kubectl users to the legacy exec plugin (reference §2.1).
    if tool("kubectl", "KUBECTL", &["version", "--client"]).is_none() {
        return;
    }
    let sandbox = Sandbox::new();
    let dir = sandbox.path().join("krm");
    std::fs::create_dir_all(&dir).unwrap();
    write(&dir, "kustomization.yaml", "generators:\n- cluster.yaml\n");
    write(
        &dir,
        "cluster.yaml",
        &format!(
            "apiVersion: kubectl-flink/v1alpha1\nkind: FlinkJobCluster\nmetadata:\n  name: wordcount\n  \
             annotations:\n    config.kubernetes.io/function: |\n      exec:\n        path: {}\n\
             spec: {{image: 'flink:2.1'}}\n",
            bin()
        ),
    );
    let out = sandbox
        .command("kubectl", sandbox.path())
        .args(["kustomize", "--enable-alpha-plugins", "krm"])
        .output()
        .unwrap();
    let built = success(&out, "kubectl kustomize on a KRM exec generator");
    assert!(
        !built.contains("kind: Deployment"),
        "kubectl kustomize ran the exec function: {built}"
    );
}

#[test]
fn a_pre_rendered_file_needs_no_plugin() {
    if tool("kubectl", "KUBECTL", &["version", "--client"]).is_none() {
        return;
    }
    let sandbox = Sandbox::new();
    let work = sandbox.path().join("work");
    std::fs::create_dir_all(work.join("base")).unwrap();
    std::fs::copy(
        root().join("kustomize/base/cluster/flink-cluster.yaml"),
        work.join("cluster.yaml"),
    )
    .unwrap();
    write(&work.join("base"), "kustomization.yaml", "resources:\n- flink.yaml\n");
    success(&sandbox.shell(PRE_RENDER, &work), PRE_RENDER);
    let built = success(&sandbox.shell(BUILD_PRE_RENDERED, &work), BUILD_PRE_RENDERED);
    for kind in ["kind: Service", "kind: Deployment", "kind: Job"] {
        assert!(built.contains(kind), "{kind} missing:\n{built}");
    }
}

#[test]
fn install_honours_plugin_home_and_replaces_an_old_install() {
    let sandbox = Sandbox::new();
    let home = sandbox.path().join("plugins");
    for _ in 0..2 {
        let out =
            run(&["kustomize-plugin", "install", "--plugin-home", home.to_str().unwrap()], None);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let plugin = home.join("kubectl-flink/v1alpha1/flinkjobcluster/FlinkJobCluster");
    assert_eq!(std::fs::canonicalize(&plugin).unwrap(), std::fs::canonicalize(bin()).unwrap());
}

#[test]
fn issue_17_install_leaves_a_file_it_did_not_write_unless_forced() {
    let sandbox = Sandbox::new();
    let home = sandbox.path().join("plugins");
    let mine = home.join("kubectl-flink/v1alpha1/flinksessioncluster/FlinkSessionCluster");
    std::fs::create_dir_all(mine.parent().unwrap()).unwrap();
    std::fs::write(&mine, "#!/bin/sh\necho my own generator\n").unwrap();
    let install = |extra: &[&str]| {
        let mut args = vec!["kustomize-plugin", "install", "--plugin-home", home.to_str().unwrap()];
        args.extend(extra);
        run(&args, None)
    };
    let out = install(&[]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("is not a link to kubectl-flink: not replaced"), "{stderr}");
    assert!(stderr.contains("--force"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&mine).unwrap(), "#!/bin/sh\necho my own generator\n");
    // Nothing was written: not even the other kind's link.
    let other = home.join("kubectl-flink/v1alpha1/flinkjobcluster/FlinkJobCluster");
    assert!(other.symlink_metadata().is_err());
    let out = install(&["--force"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(std::fs::canonicalize(&mine).unwrap(), std::fs::canonicalize(bin()).unwrap());
}

#[test]
fn called_as_the_plugin_it_renders_the_config_file() {
    let sandbox = Sandbox::new();
    let plugin = sandbox.path().join("FlinkJobCluster");
    std::os::unix::fs::symlink(bin(), &plugin).unwrap();
    let example = root().join("examples/seed-ha.yaml");
    let expected = run(&["render", "-f", example.to_str().unwrap()], None);
    assert!(expected.status.success());
    let out = std::process::Command::new(&plugin).arg(&example).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&expected.stdout));
    // An existing file as the only argument means the same, whatever the program is called.
    let out = run(&[example.to_str().unwrap()], None);
    assert_eq!(out.stdout, expected.stdout);
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

#[test]
fn issue_19_a_krew_install_links_the_plugin_to_krews_bin_and_survives_an_upgrade() {
    // krew's layout in a temporary HOME: the binary in its version's store directory, and
    // ~/.krew/bin/kubectl-flink, the link on PATH, pointing at it.
    let sandbox = Sandbox::new();
    let home = sandbox.path().join("home");
    let krew = home.join(".krew");
    let install_version = |version: &str| {
        let store = krew.join("store/flink").join(version);
        std::fs::create_dir_all(&store).unwrap();
        std::fs::copy(bin(), store.join("kubectl-flink")).unwrap();
        let link = krew.join("bin/kubectl-flink");
        std::fs::create_dir_all(link.parent().unwrap()).unwrap();
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(store.join("kubectl-flink"), &link).unwrap();
        link
    };
    let link = install_version("v0.1.0");
    let plugins = sandbox.path().join("plugins");
    let out = std::process::Command::new(&link)
        .args(["kustomize-plugin", "install", "--plugin-home", plugins.to_str().unwrap()])
        .env_clear()
        .env("HOME", &home)
        .env("PATH", format!("{}:/usr/bin:/bin", krew.join("bin").display()))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let plugin = plugins.join("kubectl-flink/v1alpha1/flinkjobcluster/FlinkJobCluster");
    assert_eq!(std::fs::read_link(&plugin).unwrap(), link, "not krew's stable link");
    // `krew upgrade`: a new store directory, the link moved to it, the old one deleted.
    install_version("v0.2.0");
    std::fs::remove_dir_all(krew.join("store/flink/v0.1.0")).unwrap();
    let example = root().join("examples/seed-ha.yaml");
    let out = std::process::Command::new(&plugin).arg(&example).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("kind: Deployment"));
}
