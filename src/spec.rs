//! The spec a user writes (`kind: FlinkCluster`): types, defaults and validation.
//!
//! Types are deserialized from the JSON form of a parsed YAML document with unknown fields
//! denied, then checked field by field. Every problem carries the field path in the user's
//! spelling; the caller turns paths into file and line. This module never reads files.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::names;
use crate::quantity::Quantity;
use crate::version::{FlinkVersion, Process};
use crate::yaml::PathSegment;

#[cfg(test)]
mod oracle;
mod strict;

/// The `apiVersion` every spec carries.
pub const API_VERSION: &str = "kubectl-flink/v1alpha1";
/// A cluster that runs one job (its JobManager submits it on start).
pub const JOB_CLUSTER: &str = "FlinkJobCluster";
/// A cluster that accepts jobs submitted later.
pub const SESSION_CLUSTER: &str = "FlinkSessionCluster";
/// The kinds this version renders.
pub const KINDS: &[&str] = &[JOB_CLUSTER, SESSION_CLUSTER];

/// A Flink cluster: a JobManager, TaskManagers and a Service; for a `FlinkJobCluster`, one job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(
    title = "FlinkCluster",
    description = "A Flink job or session cluster rendered by kubectl-flink"
)]
pub struct FlinkCluster {
    /// Always `kubectl-flink/v1alpha1`.
    #[schemars(extend("const" = "kubectl-flink/v1alpha1"))]
    pub api_version: String,
    /// `FlinkJobCluster` or `FlinkSessionCluster`.
    #[schemars(extend("enum" = ["FlinkJobCluster", "FlinkSessionCluster"]))]
    pub kind: String,
    pub metadata: Metadata,
    pub spec: ClusterSpec,
}

/// Name, namespace and labels of the cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Metadata {
    /// Cluster name (DNS-1035 label, at most 47 characters so derived names fit in 63).
    #[schemars(length(min = 1, max = 47), regex(pattern = r"^[a-z]([-a-z0-9]*[a-z0-9])?$"))]
    pub name: String,
    /// Namespace copied to every object; omit it to let `kubectl -n` or kustomize decide.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Labels added to every object and pod template.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Annotations of the spec itself (e.g. kustomize's or kpt's); not copied to objects.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// What to run and how.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClusterSpec {
    /// Container image holding Flink and the job jar (in `/opt/flink/lib` or `/opt/flink/usrlib`).
    #[schemars(length(min = 1))]
    pub image: String,
    /// Image pull policy of both containers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_pull_policy: Option<PullPolicy>,
    /// Flink release line, e.g. "1.8", "1.20", "2.1" (a quoted string); default: the newest supported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[0-9]+\.[0-9]+(\.[0-9]+)?$"))]
    pub flink_version: Option<String>,
    /// How Flink runs on Kubernetes: `standalone` (default) or `native`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<Mode>,
    /// How the containers start Flink: `image` (default) runs the official image's
    /// `/docker-entrypoint.sh` (plugins, jemalloc, `FLINK_PROPERTIES`); `script` runs
    /// `/opt/flink/bin/*.sh` directly, for images built without that entrypoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entrypoint: Option<Entrypoint>,
    /// The job to run (`FlinkJobCluster` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<JobSpec>,
    /// The JobManager.
    #[serde(default)]
    pub job_manager: JobManagerSpec,
    /// The TaskManagers.
    #[serde(default)]
    pub task_manager: TaskManagerSpec,
    /// The JobManager Service.
    #[serde(default)]
    pub service: ServiceSpec,
    /// JobManager high availability; required for `job.fromSavepoint`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub high_availability: Option<HighAvailability>,
    /// Default savepoint directory (`state.savepoints.dir` or, from Flink 1.20,
    /// `execution.checkpointing.savepoint-dir`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub savepoint_dir: Option<String>,
    /// Further Flink options, passed through verbatim as `-Dkey=value`. Nested maps are
    /// flattened to dotted keys.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub flink_configuration: BTreeMap<String, ConfigValue>,
    /// Where Flink options go: `args` (`-D` arguments, and the variables the start scripts
    /// and the image's entrypoint read for what a version takes only from its file; default)
    /// or `configmap` (a `<name>-config` ConfigMap mounted at `/opt/flink/conf`; pods roll
    /// when it changes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_mode: Option<ConfigMode>,
    /// Logging configuration files for `configMode: configmap`, by file name
    /// (default: a console `log4j-console.properties`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub log_configuration: BTreeMap<String, String>,
    /// Service account of both pods (with Kubernetes HA, one named after the cluster is
    /// created when this is not set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account_name: Option<String>,
    /// Names of image pull Secrets.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub image_pull_secrets: Vec<String>,
    /// Node labels both pods must run on.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub node_selector: BTreeMap<String, String>,
    /// Kubernetes tolerations of both pods.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(deserialize_with = "kubernetes_objects")]
    #[schemars(with = "Vec<KubernetesObject>")]
    pub tolerations: Vec<Value>,
    /// Kubernetes affinity of both pods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(deserialize_with = "kubernetes_object")]
    #[schemars(with = "Option<KubernetesObject>")]
    pub affinity: Option<Value>,
    /// Extra environment variables (Kubernetes `EnvVar`s) of both Flink containers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(deserialize_with = "kubernetes_objects")]
    #[schemars(with = "Vec<KubernetesObject>")]
    pub env: Vec<Value>,
    /// Environment from ConfigMaps or Secrets (Kubernetes `EnvFromSource`s).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(deserialize_with = "kubernetes_objects")]
    #[schemars(with = "Vec<KubernetesObject>")]
    pub env_from: Vec<Value>,
    /// Secrets mounted as files in both Flink containers (Flink's `kubernetes.secrets`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<SecretMount>,
    /// Secret keys as environment variables (Flink's `kubernetes.env.secretKeyRef`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secret_env: Vec<SecretEnv>,
    /// Extra pod volumes (Kubernetes `Volume`s).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(deserialize_with = "kubernetes_objects")]
    #[schemars(with = "Vec<KubernetesObject>")]
    pub volumes: Vec<Value>,
    /// Extra mounts in both Flink containers (Kubernetes `VolumeMount`s).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(deserialize_with = "kubernetes_objects")]
    #[schemars(with = "Vec<KubernetesObject>")]
    pub volume_mounts: Vec<Value>,
    /// Annotations of both pods.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub pod_annotations: BTreeMap<String, String>,
    /// Pod security context, replacing the default (non-root uid/gid 9999, as the Flink image).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(deserialize_with = "kubernetes_object")]
    #[schemars(with = "Option<KubernetesObject>")]
    pub security_context: Option<Value>,
    /// A Kubernetes `PodTemplateSpec` merged under both pods, the way Flink merges pod
    /// templates: fields kubectl-flink sets win, the template fills the rest and replaces
    /// kubectl-flink's defaults; sidecars and init containers are added.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(deserialize_with = "kubernetes_object")]
    #[schemars(with = "Option<KubernetesObject>")]
    pub pod_template: Option<Value>,
    /// An Ingress for the web UI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ingress: Option<IngressSpec>,
    /// Metrics reporters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<Metrics>,
    /// Native mode: the owner of the JobManager Deployment itself (Flink's
    /// `kubernetes.jobmanager.owner.reference`), e.g. a custom resource that manages the cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_reference: Option<OwnerReference>,
}

