//! `kubectl-flink upgrade` and `scale`: move a running standalone job cluster to its spec's
//! new version, as the Flink Kubernetes Operator's upgrade modes do, from the user's terminal
//! and with nothing installed in the cluster.
//!
//! - `savepoint`: stop-with-savepoint, delete the JobManager and TaskManagers, apply the spec
//!   with `job.fromSavepoint` set to that savepoint, wait until the job runs restored from it;
//! - `last-state` (HA only): replace them without stopping the job: the new JobManager
//!   recovers the latest checkpoint through HA;
//! - `stateless`: replace them, and the job starts with empty state.
//!
//! Nothing is deleted before a savepoint is confirmed; every failure says what state the
//! cluster is in and prints the command that resumes it.

use std::io::Write;

use serde_json::Value;

use super::Outcome;
use super::cluster::{
    self, Ha, Live, Look, Session, Target, Unanswered, WORKLOAD_KINDS, shell_word,
};
use super::kubectl::{Kubectl, failed};
use super::savepoint::{self, Trigger};
use crate::error::{Diagnostic, Error};
use crate::flink::rest;
use crate::load::overrides::Override;
use crate::model::native;
use crate::output::{self, Format};
use crate::pipeline;
use crate::render::Renderer;
use crate::spec::Mode;
use crate::validate::Valid;
use crate::yaml::PathSegment;

/// How state crosses an upgrade.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum UpgradeMode {
    #[default]
    Savepoint,
    LastState,
    Stateless,
}

impl UpgradeMode {
    fn as_str(self) -> &'static str {
        match self {
            UpgradeMode::Savepoint => "savepoint",
            UpgradeMode::LastState => "last-state",
            UpgradeMode::Stateless => "stateless",
        }
    }
}

/// What `upgrade` was asked for.
#[derive(Debug, Default)]
pub struct Options {
    pub cluster: cluster::Options,
    pub mode: UpgradeMode,
    /// `--dry-run`: print the plan and the objects, change nothing.
    pub dry_run: bool,
}

/// What `scale` was asked for.
#[derive(Debug, Default)]
pub struct ScaleOptions {
    pub cluster: cluster::Options,
    pub taskmanagers: Option<u32>,
    pub parallelism: Option<u32>,
}

/// The Flink options whose change would make the new JobManager look for another cluster's
/// HA data (or none): a last-state upgrade keeps them.
const HA_KEYS: &[&[&str]] = &[
    cluster::HA_TYPE_KEYS,
    &["high-availability.cluster-id", "high-availability.zookeeper.path.namespace"],
    &["kubernetes.cluster-id"],
    &["high-availability.storageDir", "high-availability.zookeeper.storageDir"],
    &["high-availability.zookeeper.quorum"],
    &["high-availability.zookeeper.path.root"],
];

/// Runs `kubectl-flink upgrade`.
pub fn run(
    options: &Options,
    kubectl: &mut dyn Kubectl,
    progress: &mut dyn Write,
) -> Result<Outcome, Error> {
    upgrade(options, &[], kubectl, progress)
}

/// Runs `kubectl-flink scale`: `kubectl scale` for a reactive cluster, else a savepoint
/// upgrade with the new numbers.
pub fn scale(
    options: &ScaleOptions,
    kubectl: &mut dyn Kubectl,
    progress: &mut dyn Write,
) -> Result<Outcome, Error> {
    let valid = spec_of(&options.cluster)?;
    let reactive = valid
        .flink_configuration
        .get("scheduler-mode")
        .is_some_and(|mode| crate::validate::reactive::is_reactive(mode));
    let mut outcome = if reactive {
        scale_reactive(options, &valid, kubectl, progress)?
    } else {
        let mut sets = Vec::new();
        if let Some(n) = options.taskmanagers {
            sets.push(set(&["spec", "taskManager", "replicas"], Value::from(n)));
        }
        if let Some(p) = options.parallelism {
            sets.push(set(&["spec", "job", "parallelism"], Value::from(p)));
        }
        let upgrade_options = Options {
            cluster: cluster::Options { ..clone_cluster(&options.cluster) },
            mode: UpgradeMode::Savepoint,
            dry_run: false,
        };
        upgrade(&upgrade_options, &sets, kubectl, progress)?
    };
    let mut unchanged = Vec::new();
    if options.taskmanagers.is_some() {
        unchanged.push("spec.taskManager.replicas");
    }
    if options.parallelism.is_some() {
        unchanged.push("spec.job.parallelism");
    }
    outcome.warnings.push(format!(
        "{} still holds the old value of {}: change it there, or the next `kubectl flink apply` or upgrade undoes this",
        spec_origin(&options.cluster),
        unchanged.join(" and ")
    ));
    Ok(outcome)
}

fn scale_reactive(
    options: &ScaleOptions,
    valid: &Valid,
    kubectl: &mut dyn Kubectl,
    progress: &mut dyn Write,
) -> Result<Outcome, Error> {
    let Some(count) = options.taskmanagers else {
        return Err(Error::usage(
            Diagnostic::new(
                "a reactive cluster's job runs on every slot it has: --parallelism does not apply",
            )
            .with_help("scale it with --taskmanagers N"),
        ));
    };
    if valid.cluster.spec.task_manager.autoscaling.is_some() {
        return Err(Error::usage(
            Diagnostic::new(
                "spec.taskManager.autoscaling is set: its HorizontalPodAutoscaler owns the TaskManager count",
            )
            .with_help("change autoscaling.minReplicas/maxReplicas in the spec and apply it"),
        ));
    }
    let (mut session, target, _) = cluster::open(&options.cluster, kubectl, progress)?;
    let slots = valid.cluster.spec.task_manager.slots.unwrap_or(1);
    let deployment = format!("{}-taskmanager", target.name);
    session.scale(&deployment, count)?;
    let want = i64::from(count) * slots;
    let state = format!("deployments.apps/{deployment} was scaled to {count}");
    session
        .wait_for(&format!("{count} TaskManager(s) and the job at parallelism {want}"), |session| {
            // A TaskManager pod is ready once its process runs; what counts is that it
            // registered with the JobManager.
            let registered = session.rest_read::<rest::TaskManagers>(&target, "taskmanagers")?;
            match registered.map(|t| t.taskmanagers.len()) {
                Ok(n) if n == count as usize => job_parallelism(session, &target, want),
                Ok(n) => Ok(Look::Pending(format!("{n}/{count} TaskManagers registered"))),
                Err(Unanswered(why)) => Ok(Look::Pending(format!("JobManager: {why}"))),
            }
        })
        .map_err(|waited| {
            waited.into_error(&state, "see `kubectl flink status` and the JobManager's log")
        })?;
    session.say(&format!(
        "cluster `{}`: {count} TaskManager(s), job at parallelism {want}",
        target.name
    ));
    Ok(Outcome::default())
}

