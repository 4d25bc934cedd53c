//! Native mode's Flink configuration: what Flink's client writes into `flink-config-<name>`.
//!
//! kubectl-flink stands in for `kubernetes-session.sh` / `flink run --target
//! kubernetes-application` run from the stock distribution of the spec's Flink version: the
//! distribution's `conf/` (its defaults below), then the options the spec means (the `-D`
//! arguments of the equivalent command line), then what `KubernetesClusterDescriptor` and the
//! decorators force, minus the keys `FlinkConfMountDecorator` does not ship. The comparison in
//! `scripts/native-compare` runs that command line through Flink's own client and checks the
//! result key by key. This module decides values only; it never reads files.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::native::{BLOB_PORT, RPC_PORT, TM_RPC_PORT};
use super::version::{FlinkVersion, v};
use crate::error::path as at;
use crate::k8s::quantity::{self, Quantity};
use crate::spec::{FlinkCluster, HaType, PullPolicy, ServiceType};
use crate::yaml::PathSegment;

/// Where the pod-template `ConfigMap` is mounted in the JobManager pod
/// (`Constants.POD_TEMPLATE_DIR_IN_POD`).
pub const POD_TEMPLATE_DIR: &str = "/opt/flink/pod-template";
/// The TaskManager pod template's file name (`Constants.TASK_MANAGER_POD_TEMPLATE_FILE_NAME`).
pub const TM_TEMPLATE_FILE: &str = "taskmanager-pod-template.yaml";
/// The log4j and logback files Flink's client ships when its conf dir has them, in the order
/// `FlinkConfMountDecorator` lists them.
pub const LOG_FILES: &[&str] = &["logback-console.xml", "log4j-console.properties"];

/// The JVM options of the stock `conf/config.yaml` ("required for Java 17 support").
const JAVA_OPTS_2X: &[&str] = &[
    "--add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED",
    "--add-exports=jdk.compiler/com.sun.tools.javac.api=ALL-UNNAMED",
    "--add-exports=jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED",
    "--add-exports=jdk.compiler/com.sun.tools.javac.parser=ALL-UNNAMED",
    "--add-exports=jdk.compiler/com.sun.tools.javac.tree=ALL-UNNAMED",
    "--add-exports=jdk.compiler/com.sun.tools.javac.util=ALL-UNNAMED",
    "--add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED",
    "--add-opens=java.base/java.lang=ALL-UNNAMED",
    "--add-opens=java.base/java.net=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
    "--add-opens=java.base/java.text=ALL-UNNAMED",
    "--add-opens=java.base/java.time=ALL-UNNAMED",
    "--add-opens=java.base/java.util=ALL-UNNAMED",
    "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
    "--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED",
    "--add-opens=java.base/java.util.concurrent.locks=ALL-UNNAMED",
];
/// Flink 1.20's list has one more export, dropped by 2.x.
const JAVA_OPTS_1_20_EXTRA: &str = "--add-exports=java.base/sun.net.util=ALL-UNNAMED";

/// The keys of the stock `conf/config.yaml` (Flink 1.20.5 and 2.3.0 agree) that reach the
/// cluster; `FlinkConfMountDecorator` drops its `*.bind-host`, `taskmanager.host` and
/// `rest.bind-address`.
const STOCK: &[(&str, &str)] = &[
    ("jobmanager.execution.failover-strategy", "region"),
    ("jobmanager.memory.process.size", "1600m"),
    ("jobmanager.rpc.address", "localhost"),
    ("jobmanager.rpc.port", "6123"),
    ("parallelism.default", "1"),
    ("rest.address", "localhost"),
    ("taskmanager.memory.process.size", "1728m"),
    ("taskmanager.numberOfTaskSlots", "1"),
];

/// Keys Flink's client never ships to the cluster (`FlinkConfMountDecorator`), or that are
/// machine-local to the client.
pub const NOT_SHIPPED: &[&str] = &[
    "kubernetes.config.file",
    "$internal.deployment.config-dir",
    "rest.bind-address",
    "jobmanager.bind-host",
    "taskmanager.bind-host",
    "taskmanager.host",
];

/// The stock `conf/log4j-console.properties` of the distribution.
pub fn stock_log4j(version: FlinkVersion) -> &'static str {
    if version.major >= 2 {
        include_str!("log4j-console-2.x.properties")
    } else {
        include_str!("log4j-console-1.20.properties")
    }
}

