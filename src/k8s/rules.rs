//! Rules the API server's validation code enforces and the `OpenAPI` schema does not carry, for
//! the objects kubectl-flink writes (pods, Services, Ingresses, ConfigMaps, autoscalers). Each
//! names the Kubernetes function it follows (`pkg/apis/core/validation`,
//! `apimachinery/.../validation`).
//!
//! The checks read objects as JSON (as rendered, or as the fragment a spec carries) and return
//! the first rule broken, with its JSON path relative to what they were given.

use std::collections::BTreeSet;
use std::net::IpAddr;

use serde_json::{Map, Value};

use crate::error::Diagnostic;
use crate::k8s::names;
use crate::k8s::quantity::Quantity;

/// Total size of an object's annotations, keys and values (`TotalAnnotationSizeLimitB`).
pub const MAX_ANNOTATIONS_BYTES: usize = 256 * 1024;
/// Longest ConfigMap key (`IsConfigMapKey`: a DNS subdomain's length).
pub const MAX_CONFIG_MAP_KEY: usize = 253;
/// Largest ConfigMap: its values together (`ValidateConfigMap`, `MaxSecretSize`).
pub const MAX_CONFIG_MAP_BYTES: usize = 1024 * 1024;
/// Largest user or group id (`IsValidUserID`, `IsValidGroupID`).
pub const MAX_ID: i64 = i32::MAX as i64;
/// Longest port name (`IsValidPortName`, an IANA service name).
pub const MAX_PORT_NAME: usize = 15;

fn broken(path: &str, message: impl std::fmt::Display) -> Diagnostic {
    Diagnostic::new(if path.is_empty() {
        message.to_string()
    } else {
        format!("{path}: {message}")
    })
}

fn join(base: &str, key: &str) -> String {
    if base.is_empty() { key.to_owned() } else { format!("{base}.{key}") }
}

fn items<'a>(value: &'a Value, key: &str) -> &'a [Value] {
    value.get(key).and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default()
}

fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value.get(key).and_then(Value::as_str).unwrap_or_default()
}

/// `IsValidPortName`: 1–15 characters of `[-a-z0-9]`, at least one letter, no `-` at either
/// end or twice in a row.
pub fn check_port_name(name: &str) -> Result<(), Diagnostic> {
    let why = if name.is_empty() || name.len() > MAX_PORT_NAME {
        Some(format!("must be 1 to {MAX_PORT_NAME} characters"))
    } else if !name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
        Some("may hold only lowercase letters, digits and `-`".to_owned())
    } else if !name.bytes().any(|b| b.is_ascii_lowercase()) {
        Some("must hold at least one letter".to_owned())
    } else if name.starts_with('-') || name.ends_with('-') || name.contains("--") {
        Some("must not start or end with `-`, nor hold `--`".to_owned())
    } else {
        None
    };
    match why {
        Some(why) => {
            Err(Diagnostic::new(format!("port name `{name}` {why} (an IANA service name)")))
        }
        None => Ok(()),
    }
}

/// `IsConfigMapKey`: `[-._a-zA-Z0-9]+`, at most 253 characters, not `.`, `..` or `..`-led.
pub fn check_config_map_key(key: &str) -> Result<(), Diagnostic> {
    let why = if key.is_empty() || key.len() > MAX_CONFIG_MAP_KEY {
        Some(format!("must be 1 to {MAX_CONFIG_MAP_KEY} characters"))
    } else if !key.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b)) {
        Some("may hold only letters, digits, `-`, `_` and `.`".to_owned())
    } else if key == "." || key.starts_with("..") {
        Some("must not be `.`, `..` or start with `..`".to_owned())
    } else {
        None
    };
    match why {
        Some(why) => Err(Diagnostic::new(format!("ConfigMap key `{key}` {why}"))),
        None => Ok(()),
    }
}

/// `ValidateAnnotations`: keys follow the label key syntax; keys and values together hold
/// at most 256 KiB.
pub fn check_annotations<'a>(
    annotations: impl IntoIterator<Item = (&'a str, &'a str)> + Clone,
) -> Result<(), Diagnostic> {
    for (key, _) in annotations.clone() {
        check_annotation_key(key)?;
    }
    check_annotations_size(annotations)
}