/// Done when the running job's parallelism is `want`.
fn job_parallelism(session: &mut Session, target: &Target, want: i64) -> Result<Look<()>, Error> {
    let job = match session.current_job(target)? {
        Ok(Some(job)) if job.is_running() => job,
        Ok(Some(job)) => return Ok(Look::Pending(format!("job {}", job.state))),
        Ok(None) => return Ok(Look::Pending("no job yet".to_owned())),
        Err(Unanswered(why)) => return Ok(Look::Pending(format!("JobManager: {why}"))),
    };
    let detail = session.rest_read::<rest::JobDetail>(target, &format!("jobs/{}", job.jid))?;
    // A job's max parallelism caps what reactive mode gives it.
    let want = detail
        .as_ref()
        .ok()
        .and_then(rest::JobDetail::max_parallelism)
        .map_or(want, |max| want.min(max));
    Ok(match detail.ok().and_then(|d| d.parallelism()) {
        Some(have) if have == want => Look::Done(()),
        Some(have) => Look::Pending(format!("job RUNNING at parallelism {have}")),
        None => Look::Pending("job RUNNING, parallelism unknown".to_owned()),
    })
}

fn upgrade(
    options: &Options,
    sets: &[Override],
    kubectl: &mut dyn Kubectl,
    progress: &mut dyn Write,
) -> Result<Outcome, Error> {
    let valid = spec_of(&options.cluster)?;
    let mode = options.mode;
    check_upgradable(&valid, mode)?;
    let cluster_options = with_sets(&options.cluster, sets);
    // Everything renders before anything changes; the savepoint's path is not known yet.
    let planned = render(&cluster_options, &state_sets(mode, Some("file:///pending-savepoint")))?;
    let (mut session, target, live) = cluster::open(&cluster_options, kubectl, progress)?;
    let before = look_before(&mut session, &target, &live, mode, &planned, &options.cluster)?;
    if options.dry_run {
        show_plan(&mut session, &target, mode, &before);
        return Ok(Outcome::stdout(planned.yaml));
    }
    let resume = Resume { options: &options.cluster, sets, target: &target, mode };
    let saved = match &before.stop {
        Some(job) => Some(stop(&mut session, &target, job, &resume)?),
        None => None,
    };
    let from = if mode == UpgradeMode::Savepoint { saved.as_deref() } else { None };
    let state = match (&saved, from) {
        (Some(_), Some(_)) => {
            "the job was stopped with a savepoint (its path is in the command below)"
        }
        (Some(_), None) => "the job was stopped (its savepoint is not used: stateless)",
        (None, _) => "the job was not stopped",
    }
    .to_owned();
    let attach = |err, state: &str| resume.attach(err, state, from);
    session.delete(WORKLOAD_KINDS, &target.selector()).map_err(|err| attach(err, &state))?;
    session.wait_pods_gone(&target).map_err(|w| attach(w.into_error(&state, ""), &state))?;
    let state = format!("{state}; its JobManager and TaskManagers were deleted");
    if mode == UpgradeMode::Stateless && before.ha == Ha::Kubernetes {
        session.delete_ha_config_maps(&target).map_err(|err| attach(err, &state))?;
    }
    let rendered =
        render(&cluster_options, &state_sets(mode, from)).map_err(|err| attach(err, &state))?;
    let what = format!("the new objects of `{}`", target.name);
    session.apply(&rendered.yaml, &what).map_err(|err| attach(err, &state))?;
    let expect = match mode {
        UpgradeMode::Savepoint => Restore::From(from.unwrap_or_default().to_owned()),
        UpgradeMode::LastState => Restore::Checkpoint {
            min: before.latest_checkpoint,
            not: valid.cluster.spec.job.as_ref().and_then(|j| j.from_savepoint.clone()),
        },
        UpgradeMode::Stateless => Restore::Nothing,
    };
    let restored = session
        .wait_for("the job to run again", |session| look_restored(session, &target, &expect))
        .map_err(|waited| {
            let state = format!("{state}; the new objects were applied, the job does not run");
            attach(waited.into_error(&state, ""), &state)
        })?;
    let name = &target.name;
    session
        .say(&format!("cluster `{name}` upgraded ({} mode): job RUNNING{restored}", mode.as_str()));
    Ok(match saved {
        Some(path) if mode == UpgradeMode::Savepoint => Outcome::stdout(format!("{path}\n")),
        _ => Outcome::default(),
    })
}

/// How the cluster stood before an upgrade changed anything.
struct Before {
    ha: Ha,
    /// The running job to stop with a savepoint first, if the mode does.
    stop: Option<String>,
    latest_checkpoint: Option<u64>,
}

