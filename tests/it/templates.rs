//! User templates (`--templates DIR`) see the model and nothing else: no files outside DIR
//! (not even through a symbolic link), no environment; their errors name the file and line.

use std::path::Path;
use std::process::{Command, Output};

use crate::support::bin;

const SPEC: &str = "apiVersion: kubectl-flink/v1alpha1\nkind: FlinkJobCluster\nmetadata: {name: wordcount}\nspec: {image: flink}\n";

const SERVICE: &str = "jobmanager-service.yaml.j2";

/// A Service template with `extra` as an annotation value, on line 5.
fn service_with(extra: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: {{{{ service.name }}}}\n  annotations:\n    leak: {extra}\nspec:\n  type: {{{{ service.type }}}}\n  selector: {{{{ service.selector }}}}\n  ports:\n{{% for p in service.ports %}}\n  - name: {{{{ p.name }}}}\n    port: {{{{ p.port }}}}\n    targetPort: {{{{ p.name }}}}\n{{% endfor %}}\n"
    )
}

/// Renders with one user template, a secret in the environment and a secret file next to
/// (outside) the template directory.
fn render_with(template: &str, setup: impl FnOnce(&Path)) -> Output {
    let outer = tempfile::tempdir().unwrap();
    std::fs::write(outer.path().join("secret.j2"), "s3cr3t-file").unwrap();
    let dir = outer.path().join("templates");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join(SERVICE), template).unwrap();
    setup(&dir);
    let spec = outer.path().join("spec.yaml");
    std::fs::write(&spec, SPEC).unwrap();
    Command::new(bin())
        .args(["render", "-f", spec.to_str().unwrap(), "--templates", dir.to_str().unwrap()])
        .env_clear()
        .env("SECRET_TOKEN", "s3cr3t-env")
        .env("HOME", outer.path())
        .output()
        .unwrap()
}

fn assert_refused(out: &Output, want: &[&str]) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(out.stdout.is_empty(), "partial output");
    for want in want {
        assert!(stderr.contains(want), "wanted `{want}` in: {stderr}");
    }
    assert!(!stderr.contains("s3cr3t"), "a secret leaked into the message: {stderr}");
}

#[test]
fn the_template_itself_works() {
    let out = render_with(&service_with("\"fine\""), |_| {});
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("leak: fine"));
}

#[test]
fn templates_cannot_include_files_outside_their_directory() {
    for include in
        ["../secret.j2", "/etc/passwd", "..", "./../secret.j2", "templates/../../secret.j2"]
    {
        let template = service_with(&format!("{{% include {include:?} %}}"));
        let out = render_with(&template, |_| {});
        assert_refused(&out, &[SERVICE, "not found"]);
    }
}

#[cfg(unix)]
#[test]
fn templates_cannot_follow_a_link_out_of_their_directory() {
    let template = service_with("\"{% set x %}{% include 'linked.j2' %}{% endset %}{{ x }}\"");
    let out = render_with(&template, |dir| {
        std::os::unix::fs::symlink(dir.parent().unwrap().join("secret.j2"), dir.join("linked.j2"))
            .unwrap();
    });
    assert_refused(&out, &["linked.j2", "links to a file outside the --templates directory"]);
}

#[test]
fn templates_cannot_read_the_environment() {
    for expression in ["SECRET_TOKEN", "env.SECRET_TOKEN", "environ", "HOME", "__builtins__"] {
        let template = service_with(&format!("{{{{ {expression} }}}}"));
        let out = render_with(&template, |_| {});
        assert_refused(&out, &[&format!("{SERVICE}:6"), "undefined"]);
    }
}

#[test]
fn template_syntax_errors_name_the_file_and_line() {
    let template = service_with("{% if %}");
    assert_refused(&render_with(&template, |_| {}), &[&format!("{SERVICE}:6"), "syntax error"]);
    let template = service_with("{{ jobmanager.no_such_field }}");
    assert_refused(&render_with(&template, |_| {}), &[&format!("{SERVICE}:6"), "undefined"]);
    let template = service_with("{{ name | no_such_filter }}");
    assert_refused(&render_with(&template, |_| {}), &[&format!("{SERVICE}:6"), "unknown filter"]);
}

#[test]
fn a_template_that_includes_itself_is_an_error_not_a_crash() {
    let template = service_with(&format!("{{% include {SERVICE:?} %}}"));
    let out = render_with(&template, |_| {});
    assert_refused(&out, &[SERVICE]);
}

#[test]
fn an_oversized_template_is_refused_with_the_limit_named() {
    let template = service_with(&format!("\"{}\"", "x".repeat(1024 * 1024)));
    let out = render_with(&template, |_| {});
    assert_refused(&out, &[SERVICE, "larger than the limit of 1048576 bytes"]);
}

#[test]
fn user_templates_have_minijinja_filters_tests_and_functions() {
    // The built-in templates render without them; user templates get the full set.
    let out = render_with(
        &service_with(
            "{{ (service.name | upper ~ '-' ~ range(2) | length) if service.name is string }}",
        ),
        |_| {},
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let yaml = String::from_utf8(out.stdout).unwrap();
    assert!(yaml.contains("leak: WORDCOUNT-JOBMANAGER-2"), "{yaml}");
}
