//! A running cluster, seen through kubectl: its objects by their labels, the JobManager's
//! REST API through the API server's service proxy (no port-forward, no open `NodePort`), and
//! bounded waits that report progress on stderr.

use std::io::Write;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::kubectl::{Connection, Kubectl, KubectlOutput, failed, start_failure};
use crate::error::{Diagnostic, Error, ErrorKind};
use crate::flink::rest;
use crate::k8s::names;
use crate::spec::Mode;
use crate::validate::Valid;

/// What `status` reads.
const STATUS_KINDS: &str =
    "jobs.batch,deployments.apps,pods,services,configmaps,horizontalpodautoscalers.autoscaling";
/// The JobManager's and TaskManagers' workloads, which an upgrade replaces.
pub const WORKLOAD_KINDS: &str = "jobs.batch,deployments.apps";

/// Which cluster a command is about, and where.
#[derive(Debug, Clone)]
pub struct Target {
    pub name: String,
    pub namespace: String,
    pub mode: Mode,
    /// The spec, when the command was given one (`-f`).
    pub spec: Option<Valid>,
}

impl Target {
    /// The label selector of every object of the cluster.
    pub fn selector(&self) -> String {
        match self.mode {
            Mode::Standalone => {
                format!("app.kubernetes.io/name=flink,app.kubernetes.io/instance={}", self.name)
            }
            Mode::Native => format!("app={},type=flink-native-kubernetes", self.name),
        }
    }

    /// The Service in front of the JobManager's REST API.
    pub fn rest_service(&self) -> String {
        match self.mode {
            Mode::Standalone => format!("{}-jobmanager-rest", self.name),
            Mode::Native => format!("{}-rest", self.name),
        }
    }

    /// The HA ConfigMaps of Kubernetes HA: Flink labels them with its cluster id, which
    /// kubectl-flink sets to the cluster's name.
    pub fn ha_config_map_selector(&self) -> String {
        format!("app={},type=flink-native-kubernetes", self.name)
    }
}

/// How a command reaches the cluster: kubectl, its flags, where progress goes, how long a
/// wait may last.
pub struct Session<'a> {
    kubectl: &'a mut dyn Kubectl,
    connection: Connection,
    namespace: String,
    progress: &'a mut dyn Write,
    /// The bound of every wait.
    pub wait: Duration,
    /// How long to sleep between two looks at the cluster.
    pub poll: Duration,
}

/// What one look at a cluster during a wait found.
pub enum Look<T> {
    /// What the wait was for, with its value.
    Done(T),
    /// Not yet: how things stand, in a few words (shown when it changes).
    Pending(String),
}

/// A REST call that kubectl ran, but that did not get a 2xx answer from Flink: the
/// JobManager is not reachable (yet, or any more), or it refused the request.
#[derive(Debug, Clone)]
pub struct Unanswered(pub String);

impl<'a> Session<'a> {
    pub fn new(
        kubectl: &'a mut dyn Kubectl,
        connection: Connection,
        namespace: String,
        progress: &'a mut dyn Write,
        wait: Duration,
    ) -> Self {
        // A short bound is looked at more often than once a second.
        let poll = (wait / 10).min(Duration::from_secs(1));
        Self { kubectl, connection, namespace, progress, wait, poll }
    }

    /// Says what is happening, on stderr.
    pub fn say(&mut self, line: &str) {
        let _ =
            writeln!(self.progress, "kubectl-flink: {}", crate::error::escape_for_terminal(line));
    }

    /// Runs `kubectl ARGS --namespace NS [connection flags]`, stderr kept.
    fn call(&mut self, args: &[&str], stdin: &[u8], step: &str) -> Result<KubectlOutput, Error> {
        let mut command: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        command.extend(["--namespace".to_owned(), self.namespace.clone()]);
        command.extend(self.connection.flags());
        self.kubectl.run(&command, stdin, true).map_err(|err| start_failure(&err, step))
    }

