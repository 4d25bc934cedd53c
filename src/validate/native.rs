//! Native mode's rules: what a native spec may say, and what Flink's options can carry.
//!
//! Flink's client takes its inputs as options (`k:v,k:v` maps, `;`-separated lists, one
//! configuration file); a value those formats cannot carry is refused here with the field
//! that holds it, never mangled. Standalone specs only get their native-only fields refused.

use std::collections::BTreeMap;

use crate::error::{Diagnostic, path as at};
use crate::flink::config::{self, OptionValue};
use crate::flink::native::{FLINK_LABELS, MAX_CLUSTER_ID, MIN_VERSION};
use crate::flink::version::FlinkVersion;
use crate::spec::{FlinkCluster, Mode};
use crate::yaml::PathSegment;

fn problem(
    path: Vec<PathSegment>,
    message: impl Into<String>,
    help: impl Into<String>,
) -> Diagnostic {
    Diagnostic::field(path, message).with_help(help)
}

/// Options a native spec sets through a field; `flinkConfiguration` may not set them.
const OWNED_KEYS: &[(&str, &str)] = &[
    ("kubernetes.cluster-id", "metadata.name"),
    ("kubernetes.namespace", "metadata.namespace"),
    ("kubernetes.container.image.ref", "spec.image"),
    ("kubernetes.container.image", "spec.image"),
    ("kubernetes.container.image.pull-policy", "spec.imagePullPolicy"),
    ("kubernetes.container.image.pull-secrets", "spec.imagePullSecrets"),
    ("kubernetes.service-account", "spec.serviceAccountName"),
    ("kubernetes.jobmanager.service-account", "spec.serviceAccountName"),
    ("kubernetes.taskmanager.service-account", "spec.serviceAccountName"),
    ("kubernetes.jobmanager.labels", "metadata.labels"),
    ("kubernetes.jobmanager.annotations", "spec.podAnnotations"),
    ("kubernetes.jobmanager.node-selector", "spec.nodeSelector"),
    ("kubernetes.jobmanager.tolerations", "spec.tolerations"),
    ("kubernetes.jobmanager.cpu.amount", "spec.jobManager.resources.cpu"),
    ("kubernetes.jobmanager.cpu", "spec.jobManager.resources.cpu"),
    ("kubernetes.taskmanager.cpu.amount", "spec.taskManager.resources.cpu"),
    ("kubernetes.taskmanager.cpu", "spec.taskManager.resources.cpu"),
    ("kubernetes.rest-service.exposed.type", "spec.service.type"),
    ("kubernetes.secrets", "spec.secrets"),
    ("kubernetes.env.secretKeyRef", "spec.secretEnv"),
    ("kubernetes.jobmanager.owner.reference", "spec.ownerReference"),
    ("kubernetes.pod-template-file.taskmanager", "spec.taskManager.podTemplate"),
    ("execution.target", "kind (FlinkJobCluster or FlinkSessionCluster)"),
    ("pipeline.jars", "spec.job.jarURI"),
    ("execution.state-recovery.path", "spec.job.fromSavepoint"),
    ("execution.savepoint.path", "spec.job.fromSavepoint"),
    ("execution.state-recovery.ignore-unclaimed-state", "spec.job.allowNonRestoredState"),
    ("execution.savepoint.ignore-unclaimed-state", "spec.job.allowNonRestoredState"),
];

/// When a TaskManager-only key is set by a spec field that applies to both processes.
const TASKMANAGER_KEYS: &[(&str, &str)] = &[
    ("kubernetes.taskmanager.labels", "metadata.labels"),
    ("kubernetes.taskmanager.annotations", "spec.podAnnotations"),
    ("kubernetes.taskmanager.node-selector", "spec.nodeSelector"),
    ("kubernetes.taskmanager.tolerations", "spec.tolerations"),
];

