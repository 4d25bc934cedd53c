//! The parts of the JobManager's REST API the lifecycle commands read and write, as Flink
//! 1.13 … 2.3 answer them (`flink-runtime/src/main/java/org/apache/flink/runtime/rest/messages`).
//! Responses carry many more fields; only these are read, and a field a version leaves out
//! is `None`.

use serde::Deserialize;

use super::version::{FlinkVersion, v};
use serde_json::{Value, json};

/// The versions whose REST answers the lifecycle commands are tested against (recorded
/// responses, and the real-Flink lifecycle scenarios). Every supported version has the
/// endpoints they use (`/jobs/:jobid/stop` came in 1.9).
pub const PROVEN: [FlinkVersion; 2] = [v(1, 20), v(2, 3)];

/// `GET /jobs/overview`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct JobsOverview {
    #[serde(default)]
    pub jobs: Vec<JobOverview>,
}

/// One job of `GET /jobs/overview`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct JobOverview {
    pub jid: String,
    #[serde(default)]
    pub name: String,
    pub state: String,
    /// Milliseconds since the epoch.
    #[serde(rename = "start-time", default)]
    pub start_time: i64,
}

impl JobOverview {
    /// RUNNING: every task is deployed and running (Flink's `JobStatus.RUNNING`).
    pub fn is_running(&self) -> bool {
        self.state == "RUNNING"
    }

    /// FINISHED, CANCELED, FAILED: the job will not run again (`JobStatus.isGloballyTerminalState`).
    pub fn is_terminal(&self) -> bool {
        matches!(self.state.as_str(), "FINISHED" | "CANCELED" | "FAILED")
    }
}

impl JobsOverview {
    /// The job of a job cluster: the one that has not ended, else the one that started last.
    pub fn current(&self) -> Option<&JobOverview> {
        self.jobs
            .iter()
            .filter(|job| !job.is_terminal())
            .max_by_key(|job| job.start_time)
            .or_else(|| self.jobs.iter().max_by_key(|job| job.start_time))
    }
}

/// `GET /jobs/:jobid`: the job's vertices and their parallelism.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct JobDetail {
    #[serde(default)]
    pub vertices: Vec<Vertex>,
}

/// One vertex of a job graph.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Vertex {
    pub parallelism: i64,
    /// Reported from Flink 1.17 on.
    #[serde(rename = "maxParallelism")]
    pub max_parallelism: Option<i64>,
}

impl JobDetail {
    /// The highest parallelism of any vertex: what `parallelism.default` or reactive mode
    /// gave the job.
    pub fn parallelism(&self) -> Option<i64> {
        self.vertices.iter().map(|v| v.parallelism).max()
    }

    /// The lowest max parallelism of any vertex: more than that no vertex runs at.
    pub fn max_parallelism(&self) -> Option<i64> {
        self.vertices.iter().filter_map(|v| v.max_parallelism).min()
    }
}

/// `GET /jobs/:jobid/checkpoints`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Checkpoints {
    #[serde(default)]
    pub latest: Latest,
}

/// The `latest` part of the checkpoint statistics.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Latest {
    /// The latest completed checkpoint or savepoint.
    pub completed: Option<Snapshot>,
    pub savepoint: Option<Snapshot>,
    /// What the job was restored from when it started, if anything.
    pub restored: Option<Snapshot>,
}

/// A completed checkpoint, savepoint, or the one a job restored from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
pub struct Snapshot {
    pub id: u64,
    #[serde(default)]
    pub is_savepoint: bool,
    /// Where it is stored (`file:/…`, `s3://…`).
    pub external_path: Option<String>,
}

/// The answer to a trigger (`POST /jobs/:jobid/savepoints`, `/stop`): the request's id.
#[derive(Debug, Clone, Deserialize)]
pub struct Triggered {
    #[serde(rename = "request-id")]
    pub request_id: String,
}

/// `GET /jobs/:jobid/savepoints/:triggerid`.
#[derive(Debug, Clone, Deserialize)]
pub struct SavepointStatus {
    pub status: Status,
    pub operation: Option<Operation>,
}

/// `IN_PROGRESS` or `COMPLETED`.
#[derive(Debug, Clone, Deserialize)]
pub struct Status {
    pub id: String,
}

/// How a completed savepoint operation ended: a location, or why not.
#[derive(Debug, Clone, Deserialize)]
pub struct Operation {
    pub location: Option<String>,
    #[serde(rename = "failure-cause")]
    pub failure_cause: Option<Value>,
}

/// What a savepoint operation came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SavepointOutcome {
    InProgress,
    Completed(String),
    Failed(String),
}

impl SavepointStatus {
    pub fn outcome(&self) -> SavepointOutcome {
        if self.status.id != "COMPLETED" {
            return SavepointOutcome::InProgress;
        }
        let operation = self.operation.as_ref();
        match (operation.and_then(|o| o.location.clone()), operation) {
            (Some(location), _) => SavepointOutcome::Completed(location),
            (None, Some(Operation { failure_cause: Some(cause), .. })) => {
                SavepointOutcome::Failed(failure_text(cause))
            }
            (None, _) => SavepointOutcome::Failed("Flink reported no location".to_owned()),
        }
    }
}

/// The first lines of a serialized throwable: its class and message, and the innermost cause.
fn failure_text(cause: &Value) -> String {
    let trace = cause["stack-trace"].as_str().unwrap_or_default();
    let mut lines = trace.lines().filter(|l| !l.trim_start().starts_with("at ")).map(str::trim);
    let first = lines.next().unwrap_or_else(|| cause["class"].as_str().unwrap_or("unknown"));
    match lines.rfind(|l| l.starts_with("Caused by:")) {
        Some(root) if root != first => format!("{first} ({root})"),
        _ => first.to_owned(),
    }
}

