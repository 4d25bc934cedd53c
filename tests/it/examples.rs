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
        assert_eq!(kinds, ["Job", "Service", "Deployment"], "{}", path.display());
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
