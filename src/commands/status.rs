//! `kubectl-flink status`: the cluster's objects and pods, its job, and its last checkpoint
//! and savepoint, from `kubectl get` and the JobManager's REST API. Exit 0 when the job is
//! RUNNING, 4 when it is not (or the JobManager does not answer), 5 when nothing is found.

use std::fmt::Write as _;
use std::io::Write;

use serde_json::{Value, json};

use super::Outcome;
use super::cluster::{self, Live, Session, Target, Unanswered, pod_ready};
use super::kubectl::Kubectl;
use crate::error::{Diagnostic, Error, ErrorKind};
use crate::flink::rest;

/// How `status` prints.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Format {
    #[default]
    Text,
    Json,
}

/// Runs `kubectl-flink status`.
pub fn run(
    options: &cluster::Options,
    format: Format,
    kubectl: &mut dyn Kubectl,
    progress: &mut dyn Write,
) -> Result<Outcome, Error> {
    let (mut session, target, live) = cluster::open(options, kubectl, progress)?;
    let report = report(&mut session, &target, &live)?;
    let stdout = match format {
        Format::Json => {
            let mut bytes = serde_json::to_vec_pretty(&report).unwrap_or_default();
            bytes.push(b'\n');
            bytes
        }
        Format::Text => text(&report).into_bytes(),
    };
    let state = report["job"]["state"].as_str().map(str::to_owned);
    let mut outcome = Outcome::stdout(stdout);
    if state.as_deref() != Some("RUNNING") {
        let why = match (&state, report["jobManager"]["answer"].as_str()) {
            (Some(state), _) => format!("the job of cluster `{}` is {state}", target.name),
            (None, Some(why)) if !why.is_empty() => {
                format!("the JobManager of cluster `{}` does not answer: {why}", target.name)
            }
            (None, _) => format!("cluster `{}` runs no job", target.name),
        };
        outcome.failure = Some(Error {
            kind: ErrorKind::NotRunning,
            diagnostics: vec![Diagnostic::new(format!("{why}, not RUNNING"))],
        });
    }
    Ok(outcome)
}

/// Everything `status` says, as the JSON it prints with `-o json`.
pub fn report(session: &mut Session, target: &Target, live: &Live) -> Result<Value, Error> {
    let objects: Vec<Value> = live
        .objects
        .iter()
        .filter(|o| o["kind"] != "Pod")
        .map(
            |o| json!({"kind": o["kind"], "name": o["metadata"]["name"], "state": object_state(o)}),
        )
        .collect();
    let pods: Vec<Value> = live
        .pods()
        .map(|p| {
            json!({
                "name": p["metadata"]["name"],
                "phase": if p["metadata"]["deletionTimestamp"].is_null() { p["status"]["phase"].clone() } else { json!("Terminating") },
                "ready": pod_ready(p),
                "restarts": p["status"]["containerStatuses"].as_array().into_iter().flatten()
                    .filter_map(|c| c["restartCount"].as_i64()).sum::<i64>(),
            })
        })
        .collect();
    let (ready, desired) = live.taskmanagers_ready();
    let ha = match (&target.spec, live.ha()) {
        (_, Some(ha)) => ha.as_str(),
        (Some(spec), None) => spec.cluster.spec.high_availability.as_ref().map_or("none", |h| {
            if h.ha_type == crate::spec::HaType::Kubernetes { "kubernetes" } else { "zookeeper" }
        }),
        (None, None) => "unknown",
    };
    let mut report = json!({
        "name": target.name,
        "namespace": target.namespace,
        "mode": match target.mode { crate::spec::Mode::Standalone => "standalone", crate::spec::Mode::Native => "native" },
        "ha": ha,
        "objects": objects,
        "pods": pods,
        "taskManagers": {"ready": ready, "desired": desired},
        "jobManager": {"answer": ""},
        "job": null,
        "checkpoint": null,
        "savepoint": null,
        "restored": null,
    });
    match session.current_job(target)? {
        Err(Unanswered(why)) => report["jobManager"]["answer"] = json!(why),
        Ok(None) => {}
        Ok(Some(job)) => {
            report["job"] = json!({
                "id": job.jid, "name": job.name, "state": job.state,
                "startTime": timestamp(job.start_time),
            });
            let path = format!("jobs/{}/checkpoints", job.jid);
            if let Ok(checkpoints) = session.rest_read::<rest::Checkpoints>(target, &path)? {
                let latest = checkpoints.latest;
                report["checkpoint"] = snapshot(latest.completed.as_ref());
                report["savepoint"] = snapshot(latest.savepoint.as_ref());
                report["restored"] = snapshot(latest.restored.as_ref());
            }
        }
    }
    Ok(report)
}

fn snapshot(snapshot: Option<&rest::Snapshot>) -> Value {
    snapshot.map_or(
        Value::Null,
        |s| json!({"id": s.id, "savepoint": s.is_savepoint, "path": s.external_path}),
    )
}

