//! Native mode: the objects Flink's native Kubernetes client creates, owner-referenced.
//!
//! For `spec.mode: native` kubectl-flink renders what `kubernetes-session.sh` (a
//! `FlinkSessionCluster`) or `flink run --target kubernetes-application` (a `FlinkJobCluster`)
//! would create for the spec's Flink version: the JobManager Deployment `<name>`, the rest
//! Service `<name>-rest`, the headless Service `<name>` (without HA), the `ConfigMap`
//! `flink-config-<name>` with the effective configuration and logging configuration, and
//! `pod-template-<name>` for a TaskManager pod template. The JobManager creates TaskManager
//! pods itself; kubectl-flink adds the `ServiceAccount`, Role and `RoleBinding` that let it.
//!
//! Facts come from Flink's code (`KubernetesJobManagerFactory` and its decorators,
//! `Fabric8FlinkKubeClient`); `scripts/native-compare` runs that code and compares its objects
//! with these field by field. Everything but the Deployment carries an ownerReference to it,
//! whose uid exists only once the Deployment does: hence two phases (see [`Phase`]). Without
//! ownerReferences (`spec.native.ownerReferences: false`, for Argo CD or Flux) one render
//! holds all.
//! This module builds the model; templates under `templates/native/` place its values.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Value, json};

use crate::error::{Diagnostic, Error};
use crate::flink::CONF_DIR;
use crate::flink::config::{self, Config, OptionValue, effective, file_text};
use crate::flink::native::{BLOB_PORT, LABEL_TYPE, MAIN_CONTAINER, REST_PORT, RPC_PORT};
use crate::k8s::quantity;
use crate::spec::{HaType, Mode};
use crate::validate::Valid;

const ARTIFACTS_DIR: &str = "/opt/flink/artifacts";
const ENTRYPOINT: &str = "/docker-entrypoint.sh";

/// Which objects a render writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Phase {
    /// What must exist before the JobManager runs: its service account, role and role binding,
    /// and the JobManager Deployment
    Owner,
    /// What the JobManager Deployment owns: its Services and config maps (needs `--owner-uid`)
    Owned,
    /// Both, owner first
    All,
}

/// Native-mode render options from the command line.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options<'a> {
    /// `--phase`; default: `owner`, or `all` when a uid is given.
    pub phase: Option<Phase>,
    /// `--owner-uid`: the uid of the live JobManager Deployment.
    pub owner_uid: Option<&'a str>,
    /// `--no-owner-references`: every native cluster as `spec.native.ownerReferences: false`.
    pub no_owner_references: bool,
}

impl Options<'_> {
    /// Whether any native-only option was given.
    pub fn is_set(&self) -> bool {
        self.phase.is_some() || self.owner_uid.is_some() || self.no_owner_references
    }

    /// The phase to render for a cluster: `--phase`; by default `all` when the owned objects
    /// need no uid (one is given, or they reference no owner), else `owner`.
    pub fn phase(&self, valid: &Valid) -> Phase {
        self.phase.unwrap_or(if self.owner_uid.is_some() || !self.owner_references(valid) {
            Phase::All
        } else {
            Phase::Owner
        })
    }

    /// Whether a cluster's owned objects reference its JobManager Deployment.
    pub fn owner_references(&self, valid: &Valid) -> bool {
        !self.no_owner_references && owner_references(valid)
    }
}

/// Whether the spec keeps Flink's ownerReferences (`spec.native.ownerReferences`, default true).
pub fn owner_references(valid: &Valid) -> bool {
    valid.cluster.spec.native.as_ref().and_then(|n| n.owner_references) != Some(false)
}

/// Whether a spec renders in native mode.
pub fn is_native(valid: &Valid) -> bool {
    valid.cluster.spec.mode == Some(Mode::Native)
}

/// The command that prints the uid of a cluster's JobManager Deployment.
pub fn uid_command(valid: &Valid) -> String {
    let cluster = &valid.cluster;
    format!(
        "kubectl get deployment {} -n {} -o jsonpath='{{.metadata.uid}}'",
        cluster.metadata.name,
        config::namespace(cluster)
    )
}