/// An annotation key: the label key syntax, case aside.
pub fn check_annotation_key(key: &str) -> Result<(), Diagnostic> {
    // `ValidateAnnotations` checks the lowercased key: `Example.com/scrape` is valid.
    names::check_label_key(&key.to_lowercase())
        .map_err(|e| Diagnostic::new(e.message.replace("label key", "annotation key")))
}

/// Annotations' keys and values together hold at most 256 KiB.
pub fn check_annotations_size<'a>(
    annotations: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<(), Diagnostic> {
    let total: usize = annotations.into_iter().map(|(k, v)| k.len() + v.len()).sum();
    if total > MAX_ANNOTATIONS_BYTES {
        return Err(Diagnostic::new(format!(
            "annotations hold {total} bytes, over the API server's limit of {MAX_ANNOTATIONS_BYTES} (256 KiB)"
        )));
    }
    Ok(())
}

/// `ValidateTolerations`: operator `Exists` or `Equal` (or none, which is `Equal`); `Exists`
/// takes no value; a toleration without key must be `Exists`; an `Equal` value is a label
/// value; effect `NoSchedule`, `PreferNoSchedule` or `NoExecute`; `tolerationSeconds` only with
/// `NoExecute`.
pub fn check_toleration(toleration: &Value) -> Result<(), Diagnostic> {
    let (key, operator, value, effect) = (
        text(toleration, "key"),
        text(toleration, "operator"),
        text(toleration, "value"),
        text(toleration, "effect"),
    );
    if !key.is_empty() {
        names::check_label_key(key).map_err(|e| broken("key", e.message))?;
    }
    match operator {
        "" | "Equal" => {
            if key.is_empty() {
                return Err(broken("operator", "must be `Exists` when `key` is empty"));
            }
            names::check_label_value(value).map_err(|e| broken("value", e.message))?;
        }
        "Exists" if !value.is_empty() => {
            return Err(broken("value", "must be empty when `operator` is `Exists`"));
        }
        "Exists" => {}
        other => {
            return Err(broken("operator", format!("`{other}` is not `Exists` or `Equal`")));
        }
    }
    if !["", "NoSchedule", "PreferNoSchedule", "NoExecute"].contains(&effect) {
        return Err(broken(
            "effect",
            format!("`{effect}` is not `NoSchedule`, `PreferNoSchedule` or `NoExecute`"),
        ));
    }
    if toleration.get("tolerationSeconds").is_some_and(|s| !s.is_null()) && effect != "NoExecute" {
        return Err(broken("tolerationSeconds", "is only allowed with `effect: NoExecute`"));
    }
    Ok(())
}

/// `ValidateIngressSpec`'s host rule: a DNS subdomain (optionally `*.`-led), never an IP
/// address.
pub fn check_ingress_host(host: &str) -> Result<(), Diagnostic> {
    if host.parse::<IpAddr>().is_ok() {
        return Err(Diagnostic::new(format!(
            "`{host}` is an IP address; an Ingress host is a DNS name"
        )));
    }
    names::check_dns_subdomain(host.strip_prefix("*.").unwrap_or(host))
}

/// `validateHTTPIngressPath` for `Prefix` and `Exact` paths: absolute, without `//`, `/./`,
/// `/../`, `%2f` or `%2F`, not ending in `/..` or `/.`.
pub fn check_ingress_path(path: &str) -> Result<(), Diagnostic> {
    if !path.starts_with('/') {
        return Err(Diagnostic::new(format!("`{path}` must be an absolute path (start with `/`)")));
    }
    if let Some(bad) = ["//", "/./", "/../", "%2f", "%2F"].iter().find(|s| path.contains(**s)) {
        return Err(Diagnostic::new(format!("`{path}` must not contain `{bad}`")));
    }
    if let Some(bad) = ["/..", "/."].iter().find(|s| path.ends_with(**s)) {
        return Err(Diagnostic::new(format!("`{path}` must not end with `{bad}`")));
    }
    Ok(())
}