    /// Runs a kubectl call that must succeed.
    fn call_ok(&mut self, args: &[&str], stdin: &[u8], step: &str) -> Result<Vec<u8>, Error> {
        let output = self.call(args, stdin, step)?;
        if output.success {
            return Ok(output.stdout);
        }
        Err(failed(
            format!("`kubectl {}` failed while {step}: {}", args[0], kubectl_message(&output)),
            "check access to the cluster (`kubectl auth can-i`), the context and the namespace",
        ))
    }

    /// The objects of `kinds` that `selector` selects.
    pub fn objects(&mut self, kinds: &str, selector: &str) -> Result<Vec<Value>, Error> {
        let step = format!("listing {kinds} with labels {selector}");
        let stdout =
            self.call_ok(&["get", kinds, "--selector", selector, "-o", "json"], &[], &step)?;
        let list: Value = serde_json::from_slice(&stdout).map_err(|err| {
            failed(format!("kubectl's answer while {step} is not JSON: {err}"), KUBECTL_HELP)
        })?;
        Ok(list["items"].as_array().cloned().unwrap_or_default())
    }

    /// Everything `status` shows of a cluster.
    pub fn status_objects(&mut self, target: &Target) -> Result<Vec<Value>, Error> {
        self.objects(STATUS_KINDS, &target.selector())
    }

    /// `GET PATH` on the JobManager's REST API, through the service proxy.
    pub fn rest_get(
        &mut self,
        target: &Target,
        path: &str,
    ) -> Result<Result<Vec<u8>, Unanswered>, Error> {
        let url = proxy_url(&self.namespace, &target.rest_service(), path);
        let output = self.call(&["get", "--raw", &url], &[], &format!("reading {path}"))?;
        answer(output, path)
    }

    /// `POST PATH` with a JSON body, through the service proxy (`kubectl create --raw`).
    pub fn rest_post(
        &mut self,
        target: &Target,
        path: &str,
        body: &Value,
    ) -> Result<Result<Vec<u8>, Unanswered>, Error> {
        let url = proxy_url(&self.namespace, &target.rest_service(), path);
        let bytes = serde_json::to_vec(body).unwrap_or_default();
        let output =
            self.call(&["create", "--raw", &url, "-f", "-"], &bytes, &format!("posting {path}"))?;
        answer(output, path)
    }

    /// A REST answer read into `T`; `Unanswered` when there was none or it did not parse.
    pub fn rest_read<T: for<'de> serde::Deserialize<'de>>(
        &mut self,
        target: &Target,
        path: &str,
    ) -> Result<Result<T, Unanswered>, Error> {
        Ok(self.rest_get(target, path)?.and_then(|body| rest::parse(&body).map_err(Unanswered)))
    }

    /// The cluster's current job, if the JobManager answers.
    pub fn current_job(
        &mut self,
        target: &Target,
    ) -> Result<Result<Option<rest::JobOverview>, Unanswered>, Error> {
        let overview = self.rest_read::<rest::JobsOverview>(target, "jobs/overview")?;
        Ok(overview.map(|o| o.current().cloned()))
    }

    /// `kubectl apply -f -` of rendered YAML; kubectl's lines go to the progress.
    pub fn apply(&mut self, yaml: &[u8], what: &str) -> Result<(), Error> {
        let stdout = self.call_ok(&["apply", "-f", "-"], yaml, &format!("applying {what}"))?;
        self.echo(&stdout);
        Ok(())
    }

    /// `kubectl delete KINDS --selector SEL`, not waiting: the caller waits for the pods.
    pub fn delete(&mut self, kinds: &str, selector: &str) -> Result<(), Error> {
        let stdout = self.call_ok(
            &["delete", kinds, "--selector", selector, "--ignore-not-found", "--wait=false"],
            &[],
            &format!("deleting {kinds} with labels {selector}"),
        )?;
        self.echo(&stdout);
        Ok(())
    }