/// Reads the running cluster and refuses an upgrade that cannot go well.
fn look_before(
    session: &mut Session,
    target: &Target,
    live: &Live,
    mode: UpgradeMode,
    planned: &Planned,
    options: &cluster::Options,
) -> Result<Before, Error> {
    if live.jobmanager().is_none() {
        return Err(failed(
            format!(
                "cluster `{}` has no JobManager in namespace {}; nothing was changed",
                target.name, target.namespace
            ),
            format!("start it with `kubectl flink apply -f {}`", spec_origin(options)),
        ));
    }
    let ha = live.ha().unwrap_or(Ha::None);
    if mode == UpgradeMode::LastState {
        check_last_state(live, planned, ha)?;
    }
    let running = match session.current_job(target)? {
        Ok(Some(job)) if job.is_running() => Some(job.jid),
        _ => None,
    };
    let latest_checkpoint = match &running {
        Some(jid) => match session
            .rest_read::<rest::Checkpoints>(target, &format!("jobs/{jid}/checkpoints"))?
        {
            Ok(checkpoints) => checkpoints.latest.completed.map(|c| c.id),
            // Without it, a new job that restored nothing could not be told from one that
            // restored what it should.
            Err(Unanswered(why)) if mode == UpgradeMode::LastState => {
                return Err(failed(
                    format!(
                        "cannot read the running job's checkpoints: {why}; nothing was changed"
                    ),
                    "run it again; `kubectl flink status` shows the last checkpoint",
                ));
            }
            Err(_) => None,
        },
        None => None,
    };
    // A stateless upgrade under ZooKeeper HA ends the job first: Flink then removes the
    // job's HA data, which kubectl cannot reach.
    let stop_first =
        mode == UpgradeMode::Savepoint || (mode == UpgradeMode::Stateless && ha == Ha::ZooKeeper);
    let stop = if stop_first {
        Some(match running {
            Some(jid) => jid,
            None => savepoint::running_job(session, target)?,
        })
    } else {
        None
    };
    Ok(Before { ha, stop, latest_checkpoint })
}

/// `--dry-run`: the steps, on stderr.
fn show_plan(session: &mut Session, target: &Target, mode: UpgradeMode, before: &Before) {
    let name = &target.name;
    session.say(&format!("dry run: upgrade of `{name}` ({} mode) would:", mode.as_str()));
    for (i, step) in plan(target, mode, before.ha, before.stop.is_some()).iter().enumerate() {
        session.say(&format!("  {}. {step}", i + 1));
    }
    session.say(
        "the objects it would apply follow on stdout (job.fromSavepoint: the savepoint's path)",
    );
}

/// Stop-with-savepoint of `job`; its path once Flink confirmed it and the JobManager has
/// finished the job (under HA it then removes the job's HA data, which a JobManager killed
/// half-way would leave for the new one to recover).
fn stop(
    session: &mut Session,
    target: &Target,
    job: &str,
    resume: &Resume,
) -> Result<String, Error> {
    let dir = savepoint::savepoint_dir(target);
    let path = savepoint::take(session, target, job, Trigger::Stop, dir.as_deref()).map_err(
        |not_taken| {
            let state = job_state(session, target);
            let unconfirmed = matches!(not_taken, savepoint::NotTaken::Unconfirmed(_));
            let mut err = not_taken.into_error(&format!("nothing was deleted; {state}"));
            if unconfirmed {
                resume.after_unconfirmed_stop(&mut err, job, dir.as_deref());
            }
            err
        },
    )?;
    session.say(&format!("savepoint confirmed: {path}"));
    let state = "the job was stopped with a savepoint (its path is in the command below); nothing was deleted";
    session
        .wait_for("the JobManager to finish the stopped job", |session| {
            let live = Live { objects: session.objects(WORKLOAD_KINDS, &target.selector())? };
            match live.jobmanager() {
                Some(jm)
                    if jm["kind"] == "Job"
                        && jm["status"]["succeeded"].as_i64().unwrap_or(0) == 0 =>
                {
                    Ok(Look::Pending(format!(
                        "job.batch/{} not complete yet",
                        jm["metadata"]["name"].as_str().unwrap_or("?")
                    )))
                }
                // `jobManager.kind: Deployment`: the JobManager stays up, its job ends.
                Some(jm) if jm["kind"] == "Deployment" => job_ended(session, target, job),
                _ => Ok(Look::Done(())),
            }
        })
        .map_err(|waited| resume.attach(waited.into_error(state, ""), state, Some(&path)))?;
    Ok(path)
}

/// Done once `job` has reached a terminal state (FINISHED after a stop), as a JobManager that
/// outlives its job reports it.
fn job_ended(session: &mut Session, target: &Target, job: &str) -> Result<Look<()>, Error> {
    let overview = session.rest_read::<rest::JobsOverview>(target, "jobs/overview")?;
    Ok(match overview {
        Ok(overview) => match overview.jobs.iter().find(|j| j.jid == job) {
            Some(j) if j.is_terminal() => Look::Done(()),
            Some(j) => Look::Pending(format!("job {job} {}", j.state)),
            None => Look::Pending(format!("job {job} not listed")),
        },
        Err(Unanswered(why)) => Look::Pending(format!("JobManager: {why}")),
    })
}

/// What the new job must have restored.
enum Restore {
    From(String),
    /// Through HA: a checkpoint at least as new as `min` (when one was known), and not the
    /// spec's own `fromSavepoint` (which a JobManager that found no HA data falls back to).
    Checkpoint {
        min: Option<u64>,
        not: Option<String>,
    },
    Nothing,
}