/// Everything the native templates print for one cluster.
#[derive(Debug, Clone, Serialize)]
pub struct Model {
    pub name: String,
    /// Always set: Flink's configuration names the namespace, so the objects must live there.
    pub namespace: String,
    /// Flink's common labels (`type`, `app`): Services and `ConfigMaps`.
    pub common_labels: BTreeMap<String, String>,
    /// `spec.objectAnnotations`: on every object's own metadata.
    pub object_annotations: BTreeMap<String, String>,
    /// `ownerReferences` of the owned objects: the JobManager Deployment.
    pub owned_by: Vec<Value>,
    pub deployment: Deployment,
    pub internal_service: Option<Service>,
    pub rest_service: Service,
    pub config_map: ConfigMap,
    pub pod_template: Option<ConfigMap>,
    pub rbac: Rbac,
    /// Templates to render, in output order.
    #[serde(skip)]
    pub templates: Vec<&'static str>,
    /// The phase rendered.
    #[serde(skip)]
    pub phase: Phase,
}

/// The JobManager Deployment.
#[derive(Debug, Clone, Serialize)]
pub struct Deployment {
    pub name: String,
    /// Deployment and pod labels: common + user + `component: jobmanager`.
    pub labels: BTreeMap<String, String>,
    /// Pod annotations (`kubernetes.jobmanager.annotations`).
    pub annotations: BTreeMap<String, String>,
    /// The Deployment's own annotations: `spec.objectAnnotations`, then the pod annotations,
    /// which Flink sets on the Deployment too.
    pub object_annotations: BTreeMap<String, String>,
    /// From `spec.ownerReference` (`kubernetes.jobmanager.owner.reference`).
    pub owner_references: Vec<Value>,
    pub replicas: u32,
    pub selector: BTreeMap<String, String>,
    pub service_account: String,
    pub image_pull_secrets: Vec<Value>,
    pub node_selector: BTreeMap<String, String>,
    pub tolerations: Vec<Value>,
    pub volumes: Vec<Value>,
    pub container: Container,
}

/// The JobManager's `flink-main-container`.
#[derive(Debug, Clone, Serialize)]
pub struct Container {
    pub name: &'static str,
    pub image: String,
    pub image_pull_policy: String,
    pub command: Vec<String>,
    pub args: Vec<String>,
    pub env: Vec<Value>,
    pub ports: Vec<Value>,
    pub resources: Value,
    pub volume_mounts: Vec<Value>,
}

/// A Service of the JobManager.
#[derive(Debug, Clone, Serialize)]
pub struct Service {
    pub name: String,
    /// `spec.type`; none for the headless internal Service.
    #[serde(rename = "type")]
    pub service_type: Option<&'static str>,
    pub ports: Vec<Value>,
    pub selector: BTreeMap<String, String>,
}

/// A `ConfigMap` Flink's client creates.
#[derive(Debug, Clone, Serialize)]
pub struct ConfigMap {
    pub name: String,
    pub data: BTreeMap<String, String>,
}

/// The `ServiceAccount`, Role and `RoleBinding` the JobManager needs.
#[derive(Debug, Clone, Serialize)]
pub struct Rbac {
    pub name: String,
    pub service_account: String,
    /// Whether kubectl-flink creates the `ServiceAccount` (the spec names none).
    pub create_service_account: bool,
    pub labels: BTreeMap<String, String>,
    pub owner_references: Vec<Value>,
    pub rules: Vec<Value>,
}

fn map<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> BTreeMap<String, String> {
    pairs.into_iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect()
}

fn text<'a>(config: &'a Config, key: &str) -> Option<&'a str> {
    match &config.get(key)?.value {
        OptionValue::Text(text) => Some(text),
        OptionValue::List(_) => None,
    }
}

