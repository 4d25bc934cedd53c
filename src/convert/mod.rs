//! `kubectl flink convert`: a Flink Kubernetes Operator `FlinkDeployment`
//! (`flink.apache.org/v1beta1`) → the kubectl-flink spec that runs the same cluster.
//!
//! Fields are read as the operator reads them (`FlinkConfigBuilder`, `DefaultValidator`):
//! memory in Flink's syntax, `mode` native unless `standalone`, the job's parallelism from
//! `taskManager.replicas` × slots when replicas are set. What only the operator acts on (upgrade
//! modes, nonces, its own options) becomes a warning naming what replaces it; a field nobody
//! reads becomes a warning too, so nothing is dropped unseen. What cannot be carried over
//! faithfully is an error at that field. Checking that the spec renders is the caller's.

mod units;

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::error::{Diagnostic, Error, Location, display_path, key};
use crate::flink::SHUTDOWN_ON_APPLICATION_FINISH;
use crate::flink::native::MIN_VERSION as NATIVE_MIN_VERSION;
use crate::flink::version::FlinkVersion;
use crate::load::input::Input;
use crate::spec::{
    self, ClusterSpec, ConfigMode, ConfigValue, FlinkCluster, HaType, HighAvailability,
    IngressSpec, JobManagerKind, JobSpec, Metadata, Mode, PullPolicy, QuantityText, Resources,
    ServiceType, ZooKeeper,
};
use crate::yaml::{self, Node, PathSegment};

/// The Flink version the converted spec names, once read.
fn spec_version(spec: &ClusterSpec) -> Option<FlinkVersion> {
    spec.flink_version.as_deref().and_then(|text| FlinkVersion::parse(text).ok())
}

/// Whether the spec's Flink version keeps an application's JobManager up after its job ends.
fn keeps_cluster_up(spec: &ClusterSpec) -> bool {
    spec_version(spec).is_some_and(FlinkVersion::keeps_application_cluster_up)
}

/// The operator's API version, the only one read.
pub const OPERATOR_API_VERSION: &str = "flink.apache.org/v1beta1";
/// The operator's cluster kind.
pub const FLINK_DEPLOYMENT: &str = "FlinkDeployment";

/// One `FlinkDeployment` converted.
#[derive(Debug, Clone)]
pub struct Conversion {
    pub cluster: FlinkCluster,
    /// Where converted fields came from: (path in the spec, path in the `FlinkDeployment`).
    pub sources: Vec<(Vec<PathSegment>, Vec<PathSegment>)>,
    /// The document's node tree, to point at its lines.
    pub root: Node,
}

/// Every `FlinkDeployment` of an input, converted, and what the user must know.
#[derive(Debug, Clone, Default)]
pub struct Converted {
    pub conversions: Vec<Conversion>,
    pub warnings: Vec<String>,
}

/// Converts every `FlinkDeployment` of `input`; `mode` overrides the documents' own.
pub fn convert(input: &Input, mode: Option<Mode>) -> Result<Converted, Error> {
    let documents = yaml::parse_documents(&input.text).map_err(|err| {
        let mut problem = Diagnostic::new(err.message.clone()).at(Location::in_text(
            &input.origin,
            &input.text,
            err.pos,
            None,
        ));
        problem.help.clone_from(&err.help);
        Error::input_one(problem)
    })?;
    let mut converted = Converted::default();
    let mut problems = Vec::new();
    let count = documents.len();
    for (index, document) in documents.into_iter().enumerate() {
        let Some(root) = document.root else { continue };
        let mut doc = Doc::new(input, &root, index, count);
        let cluster = doc.convert(mode);
        problems.append(&mut doc.problems);
        doc.warnings.sort_by_key(|(line, _)| *line);
        converted.warnings.extend(doc.warnings.drain(..).map(|(_, warning)| warning));
        if let Some(cluster) = cluster {
            let sources = std::mem::take(&mut doc.sources);
            converted.conversions.push(Conversion { cluster, sources, root });
        }
    }
    if problems.is_empty() && converted.conversions.is_empty() {
        problems.push(
            Diagnostic::new(format!("`{}` holds no FlinkDeployment", input.origin)).with_help(
                "give a file with a `kind: FlinkDeployment` (apiVersion flink.apache.org/v1beta1) document",
            ),
        );
    }
    if problems.is_empty() { Ok(converted) } else { Err(Error::input(problems)) }
}

/// Where `path` stands in a document: its node, or the deepest part of the path there is.
pub fn locate(input: &Input, root: &Node, path: &[PathSegment]) -> Option<Location> {
    let (node, key) = (0..=path.len()).rev().find_map(|n| root.find(&path[..n]))?;
    let (start, end) = key.map_or((node.start, node.end), |k| (k.start, k.end));
    Some(Location::in_text(&input.origin, &input.text, start, Some(end)))
}

/// Operator options whose value the operator sets from a spec field, and the field here.
const SET_FROM_FIELDS: &[(&str, &str)] = &[
    ("kubernetes.cluster-id", "metadata.name"),
    ("kubernetes.namespace", "metadata.namespace"),
    ("kubernetes.container.image", "spec.image"),
    ("kubernetes.container.image.ref", "spec.image"),
    ("kubernetes.container.image.pull-policy", "spec.imagePullPolicy"),
    ("kubernetes.service-account", "spec.serviceAccountName"),
    ("kubernetes.jobmanager.service-account", "spec.serviceAccountName"),
    ("kubernetes.taskmanager.service-account", "spec.serviceAccountName"),
    ("execution.target", "the kind (FlinkJobCluster or FlinkSessionCluster)"),
    ("pipeline.jars", "spec.job.jarURI"),
    ("high-availability.cluster-id", "metadata.name"),
    ("high-availability.jobmanager.port", "kubectl-flink (a fixed port its Services use)"),
];

/// The Kubernetes HA services factory, as Flink before 1.16 named Kubernetes HA.
const KUBERNETES_HA_FACTORY: &str =
    "org.apache.flink.kubernetes.highavailability.KubernetesHaServicesFactory";

/// The jar directory kubectl-flink's standalone JobManager finds a job's jar in.
const USRLIB: &str = "/opt/flink/usrlib/";

/// One document being converted: what it says, and what converting it found.
struct Doc<'a> {
    input: &'a Input,
    root: &'a Node,
    /// "document 2 of 3", or nothing for a file of one document.
    place: String,
    problems: Vec<Diagnostic>,
    /// Each with its line, to be reported in the order of the file.
    warnings: Vec<(usize, String)>,
    sources: Vec<(Vec<PathSegment>, Vec<PathSegment>)>,
}

/// A mapping of a document, whose keys are marked as they are read; the rest are unknown.
struct Fields<'v> {
    path: Vec<PathSegment>,
    map: &'v Map<String, Value>,
    read: Vec<&'static str>,
}

impl<'v> Fields<'v> {
    /// The field `key` and its path; a null is no value.
    fn take(&mut self, key: &'static str) -> Option<(&'v Value, Vec<PathSegment>)> {
        self.read.push(key);
        self.map.get(key).filter(|v| !v.is_null()).map(|v| (v, self.at(key)))
    }

    fn at(&self, name: &str) -> Vec<PathSegment> {
        let mut path = self.path.clone();
        path.push(key(name));
        path
    }

    /// Warns about every field not read: the operator ignores unknown fields, kubectl-flink
    /// has nowhere to put them.
    fn finish(self, doc: &mut Doc) {
        for name in self.map.keys().filter(|k| !self.read.contains(&k.as_str())) {
            doc.warn(&self.at(name), "unknown field (the operator ignores it too): dropped");
        }
    }
}