    /// Deletes the ConfigMaps of the cluster's Kubernetes HA. Flink labels them
    /// `app=<cluster id>,type=flink-native-kubernetes` (and, before 2.0,
    /// `configmap-type=high-availability`), as it labels a native cluster's own ConfigMaps, so
    /// only those named `<cluster id>-…` (Flink's HA names) go, by name.
    pub fn delete_ha_config_maps(&mut self, target: &Target) -> Result<(), Error> {
        let prefix = format!("{}-", target.name);
        let names: Vec<String> = self
            .objects("configmaps", &target.ha_config_map_selector())?
            .iter()
            .filter_map(|c| c["metadata"]["name"].as_str())
            .filter(|name| name.starts_with(&prefix))
            .map(str::to_owned)
            .collect();
        self.delete_config_maps(&names)
    }

    /// `kubectl delete configmaps NAME…`, those that exist.
    pub fn delete_config_maps(&mut self, names: &[String]) -> Result<(), Error> {
        if names.is_empty() {
            return Ok(());
        }
        let mut args = vec!["delete", "configmaps"];
        args.extend(names.iter().map(String::as_str));
        args.extend(["--ignore-not-found", "--wait=false"]);
        let stdout =
            self.call_ok(&args, &[], &format!("deleting configmaps {}", names.join(", ")))?;
        self.echo(&stdout);
        Ok(())
    }

    /// `kubectl scale deployments.apps/NAME --replicas N`.
    pub fn scale(&mut self, deployment: &str, replicas: u32) -> Result<(), Error> {
        let object = format!("deployments.apps/{deployment}");
        let count = replicas.to_string();
        let stdout = self.call_ok(
            &["scale", &object, "--replicas", &count],
            &[],
            &format!("scaling {object} to {replicas}"),
        )?;
        self.echo(&stdout);
        Ok(())
    }

    /// kubectl's own report lines, on the progress stream.
    fn echo(&mut self, stdout: &[u8]) {
        for line in String::from_utf8_lossy(stdout).lines().filter(|l| !l.trim().is_empty()) {
            self.say(line);
        }
    }

    /// Looks at the cluster until `look` is done, at most `self.wait`; says each new state.
    pub fn wait_for<T>(
        &mut self,
        what: &str,
        mut look: impl FnMut(&mut Self) -> Result<Look<T>, Error>,
    ) -> Result<T, Waited> {
        let started = Instant::now();
        self.say(&format!("waiting for {what} (at most {} s)", self.wait.as_secs()));
        let mut last = String::new();
        loop {
            match look(self).map_err(Waited::Failed)? {
                Look::Done(value) => return Ok(value),
                Look::Pending(state) => {
                    if state != last {
                        self.say(&format!("  {state}"));
                        last = state;
                    }
                }
            }
            if started.elapsed() >= self.wait {
                return Err(Waited::TimedOut { what: what.to_owned(), last, waited: self.wait });
            }
            std::thread::sleep(self.poll);
        }
    }

    /// How the JobManager's pods stand, in a few words (`pod x: Running, not ready, 2
    /// restarts`), for a wait on a JobManager that does not answer.
    pub fn jobmanager_pods(&mut self, target: &Target) -> Result<String, Error> {
        let pods = self.objects("pods", &target.selector())?;
        let states: Vec<String> = pods
            .iter()
            .filter(|p| Live::component(p) == Some("jobmanager"))
            .map(|p| {
                let restarts: i64 = p["status"]["containerStatuses"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|c| c["restartCount"].as_i64())
                    .sum();
                format!(
                    "pod {}: {}, {}, {restarts} restarts",
                    p["metadata"]["name"].as_str().unwrap_or("?"),
                    p["status"]["phase"].as_str().unwrap_or("Unknown"),
                    if pod_ready(p) { "ready" } else { "not ready" }
                )
            })
            .collect();
        Ok(if states.is_empty() { "no JobManager pod".to_owned() } else { states.join("; ") })
    }

