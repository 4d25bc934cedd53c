//! Every rule on a spec, after it has been read: names, ranges, memory, HA, options each Flink
//! version can carry, pod fragments and native mode. Problems carry the field path in the
//! user's spelling; the pipeline turns paths into file and line.

mod native;
mod pod;
pub(crate) mod reactive;

use std::collections::BTreeMap;

use crate::error::{Diagnostic, display_path, key, path};
use crate::flink::SHUTDOWN_ON_APPLICATION_FINISH;
use crate::flink::options;
use crate::flink::version::{FlinkVersion, Process};
use crate::flink::{REST_PORT, RPC_PORT};
use crate::k8s::quantity::{self, Quantity};
use crate::k8s::{names, rules};
use crate::spec::{
    ClusterSpec, ConfigMode, ConfigValue, Entrypoint, FlinkCluster, HaType, HighAvailability,
    JobManagerKind, Metadata, Mode, Resources, TaskManagerSpec,
};
use crate::yaml::PathSegment;

/// Choices made on the command line that validation must know.
#[derive(Debug, Clone, Copy, Default)]
pub struct Policy {
    /// `--allow-savepoint-without-ha`.
    pub allow_savepoint_without_ha: bool,
}

/// A spec that passed validation, with what validation learnt on the way.
#[derive(Debug, Clone, PartialEq)]
pub struct Valid {
    pub cluster: FlinkCluster,
    pub version: FlinkVersion,
    /// `flinkConfiguration`, flattened to dotted keys.
    pub flink_configuration: BTreeMap<String, String>,
    /// Things worth saying that do not stop the render.
    pub warnings: Vec<String>,
}

/// Longest cluster name: the longest derived name, the Service `<name>-jobmanager-rest`,
/// must stay a 63-character DNS label.
pub const MAX_NAME: usize = names::MAX_LABEL - "-jobmanager-rest".len();

/// Validates a spec and flattens its Flink configuration.
pub fn validate(cluster: FlinkCluster, policy: Policy) -> Result<Valid, Vec<Diagnostic>> {
    let mut problems = Vec::new();
    let mut warnings = Vec::new();
    validate_metadata(&cluster.metadata, &mut problems);
    let spec = &cluster.spec;
    let version = match spec.flink_version.as_deref().map(FlinkVersion::parse) {
        None => FlinkVersion::NEWEST,
        Some(Ok(v)) => v,
        Some(Err(Diagnostic { message, .. })) => {
            problems.push(Diagnostic::field(path(&["spec", "flinkVersion"]), message));
            FlinkVersion::NEWEST
        }
    };
    check_text(&spec.image, path(&["spec", "image"]), &mut problems);
    if cluster.is_session() {
        if spec.job.is_some() {
            problems.push(
                Diagnostic::field(path(&["spec", "job"]), "a FlinkSessionCluster runs no job of its own")
                    .with_help("remove `spec.job` and submit jobs with `flink run`, or use `kind: FlinkJobCluster`"),
            );
        }
    } else {
        validate_job(spec, policy, &mut problems, &mut warnings);
    }
    validate_task_manager(&spec.task_manager, &mut problems);
    validate_job_manager(&cluster, version, &mut problems);
    let mut flink_configuration = BTreeMap::new();
    for (name, value) in flatten(&spec.flink_configuration) {
        if flink_configuration.contains_key(&name) {
            problems.push(
                Diagnostic::field(
                    vec![key("spec"), key("flinkConfiguration"), key(&name)],
                    format!("`{name}` is given twice, once dotted and once nested"),
                )
                .with_help("keep one spelling, e.g. `state.backend.type: rocksdb`"),
            );
        }
        flink_configuration.insert(name, value.to_owned());
    }
    for (component, process, resources) in [
        ("jobManager", Process::JobClusterJobManager, &spec.job_manager.resources),
        ("taskManager", Process::TaskManager, &spec.task_manager.resources),
    ] {
        if let Some(resources) = resources {
            validate_resources(resources, &["spec", component, "resources"], &mut problems);
            warn_decimal_memory(resources, component, &mut warnings);
            check_heap_fits(
                resources,
                version.memory_key(process),
                version,
                &["spec", component, "resources", "memory"],
                &mut problems,
            );
            check_memory_accepted(
                resources,
                component,
                process,
                version,
                &flink_configuration,
                &mut problems,
            );
        }
    }
    if let Some(ha) = &spec.high_availability {
        validate_ha(ha, version, &mut problems);
    }
    pod::validate(spec, &mut problems);
    pod::validate_restart_policies(&cluster, &mut problems);
    validate_config_mode(&cluster, version, &mut problems, &mut warnings);
    if let Some(dir) = &spec.savepoint_dir {
        check_text(dir, path(&["spec", "savepointDir"]), &mut problems);
    }
    validate_flink_configuration(
        &flink_configuration,
        version,
        cluster.is_session(),
        &mut problems,
        &mut warnings,
    );
    if spec.mode != Some(Mode::Native) {
        refuse_standalone_owned(&flink_configuration, spec.metrics.is_some(), &mut problems);
        // The Job completes, or the Deployment stays up, only with the value `kind` implies.
        if !cluster.is_session() && flink_configuration.contains_key(SHUTDOWN_ON_APPLICATION_FINISH)
        {
            problems.push(owned_by(SHUTDOWN_ON_APPLICATION_FINISH, "spec.jobManager.kind"));
        }
    }
    validate_carried_options(&cluster, version, &flink_configuration, &mut problems);
    validate_metrics(spec, version, &mut problems);
    // Native mode's own rules (and the refusal of its fields in standalone mode).
    native::validate(&cluster, version, &flink_configuration, &mut problems, &mut warnings);
    reactive::validate(&cluster, version, &flink_configuration, &mut problems);
    if problems.is_empty() {
        Ok(Valid { cluster, version, flink_configuration, warnings })
    } else {
        Err(problems)
    }
}

