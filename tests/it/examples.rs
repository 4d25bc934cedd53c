//! Every example renders, exactly as its snapshot says, and the same way every time.

use crate::support::{examples, render_file, run};

#[test]
fn examples_match_their_snapshots() {
    insta::glob!("../../examples", "*.yaml", |path| {
        insta::assert_snapshot!(render_file(path));
    });
}

#[test]
fn examples_render_as_a_json_list() {
    for path in examples() {
        let out = run(&["render", "-o", "json", "-f", path.to_str().unwrap()], None);
        assert!(out.status.success());
        let list: serde_json::Value =
            serde_json::from_slice(&out.stdout).expect("one JSON document");
        assert_eq!(list["kind"], "List");
        assert_eq!(list["apiVersion"], "v1");
        let kinds: Vec<&str> =
            list["items"].as_array().unwrap().iter().map(|i| i["kind"].as_str().unwrap()).collect();
        // The JobManager (a Job, or a Deployment for a session cluster or with
        // `jobManager.kind: Deployment`), its two Services and the TaskManager Deployment come
        // first, in this order; supporting objects follow.
        let text = std::fs::read_to_string(&path).unwrap();
        let deployment =
            text.contains("kind: FlinkSessionCluster") || text.contains("    kind: Deployment");
        let jobmanager = if deployment { "Deployment" } else { "Job" };
        assert_eq!(
            kinds[..4],
            [jobmanager, "Service", "Service", "Deployment"],
            "{}",
            path.display()
        );
        for kind in &kinds[4..] {
            assert!(
                [
                    "HorizontalPodAutoscaler",
                    "ConfigMap",
                    "ServiceAccount",
                    "Role",
                    "RoleBinding",
                    "Ingress"
                ]
                .contains(kind),
                "{}: unexpected {kind}",
                path.display()
            );
        }
    }
}

#[test]
fn rendering_is_deterministic() {
    for path in examples() {
        let first = render_file(&path);
        for _ in 0..5 {
            assert_eq!(render_file(&path), first, "{} changed between runs", path.display());
        }
    }
}

/// The examples are real configurations: none sets a Flink option its version does not read.
#[test]
fn issue_19_examples_set_only_options_their_flink_version_reads() {
    let native = crate::support::yaml_files(&crate::support::root().join("examples/native"));
    for path in examples().into_iter().chain(native) {
        let out = run(&["render", "-f", path.to_str().unwrap()], None);
        assert!(out.status.success(), "{}", path.display());
        let stderr = String::from_utf8_lossy(&out.stderr);
        for unknown in ["is not an option of Flink", "was removed in Flink", "is unknown to Flink"]
        {
            assert!(!stderr.contains(unknown), "{}: {stderr}", path.display());
        }
    }
}
