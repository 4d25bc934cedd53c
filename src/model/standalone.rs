//! Spec → model: every name, label, port and Flink argument the templates print.
//!
//! Templates only place values; all decisions (which keys a Flink version reads, which
//! objects exist, how memory converts) are made here, in typed and tested Rust. Whole
//! scalars are built here so templates never concatenate user text.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;
use serde_json::{Value, json};

use crate::flink::config::stock_java_opts;
use crate::flink::version::{MemoryKey, Process};
use crate::flink::{CONF_DIR, SHUTDOWN_ON_APPLICATION_FINISH};
use crate::k8s::pod;
use crate::k8s::quantity::{self, Quantity};
use crate::spec::{ConfigMode, Entrypoint, HaType, PullPolicy, Resources, ServiceType};
use crate::validate::Valid;

/// Fixed ports, so Services and probes can name them (Flink picks random ones otherwise).
pub const RPC_PORT: u16 = crate::flink::RPC_PORT;
pub const BLOB_PORT: u16 = 6124;
pub const UI_PORT: u16 = crate::flink::REST_PORT;
/// The TaskManager's RPC port, fixed for its liveness probe (as in Flink's Kubernetes docs).
pub const TASKMANAGER_RPC_PORT: u16 = 6122;
/// The queryable-state proxy on each TaskManager, where `queryable-state.enable` is set.
pub const QUERY_PORT: u16 = 6125;
/// Restarts of the JobManager Job's pod before Kubernetes fails the Job for good. Every
/// container restart over the Job's whole life counts (`restartPolicy: OnFailure`), and the
/// default of 6 would end a long-running stream after its sixth crash.
const BACKOFF_LIMIT: i64 = i32::MAX as i64;
/// Default port of Flink's Prometheus reporter.
pub const PROMETHEUS_PORT: i64 = 9249;
/// uid and gid of the `flink` user in the official Flink images.
const FLINK_UID: u32 = 9999;

/// Everything one cluster's templates need.
#[derive(Debug, Clone, Serialize)]
pub struct Model {
    /// The cluster name.
    pub name: String,
    /// Namespace for every object, if the spec sets one.
    pub namespace: Option<String>,
    /// `spec.objectAnnotations`: on every object's own metadata.
    pub object_annotations: BTreeMap<String, String>,
    pub jobmanager: Workload,
    /// `<name>-jobmanager`: a `ClusterIP` Service, what TaskManagers and the Ingress use.
    pub service: Service,
    /// `<name>-jobmanager-rest`: the REST port only, of the spec's Service type.
    pub rest_service: Service,
    pub taskmanager: Workload,
    /// `<name>-config`, with `configMode: configmap`.
    pub config_map: Option<ConfigMap>,
    /// ServiceAccount, Role and RoleBinding for Kubernetes HA.
    pub rbac: Option<Rbac>,
    /// The web UI Ingress.
    pub ingress: Option<Ingress>,
    /// `<name>-taskmanager`: the TaskManagers' `HorizontalPodAutoscaler`.
    pub autoscaler: Option<Autoscaler>,
    /// Templates to render, in output order.
    #[serde(skip)]
    pub templates: Vec<&'static str>,
    /// Pod templates to merge into rendered workloads, by template name, with the name of
    /// the Flink container.
    #[serde(skip)]
    pub pod_templates: BTreeMap<&'static str, (Value, &'static str)>,
}

/// A JobManager (Job or Deployment) or the TaskManager Deployment.
#[derive(Debug, Clone, Serialize)]
pub struct Workload {
    pub name: String,
    /// Labels of the object and its pod template.
    pub labels: BTreeMap<String, String>,
    /// The stable subset used by selectors.
    pub selector: BTreeMap<String, String>,
    /// Pods: the Deployment's replicas, or the JobManager Job's parallelism; none when a
    /// `HorizontalPodAutoscaler` sets them (a Deployment that named them would reset the
    /// autoscaler's count on every `kubectl apply`).
    pub replicas: Option<u32>,
    /// The JobManager Job's backoff limit.
    pub backoff_limit: Option<i64>,
    /// A Deployment replaced with `strategy: Recreate` (a job cluster's JobManager).
    pub recreate: bool,
    pub pod: Pod,
    pub container: Container,
}

/// Pod-level settings.
#[derive(Debug, Clone, Serialize)]
pub struct Pod {
    pub annotations: BTreeMap<String, String>,
    pub service_account_name: Option<String>,
    pub image_pull_secrets: Vec<Value>,
    pub node_selector: BTreeMap<String, String>,
    pub tolerations: Vec<Value>,
    pub affinity: Option<Value>,
    pub security_context: Value,
    pub volumes: Vec<Value>,
}

/// The Flink container of a pod.
#[derive(Debug, Clone, Serialize)]
pub struct Container {
    pub name: &'static str,
    pub image: String,
    pub image_pull_policy: Option<&'static str>,
    pub command: Vec<String>,
    pub args: Vec<String>,
    pub ports: Vec<Port>,
    /// `{requests, limits}`, or none.
    pub resources: Option<ContainerResources>,
    pub env: Vec<Value>,
    pub env_from: Vec<Value>,
    pub volume_mounts: Vec<Value>,
    pub security_context: Value,
    pub liveness_probe: Option<Value>,
    pub readiness_probe: Option<Value>,
}