/// `ValidatePodSpec`'s rules for what a rendered pod holds: unique volume names, unique
/// container names across init and app containers, mounts of existing volumes at distinct
/// paths, port names, requests within limits, user and group ids in range, tolerations and
/// node selectors. `path` is where `pod` (a `PodSpec`) sits.
pub fn check_pod_spec(pod: &Value, path: &str) -> Result<(), Diagnostic> {
    let volumes = unique_names(items(pod, "volumes"), &join(path, "volumes"), "volume")?;
    let mut containers = BTreeSet::new();
    for list in ["initContainers", "containers"] {
        for (i, container) in items(pod, list).iter().enumerate() {
            let at = format!("{}[{i}]", join(path, list));
            let name = text(container, "name");
            if !containers.insert(name) {
                return Err(broken(
                    &join(&at, "name"),
                    format!("container name `{name}` is used twice"),
                ));
            }
            check_container(container, &at, &volumes)?;
        }
    }
    check_ids(pod.get("securityContext"), &join(path, "securityContext"), POD_IDS)?;
    for (i, toleration) in items(pod, "tolerations").iter().enumerate() {
        check_toleration(toleration)
            .map_err(|e| broken(&format!("{}[{i}]", join(path, "tolerations")), e.message))?;
    }
    for (key, value) in pod.get("nodeSelector").and_then(Value::as_object).into_iter().flatten() {
        names::check_label_key(key)
            .and_then(|()| names::check_label_value(value.as_str().unwrap_or_default()))
            .map_err(|e| broken(&join(path, "nodeSelector"), e.message))?;
    }
    Ok(())
}

/// Items' `name`s are distinct; returns them.
pub fn unique_names<'a>(
    items: &'a [Value],
    at: &str,
    what: &str,
) -> Result<BTreeSet<&'a str>, Diagnostic> {
    let mut seen = BTreeSet::new();
    for (i, item) in items.iter().enumerate() {
        let name = text(item, "name");
        // An unnamed item (a port) clashes with nothing; where a name is required, the typed
        // check has required it.
        if !name.is_empty() && !seen.insert(name) {
            return Err(broken(
                &format!("{at}[{i}].name"),
                format!("{what} name `{name}` is used twice"),
            ));
        }
    }
    Ok(seen)
}

fn check_container(
    container: &Value,
    at: &str,
    volumes: &BTreeSet<&str>,
) -> Result<(), Diagnostic> {
    let mut paths = BTreeSet::new();
    for (i, mount) in items(container, "volumeMounts").iter().enumerate() {
        let here = format!("{}[{i}]", join(at, "volumeMounts"));
        let name = text(mount, "name");
        if !volumes.contains(name) {
            return Err(broken(
                &join(&here, "name"),
                format!("mounts volume `{name}`, which the pod does not have"),
            ));
        }
        let mount_path = text(mount, "mountPath");
        if !paths.insert(mount_path) {
            return Err(broken(
                &join(&here, "mountPath"),
                format!("`{mount_path}` is mounted twice in this container"),
            ));
        }
    }
    unique_names(items(container, "ports"), &join(at, "ports"), "port")?;
    for (i, port) in items(container, "ports").iter().enumerate() {
        if let Some(name) = port.get("name").and_then(Value::as_str).filter(|n| !n.is_empty()) {
            check_port_name(name)
                .map_err(|e| broken(&format!("{}[{i}].name", join(at, "ports")), e.message))?;
        }
    }
    check_requests_within_limits(container.get("resources"), &join(at, "resources"))?;
    check_ids(container.get("securityContext"), &join(at, "securityContext"), CONTAINER_IDS)
}