/// `GET /taskmanagers`: the TaskManagers registered with the JobManager.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TaskManagers {
    #[serde(default)]
    pub taskmanagers: Vec<Value>,
}

/// The body of `POST /jobs/:jobid/savepoints`: a savepoint, the job keeps running.
pub fn savepoint_request(target_directory: Option<&str>) -> Value {
    let mut body = json!({"cancel-job": false});
    if let Some(dir) = target_directory {
        body["target-directory"] = json!(dir);
    }
    body
}

/// The body of `POST /jobs/:jobid/stop`: stop-with-savepoint, without draining (the job can
/// resume from it as if it had not stopped).
pub fn stop_request(target_directory: Option<&str>) -> Value {
    let mut body = json!({"drain": false});
    if let Some(dir) = target_directory {
        body["targetDirectory"] = json!(dir);
    }
    body
}

/// Reads a REST answer into `T`.
pub fn parse<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T, String> {
    serde_json::from_slice(body).map_err(|err| {
        let text = String::from_utf8_lossy(body);
        let shown: String = text.chars().take(200).collect();
        format!("unexpected answer ({err}): {shown}")
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// What the REST API answered the lifecycle commands in the real-Flink scenarios
    /// (`LIFECYCLE_RECORD=DIR tests/lifecycle/scenarios.py`), a line per answer.
    const RECORDED: [(&str, &str); 2] = [
        ("2.3.0", include_str!("../../tests/fixtures/rest/2.3.0.jsonl")),
        ("1.20.5", include_str!("../../tests/fixtures/rest/1.20.5.jsonl")),
    ];

    /// Reads one recorded answer with the reader the commands use; says what it showed.
    fn read(method: &str, template: &str, body: &[u8]) -> Vec<String> {
        match (method, template) {
            ("GET", "/jobs/overview") => {
                let overview: JobsOverview = parse(body).unwrap();
                overview.current().map(|job| format!("job {}", job.state)).into_iter().collect()
            }
            ("GET", "/jobs/:jobid") => {
                let detail: JobDetail = parse(body).unwrap();
                vec![format!("parallelism {}", detail.parallelism().unwrap())]
            }
            ("GET", "/jobs/:jobid/checkpoints") => {
                let latest = parse::<Checkpoints>(body).unwrap().latest;
                let mut shown = Vec::new();
                if let Some(restored) = latest.restored {
                    let kind = if restored.is_savepoint { "savepoint" } else { "checkpoint" };
                    assert!(restored.external_path.is_some_and(|p| p.starts_with("file:/")));
                    shown.push(format!("restored {kind}"));
                }
                if let Some(completed) = latest.completed {
                    assert!(
                        completed
                            .external_path
                            .is_some_and(|p| p.contains("/chk-") || p.contains("/savepoint-"))
                    );
                    shown.push("completed".to_owned());
                }
                shown
            }
            ("POST", "/jobs/:jobid/savepoints" | "/jobs/:jobid/stop") => {
                assert!(!parse::<Triggered>(body).unwrap().request_id.is_empty());
                vec!["triggered".to_owned()]
            }
            ("GET", "/jobs/:jobid/savepoints/:triggerid") => {
                match parse::<SavepointStatus>(body).unwrap().outcome() {
                    SavepointOutcome::InProgress => vec!["savepoint in progress".to_owned()],
                    SavepointOutcome::Completed(at) => {
                        assert!(at.starts_with("file:/") && at.contains("/savepoint-"), "{at}");
                        vec!["savepoint completed".to_owned()]
                    }
                    SavepointOutcome::Failed(why) => {
                        assert!(why.contains("Failed to create savepoint directory"), "{why}");
                        vec!["savepoint failed".to_owned()]
                    }
                }
            }
            ("GET", "/taskmanagers") => {
                let n = parse::<TaskManagers>(body).unwrap().taskmanagers.len();
                vec![format!("{n} taskmanagers")]
            }
            other => panic!("no reader for {other:?}"),
        }
    }

    // A savepoint here completes before the first poll: `IN_PROGRESS` is in no recording (the
    // scripted unit tests of `savepoint` and `upgrade` poll through it).
    #[test]
    fn every_recorded_answer_of_each_version_reads_into_its_type() {
        for (version, lines) in RECORDED {
            let mut seen = BTreeSet::new();
            for line in lines.lines() {
                let record: Value = serde_json::from_str(line).unwrap();
                // kubectl prints no error body (client-go drops non-text ones): nothing to read.
                if !(200..300).contains(&record["status"].as_i64().unwrap()) {
                    continue;
                }
                let (method, template) =
                    (record["method"].as_str().unwrap(), record["template"].as_str().unwrap());
                seen.extend(read(method, template, record["body"].as_str().unwrap().as_bytes()));
            }
            for want in [
                "job RUNNING",
                "parallelism 2",
                "restored savepoint",
                "restored checkpoint",
                "completed",
                "triggered",
                "savepoint completed",
                "savepoint failed",
                "2 taskmanagers",
            ] {
                assert!(
                    seen.contains(want),
                    "{version}: no recorded answer shows `{want}`: {seen:?}"
                );
            }
        }
    }

    #[test]
    fn a_failure_is_its_exception_and_root_cause() {
        let cause = json!({"class": "x", "stack-trace": "java.util.concurrent.CompletionException: a\n\tat x.y(Z.java:1)\nCaused by: b.C: middle\n\tat q\nCaused by: java.io.IOException: root"});
        assert_eq!(
            failure_text(&cause),
            "java.util.concurrent.CompletionException: a (Caused by: java.io.IOException: root)"
        );
        assert_eq!(failure_text(&json!({"class": "only.Class"})), "only.Class");
    }
}
