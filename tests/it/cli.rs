//! The command line: flags, stdin, formats, usage errors and exit codes.

use crate::support::{render_file, root, run};

const SPEC: &str = "apiVersion: kubectl-flink/v1alpha1
kind: FlinkJobCluster
metadata: {name: wordcount}
spec: {image: 'flink:2.1'}
";

fn stdout(out: &std::process::Output) -> String {
    assert!(out.status.success(), "failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout.clone()).unwrap()
}

#[test]
fn reads_stdin_with_dash() {
    let out = run(&["render", "-f", "-"], Some(SPEC.as_bytes()));
    let text = stdout(&out);
    assert!(text.starts_with("---\napiVersion: batch/v1\nkind: Job\n"), "{text}");
    assert!(text.contains("name: wordcount-taskmanager"));
}

/// The newest Flink release line the docs claim (docs/reference.md's spec table: `spec.flinkVersion`'s
/// default and the end of its range). The claim is the independent fact: the test compares the
/// binary with it, so moving `FlinkVersion::NEWEST` or the default without updating the docs
/// (and what proves the new version: the matrix, e2e and native-compare defaults) fails.
fn readme_newest_flink_version() -> String {
    let readme = std::fs::read_to_string(root().join("docs/reference.md")).unwrap();
    let row = readme
        .lines()
        .find(|l| l.starts_with("`spec.flinkVersion` |"))
        .expect("docs/reference.md's spec table has a `spec.flinkVersion` row");
    let versions: Vec<&str> = row.split('`').filter(|t| t.starts_with('"')).collect();
    let default = versions.first().expect("a default").trim_matches('"');
    let newest = versions
        .iter()
        .map(|v| v.trim_matches('"'))
        .max_by_key(|v| v.split('.').map(|n| n.parse::<u32>().unwrap()).collect::<Vec<_>>())
        .unwrap();
    assert!(
        row.contains(&format!("`\"{default}\"` (newest)")),
        "docs/reference.md's default is not marked newest: {row}"
    );
    assert_eq!(
        default, newest,
        "docs/reference.md's default is not the newest of its range: {row}"
    );
    newest.to_owned()
}

#[test]
fn default_flink_version_is_the_newest() {
    let newest = readme_newest_flink_version();
    let (major, minor) = newest.split_once('.').unwrap();
    let (major, minor): (u32, u32) = (major.parse().unwrap(), minor.parse().unwrap());

    // What the binary says about itself.
    let version = stdout(&run(&["version"], None));
    assert!(
        version.contains(&format!("… {newest} (default {newest})")),
        "`kubectl flink version` disagrees with docs/reference.md's newest {newest}:\n{version}"
    );

    // What it accepts: the newest line, and nothing after it.
    let with_version = |v: &str| {
        run(
            &["render", "-f", "-", "--set", &format!("spec.flinkVersion=\"{v}\"")],
            Some(SPEC.as_bytes()),
        )
    };
    assert!(with_version(&newest).status.success(), "Flink {newest} is refused");
    for after in [format!("{major}.{}", minor + 1), format!("{}.0", major + 1)] {
        let out = with_version(&after);
        assert_eq!(
            out.status.code(),
            Some(1),
            "Flink {after} (after docs/reference.md's newest {newest}) is accepted"
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(&format!("… {newest}")),
            "the refusal of {after} does not name {newest}: {stderr}"
        );
    }

    // What a spec without `flinkVersion` renders: the same bytes (and warnings) as one naming
    // the newest line, for specs whose output depends on the version.
    let specs = [
        SPEC.to_owned(),
        "apiVersion: kubectl-flink/v1alpha1\nkind: FlinkSessionCluster\nmetadata: {name: s}\n\
         spec:\n  image: flink:2.3\n  configMode: configmap\n  flinkConfiguration:\n    \
         high-availability.zookeeper.path.jobgraphs: /jobgraphs\n    state.savepoints.dir: s3://b/sp\n"
            .to_owned(),
        std::fs::read_to_string(root().join("examples/native/session.yaml")).unwrap(),
        std::fs::read_to_string(root().join("examples/native/application.yaml")).unwrap(),
    ];
    let render = |spec: &str, version: Option<&str>| {
        let set = version.map(|v| format!("spec.flinkVersion=\"{v}\""));
        let mut args = vec!["render", "-f", "-"];
        if let Some(set) = &set {
            args.extend(["--set", set]);
        }
        let out = run(&args, Some(spec.as_bytes()));
        (out.status.code(), out.stdout, out.stderr)
    };
    let mut older_differs = false;
    for spec in &specs {
        assert!(!spec.contains("flinkVersion"), "the spec names a version: {spec}");
        let default = render(spec, None);
        assert_eq!(default.0, Some(0), "{}", String::from_utf8_lossy(&default.2));
        assert!(
            default == render(spec, Some(&newest)),
            "a spec without flinkVersion does not render as Flink {newest}:\n{spec}"
        );
        older_differs |= default != render(spec, Some("1.20"));
    }
    // The comparison can see a version: at least one spec renders otherwise on 1.20.
    assert!(older_differs, "no spec renders differently on 1.20: the check above proves nothing");
}

#[test]
fn set_edits_the_spec_with_types() {
    let out = run(
        &[
            "render",
            "-f",
            "-",
            "--set",
            "spec.taskManager.replicas=3",
            "--set",
            "spec.job.args[0]=--port",
            "--set",
            "spec.job.args[1]=\"9999\"",
        ],
        Some(SPEC.as_bytes()),
    );
    let text = stdout(&out);
    assert!(text.contains("replicas: 3\n"), "{text}");
    assert!(text.contains("- --port\n        - \"9999\"\n"), "{text}");
}

#[test]
fn issue_19_set_appends_to_a_list_present_or_absent() {
    let out = run(
        &[
            "render",
            "-f",
            "-",
            "--set",
            "spec.job.args[+]=--verbose",
            "--set",
            "spec.job.args[+]=--debug",
        ],
        Some(SPEC.as_bytes()),
    );
    let text = stdout(&out);
    assert!(text.contains("- --verbose\n        - --debug\n"), "{text}");
    let out = run(&["render", "-f", "-", "--set", "spec.image[+]=x"], Some(SPEC.as_bytes()));
    assert!(!out.status.success() && out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--set spec.image[+]=x: `[+]` appends to a list"), "{stderr}");
}

/// `render -n NS`, as kubectl's flag: every object in NS, native mode's Flink configuration too.
#[test]
fn issue_19_render_namespace_places_every_object() {
    let uid = "--owner-uid=3f0c6a1e-2b4d-4c8e-9a7f-1d2e3f4a5b6c";
    for (args, stdin) in [
        (vec!["render", "-f", "-", "-n", "team-a", "-o", "json"], Some(SPEC.as_bytes())),
        (
            vec![
                "render",
                "-f",
                "tests/native/scenarios/session-defaults.yaml",
                "--namespace",
                "team-a",
                uid,
                "-o",
                "json",
            ],
            None,
        ),
    ] {
        let list: serde_json::Value = serde_json::from_str(&stdout(&run(&args, stdin))).unwrap();
        let items = list["items"].as_array().unwrap();
        assert!(!items.is_empty());
        for item in items {
            assert_eq!(item["metadata"]["namespace"], "team-a", "{args:?}: {item}");
        }
        if args.contains(&uid) {
            let text = list.to_string();
            assert!(text.contains("kubernetes.namespace: team-a"), "{text}");
        }
    }
    let out = run(&["render", "-f", "examples/native/session.yaml", "-n", "other"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--namespace other disagrees with `sessions`"), "{stderr}");
}

/// Kubernetes reads `2G` as 2×10^9 bytes, Flink `2g` as 2 GiB: a warning, and the render.
#[test]
fn issue_19_decimal_memory_warns_and_suggests_binary() {
    let out = run(
        &[
            "render",
            "-f",
            "-",
            "--set",
            "spec.taskManager.resources.memory=2G",
            "--set",
            "spec.jobManager.resources.memory=1600M",
        ],
        Some(SPEC.as_bytes()),
    );
    assert!(!stdout(&out).is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    for warning in [
        "spec.taskManager.resources.memory: `2G` is decimal to Kubernetes (2 × 10^9 bytes), while Flink reads `2g` as binary; write `2Gi` for 2 GiB",
        "spec.jobManager.resources.memory: `1600M` is decimal to Kubernetes (1600 × 10^6 bytes), while Flink reads `1600m` as binary; write `1600Mi` for 1600 MiB",
    ] {
        assert!(stderr.contains(warning), "{stderr}");
    }
    let out = run(
        &["render", "-f", "-", "--set", "spec.taskManager.resources.memory=2Gi"],
        Some(SPEC.as_bytes()),
    );
    assert!(!stdout(&out).is_empty());
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn set_with_a_bad_value_points_at_the_argument() {
    let out = run(
        &["render", "-f", "-", "--set", "spec.taskManager.replicas=many"],
        Some(SPEC.as_bytes()),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--set spec.taskManager.replicas=many"), "{stderr}");
}

#[test]
fn issue_17_set_cannot_change_what_a_document_is() {
    for arg in ["kind=FlinkSessionCluster", "apiVersion=v2", "kind=\"x\""] {
        let out = run(&["render", "-f", "-", "--set", arg], Some(SPEC.as_bytes()));
        assert_eq!(out.status.code(), Some(2), "{arg}");
        assert!(out.stdout.is_empty());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("is read before any --set applies"), "{arg}: {stderr}");
    }
}

#[test]
fn issue_17_clusters_whose_objects_share_a_name_are_refused() {
    let specs = "apiVersion: kubectl-flink/v1alpha1\nkind: FlinkSessionCluster\nmetadata: {name: x, namespace: flink}\nspec: {image: 'flink:2.1'}\n---\n\
                 apiVersion: kubectl-flink/v1alpha1\nkind: FlinkSessionCluster\nmetadata: {name: x-jobmanager, namespace: flink}\nspec: {image: 'flink:2.1', mode: native}\n";
    let out = run(&["render", "-f", "-"], Some(specs.as_bytes()));
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("Deployment `x-jobmanager` would be rendered by cluster `x` (<stdin>) and by cluster `x-jobmanager` (<stdin>)"),
        "{stderr}"
    );
    // In two namespaces they are two objects.
    let apart = specs.replacen("namespace: flink", "namespace: other", 1);
    stdout(&run(&["render", "-f", "-"], Some(apart.as_bytes())));
    // Without a namespace, an object may land in either: native mode prints `default`, a
    // standalone cluster none.
    let unplaced = specs.replace(", namespace: flink", "");
    let out = run(&["render", "-f", "-"], Some(unplaced.as_bytes()));
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stdout));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("Deployment `x-jobmanager` would be rendered by")
    );
}

/// A value quoted in a message is shown, never acted on: no ESC sequence, carriage return or
/// line break of the input reaches the terminal (or forges a CI workflow command line).
#[test]
fn issue_17_messages_never_carry_raw_control_characters() {
    let forged = "x\n::error::forged\r\u{1b}[2J\u{2028}\u{202e}";
    let spec = |field: &str| {
        format!(
            "apiVersion: kubectl-flink/v1alpha1\nkind: FlinkJobCluster\nmetadata: {{name: wordcount}}\nspec: {{image: flink, {field}}}\n"
        )
    };
    let json = serde_json::to_string(forged).unwrap();
    let cases: Vec<(Vec<String>, String)> = vec![
        (
            vec![],
            format!(
                "apiVersion: kubectl-flink/v1alpha1\nkind: FlinkJobCluster\nmetadata: {{name: wordcount, labels: {{a: {json}}}}}\nspec: {{image: flink}}\n"
            ),
        ),
        (vec![], spec(&format!("flinkConfiguration: {{{json}: '1'}}"))),
        (vec![], spec(&format!("taskManager: {{replicas: {json}}}"))),
        (vec![], spec(&format!("ingress: {{host: {json}}}"))),
        (vec!["--set".into(), format!("spec.taskManager.replicas={forged}")], spec("job: {}")),
        (vec!["--set".into(), format!("spec.{forged}=1")], spec("job: {}")),
        (vec![], format!("{}\u{1b}[31m\n", spec("job: {}"))),
    ];
    for (args, input) in cases {
        let mut all = vec!["render".to_owned(), "-f".into(), "-".into()];
        all.extend(args);
        let all: Vec<&str> = all.iter().map(String::as_str).collect();
        let out = run(&all, Some(input.as_bytes()));
        assert_ne!(out.status.code(), Some(0), "{input}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let raw: Vec<char> = stderr
            .chars()
            .filter(|c| {
                (c.is_control() && !matches!(c, '\n' | '\t'))
                    || matches!(c, '\u{2028}' | '\u{202e}')
            })
            .collect();
        assert!(raw.is_empty(), "{raw:?} in {stderr:?}");
        assert!(!stderr.lines().any(|l| l.starts_with("::error::")), "{stderr}");
    }
}

/// What the API server accepts is accepted: the rules of issue 17 refuse only what it refuses.
#[test]
fn issue_17_what_kubernetes_accepts_still_renders() {
    for field in [
        // A file mounted into the image's configuration directory (args mode).
        "volumes: [{name: logging, configMap: {name: my-logging}}], volumeMounts: [{name: logging, mountPath: /opt/flink/conf/log4j-console.properties, subPath: log4j-console.properties}]",
        // An unnamed port of a sidecar.
        "podTemplate: {spec: {containers: [{name: sidecar, image: busybox, ports: [{containerPort: 9100, name: ''}]}]}}",
        // Annotation keys are checked lowercased.
        "podAnnotations: {Example.com/scrape: 'true'}",
        // Flink's stock configuration spells its default ports out.
        "flinkConfiguration: {rest.port: 8081, jobmanager.rpc.port: '6123'}",
        // Tolerations Kubernetes accepts.
        "tolerations: [{operator: Exists}, {key: k, operator: Exists, effect: NoExecute, tolerationSeconds: 30}, {key: k, value: v, effect: NoSchedule}]",
        "ingress: {host: '*.example.com', path: /flink/ui}",
        "securityContext: {runAsUser: 0, runAsGroup: 2147483647, fsGroup: 9999}",
    ] {
        let spec = SPEC.replace(
            "spec: {image: 'flink:2.1'}",
            &format!("spec: {{image: 'flink:2.1', {field}}}"),
        );
        stdout(&run(&["render", "-f", "-"], Some(spec.as_bytes())));
    }
}

#[test]
fn set_cannot_add_structure() {
    let out = run(
        &["render", "-f", "-", "--set", "metadata.labels.team=x\nevil: true"],
        Some(SPEC.as_bytes()),
    );
    assert_eq!(out.status.code(), Some(1), "a newline is not a valid label value");
    assert!(out.stdout.is_empty());
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &["render"][..],
        &["render", "-f", "-", "-o", "xml"],
        &["frobnicate"],
        &["render", "-f", "-", "--set", "noequals"],
    ] {
        let out = run(args, Some(SPEC.as_bytes()));
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}

#[test]
fn missing_file_is_an_input_error() {
    let out = run(&["render", "-f", "does-not-exist.yaml"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read `does-not-exist.yaml`"));
}

#[test]
fn multiple_documents_and_files_render_in_order() {
    let two = format!("{SPEC}---\n{}", SPEC.replace("wordcount", "other"));
    let text = stdout(&run(&["render", "-f", "-"], Some(two.as_bytes())));
    let names: Vec<&str> = text.lines().filter(|l| l.starts_with("  name: ")).collect();
    assert_eq!(
        names,
        [
            "  name: wordcount-jobmanager",
            "  name: wordcount-jobmanager",
            "  name: wordcount-jobmanager-rest",
            "  name: wordcount-taskmanager",
            "  name: other-jobmanager",
            "  name: other-jobmanager",
            "  name: other-jobmanager-rest",
            "  name: other-taskmanager"
        ]
    );
}

#[test]
fn savepoint_without_ha_can_be_allowed_explicitly() {
    let spec = SPEC.replace(
        "spec: {image: 'flink:2.1'}",
        "spec: {image: 'flink:2.1', job: {fromSavepoint: 's3://b/sp-1'}}",
    );
    let refused = run(&["render", "-f", "-"], Some(spec.as_bytes()));
    assert_eq!(refused.status.code(), Some(1));
    let text =
        stdout(&run(&["render", "-f", "-", "--allow-savepoint-without-ha"], Some(spec.as_bytes())));
    assert!(text.contains("- --fromSavepoint\n        - s3://b/sp-1\n"), "{text}");
}

#[test]
fn deprecated_keys_warn_on_stderr_without_changing_output() {
    let spec = SPEC.replace(
        "spec: {image: 'flink:2.1'}",
        "spec: {image: 'flink:2.1', flinkConfiguration: {state.checkpoints.dir: 's3://b/cp'}}",
    );
    let out = run(&["render", "-f", "-"], Some(spec.as_bytes()));
    let text = stdout(&out);
    assert!(text.contains("-Dstate.checkpoints.dir=s3://b/cp"), "passed through verbatim");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("warning: <stdin>: spec.flinkConfiguration: `state.checkpoints.dir` is deprecated since Flink 1.20"), "{stderr}");
}

/// A misspelt option warns, naming the field and the key it resembles; the render is the one
/// the key as written gives (passed through verbatim, as before the warning).
#[test]
fn issue_19_a_misspelt_flink_option_warns_with_the_key_it_resembles() {
    let spec = |key: &str| {
        SPEC.replace(
            "spec: {image: 'flink:2.1'}",
            &format!("spec: {{image: 'flink:2.1', flinkConfiguration: {{{key}: rocksdb}}}}"),
        )
    };
    let misspelt = run(&["render", "-f", "-"], Some(spec("state.backend.tpye").as_bytes()));
    let text = stdout(&misspelt);
    assert!(text.contains("-Dstate.backend.tpye=rocksdb"), "{text}");
    let stderr = String::from_utf8_lossy(&misspelt.stderr);
    assert_eq!(
        stderr,
        "warning: <stdin>: spec.flinkConfiguration[\"state.backend.tpye\"]: `state.backend.tpye` is not an option of Flink 2.3; did you mean `state.backend.type`?\n"
    );
    let right = run(&["render", "-f", "-"], Some(spec("state.backend.type").as_bytes()));
    assert!(right.stderr.is_empty(), "{}", String::from_utf8_lossy(&right.stderr));
    assert_eq!(text.replace("tpye", "type"), stdout(&right), "only the key differs");
}

/// A key Flink 1.x read and 2.x dropped says so on 2.3, and is fine on 1.20.
#[test]
fn issue_19_a_removed_flink_option_says_which_versions_read_it() {
    let spec = |version: &str| {
        SPEC.replace(
            "spec: {image: 'flink:2.1'}",
            &format!(
                "spec: {{image: flink, flinkVersion: '{version}', flinkConfiguration: {{cluster.evenly-spread-out-slots: 'true'}}}}"
            ),
        )
    };
    let out = run(&["render", "-f", "-"], Some(spec("2.3").as_bytes()));
    assert!(stdout(&out).contains("-Dcluster.evenly-spread-out-slots=true"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("spec.flinkConfiguration[\"cluster.evenly-spread-out-slots\"]: `cluster.evenly-spread-out-slots` was removed in Flink 2.0 and is ignored by Flink 2.3 (Flink 1.9 … 1.20 read it)"),
        "{stderr}"
    );
    let out = run(&["render", "-f", "-"], Some(spec("1.20").as_bytes()));
    assert!(!stdout(&out).is_empty());
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// Keys Flink reads without an option for each (a reporter's, Hadoop's, a
/// file system's, a map option's entry) do not warn.
#[test]
fn issue_19_open_ended_flink_options_do_not_warn() {
    let spec = SPEC.replace(
        "spec: {image: 'flink:2.1'}",
        "spec:\n  image: flink\n  flinkConfiguration:\n    metrics.reporter.jmx.port: '9249'\n    flink.hadoop.dfs.replication: '2'\n    s3.access-key: k\n    fs.s3a.path.style.access: 'true'\n    pipeline.global-job-parameters.region: eu\n    kubernetes.operator.periodic.savepoint.interval: 1h\n",
    );
    let out = run(&["render", "-f", "-"], Some(spec.as_bytes()));
    assert!(!stdout(&out).is_empty());
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn flink_configuration_values_keep_their_text() {
    let spec = SPEC.replace(
        "spec: {image: 'flink:2.1'}",
        "spec:\n  image: flink\n  flinkConfiguration:\n    taskmanager.memory.managed.fraction: 0.50\n    pipeline:\n      object-reuse: true\n",
    );
    let text = stdout(&run(&["render", "-f", "-"], Some(spec.as_bytes())));
    assert!(text.contains("-Dtaskmanager.memory.managed.fraction=0.50"), "{text}");
    assert!(text.contains("-Dpipeline.object-reuse=true"), "{text}");
}

/// `text` with `from` replaced, which must be there: a user's edit of a built-in template.
fn patched(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "the built-in template no longer holds {from:?}");
    text.replace(from, to)
}

#[test]
fn user_templates_override_by_file_name() {
    let dir = tempfile::tempdir().unwrap();
    let builtin =
        std::fs::read_to_string(root().join("templates/jobmanager-service.yaml.j2")).unwrap();
    std::fs::write(
        dir.path().join("jobmanager-service.yaml.j2"),
        patched(&builtin, r#""spec": {"#, r#""spec": {"sessionAffinity": "ClientIP","#),
    )
    .unwrap();
    let out = run(
        &["render", "-f", "-", "--templates", dir.path().to_str().unwrap()],
        Some(SPEC.as_bytes()),
    );
    assert!(stdout(&out).contains("sessionAffinity: ClientIP"));
}

#[test]
fn user_templates_may_print_block_yaml() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("jobmanager-service.yaml.j2"),
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ service.name }}\n  labels: {{ service.labels }}\n\
         spec:\n  selector: {{ service.selector }}\n  ports:\n{% for p in service.ports %}\n  - name: {{ p.name }}\n    port: {{ p.port }}\n{% endfor %}\n",
    )
    .unwrap();
    let plain = stdout(&run(&["render", "-f", "-"], Some(SPEC.as_bytes())));
    let user = stdout(&run(
        &["render", "-f", "-", "--templates", dir.path().to_str().unwrap()],
        Some(SPEC.as_bytes()),
    ));
    assert!(user.contains("  - name: rpc\n    port: 6123\n"), "{user}");
    let target_ports = |text: &str| text.matches("targetPort").count();
    assert!(target_ports(&user) < target_ports(&plain), "{user}");
}

/// The macros the built-in templates import are the user's too: what those templates print
/// is then read as a user's YAML and checked as strictly.
#[test]
fn a_users_macros_make_the_built_in_templates_output_theirs() {
    let dir = tempfile::tempdir().unwrap();
    let macros = std::fs::read_to_string(root().join("templates/_macros.j2")).unwrap();
    std::fs::write(
        dir.path().join("_macros.j2"),
        patched(
            &macros,
            r#""securityContext": {{ c.security_context }}"#,
            r#""securityContext": {{ c.security_context }}, "stdinn": true"#,
        ),
    )
    .unwrap();
    let out = run(
        &["render", "-f", "-", "--templates", dir.path().to_str().unwrap()],
        Some(SPEC.as_bytes()),
    );
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("template jobmanager-job.yaml.j2: field `spec.template.spec.containers[0].stdinn` is not part of batch/v1 Job"), "{stderr}");
}

/// Makes a directory entry at the path given.
type MakeEntry<'a> = &'a dyn Fn(&std::path::Path);

/// A template file that cannot be read as one is the user's mistake, named, never replaced by
/// the built-in template in silence.
#[cfg(unix)]
#[test]
fn issue_17_unusable_template_files_are_input_errors_naming_the_file() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("elsewhere.j2"), "{}").unwrap();
    let cases: [(&str, MakeEntry); 4] = [
        ("is not a regular file", &|p| std::fs::create_dir(p).unwrap()),
        ("is not a regular file", &|p| std::os::unix::fs::symlink("/dev/zero", p).unwrap()),
        ("is not a regular file", &|p| {
            assert!(std::process::Command::new("mkfifo").arg(p).status().unwrap().success());
        }),
        ("links to a file outside the --templates directory", &|p| {
            std::os::unix::fs::symlink(outside.path().join("elsewhere.j2"), p).unwrap();
        }),
    ];
    for (want, make) in cases {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("jobmanager-job.yaml.j2");
        make(&file);
        let out = run(
            &["render", "-f", "-", "--templates", dir.path().to_str().unwrap()],
            Some(SPEC.as_bytes()),
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{want}: {stderr}");
        assert!(out.stdout.is_empty());
        assert!(stderr.contains(&format!("{} {want}", file.display())), "{stderr}");
    }
}

#[test]
fn a_misspelt_field_in_a_user_template_is_an_input_error() {
    let dir = tempfile::tempdir().unwrap();
    let builtin =
        std::fs::read_to_string(root().join("templates/jobmanager-service.yaml.j2")).unwrap();
    std::fs::write(
        dir.path().join("jobmanager-service.yaml.j2"),
        patched(&builtin, r#""spec": {"#, r#""spec": {"sesionAffinity": "ClientIP","#),
    )
    .unwrap();
    let out = run(
        &["render", "-f", "-", "--templates", dir.path().to_str().unwrap()],
        Some(SPEC.as_bytes()),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("template jobmanager-service.yaml.j2: field `spec.sesionAffinity` is not part of v1 Service"), "{stderr}");
}

#[test]
fn undefined_template_variables_are_errors_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("jobmanager-service.yaml.j2"),
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ nothing.here }}\n",
    )
    .unwrap();
    let out = run(
        &["render", "-f", "-", "--templates", dir.path().to_str().unwrap()],
        Some(SPEC.as_bytes()),
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("jobmanager-service.yaml.j2:4"), "{stderr}");
    assert!(stderr.contains("undefined"), "{stderr}");
}

