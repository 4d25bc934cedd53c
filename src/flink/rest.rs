//! The parts of the JobManager's REST API the lifecycle commands read and write, as Flink
//! 1.13 … 2.3 answer them (`flink-runtime/src/main/java/org/apache/flink/runtime/rest/messages`).
//! Responses carry many more fields; only these are read, and a field a version leaves out
//! is `None`.

use serde::Deserialize;
use serde_json::{Value, json};

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
}

impl JobDetail {
    /// The highest parallelism of any vertex: what `parallelism.default` or reactive mode
    /// gave the job.
    pub fn parallelism(&self) -> Option<i64> {
        self.vertices.iter().map(|v| v.parallelism).max()
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