fn validate_metadata(metadata: &Metadata, problems: &mut Vec<Diagnostic>) {
    if let Err(Diagnostic { message, .. }) = names::check_dns1035_label(&metadata.name) {
        problems.push(Diagnostic::field(path(&["metadata", "name"]), message).with_help(
            "use lowercase letters, digits and `-`, starting with a letter, e.g. `wordcount`",
        ));
    } else if metadata.name.len() > MAX_NAME {
        problems.push(
            Diagnostic::field(
                path(&["metadata", "name"]),
                format!(
                    "`{}` is {} characters; the longest allowed is {MAX_NAME}, so that \
                     `{}-jobmanager-rest` stays within the 63-character limit of Kubernetes names",
                    metadata.name,
                    metadata.name.len(),
                    metadata.name
                ),
            )
            .with_help("choose a shorter name"),
        );
    }
    if let Some(namespace) = &metadata.namespace
        && let Err(Diagnostic { message, .. }) = names::check_dns_label(namespace)
    {
        problems.push(Diagnostic::field(path(&["metadata", "namespace"]), message));
    }
    for (label, value) in &metadata.labels {
        let at = || vec![key("metadata"), key("labels"), key(label)];
        if let Err(Diagnostic { message, .. }) = names::check_label_key(label) {
            problems.push(Diagnostic::field(at(), message));
        }
        if let Err(Diagnostic { message, .. }) = names::check_label_value(value) {
            problems.push(Diagnostic::field(at(), message));
        }
        if names::RESERVED_LABELS.contains(&label.as_str()) {
            problems.push(
                Diagnostic::field(at(), format!("label `{label}` is set by kubectl-flink"))
                    .with_help("remove it; kubectl-flink uses it to select the cluster's pods"),
            );
        }
    }
}

/// Rejects empty text and control characters (a newline in an image name or path is
/// always a mistake, and Kubernetes refuses most of them).
fn check_text(text: &str, at: Vec<PathSegment>, problems: &mut Vec<Diagnostic>) {
    if text.trim().is_empty() {
        problems.push(Diagnostic::field(at, "must not be empty"));
    } else if text.chars().any(|c| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}')) {
        problems.push(Diagnostic::field(
            at,
            "must not contain control characters (newlines, tabs, NUL)",
        ));
    } else if text.trim() != text {
        problems.push(Diagnostic::field(at, "must not start or end with white space"));
    }
}

fn validate_job(
    spec: &ClusterSpec,
    policy: Policy,
    problems: &mut Vec<Diagnostic>,
    warnings: &mut Vec<String>,
) {
    let job = spec.job();
    if let Some(class) = &job.entry_class
        && !is_java_class_name(class)
    {
        problems.push(
            Diagnostic::field(
                path(&["spec", "job", "entryClass"]),
                format!("`{class}` is not a Java class name"),
            )
            .with_help("use the fully qualified name, e.g. `org.example.WordCount`"),
        );
    }
    check_range(job.parallelism, 1, 32768, &["spec", "job", "parallelism"], problems);
    if let Some(savepoint) = &job.from_savepoint {
        check_text(savepoint, path(&["spec", "job", "fromSavepoint"]), problems);
        if savepoint.starts_with('-') {
            // The entrypoint's parser would read it as an option, leaving --fromSavepoint empty.
            problems.push(
                Diagnostic::field(
                    path(&["spec", "job", "fromSavepoint"]),
                    format!("`{savepoint}` starts with `-`, which Flink reads as an option"),
                )
                .with_help(
                    "give the savepoint's path or URI, e.g. `s3://bucket/savepoints/savepoint-…`",
                ),
            );
        }
        if spec.high_availability.is_none() && !policy.allow_savepoint_without_ha {
            problems.push(
                Diagnostic::field(
                    path(&["spec", "job", "fromSavepoint"]),
                    "`fromSavepoint` needs `spec.highAvailability`: Kubernetes restarts a failed \
                     JobManager with the same arguments, so without HA every restart rewinds the \
                     job to this savepoint and loses all progress since",
                )
                .with_help(
                    "add `spec.highAvailability` (then a restart resumes from the latest \
                     checkpoint), or pass `--allow-savepoint-without-ha` if rewinding is acceptable",
                ),
            );
        }
    }
    if job.allow_non_restored_state == Some(true) && job.from_savepoint.is_none() {
        warnings.push(
            "spec.job.allowNonRestoredState has no effect without spec.job.fromSavepoint".into(),
        );
    }
    if reactive::requested(spec) {
        // Flink's elastic scaling docs: reactive mode treats the configured parallelism as
        // infinite, so the job runs on every slot there is.
        if job.parallelism.is_some() {
            warnings.push(
                "spec.job.parallelism is ignored in reactive mode: the job runs on every task \
                 slot there is (up to its max parallelism)"
                    .into(),
            );
        }
        return;
    }
    let slots = spec.task_manager.slots.unwrap_or(1) * spec.task_manager.replicas.unwrap_or(1);
    let parallelism = job.parallelism.unwrap_or(1);
    // In native mode the JobManager starts as many TaskManagers as the job needs.
    if parallelism > slots && slots > 0 && spec.mode != Some(Mode::Native) {
        warnings.push(format!(
            "spec.job.parallelism ({parallelism}) is more than the task slots \
             (taskManager.replicas × taskManager.slots = {slots}): the job waits until more \
             TaskManagers join"
        ));
    }
}

