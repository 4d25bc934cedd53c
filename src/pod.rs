//! Pod customisation: validating the Kubernetes fragments a spec carries, and merging pod
//! templates the way Flink does.
//!
//! Fragments (tolerations, affinity, env, volumes, pod templates …) are read strictly through
//! their k8s-openapi types, so a misspelt field is an error at the spec's line, not a field
//! the API server drops. Pod templates are merged after rendering, in typed, tested Rust.
//!
//! Precedence, as Flink documents for its pod templates ("explicit option > template >
//! default"):
//! 1. what kubectl-flink derives from the spec wins: names, labels, image, command, args,
//!    ports, resources, env and mounts it sets, service account, restart policy;
//! 2. the template fills every other field, and replaces kubectl-flink's defaults
//!    (`securityContext` of pod and container, the JobManager probes);
//! 3. lists merge by name (containers, init containers, volumes, env, ports, mounts): the
//!    main container is merged field by field, other containers are added after it; maps
//!    (labels, annotations, node selector) are united, kubectl-flink's keys winning.

use serde_json::{Map, Value};

use k8s_openapi::api::core::v1::{
    Affinity, EnvFromSource, EnvVar, PodSecurityContext, PodTemplateSpec, Toleration, Volume,
    VolumeMount,
};

use crate::check::exact;
use crate::names;
use crate::spec::{ClusterSpec, Problem};
use crate::yaml::PathSegment;

/// Environment variables kubectl-flink sets itself.
pub const RESERVED_ENV: &[&str] = &["POD_IP", "POD_NAMESPACE"];
/// Variables kubectl-flink sets from Flink options (the image's entrypoint and the start
/// scripts read them); a second definition in `spec.env` would silently replace them.
pub const FLINK_OPTION_ENV: &[&str] = &[
    "FLINK_PROPERTIES",
    "FLINK_ENV_JAVA_OPTS",
    "FLINK_ENV_JAVA_OPTS_JM",
    "FLINK_ENV_JAVA_OPTS_TM",
    "FLINK_JM_HEAP",
    "FLINK_TM_HEAP",
    "FLINK_LOG_DIR",
    "FLINK_PID_DIR",
    "HADOOP_CONF_DIR",
    "YARN_CONF_DIR",
];
/// Volume names kubectl-flink uses itself.
pub const CONFIG_VOLUME: &str = "flink-config";

/// Fields that are kubectl-flink's defaults: a pod template replaces them.
const POD_DEFAULTS: &[&str] = &["securityContext"];
const CONTAINER_DEFAULTS: &[&str] = &["securityContext", "livenessProbe", "readinessProbe"];

fn at(keys: &[&str]) -> Vec<PathSegment> {
    keys.iter().map(|k| PathSegment::Key((*k).to_owned())).collect()
}

fn item(keys: &[&str], index: usize) -> Vec<PathSegment> {
    let mut path = at(keys);
    path.push(PathSegment::Index(index));
    path
}

fn strict<T>(value: &Value, path: Vec<PathSegment>, what: &str, problems: &mut Vec<Problem>)
where
    T: serde::de::DeserializeOwned + serde::Serialize,
{
    if let Err(message) = exact::<T>(value) {
        problems.push(Problem {
            path,
            message: format!("not a valid Kubernetes {what}: {message}"),
            help: Some(format!("see `kubectl explain` for the fields of a {what}")),
        });
    }
}

fn problem(path: Vec<PathSegment>, message: impl Into<String>, help: &str) -> Problem {
    Problem { path, message: message.into(), help: Some(help.to_owned()) }
}