/// Options that change the objects Flink's client creates in ways native mode does not
/// render (yet): refused rather than passed through to a JobManager they would not match.
const UNSUPPORTED_KEYS: &[&str] = &[
    "kubernetes.hostnetwork.enabled",
    "kubernetes.entry.path",
    "kubernetes.flink.conf.dir",
    "kubernetes.flink.log.dir",
    "kubernetes.jobmanager.entrypoint.args",
    "kubernetes.rest-service.annotations",
    "kubernetes.rest-service.labels",
    "kubernetes.rest-service.exposed.node-port-address-type",
    "kubernetes.internal-service.annotations",
    "kubernetes.internal-service.labels",
    "kubernetes.hadoop.conf.config-map.name",
    "kubernetes.decorator.hadoop-conf-mount.enabled",
    "kubernetes.decorator.kerberos-mount.enabled",
    "kubernetes.persistent-volume-claims",
    "kubernetes.persistent-volume-claim-read-only",
    "kubernetes.pod-template-file",
    "kubernetes.pod-template-file.default",
    "kubernetes.pod-template-file.jobmanager",
    "kubernetes.artifacts.local-upload-enabled",
    "kubernetes.artifacts.local-upload-overwrite",
    "kubernetes.artifacts.local-upload-target",
    "kubernetes.scheduler-name",
    "kubernetes.jobmanager.scheduler-name",
    "rest.port",
    "rest.bind-port",
    "jobmanager.rpc.port",
    "taskmanager.rpc.port",
    "user.artifacts.base-dir",
    "jobmanager.memory.flink.size",
    "jobmanager.memory.heap.size",
];

/// Checks a spec's native-mode fields: all of them when it is native, else that it uses none.
pub fn validate(
    cluster: &FlinkCluster,
    version: FlinkVersion,
    flink_configuration: &BTreeMap<String, String>,
    problems: &mut Vec<Diagnostic>,
    warnings: &mut Vec<String>,
) {
    let spec = &cluster.spec;
    if spec.mode != Some(Mode::Native) {
        if spec.job().jar_uri.is_some() {
            problems.push(problem(
                at(&["spec", "job", "jarURI"]),
                "`jarURI` is for native mode (Flink's kubernetes-application target)",
                "set `spec.mode: native`, or remove it: a standalone job cluster finds its jar in the image's /opt/flink/usrlib",
            ));
        }
        if spec.owner_reference.is_some() {
            problems.push(problem(
                at(&["spec", "ownerReference"]),
                "`ownerReference` is for native mode (it owns the JobManager Deployment)",
                "set `spec.mode: native`, or remove it",
            ));
        }
        if spec.native.is_some() {
            problems.push(problem(
                at(&["spec", "native"]),
                "`native` is for native mode",
                "set `spec.mode: native`, or remove it",
            ));
        }
        return;
    }
    if spec.owner_reference.is_some()
        && spec.native.as_ref().and_then(|n| n.owner_references) == Some(false)
    {
        problems.push(problem(
            at(&["spec", "ownerReference"]),
            "`ownerReference` adds an ownerReference, and `native.ownerReferences: false` renders none",
            "remove one of them: without ownerReferences the GitOps tool's pruning removes the objects",
        ));
    }
    if version < MIN_VERSION {
        problems.push(problem(
            at(&["spec", "flinkVersion"]),
            format!(
                "native mode renders Flink {MIN_VERSION} or newer (spec.flinkVersion is {version})"
            ),
            format!("use spec.flinkVersion \"{MIN_VERSION}\" or a 2.x version, or standalone mode"),
        ));
    }
    let name = &cluster.metadata.name;
    if name.len() > MAX_CLUSTER_ID {
        problems.push(problem(
            at(&["metadata", "name"]),
            format!("`{name}` is {} characters; Flink's kubernetes.cluster-id allows at most {MAX_CLUSTER_ID}", name.len()),
            "choose a shorter name",
        ));
    }
    for label in cluster.metadata.labels.keys() {
        if FLINK_LABELS.contains(&label.as_str()) {
            problems.push(problem(
                at(&["metadata", "labels", label]),
                format!("label `{label}` is set by Flink in native mode"),
                "remove it; Flink uses `type`, `app` and `component` to select the cluster's pods",
            ));
        }
    }
    if cluster.is_session() {
        // A FlinkSessionCluster has no job: spec::validate refuses `spec.job`.
    } else {
        match spec.job().jar_uri.as_deref() {
            None => problems.push(problem(
                at(&["spec", "job", "jarURI"]),
                "a native FlinkJobCluster needs `job.jarURI` (Flink's kubernetes-application target runs one jar)",
                "add `jarURI: local:///opt/flink/usrlib/job.jar`, the path of the jar inside the image",
            )),
            Some(uri) => check_jar_uri(uri, problems),
        }
    }
    refuse_unsupported(cluster, problems);
    check_formats(cluster, problems);
    check_flink_configuration(cluster, flink_configuration, problems, warnings);
    check_file(cluster, version, flink_configuration, problems);
}

