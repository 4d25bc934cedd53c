//! Pods as kubectl-flink builds them: the names it reserves (env variables, volumes), and
//! merging a user's pod template the way Flink does, after rendering, in typed, tested Rust.
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

use super::names;

/// Environment variables kubectl-flink sets itself.
pub const RESERVED_ENV: &[&str] = &["POD_IP", "POD_NAMESPACE"];
/// Volume names kubectl-flink uses itself.
pub const CONFIG_VOLUME: &str = "flink-config";

/// Fields that are kubectl-flink's defaults: a pod template replaces them.
const POD_DEFAULTS: &[&str] = &["securityContext"];
const CONTAINER_DEFAULTS: &[&str] = &["securityContext", "livenessProbe", "readinessProbe"];

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

/// The Flink containers of a standalone cluster's two pods. In a pod template, each names the
/// main container of its own pod; the other one's is not a sidecar to add here.
pub const FLINK_CONTAINERS: [&str; 2] = ["jobmanager", "taskmanager"];

fn merge_containers(pod: &mut Value, theirs: &Value, main: &str, replace_defaults: bool) {
    let Some(theirs) = theirs.as_array() else { return };
    for container in theirs {
        let name = container["name"].as_str().unwrap_or_default();
        if name != main && FLINK_CONTAINERS.contains(&name) {
            continue;
        }
        if name == main {
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

    #[test]
    fn issue_17_a_shared_template_customises_each_flink_container_in_its_own_pod() {
        let shared = json!({"spec": {"containers": [
            {"name": "taskmanager", "env": [{"name": "TM", "value": "1"}]},
            {"name": "jobmanager", "env": [{"name": "JM", "value": "1"}]},
            {"name": "sidecar", "image": "busybox"},
        ]}});
        for (main, own, other) in [("jobmanager", "JM", "TM"), ("taskmanager", "TM", "JM")] {
            let mut object = json!({"spec": {"template": {"spec": {"containers": [
                {"name": main, "image": "flink"},
            ]}}}});
            merge_template(&mut object, &shared, main);
            let containers = object["spec"]["template"]["spec"]["containers"].as_array().unwrap();
            let names: Vec<&str> = containers.iter().map(|c| c["name"].as_str().unwrap()).collect();
            assert_eq!(names, [main, "sidecar"]);
            assert_eq!(containers[0]["env"][0]["name"], own);
            assert!(!containers[0].to_string().contains(other));
        }
    }

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
}