/// One option value: text, or a list (`pipeline.jars`, program arguments).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OptionValue {
    Text(String),
    List(Vec<String>),
}

/// One option and the spec field it comes from (for error messages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub value: OptionValue,
    /// The spec field that set it; `None` for Flink's own defaults and forced values.
    pub source: Option<Vec<PathSegment>>,
}

/// The effective configuration, sorted by key.
pub type Config = BTreeMap<String, Entry>;

/// The deployment target of a cluster kind.
pub fn target(cluster: &FlinkCluster) -> &'static str {
    if cluster.is_session() { "kubernetes-session" } else { "kubernetes-application" }
}

/// The service account the JobManager and TaskManager pods run as.
pub fn service_account(cluster: &FlinkCluster) -> String {
    cluster.spec.service_account_name.clone().unwrap_or_else(|| cluster.metadata.name.clone())
}

/// The namespace Flink's client deploys to (`kubernetes.namespace`, default `default`).
pub fn namespace(cluster: &FlinkCluster) -> &str {
    cluster.metadata.namespace.as_deref().unwrap_or("default")
}

/// A CPU quantity as Flink's `kubernetes.*.cpu.amount` double, e.g. `500m` → 0.5.
pub fn cpu_amount(text: &str) -> Option<f64> {
    Quantity::parse(text).ok().map(Quantity::to_f64)
}

/// Writes a double as Java's `Double.toString` does for the values CPU amounts take
/// (0.001 ≤ v < 10⁷): `1.0`, `0.5`, `1.5`.
pub fn java_double(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{value:.1}")
    } else {
        format!("{value}")
    }
}

/// `k1:v1,k2:v2`, Flink's map syntax.
fn flink_map<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    pairs.into_iter().map(|(k, v)| format!("{k}:{v}")).collect::<Vec<_>>().join(",")
}

/// A Kubernetes toleration in Flink's map syntax (`KubernetesToleration.fromMap` keys).
pub fn toleration(value: &Value) -> String {
    let mut pairs = Vec::new();
    for key in ["key", "operator", "value", "effect", "tolerationSeconds"] {
        match &value[key] {
            Value::String(s) => pairs.push(format!("{key}:{s}")),
            Value::Number(n) => pairs.push(format!("{key}:{n}")),
            _ => {}
        }
    }
    pairs.join(",")
}

struct Builder {
    config: Config,
}

impl Builder {
    fn set(&mut self, key: &str, value: impl Into<String>, source: Option<Vec<PathSegment>>) {
        self.config
            .insert(key.to_owned(), Entry { value: OptionValue::Text(value.into()), source });
    }

    fn list(&mut self, key: &str, items: Vec<String>, source: Vec<PathSegment>) {
        self.config.insert(
            key.to_owned(),
            Entry { value: OptionValue::List(items), source: Some(source) },
        );
    }
}

/// The configuration Flink's client would write for this spec.
///
/// `flink_configuration` is `spec.flinkConfiguration` flattened; the caller has checked that
/// it sets no key a spec field owns.
pub fn effective(
    cluster: &FlinkCluster,
    version: FlinkVersion,
    flink_configuration: &BTreeMap<String, String>,
) -> Config {
    let mut b = Builder { config: Config::new() };
    // 1. The distribution's conf/config.yaml.
    stock(&mut b, version);
    // 2. The -D options (and CLI flags) the spec stands for.
    image_and_identity(&mut b, cluster);
    pods(&mut b, cluster);
    resources(&mut b, cluster);
    high_availability(&mut b, cluster, version);
    if !cluster.is_session() {
        application(&mut b, cluster, version);
    }
    for (key, value) in flink_configuration {
        let source = vec![
            PathSegment::Key("spec".into()),
            PathSegment::Key("flinkConfiguration".into()),
            PathSegment::Key(key.clone()),
        ];
        b.set(key, value.clone(), Some(source));
    }
    // 3. What KubernetesClusterDescriptor and the decorators force.
    forced(&mut b, cluster);
    for key in NOT_SHIPPED {
        b.config.remove(*key);
    }
    b.config
}

fn stock(b: &mut Builder, version: FlinkVersion) {
    for (key, value) in STOCK {
        b.set(key, *value, None);
    }
    if let Some(opts) = stock_java_opts(version) {
        b.set("env.java.opts.all", opts, None);
    }
}

