//! Reactive mode (`flinkConfiguration: {scheduler-mode: reactive}`, Flink's FLIP-159) and the
//! TaskManagers' `HorizontalPodAutoscaler` (`taskManager.autoscaling`), which is only useful with
//! it: reactive mode rescales the job to the TaskManagers there are, so adding pods speeds the
//! job up; without it the job keeps its parallelism and added TaskManagers sit idle.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::error::{Diagnostic, key, path};
use crate::flink::version::FlinkVersion;
use crate::k8s::pod;
use crate::spec::{Autoscaling, ClusterSpec, ConfigValue, FlinkCluster, Mode};
use crate::yaml::PathSegment;

/// Flink's `JobManagerOptions.SCHEDULER_MODE`.
pub const SCHEDULER_MODE: &str = "scheduler-mode";

const REACTIVE_HELP: &str = "reactive mode needs a standalone FlinkJobCluster on Flink 1.13 or \
                             newer: use one, or remove `scheduler-mode`";

/// Whether a `scheduler-mode` value asks for reactive mode. Flink reads the option as its enum
/// `SchedulerExecutionMode`, whose one constant `REACTIVE` it matches ignoring case
/// (`ConfigurationUtils.convertToEnum`), after trimming the value as its configuration file
/// parsers do.
pub fn is_reactive(value: &str) -> bool {
    value.trim().eq_ignore_ascii_case("reactive")
}

/// Whether the spec asks for reactive mode (allowed or not), read before its configuration is
/// flattened: a nested map never spells the hyphenated key.
pub fn requested(spec: &ClusterSpec) -> bool {
    matches!(spec.flink_configuration.get(SCHEDULER_MODE), Some(ConfigValue::Text(v)) if is_reactive(v))
}

/// Checks `scheduler-mode` and `taskManager.autoscaling`.
pub fn validate(
    cluster: &FlinkCluster,
    version: FlinkVersion,
    flink_configuration: &BTreeMap<String, String>,
    problems: &mut Vec<Diagnostic>,
) {
    let reactive = check_scheduler_mode(cluster, version, flink_configuration, problems);
    if let Some(autoscaling) = &cluster.spec.task_manager.autoscaling {
        check_autoscaling(&cluster.spec, autoscaling, reactive, problems);
    }
}

/// Whether the spec runs in reactive mode, refusing `scheduler-mode` where Flink would not
/// start with it (or would ignore it).
fn check_scheduler_mode(
    cluster: &FlinkCluster,
    version: FlinkVersion,
    flink_configuration: &BTreeMap<String, String>,
    problems: &mut Vec<Diagnostic>,
) -> bool {
    let spec = &cluster.spec;
    let at = || vec![key("spec"), key("flinkConfiguration"), key(SCHEDULER_MODE)];
    match flink_configuration.get(SCHEDULER_MODE) {
        None => false,
        Some(value) if !is_reactive(value) => {
            problems.push(
                Diagnostic::field(
                    at(),
                    format!("`{SCHEDULER_MODE}` takes only `reactive` (got `{value}`)"),
                )
                .with_help(format!(
                    "set `{SCHEDULER_MODE}: reactive`, or remove it for Flink's default scheduler"
                )),
            );
            false
        }
        Some(_) => {
            let refusal = if cluster.is_session() {
                Some("a FlinkSessionCluster's JobManager (Flink's session entrypoint) refuses to start in reactive mode: only a standalone application cluster (`standalone-job`) runs it".to_owned())
            } else if spec.mode == Some(Mode::Native) {
                Some("native mode's JobManager (Flink's Kubernetes application entrypoint) refuses to start in reactive mode: only a standalone application cluster (`standalone-job`) runs it".to_owned())
            } else if !version.has_reactive_mode() {
                Some(format!(
                    "Flink {version} has no reactive mode (it came with Flink 1.13) and would ignore `{SCHEDULER_MODE}`"
                ))
            } else {
                None
            };
            if let Some(message) = &refusal {
                problems.push(Diagnostic::field(at(), message).with_help(REACTIVE_HELP));
            }
            refusal.is_none()
        }
    }
}

