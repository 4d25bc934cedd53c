//! Flink versions and the configuration keys each one reads.
//!
//! Facts from `../shared/reference/flink.md` §4 (key renames) and §8: which key a version
//! reads, when a key was deprecated, and when it disappeared. Rendering asks this module for
//! keys by meaning, never spells a versioned key itself.

use crate::error::Diagnostic;

use std::fmt;

/// Variables kubectl-flink sets from Flink options (the image's entrypoint and the start
/// scripts read them); a second definition in `spec.env` would silently replace them.
pub const FLINK_OPTION_ENV: &[&str] = &[
    "FLINK_PROPERTIES",
    "FLINK_ENV_JAVA_OPTS",
    "FLINK_ENV_JAVA_OPTS_JM",
    "FLINK_ENV_JAVA_OPTS_TM",
    "FLINK_JM_HEAP",
    "FLINK_TM_HEAP",
    "FLINK_LOG_DIR",
    "FLINK_PID_DIR",
    "HADOOP_CONF_DIR",
    "YARN_CONF_DIR",
];

/// A Flink release line, `major.minor`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct FlinkVersion {
    pub major: u32,
    pub minor: u32,
}

/// The release line `major.minor`, for constants: `v(1, 20)`.
pub const fn v(major: u32, minor: u32) -> FlinkVersion {
    FlinkVersion { major, minor }
}

/// A Flink process a container starts, and how it is started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(clippy::enum_variant_names)] // Flink's own names for its processes
pub enum Process {
    /// The JobManager of a job cluster, which runs the job in the image.
    JobClusterJobManager,
    /// The JobManager of a session cluster.
    SessionJobManager,
    TaskManager,
}

impl Process {
    /// Whether this is a JobManager.
    pub fn is_jobmanager(self) -> bool {
        self != Self::TaskManager
    }

    /// The first argument of the official image's `/docker-entrypoint.sh`.
    pub fn entrypoint_command(self) -> &'static str {
        match self {
            Self::JobClusterJobManager => "standalone-job",
            Self::SessionJobManager => "jobmanager",
            Self::TaskManager => "taskmanager",
        }
    }

    /// The start script under `/opt/flink/bin`.
    pub fn script(self) -> &'static str {
        match self {
            Self::JobClusterJobManager => "/opt/flink/bin/standalone-job.sh",
            Self::SessionJobManager => "/opt/flink/bin/jobmanager.sh",
            Self::TaskManager => "/opt/flink/bin/taskmanager.sh",
        }
    }
}

impl fmt::Display for FlinkVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

impl FlinkVersion {
    /// The oldest release line rendered: the oldest whose scripts and parsers the version
    /// matrix runs (1.8, the seed's, is on no package registry CI can reach).
    pub const OLDEST: Self = v(1, 9);
    /// The newest release line rendered; the default when a spec names none.
    pub const NEWEST: Self = v(2, 3);
    /// The last 1.x release line.
    const LAST_1X: Self = v(1, 20);