    /// Waits until no pod of the cluster's JobManager and TaskManagers is left.
    pub fn wait_pods_gone(&mut self, target: &Target) -> Result<(), Waited> {
        let selector = target.selector();
        self.wait_for("the JobManager and TaskManager pods to go", |session| {
            let pods = session.objects("pods", &selector)?;
            Ok(if pods.is_empty() {
                Look::Done(())
            } else {
                Look::Pending(format!("{} pod(s) left: {}", pods.len(), object_names(&pods)))
            })
        })
    }
}

/// A wait that did not end in what it waited for.
#[derive(Debug)]
pub enum Waited {
    /// A look failed (kubectl could not run, or refused).
    Failed(Error),
    /// The bound passed; `last` is how things stood.
    TimedOut { what: String, last: String, waited: Duration },
}

impl Waited {
    /// What happened, in one line.
    pub fn describe(&self) -> String {
        match self {
            Waited::Failed(err) => err.first_message(),
            Waited::TimedOut { what, last, waited } => {
                let last = if last.is_empty() { String::new() } else { format!(" (last: {last})") };
                format!("timed out after {} s waiting for {what}{last}", waited.as_secs())
            }
        }
    }

    /// The error to report, with `state` (what the cluster is left as) and `help`.
    pub fn into_error(self, state: &str, help: &str) -> Error {
        match self {
            Waited::Failed(mut err) => {
                if let Some(first) = err.diagnostics.first_mut() {
                    first.message = format!("{}; {state}", first.message);
                    first.help = Some(help.to_owned());
                }
                err
            }
            timed_out @ Waited::TimedOut { .. } => {
                failed(format!("{}; {state}", timed_out.describe()), help)
            }
        }
    }
}

const KUBECTL_HELP: &str = "check `kubectl version` and the cluster's API server";

/// `/api/v1/namespaces/NS/services/http:SERVICE:rest/proxy/PATH`: the API server forwards
/// to the Service's port named `rest` (every mode names the REST port so).
pub fn proxy_url(namespace: &str, service: &str, path: &str) -> String {
    format!("/api/v1/namespaces/{namespace}/services/http:{service}:rest/proxy/{path}")
}

/// The body of a proxied answer, `Unanswered` when Flink or the proxy said no, or an error
/// when the API server refused the user: that is no state of the cluster.
fn answer(output: KubectlOutput, path: &str) -> Result<Result<Vec<u8>, Unanswered>, Error> {
    if output.success {
        return Ok(Ok(output.stdout));
    }
    let message = kubectl_message(&output);
    if message.contains("(Forbidden)") || message.contains("(Unauthorized)") {
        return Err(failed(
            format!("the API server refused the service proxy call for {path}: {message}"),
            "the lifecycle commands need `get` and `create` on `services/proxy` in the cluster's namespace (and `get`, `list` on its objects)",
        ));
    }
    Ok(Err(Unanswered(message)))
}

/// The last line of kubectl's stderr, which says what went wrong (client-go's log lines come
/// first), or how kubectl ended when it said nothing.
pub fn kubectl_message(output: &KubectlOutput) -> String {
    let text = String::from_utf8_lossy(&output.stderr);
    if let Some(last) = text.lines().map(str::trim).rfind(|l| !l.is_empty()) {
        return last.chars().take(400).collect();
    }
    output
        .code
        .map_or_else(|| "kubectl was killed".to_owned(), |c| format!("kubectl exited with {c}"))
}