/// Builds the model of one validated native spec for the phase asked for.
pub fn build(valid: &Valid, options: &Options) -> Result<Model, Error> {
    let cluster = &valid.cluster;
    let spec = &cluster.spec;
    let name = cluster.metadata.name.clone();
    let owned_by = owned_by(valid, options)?;
    let config = effective(cluster, valid.version, &valid.flink_configuration);
    let common_labels = map([("type", LABEL_TYPE), ("app", name.as_str())]);
    let mut selector = common_labels.clone();
    selector.insert("component".into(), "jobmanager".into());
    let deployment = deployment(valid, &config, &selector);
    let internal_service = spec.high_availability.is_none().then(|| Service {
        name: name.clone(),
        service_type: None,
        ports: vec![
            json!({"name": "jobmanager-rpc", "port": RPC_PORT}),
            json!({"name": "blobserver", "port": BLOB_PORT}),
        ],
        selector: selector.clone(),
    });
    let rest_service = Service {
        name: format!("{name}-rest"),
        service_type: Some(match text(&config, "kubernetes.rest-service.exposed.type") {
            Some("NodePort") => "NodePort",
            Some("LoadBalancer") => "LoadBalancer",
            _ => "ClusterIP",
        }),
        ports: vec![json!({"name": "rest", "port": REST_PORT, "targetPort": REST_PORT})],
        selector,
    };
    let config_map =
        ConfigMap { name: format!("flink-config-{name}"), data: config_data(valid, &config) };
    let pod_template = spec.task_manager.pod_template.as_ref().map(|template| ConfigMap {
        name: format!("pod-template-{name}"),
        data: BTreeMap::from([(config::TM_TEMPLATE_FILE.to_owned(), pod_template_text(template))]),
    });
    let mut rbac_labels = cluster.metadata.labels.clone();
    rbac_labels.extend(common_labels.clone());
    let rbac = Rbac {
        name: name.clone(),
        service_account: config::service_account(cluster),
        create_service_account: spec.service_account_name.is_none(),
        labels: rbac_labels,
        owner_references: deployment.owner_references.clone(),
        rules: rules(valid),
    };
    let mut model = Model {
        name,
        namespace: config::namespace(cluster).to_owned(),
        common_labels,
        object_annotations: spec.object_annotations.clone(),
        owned_by,
        deployment,
        internal_service,
        rest_service,
        config_map,
        pod_template,
        rbac,
        templates: Vec::new(),
        phase: options.phase(valid),
    };
    model.templates = templates(&model, options.phase(valid));
    Ok(model)
}

/// The owned objects' `ownerReferences`: none in the owner phase or without ownerReferences,
/// else the Deployment's uid.
fn owned_by(valid: &Valid, options: &Options) -> Result<Vec<Value>, Error> {
    let name = &valid.cluster.metadata.name;
    if !options.owner_references(valid) {
        return match options.owner_uid {
            None => Ok(Vec::new()),
            Some(_) => Err(Error::usage(
                Diagnostic::new(format!(
                    "--owner-uid names the owner of `{name}`'s objects, and they are rendered without ownerReferences"
                ))
                .with_help("remove --owner-uid, or render with ownerReferences (without --no-owner-references, `spec.native.ownerReferences` true)"),
            )),
        };
    }
    match (options.phase(valid), options.owner_uid) {
        (Phase::Owner, _) => Ok(Vec::new()),
        (_, Some(uid)) => Ok(vec![json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": name,
            "uid": uid,
            "controller": true,
            "blockOwnerDeletion": true,
        })]),
        (_, None) => Err(Error::usage(
            Diagnostic::new(format!(
                "the owned objects of `{name}` need the uid of its JobManager Deployment, which exists only once the Deployment is created"
            ))
            .with_help(format!(
                "apply the owner phase first (`kubectl flink render -f … --mode native | kubectl apply -f -`), then get the uid with `{}` and pass it as --owner-uid; or let `kubectl flink apply` do both",
                uid_command(valid)
            )),
        )),
    }
}

/// The templates of a phase, in apply order: what the JobManager pod needs first.
fn templates(model: &Model, phase: Phase) -> Vec<&'static str> {
    let mut templates = Vec::new();
    if matches!(phase, Phase::Owner | Phase::All) {
        if model.rbac.create_service_account {
            templates.push("native/serviceaccount.yaml.j2");
        }
        templates.extend(["native/role.yaml.j2", "native/rolebinding.yaml.j2"]);
        templates.push("native/jobmanager-deployment.yaml.j2");
    }
    if matches!(phase, Phase::Owned | Phase::All) {
        templates.push("native/flink-configmap.yaml.j2");
        if model.pod_template.is_some() {
            templates.push("native/pod-template-configmap.yaml.j2");
        }
        if model.internal_service.is_some() {
            templates.push("native/internal-service.yaml.j2");
        }
        templates.push("native/rest-service.yaml.j2");
    }
    templates
}

