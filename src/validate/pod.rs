//! Pod customisation fragments a spec carries (tolerations, affinity, env, volumes, pod
//! templates, ingress), read strictly through their k8s-openapi types, so a misspelt field is
//! an error at the spec's line, not a field the API server drops.

use std::path::Path;

use serde_json::Value;

use k8s_openapi::api::core::v1::{
    Affinity, EnvFromSource, EnvVar, PodSecurityContext, PodTemplateSpec, Toleration, Volume,
    VolumeMount,
};

use crate::error::{Diagnostic, path as at};
use crate::flink::CONF_DIR;
use crate::flink::version::FLINK_OPTION_ENV;
use crate::k8s::names;
use crate::k8s::pod::{CONFIG_VOLUME, FLINK_CONTAINERS, RESERVED_ENV, secret_volume};
use crate::k8s::rules;
use crate::k8s::typed::exact;
use crate::spec::{ClusterSpec, ConfigMode, FlinkCluster, Mode};
use crate::yaml::PathSegment;

fn item(keys: &[&str], index: usize) -> Vec<PathSegment> {
    let mut path = at(keys);
    path.push(PathSegment::Index(index));
    path
}

fn strict<T>(value: &Value, path: Vec<PathSegment>, what: &str, problems: &mut Vec<Diagnostic>)
where
    T: serde::de::DeserializeOwned + serde::Serialize,
{
    if let Err(Diagnostic { message, .. }) = exact::<T>(value) {
        problems.push(
            Diagnostic::field(path, format!("not a valid Kubernetes {what}: {message}"))
                .with_help(format!("see `kubectl explain` for the fields of a {what}")),
        );
    }
}

fn problem(path: Vec<PathSegment>, message: impl Into<String>, help: &str) -> Diagnostic {
    Diagnostic::field(path, message).with_help(help)
}

/// Checks every pod customisation field of a spec.
pub fn validate(spec: &ClusterSpec, problems: &mut Vec<Diagnostic>) {
    if let Some(account) = &spec.service_account_name
        && let Err(Diagnostic { message, .. }) = names::check_dns_subdomain(account)
    {
        problems.push(problem(
            at(&["spec", "serviceAccountName"]),
            message,
            "use the name of a ServiceAccount",
        ));
    }
    for (i, secret) in spec.image_pull_secrets.iter().enumerate() {
        if let Err(Diagnostic { message, .. }) = names::check_dns_subdomain(secret) {
            problems.push(problem(
                item(&["spec", "imagePullSecrets"], i),
                message,
                "use the name of a Secret",
            ));
        }
    }
    for (key, value) in &spec.node_selector {
        let path = || at(&["spec", "nodeSelector", key]);
        if let Err(Diagnostic { message, .. }) =
            names::check_label_key(key).and_then(|()| names::check_label_value(value))
        {
            problems.push(problem(path(), message, "node selectors are node labels"));
        }
    }
    check_annotations(&spec.pod_annotations, &["spec", "podAnnotations"], problems);
    check_annotations(&spec.object_annotations, &["spec", "objectAnnotations"], problems);
    for (i, toleration) in spec.tolerations.iter().enumerate() {
        let path = item(&["spec", "tolerations"], i);
        strict::<Toleration>(toleration, path.clone(), "Toleration", problems);
        if let Err(Diagnostic { message, .. }) = rules::check_toleration(toleration) {
            problems.push(problem(path, message, "see `kubectl explain pod.spec.tolerations`"));
        }
    }
    if let Some(affinity) = &spec.affinity {
        strict::<Affinity>(affinity, at(&["spec", "affinity"]), "Affinity", problems);
    }
    if let Some(context) = &spec.security_context {
        strict::<PodSecurityContext>(
            context,
            at(&["spec", "securityContext"]),
            "PodSecurityContext",
            problems,
        );
        if let Err(Diagnostic { message, .. }) = rules::check_ids(Some(context), "", rules::POD_IDS)
        {
            problems.push(problem(
                at(&["spec", "securityContext"]),
                message,
                "the official Flink images run as 9999",
            ));
        }
    }
    validate_env(spec, problems);
    validate_volumes(spec, problems);
    for (template, path, other) in [
        (&spec.pod_template, at(&["spec", "podTemplate"]), None),
        (
            &spec.job_manager.pod_template,
            at(&["spec", "jobManager", "podTemplate"]),
            Some("taskmanager"),
        ),
        (
            &spec.task_manager.pod_template,
            at(&["spec", "taskManager", "podTemplate"]),
            Some("jobmanager"),
        ),
    ] {
        if let Some(template) = template {
            validate_template(template, &path, problems);
            let names = template["spec"]["containers"].as_array().into_iter().flatten();
            if let Some(other) = other.filter(|other| names.clone().any(|c| c["name"] == *other)) {
                problems.push(problem(
                    path,
                    format!("a container named `{other}` customises the other component's Flink container, which this pod does not have"),
                    "move it to that component's podTemplate, or to spec.podTemplate for both",
                ));
            }
        }
    }
    if let Some(ingress) = &spec.ingress {
        validate_ingress(ingress, problems);
    }
    if let Some(metrics) = &spec.metrics {
        let port = metrics.prometheus.port.unwrap_or(9249);
        if !(1024..=65535).contains(&port) || [6122, 6123, 6124, 6125, 8081].contains(&port) {
            problems.push(problem(
                at(&["spec", "metrics", "prometheus", "port"]),
                format!(
                    "port {port} is not free: use 1024–65535, other than Flink's 6122–6125 and 8081"
                ),
                "the usual port is 9249",
            ));
        }
    }
}