/// `kind/name, …` of objects.
pub fn object_names(objects: &[Value]) -> String {
    objects
        .iter()
        .map(|o| {
            format!(
                "{}/{}",
                o["kind"].as_str().unwrap_or("?").to_lowercase(),
                o["metadata"]["name"].as_str().unwrap_or("?")
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The namespace: `-n`, else the spec's, else the current context's, else `default`.
pub fn namespace(
    kubectl: &mut dyn Kubectl,
    connection: &Connection,
    flag: Option<&str>,
    spec: Option<&Valid>,
) -> Result<String, Error> {
    let from_spec = spec.and_then(|s| s.cluster.metadata.namespace.clone());
    if let Some(namespace) = flag {
        names::check_dns_label(namespace).map_err(|refusal| {
            Error::usage(Diagnostic::new(format!("--namespace `{namespace}`: {}", refusal.message)))
        })?;
        if let Some(other) = from_spec.filter(|other| other != namespace) {
            return Err(Error::usage(
                Diagnostic::new(format!(
                    "--namespace {namespace} disagrees with the spec's metadata.namespace `{other}`"
                ))
                .with_help("drop --namespace, or change metadata.namespace in the spec"),
            ));
        }
        return Ok(namespace.to_owned());
    }
    if let Some(namespace) = from_spec {
        return Ok(namespace);
    }
    let mut argv: Vec<String> =
        ["config", "view", "--minify", "-o", "jsonpath={..namespace}"].map(String::from).into();
    argv.extend(connection.flags());
    let output = kubectl
        .run(&argv, &[], true)
        .map_err(|err| start_failure(&err, "reading the current context's namespace"))?;
    let current = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    if !output.success || current.is_empty() {
        return Ok("default".to_owned());
    }
    names::check_dns_label(&current).map_err(|refusal| {
        failed(
            format!("the current context's namespace `{current}`: {}", refusal.message),
            "pass the cluster's namespace with -n",
        )
    })?;
    Ok(current)
}

/// The cluster a command is about: from its spec, or by name (standalone first, then native,
/// whichever has objects).
pub fn find_target(
    session: &mut Session,
    name: &str,
    namespace: &str,
    spec: Option<&Valid>,
) -> Result<(Target, Vec<Value>), Error> {
    let modes = match spec {
        Some(valid) => vec![valid.cluster.spec.mode.unwrap_or(Mode::Standalone)],
        None => vec![Mode::Standalone, Mode::Native],
    };
    for mode in modes {
        let target = Target {
            name: name.to_owned(),
            namespace: namespace.to_owned(),
            mode,
            spec: spec.cloned(),
        };
        let objects = session.status_objects(&target)?;
        if !objects.is_empty() {
            return Ok((target, objects));
        }
    }
    Err(Error {
        kind: ErrorKind::NotFound,
        diagnostics: vec![
            Diagnostic::new(format!(
                "no object of cluster `{name}` in namespace {namespace}"
            ))
            .with_help(
                "check the name and the namespace (-n); `kubectl flink apply -f SPEC` creates it",
            ),
        ],
    })
}

/// A Flink option of a workload as its containers read it: the mounted config file (a
/// `configMode: configmap` cluster's ConfigMap, flat `key: value` lines), then
/// `FLINK_PROPERTIES` lines, then `-Dkey=value` and `-D key=value` arguments, the last
/// winning. `keys` are the option's names, newest first.
pub fn live_option(workload: &Value, config_map: Option<&Value>, keys: &[&str]) -> Option<String> {
    let mut found = None;
    let read_lines = |text: &str, found: &mut Option<String>| {
        for line in text.lines() {
            if let Some((key, value)) = line.split_once(':')
                && keys.contains(&key.trim())
            {
                *found = Some(value.trim().trim_matches(['\'', '"']).to_owned());
            }
        }
    };
    for file in ["config.yaml", "flink-conf.yaml"] {
        if let Some(text) = config_map.and_then(|c| c["data"][file].as_str()) {
            read_lines(text, &mut found);
        }
    }
    let containers = workload["spec"]["template"]["spec"]["containers"].as_array()?;
    for container in containers {
        for env in container["env"].as_array().into_iter().flatten() {
            if env["name"] == "FLINK_PROPERTIES" {
                read_lines(env["value"].as_str().unwrap_or_default(), &mut found);
            }
        }
        let args: Vec<&str> = container["command"]
            .as_array()
            .into_iter()
            .flatten()
            .chain(container["args"].as_array().into_iter().flatten())
            .filter_map(Value::as_str)
            .collect();
        for (i, arg) in args.iter().enumerate() {
            let option = match arg.strip_prefix("-D") {
                Some("") => args.get(i + 1).copied(),
                other => other,
            };
            if let Some((key, value)) = option.and_then(|o| o.split_once('='))
                && keys.contains(&key)
            {
                found = Some(value.to_owned());
            }
        }
    }
    found
}

/// A string quoted for a POSIX shell when it needs it, for commands shown to the user.
pub fn shell_word(text: &str) -> String {
    let plain = !text.is_empty()
        && text.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c));
    if plain { text.to_owned() } else { format!("'{}'", text.replace('\'', "'\\''")) }
}

/// The objects of a cluster as `kubectl get` listed them, read for what the commands need.
#[derive(Debug, Clone)]
pub struct Live {
    pub objects: Vec<Value>,
}

/// A cluster's high availability, as the running JobManager was configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ha {
    None,
    ZooKeeper,
    Kubernetes,
}

impl Ha {
    pub fn as_str(self) -> &'static str {
        match self {
            Ha::None => "none",
            Ha::ZooKeeper => "zookeeper",
            Ha::Kubernetes => "kubernetes",
        }
    }
}