fn deployment(valid: &Valid, config: &Config, selector: &BTreeMap<String, String>) -> Deployment {
    let cluster = &valid.cluster;
    let spec = &cluster.spec;
    // Flink's keys win over the user's (validation refuses user labels named like them).
    let mut labels = cluster.metadata.labels.clone();
    labels.extend(selector.clone());
    Deployment {
        name: cluster.metadata.name.clone(),
        labels,
        annotations: spec.pod_annotations.clone(),
        object_annotations: spec
            .object_annotations
            .iter()
            .chain(&spec.pod_annotations)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        owner_references: spec.owner_reference.iter().map(owner_reference).collect(),
        replicas: replicas(valid),
        selector: selector.clone(),
        service_account: config::service_account(cluster),
        image_pull_secrets: spec.image_pull_secrets.iter().map(|s| json!({"name": s})).collect(),
        node_selector: spec.node_selector.clone(),
        tolerations: spec.tolerations.clone(),
        volumes: volumes(valid),
        container: container(valid, config),
    }
}

fn owner_reference(owner: &crate::spec::OwnerReference) -> Value {
    let mut reference = json!({
        "apiVersion": owner.api_version,
        "kind": owner.kind,
        "name": owner.name,
        "uid": owner.uid,
    });
    if let Some(controller) = owner.controller {
        reference["controller"] = json!(controller);
    }
    if let Some(block) = owner.block_owner_deletion {
        reference["blockOwnerDeletion"] = json!(block);
    }
    reference
}

/// `kubernetes.jobmanager.replicas` (more than one only with HA: standby JobManagers).
fn replicas(valid: &Valid) -> u32 {
    valid
        .flink_configuration
        .get("kubernetes.jobmanager.replicas")
        .and_then(|r| r.trim().parse().ok())
        .unwrap_or(1)
}

fn factor(valid: &Valid, key: &str) -> f64 {
    valid.flink_configuration.get(key).and_then(|f| f.trim().parse().ok()).unwrap_or(1.0)
}

/// `InitJobManagerDecorator`'s main container, then `EnvSecretsDecorator`,
/// `MountSecretsDecorator`, `CmdJobManagerDecorator`, `FlinkConfMountDecorator` and
/// `PodTemplateMountDecorator`.
fn container(valid: &Valid, config: &Config) -> Container {
    let cluster = &valid.cluster;
    let spec = &cluster.spec;
    // KubernetesUtils.getResourceRequirements: memory in whole MiB, CPU as a double, limits
    // scaled by the limit factors.
    let process = text(config, "jobmanager.memory.process.size")
        .and_then(quantity::parse_flink_memory)
        .unwrap_or(1600 << 20);
    let mib = process >> 20;
    let cpu = text(config, "kubernetes.jobmanager.cpu.amount")
        .and_then(|c| c.parse::<f64>().ok())
        .unwrap_or(1.0);
    let memory_factor = factor(valid, "kubernetes.jobmanager.memory.limit-factor");
    let cpu_factor = factor(valid, "kubernetes.jobmanager.cpu.limit-factor");
    #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let memory_limit = (mib as f64 * memory_factor) as u64; // Java's (int) cast truncates too
    let resources = json!({
        "requests": {"memory": format!("{mib}Mi"), "cpu": config::java_double(cpu)},
        "limits": {"memory": format!("{memory_limit}Mi"), "cpu": config::java_double(cpu * cpu_factor)},
    });
    let mut env: Vec<Value> = spec
        .env
        .iter()
        .filter(|var| var["value"].is_string())
        .map(|var| json!({"name": var["name"], "value": var["value"]}))
        .collect();
    env.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    env.push(json!({
        "name": "_POD_IP_ADDRESS",
        "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "status.podIP"}},
    }));
    env.extend(spec.secret_env.iter().map(|e| {
        json!({"name": e.name, "valueFrom": {"secretKeyRef": {"name": e.secret, "key": e.key}}})
    }));
    let mut volume_mounts =
        vec![json!({"name": "user-artifacts-volume", "mountPath": ARTIFACTS_DIR})];
    volume_mounts.extend(
        spec.secrets
            .iter()
            .map(|s| json!({"name": format!("{}-volume", s.name), "mountPath": s.mount_path})),
    );
    volume_mounts.push(json!({"name": "flink-config-volume", "mountPath": CONF_DIR}));
    if spec.task_manager.pod_template.is_some() {
        volume_mounts
            .push(json!({"name": "pod-template-volume", "mountPath": config::POD_TEMPLATE_DIR}));
    }
    Container {
        name: MAIN_CONTAINER,
        image: spec.image.clone(),
        image_pull_policy: text(config, "kubernetes.container.image.pull-policy")
            .unwrap_or("IfNotPresent")
            .to_owned(),
        command: vec![ENTRYPOINT.to_owned()],
        // `kubernetes-jobmanager.sh <target> <kubernetes.jobmanager.entrypoint.args>`; the
        // arguments are empty, hence the trailing space Flink leaves.
        args: vec![
            "bash".into(),
            "-c".into(),
            format!("kubernetes-jobmanager.sh {} ", config::target(cluster)),
        ],
        env,
        ports: vec![
            json!({"name": "rest", "containerPort": REST_PORT}),
            json!({"name": "jobmanager-rpc", "containerPort": RPC_PORT}),
            json!({"name": "blobserver", "containerPort": BLOB_PORT}),
        ],
        resources,
        volume_mounts,
    }
}