/// `1/1 ready`, `1 active`, …: one object's state in a few words.
fn object_state(object: &Value) -> String {
    let status = &object["status"];
    let count = |key: &str| status[key].as_i64().unwrap_or(0);
    match object["kind"].as_str().unwrap_or_default() {
        "Job" => match (count("active"), count("succeeded"), count("failed")) {
            (_, s, _) if s > 0 => "complete".to_owned(),
            (a, _, f) if f > 0 => format!("{a} active, {f} failed"),
            (a, _, _) => format!("{a} active"),
        },
        "Deployment" => format!(
            "{}/{} ready",
            count("readyReplicas"),
            object["spec"]["replicas"].as_i64().unwrap_or_else(|| count("replicas"))
        ),
        "HorizontalPodAutoscaler" => format!(
            "{} replicas ({}…{})",
            count("currentReplicas"),
            object["spec"]["minReplicas"].as_i64().unwrap_or(1),
            object["spec"]["maxReplicas"].as_i64().unwrap_or(0)
        ),
        _ => String::new(),
    }
}

/// The report as aligned lines.
fn text(report: &Value) -> String {
    // Names come from the cluster (a job's name is the user's): shown, never acted on.
    let s = |v: &Value| {
        let text = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
        crate::error::escape_for_terminal(&text).into_owned()
    };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "cluster       {} (namespace {}, {}, HA: {})",
        s(&report["name"]),
        s(&report["namespace"]),
        s(&report["mode"]),
        s(&report["ha"])
    );
    for object in report["objects"].as_array().into_iter().flatten() {
        let state = s(&object["state"]);
        let state = if state.is_empty() { String::new() } else { format!("  {state}") };
        let _ = writeln!(out, "object        {}/{}{state}", s(&object["kind"]), s(&object["name"]));
    }
    for pod in report["pods"].as_array().into_iter().flatten() {
        let ready = if pod["ready"] == true { "ready" } else { "not ready" };
        let _ = writeln!(
            out,
            "pod           {}  {}, {ready}, {} restarts",
            s(&pod["name"]),
            s(&pod["phase"]),
            pod["restarts"]
        );
    }
    let tm = &report["taskManagers"];
    let _ = writeln!(out, "taskmanagers  {}/{} ready", tm["ready"], tm["desired"]);
    match &report["job"] {
        Value::Null => {
            let why = s(&report["jobManager"]["answer"]);
            let why = if why.is_empty() {
                "none".to_owned()
            } else {
                format!("unknown (JobManager: {why})")
            };
            let _ = writeln!(out, "job           {why}");
        }
        job => {
            let _ = writeln!(
                out,
                "job           {} {} ({}), started {}",
                s(&job["id"]),
                s(&job["state"]),
                s(&job["name"]),
                s(&job["startTime"])
            );
        }
    }
    for (label, key) in
        [("checkpoint", "checkpoint"), ("savepoint", "savepoint"), ("restored", "restored")]
    {
        let value = &report[key];
        if !value.is_null() {
            let _ = writeln!(out, "{label:<14}{} {}", value["id"], s(&value["path"]));
        }
    }
    out
}

