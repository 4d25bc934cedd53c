//! Spec → model: every name, label, port and Flink argument the templates print.
//!
//! Templates only place values; all decisions (which keys a Flink version reads, which
//! objects exist, how memory converts) are made here, in typed and tested Rust. Whole
//! scalars are built here so templates never concatenate user text.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::quantity::{self, Quantity};
use crate::spec::{HaType, PullPolicy, Resources, ServiceType, Valid};
use crate::version::MemoryKey;

/// Labels kubectl-flink sets itself; users may not override them.
pub const RESERVED_LABELS: &[&str] = &[
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/component",
    "app.kubernetes.io/managed-by",
];

/// Fixed ports, so the Service can expose them (Flink picks random ones otherwise).
pub const RPC_PORT: u16 = 6123;
pub const BLOB_PORT: u16 = 6124;
pub const QUERY_PORT: u16 = 6125;
pub const UI_PORT: u16 = 8081;

/// Everything one cluster's templates need.
#[derive(Debug, Clone, Serialize)]
pub struct Model {
    /// The cluster name.
    pub name: String,
    /// Namespace for every object, if the spec sets one.
    pub namespace: Option<String>,
    pub jobmanager: Workload,
    pub service: Service,
    pub taskmanager: Workload,
    /// Templates to render, in output order.
    #[serde(skip)]
    pub templates: Vec<&'static str>,
}

/// A JobManager Job or TaskManager Deployment.
#[derive(Debug, Clone, Serialize)]
pub struct Workload {
    pub name: String,
    /// Labels of the object and its pod template.
    pub labels: BTreeMap<String, String>,
    /// The stable subset used by selectors.
    pub selector: BTreeMap<String, String>,
    pub replicas: u32,
    pub container: Container,
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
}

/// A named TCP port.
#[derive(Debug, Clone, Serialize)]
pub struct Port {
    pub name: &'static str,
    pub port: u16,
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

/// Builds the model of one validated spec.
pub fn build(valid: &Valid) -> Model {
    let cluster = &valid.cluster;
    let spec = &cluster.spec;
    let name = cluster.metadata.name.clone();
    let jm_name = format!("{name}-jobmanager");
    let tm_name = format!("{name}-taskmanager");
    let flink = FlinkArgs::new(valid);

    let mut jm_ports =
        vec![Port { name: "rpc", port: RPC_PORT }, Port { name: "blob", port: BLOB_PORT }];
    if valid.version.has_queryable_state() {
        jm_ports.push(Port { name: "query", port: QUERY_PORT });
    }
    jm_ports.push(Port { name: "ui", port: UI_PORT });

    let image_pull_policy = spec.image_pull_policy.map(|p| match p {
        PullPolicy::Always => "Always",
        PullPolicy::IfNotPresent => "IfNotPresent",
        PullPolicy::Never => "Never",
    });
    let jm_selector = selector(&name, "jobmanager");
    let jobmanager = Workload {
        name: jm_name.clone(),
        labels: labels(&cluster.metadata.labels, &jm_selector),
        selector: jm_selector.clone(),
        replicas: 1,
        container: Container {
            name: "jobmanager",
            image: spec.image.clone(),
            image_pull_policy,
            command: vec!["/opt/flink/bin/standalone-job.sh".into()],
            args: flink.jobmanager_args(&jm_name),
            ports: jm_ports.clone(),
            resources: spec.job_manager.resources.as_ref().map(container_resources),
        },
    };
    let tm_selector = selector(&name, "taskmanager");
    let taskmanager = Workload {
        name: tm_name,
        labels: labels(&cluster.metadata.labels, &tm_selector),
        selector: tm_selector,
        replicas: positive(spec.task_manager.replicas),
        container: Container {
            name: "taskmanager",
            image: spec.image.clone(),
            image_pull_policy,
            command: vec!["/opt/flink/bin/taskmanager.sh".into()],
            args: flink.taskmanager_args(&jm_name),
            ports: Vec::new(),
            resources: spec.task_manager.resources.as_ref().map(container_resources),
        },
    };
    let service = Service {
        name: jm_name,
        service_type: match spec.service.service_type.unwrap_or(ServiceType::NodePort) {
            ServiceType::NodePort => "NodePort",
            ServiceType::ClusterIP => "ClusterIP",
            ServiceType::LoadBalancer => "LoadBalancer",
        },
        labels: jobmanager.labels.clone(),
        selector: jm_selector,
        ports: jm_ports,
    };
    Model {
        name,
        namespace: cluster.metadata.namespace.clone(),
        jobmanager,
        service,
        taskmanager,
        templates: vec![
            "jobmanager-job.yaml.j2",
            "jobmanager-service.yaml.j2",
            "taskmanager-deployment.yaml.j2",
        ],
    }
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

/// The `-D` options and flags of both Flink processes, with the keys the version reads.
struct FlinkArgs<'a> {
    valid: &'a Valid,
}

impl<'a> FlinkArgs<'a> {
    fn new(valid: &'a Valid) -> Self {
        Self { valid }
    }