/// A Kubernetes owner reference (`metadata.ownerReferences[]`), as Flink's
/// `kubernetes.jobmanager.owner.reference` spells it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OwnerReference {
    /// API version of the owner, e.g. `example.com/v1`.
    #[schemars(length(min = 1))]
    pub api_version: String,
    /// Kind of the owner, e.g. `FlinkCluster`.
    #[schemars(length(min = 1))]
    pub kind: String,
    /// Name of the owner (same namespace as the cluster).
    #[schemars(length(min = 1))]
    pub name: String,
    /// UID of the owner (`kubectl get <kind> <name> -o jsonpath='{.metadata.uid}'`).
    #[schemars(length(min = 1))]
    pub uid: String,
    /// Whether the owner is the managing controller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub controller: Option<bool>,
    /// Whether deleting the owner waits for this object to be deleted first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_owner_deletion: Option<bool>,
}

/// A JSON object holding a Kubernetes API type, checked against that type when rendering.
#[derive(JsonSchema)]
#[schemars(transparent)]
struct KubernetesObject(#[schemars(with = "BTreeMap<String, Value>")] Value);

// Fields holding one are `Value`s, which take anything, so they are read through this type
// (`deserialize_with`) to refuse a sequence as a struct field would. Any other wrong value is
// left to the check against the Kubernetes type, whose message names that type.
impl<'de> Deserialize<'de> for KubernetesObject {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Value::deserialize(deserializer)? {
            Value::Array(_) => Err(strict::sequence_for_mapping()),
            value => Ok(Self(value)),
        }
    }
}

/// Reads an optional [`KubernetesObject`] field.
fn kubernetes_object<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Value>, D::Error> {
    Ok(Option::<KubernetesObject>::deserialize(deserializer)?.map(|object| object.0))
}

/// Reads a list of [`KubernetesObject`]s.
fn kubernetes_objects<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<Value>, D::Error> {
    let objects = Vec::<KubernetesObject>::deserialize(deserializer)?;
    Ok(objects.into_iter().map(|object| object.0).collect())
}

/// Where Flink options go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ConfigMode {
    /// `-Dkey=value` container arguments, and the variables the start scripts and the image's
    /// entrypoint read (`FLINK_ENV_JAVA_OPTS`, `FLINK_PROPERTIES`, …) for the rest.
    Args,
    /// A ConfigMap mounted at `/opt/flink/conf`.
    Configmap,
}

/// A Secret mounted as files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecretMount {
    /// Secret name.
    pub name: String,
    /// Directory the keys appear in, e.g. `/opt/flink/secrets/s3`.
    pub mount_path: String,
}

/// A Secret key as an environment variable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecretEnv {
    /// Environment variable name.
    pub name: String,
    /// Secret name.
    pub secret: String,
    /// Key in the Secret.
    pub key: String,
}

/// An Ingress for the Flink web UI.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IngressSpec {
    /// Host name, e.g. `flink.example.com` (required).
    #[serde(default)]
    pub host: Option<String>,
    /// `ingressClassName`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class_name: Option<String>,
    /// Path prefix; default `/`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// TLS Secret for the host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_secret: Option<String>,
    /// Annotations of the Ingress.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// Metrics reporters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Metrics {
    /// Flink's Prometheus reporter, scraped from both pods.
    pub prometheus: Prometheus,
}

/// Flink's Prometheus reporter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Prometheus {
    /// Port the reporter serves on; default 9249.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1024, max = 65535))]
    pub port: Option<i64>,
}

/// A Flink option value: text (numbers and booleans are kept as written) or a nested map.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ConfigValue {
    Text(String),
    Nested(BTreeMap<String, ConfigValue>),
}

impl JsonSchema for ConfigValue {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ConfigValue".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let nested = generator.subschema_for::<Self>();
        schemars::json_schema!({
            "description": "A Flink option value (kept as written) or a nested map of them, flattened to dotted keys.",
            "anyOf": [
                {"type": ["string", "number", "boolean"]},
                {"type": "object", "additionalProperties": nested}
            ]
        })
    }
}

/// How Flink runs on Kubernetes.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// A fixed number of TaskManagers in a Deployment (Flink's standalone Kubernetes setup).
    Standalone,
    /// The JobManager creates TaskManager pods itself (Flink's native Kubernetes integration).
    Native,
}

/// How the containers start Flink.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Entrypoint {
    /// The official image's `/docker-entrypoint.sh` with `standalone-job`, `jobmanager` or
    /// `taskmanager` as its first argument.
    Image,
    /// `/opt/flink/bin/standalone-job.sh`, `jobmanager.sh` or `taskmanager.sh` directly.
    Script,
}

/// Kubernetes image pull policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum PullPolicy {
    Always,
    IfNotPresent,
    Never,
}