/// The names `high-availability.type` had (1.17 renamed `high-availability`).
pub const HA_TYPE_KEYS: &[&str] = &["high-availability.type", "high-availability"];

impl Live {
    fn of_kind<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
        self.objects.iter().filter(move |o| o["kind"] == kind)
    }

    pub fn component(object: &Value) -> Option<&str> {
        let labels = &object["metadata"]["labels"];
        labels["app.kubernetes.io/component"].as_str().or_else(|| labels["component"].as_str())
    }

    /// The JobManager's Job or Deployment.
    pub fn jobmanager(&self) -> Option<&Value> {
        self.objects.iter().find(|o| {
            (o["kind"] == "Job" || o["kind"] == "Deployment")
                && Self::component(o) == Some("jobmanager")
        })
    }

    /// The TaskManagers' Deployment (standalone mode; native TaskManagers are bare pods).
    pub fn taskmanagers(&self) -> Option<&Value> {
        self.of_kind("Deployment").find(|o| Self::component(o) == Some("taskmanager"))
    }

    pub fn pods(&self) -> impl Iterator<Item = &Value> {
        self.of_kind("Pod")
    }

    /// A `configMode: configmap` cluster's ConfigMap, mounted by the JobManager.
    pub fn config_map(&self) -> Option<&Value> {
        let jm = self.jobmanager()?;
        let volumes = jm["spec"]["template"]["spec"]["volumes"].as_array()?;
        let names: Vec<&str> =
            volumes.iter().filter_map(|v| v["configMap"]["name"].as_str()).collect();
        self.of_kind("ConfigMap")
            .find(|c| names.contains(&c["metadata"]["name"].as_str().unwrap_or_default()))
    }

    /// A Flink option as the JobManager reads it.
    pub fn option(&self, keys: &[&str]) -> Option<String> {
        live_option(self.jobmanager()?, self.config_map(), keys)
    }

    /// The HA the JobManager runs with; `None` when there is no JobManager object.
    pub fn ha(&self) -> Option<Ha> {
        self.jobmanager()?;
        Some(match self.option(HA_TYPE_KEYS).map(|v| v.to_ascii_lowercase()) {
            Some(v) if v == "zookeeper" => Ha::ZooKeeper,
            Some(v) if v == "kubernetes" || v.contains("kubernetes") => Ha::Kubernetes,
            _ => Ha::None,
        })
    }

    /// TaskManager pods that are ready, and how many the Deployment wants.
    pub fn taskmanagers_ready(&self) -> (i64, i64) {
        let ready = self
            .pods()
            .filter(|p| Self::component(p) == Some("taskmanager") && pod_ready(p))
            .count();
        let desired = self.taskmanagers().map_or(0, |d| {
            d["spec"]["replicas"].as_i64().or_else(|| d["status"]["replicas"].as_i64()).unwrap_or(1)
        });
        (i64::try_from(ready).unwrap_or(i64::MAX), desired)
    }
}