fn is_java_class_name(name: &str) -> bool {
    name.split('.').all(|part| {
        let mut chars = part.chars();
        chars.next().is_some_and(|c| c.is_alphabetic() || c == '_' || c == '$')
            && chars.all(|c| c.is_alphanumeric() || c == '_' || c == '$')
    })
}

fn check_range(
    value: Option<i64>,
    min: i64,
    max: i64,
    at: &[&str],
    problems: &mut Vec<Diagnostic>,
) {
    if let Some(value) = value
        && !(min..=max).contains(&value)
    {
        let bound = if value < min { format!("≥ {min}") } else { format!("≤ {max}") };
        problems.push(
            Diagnostic::field(path(at), format!("must be {bound} (got {value})"))
                .with_help(format!("use a whole number from {min} to {max}")),
        );
    }
}

fn validate_job_manager(
    cluster: &FlinkCluster,
    version: FlinkVersion,
    problems: &mut Vec<Diagnostic>,
) {
    let jm = &cluster.spec.job_manager;
    validate_job_manager_kind(cluster, version, problems);
    check_range(jm.replicas, 1, 16, &["spec", "jobManager", "replicas"], problems);
    check_range(
        jm.backoff_limit,
        0,
        i64::from(i32::MAX),
        &["spec", "jobManager", "backoffLimit"],
        problems,
    );
    if jm.replicas.is_some_and(|r| r > 1) && cluster.spec.high_availability.is_none() {
        problems.push(
            Diagnostic::field(
                path(&["spec", "jobManager", "replicas"]),
                "standby JobManagers need `spec.highAvailability`: without it every JobManager \
                 would lead on its own",
            )
            .with_help("add `spec.highAvailability`, or remove `replicas`"),
        );
    }
    if jm.backoff_limit.is_some() && cluster.is_session() {
        problems.push(
            Diagnostic::field(
                path(&["spec", "jobManager", "backoffLimit"]),
                "a FlinkSessionCluster's JobManager is a Deployment, which has no backoff limit",
            )
            .with_help("remove `backoffLimit`"),
        );
    } else if jm.backoff_limit.is_some() && cluster.jobmanager_is_deployment() {
        problems.push(
            Diagnostic::field(
                path(&["spec", "jobManager", "backoffLimit"]),
                "`jobManager.kind: Deployment` has no backoff limit: the Deployment restarts a \
                 failed JobManager for as long as it fails",
            )
            .with_help("remove `backoffLimit`"),
        );
    }
}

/// `jobManager.kind` chooses between a Job and a Deployment for a standalone job cluster
/// only; elsewhere the JobManager is a Deployment, which `kind: Deployment` merely restates.
fn validate_job_manager_kind(
    cluster: &FlinkCluster,
    version: FlinkVersion,
    problems: &mut Vec<Diagnostic>,
) {
    let at = || path(&["spec", "jobManager", "kind"]);
    let always_deployment = if cluster.is_session() {
        Some("a FlinkSessionCluster's JobManager")
    } else if cluster.spec.mode == Some(Mode::Native) {
        Some("in native mode the JobManager")
    } else {
        None
    };
    match (cluster.spec.job_manager.kind, always_deployment) {
        (Some(JobManagerKind::Job), Some(what)) => problems.push(
            Diagnostic::field(at(), format!("{what} is always a Deployment"))
                .with_help("remove `jobManager.kind`: only a standalone FlinkJobCluster's JobManager can be a Job"),
        ),
        (Some(JobManagerKind::Deployment), None) if !version.keeps_application_cluster_up() => {
            problems.push(
                Diagnostic::field(
                    at(),
                    format!(
                        "`Deployment` needs Flink 1.15 or newer: Flink {version} has no \
                         `execution.shutdown-on-application-finish`, so its JobManager would \
                         exit when the job ends and the Deployment would run the job again"
                    ),
                )
                .with_help("use `kind: Job` (the default), or Flink 1.15 or newer"),
            );
        }
        _ => {}
    }
}

fn validate_task_manager(tm: &TaskManagerSpec, problems: &mut Vec<Diagnostic>) {
    check_range(tm.replicas, 1, 10_000, &["spec", "taskManager", "replicas"], problems);
    check_range(tm.slots, 1, 1024, &["spec", "taskManager", "slots"], problems);
}