/// The job the JobManager runs.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JobSpec {
    /// Main class; omitted, `standalone-job.sh` scans the classpath for a `Main-Class`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry_class: Option<String>,
    /// Program arguments.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
    /// `parallelism.default`; default 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 32768))]
    pub parallelism: Option<i64>,
    /// Savepoint to start from (`--fromSavepoint`); needs `highAvailability`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_savepoint: Option<String>,
    /// Skip savepoint state that maps to no operator (`--allowNonRestoredState`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_non_restored_state: Option<bool>,
    /// The job's jar in native mode (Flink's `kubernetes-application` target, `pipeline.jars`),
    /// e.g. `local:///opt/flink/usrlib/job.jar` for a jar inside the image. Native mode only.
    #[serde(default, rename = "jarURI", skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub jar_uri: Option<String>,
}

/// JobManager settings.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JobManagerSpec {
    /// JobManager pods: more than 1 starts standby JobManagers, which needs
    /// `highAvailability` (the Deployment's replicas for a session cluster, the Job's
    /// `parallelism` for a job cluster, as in Flink's Kubernetes docs); default 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 16))]
    pub replicas: Option<i64>,
    /// How many times the JobManager Job's pod may fail over the Job's whole life before
    /// Kubernetes gives up for good (`FlinkJobCluster` only); default 2147483647, i.e.
    /// restart as long as a Deployment would.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 2_147_483_647))]
    pub backoff_limit: Option<i64>,
    /// Container requests and limits, and the matching Flink memory option.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<Resources>,
    /// A pod template for the JobManager only, merged over `spec.podTemplate`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(deserialize_with = "kubernetes_object")]
    #[schemars(with = "Option<KubernetesObject>")]
    pub pod_template: Option<Value>,
}

/// TaskManager settings.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TaskManagerSpec {
    /// Number of TaskManager pods; default 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 10000))]
    pub replicas: Option<i64>,
    /// `taskmanager.numberOfTaskSlots`; default 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 1024))]
    pub slots: Option<i64>,
    /// Container requests and limits, and the matching Flink memory option.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<Resources>,
    /// A pod template for the TaskManagers only, merged over `spec.podTemplate`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(deserialize_with = "kubernetes_object")]
    #[schemars(with = "Option<KubernetesObject>")]
    pub pod_template: Option<Value>,
}

/// CPU and memory, as Kubernetes quantities; set as both request and limit.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Resources {
    /// e.g. "1", "500m".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu: Option<QuantityText>,
    /// e.g. "1600Mi", "2Gi".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<QuantityText>,
}

/// A quantity written as a string or a plain number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum QuantityText {
    Text(String),
    Number(serde_json::Number),
}

impl QuantityText {
    /// The quantity as Kubernetes writes it.
    pub fn text(&self) -> String {
        match self {
            Self::Text(text) => text.clone(),
            Self::Number(n) => n.to_string(),
        }
    }
}

/// The JobManager Service.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServiceSpec {
    /// Service type; default `NodePort`, as in the seed design.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub service_type: Option<ServiceType>,
}

/// Kubernetes Service type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum ServiceType {
    NodePort,
    ClusterIP,
    LoadBalancer,
}

/// JobManager high availability.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HighAvailability {
    /// HA services: `zookeeper` or `kubernetes`.
    #[serde(rename = "type")]
    pub ha_type: HaType,
    /// ZooKeeper connection, for `type: zookeeper`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zookeeper: Option<ZooKeeper>,
    /// Durable storage for JobManager metadata (`high-availability.storageDir`).
    #[schemars(length(min = 1))]
    pub storage_dir: String,
}

/// HA services.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum HaType {
    /// ZooKeeper (`zookeeper.quorum` required).
    Zookeeper,
    /// Kubernetes ConfigMaps (Flink ≥ 1.12); kubectl-flink adds the RBAC it needs.
    Kubernetes,
}

/// ZooKeeper quorum and root path.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ZooKeeper {
    /// `host:port` list, comma-separated.
    #[schemars(length(min = 1))]
    pub quorum: String,
    /// Root znode; default `/flink`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_root: Option<String>,
}

const NO_JOB: &JobSpec = &JobSpec {
    entry_class: None,
    args: Vec::new(),
    parallelism: None,
    from_savepoint: None,
    allow_non_restored_state: None,
    jar_uri: None,
};

impl FlinkCluster {
    /// Whether this is a `FlinkSessionCluster` (no job of its own).
    pub fn is_session(&self) -> bool {
        self.kind == SESSION_CLUSTER
    }
}

impl ClusterSpec {
    /// The job section, or the defaults when it is absent.
    pub fn job(&self) -> &JobSpec {
        self.job.as_ref().unwrap_or(NO_JOB)
    }
}

/// A problem found in a spec, at a field path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub path: Vec<PathSegment>,
    pub message: String,
    pub help: Option<String>,
}

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

fn key(name: &str) -> PathSegment {
    PathSegment::Key(name.to_owned())
}

fn path(keys: &[&str]) -> Vec<PathSegment> {
    keys.iter().map(|k| key(k)).collect()
}

impl Problem {
    fn new(path: Vec<PathSegment>, message: impl Into<String>) -> Self {
        Self { path, message: message.into(), help: None }
    }

    fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// Checks the header (`apiVersion`, `kind`) before the body is read, so a wrong kind is
/// reported as such rather than as a pile of unknown fields.
pub fn check_header(document: &Value) -> Result<(), Problem> {
    let Some(object) = document.as_object() else {
        return Err(Problem::new(
            vec![],
            "a spec must be a mapping with apiVersion, kind, metadata and spec",
        ));
    };
    match object.get("apiVersion") {
        Some(Value::String(v)) if v == API_VERSION => {}
        Some(other) => {
            return Err(Problem::new(
                path(&["apiVersion"]),
                format!("must be `{API_VERSION}` (got {other})"),
            )
            .help(format!("set `apiVersion: {API_VERSION}`")));
        }
        None => {
            return Err(misspelt(object, "apiVersion").unwrap_or_else(|| {
                Problem::new(vec![], "missing field `apiVersion`")
                    .help(format!("add `apiVersion: {API_VERSION}`"))
            }));
        }
    }
    match object.get("kind") {
        Some(Value::String(k)) if KINDS.contains(&k.as_str()) => Ok(()),
        Some(other) => {
            let mut problem = Problem::new(
                path(&["kind"]),
                format!("unsupported kind {other}; this version renders {}", KINDS.join(", ")),
            );
            if let Some(k) =
                other.as_str().and_then(|k| crate::error::did_you_mean(k, KINDS.iter().copied()))
            {
                problem = problem.help(format!("did you mean `{k}`?"));
            }
            Err(problem)
        }
        None => Err(misspelt(object, "kind").unwrap_or_else(|| {
            Problem::new(vec![], "missing field `kind`").help("add `kind: FlinkCluster`")
        })),
    }
}

/// A key that looks like a misspelling of the missing header `field` (`apiversion`, `Kind`).
fn misspelt(object: &serde_json::Map<String, Value>, field: &str) -> Option<Problem> {
    let typo = object.keys().find(|k| crate::error::did_you_mean(k, [field]).is_some())?;
    Some(
        Problem::new(path(&[typo]), format!("unknown field `{typo}`"))
            .help(format!("did you mean `{field}`?")),
    )
}

/// Deserializes a document into a spec; the problem names the failing field.
///
/// Serde fills a struct from a sequence by position (`zookeeper: [zk:2181]` would set
/// `quorum`, `metadata: [a]` the name), so the document is read through [`strict::Strict`],
/// which refuses a sequence wherever a type wants a mapping, at any depth.
pub fn deserialize(document: Value) -> Result<FlinkCluster, Problem> {
    serde_path_to_error::deserialize(strict::Strict(document)).map_err(|err| {
        let path = err.path().iter().filter_map(segment).collect::<Vec<_>>();
        explain_serde_error(path, &err.into_inner().to_string())
    })
}

fn segment(seg: &serde_path_to_error::Segment) -> Option<PathSegment> {
    match seg {
        serde_path_to_error::Segment::Map { key } => Some(PathSegment::Key(key.clone())),
        serde_path_to_error::Segment::Seq { index } => Some(PathSegment::Index(*index)),
        serde_path_to_error::Segment::Enum { variant } => Some(PathSegment::Key(variant.clone())),
        serde_path_to_error::Segment::Unknown => None,
    }
}

fn explain_serde_error(path: Vec<PathSegment>, message: &str) -> Problem {
    // serde says: "unknown field `replica`, expected one of `replicas`, `slots`"
    //        and: "unknown variant `Nodeport`, expected one of `NodePort`, ..."
    let quoted: Vec<&str> = message.split('`').skip(1).step_by(2).collect();
    if let Some((word, expected)) = quoted.split_first()
        && (message.starts_with("unknown field") || message.starts_with("unknown variant"))
    {
        let what = if message.starts_with("unknown field") { "field" } else { "value" };
        let mut problem = Problem::new(path, format!("unknown {what} `{word}`"));
        let choices = expected.iter().map(|e| format!("`{e}`")).collect::<Vec<_>>().join(", ");
        problem = match crate::error::did_you_mean(word, expected.iter().copied()) {
            Some(close) => {
                problem.help(format!("did you mean `{close}`? expected one of {choices}"))
            }
            None if expected.is_empty() => problem.help("this field takes no keys"),
            None => problem.help(format!("expected one of {choices}")),
        };
        return problem;
    }
    if message.starts_with("data did not match any variant of untagged enum QuantityText") {
        return Problem::new(
            path,
            "must be a Kubernetes quantity such as \"1\", \"500m\" or \"1600Mi\"",
        );
    }
    if message.starts_with("data did not match any variant of untagged enum ConfigValue") {
        return Problem::new(
            path,
            "a Flink option value must be a string, number, boolean or nested map",
        )
        .help("write lists the way Flink reads them, e.g. \"a;b;c\"");
    }
    let message = message.replace("invalid type: ", "wrong type: got ");
    let mut problem = Problem::new(path, message.clone());
    if message.strip_prefix("wrong type: got sequence, expected ") == Some(strict::EXPECTED) {
        problem = problem.help("write `key: value` entries here, not a `- item` list");
    } else if message.contains("expected a string") && message.contains("got floating point") {
        problem = problem.help("quote the value, e.g. \"1.20\": a plain 1.20 is the number 1.2");
    } else if message.contains("expected a string") {
        problem = problem.help("quote the value to make it a string");
    }
    problem
}

/// Validates a spec and flattens its Flink configuration.
pub fn validate(cluster: FlinkCluster, policy: Policy) -> Result<Valid, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut warnings = Vec::new();
    validate_metadata(&cluster.metadata, &mut problems);
    let spec = &cluster.spec;
    let version = match spec.flink_version.as_deref().map(FlinkVersion::parse) {
        None => FlinkVersion::NEWEST,
        Some(Ok(v)) => v,
        Some(Err(message)) => {
            problems.push(Problem::new(path(&["spec", "flinkVersion"]), message));
            FlinkVersion::NEWEST
        }
    };
    check_text(&spec.image, path(&["spec", "image"]), &mut problems);
    if cluster.is_session() {
        if spec.job.is_some() {
            problems.push(
                Problem::new(path(&["spec", "job"]), "a FlinkSessionCluster runs no job of its own")
                    .help("remove `spec.job` and submit jobs with `flink run`, or use `kind: FlinkJobCluster`"),
            );
        }
    } else {
        validate_job(spec, policy, &mut problems, &mut warnings);
    }
    validate_task_manager(&spec.task_manager, &mut problems);
    validate_job_manager(&cluster, &mut problems);
    let flink_configuration: BTreeMap<String, String> =
        flatten(&spec.flink_configuration).into_iter().map(|(k, v)| (k, v.to_owned())).collect();
    for (component, process, resources) in [
        ("jobManager", Process::JobClusterJobManager, &spec.job_manager.resources),
        ("taskManager", Process::TaskManager, &spec.task_manager.resources),
    ] {
        if let Some(resources) = resources {
            validate_resources(resources, &["spec", component, "resources"], &mut problems);
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
    crate::pod::validate(spec, &mut problems);
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
    validate_carried_options(&cluster, version, &flink_configuration, &mut problems);
    validate_metrics(spec, version, &mut problems);
    // Native mode's own rules (and the refusal of its fields in standalone mode).
    crate::native::validate(&cluster, version, &flink_configuration, &mut problems, &mut warnings);
    if problems.is_empty() {
        Ok(Valid { cluster, version, flink_configuration, warnings })
    } else {
        Err(problems)
    }
}

fn validate_metadata(metadata: &Metadata, problems: &mut Vec<Problem>) {
    if let Err(message) = names::check_dns1035_label(&metadata.name) {
        problems.push(Problem::new(path(&["metadata", "name"]), message).help(
            "use lowercase letters, digits and `-`, starting with a letter, e.g. `wordcount`",
        ));
    } else if metadata.name.len() > MAX_NAME {
        problems.push(
            Problem::new(
                path(&["metadata", "name"]),
                format!(
                    "`{}` is {} characters; the longest allowed is {MAX_NAME}, so that \
                     `{}-jobmanager-rest` stays within the 63-character limit of Kubernetes names",
                    metadata.name,
                    metadata.name.len(),
                    metadata.name
                ),
            )
            .help("choose a shorter name"),
        );
    }
    if let Some(namespace) = &metadata.namespace
        && let Err(message) = names::check_dns_label(namespace)
    {
        problems.push(Problem::new(path(&["metadata", "namespace"]), message));
    }
    for (label, value) in &metadata.labels {
        let at = || vec![key("metadata"), key("labels"), key(label)];
        if let Err(message) = names::check_label_key(label) {
            problems.push(Problem::new(at(), message));
        }
        if let Err(message) = names::check_label_value(value) {
            problems.push(Problem::new(at(), message));
        }
        if crate::model::RESERVED_LABELS.contains(&label.as_str()) {
            problems.push(
                Problem::new(at(), format!("label `{label}` is set by kubectl-flink"))
                    .help("remove it; kubectl-flink uses it to select the cluster's pods"),
            );
        }
    }
}

/// Rejects empty text and control characters (a newline in an image name or path is
/// always a mistake, and Kubernetes refuses most of them).
fn check_text(text: &str, at: Vec<PathSegment>, problems: &mut Vec<Problem>) {
    if text.trim().is_empty() {
        problems.push(Problem::new(at, "must not be empty"));
    } else if text.chars().any(|c| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}')) {
        problems
            .push(Problem::new(at, "must not contain control characters (newlines, tabs, NUL)"));
    } else if text.trim() != text {
        problems.push(Problem::new(at, "must not start or end with white space"));
    }
}

fn validate_job(
    spec: &ClusterSpec,
    policy: Policy,
    problems: &mut Vec<Problem>,
    warnings: &mut Vec<String>,
) {
    let job = spec.job();
    if let Some(class) = &job.entry_class
        && !is_java_class_name(class)
    {
        problems.push(
            Problem::new(
                path(&["spec", "job", "entryClass"]),
                format!("`{class}` is not a Java class name"),
            )
            .help("use the fully qualified name, e.g. `org.example.WordCount`"),
        );
    }
    check_range(job.parallelism, 1, 32768, &["spec", "job", "parallelism"], problems);
    if let Some(savepoint) = &job.from_savepoint {
        check_text(savepoint, path(&["spec", "job", "fromSavepoint"]), problems);
        if savepoint.starts_with('-') {
            // The entrypoint's parser would read it as an option, leaving --fromSavepoint empty.
            problems.push(
                Problem::new(
                    path(&["spec", "job", "fromSavepoint"]),
                    format!("`{savepoint}` starts with `-`, which Flink reads as an option"),
                )
                .help(
                    "give the savepoint's path or URI, e.g. `s3://bucket/savepoints/savepoint-…`",
                ),
            );
        }
        if spec.high_availability.is_none() && !policy.allow_savepoint_without_ha {
            problems.push(
                Problem::new(
                    path(&["spec", "job", "fromSavepoint"]),
                    "`fromSavepoint` needs `spec.highAvailability`: Kubernetes restarts a failed \
                     JobManager with the same arguments, so without HA every restart rewinds the \
                     job to this savepoint and loses all progress since",
                )
                .help(
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

fn check_range(value: Option<i64>, min: i64, max: i64, at: &[&str], problems: &mut Vec<Problem>) {
    if let Some(value) = value
        && !(min..=max).contains(&value)
    {
        let bound = if value < min { format!("≥ {min}") } else { format!("≤ {max}") };
        problems.push(
            Problem::new(path(at), format!("must be {bound} (got {value})"))
                .help(format!("use a whole number from {min} to {max}")),
        );
    }
}

fn validate_job_manager(cluster: &FlinkCluster, problems: &mut Vec<Problem>) {
    let jm = &cluster.spec.job_manager;
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
            Problem::new(
                path(&["spec", "jobManager", "replicas"]),
                "standby JobManagers need `spec.highAvailability`: without it every JobManager \
                 would lead on its own",
            )
            .help("add `spec.highAvailability`, or remove `replicas`"),
        );
    }
    if jm.backoff_limit.is_some() && cluster.is_session() {
        problems.push(
            Problem::new(
                path(&["spec", "jobManager", "backoffLimit"]),
                "a FlinkSessionCluster's JobManager is a Deployment, which has no backoff limit",
            )
            .help("remove `backoffLimit`"),
        );
    }
}

fn validate_task_manager(tm: &TaskManagerSpec, problems: &mut Vec<Problem>) {
    check_range(tm.replicas, 1, 10_000, &["spec", "taskManager", "replicas"], problems);
    check_range(tm.slots, 1, 1024, &["spec", "taskManager", "slots"], problems);
}

fn validate_resources(resources: &Resources, at: &[&str], problems: &mut Vec<Problem>) {
    let field = |name: &str| {
        let mut p = path(at);
        p.push(key(name));
        p
    };
    if let Some(cpu) = &resources.cpu {
        match Quantity::parse(&cpu.text()) {
            Ok(q) if q.is_zero() => {
                problems.push(Problem::new(field("cpu"), "must be more than 0"));
            }
            Ok(_) => {}
            Err(message) => problems.push(Problem::new(field("cpu"), message)),
        }
    }
    if let Some(memory) = &resources.memory {
        match Quantity::parse(&memory.text()).map(Quantity::bytes) {
            Ok(Some(bytes)) if bytes < 128 * 1024 * 1024 => problems.push(
                Problem::new(field("memory"), format!("`{}` is too little for a Flink process", memory.text()))
                    .help("give it at least 128Mi; Flink's own defaults are 1600Mi (JobManager) and 1728Mi (TaskManager)"),
            ),
            Ok(Some(bytes)) if bytes > i64::MAX as u128 => problems.push(
                Problem::new(field("memory"), format!("`{}` is more bytes than Flink's MemorySize can hold (2^63 - 1)", memory.text()))
                    .help("give it a realistic size, e.g. \"64Gi\""),
            ),
            Ok(Some(_)) => {}
            Ok(None) => problems.push(
                Problem::new(field("memory"), format!("`{}` is not a whole number of bytes", memory.text()))
                    .help("use a unit such as Mi or Gi, e.g. \"1600Mi\""),
            ),
            Err(message) => problems.push(Problem::new(field("memory"), message)),
        }
    }
}

/// Before Flink 1.10/1.11 a process is sized by its heap. kubectl-flink sets it to the
/// container's memory minus the cutoff Flink's YARN and Mesos integrations keep for the rest
/// of the JVM (`containerized.heap-cutoff-*`: a quarter, at least 600 MiB), which standalone
/// Flink does not apply itself; it must leave a usable heap.
fn check_heap_fits(
    resources: &Resources,
    key: crate::version::MemoryKey,
    version: FlinkVersion,
    at: &[&str],
    problems: &mut Vec<Problem>,
) {
    let crate::version::MemoryKey::Heap(option) = key else { return };
    let Some(memory) = &resources.memory else { return };
    let Some(bytes) = Quantity::parse(&memory.text()).ok().and_then(Quantity::bytes) else {
        return;
    };
    if crate::quantity::heap_after_cutoff(bytes).is_none() {
        problems.push(
            Problem::new(
                path(at),
                format!(
                    "`{}` leaves no usable heap for `{option}` on Flink {version}: kubectl-flink keeps a quarter of the container, at least 600 MiB, for the JVM's memory beyond the heap (Flink's containerized cutoff)",
                    memory.text()
                ),
            )
            .help("give it at least 768Mi"),
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
    problems: &mut Vec<Problem>,
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
            Problem::new(
                path(&["spec", component, "resources", "memory"]),
                format!(
                    "`{}` is less than Flink {version} can start a {role} in: its memory \
                     calculation needs at least {least}Mi with the default memory settings",
                    memory.text()
                ),
            )
            .help(format!(
                "give it at least {least}Mi (Flink's own default is {}), or size its memory \
                 components with `{prefix}*` options in flinkConfiguration",
                if process.is_jobmanager() { "1600Mi" } else { "1728Mi" }
            )),
        );
    }
}

fn validate_ha(ha: &HighAvailability, version: FlinkVersion, problems: &mut Vec<Problem>) {
    check_text(&ha.storage_dir, path(&["spec", "highAvailability", "storageDir"]), problems);
    match (ha.ha_type, &ha.zookeeper) {
        (HaType::Kubernetes, _) if !version.has_kubernetes_ha() => problems.push(
            Problem::new(
                path(&["spec", "highAvailability", "type"]),
                format!("Kubernetes HA needs Flink 1.12 or newer (spec.flinkVersion is {version})"),
            )
            .help("use `type: zookeeper`, or a newer spec.flinkVersion"),
        ),
        (HaType::Kubernetes, Some(_)) => problems.push(
            Problem::new(
                path(&["spec", "highAvailability", "zookeeper"]),
                "`zookeeper` settings do not apply to `type: kubernetes`",
            )
            .help("remove `zookeeper`, or use `type: zookeeper`"),
        ),
        (HaType::Kubernetes, None) => {}
        (HaType::Zookeeper, None) => problems.push(
            Problem::new(
                path(&["spec", "highAvailability"]),
                "`type: zookeeper` needs `zookeeper.quorum`",
            )
            .help("add `zookeeper: {quorum: \"zk-0.zk:2181\"}`"),
        ),
        (HaType::Zookeeper, Some(zk)) => {
            check_text(
                &zk.quorum,
                path(&["spec", "highAvailability", "zookeeper", "quorum"]),
                problems,
            );
            if zk.quorum.contains(char::is_whitespace) {
                problems.push(Problem::new(
                    path(&["spec", "highAvailability", "zookeeper", "quorum"]),
                    "must be `host:port` entries separated by commas, without spaces",
                ));
            }
            if let Some(root) = &zk.path_root
                && (!root.starts_with('/') || root.chars().any(char::is_whitespace))
            {
                problems.push(
                    Problem::new(
                        path(&["spec", "highAvailability", "zookeeper", "pathRoot"]),
                        format!("`{root}` is not a znode path"),
                    )
                    .help("start it with `/`, e.g. `/flink`"),
                );
            }
        }
    }
}

fn validate_config_mode(
    cluster: &FlinkCluster,
    version: FlinkVersion,
    problems: &mut Vec<Problem>,
    warnings: &mut Vec<String>,
) {
    let spec = &cluster.spec;
    if spec.mode == Some(Mode::Native) {
        return; // native mode always ships Flink's own ConfigMap: crate::native checks it
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
                    Problem::new(
                        at,
                        format!("Flink {version} reads flink-conf.yaml, where `#` starts a comment and outer spaces are dropped, so `{value}` cannot be written there"),
                    )
                    .help("use `configMode: args`, or a value without `#`"),
                );
            }
        }
    }
    if !configmap && !spec.log_configuration.is_empty() {
        warnings.push("spec.logConfiguration is used only with `configMode: configmap`".into());
    }
    for name in spec.log_configuration.keys() {
        if name.is_empty()
            || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b))
        {
            problems.push(Problem::new(
                vec![key("spec"), key("logConfiguration"), key(name)],
                format!("`{name}` is not a file name for a ConfigMap key"),
            ));
        }
    }
}