    /// Parses `"1.20"` or `"1.20.3"` (the patch level is accepted and ignored).
    pub fn parse(text: &str) -> Result<Self, Diagnostic> {
        let mut parts = text.split('.');
        let number = |part: Option<&str>| {
            part.filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|p| p.parse::<u32>().ok())
        };
        let (Some(major), Some(minor)) = (number(parts.next()), number(parts.next())) else {
            return Err(Diagnostic::new(format!(
                "`{text}` is not a Flink version like \"1.20\" or \"2.1\""
            )));
        };
        let patch = parts.next();
        if (patch.is_some() && number(patch).is_none()) || parts.next().is_some() {
            return Err(Diagnostic::new(format!(
                "`{text}` is not a Flink version like \"1.20\" or \"2.1\""
            )));
        }
        let version = v(major, minor);
        if version.is_supported() {
            Ok(version)
        } else {
            Err(Diagnostic::new(format!(
                "Flink {version} is not supported: use {} … {} or 2.0 … {}",
                Self::OLDEST,
                Self::LAST_1X,
                Self::NEWEST
            )))
        }
    }

    /// Every release line rendered, oldest first.
    pub fn claimed() -> impl Iterator<Item = Self> {
        (Self::OLDEST.minor..=Self::LAST_1X.minor)
            .map(|minor| v(1, minor))
            .chain((0..=Self::NEWEST.minor).map(|minor| v(2, minor)))
    }

    fn is_supported(self) -> bool {
        (Self::OLDEST..=Self::LAST_1X).contains(&self) || (v(2, 0)..=Self::NEWEST).contains(&self)
    }

    fn at_least(self, major: u32, minor: u32) -> bool {
        self >= v(major, minor)
    }

    /// Whether the process's start script hands `-Dkey=value` arguments for `key` on to
    /// Flink. Session `jobmanager.sh` reads its arguments as host and web UI port up to 1.14
    /// and drops the rest (`-D` handling came in 1.15, JVM sizing from them in 1.16), and
    /// `config.sh` reads every `env.*`
    /// option (JVM options, log and pid directories) from the environment or the file, never
    /// from arguments.
    pub fn takes_dynamic_property(self, process: Process, key: &str) -> bool {
        let session = process == Process::SessionJobManager;
        !(key.starts_with("env.")
            || (session && !self.session_jobmanager_takes_options())
            || (session
                && !self.session_jobmanager_sized_by_options()
                && key.starts_with("jobmanager.memory.")))
    }

    /// Whether an application cluster can outlive its job
    /// (`execution.shutdown-on-application-finish`, 1.15).
    pub fn keeps_application_cluster_up(self) -> bool {
        self.at_least(1, 15)
    }

    /// Whether session `jobmanager.sh` hands options given as arguments on (1.15); before, it
    /// reads them as host and web UI port and drops the rest.
    pub fn session_jobmanager_takes_options(self) -> bool {
        self.at_least(1, 15)
    }

    /// Whether session `jobmanager.sh` sizes the JVM from options given as arguments (1.16);
    /// 1.15 hands `BashJavaUtils` an `ARGS` it never sets, so only the file counts.
    pub fn session_jobmanager_sized_by_options(self) -> bool {
        self.at_least(1, 16)
    }

    /// The environment variable the start scripts read before the configuration file for an
    /// option, on this version (`if [ -z "${FLINK_ENV_JAVA_OPTS}" ]; then … readFromConfig`),
    /// if `process` reads the option at all: JVM options and directories on every version,
    /// and the heap sizes the scripts turn into `-Xmx` where memory is a heap size
    /// (`FLINK_JM_HEAP` up to 1.10, `FLINK_TM_HEAP` up to 1.9), which they never take from
    /// `-D`. These reach Flink whatever the image's entrypoint does.
    pub fn script_env_var(self, key: &str, process: Process) -> Option<&'static str> {
        let (var, jobmanager) = match key {
            "env.java.opts.all" | "env.java.opts" => ("FLINK_ENV_JAVA_OPTS", None),
            "env.java.opts.jobmanager" => ("FLINK_ENV_JAVA_OPTS_JM", Some(true)),
            "env.java.opts.taskmanager" => ("FLINK_ENV_JAVA_OPTS_TM", Some(false)),
            "env.log.dir" => ("FLINK_LOG_DIR", None),
            "env.pid.dir" => ("FLINK_PID_DIR", None),
            "env.hadoop.conf.dir" => ("HADOOP_CONF_DIR", None),
            "env.yarn.conf.dir" => ("YARN_CONF_DIR", None),
            _ if self.memory_key(process) == MemoryKey::Heap(heap_key(process)) => {
                if key != heap_key(process) {
                    return None;
                }
                let var = if process.is_jobmanager() { "FLINK_JM_HEAP" } else { "FLINK_TM_HEAP" };
                (var, Some(process.is_jobmanager()))
            }
            _ => return None,
        };
        jobmanager.is_none_or(|jm| jm == process.is_jobmanager()).then_some(var)
    }

    /// Whether an option reaches some process through a variable the scripts read.
    pub fn has_script_env_var(self, key: &str) -> bool {
        [Process::JobClusterJobManager, Process::TaskManager]
            .iter()
            .any(|p| self.script_env_var(key, *p).is_some())
    }

    /// Whether the official image's `/docker-entrypoint.sh` can start the process: the 1.9
    /// images know only `jobmanager` and `taskmanager` (anything else is run as a command);
    /// `standalone-job` came with the 1.10.1 images (apache/flink-docker, 2020-05-13; the
    /// 1.10.0 image lacks it: use `entrypoint: script` there).
    pub fn image_entrypoint_starts(self, process: Process) -> bool {
        process != Process::JobClusterJobManager || self.at_least(1, 10)
    }

    /// How the official image's entrypoint reads `FLINK_PROPERTIES`: up to 1.18 it appends it
    /// to `flink-conf.yaml` and passes the whole file through `envsubst`; from 1.19 it deletes
    /// every blank of each line, splits it at the first `:`, passes the value through
    /// `envsubst` and hands `-Dkey=value` to `config-parser-utils.sh` (through `eval` in some
    /// 1.19 images).
    pub fn image_parses_flink_properties(self) -> bool {
        self.at_least(1, 19)
    }

    /// Whether `config.sh` puts `-XX:+IgnoreUnrecognizedVMOptions` before the JVM options it
    /// reads from the file (1.18, with the stock Java 17 opens), which a value it takes from
    /// `FLINK_ENV_JAVA_OPTS` does not get.
    pub fn prefixes_jvm_options(self) -> bool {
        self.at_least(1, 18)
    }

    /// Whether metric reporters load as plugins (FLINK-16222, 1.11), so the image's
    /// Prometheus reporter in `plugins/` is found.
    pub fn loads_reporter_plugins(self) -> bool {
        self.at_least(1, 11)
    }

    /// Whether Flink ships log4j 1 (`log4j.configuration`); log4j 2 from 1.11 (FLINK-15672).
    pub fn ships_log4j1(self) -> bool {
        !self.at_least(1, 11)
    }

    /// The key that switches high availability on (renamed in 1.17, FLINK-29372).
    pub fn ha_mode_key(self) -> &'static str {
        if self.at_least(1, 17) { "high-availability.type" } else { "high-availability" }
    }

    /// The default savepoint directory key (renamed in 1.20, FLINK-34482).
    pub fn savepoint_dir_key(self) -> &'static str {
        if self.at_least(1, 20) {
            "execution.checkpointing.savepoint-dir"
        } else {
            "state.savepoints.dir"
        }
    }

    /// Whether `jobmanager.bind-host` and `taskmanager.bind-host` exist (FLINK-15911, 1.12).
    pub fn has_bind_host_options(self) -> bool {
        self.at_least(1, 12)
    }

    /// Whether the distribution's stock configuration pins the bind and advertised hosts to
    /// `localhost` (1.15, FLINK-24474), which only the official image's Dockerfile rewrites.
    pub fn stock_conf_pins_localhost(self) -> bool {
        self.at_least(1, 15)
    }

    /// Whether reactive mode exists: `scheduler-mode: reactive` (FLIP-159, Flink 1.13), which
    /// only the standalone application entrypoint (`standalone-job`) accepts; an older
    /// version ignores the key.
    pub fn has_reactive_mode(self) -> bool {
        self.at_least(1, 13)
    }

    /// Whether Kubernetes HA services exist (FLIP-144, Flink 1.12).
    pub fn has_kubernetes_ha(self) -> bool {
        self.at_least(1, 12)
    }

    /// The value of the HA switch for Kubernetes HA: `kubernetes` from 1.16 (FLINK-27808),
    /// the factory class name before.
    pub fn kubernetes_ha_value(self) -> &'static str {
        if self.at_least(1, 16) {
            "kubernetes"
        } else {
            "org.apache.flink.kubernetes.highavailability.KubernetesHaServicesFactory"
        }
    }

    /// The Prometheus reporter option and value: a factory from 1.11 (reporters as plugins),
    /// a class name before (reflection-based reporters were removed in 2.0).
    pub fn prometheus_reporter(self) -> (&'static str, &'static str) {
        if self.at_least(1, 11) {
            (
                "metrics.reporter.prom.factory.class",
                "org.apache.flink.metrics.prometheus.PrometheusReporterFactory",
            )
        } else {
            (
                "metrics.reporter.prom.class",
                "org.apache.flink.metrics.prometheus.PrometheusReporter",
            )
        }
    }

    /// The configuration file kubectl-flink writes: standard-YAML `config.yaml` from 1.19
    /// (FLIP-366; 1.19 and 1.20 read it when no legacy `flink-conf.yaml` is beside it, and
    /// their distributions ship it), the legacy `flink-conf.yaml` before.
    pub fn config_file(self) -> &'static str {
        if self.at_least(1, 19) { "config.yaml" } else { "flink-conf.yaml" }
    }

    /// JobManager memory: `jobmanager.memory.process.size` from 1.11 (FLIP-116), before that
    /// only a heap size.
    pub fn jobmanager_memory(self) -> MemoryKey {
        if self.at_least(1, 11) {
            MemoryKey::Process("jobmanager.memory.process.size")
        } else {
            MemoryKey::Heap("jobmanager.heap.size")
        }
    }

    /// TaskManager memory: `taskmanager.memory.process.size` from 1.10 (FLIP-49).
    pub fn taskmanager_memory(self) -> MemoryKey {
        if self.at_least(1, 10) {
            MemoryKey::Process("taskmanager.memory.process.size")
        } else {
            MemoryKey::Heap("taskmanager.heap.size")
        }
    }

    /// The smallest process memory, in whole MiB as bytes, that the version's startup memory
    /// calculation (`BashJavaUtils`, run by the start scripts) accepts with Flink's default
    /// memory settings: below it the process never starts ("… exceed configured Total Flink
    /// Memory"). The same from 1.10 (TaskManager) and 1.11 (JobManager) through 2.3;
    /// `scripts/flink-matrix` runs each version's calculation at the bound and 1 MiB below.
    /// None where memory is a heap size.
    pub fn min_process_memory(self, process: Process) -> Option<u128> {
        match self.memory_key(process) {
            MemoryKey::Heap(_) => None,
            MemoryKey::Process(_) if process.is_jobmanager() => Some(577 << 20),
            MemoryKey::Process(_) => Some(982 << 20),
        }
    }

    /// The memory option of a process.
    pub fn memory_key(self, process: Process) -> MemoryKey {
        if process.is_jobmanager() { self.jobmanager_memory() } else { self.taskmanager_memory() }
    }

    /// What a version thinks of a key a user passes through, if anything worth a warning.
    pub fn key_warning(self, key: &str) -> Option<String> {
        for rename in RENAMES {
            if key == rename.old && self >= rename.since {
                let removed = rename.removed.filter(|r| self >= *r);
                return Some(match (removed, rename.new) {
                    (Some(r), Some(new)) => format!(
                        "`{key}` was removed in Flink {r} and is ignored by Flink {self}; use `{new}`"
                    ),
                    (Some(r), None) => {
                        format!("`{key}` was removed in Flink {r} and is ignored by Flink {self}")
                    }
                    (None, Some(new)) => format!(
                        "`{key}` is deprecated since Flink {}; Flink {self} reads `{new}`",
                        rename.since
                    ),
                    (None, None) => format!("`{key}` is deprecated since Flink {}", rename.since),
                });
            }
            if rename.new == Some(key) && self < rename.since {
                return Some(format!(
                    "`{key}` is unknown to Flink {self} (added in {}); use `{}`",
                    rename.since, rename.old
                ));
            }
        }
        None
    }
}