fn validate_env(spec: &ClusterSpec, problems: &mut Vec<Diagnostic>) {
    let mut names = Vec::new();
    for (i, var) in spec.env.iter().enumerate() {
        strict::<EnvVar>(var, item(&["spec", "env"], i), "EnvVar", problems);
        names
            .push((var["name"].as_str().unwrap_or_default().to_owned(), item(&["spec", "env"], i)));
    }
    for (i, var) in spec.env_from.iter().enumerate() {
        strict::<EnvFromSource>(var, item(&["spec", "envFrom"], i), "EnvFromSource", problems);
    }
    for (i, secret) in spec.secret_env.iter().enumerate() {
        let path = item(&["spec", "secretEnv"], i);
        if let Err(Diagnostic { message, .. }) = names::check_dns_subdomain(&secret.secret) {
            problems.push(problem(
                path.clone(),
                format!("secret {message}"),
                "use the name of a Secret",
            ));
        }
        if !is_secret_key(&secret.key) {
            problems.push(problem(
                path.clone(),
                format!("`{}` is not a Secret key", secret.key),
                "keys are letters, digits, `-`, `_` and `.`, at most 253 characters",
            ));
        }
        names.push((secret.name.clone(), path));
    }
    for (index, (name, path)) in names.iter().enumerate() {
        if !is_env_name(name) {
            problems.push(problem(
                path.clone(),
                format!("`{name}` is not an environment variable name"),
                "use letters, digits and `_`, not starting with a digit",
            ));
        } else if RESERVED_ENV.contains(&name.as_str()) {
            problems.push(problem(
                path.clone(),
                format!("`{name}` is set by kubectl-flink"),
                "choose another name",
            ));
        } else if FLINK_OPTION_ENV.contains(&name.as_str()) {
            problems.push(problem(
                path.clone(),
                format!("`{name}` is set by kubectl-flink from the Flink options"),
                "set the Flink option in `spec.flinkConfiguration` (e.g. `env.java.opts.all`, `env.log.dir`), which reaches every version the way its scripts read it",
            ));
        } else if names[..index].iter().any(|(other, _)| other == name) {
            problems.push(problem(
                path.clone(),
                format!("`{name}` is set twice"),
                "keep one of them",
            ));
        }
    }
}

fn is_secret_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 253
        && key.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
}

/// An absolute path Kubernetes accepts as a mount path (no `:`, no control characters).
fn is_mount_path(path: &str) -> bool {
    path.starts_with('/') && !path.contains(':') && !path.chars().any(char::is_control)
}

fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-')
}