/// A named TCP port; a Service sends it to the container port `target`.
#[derive(Debug, Clone, Serialize)]
pub struct Port {
    pub name: &'static str,
    pub port: u16,
    pub target: &'static str,
}

/// Kubernetes requests and limits (equal: Guaranteed QoS, predictable Flink memory).
#[derive(Debug, Clone, Serialize)]
pub struct ContainerResources {
    pub requests: BTreeMap<&'static str, String>,
    pub limits: BTreeMap<&'static str, String>,
}

/// The JobManager Service.
#[derive(Debug, Clone, Serialize)]
pub struct Service {
    pub name: String,
    #[serde(rename = "type")]
    pub service_type: &'static str,
    pub labels: BTreeMap<String, String>,
    pub selector: BTreeMap<String, String>,
    pub ports: Vec<Port>,
}

/// The Flink configuration ConfigMap.
#[derive(Debug, Clone, Serialize)]
pub struct ConfigMap {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    /// File name → content.
    pub data: BTreeMap<String, String>,
}

/// What Kubernetes HA needs to read and write its ConfigMaps.
#[derive(Debug, Clone, Serialize)]
pub struct Rbac {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    /// The service account the pods run as.
    pub service_account: String,
    /// Whether kubectl-flink creates it (the spec names none).
    pub create_service_account: bool,
    pub rules: Vec<Value>,
}

/// The TaskManagers' `HorizontalPodAutoscaler` (`autoscaling/v2`), on CPU utilization.
#[derive(Debug, Clone, Serialize)]
pub struct Autoscaler {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    /// The Deployment it scales.
    pub target: String,
    pub min_replicas: u32,
    pub max_replicas: u32,
    /// Average CPU use aimed at, in percent of the request.
    pub cpu_utilization: u32,
}

/// The web UI Ingress.
#[derive(Debug, Clone, Serialize)]
pub struct Ingress {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub class_name: Option<String>,
    pub host: String,
    pub path: String,
    pub tls_secret: Option<String>,
    pub service: String,
}

/// Builds the model of one validated spec.
pub fn build(valid: &Valid) -> Model {
    let cluster = &valid.cluster;
    let spec = &cluster.spec;
    let name = cluster.metadata.name.clone();
    let jm_name = format!("{name}-jobmanager");
    let flink = FlinkOptions::new(valid, &jm_name);
    let in_configmap = spec.config_mode == Some(ConfigMode::Configmap);
    let config_map = in_configmap.then(|| ConfigMap {
        name: format!("{name}-config"),
        labels: labels(&cluster.metadata.labels, &selector(&name, "config")),
        data: flink.config_files(),
    });
    let checksum = config_map.as_ref().map(|c| checksum(&c.data));
    let rbac = rbac(valid);
    let pods = PodBuilder { valid, rbac: rbac.as_ref(), checksum, configmap: in_configmap };

    let jm_ports = vec![port("rpc", RPC_PORT), port("blob", BLOB_PORT), port("ui", UI_PORT)];
    let mut jm_container_ports = jm_ports.clone();
    let mut tm_container_ports = vec![port("rpc", TASKMANAGER_RPC_PORT)];
    if flink.queryable_state() {
        tm_container_ports.push(port("query-state", QUERY_PORT));
    }
    if let Some(metrics_port) = flink.metrics_port() {
        jm_container_ports.push(port("metrics", metrics_port));
        tm_container_ports.push(port("metrics", metrics_port));
    }

    let jm_template = jobmanager_template(valid);
    let jm_selector = selector(&name, "jobmanager");
    let jm_launch = flink.jobmanager_launch();
    let jobmanager = Workload {
        name: jm_name.clone(),
        labels: labels(&cluster.metadata.labels, &jm_selector),
        selector: jm_selector.clone(),
        replicas: Some(positive(spec.job_manager.replicas)),
        backoff_limit: (jm_template == JOB_TEMPLATE)
            .then(|| spec.job_manager.backoff_limit.unwrap_or(BACKOFF_LIMIT)),
        recreate: cluster.jobmanager_is_deployment(),
        pod: pods.pod(),
        container: Container {
            name: "jobmanager",
            command: jm_launch.command.clone(),
            args: jm_launch.args.clone(),
            ports: jm_container_ports,
            resources: spec.job_manager.resources.as_ref().map(container_resources),
            liveness_probe: Some(rpc_liveness_probe()),
            readiness_probe: Some(json!({
                "httpGet": {"path": "/config", "port": "ui"}, "initialDelaySeconds": 10, "periodSeconds": 10
            })),
            ..pods.container(&jm_launch)
        },
    };
    let tm_selector = selector(&name, "taskmanager");
    let tm_launch = flink.taskmanager_launch();
    let taskmanager = Workload {
        name: format!("{name}-taskmanager"),
        labels: labels(&cluster.metadata.labels, &tm_selector),
        selector: tm_selector,
        replicas: spec
            .task_manager
            .autoscaling
            .is_none()
            .then(|| positive(spec.task_manager.replicas)),
        backoff_limit: None,
        recreate: false,
        pod: pods.pod(),
        container: Container {
            name: "taskmanager",
            command: tm_launch.command.clone(),
            args: tm_launch.args.clone(),
            ports: tm_container_ports,
            resources: spec.task_manager.resources.as_ref().map(container_resources),
            liveness_probe: Some(rpc_liveness_probe()),
            ..pods.container(&tm_launch)
        },
    };
    let (service, rest_service) = services(valid, &jobmanager, jm_ports);
    let ingress = ingress(valid, &jobmanager);
    let autoscaler = autoscaler(valid, &taskmanager);

    let (templates, pod_templates) = templates(
        valid,
        jm_template,
        config_map.is_some(),
        rbac.as_ref(),
        ingress.is_some(),
        autoscaler.is_some(),
    );

    Model {
        name,
        namespace: cluster.metadata.namespace.clone(),
        object_annotations: spec.object_annotations.clone(),
        jobmanager,
        service,
        rest_service,
        taskmanager,
        config_map,
        rbac,
        ingress,
        autoscaler,
        templates,
        pod_templates,
    }
}