/// Checks every pod customisation field of a spec.
pub fn validate(spec: &ClusterSpec, problems: &mut Vec<Problem>) {
    if let Some(account) = &spec.service_account_name
        && let Err(message) = names::check_dns_subdomain(account)
    {
        problems.push(problem(
            at(&["spec", "serviceAccountName"]),
            message,
            "use the name of a ServiceAccount",
        ));
    }
    for (i, secret) in spec.image_pull_secrets.iter().enumerate() {
        if let Err(message) = names::check_dns_subdomain(secret) {
            problems.push(problem(
                item(&["spec", "imagePullSecrets"], i),
                message,
                "use the name of a Secret",
            ));
        }
    }
    for (key, value) in &spec.node_selector {
        let path = || at(&["spec", "nodeSelector", key]);
        if let Err(message) =
            names::check_label_key(key).and_then(|()| names::check_label_value(value))
        {
            problems.push(problem(path(), message, "node selectors are node labels"));
        }
    }
    for key in spec.pod_annotations.keys() {
        if let Err(message) = names::check_label_key(key) {
            problems.push(problem(
                at(&["spec", "podAnnotations", key]),
                message.replace("label key", "annotation key"),
                "annotation keys follow the label key syntax",
            ));
        }
    }
    for (i, toleration) in spec.tolerations.iter().enumerate() {
        strict::<Toleration>(toleration, item(&["spec", "tolerations"], i), "Toleration", problems);
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
    }
    validate_env(spec, problems);
    validate_volumes(spec, problems);
    for (template, path) in [
        (&spec.pod_template, at(&["spec", "podTemplate"])),
        (&spec.job_manager.pod_template, at(&["spec", "jobManager", "podTemplate"])),
        (&spec.task_manager.pod_template, at(&["spec", "taskManager", "podTemplate"])),
    ] {
        if let Some(template) = template {
            validate_template(template, &path, problems);
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

fn validate_env(spec: &ClusterSpec, problems: &mut Vec<Problem>) {
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
        if let Err(message) = names::check_dns_subdomain(&secret.secret) {
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

fn validate_volumes(spec: &ClusterSpec, problems: &mut Vec<Problem>) {
    let mut volumes: Vec<String> = vec![CONFIG_VOLUME.to_owned()];
    for (i, secret) in spec.secrets.iter().enumerate() {
        let path = item(&["spec", "secrets"], i);
        if let Err(message) = names::check_dns_subdomain(&secret.name) {
            problems.push(problem(path.clone(), message, "use the name of a Secret"));
        }
        if !is_mount_path(&secret.mount_path) || secret.mount_path.starts_with("/opt/flink/conf") {
            problems.push(problem(
                path,
                format!(
                    "mountPath `{}` must be an absolute path outside /opt/flink/conf, without `:`",
                    secret.mount_path
                ),
                "e.g. /opt/flink/secrets/<name>",
            ));
        }
        volumes.push(secret_volume(&secret.name));
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

/// The pod volume kubectl-flink adds for a Secret mounted as files.
pub fn secret_volume(secret: &str) -> String {
    let name = format!("secret-{secret}");
    name.chars()
        .take(names::MAX_LABEL)
        .collect::<String>()
        .replace('.', "-")
        .trim_end_matches('-')
        .to_owned()
}

fn validate_template(template: &Value, path: &[PathSegment], problems: &mut Vec<Problem>) {
    // A template may leave `containers` out (it only adds pod fields); the type requires it.
    let mut checked = template.clone();
    if checked["spec"].is_object() && checked["spec"].get("containers").is_none() {
        checked["spec"]["containers"] = Value::Array(Vec::new());
    }
    strict::<PodTemplateSpec>(&checked, path.to_vec(), "PodTemplateSpec", problems);
    let containers = &template["spec"]["containers"];
    if containers.as_array().is_some_and(Vec::is_empty) {
        problems.push(problem(path.to_vec(), "`spec.containers: []` would remove the Flink container", "list only sidecars, or a container named `jobmanager`/`taskmanager` to add fields to Flink's"));
    }
    for container in containers.as_array().into_iter().flatten() {
        let name = container["name"].as_str().unwrap_or_default();
        if matches!(name, "jobmanager" | "taskmanager") {
            for field in ["command", "args", "image"] {
                if !container[field].is_null() {
                    problems.push(problem(path.to_vec(), format!("the pod template sets `{field}` of the Flink container `{name}`, which kubectl-flink sets"), "remove it; use spec.image, spec.job.args or spec.flinkConfiguration"));
                }
            }
        }
    }
}

fn validate_ingress(ingress: &crate::spec::IngressSpec, problems: &mut Vec<Problem>) {
    match &ingress.host {
        None => problems.push(problem(
            at(&["spec", "ingress"]),
            "an ingress needs `host`",
            "add `host: flink.example.com`",
        )),
        Some(host) => {
            let plain = host.strip_prefix("*.").unwrap_or(host);
            if let Err(message) = names::check_dns_subdomain(plain) {
                problems.push(problem(
                    at(&["spec", "ingress", "host"]),
                    message,
                    "use a DNS name such as flink.example.com",
                ));
            }
        }
    }
    if let Some(path) = &ingress.path
        && (!path.starts_with('/') || path.chars().any(|c| c.is_whitespace() || c.is_control()))
    {
        problems.push(problem(
            at(&["spec", "ingress", "path"]),
            format!("`{path}` is not an absolute URL path"),
            "start it with `/`",
        ));
    }
    for (field, value) in [("className", &ingress.class_name), ("tlsSecret", &ingress.tls_secret)] {
        if let Some(value) = value
            && let Err(message) = names::check_dns_subdomain(value)
        {
            problems.push(problem(
                at(&["spec", "ingress", field]),
                message,
                "use a Kubernetes object name",
            ));
        }
    }
    for key in ingress.annotations.keys() {
        if let Err(message) = names::check_label_key(key) {
            problems.push(problem(
                at(&["spec", "ingress", "annotations", key]),
                message.replace("label key", "annotation key"),
                "annotation keys follow the label key syntax",
            ));
        }
    }
}

/// One component's pod template: its own (`jobManager.podTemplate`) over the shared one
/// (`spec.podTemplate`), so the component's fields win.
pub fn combine(component: Option<&Value>, shared: Option<&Value>, main: &str) -> Option<Value> {
    match (component, shared) {
        (None, None) => None,
        (Some(only), None) | (None, Some(only)) => Some(only.clone()),
        (Some(component), Some(shared)) => {
            let mut pod = component.clone();
            merge_pod(&mut pod, shared, main, false);
            Some(pod)
        }
    }
}

/// Merges a pod template under a rendered workload's pod template (`spec.template`).
pub fn merge_template(object: &mut Value, template: &Value, main: &str) {
    merge_pod(&mut object["spec"]["template"], template, main, true);
}

/// Merges `template` under `pod`: `pod`'s fields win, except its defaults when
/// `replace_defaults` (a template given by the user replaces kubectl-flink's defaults).
fn merge_pod(pod: &mut Value, template: &Value, main: &str, replace_defaults: bool) {
    merge_maps(&mut pod["metadata"], &template["metadata"], &["labels", "annotations"]);
    let ours = &mut pod["spec"];
    let theirs = &template["spec"];
    let Some(theirs) = theirs.as_object() else { return };
    for (field, value) in theirs {
        match field.as_str() {
            "containers" => merge_containers(ours, value, main, replace_defaults),
            "initContainers" | "volumes" | "imagePullSecrets" | "hostAliases" => {
                merge_named_list(&mut ours[field.as_str()], value);
            }
            "tolerations" | "topologySpreadConstraints" => append(&mut ours[field.as_str()], value),
            "nodeSelector" => merge_map(&mut ours[field.as_str()], value),
            _ if replace_defaults && POD_DEFAULTS.contains(&field.as_str()) => {
                ours[field.as_str()] = value.clone();
            }
            _ => {
                if ours.get(field).is_none_or(Value::is_null) {
                    ours[field.as_str()] = value.clone();
                }
            }
        }
    }
}

fn merge_maps(ours: &mut Value, theirs: &Value, fields: &[&str]) {
    for field in fields {
        if !theirs[*field].is_null() {
            merge_map(&mut ours[*field], &theirs[*field]);
        }
    }
}

/// Unites two maps; ours win.
fn merge_map(ours: &mut Value, theirs: &Value) {
    let Some(theirs) = theirs.as_object() else { return };
    if !ours.is_object() {
        *ours = Value::Object(Map::new());
    }
    let map = ours.as_object_mut().expect("just made an object");
    for (key, value) in theirs {
        map.entry(key.clone()).or_insert_with(|| value.clone());
    }
}

fn append(ours: &mut Value, theirs: &Value) {
    let Some(theirs) = theirs.as_array() else { return };
    if !ours.is_array() {
        *ours = Value::Array(Vec::new());
    }
    ours.as_array_mut().expect("just made an array").extend(theirs.iter().cloned());
}

/// Adds the template's items whose `name` we do not have.
fn merge_named_list(ours: &mut Value, theirs: &Value) {
    let Some(theirs) = theirs.as_array() else { return };
    if !ours.is_array() {
        *ours = Value::Array(Vec::new());
    }
    let list = ours.as_array_mut().expect("just made an array");
    for item in theirs {
        if !list.iter().any(|o| o.get("name").is_some() && o.get("name") == item.get("name")) {
            list.push(item.clone());
        }
    }
}

fn merge_containers(pod: &mut Value, theirs: &Value, main: &str, replace_defaults: bool) {
    let Some(theirs) = theirs.as_array() else { return };
    for container in theirs {
        if container["name"] == main {
            let ours = pod["containers"]
                .as_array_mut()
                .and_then(|list| list.iter_mut().find(|c| c["name"] == main));
            if let Some(ours) = ours {
                merge_container(ours, container, replace_defaults);
            }
        } else {
            merge_named_list(&mut pod["containers"], &Value::Array(vec![container.clone()]));
        }
    }
}

fn merge_container(ours: &mut Value, theirs: &Value, replace_defaults: bool) {
    let Some(theirs) = theirs.as_object() else { return };
    for (field, value) in theirs {
        match field.as_str() {
            "env" | "ports" | "volumeMounts" | "envFrom" => {
                if field == "envFrom" {
                    append(&mut ours[field.as_str()], value);
                } else {
                    merge_named_list(&mut ours[field.as_str()], value);
                }
            }
            "resources" => {
                for part in ["requests", "limits"] {
                    if !value[part].is_null() {
                        merge_map(&mut ours["resources"][part], &value[part]);
                    }
                }
            }
            _ if replace_defaults && CONTAINER_DEFAULTS.contains(&field.as_str()) => {
                ours[field.as_str()] = value.clone();
            }
            _ => {
                if ours.get(field).is_none_or(Value::is_null) {
                    ours[field.as_str()] = value.clone();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rendered() -> Value {
        json!({
            "spec": {"template": {
                "metadata": {"labels": {"app": "ours"}},
                "spec": {
                    "serviceAccountName": "ours",
                    "securityContext": {"runAsUser": 9999},
                    "volumes": [{"name": "flink-config", "configMap": {"name": "c"}}],
                    "containers": [{
                        "name": "jobmanager", "image": "flink",
                        "env": [{"name": "A", "value": "ours"}],
                        "livenessProbe": {"tcpSocket": {"port": 6123}},
                        "resources": {"limits": {"cpu": "1"}}
                    }]
                }
            }}
        })
    }

    #[test]
    fn ours_win_template_fills_and_replaces_defaults() {
        let mut object = rendered();
        let template = json!({
            "metadata": {"labels": {"app": "theirs", "extra": "x"}, "annotations": {"a": "b"}},
            "spec": {
                "serviceAccountName": "theirs",
                "securityContext": {"runAsUser": 1000},
                "priorityClassName": "high",
                "volumes": [{"name": "flink-config", "emptyDir": {}}, {"name": "data", "emptyDir": {}}],
                "initContainers": [{"name": "init", "image": "busybox"}],
                "containers": [
                    {"name": "jobmanager", "env": [{"name": "A", "value": "theirs"}, {"name": "B", "value": "b"}],
                     "livenessProbe": {"httpGet": {"port": 8081}}, "workingDir": "/tmp",
                     "resources": {"limits": {"cpu": "4", "memory": "1Gi"}}},
                    {"name": "sidecar", "image": "envoy"}
                ]
            }
        });
        merge_template(&mut object, &template, "jobmanager");
        let pod = &object["spec"]["template"];
        assert_eq!(pod["metadata"]["labels"], json!({"app": "ours", "extra": "x"}));
        assert_eq!(pod["metadata"]["annotations"], json!({"a": "b"}));
        assert_eq!(pod["spec"]["serviceAccountName"], "ours", "explicit wins");
        assert_eq!(
            pod["spec"]["securityContext"],
            json!({"runAsUser": 1000}),
            "template replaces a default"
        );
        assert_eq!(pod["spec"]["priorityClassName"], "high", "template fills");
        assert_eq!(pod["spec"]["volumes"].as_array().unwrap().len(), 2);
        assert_eq!(pod["spec"]["volumes"][0]["configMap"]["name"], "c", "ours win by name");
        assert_eq!(pod["spec"]["initContainers"][0]["name"], "init");
        let containers = pod["spec"]["containers"].as_array().unwrap();
        assert_eq!(containers.len(), 2);
        assert_eq!(containers[0]["name"], "jobmanager", "the main container stays first");
        assert_eq!(containers[1]["name"], "sidecar");
        assert_eq!(
            containers[0]["env"],
            json!([{"name": "A", "value": "ours"}, {"name": "B", "value": "b"}])
        );
        assert_eq!(containers[0]["livenessProbe"], json!({"httpGet": {"port": 8081}}));
        assert_eq!(containers[0]["workingDir"], "/tmp");
        assert_eq!(containers[0]["resources"]["limits"], json!({"cpu": "1", "memory": "1Gi"}));
    }

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