/// The `env.java.opts.all` of the version's stock configuration: the module opens Java 17
/// needs (shipped from 1.18, when Flink began to support Java 17), or none before.
pub fn stock_java_opts(version: FlinkVersion) -> Option<String> {
    if version < v(1, 18) {
        return None;
    }
    let mut opts: Vec<&str> = Vec::new();
    if version.major < 2 {
        opts.push(JAVA_OPTS_1_20_EXTRA);
    }
    opts.extend(JAVA_OPTS_2X);
    Some(opts.join(" "))
}

fn image_and_identity(b: &mut Builder, cluster: &FlinkCluster) {
    let spec = &cluster.spec;
    b.set("kubernetes.cluster-id", cluster.metadata.name.clone(), Some(at(&["metadata", "name"])));
    if let Some(namespace) = &cluster.metadata.namespace {
        b.set("kubernetes.namespace", namespace.clone(), Some(at(&["metadata", "namespace"])));
    }
    b.set("kubernetes.container.image.ref", spec.image.clone(), Some(at(&["spec", "image"])));
    if let Some(policy) = spec.image_pull_policy {
        let policy = match policy {
            PullPolicy::Always => "Always",
            PullPolicy::IfNotPresent => "IfNotPresent",
            PullPolicy::Never => "Never",
        };
        b.set(
            "kubernetes.container.image.pull-policy",
            policy,
            Some(at(&["spec", "imagePullPolicy"])),
        );
    }
    if !spec.image_pull_secrets.is_empty() {
        b.set(
            "kubernetes.container.image.pull-secrets",
            spec.image_pull_secrets.join(";"),
            Some(at(&["spec", "imagePullSecrets"])),
        );
    }
    b.set(
        "kubernetes.service-account",
        service_account(cluster),
        Some(at(&["spec", "serviceAccountName"])),
    );
    if let Some(service_type) = spec.service.service_type {
        let service_type = match service_type {
            ServiceType::ClusterIP => "ClusterIP",
            ServiceType::NodePort => "NodePort",
            ServiceType::LoadBalancer => "LoadBalancer",
        };
        b.set(
            "kubernetes.rest-service.exposed.type",
            service_type,
            Some(at(&["spec", "service", "type"])),
        );
    }
    if let Some(owner) = &spec.owner_reference {
        let mut pairs = vec![
            format!("apiVersion:{}", owner.api_version),
            format!("kind:{}", owner.kind),
            format!("name:{}", owner.name),
            format!("uid:{}", owner.uid),
        ];
        if let Some(controller) = owner.controller {
            pairs.push(format!("controller:{controller}"));
        }
        if let Some(block) = owner.block_owner_deletion {
            pairs.push(format!("blockOwnerDeletion:{block}"));
        }
        b.set(
            "kubernetes.jobmanager.owner.reference",
            pairs.join(","),
            Some(at(&["spec", "ownerReference"])),
        );
    }
}

/// What both pods get: labels, annotations, scheduling, secrets, environment, the
/// TaskManager pod template.
fn pods(b: &mut Builder, cluster: &FlinkCluster) {
    let spec = &cluster.spec;
    for component in ["jobmanager", "taskmanager"] {
        if !cluster.metadata.labels.is_empty() {
            let labels =
                flink_map(cluster.metadata.labels.iter().map(|(k, v)| (k.as_str(), v.as_str())));
            b.set(
                &format!("kubernetes.{component}.labels"),
                labels,
                Some(at(&["metadata", "labels"])),
            );
        }
        if !spec.pod_annotations.is_empty() {
            let annotations =
                flink_map(spec.pod_annotations.iter().map(|(k, v)| (k.as_str(), v.as_str())));
            b.set(
                &format!("kubernetes.{component}.annotations"),
                annotations,
                Some(at(&["spec", "podAnnotations"])),
            );
        }
        if !spec.node_selector.is_empty() {
            let selector =
                flink_map(spec.node_selector.iter().map(|(k, v)| (k.as_str(), v.as_str())));
            b.set(
                &format!("kubernetes.{component}.node-selector"),
                selector,
                Some(at(&["spec", "nodeSelector"])),
            );
        }
        if !spec.tolerations.is_empty() {
            let tolerations = spec.tolerations.iter().map(toleration).collect::<Vec<_>>().join(";");
            b.set(
                &format!("kubernetes.{component}.tolerations"),
                tolerations,
                Some(at(&["spec", "tolerations"])),
            );
        }
    }
    if !spec.secrets.is_empty() {
        let secrets =
            flink_map(spec.secrets.iter().map(|s| (s.name.as_str(), s.mount_path.as_str())));
        b.set("kubernetes.secrets", secrets, Some(at(&["spec", "secrets"])));
    }
    if !spec.secret_env.is_empty() {
        let refs = spec
            .secret_env
            .iter()
            .map(|e| format!("env:{},secret:{},key:{}", e.name, e.secret, e.key))
            .collect::<Vec<_>>()
            .join(";");
        b.set("kubernetes.env.secretKeyRef", refs, Some(at(&["spec", "secretEnv"])));
    }
    for (i, var) in spec.env.iter().enumerate() {
        if let (Some(name), Some(value)) = (var["name"].as_str(), var["value"].as_str()) {
            let source = Some(vec![
                PathSegment::Key("spec".into()),
                PathSegment::Key("env".into()),
                PathSegment::Index(i),
            ]);
            b.set(&format!("containerized.master.env.{name}"), value, source.clone());
            b.set(&format!("containerized.taskmanager.env.{name}"), value, source);
        }
    }
    if spec.task_manager.pod_template.is_some() {
        b.set(
            "kubernetes.pod-template-file.taskmanager",
            format!("{POD_TEMPLATE_DIR}/{TM_TEMPLATE_FILE}"),
            Some(at(&["spec", "taskManager", "podTemplate"])),
        );
    }
}