fn look_restored(
    session: &mut Session,
    target: &Target,
    expect: &Restore,
) -> Result<Look<String>, Error> {
    let job = match session.current_job(target)? {
        Ok(Some(job)) if job.is_running() => job,
        Ok(Some(job)) => return Ok(Look::Pending(format!("job {}", job.state))),
        Ok(None) => return Ok(Look::Pending("JobManager up, no job yet".to_owned())),
        Err(Unanswered(why)) => {
            let pods = session.jobmanager_pods(target)?;
            return Ok(Look::Pending(format!("{pods} (REST: {why})")));
        }
    };
    let restored = match session
        .rest_read::<rest::Checkpoints>(target, &format!("jobs/{}/checkpoints", job.jid))?
    {
        Ok(checkpoints) => checkpoints.latest.restored,
        Err(Unanswered(why)) => {
            return Ok(Look::Pending(format!("job RUNNING, checkpoints: {why}")));
        }
    };
    let shown = |s: &rest::Snapshot| {
        format!(
            " restored from {} {}",
            if s.is_savepoint { "savepoint" } else { "checkpoint" },
            s.external_path.as_deref().unwrap_or("?")
        )
    };
    match (expect, restored) {
        (Restore::From(path), Some(s)) if same_path(s.external_path.as_deref(), path.as_str()) => {
            Ok(Look::Done(shown(&s)))
        }
        (Restore::Checkpoint { min, not }, Some(s))
            if min.is_none_or(|min| s.id >= min)
                && !not
                    .as_deref()
                    .is_some_and(|not| same_path(s.external_path.as_deref(), not)) =>
        {
            Ok(Look::Done(shown(&s)))
        }
        (Restore::Checkpoint { min: None, .. } | Restore::Nothing, None) => {
            Ok(Look::Done(", with empty state".to_owned()))
        }
        (_, Some(s)) => Err(failed(
            format!("the new job of `{}` runs, but{} ", target.name, shown(&s)),
            match expect {
                Restore::From(path) => format!(
                    "it should have restored {path}: check that no HA data of an older run is left"
                ),
                Restore::Checkpoint { min, .. } => format!(
                    "it should have restored, through HA, checkpoint {} or later: the new JobManager found no HA data of the old one",
                    min.unwrap_or_default()
                ),
                Restore::Nothing => {
                    "a stateless upgrade should start empty: HA data of the old job is left"
                        .to_owned()
                }
            },
        )),
        (_, None) => Err(failed(
            format!("the new job of `{}` runs, but restored nothing", target.name),
            "the savepoint or HA data was not found by the new JobManager: see its log",
        )),
    }
}

fn same_path(reported: Option<&str>, path: &str) -> bool {
    let norm = |p: &str| p.replacen("file:///", "file:/", 1).trim_end_matches('/').to_owned();
    reported.is_some_and(|r| norm(r) == norm(path))
}

/// How the job stands now, for a message.
fn job_state(session: &mut Session, target: &Target) -> String {
    match session.current_job(target) {
        Ok(Ok(Some(job))) => format!("the job {} is {}", job.jid, job.state),
        Ok(Ok(None)) => "the cluster runs no job".to_owned(),
        Ok(Err(Unanswered(why))) => format!("the JobManager does not answer ({why})"),
        Err(err) => format!("the job's state is unknown ({})", err.first_message()),
    }
}

/// The steps an upgrade takes, for `--dry-run`.
fn plan(target: &Target, mode: UpgradeMode, ha: Ha, stop_first: bool) -> Vec<String> {
    let mut steps = Vec::new();
    if stop_first {
        let why = if mode == UpgradeMode::Savepoint {
            ""
        } else {
            " (so Flink removes its ZooKeeper HA data; the savepoint is not used)"
        };
        steps.push(format!(
            "stop the job with a savepoint and wait until Flink confirms its path{why}"
        ));
    }
    steps.push(format!(
        "delete the JobManager and TaskManagers (selector {}) and wait for their pods to go",
        target.selector()
    ));
    if mode == UpgradeMode::Stateless && ha == Ha::Kubernetes {
        steps.push(format!(
            "delete the Kubernetes HA ConfigMaps ({})",
            target.ha_config_map_selector()
        ));
    }
    steps.push(match mode {
        UpgradeMode::Savepoint => {
            "apply the spec with job.fromSavepoint set to the savepoint".to_owned()
        }
        UpgradeMode::LastState => {
            "apply the spec; the new JobManager recovers the latest checkpoint through HA"
                .to_owned()
        }
        UpgradeMode::Stateless => "apply the spec without job.fromSavepoint".to_owned(),
    });
    steps.push("wait until the job is RUNNING and check what it restored".to_owned());
    steps
}

/// A spec that an upgrade can move: a standalone job cluster.
fn check_upgradable(valid: &Valid, mode: UpgradeMode) -> Result<(), Error> {
    let cluster = &valid.cluster;
    if cluster.kind != "FlinkJobCluster" || cluster.spec.mode == Some(Mode::Native) {
        return Err(Error::usage(
            Diagnostic::new(format!(
                "`{}` is a {} in {} mode: upgrade and scale move standalone job clusters",
                cluster.metadata.name,
                cluster.kind,
                if cluster.spec.mode == Some(Mode::Native) { "native" } else { "standalone" }
            ))
            .with_help(
                "for a session cluster, `kubectl flink apply` its new spec and resubmit its jobs",
            ),
        ));
    }
    if mode == UpgradeMode::LastState && cluster.spec.high_availability.is_none() {
        return Err(Error::usage(
            Diagnostic::new("--mode last-state needs high availability: without it a new JobManager finds no checkpoint")
                .with_help("use --mode savepoint, or set spec.highAvailability"),
        ));
    }
    Ok(())
}

/// Refuses a last-state upgrade that would change where the new JobManager looks for the
/// old one's HA data.
fn check_last_state(live: &Live, planned: &Planned, ha: Ha) -> Result<(), Error> {
    if ha == Ha::None {
        return Err(failed(
            "the running cluster has no high availability: a last-state upgrade would lose its state; nothing was changed".to_owned(),
            "use --mode savepoint",
        ));
    }
    let new = Live { objects: planned.objects.clone() };
    if job_inputs(live) != job_inputs(&new) {
        return Err(failed(
            "--mode last-state would change the job itself (its class, arguments or parallelism), but the new JobManager runs the job graph Flink stored in HA, not the spec's: the change would not take effect; nothing was changed".to_owned(),
            "use --mode savepoint for job changes; last-state carries the image, resources and Flink options",
        ));
    }
    for keys in HA_KEYS {
        let (old, new) = (ha_value(live, keys), ha_value(&new, keys));
        if old != new {
            return Err(failed(
                format!(
                    "--mode last-state would change {} from {} to {}: the new JobManager would not find the running job's checkpoints; nothing was changed",
                    keys[0],
                    old.as_deref().unwrap_or("(unset)"),
                    new.as_deref().unwrap_or("(unset)")
                ),
                "keep the HA settings for this upgrade, or use --mode savepoint",
            ));
        }
    }
    Ok(())
}