/// `ValidateResourceRequirements`: a request may not exceed the limit of the same resource.
fn check_requests_within_limits(resources: Option<&Value>, at: &str) -> Result<(), Diagnostic> {
    let empty = Map::new();
    let map = |key| resources.and_then(|r| r.get(key)).and_then(Value::as_object).unwrap_or(&empty);
    let (requests, limits) = (map("requests"), map("limits"));
    for (resource, request) in requests {
        let Some(limit) = limits.get(resource) else { continue };
        let parse = |v: &Value| v.as_str().and_then(|t| Quantity::parse(t).ok());
        if let (Some(request_q), Some(limit_q)) = (parse(request), parse(limit))
            && request_q.to_f64() > limit_q.to_f64()
        {
            return Err(broken(
                &format!("{}.{resource}", join(at, "requests")),
                format!(
                    "request {} is more than the limit {}",
                    request.as_str().unwrap_or_default(),
                    limit.as_str().unwrap_or_default()
                ),
            ));
        }
    }
    Ok(())
}

/// The id fields of a `PodSecurityContext` and of a container's `SecurityContext`.
pub const POD_IDS: &[&str] = &["runAsUser", "runAsGroup", "fsGroup"];
pub const CONTAINER_IDS: &[&str] = &["runAsUser", "runAsGroup"];

/// User and group ids: 0 to 2³¹−1.
pub fn check_ids(context: Option<&Value>, at: &str, fields: &[&str]) -> Result<(), Diagnostic> {
    for field in fields {
        let Some(id) = context.and_then(|c| c.get(*field)).filter(|v| !v.is_null()) else {
            continue;
        };
        if !id.as_i64().is_some_and(|id| (0..=MAX_ID).contains(&id)) {
            return Err(broken(&join(at, field), format!("{id} is not an id from 0 to {MAX_ID}")));
        }
    }
    Ok(())
}

/// The rules of one rendered object that its kind can break, with paths from its root.
pub fn check_object(kind: &str, object: &Value) -> Result<(), Diagnostic> {
    let metadata = &object["metadata"];
    if let Some(annotations) = metadata.get("annotations").and_then(Value::as_object) {
        check_annotations(
            annotations.iter().map(|(k, v)| (k.as_str(), v.as_str().unwrap_or_default())),
        )
        .map_err(|e| broken("metadata.annotations", e.message))?;
    }
    match kind {
        "Job" | "Deployment" => {
            let template = &object["spec"]["template"];
            if let Some(annotations) =
                template["metadata"].get("annotations").and_then(Value::as_object)
            {
                check_annotations(
                    annotations.iter().map(|(k, v)| (k.as_str(), v.as_str().unwrap_or_default())),
                )
                .map_err(|e| broken("spec.template.metadata.annotations", e.message))?;
            }
            check_pod_spec(&template["spec"], "spec.template.spec")
        }
        "ConfigMap" => {
            let mut size = 0;
            for (key, value) in object.get("data").and_then(Value::as_object).into_iter().flatten()
            {
                check_config_map_key(key).map_err(|e| broken("data", e.message))?;
                size += value.as_str().map_or(0, str::len);
            }
            if size > MAX_CONFIG_MAP_BYTES {
                return Err(broken(
                    "data",
                    format!(
                        "holds {size} bytes, over the API server's limit of {MAX_CONFIG_MAP_BYTES} (1 MiB)"
                    ),
                ));
            }
            Ok(())
        }
        "Service" => {
            unique_names(items(&object["spec"], "ports"), "spec.ports", "port")?;
            for (i, port) in items(&object["spec"], "ports").iter().enumerate() {
                if let Some(name) =
                    port.get("name").and_then(Value::as_str).filter(|n| !n.is_empty())
                {
                    names::check_dns_label(name)
                        .map_err(|e| broken(&format!("spec.ports[{i}].name"), e.message))?;
                }
            }
            Ok(())
        }
        "Ingress" => {
            for (i, rule) in items(&object["spec"], "rules").iter().enumerate() {
                let at = format!("spec.rules[{i}]");
                if let Some(host) = rule.get("host").and_then(Value::as_str) {
                    check_ingress_host(host).map_err(|e| broken(&join(&at, "host"), e.message))?;
                }
                for (j, path) in items(&rule["http"], "paths").iter().enumerate() {
                    if matches!(text(path, "pathType"), "Prefix" | "Exact") {
                        check_ingress_path(text(path, "path")).map_err(|e| {
                            broken(&format!("{at}.http.paths[{j}].path"), e.message)
                        })?;
                    }
                }
            }
            Ok(())
        }
        "HorizontalPodAutoscaler" => check_autoscaler(&object["spec"]),
        _ => Ok(()),
    }
}