/// The JobManager's Services, as Flink's Kubernetes docs lay them out: `<name>-jobmanager`
/// (`ClusterIP`: RPC, blob and UI, for TaskManagers and the Ingress) and
/// `<name>-jobmanager-rest` (only the REST port, of the spec's type), so RPC and blob ports
/// are never on a node port or load balancer.
fn services(valid: &Valid, jobmanager: &Workload, ports: Vec<Port>) -> (Service, Service) {
    let service_type = valid.cluster.spec.service.service_type.unwrap_or(ServiceType::NodePort);
    let service = Service {
        name: jobmanager.name.clone(),
        service_type: "ClusterIP",
        labels: jobmanager.labels.clone(),
        selector: jobmanager.selector.clone(),
        ports,
    };
    let rest = Service {
        name: format!("{}-rest", jobmanager.name),
        service_type: match service_type {
            ServiceType::NodePort => "NodePort",
            ServiceType::ClusterIP => "ClusterIP",
            ServiceType::LoadBalancer => "LoadBalancer",
        },
        labels: jobmanager.labels.clone(),
        selector: jobmanager.selector.clone(),
        ports: vec![Port { name: "rest", port: UI_PORT, target: "ui" }],
    };
    (service, rest)
}

/// The web UI Ingress; its own annotations win over `objectAnnotations`.
fn ingress(valid: &Valid, jobmanager: &Workload) -> Option<Ingress> {
    let spec = &valid.cluster.spec;
    let ingress = spec.ingress.as_ref()?;
    let mut annotations = spec.object_annotations.clone();
    annotations.extend(ingress.annotations.clone());
    Some(Ingress {
        name: jobmanager.name.clone(),
        labels: jobmanager.labels.clone(),
        annotations,
        class_name: ingress.class_name.clone(),
        host: ingress.host.clone().unwrap_or_default(),
        path: ingress.path.clone().unwrap_or_else(|| "/".to_owned()),
        tls_secret: ingress.tls_secret.clone(),
        service: jobmanager.name.clone(),
    })
}

/// The TaskManagers' `HorizontalPodAutoscaler`, named and labelled like their Deployment.
fn autoscaler(valid: &Valid, taskmanager: &Workload) -> Option<Autoscaler> {
    let autoscaling = valid.cluster.spec.task_manager.autoscaling.as_ref()?;
    let count = |n: i64| u32::try_from(n).unwrap_or(1);
    Some(Autoscaler {
        name: taskmanager.name.clone(),
        labels: taskmanager.labels.clone(),
        target: taskmanager.name.clone(),
        min_replicas: count(autoscaling.min()),
        max_replicas: count(autoscaling.max_replicas),
        cpu_utilization: count(autoscaling.target_cpu()),
    })
}

/// The templates a cluster needs, in output order, and the pod templates to merge into them.
#[allow(clippy::type_complexity)]
fn templates(
    valid: &Valid,
    jm_template: &'static str,
    config_map: bool,
    rbac: Option<&Rbac>,
    ingress: bool,
    autoscaler: bool,
) -> (Vec<&'static str>, BTreeMap<&'static str, (Value, &'static str)>) {
    let spec = &valid.cluster.spec;
    let mut templates = vec![
        jm_template,
        "jobmanager-service.yaml.j2",
        "jobmanager-rest-service.yaml.j2",
        "taskmanager-deployment.yaml.j2",
    ];
    if autoscaler {
        templates.push("taskmanager-hpa.yaml.j2");
    }
    if config_map {
        templates.push("flink-configmap.yaml.j2");
    }
    if let Some(rbac) = rbac {
        if rbac.create_service_account {
            templates.push("serviceaccount.yaml.j2");
        }
        templates.extend(["role.yaml.j2", "rolebinding.yaml.j2"]);
    }
    if ingress {
        templates.push("jobmanager-ingress.yaml.j2");
    }
    let mut pod_templates = BTreeMap::new();
    for (template, component, main) in [
        (jm_template, &spec.job_manager.pod_template, "jobmanager"),
        ("taskmanager-deployment.yaml.j2", &spec.task_manager.pod_template, "taskmanager"),
    ] {
        if let Some(merged) = pod::combine(component.as_ref(), spec.pod_template.as_ref(), main) {
            pod_templates.insert(template, (merged, main));
        }
    }
    (templates, pod_templates)
}

/// Both processes are alive while their RPC port accepts connections.
fn rpc_liveness_probe() -> Value {
    json!({"tcpSocket": {"port": "rpc"}, "initialDelaySeconds": 30, "periodSeconds": 60})
}

const JOB_TEMPLATE: &str = "jobmanager-job.yaml.j2";

/// A job cluster's JobManager is a Job unless `jobManager.kind` says Deployment; a session
/// cluster's is a Deployment.
fn jobmanager_template(valid: &Valid) -> &'static str {
    if valid.cluster.is_session() || valid.cluster.jobmanager_is_deployment() {
        "jobmanager-deployment.yaml.j2"
    } else {
        JOB_TEMPLATE
    }
}