fn validate_resources(resources: &Resources, at: &[&str], problems: &mut Vec<Diagnostic>) {
    let field = |name: &str| {
        let mut p = path(at);
        p.push(key(name));
        p
    };
    if let Some(cpu) = &resources.cpu {
        match Quantity::parse(&cpu.text()) {
            Ok(q) if q.is_zero() => {
                problems.push(Diagnostic::field(field("cpu"), "must be more than 0"));
            }
            Ok(_) => {}
            Err(Diagnostic { message, .. }) => {
                problems.push(Diagnostic::field(field("cpu"), message));
            }
        }
    }
    if let Some(memory) = &resources.memory {
        match Quantity::parse(&memory.text()).map(Quantity::bytes) {
            Ok(Some(bytes)) if bytes < 128 * 1024 * 1024 => problems.push(
                Diagnostic::field(field("memory"), format!("`{}` is too little for a Flink process", memory.text()))
                    .with_help("give it at least 128Mi; Flink's own defaults are 1600Mi (JobManager) and 1728Mi (TaskManager)"),
            ),
            Ok(Some(bytes)) if bytes > i64::MAX as u128 => problems.push(
                Diagnostic::field(field("memory"), format!("`{}` is more bytes than Flink's MemorySize can hold (2^63 - 1)", memory.text()))
                    .with_help("give it a realistic size, e.g. \"64Gi\""),
            ),
            Ok(Some(_)) => {}
            Ok(None) => problems.push(
                Diagnostic::field(field("memory"), format!("`{}` is not a whole number of bytes", memory.text()))
                    .with_help("use a unit such as Mi or Gi, e.g. \"1600Mi\""),
            ),
            Err(Diagnostic { message, .. }) => problems.push(Diagnostic::field(field("memory"), message)),
        }
    }
}

/// `2G` is a valid quantity, but 2×10^9 bytes: someone who writes Flink's `2g` (2 GiB) in
/// Kubernetes' spelling gets 7 % less than they think, so say so and suggest `2Gi`.
fn warn_decimal_memory(resources: &Resources, component: &str, warnings: &mut Vec<String>) {
    let Some(memory) = &resources.memory else { return };
    let text = memory.text();
    let Some(decimal) = quantity::decimal_suffix(&text).filter(|_| Quantity::parse(&text).is_ok())
    else {
        return;
    };
    let number = &text[..text.len() - decimal.suffix.len()];
    warnings.push(format!(
        "spec.{component}.resources.memory: `{text}` is decimal to Kubernetes ({number} × 10^{} bytes), while Flink reads `{number}{}` as binary; write `{number}{}` for {number} {}B",
        decimal.exp10,
        decimal.suffix.to_lowercase(),
        decimal.binary,
        decimal.binary,
    ));
}

/// Before Flink 1.10/1.11 a process is sized by its heap. kubectl-flink sets it to the
/// container's memory minus the cutoff Flink's YARN and Mesos integrations keep for the rest
/// of the JVM (`containerized.heap-cutoff-*`: a quarter, at least 600 MiB), which standalone
/// Flink does not apply itself; it must leave a usable heap.
fn check_heap_fits(
    resources: &Resources,
    key: crate::flink::version::MemoryKey,
    version: FlinkVersion,
    at: &[&str],
    problems: &mut Vec<Diagnostic>,
) {
    let crate::flink::version::MemoryKey::Heap(option) = key else { return };
    let Some(memory) = &resources.memory else { return };
    let Some(bytes) = Quantity::parse(&memory.text()).ok().and_then(Quantity::bytes) else {
        return;
    };
    if crate::k8s::quantity::heap_after_cutoff(bytes).is_none() {
        problems.push(
            Diagnostic::field(
                path(at),
                format!(
                    "`{}` leaves no usable heap for `{option}` on Flink {version}: kubectl-flink keeps a quarter of the container, at least 600 MiB, for the JVM's memory beyond the heap (Flink's containerized cutoff)",
                    memory.text()
                ),
            )
            .with_help("give it at least 768Mi"),
        );
    }
}

/// A process size below what the version's memory calculation accepts never starts. Only
/// with Flink's default memory settings: a spec that sizes the components itself is its own.
fn check_memory_accepted(
    resources: &Resources,
    component: &str,
    process: Process,
    version: FlinkVersion,
    flink_configuration: &BTreeMap<String, String>,
    problems: &mut Vec<Diagnostic>,
) {
    let Some(min) = version.min_process_memory(process) else { return };
    let prefix = if process.is_jobmanager() { "jobmanager.memory." } else { "taskmanager.memory." };
    if flink_configuration.keys().any(|key| key.starts_with(prefix)) {
        return;
    }
    let Some(memory) = &resources.memory else { return };
    let Some(bytes) = Quantity::parse(&memory.text()).ok().and_then(Quantity::bytes) else {
        return;
    };
    if bytes < min {
        let role = if process.is_jobmanager() { "JobManager" } else { "TaskManager" };
        let least = min.div_ceil(1 << 20);
        problems.push(
            Diagnostic::field(
                path(&["spec", component, "resources", "memory"]),
                format!(
                    "`{}` is less than Flink {version} can start a {role} in: its memory \
                     calculation needs at least {least}Mi with the default memory settings",
                    memory.text()
                ),
            )
            .with_help(format!(
                "give it at least {least}Mi (Flink's own default is {}), or size its memory \
                 components with `{prefix}*` options in flinkConfiguration",
                if process.is_jobmanager() { "1600Mi" } else { "1728Mi" }
            )),
        );
    }
}