/// The autoscaler's bounds, the reactive mode it needs, and the CPU requests it measures
/// against.
fn check_autoscaling(
    spec: &ClusterSpec,
    autoscaling: &Autoscaling,
    reactive: bool,
    problems: &mut Vec<Diagnostic>,
) {
    let at = |field: &str| {
        let mut at = path(&["spec", "taskManager", "autoscaling"]);
        if !field.is_empty() {
            at.push(key(field));
        }
        at
    };
    // A refused `scheduler-mode: reactive` has its own message.
    if !reactive && !requested(spec) {
        problems.push(
            Diagnostic::field(
                at(""),
                "a HorizontalPodAutoscaler needs Flink's reactive mode: without it the job \
                 keeps its parallelism and TaskManagers added by the autoscaler sit idle",
            )
            .with_help(
                "set `scheduler-mode: reactive` in spec.flinkConfiguration (a standalone \
                 FlinkJobCluster on Flink 1.13 or newer), or remove `autoscaling`",
            ),
        );
    }
    super::check_range(
        autoscaling.min_replicas,
        1,
        10_000,
        &["spec", "taskManager", "autoscaling", "minReplicas"],
        problems,
    );
    super::check_range(
        Some(autoscaling.max_replicas),
        1,
        10_000,
        &["spec", "taskManager", "autoscaling", "maxReplicas"],
        problems,
    );
    if autoscaling.max_replicas < autoscaling.min() && autoscaling.max_replicas >= 1 {
        problems.push(
            Diagnostic::field(
                at("maxReplicas"),
                format!(
                    "must be ≥ minReplicas ({}) (got {})",
                    autoscaling.min(),
                    autoscaling.max_replicas
                ),
            )
            .with_help("raise `maxReplicas` or lower `minReplicas`"),
        );
    }
    // Requests equal limits (Guaranteed QoS), so use never exceeds 100 % of the request:
    // a higher target would never scale up.
    super::check_range(
        autoscaling.target_cpu_utilization_percentage,
        1,
        100,
        &["spec", "taskManager", "autoscaling", "targetCPUUtilizationPercentage"],
        problems,
    );
    if let Some(replicas) = spec.task_manager.replicas {
        problems.push(
            Diagnostic::field(
                path(&["spec", "taskManager", "replicas"]),
                format!(
                    "`replicas: {replicas}` and `autoscaling` both set the TaskManager \
                     count: the HorizontalPodAutoscaler owns it, and a Deployment that set \
                     replicas would reset it on every `kubectl apply`, rescaling the job \
                     each time"
                ),
            )
            .with_help("remove `replicas`; `autoscaling.minReplicas` is the starting count"),
        );
    }
    check_cpu_requests(spec, &at(""), problems);
}