fn resources(b: &mut Builder, cluster: &FlinkCluster) {
    let spec = &cluster.spec;
    for (component, resources) in
        [("jobManager", &spec.job_manager.resources), ("taskManager", &spec.task_manager.resources)]
    {
        let Some(resources) = resources else { continue };
        let flink = component.to_lowercase();
        if let Some(cpu) = resources.cpu.as_ref().and_then(|c| cpu_amount(&c.text())) {
            b.set(
                &format!("kubernetes.{flink}.cpu.amount"),
                java_double(cpu),
                Some(at(&["spec", component, "resources", "cpu"])),
            );
        }
        let bytes =
            resources.memory.as_ref().and_then(|m| Quantity::parse(&m.text()).ok()?.bytes());
        if let Some(bytes) = bytes {
            b.set(
                &format!("{flink}.memory.process.size"),
                quantity::flink_memory(bytes),
                Some(at(&["spec", component, "resources", "memory"])),
            );
        }
    }
    if let Some(slots) = spec.task_manager.slots {
        b.set(
            "taskmanager.numberOfTaskSlots",
            slots.to_string(),
            Some(at(&["spec", "taskManager", "slots"])),
        );
    }
}

fn high_availability(b: &mut Builder, cluster: &FlinkCluster, version: FlinkVersion) {
    let spec = &cluster.spec;
    if let Some(ha) = &spec.high_availability {
        let source = || Some(at(&["spec", "highAvailability"]));
        match ha.ha_type {
            HaType::Zookeeper => {
                b.set(version.ha_mode_key(), "zookeeper", source());
                if let Some(zk) = &ha.zookeeper {
                    b.set("high-availability.zookeeper.quorum", zk.quorum.clone(), source());
                    if let Some(root) = &zk.path_root {
                        b.set("high-availability.zookeeper.path.root", root.clone(), source());
                    }
                }
            }
            HaType::Kubernetes => {
                b.set(version.ha_mode_key(), version.kubernetes_ha_value(), source());
            }
        }
        b.set(
            "high-availability.storageDir",
            ha.storage_dir.clone(),
            Some(at(&["spec", "highAvailability", "storageDir"])),
        );
    }
    if let Some(dir) = &spec.savepoint_dir {
        b.set(version.savepoint_dir_key(), dir.clone(), Some(at(&["spec", "savepointDir"])));
    }
}