fn validate_ha(ha: &HighAvailability, version: FlinkVersion, problems: &mut Vec<Diagnostic>) {
    check_text(&ha.storage_dir, path(&["spec", "highAvailability", "storageDir"]), problems);
    match (ha.ha_type, &ha.zookeeper) {
        (HaType::Kubernetes, _) if !version.has_kubernetes_ha() => problems.push(
            Diagnostic::field(
                path(&["spec", "highAvailability", "type"]),
                format!("Kubernetes HA needs Flink 1.12 or newer (spec.flinkVersion is {version})"),
            )
            .with_help("use `type: zookeeper`, or a newer spec.flinkVersion"),
        ),
        (HaType::Kubernetes, Some(_)) => problems.push(
            Diagnostic::field(
                path(&["spec", "highAvailability", "zookeeper"]),
                "`zookeeper` settings do not apply to `type: kubernetes`",
            )
            .with_help("remove `zookeeper`, or use `type: zookeeper`"),
        ),
        (HaType::Kubernetes, None) => {}
        (HaType::Zookeeper, None) => problems.push(
            Diagnostic::field(
                path(&["spec", "highAvailability"]),
                "`type: zookeeper` needs `zookeeper.quorum`",
            )
            .with_help("add `zookeeper: {quorum: \"zk-0.zk:2181\"}`"),
        ),
        (HaType::Zookeeper, Some(zk)) => {
            check_text(
                &zk.quorum,
                path(&["spec", "highAvailability", "zookeeper", "quorum"]),
                problems,
            );
            if zk.quorum.contains(char::is_whitespace) {
                problems.push(Diagnostic::field(
                    path(&["spec", "highAvailability", "zookeeper", "quorum"]),
                    "must be `host:port` entries separated by commas, without spaces",
                ));
            }
            if let Some(root) = &zk.path_root
                && (!root.starts_with('/') || root.chars().any(char::is_whitespace))
            {
                problems.push(
                    Diagnostic::field(
                        path(&["spec", "highAvailability", "zookeeper", "pathRoot"]),
                        format!("`{root}` is not a znode path"),
                    )
                    .with_help("start it with `/`, e.g. `/flink`"),
                );
            }
        }
    }
}

fn validate_config_mode(
    cluster: &FlinkCluster,
    version: FlinkVersion,
    problems: &mut Vec<Diagnostic>,
    warnings: &mut Vec<String>,
) {
    let spec = &cluster.spec;
    if spec.mode == Some(Mode::Native) {
        return; // native mode always ships Flink's own ConfigMap: validate::native checks it
    }
    let configmap = spec.config_mode == Some(ConfigMode::Configmap);
    // The legacy flink-conf.yaml parser cuts a line at `#`, whatever precedes it.
    if configmap && version.config_file() == "flink-conf.yaml" {
        let mut values: Vec<(Vec<PathSegment>, &str)> = Vec::new();
        if let Some(dir) = &spec.savepoint_dir {
            values.push((path(&["spec", "savepointDir"]), dir));
        }
        if let Some(ha) = &spec.high_availability {
            values.push((path(&["spec", "highAvailability", "storageDir"]), &ha.storage_dir));
        }
        for (name, value) in flatten(&spec.flink_configuration) {
            values.push((vec![key("spec"), key("flinkConfiguration"), key(&name)], value));
        }
        for (at, value) in values {
            if value.contains('#') || value.trim() != value {
                problems.push(
                    Diagnostic::field(
                        at,
                        format!("Flink {version} reads flink-conf.yaml, where `#` starts a comment and outer spaces are dropped, so `{value}` cannot be written there"),
                    )
                    .with_help("use `configMode: args`, or a value without `#`"),
                );
            }
        }
    }
    if !configmap && !spec.log_configuration.is_empty() {
        warnings.push("spec.logConfiguration is used only with `configMode: configmap`".into());
    }
    for name in spec.log_configuration.keys() {
        let path = || vec![key("spec"), key("logConfiguration"), key(name)];
        if let Err(Diagnostic { message, .. }) = rules::check_config_map_key(name) {
            problems.push(Diagnostic::field(
                path(),
                format!("{message}: not a file name for the configuration directory"),
            ));
        } else if matches!(name.as_str(), "flink-conf.yaml" | "config.yaml") {
            problems.push(
                Diagnostic::field(path(), format!("`{name}` is the Flink configuration file, which kubectl-flink writes"))
                    .with_help("set Flink options in spec.flinkConfiguration; logConfiguration holds logging files such as log4j-console.properties"),
            );
        }
    }
}

/// What a session JobManager started by `jobmanager.sh` itself (`entrypoint: script`) cannot
/// take; false when nothing of its options can reach it.
fn validate_script_session(
    cluster: &FlinkCluster,
    version: FlinkVersion,
    problems: &mut Vec<Diagnostic>,
) -> bool {
    let fix = "set `configMode: configmap`, or remove `entrypoint: script` to use the image's \
               entrypoint";
    if !cluster.is_session() {
        return true;
    }
    if !version.session_jobmanager_takes_options() {
        problems.push(
            Diagnostic::field(
                path(&["spec", "entrypoint"]),
                format!(
                    "Flink {version}'s jobmanager.sh drops every option given as an argument, and \
                     with `entrypoint: script` nothing else can carry the JobManager's options"
                ),
            )
            .with_help(fix),
        );
        return false;
    }
    let memory = cluster.spec.job_manager.resources.as_ref().is_some_and(|r| r.memory.is_some());
    if memory && !version.session_jobmanager_sized_by_options() {
        problems.push(
            Diagnostic::field(
                path(&["spec", "jobManager", "resources", "memory"]),
                format!(
                    "Flink {version}'s jobmanager.sh sizes the JVM from its configuration file \
                     alone, which `entrypoint: script` cannot reach"
                ),
            )
            .with_help(fix),
        );
    }
    true
}