fn check_jar_uri(uri: &str, problems: &mut Vec<Diagnostic>) {
    let path = || at(&["spec", "job", "jarURI"]);
    let scheme = uri.split_once("://").map(|(s, _)| s).filter(|s| {
        !s.is_empty()
            && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    });
    match scheme {
        _ if uri.chars().any(|c| c.is_whitespace() || c.is_control()) => {
            problems.push(problem(path(), format!("`{uri}` is not a URI"), "remove the spaces"));
        }
        None => problems.push(problem(
            path(),
            format!("`{uri}` has no scheme"),
            format!("for a jar inside the image write `local://{}`", if uri.starts_with('/') { uri.to_owned() } else { format!("/{uri}") }),
        )),
        Some("file") => problems.push(problem(
            path(),
            "a `file://` jar is on the machine that runs Flink's client, which kubectl-flink does not upload",
            "bake the jar into the image and write `local:///opt/flink/usrlib/<jar>`, or use a remote URI (s3://, https://)",
        )),
        Some(_) => {}
    }
}

fn refuse_unsupported(cluster: &FlinkCluster, problems: &mut Vec<Diagnostic>) {
    let spec = &cluster.spec;
    let later = "native mode renders the objects Flink's client creates from its options; this needs a JobManager pod template, which native mode does not render yet";
    let mut refuse = |present: bool, path: &[&str], help: &str| {
        if present {
            problems.push(problem(
                at(path),
                format!(
                    "`{}` is not available in native mode",
                    path.last().copied().unwrap_or_default()
                ),
                help,
            ));
        }
    };
    refuse(
        spec.task_manager.replicas.is_some(),
        &["spec", "taskManager", "replicas"],
        "remove it: in native mode the JobManager starts TaskManager pods as the jobs need them (parallelism ÷ slots); `slotmanager.number-of-slots.min` in flinkConfiguration keeps some running",
    );
    refuse(
        spec.config_mode.is_some(),
        &["spec", "configMode"],
        "remove it: native mode always ships Flink's own `flink-config-<name>` ConfigMap",
    );
    refuse(
        spec.entrypoint.is_some(),
        &["spec", "entrypoint"],
        "remove it: in native mode Flink's client writes the containers' command",
    );
    refuse(
        spec.job_manager.replicas.is_some(),
        &["spec", "jobManager", "replicas"],
        "remove it, or set `kubernetes.jobmanager.replicas` in flinkConfiguration with highAvailability",
    );
    refuse(
        spec.job_manager.backoff_limit.is_some(),
        &["spec", "jobManager", "backoffLimit"],
        "remove it: in native mode the JobManager is a Deployment",
    );
    refuse(!spec.env_from.is_empty(), &["spec", "envFrom"], later);
    refuse(!spec.volumes.is_empty(), &["spec", "volumes"], later);
    refuse(!spec.volume_mounts.is_empty(), &["spec", "volumeMounts"], later);
    refuse(spec.affinity.is_some(), &["spec", "affinity"], later);
    refuse(spec.security_context.is_some(), &["spec", "securityContext"], later);
    refuse(
        spec.pod_template.is_some(),
        &["spec", "podTemplate"],
        "use `spec.taskManager.podTemplate` for the TaskManagers; a JobManager pod template is not rendered in native mode yet",
    );
    refuse(spec.job_manager.pod_template.is_some(), &["spec", "jobManager", "podTemplate"], later);
    refuse(
        spec.ingress.is_some(),
        &["spec", "ingress"],
        "expose the web UI with `spec.service.type`, or point your own Ingress at the Service `<name>-rest`, port `rest`",
    );
    refuse(
        spec.metrics.is_some(),
        &["spec", "metrics"],
        "set the reporter in flinkConfiguration (`metrics.reporter.prom.factory.class`, `metrics.reporter.prom.port`); Flink's native client exposes no metrics port",
    );
    for (i, var) in spec.env.iter().enumerate() {
        if var.get("valueFrom").is_some() {
            problems.push(problem(
                vec![PathSegment::Key("spec".into()), PathSegment::Key("env".into()), PathSegment::Index(i)],
                "`valueFrom` is not available in native mode: Flink's containerized.*.env options hold plain values",
                "use `spec.secretEnv` for a Secret key",
            ));
        }
    }
}