/// The resources of one process, as read.
#[derive(Default)]
struct ProcessResources {
    cpu: Option<(String, Vec<PathSegment>)>,
    memory: Option<(String, Vec<PathSegment>)>,
    /// Limit ÷ request, when both are given and differ.
    cpu_limit_factor: Option<(f64, Vec<PathSegment>)>,
    memory_limit_factor: Option<(f64, Vec<PathSegment>)>,
}

/// A process's section (`jobManager`, `taskManager`), as read.
#[derive(Default)]
struct Process {
    resources: ProcessResources,
    replicas: Option<(i64, Vec<PathSegment>)>,
    pod_template: Option<(Value, Vec<PathSegment>)>,
}

/// `flinkConfiguration` flattened to dotted keys: each value and where it was written.
/// A `flinkConfiguration` value and where it was in the `FlinkDeployment`.
type Located = (String, Vec<PathSegment>);

type Options = BTreeMap<String, Located>;

impl<'a> Doc<'a> {
    fn new(input: &'a Input, root: &'a Node, index: usize, count: usize) -> Self {
        Self {
            input,
            root,
            place: if count > 1 {
                format!("document {} of {count}", index + 1)
            } else {
                String::new()
            },
            problems: Vec::new(),
            warnings: Vec::new(),
            sources: Vec::new(),
        }
    }

    fn warn(&mut self, path: &[PathSegment], message: impl AsRef<str>) {
        let line = locate(self.input, self.root, path).map_or(0, |location| location.line);
        let origin = &self.input.origin;
        let what = display_path(path);
        let at = if what.is_empty() { String::new() } else { format!(" {what}:") };
        self.warnings.push((line, format!("{origin}:{line}:{at} {}", message.as_ref())));
    }

    fn problem(
        &mut self,
        path: &[PathSegment],
        message: impl Into<String>,
        help: impl Into<String>,
    ) {
        let mut problem = Diagnostic::field(path.to_vec(), message).with_help(help);
        if let Some(location) = locate(self.input, self.root, path) {
            problem = problem.at(location);
        }
        self.problems.push(problem);
    }

    /// Records that the spec's `to` holds what the `FlinkDeployment` had at `from`.
    fn source(&mut self, to: &[&str], from: &[PathSegment]) {
        let to = to.iter().map(|k| key(k)).collect();
        self.sources.push((to, from.to_vec()));
    }

    /// Warns that each option given (`Some`) has no effect `context`, and is dropped.
    fn warn_dropped(&mut self, options: &[(&str, &Option<Located>)], context: &str) {
        for (name, option) in options {
            if let Some((_, at)) = option {
                self.warn(at, format!("`{name}` has no effect {context}: dropped"));
            }
        }
    }

    /// Native mode renders only recent Flink; an older `FlinkDeployment` converts to standalone.
    fn check_native_version(&mut self, mode: Mode, spec: &ClusterSpec) {
        if mode == Mode::Native
            && let Some(version) = spec_version(spec)
            && version < NATIVE_MIN_VERSION
        {
            let at = self.source_of(&["spec", "flinkVersion"]);
            self.problem(
                &at,
                format!("kubectl-flink renders native mode for Flink {NATIVE_MIN_VERSION} or newer, and this is Flink {version}"),
                "convert with `--mode standalone`: a standalone cluster of the same image, which kubectl-flink renders for every version it claims",
            );
        }
    }

    /// Where in the `FlinkDeployment` the spec's `to` came from (the document root if unknown).
    fn source_of(&self, to: &[&str]) -> Vec<PathSegment> {
        let to: Vec<PathSegment> = to.iter().map(|k| key(k)).collect();
        self.sources
            .iter()
            .find(|(spec, _)| *spec == to)
            .map(|(_, from)| from.clone())
            .unwrap_or_default()
    }

