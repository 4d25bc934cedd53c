//! The spec a user writes (`kind: FlinkJobCluster`, `FlinkSessionCluster`): its types only.
//!
//! Types mirror the YAML a user writes (`#[serde(rename_all = "camelCase", deny_unknown_fields)]`)
//! and generate the JSON Schema. Reading them from a document is [`de`]; every rule on their
//! values is in `crate::validate`. This module never reads files.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

mod de;
#[cfg(test)]
mod oracle;
mod strict;

#[cfg(test)]
pub use de::deserialize;
pub use de::{check_header, deserialize_all};

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
    /// Annotations of every rendered object's own metadata, not of its pods (those take
    /// `podAnnotations`), e.g. `argocd.argoproj.io/sync-options: Replace=true`. Where a more
    /// specific field sets the same key on an object (`ingress.annotations`; in native mode
    /// `podAnnotations` on the JobManager Deployment, as Flink sets them), that one wins.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub object_annotations: BTreeMap<String, String>,
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
    /// Native mode: how the objects are rendered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub native: Option<NativeSpec>,
}

/// Native-mode rendering choices.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NativeSpec {
    /// Whether the Services and config maps reference the JobManager Deployment as their
    /// owner, as Flink's client sets them (default `true`: rendered in two phases, the second
    /// needing the live Deployment's uid). `false` renders every object at once with no
    /// `ownerReferences`, for Argo CD or Flux: deleting the Deployment then leaves them, and
    /// the tool's pruning (or `kubectl flink delete`) must remove them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_references: Option<bool>,
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
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
    /// The workload that runs a standalone job cluster's JobManager: `Job` (default; it
    /// completes when the job ends) or `Deployment` (Flink 1.15 or newer; it stays up after
    /// the job ends, so Argo CD and Flux report it healthy and can change its pod template). A
    /// session cluster's and a native cluster's JobManager is always a Deployment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<JobManagerKind>,
    /// JobManager pods: more than 1 starts standby JobManagers, which needs
    /// `highAvailability` (the Deployment's replicas, or the Job's `parallelism` with
    /// `kind: Job`, as in Flink's Kubernetes docs); default 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 16))]
    pub replicas: Option<i64>,
    /// How many times the JobManager Job's pod may fail over the Job's whole life before
    /// Kubernetes gives up for good (`FlinkJobCluster` with `kind: Job` only); default
    /// 2147483647, i.e. restart as long as a Deployment would.
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

/// The workload kind of a JobManager.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum JobManagerKind {
    /// A `batch/v1` Job: the JobManager exits when the job finishes or is stopped, and the
    /// Job completes.
    Job,
    /// An `apps/v1` Deployment (`strategy: Recreate`): the JobManager stays up after the job
    /// ends (`execution.shutdown-on-application-finish: false`).
    Deployment,
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
    /// A `HorizontalPodAutoscaler` `<name>-taskmanager` that scales the TaskManagers on CPU
    /// (reactive mode only, which then rescales the job); the Deployment carries no replicas.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autoscaling: Option<Autoscaling>,
}

/// The TaskManagers' `HorizontalPodAutoscaler`, with `kubectl autoscale`'s defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Autoscaling {
    /// Fewest TaskManagers; default 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 10000))]
    pub min_replicas: Option<i64>,
    /// Most TaskManagers (required).
    #[schemars(range(min = 1, max = 10000))]
    pub max_replicas: i64,
    /// Average CPU use the autoscaler aims at, in percent of the TaskManager's CPU request;
    /// default 80.
    #[serde(
        default,
        rename = "targetCPUUtilizationPercentage",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(range(min = 1, max = 100))]
    pub target_cpu_utilization_percentage: Option<i64>,
}

impl Autoscaling {
    /// `minReplicas`, or its default.
    pub fn min(&self) -> i64 {
        self.min_replicas.unwrap_or(1)
    }

    /// `targetCPUUtilizationPercentage`, or its default (the autoscaler's own, as with
    /// `kubectl autoscale` without `--cpu-percent`).
    pub fn target_cpu(&self) -> i64 {
        self.target_cpu_utilization_percentage.unwrap_or(80)
    }
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

impl FlinkCluster {
    /// Whether a standalone job cluster's JobManager is a Deployment (`jobManager.kind`).
    pub fn jobmanager_is_deployment(&self) -> bool {
        !self.is_session()
            && self.spec.mode != Some(Mode::Native)
            && self.spec.job_manager.kind == Some(JobManagerKind::Deployment)
    }
}