fn port(name: &'static str, port: u16) -> Port {
    Port { name, port, target: name }
}

fn positive(value: Option<i64>) -> u32 {
    value.and_then(|v| u32::try_from(v).ok()).unwrap_or(1)
}

fn selector(instance: &str, component: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("app.kubernetes.io/name".to_owned(), "flink".to_owned()),
        ("app.kubernetes.io/instance".to_owned(), instance.to_owned()),
        ("app.kubernetes.io/component".to_owned(), component.to_owned()),
    ])
}

fn labels(
    user: &BTreeMap<String, String>,
    selector: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut labels = user.clone();
    labels.extend(selector.clone());
    labels.insert("app.kubernetes.io/managed-by".to_owned(), "kubectl-flink".to_owned());
    labels
}

fn container_resources(resources: &Resources) -> ContainerResources {
    let mut values = BTreeMap::new();
    if let Some(cpu) = &resources.cpu {
        values.insert("cpu", cpu.text());
    }
    if let Some(memory) = &resources.memory {
        values.insert("memory", memory.text());
    }
    ContainerResources { requests: values.clone(), limits: values }
}

fn checksum(data: &BTreeMap<String, String>) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    for (name, content) in data {
        hasher.update(name.as_bytes());
        hasher.update([0]);
        hasher.update(content.as_bytes());
        hasher.update([0]);
    }
    hasher.finalize().iter().fold(String::new(), |mut hex, b| {
        let _ = write!(hex, "{b:02x}");
        hex
    })
}

/// Kubernetes HA reads and writes ConfigMaps: leader election, job graphs, checkpoints,
/// and cleanup of all of them (by label, hence `deletecollection`). Nothing else.
fn rbac(valid: &Valid) -> Option<Rbac> {
    let spec = &valid.cluster.spec;
    spec.high_availability.as_ref().filter(|ha| ha.ha_type == HaType::Kubernetes)?;
    let name = valid.cluster.metadata.name.clone();
    Some(Rbac {
        labels: labels(&valid.cluster.metadata.labels, &selector(&name, "ha")),
        service_account: spec.service_account_name.clone().unwrap_or_else(|| name.clone()),
        create_service_account: spec.service_account_name.is_none(),
        rules: vec![json!({
            "apiGroups": [""],
            "resources": ["configmaps"],
            "verbs": ["create", "delete", "deletecollection", "get", "list", "update", "watch"],
        })],
        name,
    })
}

/// Builds the pod and container settings shared by both workloads.
struct PodBuilder<'a> {
    valid: &'a Valid,
    rbac: Option<&'a Rbac>,
    checksum: Option<String>,
    configmap: bool,
}

impl PodBuilder<'_> {
    fn pod(&self) -> Pod {
        let spec = &self.valid.cluster.spec;
        let mut annotations = spec.pod_annotations.clone();
        if let Some(port) =
            spec.metrics.as_ref().map(|m| m.prometheus.port.unwrap_or(PROMETHEUS_PORT))
        {
            annotations.insert("prometheus.io/scrape".into(), "true".into());
            annotations.insert("prometheus.io/port".into(), port.to_string());
        }
        if let Some(checksum) = &self.checksum {
            annotations.insert("checksum/config".into(), checksum.clone());
        }
        let mut volumes = Vec::new();
        if self.configmap {
            let name = format!("{}-config", self.valid.cluster.metadata.name);
            volumes.push(json!({"name": pod::CONFIG_VOLUME, "configMap": {"name": name}}));
        }
        for secret in &spec.secrets {
            volumes.push(json!({
                "name": pod::secret_volume(&secret.name),
                "secret": {"secretName": secret.name},
            }));
        }
        volumes.extend(spec.volumes.iter().cloned());
        Pod {
            annotations,
            service_account_name: self
                .rbac
                .map(|r| r.service_account.clone())
                .or_else(|| spec.service_account_name.clone()),
            image_pull_secrets: spec
                .image_pull_secrets
                .iter()
                .map(|s| json!({"name": s}))
                .collect(),
            node_selector: spec.node_selector.clone(),
            tolerations: spec.tolerations.clone(),
            affinity: spec.affinity.clone(),
            security_context: spec.security_context.clone().unwrap_or_else(|| {
                json!({
                    "runAsUser": FLINK_UID,
                    "runAsGroup": FLINK_UID,
                    "fsGroup": FLINK_UID,
                    "runAsNonRoot": true,
                    "seccompProfile": {"type": "RuntimeDefault"},
                })
            }),
            volumes,
        }
    }

    /// Container settings both workloads share; the caller sets name, command, args, ports,
    /// resources and probes.
    fn container(&self, launch: &Launch) -> Container {
        let spec = &self.valid.cluster.spec;
        let mut env = Vec::new();
        // Kubernetes expands `$(POD_IP)` and `$(POD_NAMESPACE)` in arguments and in later
        // env values (FLINK_PROPERTIES) from these.
        for (name, field) in [("POD_IP", "status.podIP"), ("POD_NAMESPACE", "metadata.namespace")] {
            if launch.references(name) {
                env.push(field_env(name, field));
            }
        }
        for (name, value) in &launch.env {
            env.push(json!({"name": name, "value": value}));
        }
        if let Some(properties) = &launch.properties {
            env.push(json!({"name": "FLINK_PROPERTIES", "value": properties}));
        }
        env.extend(spec.env.iter().cloned());
        env.extend(spec.secret_env.iter().map(|s| {
            json!({"name": s.name, "valueFrom": {"secretKeyRef": {"name": s.secret, "key": s.key}}})
        }));
        let mut volume_mounts = Vec::new();
        if self.configmap {
            volume_mounts
                .push(json!({"name": pod::CONFIG_VOLUME, "mountPath": CONF_DIR, "readOnly": true}));
        }
        for secret in &spec.secrets {
            volume_mounts.push(json!({
                "name": pod::secret_volume(&secret.name),
                "mountPath": secret.mount_path,
                "readOnly": true,
            }));
        }
        volume_mounts.extend(spec.volume_mounts.iter().cloned());
        Container {
            name: "",
            image: spec.image.clone(),
            image_pull_policy: spec.image_pull_policy.map(|p| match p {
                PullPolicy::Always => "Always",
                PullPolicy::IfNotPresent => "IfNotPresent",
                PullPolicy::Never => "Never",
            }),
            command: Vec::new(),
            args: Vec::new(),
            ports: Vec::new(),
            resources: None,
            env,
            env_from: spec.env_from.clone(),
            volume_mounts,
            security_context: json!({
                "allowPrivilegeEscalation": false,
                "capabilities": {"drop": ["ALL"]},
            }),
            liveness_probe: None,
            readiness_probe: None,
        }
    }
}