/// Options a start script cannot take as arguments reach Flink only through the official
/// image's entrypoint, which appends `FLINK_PROPERTIES` to the configuration file; in
/// `args` mode a spec whose options have no way in is refused, naming the version and the fix.
fn validate_carried_options(
    cluster: &FlinkCluster,
    version: FlinkVersion,
    flink_configuration: &BTreeMap<String, String>,
    problems: &mut Vec<Diagnostic>,
) {
    let spec = &cluster.spec;
    let jobmanager = if cluster.is_session() {
        Process::SessionJobManager
    } else {
        Process::JobClusterJobManager
    };
    validate_configmap_namespace(spec, version, jobmanager, problems);
    if spec.mode == Some(Mode::Native) || spec.config_mode == Some(ConfigMode::Configmap) {
        return;
    }
    let script = spec.entrypoint == Some(Entrypoint::Script);
    let fix = "set `configMode: configmap`";
    let session_takes_no_options =
        cluster.is_session() && !version.session_jobmanager_takes_options();
    if script && !validate_script_session(cluster, version, problems) {
        return;
    }
    // Whether the image's entrypoint starts the process (and so reads FLINK_PROPERTIES).
    let by_image = |process: Process| !script && version.image_entrypoint_starts(process);
    let mut carried: Vec<(Vec<PathSegment>, &str, &str, bool)> = flink_configuration
        .iter()
        .filter_map(|(name, value)| {
            let unread = |p: &Process| {
                !version.has_script_env_var(name) && !version.takes_dynamic_property(*p, name)
            };
            let processes: Vec<Process> =
                [jobmanager, Process::TaskManager].into_iter().filter(unread).collect();
            (!processes.is_empty()).then(|| {
                let at = vec![key("spec"), key("flinkConfiguration"), key(name)];
                (at, name.as_str(), value.as_str(), processes.into_iter().all(by_image))
            })
        })
        .collect();
    if session_takes_no_options {
        if let Some(dir) = &spec.savepoint_dir {
            carried.push((path(&["spec", "savepointDir"]), version.savepoint_dir_key(), dir, true));
        }
        if let Some(ha) = &spec.high_availability {
            let at = |field: &str| path(&["spec", "highAvailability", field]);
            carried.push((at("storageDir"), "high-availability.storageDir", &ha.storage_dir, true));
            if let Some(zk) = &ha.zookeeper {
                let at = |field: &str| path(&["spec", "highAvailability", "zookeeper", field]);
                carried.push((
                    at("quorum"),
                    "high-availability.zookeeper.quorum",
                    &zk.quorum,
                    true,
                ));
                if let Some(root) = &zk.path_root {
                    carried.push((
                        at("pathRoot"),
                        "high-availability.zookeeper.path.root",
                        root,
                        true,
                    ));
                }
            }
        }
    }
    for (at, name, value, by_image) in carried {
        let plain_key = name.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
        let why = if script {
            Some("with `entrypoint: script` nothing else can carry it".to_owned())
        } else if !plain_key {
            Some(
                "the image's entrypoint reads it from `FLINK_PROPERTIES`, which takes only keys of \
                 letters, digits, `.`, `_` and `-`"
                    .to_owned(),
            )
        } else if !by_image {
            Some(format!(
                "the Flink {version} image's entrypoint cannot start a job cluster, so nothing \
                 else can carry it"
            ))
        } else {
            unwritable_property(value, version).map(|what| {
                format!("the image's entrypoint reads it from `FLINK_PROPERTIES`, where {what}")
            })
        };
        if let Some(why) = why {
            problems.push(
                Diagnostic::field(
                    at,
                    format!(
                        "Flink {version} reads `{name}` only from its configuration file, and {why}"
                    ),
                )
                .with_help(format!("{fix}, which writes the file itself")),
            );
        }
    }
}

/// The pod's namespace is known only in the pod (`$(POD_NAMESPACE)`), which Kubernetes HA
/// needs; neither the arguments of a session JobManager up to 1.14 nor a read-only mounted
/// configuration file can take it there.
fn validate_configmap_namespace(
    spec: &ClusterSpec,
    version: FlinkVersion,
    jobmanager: Process,
    problems: &mut Vec<Diagnostic>,
) {
    let kubernetes_ha =
        spec.high_availability.as_ref().is_some_and(|ha| ha.ha_type == HaType::Kubernetes);
    if spec.config_mode == Some(ConfigMode::Configmap)
        && kubernetes_ha
        && !version.takes_dynamic_property(jobmanager, "kubernetes.namespace")
    {
        problems.push(
            Diagnostic::field(
                path(&["spec", "configMode"]),
                format!(
                    "a session JobManager on Flink {version} takes no options as arguments, so \
                     with `configMode: configmap` Kubernetes HA cannot learn the pod's namespace"
                ),
            )
            .with_help("use `configMode: args`, or Flink 1.15 or newer"),
        );
    }
}