    fn fields<'v>(&mut self, value: &'v Value, path: Vec<PathSegment>) -> Option<Fields<'v>> {
        if let Value::Object(map) = value {
            Some(Fields { path, map, read: Vec::new() })
        } else {
            self.problem(&path, "must be a mapping", "write it as `key: value` lines");
            None
        }
    }

    fn text(&mut self, value: &Value, path: &[PathSegment]) -> Option<String> {
        match value {
            Value::String(text) => Some(text.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => {
                self.problem(path, "must be a string", "write a single value");
                None
            }
        }
    }

    fn int(&mut self, value: &Value, path: &[PathSegment]) -> Option<i64> {
        let number = match value {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        };
        if number.is_none() {
            self.problem(
                path,
                format!("`{}` is not a whole number", yaml::to_string(value).trim()),
                "write a number such as 2",
            );
        }
        number
    }

    fn string_map(&mut self, value: &Value, path: &[PathSegment]) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        let Some(fields) = self.fields(value, path.to_vec()) else { return out };
        for (name, value) in fields.map {
            if let Some(text) = self.text(value, &fields.at(name)) {
                out.insert(name.clone(), text);
            }
        }
        out
    }

    /// The document as a spec, or `None` when it is not a `FlinkDeployment` or has problems.
    fn convert(&mut self, mode: Option<Mode>) -> Option<FlinkCluster> {
        let value = match crate::load::to_json(self.root) {
            Ok(value) => value,
            Err(err) => {
                let location =
                    Location::in_text(&self.input.origin, &self.input.text, err.pos, None);
                self.problems.push(Diagnostic::new(err.message).at(location));
                return None;
            }
        };
        let mut top = self.fields(&value, Vec::new())?;
        if !self.is_flink_deployment(&mut top) {
            return None;
        }
        let metadata = top.take("metadata").and_then(|(v, at)| self.metadata(v, &at));
        if let Some((_, at)) = top.take("status") {
            self.warn(&at, "the live object's status, set by the operator: dropped");
        }
        let spec = if let Some((value, at)) = top.take("spec") {
            self.spec(value, &at, mode)
        } else {
            {
                self.problem(
                    &[],
                    "a FlinkDeployment needs a `spec`",
                    "add the FlinkDeployment's spec",
                );
                None
            }
        };
        top.finish(self);
        let (spec, session) = spec?;
        let metadata = metadata?;
        Some(FlinkCluster {
            api_version: spec::API_VERSION.to_owned(),
            kind: if session { spec::SESSION_CLUSTER } else { spec::JOB_CLUSTER }.to_owned(),
            metadata,
            spec,
        })
    }

    /// Whether the document is a `FlinkDeployment`: other operator kinds are left out with a
    /// warning, anything else is an error.
    fn is_flink_deployment(&mut self, top: &mut Fields) -> bool {
        let api_version = top.take("apiVersion").and_then(|(v, _)| v.as_str().map(str::to_owned));
        let kind = top.take("kind").and_then(|(v, _)| v.as_str().map(str::to_owned));
        let (api_version, kind) = (api_version.unwrap_or_default(), kind.unwrap_or_default());
        let operator = api_version.split('/').next() == OPERATOR_API_VERSION.split('/').next();
        let what = if self.place.is_empty() {
            format!("the `{kind}`")
        } else {
            format!("{} (`{kind}`)", self.place)
        };
        if operator && kind == FLINK_DEPLOYMENT && api_version != OPERATOR_API_VERSION {
            self.problem(
                &[key("apiVersion")],
                format!("`{api_version}` is not the FlinkDeployment version convert reads ({OPERATOR_API_VERSION})"),
                "upgrade the resource to flink.apache.org/v1beta1 (the operator's current API) first",
            );
            return false;
        }
        if operator && kind == FLINK_DEPLOYMENT {
            return true;
        }
        let replacement = match kind.as_str() {
            "FlinkSessionJob" if operator => Some(
                "kubectl-flink has no session job object: submit the jar to the session cluster with `flink run` (or its REST API)",
            ),
            "FlinkStateSnapshot" if operator => Some(
                "take savepoints with `kubectl flink savepoint`; start from one with `job.fromSavepoint`",
            ),
            "FlinkBlueGreenDeployment" if operator => {
                Some("convert the FlinkDeployment of its template on its own")
            }
            _ => None,
        };
        match replacement {
            Some(replacement) => {
                self.warn(&[key("kind")], format!("{what} is not converted: {replacement}"));
            }
            None => self.problem(
                &[key("kind")],
                format!("{what} (apiVersion `{api_version}`) is not a FlinkDeployment"),
                "give convert a Flink Kubernetes Operator FlinkDeployment (apiVersion flink.apache.org/v1beta1); a kubectl-flink spec renders with `kubectl flink render`",
            ),
        }
        false
    }

    fn metadata(&mut self, value: &Value, at: &[PathSegment]) -> Option<Metadata> {
        let mut fields = self.fields(value, at.to_vec())?;
        let name = if let Some((value, at)) = fields.take("name") {
            let name = self.text(value, &at);
            self.source(&["metadata", "name"], &at);
            name
        } else {
            {
                self.problem(
                    at,
                    "a FlinkDeployment needs `metadata.name`",
                    "add the cluster's name",
                );
                None
            }
        };
        let namespace = fields.take("namespace").and_then(|(v, at)| {
            self.source(&["metadata", "namespace"], &at);
            self.text(v, &at)
        });
        let labels = fields.take("labels").map(|(v, at)| {
            self.source(&["metadata", "labels"], &at);
            self.string_map(v, &at)
        });
        if let Some((_, at)) = fields.take("annotations") {
            self.warn(&at, "annotations of the FlinkDeployment object itself: dropped (kubectl-flink's `metadata.annotations` are the spec file's)");
        }
        let mut server_set = Vec::new();
        for name in [
            "uid",
            "resourceVersion",
            "generation",
            "creationTimestamp",
            "managedFields",
            "selfLink",
            "finalizers",
            "ownerReferences",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
        ] {
            if fields.take(name).is_some() {
                server_set.push(format!("`{name}`"));
            }
        }
        if !server_set.is_empty() {
            self.warn(at, format!("{} belong to the live object (the API server and the operator set them): dropped", server_set.join(", ")));
        }
        fields.finish(self);
        Some(Metadata {
            name: name?,
            namespace,
            labels: labels.unwrap_or_default(),
            annotations: BTreeMap::new(),
        })
    }

    /// The spec, and whether it is a session cluster (no job).
    #[allow(clippy::too_many_lines)] // one field after the other, in the operator's order
    fn spec(
        &mut self,
        value: &Value,
        at: &[PathSegment],
        mode_flag: Option<Mode>,
    ) -> Option<(ClusterSpec, bool)> {
        let mut fields = self.fields(value, at.to_vec())?;
        let mut spec = ClusterSpec {
            image: String::new(),
            image_pull_policy: None,
            flink_version: None,
            mode: None,
            entrypoint: None,
            job: None,
            job_manager: spec::JobManagerSpec::default(),
            task_manager: spec::TaskManagerSpec::default(),
            service: spec::ServiceSpec { service_type: Some(ServiceType::ClusterIP) },
            high_availability: None,
            savepoint_dir: None,
            flink_configuration: BTreeMap::new(),
            config_mode: None,
            log_configuration: BTreeMap::new(),
            service_account_name: None,
            image_pull_secrets: Vec::new(),
            node_selector: BTreeMap::new(),
            tolerations: Vec::new(),
            affinity: None,
            env: Vec::new(),
            env_from: Vec::new(),
            secrets: Vec::new(),
            secret_env: Vec::new(),
            volumes: Vec::new(),
            volume_mounts: Vec::new(),
            pod_annotations: BTreeMap::new(),
            object_annotations: BTreeMap::new(),
            security_context: None,
            pod_template: None,
            ingress: None,
            metrics: None,
            owner_reference: None,
            native: None,
        };
        match fields.take("image") {
            Some((value, at)) => {
                spec.image = self.text(value, &at).unwrap_or_default();
                self.source(&["spec", "image"], &at);
            }
            None => self.problem(
                at,
                "a FlinkDeployment needs `spec.image`",
                "add the image that holds Flink and the job",
            ),
        }
        if let Some((value, at)) = fields.take("imagePullPolicy") {
            spec.image_pull_policy = match self.text(value, &at).as_deref() {
                Some("Always") => Some(PullPolicy::Always),
                Some("IfNotPresent") => Some(PullPolicy::IfNotPresent),
                Some("Never") => Some(PullPolicy::Never),
                Some(other) => {
                    self.problem(
                        &at,
                        format!("`{other}` is not an image pull policy"),
                        "use Always, IfNotPresent or Never",
                    );
                    None
                }
                None => None,
            };
        }
        if let Some((value, at)) = fields.take("serviceAccount") {
            spec.service_account_name = self.text(value, &at);
            self.source(&["spec", "serviceAccountName"], &at);
        }
        match fields.take("flinkVersion") {
            Some((value, at)) => {
                spec.flink_version =
                    self.text(value, &at).and_then(|v| self.flink_version(&v, &at));
                self.source(&["spec", "flinkVersion"], &at);
            }
            None => self.problem(
                at,
                "a FlinkDeployment needs `spec.flinkVersion` (the operator refuses one without it)",
                "add the Flink version of the image, e.g. `flinkVersion: v1_20`",
            ),
        }
        let file_mode = match fields.take("mode") {
            Some((value, at)) => match self.text(value, &at).as_deref() {
                Some("native") => Mode::Native,
                Some("standalone") => Mode::Standalone,
                other => {
                    if let Some(other) = other {
                        self.problem(
                            &at,
                            format!("`{other}` is not a deployment mode"),
                            "use `native` or `standalone`",
                        );
                    }
                    Mode::Native
                }
            },
            None => Mode::Native,
        };
        let mode = mode_flag.unwrap_or(file_mode);
        spec.mode = Some(mode);
        self.check_native_version(mode, &spec);
        if let Some((_, at)) = fields.take("restartNonce") {
            self.warn(&at, "the operator's restart trigger: restart the cluster with `kubectl flink upgrade -f <spec>` (or delete its pods)");
        }
        let mut options = match fields.take("flinkConfiguration") {
            Some((value, at)) => self.flatten_options(value, &at),
            None => Options::new(),
        };
        let job_manager =
            fields.take("jobManager").map(|(v, at)| self.process(v, at)).unwrap_or_default();
        let task_manager =
            fields.take("taskManager").map(|(v, at)| self.process(v, at)).unwrap_or_default();
        let slots = self.slots(&mut options).map(|(n, _)| n);
        spec.task_manager.slots = slots;
        spec.high_availability = self.high_availability(&mut options);
        spec.savepoint_dir = self.savepoint_dir(&mut options);
        spec.service.service_type = self.service_type(&mut options).or(spec.service.service_type);
        self.memory_options(&mut options, &job_manager, &task_manager, &mut spec);
        self.resources(&job_manager, "jobManager", mode, &mut spec, &mut options);
        self.resources(&task_manager, "taskManager", mode, &mut spec, &mut options);
        if let Some((replicas, at)) = &job_manager.replicas
            && *replicas != 1
        {
            {
                if mode == Mode::Native {
                    options.insert(
                        "kubernetes.jobmanager.replicas".into(),
                        (replicas.to_string(), at.clone()),
                    );
                } else {
                    spec.job_manager.replicas = Some(*replicas);
                    self.source(&["spec", "jobManager", "replicas"], at);
                }
            }
        }
        let job = fields.take("job");
        let session = job.is_none();
        let default_parallelism =
            if session { None } else { options.remove("parallelism.default") };
        match job {
            Some((value, at)) => {
                spec.job = self.job(
                    value,
                    &at,
                    mode,
                    &task_manager,
                    slots.unwrap_or(1),
                    default_parallelism,
                    &mut spec,
                    &mut options,
                );
            }
            None => self.session_replicas(&task_manager, mode, &mut spec),
        }
        let reactive = options
            .get("scheduler-mode")
            .is_some_and(|(v, _)| v.trim().eq_ignore_ascii_case("reactive"));
        if reactive
            && mode == Mode::Standalone
            && let Some(job) = &mut spec.job
        {
            // Reactive mode runs the job on every slot: the parallelism only sized the TaskManagers.
            job.parallelism = None;
        }
        if mode == Mode::Standalone && spec.job.is_some() && keeps_cluster_up(&spec) {
            // The operator runs an application's JobManager as a Deployment that outlives its job.
            spec.job_manager.kind = Some(JobManagerKind::Deployment);
        }
        self.pod_templates(&mut fields, job_manager, task_manager, mode, &mut spec);
        if let Some((value, at)) = fields.take("logConfiguration") {
            spec.log_configuration = self.string_map(value, &at);
            self.source(&["spec", "logConfiguration"], &at);
            if mode == Mode::Standalone && !spec.log_configuration.is_empty() {
                spec.config_mode = Some(ConfigMode::Configmap);
            }
        }
        if let Some((value, at)) = fields.take("ingress") {
            spec.ingress = self.ingress(value, &at, mode);
        }
        self.operator_options(&mut options, &mut spec, mode);
        for (name, (value, at)) in options {
            self.sources.push((vec![key("spec"), key("flinkConfiguration"), key(&name)], at));
            spec.flink_configuration.insert(name, ConfigValue::Text(value));
        }
        fields.finish(self);
        Some((spec, session))
    }

    /// `v1_20` → `1.20`, refused unless kubectl-flink renders that version.
    fn flink_version(&mut self, text: &str, at: &[PathSegment]) -> Option<String> {
        let version = text
            .strip_prefix('v')
            .and_then(|rest| rest.split_once('_'))
            .filter(|(major, minor)| {
                [major, minor]
                    .iter()
                    .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
            })
            .map(|(major, minor)| format!("{major}.{minor}"));
        let Some(version) = version else {
            self.problem(
                at,
                format!("`{text}` is not an operator Flink version such as `v1_20`"),
                "write the version as the operator does, e.g. `v1_20` or `v2_1`",
            );
            return None;
        };
        match FlinkVersion::parse(&version) {
            Ok(_) => Some(version),
            Err(refusal) => {
                self.problem(
                    at,
                    format!("{text}: {}", refusal.message),
                    "convert a FlinkDeployment of a version kubectl-flink renders (`kubectl flink version` lists them)",
                );
                None
            }
        }
    }

    /// `flinkConfiguration` as dotted keys: nested maps joined with `.`, as the operator's
    /// `ConfigObjectNode` flattens them.
    fn flatten_options(&mut self, value: &Value, at: &[PathSegment]) -> Options {
        let mut options = Options::new();
        self.flatten_into(value, at, "", &mut options);
        options
    }

    fn flatten_into(
        &mut self,
        value: &Value,
        at: &[PathSegment],
        prefix: &str,
        options: &mut Options,
    ) {
        let Some(fields) = self.fields(value, at.to_vec()) else { return };
        for (name, value) in fields.map {
            let dotted = if prefix.is_empty() { name.clone() } else { format!("{prefix}.{name}") };
            let path = fields.at(name);
            match value {
                Value::Object(_) => self.flatten_into(value, &path, &dotted, options),
                Value::Null => self.warn(&path, "has no value: dropped"),
                Value::Array(_) => self.problem(
                    &path,
                    format!("`{dotted}` is a list"),
                    "write a Flink list as one text, items separated by `;`",
                ),
                _ => {
                    let text = self.text(value, &path).unwrap_or_default();
                    if options.insert(dotted.clone(), (text, path.clone())).is_some() {
                        self.problem(
                            &path,
                            format!("`{dotted}` is given twice, once dotted and once nested"),
                            "keep one of them",
                        );
                    }
                }
            }
        }
    }

    fn slots(&mut self, options: &mut Options) -> Option<(i64, Vec<PathSegment>)> {
        let (value, at) = options.remove("taskmanager.numberOfTaskSlots")?;
        let slots = self.int(&Value::String(value), &at)?;
        self.source(&["spec", "taskManager", "slots"], &at);
        Some((slots, at))
    }

    /// `high-availability[.type]`, `.storageDir` and ZooKeeper's keys → `highAvailability`.
    fn high_availability(&mut self, options: &mut Options) -> Option<HighAvailability> {
        let switch = options.remove("high-availability.type");
        let legacy = options.remove("high-availability");
        let storage = options.remove("high-availability.storageDir");
        let quorum = options.remove("high-availability.zookeeper.quorum");
        let root = options.remove("high-availability.zookeeper.path.root");
        let Some((kind, at)) = switch.or(legacy) else {
            let unused = [
                ("high-availability.storageDir", &storage),
                ("high-availability.zookeeper.quorum", &quorum),
                ("high-availability.zookeeper.path.root", &root),
            ];
            self.warn_dropped(&unused, "without `high-availability.type`");
            return None;
        };
        let ha_type = match kind.trim() {
            k if k.eq_ignore_ascii_case("none") => return None,
            k if k.eq_ignore_ascii_case("kubernetes") || k == KUBERNETES_HA_FACTORY => {
                HaType::Kubernetes
            }
            k if k.eq_ignore_ascii_case("zookeeper") => HaType::Zookeeper,
            other => {
                self.problem(&at, format!("high availability `{other}` cannot be converted"), "kubectl-flink renders `kubernetes` and `zookeeper` high availability; use one of them");
                return None;
            }
        };
        self.source(&["spec", "highAvailability", "type"], &at);
        let Some((storage_dir, storage_at)) = storage else {
            self.problem(
                &at,
                "high availability needs `high-availability.storageDir`",
                "add `high-availability.storageDir` to flinkConfiguration, e.g. s3://bucket/ha",
            );
            return None;
        };
        self.source(&["spec", "highAvailability", "storageDir"], &storage_at);
        let zookeeper = match (ha_type, quorum) {
            (HaType::Zookeeper, Some((quorum, quorum_at))) => {
                self.source(&["spec", "highAvailability", "zookeeper", "quorum"], &quorum_at);
                let path_root = root.map(|(root, root_at)| {
                    self.source(&["spec", "highAvailability", "zookeeper", "pathRoot"], &root_at);
                    root
                });
                Some(ZooKeeper { quorum, path_root })
            }
            (HaType::Zookeeper, None) => {
                self.problem(
                    &at,
                    "ZooKeeper high availability needs `high-availability.zookeeper.quorum`",
                    "add the quorum (`host:port,…`) to flinkConfiguration",
                );
                return None;
            }
            (HaType::Kubernetes, quorum) => {
                let unused = [
                    ("high-availability.zookeeper.quorum", &quorum),
                    ("high-availability.zookeeper.path.root", &root),
                ];
                self.warn_dropped(&unused, "with Kubernetes high availability");
                None
            }
        };
        Some(HighAvailability { ha_type, zookeeper, storage_dir })
    }

    /// `execution.checkpointing.savepoint-dir` (Flink ≥ 1.20) or `state.savepoints.dir`.
    fn savepoint_dir(&mut self, options: &mut Options) -> Option<String> {
        let new = options.remove("execution.checkpointing.savepoint-dir");
        let old = options.remove("state.savepoints.dir");
        if let (Some((a, at)), Some((b, _))) = (&new, &old)
            && a != b
        {
            self.problem(at, format!("`execution.checkpointing.savepoint-dir` and `state.savepoints.dir` disagree (`{a}`, `{b}`)"), "keep one savepoint directory");
        }
        let (dir, at) = new.or(old)?;
        self.source(&["spec", "savepointDir"], &at);
        Some(dir)
    }

    /// `kubernetes.rest-service.exposed.type` → `service.type`; without it Flink's default,
    /// `ClusterIP`, is written (kubectl-flink's own default is `NodePort`).
    fn service_type(&mut self, options: &mut Options) -> Option<ServiceType> {
        let (value, at) = options.remove("kubernetes.rest-service.exposed.type")?;
        self.source(&["spec", "service", "type"], &at);
        let types = [
            ("ClusterIP", ServiceType::ClusterIP),
            ("NodePort", ServiceType::NodePort),
            ("LoadBalancer", ServiceType::LoadBalancer),
        ];
        let found =
            types.iter().find(|(name, _)| name.eq_ignore_ascii_case(value.trim())).map(|(_, t)| *t);
        if found.is_none() {
            self.problem(
                &at,
                format!("REST Service type `{value}` cannot be converted"),
                "use ClusterIP, NodePort or LoadBalancer",
            );
        }
        found
    }

    /// `jobmanager.memory.process.size` and `taskmanager.memory.process.size` become the
    /// process's memory when its resources give none; the operator lets the resources win.
    fn memory_options(
        &mut self,
        options: &mut Options,
        jm: &Process,
        tm: &Process,
        spec: &mut ClusterSpec,
    ) {
        for (name, process, component) in [
            ("jobmanager.memory.process.size", jm, "jobManager"),
            ("taskmanager.memory.process.size", tm, "taskManager"),
        ] {
            let Some((value, at)) = options.remove(name) else { continue };
            if process.resources.memory.is_some() {
                self.warn(
                    &at,
                    format!(
                        "the operator replaces `{name}` with `spec.{component}`'s memory: dropped"
                    ),
                );
                continue;
            }
            match units::memory_quantity(&value) {
                Ok(memory) => {
                    let resources = resources_of(spec, component);
                    resources.memory = Some(QuantityText::Text(memory));
                    self.source(&["spec", component, "resources", "memory"], &at);
                }
                Err(message) => {
                    self.problem(&at, message, "write a memory size such as `2048m` or `2g`");
                }
            }
        }
    }

    /// A `jobManager` or `taskManager` section.
    fn process(&mut self, value: &Value, at: Vec<PathSegment>) -> Process {
        let mut process = Process::default();
        let Some(mut fields) = self.fields(value, at) else { return process };
        let legacy = fields.take("resource");
        let requirements = fields.take("resources");
        match (requirements, legacy) {
            (Some((value, at)), legacy) => {
                if let Some((_, legacy_at)) = legacy {
                    self.warn(&legacy_at, "the operator ignores the deprecated `resource` when `resources` is set: dropped");
                }
                process.resources = self.requirements(value, &at);
            }
            (None, Some((value, at))) => process.resources = self.legacy_resource(value, &at),
            (None, None) => {}
        }
        if let Some((value, at)) = fields.take("replicas")
            && let Some(replicas) = self.int(value, &at)
        {
            {
                if replicas < 1 {
                    self.problem(
                        &at,
                        format!("replicas must be ≥ 1 (got {replicas})"),
                        "use 1 or more",
                    );
                } else {
                    process.replicas = Some((replicas, at));
                }
            }
        }
        if let Some((value, at)) = fields.take("podTemplate") {
            process.pod_template = self.pod_template(value, &at).map(|t| (t, at));
        }
        fields.finish(self);
        process
    }

    /// The deprecated `resource: {cpu, memory, ephemeralStorage}`.
    fn legacy_resource(&mut self, value: &Value, at: &[PathSegment]) -> ProcessResources {
        let mut resources = ProcessResources::default();
        let Some(mut fields) = self.fields(value, at.to_vec()) else { return resources };
        if let Some((value, at)) = fields.take("cpu") {
            match value.as_f64().or_else(|| value.as_str().and_then(|s| s.trim().parse().ok())) {
                Some(cores) => match units::cpu_quantity(cores) {
                    Ok(cpu) => resources.cpu = Some((cpu, at)),
                    Err(message) => {
                        self.problem(&at, message, "use a number of cores such as 0.5 or 2");
                    }
                },
                None => self.problem(
                    &at,
                    "the operator's `cpu` is a number of cores",
                    "use a number such as 0.5 or 2",
                ),
            }
        }
        if let Some((value, at)) = fields.take("memory") {
            resources.memory = self.memory(value, &at);
        }
        if let Some((_, at)) = fields.take("ephemeralStorage") {
            self.problem(&at, "ephemeral storage cannot be converted: kubectl-flink requests none", "remove it, or mount an `emptyDir` volume with a `sizeLimit` through the pod template");
        }
        fields.finish(self);
        resources
    }

    fn memory(&mut self, value: &Value, at: &[PathSegment]) -> Option<(String, Vec<PathSegment>)> {
        let text = self.text(value, at)?;
        match units::memory_quantity(&text) {
            Ok(memory) => Some((memory, at.to_vec())),
            Err(message) => {
                self.problem(at, message, "write a memory size such as `2048m` or `2Gi`");
                None
            }
        }
    }

    /// Kubernetes `ResourceRequirements`: the operator takes each request (or the limit
    /// when there is no request) and a limit factor from limit ÷ request.
    fn requirements(&mut self, value: &Value, at: &[PathSegment]) -> ProcessResources {
        let mut resources = ProcessResources::default();
        let Some(mut fields) = self.fields(value, at.to_vec()) else { return resources };
        let requests = fields.take("requests");
        let limits = fields.take("limits");
        fields.finish(self);
        let read = |doc: &mut Self,
                    side: Option<(&Value, Vec<PathSegment>)>|
         -> BTreeMap<String, (Value, Vec<PathSegment>)> {
            let mut out = BTreeMap::new();
            let Some((value, at)) = side else { return out };
            let Some(fields) = doc.fields(value, at) else { return out };
            for (name, value) in fields.map {
                let path = fields.at(name);
                if name == "cpu" || name == "memory" {
                    out.insert(name.clone(), (value.clone(), path));
                } else {
                    doc.problem(&path, format!("resource `{name}` cannot be converted: kubectl-flink sets only cpu and memory"), "remove it, or request it in the pod template's `flink-main-container`");
                }
            }
            out
        };
        let requests = read(self, requests);
        let limits = read(self, limits);
        for name in ["cpu", "memory"] {
            let request = requests.get(name).or_else(|| limits.get(name));
            let Some((value, at)) = request else { continue };
            let amount =
                if name == "memory" { self.memory(value, at) } else { self.cpu(value, at) };
            let factor = match (requests.get(name), limits.get(name), &amount) {
                (Some(_), Some((limit, limit_at)), Some((request, _))) => {
                    let limit = if name == "memory" {
                        self.memory(limit, limit_at)
                    } else {
                        self.cpu(limit, limit_at)
                    };
                    limit.and_then(|(limit, limit_at)| {
                        let ratio = amount_f64(&limit) / amount_f64(request);
                        ((ratio - 1.0).abs() > 1e-9 && ratio.is_finite())
                            .then_some((ratio, limit_at))
                    })
                }
                _ => None,
            };
            if name == "memory" {
                resources.memory = amount;
                resources.memory_limit_factor = factor;
            } else {
                resources.cpu = amount;
                resources.cpu_limit_factor = factor;
            }
        }
        resources
    }

    fn cpu(&mut self, value: &Value, at: &[PathSegment]) -> Option<(String, Vec<PathSegment>)> {
        let text = self.text(value, at)?;
        if crate::k8s::quantity::Quantity::parse(&text).is_ok() {
            Some((text, at.to_vec()))
        } else {
            self.problem(
                at,
                format!("`{text}` is not a CPU quantity"),
                "use e.g. \"500m\" or \"2\"",
            );
            None
        }
    }

    /// A process's CPU and memory, and in native mode its limit factors.
    fn resources(
        &mut self,
        process: &Process,
        component: &str,
        mode: Mode,
        spec: &mut ClusterSpec,
        options: &mut Options,
    ) {
        let read = &process.resources;
        if let Some((cpu, at)) = &read.cpu {
            resources_of(spec, component).cpu = Some(QuantityText::Text(cpu.clone()));
            self.source(&["spec", component, "resources", "cpu"], at);
        }
        if let Some((memory, at)) = &read.memory {
            resources_of(spec, component).memory = Some(QuantityText::Text(memory.clone()));
            self.source(&["spec", component, "resources", "memory"], at);
        }
        let process_key = if component == "jobManager" { "jobmanager" } else { "taskmanager" };
        for (what, factor) in
            [("cpu", &read.cpu_limit_factor), ("memory", &read.memory_limit_factor)]
        {
            let Some((factor, at)) = factor else { continue };
            if mode == Mode::Native {
                options.insert(
                    format!("kubernetes.{process_key}.{what}.limit-factor"),
                    (format!("{factor}"), at.clone()),
                );
            } else {
                self.problem(at, format!("a {what} limit other than the request cannot be converted to standalone mode: kubectl-flink sets one value as both"), format!("give {what} one value (the request is what Flink sizes itself to), or convert with `--mode native`, which keeps it as a limit factor"));
            }
        }
    }

    /// The job, its parallelism as the operator computes it, and in standalone mode the
    /// TaskManager count.
    #[allow(clippy::too_many_arguments)]
    fn job(
        &mut self,
        value: &Value,
        at: &[PathSegment],
        mode: Mode,
        tm: &Process,
        slots: i64,
        default_parallelism: Option<(String, Vec<PathSegment>)>,
        spec: &mut ClusterSpec,
        options: &mut Options,
    ) -> Option<JobSpec> {
        let mut fields = self.fields(value, at.to_vec())?;
        let mut job = JobSpec::default();
        if let Some((value, at)) = fields.take("jarURI") {
            if let Some(uri) = self.text(value, &at) {
                self.jar(uri, &at, mode, &mut job, options);
            }
        } else if mode == Mode::Native {
            self.problem(at, "a native job needs `jarURI` in kubectl-flink (Flink's kubernetes-application target runs one jar)", "add `jarURI: local:///opt/flink/usrlib/<jar>`, or convert with `--mode standalone`, whose JobManager finds the jar in /opt/flink/usrlib");
        }
        if let Some((value, at)) = fields.take("entryClass") {
            job.entry_class = self.text(value, &at);
            self.source(&["spec", "job", "entryClass"], &at);
        }
        if let Some((value, at)) = fields.take("args") {
            match value {
                Value::Array(items) => {
                    for (i, item) in items.iter().enumerate() {
                        let mut path = at.clone();
                        path.push(PathSegment::Index(i));
                        job.args.extend(self.text(item, &path));
                    }
                }
                _ => self.problem(
                    &at,
                    "`args` must be a list",
                    "write the arguments as a list, e.g. [\"--input\", \"s3://…\"]",
                ),
            }
            self.source(&["spec", "job", "args"], &at);
        }
        let parallelism = fields
            .take("parallelism")
            .and_then(|(v, at)| self.int(v, &at).filter(|p| *p > 0).map(|p| (p, at)));
        let parallelism = parallelism.or_else(|| {
            default_parallelism
                .and_then(|(v, at)| self.int(&Value::String(v), &at).map(|p| (p, at)))
        });
        self.parallelism(parallelism, tm, slots, mode, at, &mut job, spec);
        if let Some((value, at)) = fields.take("initialSavepointPath") {
            job.from_savepoint = self.text(value, &at);
            self.source(&["spec", "job", "fromSavepoint"], &at);
        }
        if let Some((value, at)) = fields.take("allowNonRestoredState") {
            match value {
                Value::Bool(b) => job.allow_non_restored_state = Some(*b),
                _ => self.problem(&at, "must be true or false", "write true or false"),
            }
            self.source(&["spec", "job", "allowNonRestoredState"], &at);
        }
        self.operator_job_fields(&mut fields, mode);
        fields.finish(self);
        Some(job)
    }

    /// What only the operator acts on: the job's desired state, upgrade mode and triggers.
    fn operator_job_fields(&mut self, fields: &mut Fields, cluster_mode: Mode) {
        if let Some((value, at)) = fields.take("state") {
            match self.text(value, &at).as_deref() {
                Some("running") | None => {}
                Some("suspended") => self.problem(&at, "the job is suspended: the converted spec would start it, without its state, when applied", "set `job.state: running` and `job.initialSavepointPath` to the savepoint it was suspended with (in the FlinkDeployment's status), then convert"),
                Some(other) => self.problem(&at, format!("`{other}` is not a job state"), "use `running` or `suspended`"),
            }
        }
        if let Some((value, at)) = fields.take("upgradeMode") {
            let mode = self.text(value, &at).unwrap_or_default();
            let flag = match mode.as_str() {
                "savepoint" | "stateless" => mode.clone(),
                "last-state" => "last-state` (which needs highAvailability)".to_owned(),
                other => {
                    self.problem(
                        &at,
                        format!("`{other}` is not an upgrade mode"),
                        "use savepoint, last-state or stateless",
                    );
                    String::new()
                }
            };
            if !flag.is_empty() && cluster_mode == Mode::Native {
                self.warn(&at, "the operator's upgrade mode: `kubectl flink upgrade` moves standalone job clusters (convert with `--mode standalone`); a native one moves by `kubectl flink savepoint`, `kubectl flink delete`, then the new spec with `job.fromSavepoint`");
            } else if !flag.is_empty() {
                let flag = if flag.contains('`') { flag } else { format!("{flag}`") };
                self.warn(&at, format!("the operator's upgrade mode: kubectl-flink upgrades when asked, with `kubectl flink upgrade -f <spec> --mode {flag}"));
            }
        }
        let nonces: [(&'static str, &str); 4] = [
            (
                "savepointTriggerNonce",
                "the operator's savepoint trigger: take a savepoint with `kubectl flink savepoint -f <spec>`",
            ),
            (
                "checkpointTriggerNonce",
                "the operator's checkpoint trigger: Flink checkpoints every `execution.checkpointing.interval`; for a snapshot on demand use `kubectl flink savepoint -f <spec>`",
            ),
            (
                "savepointRedeployNonce",
                "the operator's redeploy-from-savepoint trigger: `kubectl flink delete -f <spec>`, then apply the spec with `job.fromSavepoint` set to the savepoint",
            ),
            (
                "autoscalerResetNonce",
                "resets the operator's autoscaler, which kubectl-flink has not (see `job.autoscaler.*`): dropped",
            ),
        ];
        for (name, message) in nonces {
            if let Some((_, at)) = fields.take(name) {
                self.warn(&at, message);
            }
        }
    }

    /// `jarURI`: native mode's `job.jarURI`; standalone mode finds a jar in /opt/flink/usrlib,
    /// and any other one the way the operator adds it, on `pipeline.classpaths`.
    fn jar(
        &mut self,
        uri: String,
        at: &[PathSegment],
        mode: Mode,
        job: &mut JobSpec,
        options: &mut Options,
    ) {
        if mode == Mode::Native {
            job.jar_uri = Some(uri);
            self.source(&["spec", "job", "jarURI"], at);
            return;
        }
        let file = uri
            .strip_prefix("local://")
            .map_or_else(|| uri.clone(), |path| format!("file://{path}"));
        if file.strip_prefix("file://").is_some_and(|p| p.starts_with(USRLIB)) {
            return; // kubectl-flink's standalone JobManager puts /opt/flink/usrlib on its classpath
        }
        if let Some((existing, existing_at)) = options.get("pipeline.classpaths") {
            let existing_at = existing_at.clone();
            let joined = format!("{existing};{file}");
            options.insert("pipeline.classpaths".into(), (joined, existing_at));
        } else {
            options.insert("pipeline.classpaths".into(), (file, at.to_vec()));
        }
    }

    /// The operator's parallelism: `taskManager.replicas` × slots when replicas are set, else
    /// `job.parallelism` (or `parallelism.default`). Standalone mode runs
    /// ⌈parallelism ÷ slots⌉ TaskManagers unless replicas are given.
    #[allow(clippy::too_many_arguments)]
    fn parallelism(
        &mut self,
        parallelism: Option<(i64, Vec<PathSegment>)>,
        tm: &Process,
        slots: i64,
        mode: Mode,
        job_at: &[PathSegment],
        job: &mut JobSpec,
        spec: &mut ClusterSpec,
    ) {
        if let Some((replicas, replicas_at)) = &tm.replicas {
            let total = replicas.saturating_mul(slots);
            job.parallelism = Some(total);
            self.source(&["spec", "job", "parallelism"], replicas_at);
            if let Some((p, p_at)) = &parallelism
                && *p != total
            {
                self.warn(p_at, format!("the operator ignores the parallelism when `taskManager.replicas` is set: the job runs with replicas × slots = {total}"));
            }
            if mode == Mode::Native {
                self.warn(replicas_at, format!("native mode starts TaskManagers as the job needs them: converted to `job.parallelism: {total}` (replicas × slots)"));
            } else {
                spec.task_manager.replicas = Some(*replicas);
                self.source(&["spec", "taskManager", "replicas"], replicas_at);
            }
            return;
        }
        let Some((parallelism, at)) = parallelism else {
            self.problem(job_at, "the job needs a parallelism (the operator refuses a job without one or `taskManager.replicas`)", "add `parallelism: N` to the job");
            return;
        };
        job.parallelism = Some(parallelism);
        self.source(&["spec", "job", "parallelism"], &at);
        if mode == Mode::Standalone {
            let replicas = (parallelism + slots - 1) / slots.max(1);
            spec.task_manager.replicas = Some(replicas);
            self.source(&["spec", "taskManager", "replicas"], &at);
        }
    }

    fn session_replicas(&mut self, tm: &Process, mode: Mode, spec: &mut ClusterSpec) {
        let Some((replicas, at)) = &tm.replicas else { return };
        if mode == Mode::Native {
            self.warn(at, "native mode starts TaskManagers as jobs need them; `slotmanager.number-of-slots.min` in flinkConfiguration keeps some running: dropped");
        } else {
            spec.task_manager.replicas = Some(*replicas);
            self.source(&["spec", "taskManager", "replicas"], at);
        }
    }

    /// A pod template as kubectl-flink takes it: a `PodTemplateSpec` (the operator's
    /// `apiVersion: v1`, `kind: Pod` carry nothing and are left out).
    fn pod_template(&mut self, value: &Value, at: &[PathSegment]) -> Option<Value> {
        let mut template = value.clone();
        let Some(map) = template.as_object_mut() else {
            self.problem(
                at,
                "a pod template must be a mapping",
                "write a Kubernetes pod template (`metadata`, `spec`)",
            );
            return None;
        };
        if map.get("apiVersion").is_none_or(|v| v == "v1")
            && map.get("kind").is_none_or(|v| v == "Pod")
        {
            map.remove("apiVersion");
            map.remove("kind");
        }
        Some(template)
    }

    fn pod_templates(
        &mut self,
        fields: &mut Fields,
        jm: Process,
        tm: Process,
        mode: Mode,
        spec: &mut ClusterSpec,
    ) {
        let shared = fields
            .take("podTemplate")
            .and_then(|(v, at)| self.pod_template(v, &at).map(|t| (t, at)));
        let native_help = "kubectl-flink renders no JobManager pod template in native mode yet: convert with `--mode standalone` (pod templates for both processes), or move what only the TaskManagers need to `taskManager.podTemplate`";
        if mode == Mode::Native {
            for (template, name) in
                [(&shared, "podTemplate"), (&jm.pod_template, "jobManager.podTemplate")]
            {
                if let Some((_, at)) = template {
                    self.problem(at, format!("`{name}` applies to the JobManager, which native mode cannot template here"), native_help);
                }
            }
        } else {
            if let Some((template, at)) = shared {
                spec.pod_template = Some(template);
                self.source(&["spec", "podTemplate"], &at);
            }
            if let Some((template, at)) = jm.pod_template {
                spec.job_manager.pod_template = Some(template);
                self.source(&["spec", "jobManager", "podTemplate"], &at);
            }
        }
        if let Some((template, at)) = tm.pod_template {
            spec.task_manager.pod_template = Some(template);
            self.source(&["spec", "taskManager", "podTemplate"], &at);
        }
    }

    /// The operator's `ingress` (a URL template with `{{name}}` and `{{namespace}}`) as
    /// `spec.ingress` where it is a host and a plain path; otherwise a warning.
    fn ingress(&mut self, value: &Value, at: &[PathSegment], mode: Mode) -> Option<IngressSpec> {
        let mut fields = self.fields(value, at.to_vec())?;
        let template =
            fields.take("template").and_then(|(v, at)| self.text(v, &at).map(|t| (t, at)));
        let class_name = fields.take("className").and_then(|(v, at)| self.text(v, &at));
        let annotations =
            fields.take("annotations").map(|(v, at)| self.string_map(v, &at)).unwrap_or_default();
        let labels = fields.take("labels");
        let tls = fields.take("tls");
        fields.finish(self);
        if mode == Mode::Native {
            let rest = "point your own Ingress at the Service `<name>-rest`, port `rest`";
            self.warn(at, format!("kubectl-flink renders no Ingress in native mode: {rest} (or convert with `--mode standalone`): dropped"));
            return None;
        }
        let Some((template, template_at)) = template else {
            self.problem(
                at,
                "an ingress needs a `template`",
                "add the operator's URL template, e.g. `{{name}}.example.com`",
            );
            return None;
        };
        let (host, path) = match ingress_url(&template, self.root) {
            Ok(url) => url,
            Err(why) => {
                self.warn(&template_at, format!("{why}; kubectl-flink's `spec.ingress` takes a host and a path prefix: point your own Ingress at the Service `<name>-jobmanager-rest`, port `rest`: dropped"));
                return None;
            }
        };
        if let Some((_, at)) = labels {
            self.warn(&at, "kubectl-flink's Ingress carries the cluster's labels only: dropped");
        }
        let mut tls_secret = None;
        if let Some((value, at)) = tls {
            let secrets: Vec<&str> = value
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|t| t["secretName"].as_str())
                .collect();
            match secrets.as_slice() {
                [secret] => tls_secret = Some((*secret).to_owned()),
                _ => self.warn(&at, "kubectl-flink's Ingress takes one TLS Secret for its host (`spec.ingress.tlsSecret`): dropped"),
            }
        }
        self.source(&["spec", "ingress", "host"], &template_at);
        Some(IngressSpec { host: Some(host), class_name, path, tls_secret, annotations })
    }

    /// Options only the operator reads, and the autoscaler's, left out with one warning
    /// each group; options the operator sets from a field it has here.
    /// Kubernetes expands `$(NAME)` in container arguments, where a standalone cluster's job
    /// arguments and options go; the operator passed them to Flink literally.
    fn warn_kubernetes_expansion(&mut self, options: &Options, spec: &ClusterSpec) {
        let help = "Kubernetes expands `$(NAME)` in container arguments, which the operator did not: write `$$(` for a literal `$(`";
        for (name, (value, at)) in options {
            if value.contains("$(") {
                self.warn(at, format!("`{name}`: {help}"));
            }
        }
        let args = spec.job.as_ref().map(|job| job.args.clone()).unwrap_or_default();
        if args.iter().any(|arg| arg.contains("$(")) {
            let at = self.source_of(&["spec", "job", "args"]);
            self.warn(&at, format!("job arguments: {help}"));
        }
    }

    fn operator_options(&mut self, options: &mut Options, spec: &mut ClusterSpec, mode: Mode) {
        let mut autoscaler = Vec::new();
        let mut operator = Vec::new();
        let mut native_only = Vec::new();
        let mut shutdown = None;
        options.retain(|name, (_, at)| {
            if name == SHUTDOWN_ON_APPLICATION_FINISH {
                shutdown = Some(at.clone());
                false
            } else if mode == Mode::Standalone && is_native_only(name) {
                native_only.push((name.clone(), at.clone()));
                false
            } else if name.starts_with("job.autoscaler.")
                || name.starts_with("kubernetes.operator.job.autoscaler.")
            {
                autoscaler.push((name.clone(), at.clone()));
                false
            } else if name.starts_with("kubernetes.operator.") {
                operator.push((name.clone(), at.clone()));
                false
            } else {
                true
            }
        });
        let names = |list: &[(String, Vec<PathSegment>)]| {
            list.iter().map(|(n, _)| format!("`{n}`")).collect::<Vec<_>>().join(", ")
        };
        if let Some((_, at)) = autoscaler.first() {
            let at = at.clone();
            self.warn(&at, format!("{}: the operator's autoscaler, which kubectl-flink has not; a standalone job can rescale with `scheduler-mode: reactive` and `taskManager.autoscaling` (an HPA on CPU): dropped", names(&autoscaler)));
        }
        if let Some((_, at)) = operator.first() {
            let at = at.clone();
            self.warn(
                &at,
                format!("{}: options of the operator itself: dropped", names(&operator)),
            );
        }
        if let Some(at) = shutdown {
            self.warn(&at, format!("`{SHUTDOWN_ON_APPLICATION_FINISH}`: the operator sets it itself for applications; here `spec.jobManager.kind` decides (`Deployment` keeps the JobManager up): dropped"));
        }
        if let Some((_, at)) = native_only.first() {
            let at = at.clone();
            self.warn(&at, format!("{}: options of Flink's native Kubernetes client, which a standalone cluster does not read; set `spec.nodeSelector`, `tolerations`, `podAnnotations`, `metadata.labels` or a pod template instead: dropped", names(&native_only)));
        }
        if mode == Mode::Standalone && spec.config_mode != Some(ConfigMode::Configmap) {
            self.warn_kubernetes_expansion(options, spec);
        }
        for (name, field) in SET_FROM_FIELDS {
            let Some((value, at)) = options.remove(*name) else { continue };
            if *name == "kubernetes.service-account" && spec.service_account_name.is_none() {
                spec.service_account_name = Some(value);
                self.source(&["spec", "serviceAccountName"], &at);
                continue;
            }
            self.warn(&at, format!("`{name}` is set from {field} here: dropped"));
        }
    }
}