fn field_env(name: &str, field: &str) -> Value {
    json!({"name": name, "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": field}}})
}

/// How a container starts Flink.
struct Launch {
    command: Vec<String>,
    args: Vec<String>,
    /// Variables `config.sh` reads before its configuration file, e.g. `FLINK_ENV_JAVA_OPTS`.
    env: Vec<(&'static str, String)>,
    /// `FLINK_PROPERTIES`: `key: value` lines the image's entrypoint appends to the
    /// configuration file.
    properties: Option<String>,
}

impl Launch {
    /// Whether the arguments or env values use the variable as Kubernetes expands it.
    fn references(&self, var: &str) -> bool {
        let reference = format!("$({var})");
        self.args.iter().chain(self.properties.iter()).any(|text| text.contains(&reference))
            || self.env.iter().any(|(_, value)| value.contains(&reference))
    }
}

/// The Flink options of both processes, with the keys the version reads.
struct FlinkOptions<'a> {
    valid: &'a Valid,
    service_name: &'a str,
}

/// A Flink option: key and value.
type Opt = (String, String);

fn opt(key: &str, value: impl Into<String>) -> Opt {
    (key.to_owned(), value.into())
}

impl<'a> FlinkOptions<'a> {
    fn new(valid: &'a Valid, service_name: &'a str) -> Self {
        Self { valid, service_name }
    }

    fn metrics_port(&self) -> Option<u16> {
        let port = self.valid.cluster.spec.metrics.as_ref()?.prometheus.port;
        u16::try_from(port.unwrap_or(PROMETHEUS_PORT)).ok()
    }

    fn ha_options(&self, jobmanager: bool) -> Vec<Opt> {
        let Some(ha) = &self.valid.cluster.spec.high_availability else {
            return Vec::new();
        };
        let version = self.valid.version;
        let name = &self.valid.cluster.metadata.name;
        let mut options = Vec::new();
        match ha.ha_type {
            HaType::Zookeeper => {
                options.push(opt(version.ha_mode_key(), "zookeeper"));
                if let Some(zk) = &ha.zookeeper {
                    options.push(opt("high-availability.zookeeper.quorum", zk.quorum.clone()));
                    options.push(opt(
                        "high-availability.zookeeper.path.root",
                        zk.path_root.clone().unwrap_or_else(|| "/flink".to_owned()),
                    ));
                }
                options.push(opt("high-availability.cluster-id", format!("/{name}")));
            }
            HaType::Kubernetes => {
                options.push(opt(version.ha_mode_key(), version.kubernetes_ha_value()));
                options.push(opt("kubernetes.cluster-id", name.clone()));
                options.push(opt("kubernetes.namespace", "$(POD_NAMESPACE)"));
                options.push(opt("high-availability.cluster-id", name.clone()));
            }
        }
        options.push(opt("high-availability.storageDir", ha.storage_dir.clone()));
        if jobmanager {
            options.push(opt("high-availability.jobmanager.port", RPC_PORT.to_string()));
        }
        options
    }

    fn metrics_options(&self) -> Vec<Opt> {
        let Some(port) = self.metrics_port() else { return Vec::new() };
        let (key, value) = self.valid.version.prometheus_reporter();
        vec![opt(key, value), opt("metrics.reporter.prom.port", port.to_string())]
    }