#[test]
fn schema_and_version_and_help() {
    let schema: serde_json::Value = serde_json::from_slice(&run(&["schema"], None).stdout).unwrap();
    assert_eq!(schema["title"], "FlinkCluster");
    assert_eq!(schema["additionalProperties"], false);
    let version = stdout(&run(&["version"], None));
    assert!(version.starts_with("kubectl-flink "), "{version}");
    assert!(version.contains("Kubernetes API: 1.37"), "{version}");
    let help = stdout(&run(&["render", "--help"], None));
    assert!(help.contains("kubectl flink render -f cluster.yaml | kubectl apply -f -"), "{help}");
}

#[test]
fn each_command_help_opens_with_what_the_command_does() {
    // Subcommands are built only when they run (clap `defer`); their summaries must survive.
    let overview = stdout(&run(&["--help"], None));
    for (command, summary) in [
        ("render", "Render the objects of one or more cluster specs to stdout"),
        ("apply", "Render and `kubectl apply` cluster specs"),
        ("envsubst", "GNU `envsubst` drop-in"),
        ("fn", "Run as a KRM function"),
        ("completion", "Print a shell completion script"),
        ("schema", "Print the JSON Schema"),
    ] {
        let help = stdout(&run(&[command, "--help"], None));
        assert!(help.starts_with(summary), "`{command} --help` starts: {help}");
        assert!(overview.contains(&format!("{command} ")), "{overview}");
    }
}