/// Options only Flink's native Kubernetes client reads (it builds the pods from them); a
/// standalone cluster's pods are kubectl-flink's.
fn is_native_only(name: &str) -> bool {
    const PREFIXES: &[&str] = &[
        "kubernetes.jobmanager.",
        "kubernetes.taskmanager.",
        "kubernetes.pod-template-file",
        "kubernetes.rest-service.",
        "kubernetes.container.",
        "kubernetes.hadoop.",
        "kubernetes.flink.",
        "kubernetes.entry.",
        "kubernetes.secrets",
        "kubernetes.env.",
        "kubernetes.config.",
        "kubernetes.decorator.",
        "kubernetes.transactional-operation.",
    ];
    PREFIXES.iter().any(|prefix| name.starts_with(prefix))
}

/// The Ingress host and path of the operator's template (`IngressUtils.getIngressUrl`:
/// `{{name}}` and `{{namespace}}` replaced, read as a URL).
fn ingress_url(template: &str, root: &Node) -> Result<(String, Option<String>), String> {
    let metadata = |field: &str| match root.find(&[key("metadata"), key(field)]) {
        Some((Node { kind: yaml::NodeKind::Scalar { text, .. }, .. }, _)) => Some(text.clone()),
        _ => None,
    };
    let (name, namespace) = (metadata("name"), metadata("namespace"));
    let mut url = template.to_owned();
    if url.contains("{{namespace}}") {
        let Some(namespace) = namespace else {
            return Err(format!(
                "template `{template}` names the namespace, and the FlinkDeployment has no `metadata.namespace`"
            ));
        };
        url = url.replace("{{namespace}}", &namespace);
    }
    url = url.replace("{{name}}", name.as_deref().unwrap_or_default());
    let without_scheme = url.split_once("://").map_or(url.as_str(), |(_, rest)| rest);
    let (host, path) = without_scheme
        .split_once('/')
        .map_or((without_scheme, None), |(h, p)| (h, Some(format!("/{p}"))));
    if host.is_empty() {
        return Err(format!("template `{template}` has no host"));
    }
    if host.contains(':') {
        return Err(format!("template `{template}` has a port"));
    }
    if let Some(path) = &path
        && path.contains(['(', ')', '$', '*', '?', '[', ']', '|', '{', '}'])
    {
        return Err(format!("template `{template}` has a regular expression in its path"));
    }
    Ok((host.to_owned(), path.filter(|p| p != "/")))
}

fn resources_of<'s>(spec: &'s mut ClusterSpec, component: &str) -> &'s mut Resources {
    let slot = if component == "jobManager" {
        &mut spec.job_manager.resources
    } else {
        &mut spec.task_manager.resources
    };
    slot.get_or_insert_with(Resources::default)
}

/// A CPU or memory quantity as a number, for a limit ÷ request ratio.
fn amount_f64(text: &str) -> f64 {
    crate::k8s::quantity::Quantity::parse(text)
        .map_or(f64::NAN, crate::k8s::quantity::Quantity::to_f64)
}