fn heap_key(process: Process) -> &'static str {
    if process.is_jobmanager() { "jobmanager.heap.size" } else { "taskmanager.heap.size" }
}

/// Which memory option a version reads for a process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemoryKey {
    /// Total process memory: the container's memory as is.
    Process(&'static str),
    /// JVM heap only (Flink < 1.10/1.11): the container's memory minus a cutoff.
    Heap(&'static str),
}

struct Rename {
    old: &'static str,
    new: Option<&'static str>,
    since: FlinkVersion,
    removed: Option<FlinkVersion>,
}

const fn rename(old: &'static str, new: &'static str, since: FlinkVersion) -> Rename {
    Rename { old, new: Some(new), since, removed: None }
}

const RENAMES: &[Rename] = &[
    rename("high-availability", "high-availability.type", v(1, 17)),
    rename("state.backend", "state.backend.type", v(1, 17)),
    rename("restart-strategy", "restart-strategy.type", v(1, 17)),
    rename("env.java.opts", "env.java.opts.all", v(1, 17)),
    rename("kubernetes.container.image", "kubernetes.container.image.ref", v(1, 17)),
    rename("kubernetes.jobmanager.cpu", "kubernetes.jobmanager.cpu.amount", v(1, 17)),
    rename("kubernetes.taskmanager.cpu", "kubernetes.taskmanager.cpu.amount", v(1, 17)),
    rename("kubernetes.pod-template-file", "kubernetes.pod-template-file.default", v(1, 17)),
    rename("state.savepoints.dir", "execution.checkpointing.savepoint-dir", v(1, 20)),
    rename("state.checkpoints.dir", "execution.checkpointing.dir", v(1, 20)),
    rename("state.checkpoints.num-retained", "execution.checkpointing.num-retained", v(1, 20)),
    rename("state.backend.incremental", "execution.checkpointing.incremental", v(1, 20)),
    rename("state.checkpoint-storage", "execution.checkpointing.storage", v(1, 20)),
    rename("execution.savepoint.path", "execution.state-recovery.path", v(1, 20)),
    rename(
        "execution.savepoint.ignore-unclaimed-state",
        "execution.state-recovery.ignore-unclaimed-state",
        v(1, 20),
    ),
    rename("execution.savepoint-restore-mode", "execution.state-recovery.claim-mode", v(1, 20)),
    rename(
        "high-availability.zookeeper.path.jobgraphs",
        "high-availability.zookeeper.path.execution-plans",
        v(2, 0),
    ),
    Rename {
        old: "jobmanager.heap.size",
        new: Some("jobmanager.memory.process.size"),
        since: v(1, 11),
        removed: Some(v(2, 0)),
    },
    Rename {
        old: "taskmanager.heap.size",
        new: Some("taskmanager.memory.process.size"),
        since: v(1, 10),
        removed: Some(v(2, 0)),
    },
    Rename { old: "web.port", new: Some("rest.port"), since: v(1, 8), removed: Some(v(2, 0)) },
    Rename {
        old: "jobmanager.web.port",
        new: Some("rest.port"),
        since: v(1, 8),
        removed: Some(v(2, 0)),
    },
    Rename { old: "queryable-state.server.ports", new: None, since: v(1, 18), removed: None },
    Rename { old: "queryable-state.proxy.ports", new: None, since: v(1, 18), removed: None },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_supported_versions_only() {
        assert_eq!(FlinkVersion::parse("1.9").unwrap(), v(1, 9));
        assert_eq!(FlinkVersion::parse("1.20").unwrap(), v(1, 20));
        assert_eq!(FlinkVersion::parse("1.20.3").unwrap(), v(1, 20));
        assert_eq!(FlinkVersion::parse("2.3").unwrap(), v(2, 3));
        for bad in ["1.8", "1.21", "2.4", "3.0", "1", "1.x", "", "1.20.", "1.20.1.1", " 1.20"] {
            assert!(FlinkVersion::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn keys_follow_the_renames() {
        assert_eq!(v(1, 16).ha_mode_key(), "high-availability");
        assert_eq!(v(1, 17).ha_mode_key(), "high-availability.type");
        assert_eq!(v(1, 19).savepoint_dir_key(), "state.savepoints.dir");
        assert_eq!(v(1, 20).savepoint_dir_key(), "execution.checkpointing.savepoint-dir");
        assert_eq!(v(1, 10).jobmanager_memory(), MemoryKey::Heap("jobmanager.heap.size"));
        assert_eq!(
            v(1, 10).taskmanager_memory(),
            MemoryKey::Process("taskmanager.memory.process.size")
        );
    }

    #[test]
    fn production_keys_follow_the_version() {
        assert!(!v(1, 11).has_kubernetes_ha());
        assert!(v(1, 12).has_kubernetes_ha());
        assert!(v(1, 15).kubernetes_ha_value().ends_with("KubernetesHaServicesFactory"));
        assert_eq!(v(1, 16).kubernetes_ha_value(), "kubernetes");
        assert_eq!(v(1, 10).prometheus_reporter().0, "metrics.reporter.prom.class");
        assert_eq!(v(2, 0).prometheus_reporter().0, "metrics.reporter.prom.factory.class");
        assert_eq!(v(1, 18).config_file(), "flink-conf.yaml");
        assert_eq!(v(1, 19).config_file(), "config.yaml");
        assert_eq!(v(2, 0).config_file(), "config.yaml");
    }

    #[test]
    fn warns_about_deprecated_removed_and_too_new_keys() {
        assert!(
            v(2, 0)
                .key_warning("state.savepoints.dir")
                .unwrap()
                .contains("deprecated since Flink 1.20")
        );
        assert!(v(1, 19).key_warning("state.savepoints.dir").is_none());
        assert!(
            v(1, 19)
                .key_warning("execution.checkpointing.dir")
                .unwrap()
                .contains("unknown to Flink 1.19")
        );
        assert!(
            v(2, 0).key_warning("taskmanager.heap.size").unwrap().contains("removed in Flink 2.0")
        );
        assert!(v(2, 1).key_warning("parallelism.default").is_none());
    }
}