fn log_files(valid: &Valid) -> BTreeMap<String, String> {
    let spec = &valid.cluster.spec;
    if spec.log_configuration.is_empty() {
        BTreeMap::from([(
            "log4j-console.properties".to_owned(),
            config::stock_log4j(valid.version).to_owned(),
        )])
    } else {
        spec.log_configuration.clone()
    }
}

fn volumes(valid: &Valid) -> Vec<Value> {
    let cluster = &valid.cluster;
    let spec = &cluster.spec;
    let name = &cluster.metadata.name;
    let mut volumes = vec![json!({"name": "user-artifacts-volume", "emptyDir": {}})];
    volumes.extend(
        spec.secrets.iter().map(
            |s| json!({"name": format!("{}-volume", s.name), "secret": {"secretName": s.name}}),
        ),
    );
    let logs = log_files(valid);
    let mut items: Vec<Value> = config::LOG_FILES
        .iter()
        .filter(|file| logs.contains_key(**file))
        .map(|file| json!({"key": file, "path": file}))
        .collect();
    let file = valid.version.config_file();
    items.push(json!({"key": file, "path": file}));
    volumes.push(json!({
        "name": "flink-config-volume",
        "configMap": {"name": format!("flink-config-{name}"), "items": items},
    }));
    if spec.task_manager.pod_template.is_some() {
        volumes.push(json!({
            "name": "pod-template-volume",
            "configMap": {
                "name": format!("pod-template-{name}"),
                "items": [{"key": config::TM_TEMPLATE_FILE, "path": config::TM_TEMPLATE_FILE}],
            },
        }));
    }
    volumes
}

fn config_data(valid: &Valid, config: &Config) -> BTreeMap<String, String> {
    let mut data = log_files(valid);
    data.insert(valid.version.config_file().to_owned(), file_text(config, valid.version));
    data
}

/// The TaskManager pod template file: a `v1` Pod with the template's metadata and spec.
fn pod_template_text(template: &Value) -> String {
    let mut pod = serde_json::Map::new();
    pod.insert("apiVersion".into(), json!("v1"));
    pod.insert("kind".into(), json!("Pod"));
    for field in ["metadata", "spec"] {
        if let Some(value) = template.get(field) {
            pod.insert(field.into(), value.clone());
        }
    }
    crate::yaml::to_string(&Value::Object(pod))
}

/// What the JobManager does with the API server (`Fabric8FlinkKubeClient`, called by
/// `KubernetesResourceManagerDriver` and the HA services): TaskManager pods; its own Deployment
/// (read for the TaskManagers' ownerReference, deleted when an application finishes; the
/// finalizers subresource where `OwnerReferencesPermissionEnforcement` guards
/// `blockOwnerDeletion`); `ConfigMaps` under Kubernetes HA.
fn rules(valid: &Valid) -> Vec<Value> {
    let mut rules = vec![
        json!({"apiGroups": [""], "resources": ["pods"], "verbs": ["create", "delete", "get", "list", "watch"]}),
        json!({"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["delete", "get"]}),
        json!({"apiGroups": ["apps"], "resources": ["deployments/finalizers"], "verbs": ["update"]}),
    ];
    if valid
        .cluster
        .spec
        .high_availability
        .as_ref()
        .is_some_and(|ha| ha.ha_type == HaType::Kubernetes)
    {
        rules.push(json!({
            "apiGroups": [""],
            "resources": ["configmaps"],
            "verbs": ["create", "delete", "deletecollection", "get", "list", "update", "watch"],
        }));
    }
    rules
}