/// Milliseconds since the epoch as `YYYY-MM-DDThh:mm:ssZ`.
pub fn timestamp(millis: i64) -> String {
    let secs = millis.div_euclid(1000);
    let (days, day_secs) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's days-to-civil.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        day_secs / 3600,
        day_secs / 60 % 60,
        day_secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::kubectl::Scripted;
    use crate::commands::testing::{SPEC, deployment_spec, live, options};

    fn status(state: Option<&str>, objects: &Value) -> (Result<Outcome, Error>, Vec<String>) {
        let mut kubectl = Scripted {
            calls: Vec::new(),
            answer: |call: &str, _: &str| {
                if call.starts_with("get jobs.batch,") {
                    return Ok(objects.to_string());
                }
                match (call.split(' ').nth(2).unwrap_or_default().rsplit("/proxy/").next(), state) {
                    (Some("jobs/overview"), Some(state)) => Ok(json!({"jobs": [
                        {"jid": "old", "name": "orders", "state": "FINISHED", "start-time": 5},
                        {"jid": "j1", "name": "orders", "state": state, "start-time": 1_733_270_400_000_i64}]}).to_string()),
                    (Some("jobs/j1/checkpoints"), _) => Ok(json!({"latest": {
                        "completed": {"id": 9, "is_savepoint": false, "external_path": "s3://b/chk-9"},
                        "savepoint": {"id": 4, "is_savepoint": true, "external_path": "s3://b/sp-4"},
                        "restored": null}}).to_string()),
                    _ => Err("Error from server (ServiceUnavailable): the server is currently unable to handle the request".to_owned()),
                }
            },
        };
        let mut progress = Vec::new();
        let result = run(&options(SPEC, &[]), Format::Json, &mut kubectl, &mut progress);
        (result, kubectl.calls)
    }

    #[test]
    fn a_running_job_is_exit_0_with_objects_job_and_snapshots() {
        let (result, calls) = status(Some("RUNNING"), &live(SPEC, &[]));
        let outcome = result.unwrap();
        assert!(outcome.failure.is_none());
        let report: Value = serde_json::from_slice(&outcome.stdout).unwrap();
        assert_eq!(report["ha"], "kubernetes");
        assert_eq!(
            report["job"],
            json!({"id": "j1", "name": "orders", "state": "RUNNING", "startTime": "2024-12-04T00:00:00Z"})
        );
        assert_eq!(
            report["checkpoint"],
            json!({"id": 9, "savepoint": false, "path": "s3://b/chk-9"})
        );
        assert_eq!(report["savepoint"]["path"], "s3://b/sp-4");
        assert_eq!(report["taskManagers"], json!({"ready": 1, "desired": 1}));
        assert!(
            report["objects"]
                .as_array()
                .unwrap()
                .iter()
                .any(|o| o["kind"] == "Job" && o["state"] == "1 active")
        );
        assert!(calls[1].starts_with("get --raw /api/v1/namespaces/streaming/services/http:orders-jobmanager-rest:rest/proxy/jobs/overview --namespace streaming"), "{calls:#?}");
    }

    #[test]
    fn a_deployment_job_manager_is_shown_with_its_ready_pods() {
        let (result, _) = status(Some("RUNNING"), &live(&deployment_spec(), &[]));
        let outcome = result.unwrap();
        assert!(outcome.failure.is_none());
        let report: Value = serde_json::from_slice(&outcome.stdout).unwrap();
        assert_eq!(report["ha"], "kubernetes", "read from the Deployment's options");
        let objects = report["objects"].as_array().unwrap();
        assert!(!objects.iter().any(|o| o["kind"] == "Job"), "{objects:?}");
        assert!(
            objects.iter().any(|o| o["kind"] == "Deployment"
                && o["name"] == "orders-jobmanager"
                && o["state"] == "1/1 ready"),
            "{objects:?}"
        );
        let shown = text(&report);
        assert!(
            shown.contains("object        Deployment/orders-jobmanager  1/1 ready\n"),
            "{shown}"
        );
    }

    #[test]
    fn a_job_that_is_not_running_or_a_silent_job_manager_is_exit_4() {
        for state in [Some("RESTARTING"), None] {
            let (result, _) = status(state, &live(SPEC, &[]));
            let outcome = result.unwrap();
            let failure = outcome.failure.expect("exit 4");
            assert_eq!(failure.exit_code(), 4);
            assert!(!outcome.stdout.is_empty(), "the report is still printed");
            let text = failure.to_string();
            assert!(text.contains(state.unwrap_or("does not answer: Error from server")), "{text}");
        }
    }

    #[test]
    fn a_refused_service_proxy_is_exit_1_not_a_job_state() {
        let mut kubectl = Scripted {
            calls: Vec::new(),
            answer: |call: &str, _: &str| {
                if call.starts_with("get jobs.batch,") {
                    return Ok(live(SPEC, &[]).to_string());
                }
                Err("Error from server (Forbidden): services \"orders-jobmanager-rest\" is forbidden: User \"u\" cannot get resource \"services/proxy\"".to_owned())
            },
        };
        let err =
            run(&options(SPEC, &[]), Format::Text, &mut kubectl, &mut Vec::new()).unwrap_err();
        assert_eq!(err.exit_code(), 1);
        assert!(err.to_string().contains("`get` and `create` on `services/proxy`"), "{err}");
    }

    #[test]
    fn no_object_of_the_cluster_is_exit_5() {
        let (result, _) = status(None, &json!({"items": []}));
        let err = result.unwrap_err();
        assert_eq!(err.exit_code(), 5);
        assert!(
            err.to_string().contains("no object of cluster `orders` in namespace streaming"),
            "{err}"
        );
    }

    #[test]
    fn text_shows_one_line_per_fact() {
        let (result, _) = status(Some("RUNNING"), &live(SPEC, &[]));
        let report: Value = serde_json::from_slice(&result.unwrap().stdout).unwrap();
        let shown = text(&report);
        assert!(
            shown.starts_with(
                "cluster       orders (namespace streaming, standalone, HA: kubernetes)\n"
            ),
            "{shown}"
        );
        assert!(
            shown.contains("job           j1 RUNNING (orders), started 2024-12-04T00:00:00Z\n"),
            "{shown}"
        );
        assert!(
            shown.contains("checkpoint    9 s3://b/chk-9\n")
                && shown.contains("taskmanagers  1/1 ready\n"),
            "{shown}"
        );
    }

    #[test]
    fn timestamps_are_utc_civil_time() {
        assert_eq!(timestamp(0), "1970-01-01T00:00:00Z");
        assert_eq!(timestamp(1_733_270_400_000), "2024-12-04T00:00:00Z");
        assert_eq!(timestamp(951_782_400_000 + 3_661_000), "2000-02-29T01:01:01Z");
    }
}