/// Whether a pod's `Ready` condition is true (and it is not being deleted).
pub fn pod_ready(pod: &Value) -> bool {
    pod["metadata"]["deletionTimestamp"].is_null()
        && pod["status"]["conditions"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|c| c["type"] == "Ready" && c["status"] == "True")
}

/// What every lifecycle command takes: the cluster (a spec or a name) and how to reach it.
#[derive(Debug, Default)]
pub struct Options {
    /// `-f` with `--set` and the variable flags; no input when the cluster was named.
    pub specs: super::Specs,
    /// The cluster's name, instead of a spec.
    pub name: Option<String>,
    pub templates: Option<std::path::PathBuf>,
    pub connection: Connection,
    /// `-n`.
    pub namespace: Option<String>,
    /// The bound of every wait and every kubectl call.
    pub wait: Duration,
}

/// The one validated spec of `-f`, if one was given.
pub fn load_one(options: &Options) -> Result<Option<Valid>, Error> {
    let super::Specs { inputs, substitution, policy, overrides } = &options.specs;
    if inputs.is_empty() {
        return Ok(None);
    }
    let mut specs = crate::pipeline::load_valid(inputs, overrides, *policy, substitution.as_ref())?;
    if specs.len() != 1 {
        return Err(Error::usage(
            Diagnostic::new(format!(
                "{} clusters in the given specs; this command works on one cluster",
                specs.len()
            ))
            .with_help("give a file with one cluster spec, or the cluster's name"),
        ));
    }
    Ok(Some(specs.remove(0).valid))
}

/// Finds the cluster: reads the spec (if any), the namespace, and the cluster's objects.
pub fn open<'a>(
    options: &Options,
    kubectl: &'a mut dyn Kubectl,
    progress: &'a mut dyn Write,
) -> Result<(Session<'a>, Target, Live), Error> {
    let spec = load_one(options)?;
    let name = match (&spec, &options.name) {
        (Some(valid), _) => valid.cluster.metadata.name.clone(),
        (None, Some(name)) => {
            names::check_dns_label(name).map_err(|refusal| {
                Error::usage(
                    Diagnostic::new(format!("cluster name `{name}`: {}", refusal.message))
                        .with_help("give the cluster's metadata.name, or -f SPEC"),
                )
            })?;
            name.clone()
        }
        (None, None) => {
            return Err(Error::usage(
                Diagnostic::new("which cluster? give -f SPEC or its NAME").with_help(
                    "e.g. `-f cluster.yaml`, or the cluster's metadata.name as the last argument",
                ),
            ));
        }
    };
    let namespace =
        namespace(kubectl, &options.connection, options.namespace.as_deref(), spec.as_ref())?;
    let mut session = Session::new(
        kubectl,
        options.connection.clone(),
        namespace.clone(),
        progress,
        options.wait,
    );
    if let Some(version) = spec.as_ref().map(|s| s.version)
        && !rest::PROVEN.contains(&version)
    {
        session.say(&format!(
            "note: these commands are tested against Flink {} and {}; Flink {version} has the same REST endpoints but is not tested here",
            rest::PROVEN[0], rest::PROVEN[1]
        ));
    }
    let (target, objects) = find_target(&mut session, &name, &namespace, spec.as_ref())?;
    Ok((session, target, Live { objects }))
}