/// Flink reads maps as `k:v,k:v`, lists of maps as `…;…`, secrets as `name:path`.
fn check_formats(cluster: &FlinkCluster, problems: &mut Vec<Diagnostic>) {
    let spec = &cluster.spec;
    let mut separators = |text: &str, path: Vec<PathSegment>, what: &str, forbidden: &[char]| {
        if text.contains(forbidden) || text.is_empty() {
            let list = forbidden.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ");
            problems.push(problem(
                path,
                format!("`{text}` cannot be passed to Flink: {what} is written in an option that separates with {list}"),
                "Flink's native client cannot carry this value; change it",
            ));
        }
    };
    for (key, value) in &spec.pod_annotations {
        separators(value, at(&["spec", "podAnnotations", key]), "an annotation", &[',', ':']);
    }
    for (i, toleration) in spec.tolerations.iter().enumerate() {
        for field in ["key", "operator", "value", "effect"] {
            if let Some(text) = toleration[field].as_str() {
                let path = vec![
                    PathSegment::Key("spec".into()),
                    PathSegment::Key("tolerations".into()),
                    PathSegment::Index(i),
                    PathSegment::Key(field.into()),
                ];
                separators(text, path, "a toleration", &[',', ':', ';']);
            }
        }
    }
    let mut seen = Vec::new();
    let mut twice = Vec::new();
    for (i, secret) in spec.secrets.iter().enumerate() {
        let path = || {
            vec![
                PathSegment::Key("spec".into()),
                PathSegment::Key("secrets".into()),
                PathSegment::Index(i),
            ]
        };
        separators(&secret.mount_path, path(), "a secret mount", &[',', ':']);
        if seen.contains(&&secret.name) {
            twice.push((path(), secret.name.clone()));
        }
        seen.push(&secret.name);
    }
    for (i, var) in spec.secret_env.iter().enumerate() {
        let path = vec![
            PathSegment::Key("spec".into()),
            PathSegment::Key("secretEnv".into()),
            PathSegment::Index(i),
        ];
        for text in [&var.name, &var.secret, &var.key] {
            separators(text, path.clone(), "a secret key reference", &[',', ':', ';']);
        }
    }
    if let Some(owner) = &spec.owner_reference {
        for (field, text) in [
            ("apiVersion", &owner.api_version),
            ("kind", &owner.kind),
            ("name", &owner.name),
            ("uid", &owner.uid),
        ] {
            separators(
                text,
                at(&["spec", "ownerReference", field]),
                "an owner reference",
                &[',', ':', ';'],
            );
        }
    }
    for (path, name) in twice {
        problems.push(problem(
            path,
            format!("Secret `{name}` is mounted twice"),
            "Flink names the volume after the Secret: mount it once",
        ));
    }
    for (component, resources) in
        [("jobManager", &spec.job_manager.resources), ("taskManager", &spec.task_manager.resources)]
    {
        let Some(cpu) = resources.as_ref().and_then(|r| r.cpu.as_ref()) else { continue };
        if let Some(amount) = config::cpu_amount(&cpu.text())
            && !(0.001..=1_000_000.0).contains(&amount)
        {
            problems.push(problem(
                at(&["spec", component, "resources", "cpu"]),
                format!(
                    "`{}` is outside what Flink's CPU amount takes here (0.001 to 1000000)",
                    cpu.text()
                ),
                "use a CPU amount such as \"500m\" or \"2\"",
            ));
        }
    }
}