fn validate_volumes(spec: &ClusterSpec, problems: &mut Vec<Diagnostic>) {
    let mut volumes: Vec<String> = vec![CONFIG_VOLUME.to_owned()];
    let mut mount_paths: Vec<&str> = Vec::new();
    for (i, secret) in spec.secrets.iter().enumerate() {
        let path = item(&["spec", "secrets"], i);
        if mount_paths.contains(&secret.mount_path.as_str()) {
            problems.push(problem(
                path.clone(),
                format!("mountPath `{}` is used twice in the Flink container", secret.mount_path),
                "give every mount its own path",
            ));
        }
        mount_paths.push(&secret.mount_path);
        if let Err(Diagnostic { message, .. }) = names::check_dns_subdomain(&secret.name) {
            problems.push(problem(path.clone(), message, "use the name of a Secret"));
        }
        if !is_mount_path(&secret.mount_path) || Path::new(&secret.mount_path).starts_with(CONF_DIR)
        {
            problems.push(problem(
                path,
                format!(
                    "mountPath `{}` must be an absolute path outside /opt/flink/conf, without `:`",
                    secret.mount_path
                ),
                "e.g. /opt/flink/secrets/<name>",
            ));
        }
        let volume = secret_volume(&secret.name);
        if volumes.contains(&volume) {
            problems.push(problem(
                item(&["spec", "secrets"], i),
                format!(
                    "Secret `{}` gives the pod volume `{volume}`, which another entry has already",
                    secret.name
                ),
                "list each Secret once; Secret names that differ only in `.` and `-`, or after \
                 56 characters, share a volume name: mount one of them through spec.volumes",
            ));
        }
        volumes.push(volume);
    }
    for (i, volume) in spec.volumes.iter().enumerate() {
        let path = item(&["spec", "volumes"], i);
        strict::<Volume>(volume, path.clone(), "Volume", problems);
        let name = volume["name"].as_str().unwrap_or_default().to_owned();
        if volumes.contains(&name) {
            problems.push(problem(
                path,
                format!("volume name `{name}` is used twice or by kubectl-flink"),
                "choose another name",
            ));
        }
        volumes.push(name);
    }
    for (i, mount) in spec.volume_mounts.iter().enumerate() {
        let path = item(&["spec", "volumeMounts"], i);
        strict::<VolumeMount>(mount, path.clone(), "VolumeMount", problems);
        let mount_path = mount["mountPath"].as_str().unwrap_or_default();
        // Where the configuration is a volume (a ConfigMap), nothing may go inside it; where it
        // is the image's own directory, a file may be mounted into it (`subPath`).
        let conf_is_volume =
            spec.config_mode == Some(ConfigMode::Configmap) || spec.mode == Some(Mode::Native);
        let hides_conf = if conf_is_volume {
            Path::new(mount_path).starts_with(CONF_DIR)
        } else {
            Path::new(mount_path) == Path::new(CONF_DIR)
        };
        if hides_conf {
            problems.push(problem(
                path.clone(),
                format!("mountPath `{mount_path}` would hide Flink's configuration in {CONF_DIR}"),
                "mount it elsewhere, e.g. /opt/flink/data; Flink options go in spec.flinkConfiguration",
            ));
        } else if mount_paths.contains(&mount_path) {
            problems.push(problem(
                path.clone(),
                format!("mountPath `{mount_path}` is used twice in the Flink container"),
                "give every mount its own path",
            ));
        }
        mount_paths.push(mount_path);
        let name = mount["name"].as_str().unwrap_or_default();
        if !volumes.iter().any(|v| v == name) {
            problems.push(problem(
                path,
                format!(
                    "mounts volume `{name}`, which no entry of spec.volumes or spec.secrets defines"
                ),
                "add the volume to spec.volumes",
            ));
        }
    }
}

fn validate_template(template: &Value, path: &[PathSegment], problems: &mut Vec<Diagnostic>) {
    // A template may leave `containers` out (it only adds pod fields); the type requires it.
    let mut checked = template.clone();
    if checked["spec"].is_object() && checked["spec"].get("containers").is_none() {
        checked["spec"]["containers"] = Value::Array(Vec::new());
    }
    strict::<PodTemplateSpec>(&checked, path.to_vec(), "PodTemplateSpec", problems);
    for (list, what) in
        [("volumes", "volume"), ("containers", "container"), ("initContainers", "container")]
    {
        let items = template["spec"][list].as_array().map(Vec::as_slice).unwrap_or_default();
        if let Err(Diagnostic { message, .. }) =
            rules::unique_names(items, &format!("spec.{list}"), what)
        {
            problems.push(problem(path.to_vec(), message, "give every item its own name"));
        }
    }
    let containers = &template["spec"]["containers"];
    if containers.as_array().is_some_and(Vec::is_empty) {
        problems.push(problem(path.to_vec(), "`spec.containers: []` would remove the Flink container", "list only sidecars, or a container named `jobmanager`/`taskmanager` to add fields to Flink's"));
    }
    for container in containers.as_array().into_iter().flatten() {
        let name = container["name"].as_str().unwrap_or_default();
        if FLINK_CONTAINERS.contains(&name) {
            for field in ["command", "args", "image"] {
                if !container[field].is_null() {
                    problems.push(problem(path.to_vec(), format!("the pod template sets `{field}` of the Flink container `{name}`, which kubectl-flink sets"), "remove it; use spec.image, spec.job.args or spec.flinkConfiguration"));
                }
            }
        }
    }
}