    fn ha_options(&self, cluster_name: &str, jobmanager: bool) -> Vec<(String, String)> {
        let Some(ha) = &self.valid.cluster.spec.high_availability else {
            return Vec::new();
        };
        let version = self.valid.version;
        let mut options = Vec::new();
        match ha.ha_type {
            HaType::Zookeeper => {
                options.push((version.ha_mode_key().to_owned(), "zookeeper".to_owned()));
                if let Some(zk) = &ha.zookeeper {
                    options.push(("high-availability.zookeeper.quorum".into(), zk.quorum.clone()));
                    options.push((
                        "high-availability.zookeeper.path.root".into(),
                        zk.path_root.clone().unwrap_or_else(|| "/flink".to_owned()),
                    ));
                }
            }
        }
        options.push(("high-availability.cluster-id".into(), format!("/{cluster_name}")));
        options.push(("high-availability.storageDir".into(), ha.storage_dir.clone()));
        if jobmanager {
            options.push(("high-availability.jobmanager.port".into(), RPC_PORT.to_string()));
        }
        options
    }

    fn jobmanager_args(&self, service_name: &str) -> Vec<String> {
        let spec = &self.valid.cluster.spec;
        let version = self.valid.version;
        let mut options = vec![
            ("jobmanager.rpc.address".to_owned(), service_name.to_owned()),
            ("parallelism.default".to_owned(), positive(spec.job().parallelism).to_string()),
            ("blob.server.port".to_owned(), BLOB_PORT.to_string()),
        ];
        if version.has_queryable_state() {
            options.push(("queryable-state.server.ports".into(), QUERY_PORT.to_string()));
        }
        options.extend(self.ha_options(&self.valid.cluster.metadata.name, true));
        if let Some(dir) = &spec.savepoint_dir {
            options.push((version.savepoint_dir_key().to_owned(), dir.clone()));
        }
        options.extend(memory_option(
            version.jobmanager_memory(),
            spec.job_manager.resources.as_ref(),
        ));
        let mut args = self.with_options(options);
        if let Some(class) = &spec.job().entry_class {
            args.extend(["--job-classname".to_owned(), class.clone()]);
        }
        if let Some(savepoint) = &spec.job().from_savepoint {
            args.extend(["--fromSavepoint".to_owned(), savepoint.clone()]);
            if spec.job().allow_non_restored_state == Some(true) {
                args.push("--allowNonRestoredState".to_owned());
            }
        }
        args.extend(spec.job().args.iter().cloned());
        args
    }

    fn taskmanager_args(&self, service_name: &str) -> Vec<String> {
        let spec = &self.valid.cluster.spec;
        let mut options = Vec::new();
        if spec.high_availability.is_none() {
            options.push(("jobmanager.rpc.address".to_owned(), service_name.to_owned()));
        }
        options.extend(self.ha_options(&self.valid.cluster.metadata.name, false));
        options.push((
            "taskmanager.numberOfTaskSlots".into(),
            positive(spec.task_manager.slots).to_string(),
        ));
        options.extend(memory_option(
            self.valid.version.taskmanager_memory(),
            spec.task_manager.resources.as_ref(),
        ));
        self.with_options(options)
    }

    /// `start-foreground`, the given options, then the user's `flinkConfiguration`.
    fn with_options(&self, options: Vec<(String, String)>) -> Vec<String> {
        std::iter::once("start-foreground".to_owned())
            .chain(
                options
                    .into_iter()
                    .chain(
                        self.valid.flink_configuration.iter().map(|(k, v)| (k.clone(), v.clone())),
                    )
                    .map(|(key, value)| format!("-D{key}={value}")),
            )
            .collect()
    }
}

fn memory_option(key: MemoryKey, resources: Option<&Resources>) -> Option<(String, String)> {
    let bytes = Quantity::parse(&resources?.memory.as_ref()?.text()).ok()?.bytes()?;
    match key {
        MemoryKey::Process(key) => Some((key.to_owned(), quantity::flink_memory(bytes))),
        MemoryKey::Heap(key) => {
            Some((key.to_owned(), quantity::flink_memory(quantity::heap_after_cutoff(bytes)?)))
        }
    }
}