/// Why a value cannot pass through the image entrypoint's `FLINK_PROPERTIES`, if it cannot
/// (see `FlinkVersion::image_parses_flink_properties`).
fn unwritable_property(value: &str, version: FlinkVersion) -> Option<&'static str> {
    let shell_safe = |c: char| c.is_ascii_alphanumeric() || "-_.:/,=@+%~^".contains(c);
    if value.contains('$') {
        Some("`$` would be replaced by environment variables")
    } else if value.contains('\\') {
        // The 1.9 … 1.11 images' /bin/sh `echo` expands backslash escapes (`\n`, `\c`).
        Some("a `\\` may be read as an escape")
    } else if version.image_parses_flink_properties() {
        if value.contains(char::is_whitespace) {
            Some("every blank is deleted")
        } else if !value.chars().all(shell_safe) {
            Some("characters the shell treats as syntax are unsafe")
        } else {
            None
        }
    } else if value.trim() != value {
        Some("outer spaces are dropped")
    } else if value.contains('#') {
        Some("`#` starts a comment")
    } else {
        None
    }
}

/// Flink up to 1.10 loads reporters from `lib/` only, and ships the Prometheus one in `opt/`.
fn validate_metrics(spec: &ClusterSpec, version: FlinkVersion, problems: &mut Vec<Diagnostic>) {
    if spec.metrics.is_some()
        && spec.mode != Some(Mode::Native)
        && !version.loads_reporter_plugins()
    {
        problems.push(
            Diagnostic::field(
                path(&["spec", "metrics"]),
                format!("Flink {version} ships the Prometheus reporter in `opt/`, and loads reporters from `lib/` only, so nothing would listen on the metrics port"),
            )
            .with_help("build an image with `opt/flink-metrics-prometheus-*.jar` copied to `lib/` and set `metrics.reporter.prom.class` in flinkConfiguration, or use Flink 1.11 or newer"),
        );
    }
}

/// Flattens nested maps into dotted keys, as Flink's `config.yaml` reads them.
fn flatten(map: &BTreeMap<String, ConfigValue>) -> Vec<(String, &str)> {
    let mut out = Vec::new();
    for (key, value) in map {
        match value {
            ConfigValue::Text(text) => out.push((key.clone(), text.as_str())),
            ConfigValue::Nested(nested) => {
                out.extend(flatten(nested).into_iter().map(|(k, v)| (format!("{key}.{k}"), v)));
            }
        }
    }
    out
}

fn validate_flink_configuration(
    config: &BTreeMap<String, String>,
    version: FlinkVersion,
    session: bool,
    problems: &mut Vec<Diagnostic>,
    warnings: &mut Vec<String>,
) {
    if config.contains_key("env.java.opts") && config.contains_key("env.java.opts.all") {
        problems.push(
            Diagnostic::field(
                vec![key("spec"), key("flinkConfiguration"), key("env.java.opts")],
                "`env.java.opts` and `env.java.opts.all` both set the JVM options of every \
                 process (FLINK_ENV_JAVA_OPTS)",
            )
            .with_help("keep one: `env.java.opts.all` (Flink ≥ 1.17) or `env.java.opts` (before)"),
        );
    }
    for (name, value) in config {
        let at = || vec![key("spec"), key("flinkConfiguration"), key(name)];
        // `#` starts a comment in flink-conf.yaml, which would cut the key short.
        if name.is_empty()
            || name.contains(|c: char| c == '=' || c == '#' || c.is_whitespace() || c.is_control())
        {
            problems.push(
                Diagnostic::field(at(), format!("`{name}` is not a Flink option key")).with_help(
                    "keys are dotted names without spaces, `=` or `#`, e.g. `state.backend.type`",
                ),
            );
            continue;
        }
        if let Some(field) = managed_by(name, version, session) {
            problems.push(owned_by(name, field));
        }
        if value.contains(['\n', '\r', '\0']) {
            problems.push(Diagnostic::field(at(), "a Flink option value must be one line"));
        }
        if let Some(warning) = version.key_warning(name) {
            warnings.push(format!("spec.flinkConfiguration: {warning}"));
        } else if let Some(warning) = options::unknown_key_warning(version, name) {
            warnings.push(format!("{}: {warning}", display_path(&at())));
        }
    }
}

/// Options a standalone cluster's objects depend on, or that a spec field sets: the ports its
/// Services, probes and Ingress use, Kubernetes HA's cluster id and namespace, the Prometheus
/// reporter of `spec.metrics`, and the container env of `spec.env` (which Flink's
/// `containerized.*.env.*` keys would set in native mode only). Bind hosts and JVM options
/// stay overridable on purpose (docs/reference.md, Spec reference).
fn refuse_standalone_owned(
    config: &BTreeMap<String, String>,
    metrics: bool,
    problems: &mut Vec<Diagnostic>,
) {
    for (name, value) in config {
        let at = || vec![key("spec"), key("flinkConfiguration"), key(name)];
        let fixed = match name.as_str() {
            "jobmanager.rpc.port" => Some(RPC_PORT),
            "rest.port" | "rest.bind-port" => Some(REST_PORT),
            _ => None,
        };
        if let Some(port) = fixed {
            // Flink's stock flink-conf.yaml spells the defaults out: those are fine.
            if value.trim() != port.to_string() {
                problems.push(
                    Diagnostic::field(at(), format!("`{name}` must stay {port}")).with_help(
                        format!(
                            "remove it: the Services, probes and Ingress reach Flink on {port}"
                        ),
                    ),
                );
            }
            continue;
        }
        let field = match name.as_str() {
            "kubernetes.cluster-id" | "kubernetes.namespace" => {
                "metadata.name and metadata.namespace (Kubernetes HA)"
            }
            _ if metrics && name.starts_with("metrics.reporter.prom.") => "spec.metrics",
            _ if name.starts_with("containerized.master.env.")
                || name.starts_with("containerized.taskmanager.env.") =>
            {
                "spec.env"
            }
            _ => continue,
        };
        problems.push(owned_by(name, field));
    }
}