fn check_flink_configuration(
    cluster: &FlinkCluster,
    flink_configuration: &BTreeMap<String, String>,
    problems: &mut Vec<Diagnostic>,
    warnings: &mut Vec<String>,
) {
    let spec = &cluster.spec;
    let at_key = |key: &str| {
        vec![
            PathSegment::Key("spec".into()),
            PathSegment::Key("flinkConfiguration".into()),
            PathSegment::Key(key.into()),
        ]
    };
    for (key, value) in flink_configuration {
        if let Some((_, field)) = OWNED_KEYS.iter().find(|(k, _)| k == key) {
            problems.push(problem(
                at_key(key),
                format!("`{key}` is set by `{field}` in native mode"),
                format!("remove it and set `{field}`"),
            ));
        } else if let Some((_, field)) = TASKMANAGER_KEYS.iter().find(|(k, _)| k == key) {
            let set = match *field {
                "metadata.labels" => !cluster.metadata.labels.is_empty(),
                "spec.podAnnotations" => !spec.pod_annotations.is_empty(),
                "spec.nodeSelector" => !spec.node_selector.is_empty(),
                _ => !spec.tolerations.is_empty(),
            };
            if set {
                problems.push(problem(at_key(key), format!("`{key}` is set by `{field}`, which applies to both JobManager and TaskManagers"), format!("remove it, or move the values from `{field}` here and to the JobManager's")));
            }
        } else if UNSUPPORTED_KEYS.contains(&key.as_str())
            || key.starts_with("containerized.master.env.")
            || key.starts_with("$internal.")
        {
            problems.push(problem(at_key(key), format!("`{key}` changes the objects Flink's client creates, which native mode does not render"), "remove it; see docs/native.md for what it renders"));
        } else if config::NOT_SHIPPED.contains(&key.as_str()) {
            problems.push(problem(
                at_key(key),
                format!("Flink's client does not ship `{key}` to the cluster"),
                "remove it; Flink binds to all interfaces in Kubernetes",
            ));
        } else if key == "kubernetes.jobmanager.replicas" {
            match value.trim().parse::<u32>() {
                Ok(1) => {}
                Ok(n) if n > 1 && spec.high_availability.is_some() => {}
                Ok(n) if n > 1 => problems.push(problem(at_key(key), format!("{n} JobManagers need high availability (Flink refuses more than one without it)"), "add `spec.highAvailability`, or use 1")),
                _ => problems.push(problem(at_key(key), format!("`{value}` is not a number of JobManagers"), "use a whole number ≥ 1")),
            }
        } else if key.ends_with(".limit-factor") && key.starts_with("kubernetes.") {
            if value.trim().parse::<f64>().map_or(true, |f| !(1.0..=1000.0).contains(&f)) {
                problems.push(problem(
                    at_key(key),
                    format!("`{value}` is not a limit factor (Flink needs a number ≥ 1)"),
                    "use e.g. 1.5",
                ));
            }
        } else if key.starts_with("high-availability.kubernetes.")
            && spec.high_availability.is_none()
        {
            warnings.push(format!(
                "spec.flinkConfiguration: `{key}` has no effect without spec.highAvailability"
            ));
        }
    }
}

/// Every value must survive the version's configuration file.
fn check_file(
    cluster: &FlinkCluster,
    version: FlinkVersion,
    flink_configuration: &BTreeMap<String, String>,
    problems: &mut Vec<Diagnostic>,
) {
    let config = config::effective(cluster, version, flink_configuration);
    for (key, entry) in &config {
        let text = config::legacy_value(&entry.value);
        let why = if version.config_file() == "flink-conf.yaml" {
            config::legacy_problem(key, &text)
        } else if let OptionValue::Text(value) = &entry.value
            && value.contains(['\n', '\r'])
        {
            Some("a Flink option value must be one line".to_owned())
        } else {
            None
        };
        if let Some(why) = why {
            let path = entry.source.clone().unwrap_or_default();
            problems.push(problem(
                path,
                format!("Flink {version} reads {}: {why}", version.config_file()),
                "change the value, or use Flink 2.x (config.yaml, which quotes values)",
            ));
        }
    }
}