fn validate_ingress(ingress: &crate::spec::IngressSpec, problems: &mut Vec<Diagnostic>) {
    match &ingress.host {
        None => problems.push(problem(
            at(&["spec", "ingress"]),
            "an ingress needs `host`",
            "add `host: flink.example.com`",
        )),
        Some(host) => {
            if let Err(Diagnostic { message, .. }) = rules::check_ingress_host(host) {
                problems.push(problem(
                    at(&["spec", "ingress", "host"]),
                    message,
                    "use a DNS name such as flink.example.com",
                ));
            }
        }
    }
    if let Some(path) = &ingress.path {
        let plain = path.chars().any(|c| c.is_whitespace() || c.is_control());
        let broken = rules::check_ingress_path(path).err().map(|d| d.message);
        if let Some(message) = broken.or_else(|| {
            plain.then(|| format!("`{path}` must not hold spaces or control characters"))
        }) {
            problems.push(problem(
                at(&["spec", "ingress", "path"]),
                message,
                "an absolute URL path such as /flink",
            ));
        }
    }
    for (field, value) in [("className", &ingress.class_name), ("tlsSecret", &ingress.tls_secret)] {
        if let Some(value) = value
            && let Err(Diagnostic { message, .. }) = names::check_dns_subdomain(value)
        {
            problems.push(problem(
                at(&["spec", "ingress", field]),
                message,
                "use a Kubernetes object name",
            ));
        }
    }
    check_annotations(&ingress.annotations, &["spec", "ingress", "annotations"], problems);
}

/// A Deployment's pods restart `Always`, the only policy the API server takes for it. A pod
/// template's restart policy reaches the TaskManagers' Deployment, and the JobManager's where
/// it is one; a JobManager Job's own `OnFailure` wins over a template's.
pub fn validate_restart_policies(cluster: &FlinkCluster, problems: &mut Vec<Diagnostic>) {
    let spec = &cluster.spec;
    if spec.mode == Some(Mode::Native) {
        return;
    }
    let jobmanager_deployment = cluster.is_session() || cluster.jobmanager_is_deployment();
    let mut refused = Vec::new();
    for (component, template, deployment) in [
        ("jobManager", &spec.job_manager.pod_template, jobmanager_deployment),
        ("taskManager", &spec.task_manager.pod_template, true),
    ] {
        let (policy, path) =
            match (restart_policy(template.as_ref()), restart_policy(spec.pod_template.as_ref())) {
                (Some(own), _) => {
                    (own, at(&["spec", component, "podTemplate", "spec", "restartPolicy"]))
                }
                (None, Some(shared)) => {
                    (shared, at(&["spec", "podTemplate", "spec", "restartPolicy"]))
                }
                (None, None) => continue,
            };
        if deployment && policy != "Always" && !refused.contains(&path) {
            refused.push(path.clone());
            problems.push(problem(
                path,
                format!("`{policy}`: the {component}'s pods belong to a Deployment, which restarts them `Always`"),
                "remove `restartPolicy`: Kubernetes refuses any other policy in a Deployment",
            ));
        }
    }
}

/// The restart policy a pod template sets, if any.
fn restart_policy(template: Option<&Value>) -> Option<&str> {
    template?["spec"]["restartPolicy"].as_str()
}

/// Annotation keys, each at its own path, and their total size.
pub fn check_annotations(
    annotations: &std::collections::BTreeMap<String, String>,
    keys: &[&str],
    problems: &mut Vec<Diagnostic>,
) {
    for key in annotations.keys() {
        if let Err(Diagnostic { message, .. }) = rules::check_annotation_key(key) {
            let mut path = at(keys);
            path.push(PathSegment::Key(key.clone()));
            problems.push(problem(path, message, "annotation keys follow the label key syntax"));
        }
    }
    let all = annotations.iter().map(|(k, v)| (k.as_str(), v.as_str()));
    if let Err(Diagnostic { message, .. }) = rules::check_annotations_size(all) {
        problems.push(problem(at(keys), message, "keep large data in a ConfigMap"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn templates_that_remove_or_replace_flink_are_refused() {
        let mut problems = Vec::new();
        validate_template(&json!({"spec": {"containers": []}}), &[], &mut problems);
        assert!(problems[0].message.contains("remove the Flink container"));
        let mut problems = Vec::new();
        validate_template(
            &json!({"spec": {"containers": [{"name": "taskmanager", "command": ["sh"]}]}}),
            &[],
            &mut problems,
        );
        assert!(problems[0].message.contains("sets `command`"), "{problems:?}");
        let mut problems = Vec::new();
        validate_template(&json!({"spec": {"containerz": [{"name": "x"}]}}), &[], &mut problems);
        assert!(problems[0].message.contains("`spec.containerz` is not a field"), "{problems:?}");
    }
}