/// `KubernetesClusterDescriptor` and the decorators, after the user's options.
fn forced(b: &mut Builder, cluster: &FlinkCluster) {
    let name = &cluster.metadata.name;
    b.set("execution.target", target(cluster), None);
    let entrypoint = if cluster.is_session() {
        "org.apache.flink.kubernetes.entrypoint.KubernetesSessionClusterEntrypoint"
    } else {
        "org.apache.flink.kubernetes.entrypoint.KubernetesApplicationClusterEntrypoint"
    };
    b.set("kubernetes.internal.jobmanager.entrypoint.class", entrypoint, None);
    b.set("internal.cluster.execution-mode", "NORMAL", None);
    b.set("blob.server.port", BLOB_PORT.to_string(), None);
    b.set("taskmanager.rpc.port", TM_RPC_PORT.to_string(), None);
    if cluster.spec.high_availability.is_some() {
        // The JobManager's address comes from its pod IP at runtime (KubernetesEntrypointUtils).
        b.set("high-availability.cluster-id", name.clone(), None);
        b.set("high-availability.jobmanager.port", RPC_PORT.to_string(), None);
    } else {
        // InternalServiceDecorator: the headless Service `<name>` in the cluster's namespace.
        b.set("jobmanager.rpc.address", format!("{name}.{}", namespace(cluster)), None);
    }
}

/// `flink run --target kubernetes-application [-p P] [-c CLASS] [-s PATH [-n]] JAR ARGS…`.
fn application(b: &mut Builder, cluster: &FlinkCluster, version: FlinkVersion) {
    let job = cluster.spec.job();
    let at_job = |field: &str| Some(at(&["spec", "job", field]));
    if let Some(parallelism) = job.parallelism {
        b.set("parallelism.default", parallelism.to_string(), at_job("parallelism"));
    }
    if let Some(class) = &job.entry_class {
        b.set("$internal.application.main", class.clone(), at_job("entryClass"));
    }
    // Flink 1.x encodes the (possibly empty) argument and classpath lists whatever they hold,
    // which its standard-YAML writer prints as `[]`; 2.x skips empty ones.
    if !job.args.is_empty() || version.major == 1 {
        b.list(
            "$internal.application.program-args",
            job.args.clone(),
            at(&["spec", "job", "args"]),
        );
    }
    if version.major == 1 {
        b.list("pipeline.classpaths", Vec::new(), at(&["spec", "job"]));
    }
    if let Some(jar) = &job.jar_uri {
        b.list("pipeline.jars", vec![jar.clone()], at(&["spec", "job", "jarURI"]));
    }
    // ProgramOptions → ExecutionConfigAccessor.applyToConfiguration, without `-d`.
    b.set("execution.attached", "true", None);
    b.set("execution.shutdown-on-attached-exit", "false", None);
    let (path_key, ignore_key, claim_key) = if version >= v(1, 20) {
        (
            "execution.state-recovery.path",
            "execution.state-recovery.ignore-unclaimed-state",
            "execution.state-recovery.claim-mode",
        )
    } else {
        (
            "execution.savepoint.path",
            "execution.savepoint.ignore-unclaimed-state",
            "execution.savepoint-restore-mode",
        )
    };
    b.set(claim_key, "NO_CLAIM", None);
    let ignore = job.from_savepoint.is_some() && job.allow_non_restored_state == Some(true);
    b.set(ignore_key, ignore.to_string(), at_job("allowNonRestoredState"));
    if let Some(savepoint) = &job.from_savepoint {
        b.set(path_key, savepoint.clone(), at_job("fromSavepoint"));
    }
}

/// The configuration as the text of Flink's configuration file for the version:
/// `config.yaml` (YAML 1.2, one flat key per line, lists as sequences) from Flink 2.0, else
/// the legacy `flink-conf.yaml` (`key: value` lines, lists joined with `;` as Flink writes
/// them). Keys are sorted, so the text is byte-stable.
pub fn file_text(config: &Config, version: FlinkVersion) -> String {
    if version.config_file() == "config.yaml" {
        let map: Map<String, Value> = config
            .iter()
            .map(|(key, entry)| {
                let value = match &entry.value {
                    OptionValue::Text(text) => Value::String(text.clone()),
                    OptionValue::List(items) => {
                        Value::Array(items.iter().cloned().map(Value::String).collect())
                    }
                };
                (key.clone(), value)
            })
            .collect();
        crate::yaml::to_string(&Value::Object(map))
    } else {
        let mut text = String::new();
        for (key, entry) in config {
            text.push_str(key);
            text.push_str(": ");
            text.push_str(&legacy_value(&entry.value));
            text.push('\n');
        }
        text
    }
}

/// A value as the legacy parser reads it back: a list is joined with `;`, an item holding
/// `;` or a quote in single quotes with `'` doubled (`StructuredOptionsSplitter`).
pub fn legacy_value(value: &OptionValue) -> String {
    match value {
        OptionValue::Text(text) => text.clone(),
        OptionValue::List(items) => items
            .iter()
            .map(|item| {
                if item.contains([';', '\'', '"']) {
                    format!("'{}'", item.replace('\'', "''"))
                } else {
                    item.clone()
                }
            })
            .collect::<Vec<_>>()
            .join(";"),
    }
}