    fn jobmanager_options(&self) -> Vec<Opt> {
        let spec = &self.valid.cluster.spec;
        let version = self.valid.version;
        // With HA, each JobManager (the leader and its standbys) advertises its own pod IP,
        // which Kubernetes expands from the container's env, as Flink's docs and the Flink
        // Kubernetes Operator do; TaskManagers find the leader through the HA services.
        let address = if spec.high_availability.is_some() {
            "$(POD_IP)".to_owned()
        } else {
            self.service_name.to_owned()
        };
        let mut options = vec![opt("jobmanager.rpc.address", address)];
        if !self.valid.cluster.is_session() {
            options.push(opt("parallelism.default", positive(spec.job().parallelism).to_string()));
        }
        if self.valid.cluster.jobmanager_is_deployment() {
            options.push(opt(SHUTDOWN_ON_APPLICATION_FINISH, "false"));
        }
        options.push(opt("blob.server.port", BLOB_PORT.to_string()));
        options.extend(self.ha_options(true));
        if let Some(dir) = &spec.savepoint_dir {
            options.push(opt(version.savepoint_dir_key(), dir.clone()));
        }
        options.extend(memory_option(
            version.jobmanager_memory(),
            spec.job_manager.resources.as_ref(),
        ));
        options.extend(self.bind_hosts(false));
        options.extend(self.metrics_options());
        options.extend(self.user_options());
        options
    }

    fn taskmanager_options(&self) -> Vec<Opt> {
        let spec = &self.valid.cluster.spec;
        let mut options = Vec::new();
        if spec.high_availability.is_none() {
            options.push(opt("jobmanager.rpc.address", self.service_name));
        }
        options.extend(self.ha_options(false));
        options.push(opt(
            "taskmanager.numberOfTaskSlots",
            positive(spec.task_manager.slots).to_string(),
        ));
        options.push(opt("taskmanager.rpc.port", TASKMANAGER_RPC_PORT.to_string()));
        if self.queryable_state() {
            options.push(opt("queryable-state.proxy.ports", QUERY_PORT.to_string()));
        }
        options.extend(memory_option(
            self.valid.version.taskmanager_memory(),
            spec.task_manager.resources.as_ref(),
        ));
        options.extend(self.bind_hosts(true));
        options.extend(self.metrics_options());
        options.extend(self.user_options());
        options
    }

    /// Whether the spec switches queryable state on, which runs on the TaskManagers.
    fn queryable_state(&self) -> bool {
        self.valid.flink_configuration.get("queryable-state.enable").is_some_and(|v| v == "true")
    }

    /// Without the official image, nothing rewrites the stock configuration's `localhost`
    /// hosts: the processes would listen on localhost only and TaskManagers would advertise
    /// `localhost`. These are the official Dockerfile's rewrites (it deletes
    /// `taskmanager.host`, so a TaskManager advertises the address it reaches the JobManager
    /// from: its pod IP).
    fn bind_hosts(&self, taskmanager: bool) -> Vec<Opt> {
        if !self.rewrites_stock_hosts() {
            return Vec::new();
        }
        if taskmanager {
            vec![opt("taskmanager.bind-host", "0.0.0.0"), opt("taskmanager.host", "$(POD_IP)")]
        } else {
            vec![
                opt("jobmanager.bind-host", "0.0.0.0"),
                opt("rest.address", "0.0.0.0"),
                opt("rest.bind-address", "0.0.0.0"),
            ]
        }
    }

    fn rewrites_stock_hosts(&self) -> bool {
        self.entrypoint() == Entrypoint::Script
            && !self.configmap()
            && self.valid.version.stock_conf_pins_localhost()
    }