#[test]
fn a_closed_pipe_is_not_an_error() {
    use std::io::Read;
    use std::process::{Command, Stdio};
    let spec = root().join("examples/seed-ha.yaml");
    let mut child = Command::new(crate::support::bin())
        .args(["render", "-f", spec.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(status.success(), "{status:?}");
    let _ = render_file(&spec);
}

#[test]
fn configmap_mode_keeps_what_the_image_config_provided() {
    // The mounted ConfigMap hides the image's conf/: without a memory size Flink refuses to
    // start, and Java 17 needs the module opens (found by the real-Flink configmap phase).
    let spec = SPEC
        .replace("spec: {image: 'flink:2.1'}", "spec: {image: 'flink:2.1', configMode: configmap}");
    let text = stdout(&run(&["render", "-f", "-"], Some(spec.as_bytes())));
    for line in [
        "jobmanager.memory.process.size: 1600m",
        "taskmanager.memory.process.size: 1728m",
        "env.java.opts.all: --add-exports=",
    ] {
        assert!(text.contains(line), "missing {line}: {text}");
    }
    let old = spec.replace("image: 'flink:2.1'", "image: 'flink:1.9', flinkVersion: '1.9'");
    let text = stdout(&run(&["render", "-f", "-"], Some(old.as_bytes())));
    assert!(text.contains("jobmanager.heap.size: 1024m"), "{text}");
    assert!(!text.contains("env.java.opts.all"), "Flink 1.9 images run Java 8: {text}");
}
