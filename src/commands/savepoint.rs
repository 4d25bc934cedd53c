//! `kubectl-flink savepoint`: triggers a savepoint of the cluster's running job, waits until
//! Flink reports it complete, and prints its path on stdout (nothing else goes there, so
//! `SAVEPOINT=$(kubectl flink savepoint …)` works).

use std::io::Write;

use super::Outcome;
use super::cluster::{self, Look, Session, Target, Unanswered};
use super::kubectl::{Kubectl, failed};
use crate::error::Error;
use crate::flink::rest::{self, SavepointOutcome};

/// What `savepoint` was asked for.
#[derive(Debug, Default)]
pub struct Options {
    pub cluster: cluster::Options,
    /// `--dir`: where to write it (else the spec's `savepointDir`, else Flink's configured one).
    pub dir: Option<String>,
}

/// Runs `kubectl-flink savepoint`.
pub fn run(
    options: &Options,
    kubectl: &mut dyn Kubectl,
    progress: &mut dyn Write,
) -> Result<Outcome, Error> {
    let (mut session, target, _) = cluster::open(&options.cluster, kubectl, progress)?;
    let job = running_job(&mut session, &target)?;
    let dir = options.dir.clone().or_else(|| savepoint_dir(&target));
    let path = take(&mut session, &target, &job, Trigger::Savepoint, dir.as_deref())
        .map_err(|err| err.into_error("the job keeps running"))?;
    session.say(&format!("savepoint of job {job} completed: {path}"));
    Ok(Outcome::stdout(format!("{path}\n")))
}

/// The spec's `savepointDir`, when the cluster was given by its spec.
pub fn savepoint_dir(target: &Target) -> Option<String> {
    target.spec.as_ref().and_then(|s| s.cluster.spec.savepoint_dir.clone())
}

/// The id of the cluster's job, which must be RUNNING.
pub fn running_job(session: &mut Session, target: &Target) -> Result<String, Error> {
    match session.current_job(target)? {
        Ok(Some(job)) if job.is_running() => Ok(job.jid),
        Ok(Some(job)) => Err(failed(
            format!(
                "the job {} of cluster `{}` is {}, not RUNNING; nothing was changed",
                job.jid, target.name, job.state
            ),
            "wait until it runs (`kubectl flink status`), or see the JobManager's log",
        )),
        Ok(None) => Err(failed(
            format!("cluster `{}` runs no job; nothing was changed", target.name),
            "a session cluster's jobs are submitted to it: use `flink savepoint` there",
        )),
        Err(Unanswered(why)) => Err(failed(
            format!(
                "the JobManager of cluster `{}` does not answer: {why}; nothing was changed",
                target.name
            ),
            "check it is up (`kubectl flink status`); its REST API is reached through the API server's service proxy",
        )),
    }
}

/// Which savepoint request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// A savepoint; the job keeps running.
    Savepoint,
    /// Stop-with-savepoint: the job ends after it.
    Stop,
}

/// A savepoint that did not complete.
#[derive(Debug)]
pub enum NotTaken {
    /// Flink said no, or reported a failure: the job was left as Flink leaves it.
    Refused(String),
    /// The answer never came (kubectl failed, the JobManager went away, the wait ended).
    Unconfirmed(String),
}

impl NotTaken {
    pub fn into_error(self, state: &str) -> Error {
        match self {
            NotTaken::Refused(why) => {
                let help = if why.starts_with("Error from server") {
                    "the JobManager refused the request: see its log (`kubectl logs job/NAME-jobmanager`, or `deployment/NAME-jobmanager` for a Deployment)"
                } else {
                    "check the savepoint directory is writable by Flink (spec.savepointDir or --dir) and the JobManager's log"
                };
                failed(format!("the savepoint failed: {why}; {state}"), help)
            }
            NotTaken::Unconfirmed(why) => failed(
                format!("the savepoint was not confirmed: {why}; {state}"),
                "see `kubectl flink status` and the JobManager's log; a completed savepoint is listed as the job's last savepoint",
            ),
        }
    }
}