/// Why a key or value cannot be written into the legacy `flink-conf.yaml`, if it cannot:
/// its parser cuts every line at the first `#`, splits it at the first `: `, trims both
/// sides and skips lines with an empty value.
pub fn legacy_problem(key: &str, value: &str) -> Option<String> {
    if key.contains('#') || key.contains(": ") || key.trim() != key || key.contains('\n') {
        return Some(format!("the key `{key}` cannot be written in flink-conf.yaml"));
    }
    if value.contains('#') {
        return Some(format!("`{value}` holds `#`, where flink-conf.yaml's parser cuts the line"));
    }
    if value.contains(['\n', '\r']) {
        return Some(
            "flink-conf.yaml holds one option per line; this value has a line break".into(),
        );
    }
    if value.is_empty() || value.trim() != value {
        return Some(format!(
            "flink-conf.yaml's parser drops empty values and outer spaces, so `{value}` cannot be written there"
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_print_like_java() {
        assert_eq!(java_double(1.0), "1.0");
        assert_eq!(java_double(0.5), "0.5");
        assert_eq!(java_double(1.5 * 2.0), "3.0");
        assert_eq!(java_double(0.1 * 3.0), "0.30000000000000004");
        assert_eq!(cpu_amount("500m"), Some(0.5));
        assert_eq!(cpu_amount("2"), Some(2.0));
        assert_eq!(cpu_amount("100m"), Some(0.1));
    }

    #[test]
    fn legacy_lists_quote_like_flink() {
        let list = OptionValue::List(vec!["a".into(), "b;c".into(), "it's".into()]);
        assert_eq!(legacy_value(&list), "a;'b;c';'it''s'");
    }

    #[test]
    fn legacy_values_that_cannot_be_written_are_found() {
        assert!(legacy_problem("a", "x # y").is_some());
        assert!(legacy_problem("a", " x").is_some());
        assert!(legacy_problem("a", "").is_some());
        assert!(legacy_problem("a: b", "x").is_some());
        assert!(legacy_problem("a", "x: y").is_none(), "split at the first `: ` only");
    }

    #[test]
    fn config_yaml_reads_back_as_the_strings_written() {
        let tricky = [
            "6124",
            "true",
            "1e3",
            "1.0",
            "yes",
            "~",
            "",
            "a: b",
            "x #y",
            "[a, b]",
            "{k: v}",
            "'quoted'",
            "\"dq\"",
            "-Dfoo=bar -Dq=\"a b\"",
            "local:///opt/flink/usrlib/job.jar",
            "*a",
            "&b",
            "!tag",
            "%p",
            "@at",
            "`tick`",
            "|",
            ">",
            "- item",
            "? q",
            "0x10",
            "0o7",
            ".inf",
            "null",
        ];
        let mut config = Config::new();
        for (i, value) in tricky.iter().enumerate() {
            let entry = Entry { value: OptionValue::Text((*value).to_owned()), source: None };
            config.insert(format!("key{i:02}"), entry);
        }
        let list = tricky.iter().map(|v| (*v).to_owned()).collect::<Vec<_>>();
        config
            .insert("list".into(), Entry { value: OptionValue::List(list.clone()), source: None });
        config.insert(
            "$internal.application.main".into(),
            Entry { value: OptionValue::Text("a.B".into()), source: None },
        );
        let text = file_text(&config, v(2, 3));
        let parsed =
            crate::yaml::parse_documents(&text).unwrap().remove(0).root.unwrap().to_json().unwrap();
        for (i, value) in tricky.iter().enumerate() {
            assert_eq!(
                parsed[format!("key{i:02}")],
                Value::String((*value).to_owned()),
                "{value:?} in\n{text}"
            );
        }
        assert_eq!(parsed["list"], serde_json::json!(list));
        assert_eq!(parsed["$internal.application.main"], "a.B");
        assert_eq!(text, file_text(&config, v(2, 3)), "byte-stable");
    }

    #[test]
    fn tolerations_use_flinks_map_syntax() {
        let t = serde_json::json!({"key": "spot", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 600});
        assert_eq!(
            toleration(&t),
            "key:spot,operator:Exists,effect:NoExecute,tolerationSeconds:600"
        );
    }
}