/// What a session JobManager started by `jobmanager.sh` itself (`entrypoint: script`) cannot
/// take; false when nothing of its options can reach it.
fn validate_script_session(
    cluster: &FlinkCluster,
    version: FlinkVersion,
    problems: &mut Vec<Problem>,
) -> bool {
    let fix = "set `configMode: configmap`, or remove `entrypoint: script` to use the image's \
               entrypoint";
    if !cluster.is_session() {
        return true;
    }
    if !version.session_jobmanager_takes_options() {
        problems.push(
            Problem::new(
                path(&["spec", "entrypoint"]),
                format!(
                    "Flink {version}'s jobmanager.sh drops every option given as an argument, and \
                     with `entrypoint: script` nothing else can carry the JobManager's options"
                ),
            )
            .help(fix),
        );
        return false;
    }
    let memory = cluster.spec.job_manager.resources.as_ref().is_some_and(|r| r.memory.is_some());
    if memory && !version.session_jobmanager_sized_by_options() {
        problems.push(
            Problem::new(
                path(&["spec", "jobManager", "resources", "memory"]),
                format!(
                    "Flink {version}'s jobmanager.sh sizes the JVM from its configuration file \
                     alone, which `entrypoint: script` cannot reach"
                ),
            )
            .help(fix),
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
    problems: &mut Vec<Problem>,
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
                Problem::new(
                    at,
                    format!(
                        "Flink {version} reads `{name}` only from its configuration file, and {why}"
                    ),
                )
                .help(format!("{fix}, which writes the file itself")),
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
    problems: &mut Vec<Problem>,
) {
    let kubernetes_ha =
        spec.high_availability.as_ref().is_some_and(|ha| ha.ha_type == HaType::Kubernetes);
    if spec.config_mode == Some(ConfigMode::Configmap)
        && kubernetes_ha
        && !version.takes_dynamic_property(jobmanager, "kubernetes.namespace")
    {
        problems.push(
            Problem::new(
                path(&["spec", "configMode"]),
                format!(
                    "a session JobManager on Flink {version} takes no options as arguments, so \
                     with `configMode: configmap` Kubernetes HA cannot learn the pod's namespace"
                ),
            )
            .help("use `configMode: args`, or Flink 1.15 or newer"),
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
fn validate_metrics(spec: &ClusterSpec, version: FlinkVersion, problems: &mut Vec<Problem>) {
    if spec.metrics.is_some()
        && spec.mode != Some(Mode::Native)
        && !version.loads_reporter_plugins()
    {
        problems.push(
            Problem::new(
                path(&["spec", "metrics"]),
                format!("Flink {version} ships the Prometheus reporter in `opt/`, and loads reporters from `lib/` only, so nothing would listen on the metrics port"),
            )
            .help("build an image with `opt/flink-metrics-prometheus-*.jar` copied to `lib/` and set `metrics.reporter.prom.class` in flinkConfiguration, or use Flink 1.11 or newer"),
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
    problems: &mut Vec<Problem>,
    warnings: &mut Vec<String>,
) {
    if config.contains_key("env.java.opts") && config.contains_key("env.java.opts.all") {
        problems.push(
            Problem::new(
                vec![key("spec"), key("flinkConfiguration"), key("env.java.opts")],
                "`env.java.opts` and `env.java.opts.all` both set the JVM options of every \
                 process (FLINK_ENV_JAVA_OPTS)",
            )
            .help("keep one: `env.java.opts.all` (Flink ≥ 1.17) or `env.java.opts` (before)"),
        );
    }
    for (name, value) in config {
        let at = || vec![key("spec"), key("flinkConfiguration"), key(name)];
        if name.is_empty()
            || name.contains(|c: char| c == '=' || c.is_whitespace() || c.is_control())
        {
            problems
                .push(Problem::new(at(), format!("`{name}` is not a Flink option key")).help(
                    "keys are dotted names without spaces or `=`, e.g. `state.backend.type`",
                ));
            continue;
        }
        if let Some(field) = managed_by(name, version, session) {
            problems.push(
                Problem::new(at(), format!("`{name}` is set by `{field}`"))
                    .help(format!("remove it from flinkConfiguration and set `{field}` instead")),
            );
        }
        if value.contains(['\n', '\r', '\0']) {
            problems.push(Problem::new(at(), "a Flink option value must be one line"));
        }
        if let Some(warning) = version.key_warning(name) {
            warnings.push(format!("spec.flinkConfiguration: {warning}"));
        }
    }
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
    use super::*;

    #[test]
    fn unknown_fields_suggest_the_right_one() {
        let problem = explain_serde_error(
            vec![key("spec")],
            "unknown field `taskmanager`, expected one of `image`, `taskManager`, `job`",
        );
        assert_eq!(problem.message, "unknown field `taskmanager`");
        assert!(problem.help.unwrap().starts_with("did you mean `taskManager`?"));
    }

    /// A spec that sets a field of every kind: structs required, optional and defaulted,
    /// maps, lists of structs, untagged enums and Kubernetes objects.
    fn full_spec() -> Value {
        serde_json::json!({
            "apiVersion": API_VERSION,
            "kind": JOB_CLUSTER,
            "metadata": {"name": "wordcount", "labels": {"team": "a"}},
            "spec": {
                "image": "flink:1.20",
                "job": {"args": ["--input", "s3://in"]},
                "jobManager": {"resources": {"cpu": 1, "memory": "2Gi"}},
                "taskManager": {
                    "replicas": 2,
                    "podTemplate": {"spec": {"containers": [{"name": "x"}]}},
                },
                "service": {"type": "ClusterIP"},
                "highAvailability": {
                    "type": "zookeeper",
                    "zookeeper": {"quorum": "zk:2181"},
                    "storageDir": "s3://b/ha",
                },
                "flinkConfiguration": {"state": {"backend": {"type": "rocksdb"}}},
                "imagePullSecrets": ["registry"],
                "tolerations": [{"key": "dedicated", "operator": "Exists"}],
                "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [{"matchExpressions": [
                        {"key": "a", "operator": "In", "values": ["b"]},
                    ]}],
                }}},
                "env": [{"name": "A", "value": "b"}],
                "secrets": [{"name": "kafka", "mountPath": "/opt/flink/secrets/kafka"}],
                "secretEnv": [{"name": "A", "secret": "s", "key": "k"}],
                "volumeMounts": [{"name": "scratch", "mountPath": "/tmp"}],
                "securityContext": {"runAsUser": 1000, "supplementalGroups": [1, 2]},
                "ingress": {"host": "flink.example.com", "annotations": {"a": "b"}},
                "metrics": {"prometheus": {"port": 9250}},
                "ownerReference": {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "name": "o",
                    "uid": "u",
                },
            },
        })
    }

    /// `document` with `value` at `at` (`spec.secrets[1]`).
    fn with(mut document: Value, at: &str, value: Value) -> (Value, Vec<PathSegment>) {
        let steps: Vec<PathSegment> = at
            .split(['.', '['])
            .filter(|step| !step.is_empty())
            .map(|step| match step.strip_suffix(']') {
                Some(index) => PathSegment::Index(index.parse().unwrap()),
                None => key(step),
            })
            .collect();
        let mut here = &mut document;
        for step in &steps {
            here = match step {
                PathSegment::Key(name) => &mut here[name.as_str()],
                PathSegment::Index(index) => {
                    let items = here.as_array_mut().unwrap();
                    if items.len() == *index {
                        items.push(Value::Null);
                    }
                    &mut items[*index]
                }
            };
        }
        *here = value;
        (document, steps)
    }

    #[test]
    fn a_sequence_is_refused_wherever_the_spec_wants_a_mapping() {
        use serde_json::json;
        assert!(deserialize(full_spec()).is_ok());
        for (at, value) in [
            ("", json!([])),
            ("metadata", json!(["wordcount"])),
            ("metadata.labels", json!(["a", "b"])),
            ("spec", json!(["image", "flink"])),
            ("spec.job", json!(["a"])),
            ("spec.jobManager", json!([])),
            ("spec.jobManager.resources", json!(["1", "2Gi"])),
            ("spec.taskManager", json!([{"replicas": 2}])),
            ("spec.taskManager.podTemplate", json!([{}])),
            ("spec.service", json!([["type", "NodePort"]])),
            ("spec.highAvailability", json!(["zookeeper"])),
            ("spec.highAvailability.zookeeper", json!(["zk:2181"])),
            ("spec.flinkConfiguration", json!(["a=b"])),
            ("spec.tolerations[0]", json!(["dedicated"])),
            ("spec.tolerations[1]", json!([{"key": "a"}])),
            ("spec.affinity", json!([])),
            ("spec.env[0]", json!([["A", "b"]])),
            ("spec.secrets[1]", json!(["t", "/t"])),
            ("spec.secretEnv[0]", json!([])),
            ("spec.volumeMounts[0]", json!(["scratch", "/tmp"])),
            ("spec.securityContext", json!([1000])),
            ("spec.ingress", json!(["flink.example.com"])),
            ("spec.ingress.annotations", json!(["a"])),
            ("spec.metrics", json!([])),
            ("spec.metrics.prometheus", json!([9250])),
            ("spec.ownerReference", json!(["v1", "ConfigMap", "o", "u"])),
            ("spec.podTemplate", json!([])),
            ("spec.nodeSelector", json!([])),
        ] {
            let (document, path) = with(full_spec(), at, value);
            let problem = deserialize(document).unwrap_err();
            assert_eq!(
                problem,
                Problem::new(path, "wrong type: got sequence, expected a mapping")
                    .help("write `key: value` entries here, not a `- item` list"),
                "{at}"
            );
        }
    }

    #[test]
    fn sequences_where_the_spec_takes_them_still_read() {
        use serde_json::json;
        let cluster = deserialize(full_spec()).unwrap();
        assert_eq!(cluster.spec.job().args, ["--input", "s3://in"]);
        assert_eq!(cluster.spec.secrets.len(), 1);
        assert_eq!(cluster.spec.security_context.unwrap()["supplementalGroups"], json!([1, 2]));
        // Inside a Kubernetes object anything goes: the check against its type decides.
        for (at, value) in [
            ("spec.podTemplate", json!({"spec": [["a"]]})),
            ("spec.affinity.nodeAffinity", json!([["a"]])),
            ("spec.tolerations[0].key", json!([{}])),
            ("spec.affinity", json!("text")),
        ] {
            let (document, _) = with(full_spec(), at, value.clone());
            let cluster = deserialize(document.clone()).unwrap();
            assert_eq!(serde_json::to_value(&cluster).unwrap(), document, "{at}: {value}");
        }
    }

    #[test]
    fn a_sequence_where_no_mapping_is_wanted_gets_serdes_message() {
        use serde_json::json;
        for (at, value, message) in [
            ("spec.image", json!(["flink"]), "wrong type: got sequence, expected a string"),
            ("spec.job.args[0]", json!(["a"]), "wrong type: got sequence, expected a string"),
            (
                "spec.imagePullPolicy",
                json!(["Always"]),
                "wrong type: got sequence, expected string or map",
            ),
            (
                "spec.flinkConfiguration.state",
                json!(["a"]),
                "a Flink option value must be a string, number, boolean or nested map",
            ),
            (
                "spec.jobManager.resources.cpu",
                json!([1]),
                "must be a Kubernetes quantity such as \"1\", \"500m\" or \"1600Mi\"",
            ),
        ] {
            let (document, path) = with(full_spec(), at, value);
            let problem = deserialize(document).unwrap_err();
            assert_eq!((problem.path, problem.message.as_str()), (path, message), "{at}");
        }
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