/// Triggers a savepoint (or stop-with-savepoint) of `job` and waits for its path.
pub fn take(
    session: &mut Session,
    target: &Target,
    job: &str,
    trigger: Trigger,
    dir: Option<&str>,
) -> Result<String, NotTaken> {
    let (path, body, what) = match trigger {
        Trigger::Savepoint => {
            (format!("jobs/{job}/savepoints"), rest::savepoint_request(dir), "savepoint")
        }
        Trigger::Stop => {
            (format!("jobs/{job}/stop"), rest::stop_request(dir), "stop-with-savepoint")
        }
    };
    let into = dir
        .map_or_else(|| " into Flink's configured directory".to_owned(), |d| format!(" into {d}"));
    session.say(&format!("triggering a {what} of job {job}{into}"));
    let answer = session
        .rest_post(target, &path, &body)
        .map_err(|err| NotTaken::Unconfirmed(err.first_message()))?
        .map_err(|Unanswered(why)| NotTaken::Refused(why))?;
    let request = rest::parse::<rest::Triggered>(&answer).map_err(NotTaken::Refused)?.request_id;
    let status_path = format!("jobs/{job}/savepoints/{request}");
    let result = session.wait_for(&format!("the {what} to complete"), |session| {
        let status = match session.rest_read::<rest::SavepointStatus>(target, &status_path)? {
            Ok(status) => status,
            // A JobManager that does not know the request (a new one, after a restart) will
            // never answer it: no use waiting.
            Err(Unanswered(why)) if why.contains("(NotFound)") => {
                return Ok(Look::Done(Err(format!(
                    "the JobManager no longer knows the request: {why}"
                ))));
            }
            Err(Unanswered(why)) => return Ok(Look::Pending(format!("no answer yet: {why}"))),
        };
        Ok(match status.outcome() {
            SavepointOutcome::InProgress => Look::Pending("in progress".to_owned()),
            done => Look::Done(Ok(done)),
        })
    });
    match result {
        Ok(Ok(SavepointOutcome::Completed(location))) => Ok(location),
        Ok(Ok(SavepointOutcome::Failed(why))) => Err(NotTaken::Refused(why)),
        Ok(Ok(SavepointOutcome::InProgress)) => unreachable!("a wait ends only when done"),
        Ok(Err(why)) => Err(NotTaken::Unconfirmed(why)),
        Err(waited) => Err(NotTaken::Unconfirmed(waited.describe())),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::commands::kubectl::Scripted;
    use crate::commands::testing::{SPEC, live, options};

    fn savepoint(
        dir: Option<&str>,
        complete: &serde_json::Value,
    ) -> (Result<Outcome, Error>, String) {
        let mut body = String::new();
        let mut kubectl = Scripted {
            calls: Vec::new(),
            answer: |call: &str, stdin: &str| {
                if call.starts_with("get jobs.batch,") {
                    return Ok(live(SPEC, &[]).to_string());
                }
                let path = call
                    .split(' ')
                    .nth(2)
                    .unwrap_or_default()
                    .rsplit("/proxy/")
                    .next()
                    .unwrap_or_default();
                match path {
                    "jobs/overview" => {
                        Ok(json!({"jobs": [{"jid": "j1", "state": "RUNNING"}]}).to_string())
                    }
                    "jobs/j1/savepoints" => {
                        body = stdin.to_owned();
                        Ok(json!({"request-id": "t1"}).to_string())
                    }
                    "jobs/j1/savepoints/t1" => Ok(complete.to_string()),
                    _ => Err(format!("unexpected {call}")),
                }
            },
        };
        let options = Options { cluster: options(SPEC, &[]), dir: dir.map(str::to_owned) };
        let result = run(&options, &mut kubectl, &mut Vec::new());
        (result, body)
    }

    #[test]
    fn the_path_and_nothing_else_goes_to_stdout() {
        let done =
            json!({"status": {"id": "COMPLETED"}, "operation": {"location": "s3://x/savepoint-1"}});
        let (result, body) = savepoint(Some("s3://x"), &done);
        assert_eq!(result.unwrap().stdout, b"s3://x/savepoint-1\n");
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&body).unwrap(),
            json!({"cancel-job": false, "target-directory": "s3://x"})
        );
        let (_, body) = savepoint(None, &done);
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&body).unwrap()["target-directory"],
            "s3://b/savepoints",
            "the spec's savepointDir"
        );
    }

    #[test]
    fn a_failed_savepoint_names_flinks_cause() {
        let failed = json!({"status": {"id": "COMPLETED"}, "operation": {"failure-cause": {"class": "x",
            "stack-trace": "org.apache.flink.util.FlinkException: Triggering a savepoint failed.\n\tat a.b\nCaused by: java.io.IOException: Permission denied"}}});
        let err = savepoint(None, &failed).0.unwrap_err().to_string();
        assert!(err.contains("the savepoint failed: org.apache.flink.util.FlinkException: Triggering a savepoint failed. (Caused by: java.io.IOException: Permission denied); the job keeps running"), "{err}");
    }
}
