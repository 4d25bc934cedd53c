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
        .is_some_and(|mode| mode.eq_ignore_ascii_case("reactive"));
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
    let resume = Resume { options: &options.cluster, sets, target: &target };
    let saved = match &before.stop {
        Some(job) => Some(stop(&mut session, &target, job)?),
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
        let selector = target.ha_config_map_selector();
        session.delete("configmaps", &selector).map_err(|err| attach(err, &state))?;
    }
    let rendered =
        render(&cluster_options, &state_sets(mode, from)).map_err(|err| attach(err, &state))?;
    let what = format!("the new objects of `{}`", target.name);
    session.apply(&rendered.yaml, &what).map_err(|err| attach(err, &state))?;
    let expect = match mode {
        UpgradeMode::Savepoint => Restore::From(from.unwrap_or_default().to_owned()),
        UpgradeMode::LastState => Restore::Checkpoint(before.latest_checkpoint),
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
        Some(jid) => session
            .rest_read::<rest::Checkpoints>(target, &format!("jobs/{jid}/checkpoints"))?
            .ok()
            .and_then(|c| c.latest.completed)
            .map(|c| c.id),
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

/// Stop-with-savepoint of `job`; its path once Flink confirmed it.
fn stop(session: &mut Session, target: &Target, job: &str) -> Result<String, Error> {
    let dir = savepoint::savepoint_dir(target);
    let path = savepoint::take(session, target, job, Trigger::Stop, dir.as_deref()).map_err(
        |not_taken| {
            let state = job_state(session, target);
            not_taken.into_error(&format!("nothing was deleted; {state}"))
        },
    )?;
    session.say(&format!("savepoint confirmed: {path}"));
    Ok(path)
}

/// What the new job must have restored.
enum Restore {
    From(String),
    /// A checkpoint at least as new as this one (when one was known).
    Checkpoint(Option<u64>),
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
        (Restore::Checkpoint(min), Some(s)) if min.is_none_or(|min| s.id >= min) => {
            Ok(Look::Done(shown(&s)))
        }
        (Restore::Checkpoint(None) | Restore::Nothing, None) => {
            Ok(Look::Done(", with empty state".to_owned()))
        }
        (_, Some(s)) => Err(failed(
            format!("the new job of `{}` runs, but{} ", target.name, shown(&s)),
            match expect {
                Restore::From(path) => format!(
                    "it should have restored {path}: check that no HA data of an older run is left"
                ),
                Restore::Checkpoint(min) => format!(
                    "it should have restored checkpoint {} or later",
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
    for keys in HA_KEYS {
        let (old, new) = (live.option(keys), new.option(keys));
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
}

impl Resume<'_> {
    fn command(&self, from: Option<&str>) -> String {
        let o = self.options;
        let mut words = vec!["kubectl".to_owned(), "flink".to_owned(), "apply".to_owned()];
        for input in &o.specs.inputs {
            words.extend(["-f".to_owned(), shell_word(&input.origin)]);
        }
        for over in o.specs.overrides.iter().chain(self.sets) {
            // `--mode native` arrives as an override of its own spelling.
            match over.arg.strip_prefix("--") {
                Some(_) => words.extend(over.arg.split(' ').map(shell_word)),
                None => words.extend(["--set".to_owned(), shell_word(&over.arg)]),
            }
        }
        if let Some(path) = from {
            words.extend([
                "--set".to_owned(),
                shell_word(&format!("spec.job.fromSavepoint={path}")),
            ]);
            if o.specs.policy.allow_savepoint_without_ha {
                words.push("--allow-savepoint-without-ha".to_owned());
            }
        }
        if let Some(dir) = &o.templates {
            words.extend(["--templates".to_owned(), shell_word(&dir.display().to_string())]);
        }
        words.extend(["-n".to_owned(), shell_word(&self.target.namespace)]);
        words.extend(o.connection.flags().iter().map(|w| shell_word(w)));
        words.join(" ")
    }

    /// `err` with the commands that resume the upgrade once its cause is fixed.
    fn attach(&self, mut err: Error, state: &str, from: Option<&str>) -> Error {
        let delete = format!(
            "kubectl flink delete {} -n {} --keep-ha",
            shell_word(&self.target.name),
            shell_word(&self.target.namespace)
        );
        if err.diagnostics.is_empty() {
            err.diagnostics.push(Diagnostic::new(state.to_owned()));
        }
        let first = &mut err.diagnostics[0];
        first.help =
            Some("once the cause is fixed, these two commands resume the upgrade:".to_owned());
        first.commands = vec![delete, self.command(from)];
        err
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::time::Duration;

    use serde_json::json;

    use super::*;
    use crate::commands::kubectl::Scripted;
    use crate::commands::testing::{PATH, SPEC, live, options};

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
        savepoint_fails: bool,
        new_job_runs: bool,
    }

    impl Cluster {
        fn new(live: Value) -> Self {
            Self {
                live,
                deleted: false,
                applied: None,
                polls: 0,
                savepoint_fails: false,
                new_job_runs: true,
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
                return Ok(self.live.to_string());
            }
            if let Some(rest) = call.strip_prefix(&format!("get --raw {proxy}")) {
                let path = rest.split(' ').next().unwrap();
                let old = !self.deleted;
                return match path {
                    "jobs/overview" if old => Ok(job("a", "RUNNING")),
                    "jobs/overview" if self.applied.is_some() && self.new_job_runs => Ok(job("b", "RUNNING")),
                    "jobs/overview" => unavailable,
                    "jobs/a/checkpoints" => Ok(json!({"latest": {"completed": {"id": 7, "external_path": "s3://b/chk-7"}}}).to_string()),
                    "jobs/a/savepoints/r1" if self.polls == 0 => {
                        self.polls += 1;
                        Ok(json!({"status": {"id": "IN_PROGRESS"}}).to_string())
                    }
                    "jobs/a/savepoints/r1" if self.savepoint_fails => Ok(json!({"status": {"id": "COMPLETED"},
                        "operation": {"failure-cause": {"class": "java.io.IOException",
                        "stack-trace": "java.io.IOException: Permission denied\n\tat x.y\nCaused by: java.nio.file.AccessDeniedException: /sp"}}}).to_string()),
                    "jobs/a/savepoints/r1" => Ok(json!({"status": {"id": "COMPLETED"}, "operation": {"location": PATH}}).to_string()),
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
    fn a_failed_savepoint_deletes_nothing_and_says_why() {
        let cluster = RefCell::new(Cluster::new(live(SPEC, &[])));
        cluster.borrow_mut().savepoint_fails = true;
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