/// `validateHorizontalPodAutoscalerSpec` (`pkg/apis/autoscaling/validation`): `minReplicas` ≥ 1
/// (0 only behind the alpha `HPAScaleToZero` gate), `maxReplicas` ≥ 1 and ≥ `minReplicas`,
/// and a utilization target above 0.
fn check_autoscaler(spec: &Value) -> Result<(), Diagnostic> {
    let min = spec.get("minReplicas").and_then(Value::as_i64);
    if let Some(min) = min.filter(|min| *min < 1) {
        return Err(broken("spec.minReplicas", format!("must be ≥ 1 (got {min})")));
    }
    let max = spec.get("maxReplicas").and_then(Value::as_i64).unwrap_or_default();
    if max < min.unwrap_or(1) {
        let bound = min.map_or_else(|| "1".to_owned(), |min| format!("minReplicas ({min})"));
        return Err(broken("spec.maxReplicas", format!("must be ≥ {bound} (got {max})")));
    }
    for (i, metric) in items(spec, "metrics").iter().enumerate() {
        let Some(kind) = metric.get("type").and_then(Value::as_str) else { continue };
        let source = if kind == "ContainerResource" { "containerResource" } else { "resource" };
        let utilization =
            metric[source]["target"].get("averageUtilization").and_then(Value::as_i64);
        if let Some(utilization) = utilization.filter(|u| *u < 1) {
            return Err(broken(
                &format!("spec.metrics[{i}].{source}.target.averageUtilization"),
                format!("must be ≥ 1 (got {utilization})"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn refused(result: Result<(), Diagnostic>) -> String {
        result.expect_err("must be refused").message
    }

    #[test]
    fn port_names_are_iana_service_names() {
        for good in ["rpc", "ui", "metrics", "a-1", "abcdefghijklmno"] {
            assert!(check_port_name(good).is_ok(), "{good}");
        }
        for bad in ["", "abcdefghijklmnop", "Rpc", "123", "-a", "a-", "a--b", "a_b", "a.b"] {
            assert!(refused(check_port_name(bad)).contains("IANA service name"), "{bad}");
        }
    }

    #[test]
    fn what_kubernetes_accepts_is_accepted() {
        let pod =
            json!({"containers": [{"name": "c", "ports": [{"name": "", "containerPort": 80}]}]});
        assert!(check_pod_spec(&pod, "spec").is_ok());
        let service = json!({"metadata": {}, "spec": {"ports": [{"name": "", "port": 80}]}});
        assert!(check_object("Service", &service).is_ok());
        assert!(check_annotation_key("Example.com/scrape").is_ok());
    }

    #[test]
    fn config_map_keys() {
        for good in ["log4j-console.properties", "a", "a..b", ".hidden", "A_1"] {
            assert!(check_config_map_key(good).is_ok(), "{good}");
        }
        let long = "a".repeat(254);
        for bad in [".", "..", "..x", "", "a/b", "a b", long.as_str()] {
            assert!(refused(check_config_map_key(bad)).contains("ConfigMap key"), "{bad}");
        }
    }

    #[test]
    fn annotations_are_bounded_in_total() {
        let value = "v".repeat(MAX_ANNOTATIONS_BYTES);
        assert!(check_annotations([("a", &value[1..])]).is_ok());
        assert!(refused(check_annotations([("a", value.as_str())])).contains("256 KiB"));
        assert!(refused(check_annotations([("-a", "")])).contains("annotation key"));
    }

    #[test]
    fn tolerations_follow_the_api_servers_rules() {
        for good in [
            json!({"key": "k", "operator": "Equal", "value": "v", "effect": "NoSchedule"}),
            json!({"key": "k", "value": "v"}),
            json!({"operator": "Exists"}),
            json!({"key": "k", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 5}),
        ] {
            assert!(check_toleration(&good).is_ok(), "{good}");
        }
        for (bad, want) in [
            (json!({"key": "k", "operator": "Exists", "value": "v"}), "value: must be empty"),
            (json!({"value": "v"}), "operator: must be `Exists` when `key` is empty"),
            (json!({"key": "k", "operator": "In"}), "`In` is not `Exists` or `Equal`"),
            (json!({"key": "k", "effect": "NoRun"}), "`NoRun` is not"),
            (json!({"key": "k", "tolerationSeconds": 5}), "only allowed with `effect: NoExecute`"),
            (json!({"key": "k", "value": "not a label value!"}), "value:"),
            (json!({"key": "-k", "operator": "Exists"}), "key:"),
        ] {
            let message = refused(check_toleration(&bad));
            assert!(message.contains(want), "{bad}: {message}");
        }
    }

    #[test]
    fn ingress_hosts_are_dns_names_and_paths_are_clean() {
        for good in ["flink.example.com", "*.example.com", "a"] {
            assert!(check_ingress_host(good).is_ok(), "{good}");
        }
        for bad in ["10.0.0.1", "::1", "Flink.example.com", "a_b.example.com"] {
            assert!(check_ingress_host(bad).is_err(), "{bad}");
        }
        for good in ["/", "/flink", "/flink/", "/a.b", "/a/.well-known"] {
            assert!(check_ingress_path(good).is_ok(), "{good}");
        }
        for bad in
            ["flink", "//a", "/a//b", "/a/./b", "/a/../b", "/a%2fb", "/a%2Fb", "/a/..", "/a/."]
        {
            assert!(check_ingress_path(bad).is_err(), "{bad}");
        }
    }

    fn pod(containers: Value, volumes: Value) -> Value {
        Value::Object(Map::from_iter([
            ("containers".to_owned(), containers),
            ("volumes".to_owned(), volumes),
        ]))
    }

    #[test]
    fn pods_break_the_rules_the_api_server_enforces() {
        let c = |extra: Value| {
            let mut container = json!({"name": "flink", "image": "flink"});
            container.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
            container
        };
        let ok = pod(
            json!([c(json!({"volumeMounts": [{"name": "v", "mountPath": "/a"}]}))]),
            json!([{"name": "v"}]),
        );
        assert!(check_pod_spec(&ok, "spec").is_ok());
        for (bad, want) in [
            (
                pod(
                    json!([c(
                        json!({"ports": [{"name": "ui", "containerPort": 1}, {"name": "ui", "containerPort": 2}]})
                    )]),
                    json!([]),
                ),
                "spec.containers[0].ports[1].name: port name `ui` is used twice",
            ),
            (
                pod(json!([c(json!({}))]), json!([{"name": "v"}, {"name": "v"}])),
                "spec.volumes[1].name: volume name `v` is used twice",
            ),
            (
                json!({"initContainers": [c(json!({}))], "containers": [c(json!({}))]}),
                "spec.containers[0].name: container name `flink` is used twice",
            ),
            (
                pod(
                    json!([c(json!({"volumeMounts": [{"name": "w", "mountPath": "/a"}]}))]),
                    json!([{"name": "v"}]),
                ),
                "mounts volume `w`, which the pod does not have",
            ),
            (
                pod(
                    json!([c(
                        json!({"volumeMounts": [{"name": "v", "mountPath": "/a"}, {"name": "v", "mountPath": "/a"}]})
                    )]),
                    json!([{"name": "v"}]),
                ),
                "spec.containers[0].volumeMounts[1].mountPath: `/a` is mounted twice",
            ),
            (
                pod(
                    json!([c(
                        json!({"ports": [{"name": "web-ui-of-flink-1", "containerPort": 1}]})
                    )]),
                    json!([]),
                ),
                "spec.containers[0].ports[0].name: port name",
            ),
            (
                pod(
                    json!([c(
                        json!({"resources": {"requests": {"memory": "2Gi"}, "limits": {"memory": "1Gi"}}})
                    )]),
                    json!([]),
                ),
                "spec.containers[0].resources.requests.memory: request 2Gi is more than the limit 1Gi",
            ),
            (
                json!({"containers": [c(json!({}))], "securityContext": {"runAsUser": -1}}),
                "spec.securityContext.runAsUser: -1 is not an id",
            ),
            (
                json!({"containers": [c(json!({}))], "securityContext": {"fsGroup": 2_147_483_648_i64}}),
                "spec.securityContext.fsGroup",
            ),
            (
                pod(json!([c(json!({"securityContext": {"runAsGroup": -5}}))]), json!([])),
                "spec.containers[0].securityContext.runAsGroup",
            ),
            (
                json!({"containers": [c(json!({}))], "tolerations": [{"value": "v"}]}),
                "spec.tolerations[0]: operator",
            ),
            (
                json!({"containers": [c(json!({}))], "nodeSelector": {"a": "b c"}}),
                "spec.nodeSelector",
            ),
        ] {
            let message = refused(check_pod_spec(&bad, "spec"));
            assert!(message.contains(want), "{bad}: {message}");
        }
    }

    #[test]
    fn objects_are_checked_by_kind() {
        let config_map = |key: &str, value: &str| json!({"metadata": {}, "data": {key: value}});
        assert!(check_object("ConfigMap", &config_map("a.properties", "x")).is_ok());
        assert!(
            refused(check_object("ConfigMap", &config_map("..a", "x")))
                .contains("data: ConfigMap key")
        );
        let full = "x".repeat(MAX_CONFIG_MAP_BYTES);
        assert!(check_object("ConfigMap", &config_map("a", &full)).is_ok());
        let over = "x".repeat(MAX_CONFIG_MAP_BYTES + 1);
        assert!(refused(check_object("ConfigMap", &config_map("a", &over))).contains("1 MiB"));
        let ingress = json!({"metadata": {}, "spec": {"rules": [{"host": "10.1.1.1", "http": {"paths": [{"path": "/a", "pathType": "Prefix"}]}}]}});
        assert!(refused(check_object("Ingress", &ingress)).starts_with("spec.rules[0].host: "));
        let ingress = json!({"metadata": {}, "spec": {"rules": [{"http": {"paths": [{"path": "/a/..", "pathType": "Prefix"}]}}]}});
        assert!(
            refused(check_object("Ingress", &ingress))
                .starts_with("spec.rules[0].http.paths[0].path: ")
        );
        let hpa = |spec: serde_json::Value| json!({"metadata": {}, "spec": spec});
        let cpu = |u: i64| json!([{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": u}}}]);
        let kind = "HorizontalPodAutoscaler";
        assert!(check_object(kind, &hpa(json!({"maxReplicas": 1, "metrics": cpu(80)}))).is_ok());
        for (spec, want) in [
            (json!({"minReplicas": 0, "maxReplicas": 2}), "spec.minReplicas: must be ≥ 1 (got 0)"),
            (json!({"maxReplicas": 0}), "spec.maxReplicas: must be ≥ 1 (got 0)"),
            (
                json!({"minReplicas": 3, "maxReplicas": 2}),
                "spec.maxReplicas: must be ≥ minReplicas (3) (got 2)",
            ),
            (
                json!({"maxReplicas": 2, "metrics": cpu(0)}),
                "spec.metrics[0].resource.target.averageUtilization: must be ≥ 1 (got 0)",
            ),
        ] {
            assert_eq!(refused(check_object(kind, &hpa(spec.clone()))), want, "{spec}");
        }
        let service = json!({"metadata": {}, "spec": {"ports": [{"name": "Web", "port": 1}]}});
        assert!(refused(check_object("Service", &service)).starts_with("spec.ports[0].name: "));
        let annotated =
            json!({"metadata": {"annotations": {"a": "x".repeat(MAX_ANNOTATIONS_BYTES)}}});
        assert!(refused(check_object("Service", &annotated)).starts_with("metadata.annotations: "));
    }
}