/// `name` is refused in flinkConfiguration: `field` sets it.
fn owned_by(name: &str, field: &str) -> Diagnostic {
    Diagnostic::field(
        vec![key("spec"), key("flinkConfiguration"), key(name)],
        format!("`{name}` is set by `{field}`"),
    )
    .with_help(format!("remove it from flinkConfiguration and set `{field}` instead"))
}

/// The spec field that owns a Flink option, if the option is one kubectl-flink sets.
/// A session cluster has no `spec.job`, so its default parallelism is an ordinary option.
fn managed_by(name: &str, version: FlinkVersion, session: bool) -> Option<&'static str> {
    let ha = "spec.highAvailability";
    Some(match name {
        "jobmanager.rpc.address"
        | "blob.server.port"
        | "taskmanager.rpc.port"
        | "queryable-state.proxy.ports" => {
            "kubectl-flink (fixed so Services and probes can use it)"
        }
        "parallelism.default" if !session => "spec.job.parallelism",
        "taskmanager.numberOfTaskSlots" => "spec.taskManager.slots",
        "high-availability"
        | "high-availability.type"
        | "high-availability.zookeeper.quorum"
        | "high-availability.zookeeper.path.root"
        | "high-availability.cluster-id"
        | "high-availability.storageDir"
        | "high-availability.jobmanager.port" => ha,
        "jobmanager.memory.process.size" | "jobmanager.heap.size" => {
            "spec.jobManager.resources.memory"
        }
        "taskmanager.memory.process.size" | "taskmanager.heap.size" => {
            "spec.taskManager.resources.memory"
        }
        _ if name == version.savepoint_dir_key() => "spec.savepointDir",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::spec::{JOB_CLUSTER, SESSION_CLUSTER};

    fn problems(kind: &str, spec: &serde_json::Value) -> Vec<String> {
        let document = json!({
            "apiVersion": "kubectl-flink/v1alpha1", "kind": kind,
            "metadata": {"name": "orders"}, "spec": spec,
        });
        let cluster = crate::spec::deserialize(document).expect("reads");
        match validate(cluster, Policy::default()) {
            Ok(_) => Vec::new(),
            Err(problems) => problems.iter().map(|p| format!("{p:?}")).collect(),
        }
    }

    #[test]
    fn a_deployment_job_manager_needs_flink_1_15() {
        let spec = |version: &str| json!({"image": "f", "flinkVersion": version, "jobManager": {"kind": "Deployment"}});
        assert!(problems(JOB_CLUSTER, &spec("1.15")).is_empty());
        let refused = problems(JOB_CLUSTER, &spec("1.14")).join("\n");
        assert!(
            refused.contains("needs Flink 1.15 or newer") && refused.contains("kind"),
            "{refused}"
        );
    }

    #[test]
    fn only_a_standalone_job_cluster_job_manager_can_be_a_job() {
        let job = json!({"image": "f", "jobManager": {"kind": "Job"}});
        assert!(problems(JOB_CLUSTER, &job).is_empty());
        let refused = problems(SESSION_CLUSTER, &job).join("\n");
        assert!(refused.contains("always a Deployment"), "{refused}");
        let deployment = json!({"image": "f", "jobManager": {"kind": "Deployment"}});
        assert!(problems(SESSION_CLUSTER, &deployment).is_empty());
    }

    #[test]
    fn the_kind_owns_shutdown_on_application_finish_and_the_backoff_limit() {
        let spec = json!({
            "image": "f", "jobManager": {"kind": "Deployment", "backoffLimit": 3},
            "flinkConfiguration": {"execution": {"shutdown-on-application-finish": "true"}},
        });
        let refused = problems(JOB_CLUSTER, &spec).join("\n");
        assert!(refused.contains("is set by `spec.jobManager.kind`"), "{refused}");
        assert!(refused.contains("has no backoff limit"), "{refused}");
    }

    #[test]
    fn a_deployment_pod_template_restarts_always() {
        let template = json!({"spec": {"restartPolicy": "OnFailure"}});
        let job = json!({"image": "f", "jobManager": {"podTemplate": template}});
        assert!(problems(JOB_CLUSTER, &job).is_empty(), "the Job's own OnFailure wins");
        let deployment =
            json!({"image": "f", "jobManager": {"kind": "Deployment", "podTemplate": template}});
        let refused = problems(JOB_CLUSTER, &deployment).join("\n");
        assert!(refused.contains("restarts them `Always`"), "{refused}");
        let shared = json!({"image": "f", "podTemplate": template});
        assert_eq!(problems(SESSION_CLUSTER, &shared).len(), 1, "one problem per field");
    }

    #[test]
    fn object_annotations_follow_the_api_server_rules() {
        let spec = json!({"image": "f", "objectAnnotations": {"a/b/c": "x"}});
        let refused = problems(JOB_CLUSTER, &spec).join("\n");
        assert!(refused.contains("annotation key `a/b/c`"), "{refused}");
    }

    #[test]
    fn java_class_names() {
        assert!(is_java_class_name("org.example.WordCount"));
        assert!(is_java_class_name("Main$1"));
        assert!(!is_java_class_name("org..x"));
        assert!(!is_java_class_name("1org.x"));
        assert!(!is_java_class_name("org.x;rm"));
    }
}