/// What goes into the job graph: the JobManager's arguments but its options and where it
/// resumes from, and its default parallelism.
fn job_inputs(live: &Live) -> Option<(Vec<String>, Option<String>)> {
    let containers = live.jobmanager()?["spec"]["template"]["spec"]["containers"].as_array()?;
    let mut words = Vec::new();
    for container in containers {
        let args = container["command"]
            .as_array()
            .into_iter()
            .flatten()
            .chain(container["args"].as_array().into_iter().flatten());
        let mut skip_next = false;
        for arg in args.filter_map(Value::as_str) {
            if std::mem::take(&mut skip_next) {
                continue;
            }
            match arg {
                "-D" | "--fromSavepoint" | "-s" => skip_next = true,
                "--allowNonRestoredState" | "-n" => {}
                option if option.starts_with("-D") => {}
                word => words.push(word.to_owned()),
            }
        }
    }
    Some((words, live.option(&["parallelism.default"])))
}

/// An HA option as the JobManager reads it; the HA type as what it names (before 1.16
/// Kubernetes HA was given as its factory class).
fn ha_value(live: &Live, keys: &[&str]) -> Option<String> {
    if keys == cluster::HA_TYPE_KEYS {
        return live.ha().map(|ha| ha.as_str().to_owned());
    }
    live.option(keys)
}

/// The spec's `job.fromSavepoint` for each mode: the savepoint, none, or as the spec says.
fn state_sets(mode: UpgradeMode, from: Option<&str>) -> Vec<Override> {
    match (mode, from) {
        (UpgradeMode::Savepoint, Some(path)) => {
            vec![set(&["spec", "job", "fromSavepoint"], Value::from(path))]
        }
        (UpgradeMode::Stateless, _) => vec![set(&["spec", "job", "fromSavepoint"], Value::Null)],
        _ => Vec::new(),
    }
}

fn set(path: &[&str], value: Value) -> Override {
    let shown = match &value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    };
    Override {
        arg: format!("{}={shown}", path.join(".")),
        path: path.iter().map(|key| PathSegment::Key((*key).to_owned())).collect(),
        value,
    }
}

/// A spec rendered for the cluster: the objects and their YAML.
struct Planned {
    objects: Vec<Value>,
    yaml: Vec<u8>,
}

fn render(options: &cluster::Options, sets: &[Override]) -> Result<Planned, Error> {
    let options = with_sets(options, sets);
    let super::Specs { inputs, substitution, policy, overrides } = &options.specs;
    let specs = pipeline::load_valid(inputs, overrides, *policy, substitution.as_ref())?;
    let renderer = Renderer::new(options.templates.as_deref())?;
    let mut objects = Vec::new();
    pipeline::render_specs(&specs, &renderer, &native::Options::default(), |o| {
        objects.extend(o);
    })?;
    let yaml = output::encode(&objects, Format::Yaml)?;
    Ok(Planned { objects: objects.into_iter().map(|o| o.value).collect(), yaml })
}

fn spec_of(options: &cluster::Options) -> Result<Valid, Error> {
    cluster::load_one(options)?.ok_or_else(|| {
        Error::usage(
            Diagnostic::new("this command needs the cluster's spec: -f FILE")
                .with_help("give the spec with the new version of the cluster"),
        )
    })
}

fn spec_origin(options: &cluster::Options) -> String {
    options.specs.inputs.first().map_or_else(|| "the spec".to_owned(), |i| i.origin.clone())
}

fn with_sets(options: &cluster::Options, sets: &[Override]) -> cluster::Options {
    let mut copy = clone_cluster(options);
    copy.specs.overrides.extend(sets.iter().cloned());
    copy
}

fn clone_cluster(options: &cluster::Options) -> cluster::Options {
    cluster::Options {
        specs: super::Specs {
            inputs: options.specs.inputs.clone(),
            substitution: options.specs.substitution.clone(),
            policy: options.specs.policy,
            overrides: options.specs.overrides.clone(),
        },
        name: options.name.clone(),
        templates: options.templates.clone(),
        connection: options.connection.clone(),
        namespace: options.namespace.clone(),
        wait: options.wait,
    }
}

/// The command that finishes an upgrade stopped half-way.
struct Resume<'a> {
    options: &'a cluster::Options,
    sets: &'a [Override],
    target: &'a Target,
    mode: UpgradeMode,
}