/// A CPU utilization is use over request, summed over the pod's containers: the autoscaler
/// needs a CPU request on every container of the TaskManager pod, the Flink container's from
/// `taskManager.resources.cpu` (or a pod template), each sidecar's from its pod template.
fn check_cpu_requests(spec: &ClusterSpec, at: &[PathSegment], problems: &mut Vec<Diagnostic>) {
    let template = pod::combine(
        spec.task_manager.pod_template.as_ref(),
        spec.pod_template.as_ref(),
        "taskmanager",
    );
    let containers: Vec<&Value> = template
        .as_ref()
        .and_then(|t| t["spec"]["containers"].as_array())
        .into_iter()
        .flatten()
        .filter(|c| c["name"] != "jobmanager")
        .collect();
    // Kubernetes defaults a request to its limit.
    let has_cpu =
        |c: &Value| ["requests", "limits"].iter().any(|k| !c["resources"][k]["cpu"].is_null());
    let resources = spec.task_manager.resources.as_ref().is_some_and(|r| r.cpu.is_some());
    if !resources && !containers.iter().any(|c| c["name"] == "taskmanager" && has_cpu(c)) {
        problems.push(
            Diagnostic::field(
                at.to_vec(),
                "a CPU utilization target needs a CPU request: set `spec.taskManager.resources.cpu`",
            )
            .with_help("add `resources: {cpu: \"1\"}` under spec.taskManager; the autoscaler measures use against it"),
        );
    }
    for sidecar in containers.iter().filter(|c| c["name"] != "taskmanager" && !has_cpu(c)) {
        let name = sidecar["name"].as_str().unwrap_or_default();
        problems.push(
            Diagnostic::field(
                at.to_vec(),
                format!(
                    "container `{name}` of the TaskManager pod has no CPU request, and the \
                     autoscaler measures CPU against the requests of every container"
                ),
            )
            .with_help(format!("give `{name}` a `resources.requests.cpu` in its pod template")),
        );
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use crate::validate::{Policy, Valid, validate};

    fn spec(kind: &str, spec: &Value) -> Value {
        json!({
            "apiVersion": "kubectl-flink/v1alpha1",
            "kind": kind,
            "metadata": {"name": "clicks"},
            "spec": spec,
        })
    }

    fn check(document: Value) -> Result<Valid, Vec<String>> {
        let cluster = crate::spec::deserialize(document).expect("reads");
        validate(cluster, Policy::default())
            .map_err(|problems| problems.into_iter().map(|p| p.message).collect())
    }

    #[test]
    fn reactive_mode_is_read_as_flink_reads_it() {
        for version in ["1.13", "1.20", "2.3"] {
            for value in ["reactive", "REACTIVE", "Reactive"] {
                let document = spec(
                    "FlinkJobCluster",
                    &json!({"image": "flink", "flinkVersion": version,
                           "flinkConfiguration": {"scheduler-mode": value}}),
                );
                assert!(check(document).is_ok(), "{version} {value}");
            }
        }
        let nested = spec(
            "FlinkJobCluster",
            &json!({"image": "flink", "flinkConfiguration": {"scheduler": {"mode": "reactive"}},
                   "taskManager": {"resources": {"cpu": "1"}, "autoscaling": {"maxReplicas": 2}}}),
        );
        let problems = check(nested).unwrap_err();
        assert!(problems[0].contains("needs Flink's reactive mode"), "{problems:?}");
    }

    #[test]
    fn parallelism_is_ignored_in_reactive_mode() {
        let document = spec(
            "FlinkJobCluster",
            &json!({"image": "flink", "job": {"parallelism": 8},
                   "flinkConfiguration": {"scheduler-mode": "reactive"}}),
        );
        let warnings = check(document).unwrap().warnings;
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("ignored in reactive mode"), "{warnings:?}");
    }

    #[test]
    fn a_cpu_request_may_come_from_a_pod_template() {
        let reactive = json!({"scheduler-mode": "reactive"});
        let with_template = |template: Value| {
            spec(
                "FlinkJobCluster",
                &json!({"image": "flink", "flinkConfiguration": reactive,
                       "podTemplate": template,
                       "taskManager": {"autoscaling": {"maxReplicas": 4}}}),
            )
        };
        let container = |name: &str, resources: Value| json!({"spec": {"containers": [{"name": name, "resources": resources}]}});
        // A limit alone: Kubernetes defaults the request to it.
        for resources in [json!({"requests": {"cpu": "1"}}), json!({"limits": {"cpu": "1"}})] {
            assert!(check(with_template(container("taskmanager", resources))).is_ok());
        }
        // The JobManager's container is not in the TaskManager pod.
        let problems =
            check(with_template(container("jobmanager", json!({"requests": {"cpu": "1"}}))))
                .unwrap_err();
        assert!(problems[0].contains("needs a CPU request"), "{problems:?}");
    }
}