    /// The spec's own options. JVM options for all processes keep the version's stock ones
    /// (from 1.18 the module opens Java 17 needs) in front, which a plain `env.java.opts.all`
    /// would replace.
    fn user_options(&self) -> impl Iterator<Item = Opt> + '_ {
        let stock = stock_java_opts(self.valid.version);
        self.valid.flink_configuration.iter().map(move |(key, value)| match &stock {
            Some(stock) if key == "env.java.opts.all" || key == "env.java.opts" => {
                (key.clone(), format!("{stock} {value}"))
            }
            _ => (key.clone(), value.clone()),
        })
    }

    fn configmap(&self) -> bool {
        self.valid.cluster.spec.config_mode == Some(ConfigMode::Configmap)
    }

    fn entrypoint(&self) -> Entrypoint {
        self.valid.cluster.spec.entrypoint.unwrap_or(Entrypoint::Image)
    }

    /// Options that must stay out of the ConfigMap: values Kubernetes fills in per pod.
    fn is_per_pod((_, value): &Opt) -> bool {
        value.contains("$(POD_")
    }

    fn jobmanager_launch(&self) -> Launch {
        let process = if self.valid.cluster.is_session() {
            Process::SessionJobManager
        } else {
            Process::JobClusterJobManager
        };
        let mut launch = self.launch(process, self.jobmanager_options());
        if process == Process::JobClusterJobManager {
            launch.args.extend(self.job_args());
        }
        launch
    }

    fn taskmanager_launch(&self) -> Launch {
        self.launch(Process::TaskManager, self.taskmanager_options())
    }

    /// The command and arguments of a process, and the options its start script cannot take
    /// as arguments, which the image's entrypoint appends to the configuration file
    /// (`FLINK_PROPERTIES`). Validation refuses a spec whose options have no way in.
    fn launch(&self, process: Process, options: Vec<Opt>) -> Launch {
        let version = self.valid.version;
        let mut dynamic = Vec::new();
        let mut properties = Vec::new();
        let mut env = Vec::new();
        let mut host = None;
        for option in options {
            if self.configmap() && !Self::is_per_pod(&option) {
                continue; // in the ConfigMap
            }
            let env_var = version.script_env_var(&option.0, process);
            if let Some(var) = env_var {
                env.push((var, self.script_env_value(&option)));
            }
            if version.takes_dynamic_property(process, &option.0) {
                dynamic.push(option);
            } else if env_var.is_some() || version.has_script_env_var(&option.0) {
                // the variable carries it, or the process does not read it
            } else if process == Process::SessionJobManager && option.0 == "jobmanager.rpc.address"
            {
                // jobmanager.sh up to 1.14 takes the address as its host argument.
                host = Some(option.1);
            } else {
                properties.push(option);
            }
        }
        // The 1.9 images' entrypoint cannot start a job cluster: its script then.
        let image =
            self.entrypoint() == Entrypoint::Image && version.image_entrypoint_starts(process);
        let (command, first) = if image {
            ("/docker-entrypoint.sh", process.entrypoint_command())
        } else {
            (process.script(), "start-foreground")
        };
        let mut args = vec![first.to_owned()];
        args.extend(host);
        for (key, value) in dynamic {
            if process == Process::SessionJobManager {
                // jobmanager.sh takes `-D` as its own word (it reads a joined one as a host).
                args.extend(["-D".to_owned(), format!("{key}={value}")]);
            } else {
                args.push(format!("-D{key}={value}"));
            }
        }
        Launch {
            command: vec![command.to_owned()],
            args,
            env,
            properties: (!properties.is_empty()).then(|| {
                properties.iter().fold(String::new(), |mut text, (key, value)| {
                    let _ = writeln!(text, "{key}: {value}");
                    text
                })
            }),
        }
    }

    /// What `config.sh` would have made of the option read from the file: JVM options for all
    /// processes get its `-XX:+IgnoreUnrecognizedVMOptions` prefix where it adds one.
    fn script_env_value(&self, (key, value): &Opt) -> String {
        let all = key == "env.java.opts.all" || key == "env.java.opts";
        if all && self.valid.version.prefixes_jvm_options() {
            format!("-XX:+IgnoreUnrecognizedVMOptions {value}")
        } else {
            value.clone()
        }
    }

    /// The job's own arguments after Flink's: its class, savepoint, and after `--` (the
    /// parser's end of options) its program arguments, none of which Flink can then read
    /// as its own option.
    fn job_args(&self) -> Vec<String> {
        let job = self.valid.cluster.spec.job();
        let mut args = Vec::new();
        if let Some(class) = &job.entry_class {
            args.extend(["--job-classname".to_owned(), class.clone()]);
        }
        if let Some(savepoint) = &job.from_savepoint {
            args.extend(["--fromSavepoint".to_owned(), savepoint.clone()]);
            if job.allow_non_restored_state == Some(true) {
                args.push("--allowNonRestoredState".to_owned());
            }
        }
        if !job.args.is_empty() {
            args.push("--".to_owned());
            args.extend(job.args.iter().cloned());
        }
        args
    }

    /// What the image's own configuration provides and a mounted one would lose: the memory
    /// sizes (Flink refuses to start without one) and, from 1.18, the module opens Java 17
    /// needs. The spec's resources and options replace them.
    fn image_defaults(&self) -> Vec<Opt> {
        let version = self.valid.version;
        let user = &self.valid.flink_configuration;
        let user_sets =
            |prefixes: &[&str]| user.keys().any(|k| prefixes.iter().any(|p| k.starts_with(p)));
        let mut defaults = Vec::new();
        for (key, process_default, prefixes) in [
            (version.jobmanager_memory(), "1600m", ["jobmanager.memory.", "jobmanager.heap."]),
            (version.taskmanager_memory(), "1728m", ["taskmanager.memory.", "taskmanager.heap."]),
        ] {
            if !user_sets(&prefixes) {
                defaults.push(match key {
                    MemoryKey::Process(key) => opt(key, process_default),
                    // The 1.x images' default heap.
                    MemoryKey::Heap(key) => opt(key, "1024m"),
                });
            }
        }
        if !user_sets(&["env.java.opts"])
            && let Some(opts) = stock_java_opts(version)
        {
            defaults.push(opt("env.java.opts.all", opts));
        }
        // Every stock configuration sets it; the code default is `full` up to 1.10, where any
        // task failure would then restart the whole job.
        if !user.contains_key(FAILOVER_STRATEGY) {
            defaults.push(opt(FAILOVER_STRATEGY, "region"));
        }
        defaults
    }

    /// The files of the `<name>-config` ConfigMap: the Flink configuration both processes
    /// read (their options united; a key one process does not use is ignored by it) and the
    /// logging configuration.
    fn config_files(&self) -> BTreeMap<String, String> {
        let version = self.valid.version;
        // A mounted configuration replaces the image's, which the official images patch to
        // listen on all interfaces; without these, Flink would bind to localhost only.
        let mut config: BTreeMap<String, String> =
            BTreeMap::from([("rest.bind-address".to_owned(), "0.0.0.0".to_owned())]);
        if version.has_bind_host_options() {
            config.insert("jobmanager.bind-host".into(), "0.0.0.0".into());
            config.insert("taskmanager.bind-host".into(), "0.0.0.0".into());
        }
        config.extend(self.image_defaults());
        for (key, value) in self.taskmanager_options().into_iter().chain(self.jobmanager_options())
        {
            if !Self::is_per_pod(&(key.clone(), value.clone())) {
                config.insert(key, value);
            }
        }
        let text = if version.config_file() == "config.yaml" {
            crate::yaml::to_string(&json!(config))
        } else {
            config.iter().fold(String::new(), |mut text, (k, v)| {
                let _ = writeln!(text, "{k}: {v}");
                text
            })
        };
        let mut files = BTreeMap::from([(version.config_file().to_owned(), text)]);
        let logging = &self.valid.cluster.spec.log_configuration;
        if logging.is_empty() {
            let console = if version.ships_log4j1() { LOG4J1_CONSOLE } else { LOG4J_CONSOLE };
            files.insert("log4j-console.properties".into(), console.to_owned());
        } else {
            files.extend(logging.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        files
    }
}

/// Flink's console logging configuration (as shipped in `conf/`, trimmed): everything to stdout,
/// where `kubectl logs` finds it.
const LOG4J_CONSOLE: &str = include_str!("../../templates/log4j-console.properties");
/// The same for Flink up to 1.10, which ships log4j 1 (`log4j.configuration`).
const LOG4J1_CONSOLE: &str = include_str!("../../templates/log4j1-console.properties");
const FAILOVER_STRATEGY: &str = "jobmanager.execution.failover-strategy";

fn memory_option(key: MemoryKey, resources: Option<&Resources>) -> Option<Opt> {
    let bytes = Quantity::parse(&resources?.memory.as_ref()?.text()).ok()?.bytes()?;
    match key {
        MemoryKey::Process(key) => Some(opt(key, quantity::flink_memory(bytes))),
        MemoryKey::Heap(key) => {
            Some(opt(key, quantity::flink_memory(quantity::heap_after_cutoff(bytes)?)))
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::validate::{Policy, validate};

    fn model(spec: &serde_json::Value) -> Model {
        let document = json!({
            "apiVersion": "kubectl-flink/v1alpha1",
            "kind": "FlinkJobCluster",
            "metadata": {"name": "clicks"},
            "spec": spec,
        });
        let cluster = crate::spec::deserialize(document).expect("reads");
        build(&validate(cluster, Policy::default()).expect("valid"))
    }

    #[test]
    fn an_autoscaler_takes_the_task_manager_count_with_kubectl_autoscale_defaults() {
        let model = model(&json!({
            "image": "flink",
            "flinkConfiguration": {"scheduler-mode": "reactive"},
            "taskManager": {"resources": {"cpu": "1"}, "autoscaling": {"maxReplicas": 5}},
        }));
        assert_eq!(model.taskmanager.replicas, None);
        let autoscaler = model.autoscaler.expect("an autoscaler");
        assert_eq!(
            (autoscaler.min_replicas, autoscaler.max_replicas, autoscaler.cpu_utilization),
            (1, 5, 80)
        );
        assert_eq!(autoscaler.target, model.taskmanager.name);
        assert_eq!(autoscaler.labels, model.taskmanager.labels);
        assert!(model.templates.contains(&"taskmanager-hpa.yaml.j2"));
    }

    #[test]
    fn a_deployment_job_manager_is_recreated_and_outlives_its_job() {
        let model = model(&json!({
            "image": "flink", "jobManager": {"kind": "Deployment", "replicas": 2},
            "highAvailability": {"type": "kubernetes", "storageDir": "s3://b/ha"},
        }));
        assert_eq!(model.templates[0], "jobmanager-deployment.yaml.j2");
        assert!(model.pod_templates.is_empty());
        let jm = &model.jobmanager;
        assert_eq!((jm.replicas, jm.backoff_limit, jm.recreate), (Some(2), None, true));
        let shutdown = format!("-D{SHUTDOWN_ON_APPLICATION_FINISH}=false");
        assert!(jm.container.args.contains(&shutdown), "{:?}", jm.container.args);
        assert!(!model.taskmanager.container.args.contains(&shutdown));
    }

    #[test]
    fn a_job_job_manager_exits_with_its_job() {
        let model = model(&json!({"image": "flink", "jobManager": {"kind": "Job"}}));
        assert_eq!(model.templates[0], JOB_TEMPLATE);
        assert!(!model.jobmanager.recreate);
        assert_eq!(model.jobmanager.backoff_limit, Some(BACKOFF_LIMIT));
        let args = &model.jobmanager.container.args;
        assert!(!args.iter().any(|a| a.contains(SHUTDOWN_ON_APPLICATION_FINISH)), "{args:?}");
    }

    #[test]
    fn object_annotations_go_on_objects_and_the_ingress_own_win() {
        let model = model(&json!({
            "image": "flink",
            "objectAnnotations": {"a": "object", "b": "object"},
            "ingress": {"host": "x.example.com", "annotations": {"b": "ingress"}},
        }));
        assert_eq!(model.object_annotations.len(), 2);
        assert!(model.jobmanager.pod.annotations.is_empty());
        let ingress = model.ingress.expect("an ingress");
        assert_eq!(ingress.annotations["a"], "object");
        assert_eq!(ingress.annotations["b"], "ingress");
    }

    #[test]
    fn without_an_autoscaler_the_deployment_sets_replicas() {
        let model = model(&json!({"image": "flink", "taskManager": {"replicas": 3}}));
        assert_eq!(model.taskmanager.replicas, Some(3));
        assert!(model.autoscaler.is_none());
        assert!(!model.templates.contains(&"taskmanager-hpa.yaml.j2"));
    }
}