impl Resume<'_> {
    /// `kubectl flink apply` of the spec as the upgrade renders it: the same file and flags,
    /// with the savepoint (savepoint mode) or without any (stateless).
    fn command(&self, from: Option<&str>) -> String {
        let o = self.options;
        let mut words = vec!["kubectl".to_owned(), "flink".to_owned(), "apply".to_owned()];
        for input in &o.specs.inputs {
            let file = if input.origin == "<stdin>" { "-" } else { input.origin.as_str() };
            words.extend(["-f".to_owned(), shell_word(file)]);
        }
        for over in o.specs.overrides.iter().chain(self.sets) {
            words.extend(["--set".to_owned(), shell_word(&over.arg)]);
        }
        match (self.mode, from) {
            (UpgradeMode::Savepoint, Some(path)) => {
                words.extend([
                    "--set".to_owned(),
                    shell_word(&format!("spec.job.fromSavepoint={path}")),
                ]);
            }
            (UpgradeMode::Stateless, _) => {
                words.extend(["--set".to_owned(), "spec.job.fromSavepoint=null".to_owned()]);
            }
            _ => {}
        }
        if o.specs.policy.allow_savepoint_without_ha {
            words.push("--allow-savepoint-without-ha".to_owned());
        }
        if let Some(dir) = &o.templates {
            words.extend(["--templates".to_owned(), shell_word(&dir.display().to_string())]);
        }
        words.extend(self.connection_words());
        words.join(" ")
    }

    /// `-n NS` and the kubectl connection flags the upgrade ran with.
    fn connection_words(&self) -> Vec<String> {
        let mut words = vec!["-n".to_owned(), shell_word(&self.target.namespace)];
        words.extend(self.options.connection.flags().iter().map(|w| shell_word(w)));
        words
    }

    /// What the printed commands cannot carry: the spec on stdin, the variables.
    fn caveats(&self) -> String {
        let o = self.options;
        let mut notes = String::new();
        if o.specs.inputs.iter().any(|i| i.origin == "<stdin>") {
            notes.push_str(" (with the same spec on stdin)");
        }
        if o.specs.substitution.is_some() {
            notes.push_str(" (add the --env, --env-file, --var and --only flags this upgrade had)");
        }
        notes
    }

    /// `kubectl flink delete NAME --keep-ha`, where the upgrade ran.
    fn delete_command(&self) -> String {
        let mut words =
            vec!["kubectl", "flink", "delete"].into_iter().map(str::to_owned).collect::<Vec<_>>();
        words.extend([shell_word(&self.target.name), "--keep-ha".to_owned()]);
        words.extend(self.connection_words());
        words.join(" ")
    }

    /// `err` with the commands that resume the upgrade once its cause is fixed.
    fn attach(&self, mut err: Error, state: &str, from: Option<&str>) -> Error {
        if err.diagnostics.is_empty() {
            err.diagnostics.push(Diagnostic::new(state.to_owned()));
        }
        let first = &mut err.diagnostics[0];
        first.help = Some(format!(
            "once the cause is fixed, these two commands resume the upgrade{}:",
            self.caveats()
        ));
        first.commands = vec![self.delete_command(), self.command(from)];
        err
    }

    /// A stop-with-savepoint whose answer never came may still have stopped the job: where
    /// its savepoint would be, and how to go on from it.
    fn after_unconfirmed_stop(&self, err: &mut Error, job: &str, dir: Option<&str>) {
        let Some(first) = err.diagnostics.first_mut() else { return };
        let prefix: String = job.chars().take(6).collect();
        let place = dir.map_or_else(|| "Flink's savepoint directory".to_owned(), str::to_owned);
        first.help = Some(format!(
            "the job may have stopped all the same: `kubectl flink status` says whether it runs. If it does not, its savepoint is the newest savepoint-{prefix}-* under {place}, and these two commands resume the upgrade from it{}:",
            self.caveats()
        ));
        first.commands = vec![self.delete_command(), self.command(Some("SAVEPOINT_PATH"))];
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::time::Duration;

    use serde_json::json;

    use super::*;
    use crate::commands::kubectl::Scripted;
    use crate::commands::testing::{PATH, SPEC, deployment_spec, live, options};

    fn job(jid: &str, state: &str) -> String {
        json!({"jobs": [{"jid": jid, "name": "orders", "state": state, "start-time": 1}]})
            .to_string()
    }

    /// A cluster that stops with a savepoint, then runs a new job restored from it.
    struct Cluster {
        live: Value,
        deleted: bool,
        applied: Option<String>,
        polls: u32,
        stop: StopAnswer,
        new_job_runs: bool,
        /// Whether the old job reports FINISHED once its stop completed.
        stopped_job_ends: bool,
    }

    /// How the scripted JobManager answers the stop's status.
    #[derive(PartialEq)]
    enum StopAnswer {
        Completes,
        Fails,
        /// It forgot the request (restarted): the status is `NotFound`.
        Lost,
    }

    impl Cluster {
        fn new(live: Value) -> Self {
            Self {
                live,
                deleted: false,
                applied: None,
                polls: 0,
                stop: StopAnswer::Completes,
                new_job_runs: true,
                stopped_job_ends: true,
            }
        }

        fn answer(&mut self, call: &str, stdin: &str) -> Result<String, String> {
            let proxy =
                "/api/v1/namespaces/streaming/services/http:orders-jobmanager-rest:rest/proxy/";
            let unavailable = Err("Error from server (ServiceUnavailable): the server is currently unable to handle the request".to_owned());
            if call.starts_with("get pods ") {
                return Ok(if self.deleted {
                    json!({"items": []}).to_string()
                } else {
                    self.live.to_string()
                });
            }
            if call.starts_with("get jobs.batch,") {
                // After stop-with-savepoint the JobManager exits 0: its Job completes.
                let mut live = self.live.clone();
                if self.polls > 1 {
                    for item in live["items"].as_array_mut().unwrap() {
                        if item["kind"] == "Job" {
                            item["status"] = json!({"succeeded": 1});
                        }
                    }
                }
                return Ok(live.to_string());
            }
            if let Some(rest) = call.strip_prefix(&format!("get --raw {proxy}")) {
                let path = rest.split(' ').next().unwrap();
                let old = !self.deleted;
                return match path {
                    "jobs/overview" if old && self.polls > 1 && self.stopped_job_ends => {
                        Ok(job("a", "FINISHED"))
                    }
                    "jobs/overview" if old => Ok(job("a", "RUNNING")),
                    "jobs/overview" if self.applied.is_some() && self.new_job_runs => Ok(job("b", "RUNNING")),
                    "jobs/overview" => unavailable,
                    "jobs/a/checkpoints" => Ok(json!({"latest": {"completed": {"id": 7, "external_path": "s3://b/chk-7"}}}).to_string()),
                    "jobs/a/savepoints/r1" if self.stop == StopAnswer::Lost => {
                        Err("Error from server (NotFound): the server could not find the requested resource".to_owned())
                    }
                    "jobs/a/savepoints/r1" if self.polls == 0 => {
                        self.polls += 1;
                        Ok(json!({"status": {"id": "IN_PROGRESS"}}).to_string())
                    }
                    "jobs/a/savepoints/r1" if self.stop == StopAnswer::Fails => Ok(json!({"status": {"id": "COMPLETED"},
                        "operation": {"failure-cause": {"class": "java.io.IOException",
                        "stack-trace": "java.io.IOException: Permission denied\n\tat x.y\nCaused by: java.nio.file.AccessDeniedException: /sp"}}}).to_string()),
                    "jobs/a/savepoints/r1" => {
                        self.polls += 1;
                        Ok(json!({"status": {"id": "COMPLETED"}, "operation": {"location": PATH}}).to_string())
                    }
                    "jobs/b/checkpoints" => Ok(json!({"latest": {"restored": {"id": 8, "is_savepoint": true, "external_path": PATH}}}).to_string()),
                    _ => Err(format!("unexpected {path}")),
                };
            }
            if call.starts_with(&format!("create --raw {proxy}jobs/a/stop -f -")) {
                assert_eq!(
                    serde_json::from_str::<Value>(stdin).unwrap(),
                    json!({"drain": false, "targetDirectory": "s3://b/savepoints"})
                );
                return Ok(json!({"request-id": "r1"}).to_string());
            }
            if call.starts_with("delete jobs.batch,deployments.apps --selector app.kubernetes.io/name=flink,app.kubernetes.io/instance=orders") {
                self.deleted = true;
                return Ok("job.batch \"orders-jobmanager\" deleted\n".to_owned());
            }
            if call.starts_with("apply -f - --namespace streaming") {
                self.applied = Some(stdin.to_owned());
                return Ok("job.batch/orders-jobmanager created\n".to_owned());
            }
            Err(format!("kubectl stand-in: unsupported: {call}"))
        }
    }

    fn upgrade_with(
        cluster: &RefCell<Cluster>,
        options: &Options,
    ) -> (Result<Outcome, Error>, Vec<String>, String) {
        let mut kubectl = Scripted {
            calls: Vec::new(),
            answer: |call: &str, stdin: &str| cluster.borrow_mut().answer(call, stdin),
        };
        let mut progress = Vec::new();
        let result = run(options, &mut kubectl, &mut progress);
        (result, kubectl.calls, String::from_utf8(progress).unwrap())
    }

    fn verbs(calls: &[String]) -> Vec<&str> {
        calls.iter().map(|c| c.split(' ').take(2).last().unwrap_or_default()).collect()
    }

    #[test]
    fn a_savepoint_upgrade_stops_deletes_applies_from_the_savepoint_and_checks_the_restore() {
        let cluster = RefCell::new(Cluster::new(live(SPEC, &[])));
        let options =
            Options { cluster: options(SPEC, &["spec.job.args[1]=b"]), ..Options::default() };
        let (result, calls, progress) = upgrade_with(&cluster, &options);
        let outcome = result.unwrap_or_else(|e| panic!("{e}\n{progress}"));
        assert_eq!(String::from_utf8(outcome.stdout).unwrap(), format!("{PATH}\n"));
        let order: Vec<usize> =
            ["jobs/a/stop", "delete jobs.batch", "apply -f -", "jobs/b/checkpoints"]
                .iter()
                .map(|needle| {
                    calls
                        .iter()
                        .position(|c| c.contains(needle))
                        .unwrap_or_else(|| panic!("no {needle}: {calls:#?}"))
                })
                .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{calls:#?}");
        let applied = cluster.borrow().applied.clone().unwrap();
        assert!(
            applied.contains(&format!("- {PATH}")) && applied.contains("--fromSavepoint"),
            "{applied}"
        );
        assert!(applied.contains("- b\n"), "the new argument: {applied}");
        assert!(progress.contains("restored from savepoint"), "{progress}");
    }

    #[test]
    fn a_deployment_job_manager_is_replaced_once_its_stopped_job_has_finished() {
        let spec = deployment_spec();
        let cluster = RefCell::new(Cluster::new(live(&spec, &[])));
        let options = Options { cluster: options(&spec, &[]), ..Options::default() };
        let (result, calls, progress) = upgrade_with(&cluster, &options);
        let outcome = result.unwrap_or_else(|e| panic!("{e}\n{progress}"));
        assert_eq!(String::from_utf8(outcome.stdout).unwrap(), format!("{PATH}\n"));
        let at = |needle: &str| calls.iter().position(|c| c.contains(needle)).unwrap();
        let (stop, delete) = (at("jobs/a/stop"), at("delete jobs.batch,deployments.apps"));
        assert!(
            calls[stop..delete].iter().any(|c| c.contains("proxy/jobs/overview")),
            "the wait reads the job's state: {calls:#?}"
        );
        let applied = cluster.borrow().applied.clone().unwrap();
        assert!(applied.contains("kind: Deployment") && !applied.contains("kind: Job"));
        assert!(applied.contains("--fromSavepoint"), "{applied}");
        assert!(applied.contains("-Dexecution.shutdown-on-application-finish=false"));
    }

    #[test]
    fn a_deployment_job_manager_whose_job_does_not_end_is_not_deleted() {
        let spec = deployment_spec();
        let cluster = RefCell::new(Cluster::new(live(&spec, &[])));
        cluster.borrow_mut().stopped_job_ends = false;
        let mut options = Options { cluster: options(&spec, &[]), ..Options::default() };
        options.cluster.wait = Duration::from_secs(1);
        let (result, calls, _) = upgrade_with(&cluster, &options);
        let message = result.unwrap_err().to_string();
        assert!(
            message.contains("waiting for the JobManager to finish the stopped job")
                && message.contains("(last: job a RUNNING)")
                && message.contains("nothing was deleted"),
            "{message}"
        );
        assert!(!verbs(&calls).iter().any(|v| ["delete", "apply"].contains(v)), "{calls:#?}");
    }

    #[test]
    fn a_failed_savepoint_deletes_nothing_and_says_why() {
        let cluster = RefCell::new(Cluster::new(live(SPEC, &[])));
        cluster.borrow_mut().stop = StopAnswer::Fails;
        let mut options = Options { cluster: options(SPEC, &[]), ..Options::default() };
        options.cluster.wait = Duration::from_secs(5);
        let (result, calls, _) = upgrade_with(&cluster, &options);
        let message = result.unwrap_err().to_string();
        assert!(
            message.contains("AccessDeniedException") && message.contains("nothing was deleted"),
            "{message}"
        );
        assert!(message.contains("the job a is RUNNING"), "{message}");
        assert!(!verbs(&calls).iter().any(|v| ["delete", "apply"].contains(v)), "{calls:#?}");
    }

    #[test]
    fn a_lost_stop_request_ends_at_once_with_where_the_savepoint_would_be() {
        let cluster = RefCell::new(Cluster::new(live(SPEC, &[])));
        cluster.borrow_mut().stop = StopAnswer::Lost;
        let mut options = Options { cluster: options(SPEC, &[]), ..Options::default() };
        options.cluster.wait = Duration::from_secs(60);
        let (result, calls, _) = upgrade_with(&cluster, &options);
        let message = result.unwrap_err().to_string();
        assert!(
            message.contains(
                "the savepoint was not confirmed: the JobManager no longer knows the request"
            ),
            "{message}"
        );
        assert!(message.contains("the newest savepoint-a-* under s3://b/savepoints"), "{message}");
        assert!(message.contains("--set spec.job.fromSavepoint=SAVEPOINT_PATH"), "{message}");
        assert!(!verbs(&calls).iter().any(|v| ["delete", "apply"].contains(v)), "{calls:#?}");
    }

    #[test]
    fn a_job_manager_that_never_runs_ends_the_wait_with_the_resume_command() {
        let cluster = RefCell::new(Cluster::new(live(SPEC, &[])));
        cluster.borrow_mut().new_job_runs = false;
        let mut options = Options { cluster: options(SPEC, &[]), ..Options::default() };
        options.cluster.wait = Duration::from_secs(1);
        let (result, _, progress) = upgrade_with(&cluster, &options);
        let message = result.unwrap_err().to_string();
        assert!(
            message.contains("timed out after 1 s waiting for the job to run again"),
            "{message}"
        );
        assert!(
            message.contains("stopped with a savepoint (its path is in the command below)"),
            "{message}"
        );
        assert!(
            message.contains(&format!("kubectl flink apply -f orders.yaml --set spec.job.fromSavepoint={PATH} -n streaming")),
            "{message}"
        );
        assert!(progress.contains("waiting for the job to run again (at most 1 s)"), "{progress}");
    }

    #[test]
    fn dry_run_changes_nothing_and_prints_the_plan_and_objects() {
        let cluster = RefCell::new(Cluster::new(live(SPEC, &[])));
        let options = Options { cluster: options(SPEC, &[]), dry_run: true, ..Options::default() };
        let (result, calls, progress) = upgrade_with(&cluster, &options);
        let stdout = String::from_utf8(result.unwrap().stdout).unwrap();
        assert!(stdout.contains("kind: Job") && stdout.contains("--fromSavepoint"), "{stdout}");
        assert!(progress.contains("1. stop the job with a savepoint"), "{progress}");
        assert!(calls.iter().all(|c| c.starts_with("get ")), "{calls:#?}");
    }

    #[test]
    fn last_state_is_refused_when_the_ha_storage_would_move() {
        let cluster = RefCell::new(Cluster::new(live(SPEC, &[])));
        let options = Options {
            cluster: options(SPEC, &["spec.highAvailability.storageDir=s3://other/recovery"]),
            mode: UpgradeMode::LastState,
            ..Options::default()
        };
        let (result, calls, _) = upgrade_with(&cluster, &options);
        let message = result.unwrap_err().to_string();
        assert!(message.contains("would change high-availability.storageDir from s3://b/recovery to s3://other/recovery"), "{message}");
        assert!(calls.iter().all(|c| c.starts_with("get ")), "{calls:#?}");
    }

    #[test]
    fn last_state_replaces_the_objects_without_stopping_the_job() {
        let cluster = RefCell::new(Cluster::new(live(SPEC, &[])));
        let options = Options {
            cluster: options(SPEC, &[]),
            mode: UpgradeMode::LastState,
            ..Options::default()
        };
        let (result, calls, progress) = upgrade_with(&cluster, &options);
        // The scripted new job restored the savepoint (id 8), which is newer than checkpoint 7.
        result.unwrap_or_else(|e| panic!("{e}\n{progress}"));
        assert!(!calls.iter().any(|c| c.contains("/stop")), "{calls:#?}");
        assert!(!cluster.borrow().applied.clone().unwrap().contains("--fromSavepoint"));
    }

    #[test]
    fn last_state_refuses_job_changes_it_cannot_carry() {
        let cluster = RefCell::new(Cluster::new(live(SPEC, &[])));
        for set in ["spec.job.args[1]=b", "spec.job.parallelism=3", "spec.job.entryClass=x.Y"] {
            let options = Options {
                cluster: options(SPEC, &[set]),
                mode: UpgradeMode::LastState,
                ..Options::default()
            };
            let (result, calls, _) = upgrade_with(&cluster, &options);
            let message = result.unwrap_err().to_string();
            assert!(message.contains("would change the job itself"), "{set}: {message}");
            assert!(calls.iter().all(|c| c.starts_with("get ")), "{calls:#?}");
        }
    }

    #[test]
    fn resume_commands_keep_the_connection_the_input_and_the_mode() {
        let mut cluster_options = options(SPEC, &["spec.job.args[1]=b"]);
        cluster_options.connection = crate::commands::kubectl::Connection {
            context: Some("prod".into()),
            kubeconfig: Some("/k/config".into()),
        };
        cluster_options.specs.inputs[0].origin = "<stdin>".into();
        let target = Target {
            name: "orders".into(),
            namespace: "streaming".into(),
            mode: crate::spec::Mode::Standalone,
            spec: None,
        };
        let resume = Resume {
            options: &cluster_options,
            sets: &[],
            target: &target,
            mode: UpgradeMode::Stateless,
        };
        let err = resume.attach(Error::input_one(Diagnostic::new("x")), "state", None);
        assert_eq!(
            err.diagnostics[0].commands,
            [
                "kubectl flink delete orders --keep-ha -n streaming --context prod --kubeconfig /k/config",
                "kubectl flink apply -f - --set 'spec.job.args[1]=b' --set spec.job.fromSavepoint=null -n streaming --context prod --kubeconfig /k/config",
            ]
        );
        assert!(err.to_string().contains("(with the same spec on stdin)"), "{err}");
    }

    #[test]
    fn upgrades_move_standalone_job_clusters_only() {
        let session = SPEC
            .replace("FlinkJobCluster", "FlinkSessionCluster")
            .replace("  job: {parallelism: 1, args: [--tag, a]}\n", "");
        let cluster = RefCell::new(Cluster::new(json!({"items": []})));
        let options = Options { cluster: options(&session, &[]), ..Options::default() };
        let err = upgrade_with(&cluster, &options).0.unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(
            err.to_string().contains("upgrade and scale move standalone job clusters"),
            "{err}"
        );
    }
}
