//! The Argo CD config management plugin in `gitops/argocd/` (issue 19, item 2): its `generate`
//! command run as Argo CD runs it (in the Application's directory, with a clean environment
//! holding what Argo CD sets, `plugin.env` entries prefixed `ARGOCD_ENV_`), its `discover`
//! command, and the kustomize Component that installs it on `argocd-repo-server`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use kubectl_flink::yaml::{self, Limits};
use serde_json::Value;

use crate::shell::tool;
use crate::support::{bin, output, root};

fn dir() -> PathBuf {
    root().join("gitops/argocd")
}

fn documents(text: &str) -> Vec<Value> {
    yaml::parse_documents_with(text, Limits::PACKAGE)
        .unwrap()
        .into_iter()
        .filter_map(|d| d.root)
        .map(|root| root.to_json().unwrap())
        .collect()
}

/// `gitops/argocd/plugin.yaml` as JSON.
fn plugin() -> Value {
    let text = std::fs::read_to_string(dir().join("plugin.yaml")).unwrap();
    documents(&text).remove(0)
}

/// A `{command, args}` (or a bare command list) as one argv.
fn argv(value: &Value) -> Vec<String> {
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|items| items.iter().map(|i| i.as_str().unwrap().to_owned()).collect())
            .unwrap_or_default()
    };
    if value.is_array() {
        return strings(value);
    }
    let mut argv = strings(&value["command"]);
    argv.extend(strings(&value["args"]));
    argv
}

/// A `bin` directory holding `kubectl-flink` (the built binary), first on `PATH` as in the
/// sidecar image, then the system's for `sh`, `find`, `grep`.
fn path(bin_dir: &Path) -> String {
    std::os::unix::fs::symlink(bin(), bin_dir.join("kubectl-flink")).unwrap();
    format!("{}:/usr/local/bin:/usr/bin:/bin", bin_dir.display())
}

/// Runs `argv` in `cwd` with only `PATH` and `env`, as the CMP server runs plugin commands.
fn run(argv: &[String], cwd: &Path, env: &[(&str, &str)]) -> Output {
    let tools = tempfile::tempdir().unwrap();
    let mut command = Command::new(&argv[0]);
    command.args(&argv[1..]).env_clear().env("PATH", path(tools.path())).current_dir(cwd);
    for (key, value) in env {
        command.env(key, value);
    }
    output(&mut command, None)
}

/// The variables Argo CD sets for every plugin command (its "Build Environment" page), for an
/// Application `flink-team-a` deploying to namespace `team-a`.
const ARGO_ENV: &[(&str, &str)] = &[
    ("ARGOCD_APP_NAME", "flink-team-a"),
    ("ARGOCD_APP_NAMESPACE", "team-a"),
    ("ARGOCD_APP_PROJECT_NAME", "default"),
    ("ARGOCD_APP_REVISION", "0123456789abcdef0123456789abcdef01234567"),
    ("ARGOCD_APP_REVISION_SHORT", "0123456"),
    ("ARGOCD_APP_SOURCE_PATH", "flink/team-a"),
    ("ARGOCD_APP_SOURCE_REPO_URL", "https://git.example.com/platform.git"),
    ("ARGOCD_APP_SOURCE_TARGET_REVISION", "HEAD"),
    ("KUBE_VERSION", "1.32.0"),
    ("KUBE_API_VERSIONS", "v1,apps/v1,batch/v1"),
];

/// A spec taking its name, image tag and one job argument from variables.
const SPEC: &str = "\
apiVersion: kubectl-flink/v1alpha1
kind: FlinkJobCluster
metadata:
  name: ${JOB}
spec:
  image: flink:${TAG}
  flinkVersion: \"1.9\"
  job:
    parallelism: 1
    args: [\"${ARG}\"]
  taskManager:
    replicas: 1
    slots: 1
";

const CONFIG_MAP: &str = "\
apiVersion: v1
kind: ConfigMap
metadata:
  name: extra
data:
  literal: ${JOB}
";

/// An Application directory: the spec and a plain ConfigMap, as a repository would hold them.
fn app() -> tempfile::TempDir {
    let app = tempfile::tempdir().unwrap();
    std::fs::write(app.path().join("cluster.yaml"), SPEC).unwrap();
    std::fs::write(app.path().join("extra.yaml"), CONFIG_MAP).unwrap();
    app
}

fn generate(app: &Path, user_env: &[(&str, &str)]) -> Output {
    let mut env = ARGO_ENV.to_vec();
    env.extend_from_slice(user_env);
    run(&argv(&plugin()["spec"]["generate"]), app, &env)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

fn ok(out: &Output) -> String {
    assert!(out.status.success(), "failed: {}", text(&out.stderr));
    text(&out.stdout)
}

#[test]
fn the_plugin_is_a_sidecar_cmp_v2_with_generate_and_discover() {
    let plugin = plugin();
    assert_eq!(plugin["apiVersion"], "argoproj.io/v1alpha1");
    assert_eq!(plugin["kind"], "ConfigManagementPlugin");
    assert_eq!(plugin["metadata"]["name"], "kubectl-flink");
    assert_eq!(argv(&plugin["spec"]["generate"])[..2], ["sh", "-c"]);
    assert!(plugin["spec"]["discover"]["find"]["command"].is_array(), "{plugin}");
}

#[test]
fn generate_renders_the_app_directory_into_the_applications_namespace() {
    let app = app();
    let env = [("ARGOCD_ENV_JOB", "wordcount"), ("ARGOCD_ENV_TAG", "1.9"), ("ARGOCD_ENV_ARG", "x")];
    let out = ok(&generate(app.path(), &env));
    // The same bytes as the command the plugin stands for.
    let direct = [
        "render",
        "-f",
        ".",
        "-R",
        "--passthrough",
        "-n",
        "team-a",
        "--var",
        "JOB=wordcount",
        "--var",
        "TAG=1.9",
        "--var",
        "ARG=x",
    ];
    let mut argv = vec![bin().to_owned()];
    argv.extend(direct.iter().map(|s| (*s).to_owned()));
    assert_eq!(out, ok(&run(&argv, app.path(), &[])));
    let objects = documents(&out);
    let (config_maps, rendered): (Vec<_>, Vec<_>) =
        objects.iter().partition(|o| o["metadata"]["name"] == "extra");
    assert!(rendered.len() >= 4, "{out}");
    for object in &rendered {
        assert_eq!(object["metadata"]["namespace"], "team-a", "{object}");
        assert!(object["metadata"]["name"].as_str().unwrap().starts_with("wordcount"), "{object}");
    }
    assert!(out.contains("image: flink:1.9\n"), "{out}");
    // Passed through as data: not substituted, no namespace (Argo CD applies it to the
    // Application's destination namespace).
    assert_eq!(config_maps.len(), 1, "{out}");
    assert_eq!(config_maps[0]["data"]["literal"], "${JOB}");
    assert!(config_maps[0]["metadata"].get("namespace").is_none(), "{out}");
}

/// The values of every `args` list in `objects`.
fn args(objects: &[Value]) -> Vec<String> {
    fn walk(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                for (key, value) in map {
                    if key == "args" {
                        let items = value.as_array().unwrap();
                        out.extend(items.iter().map(|i| i.as_str().unwrap().to_owned()));
                    } else {
                        walk(value, out);
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|i| walk(i, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    for object in objects {
        walk(object, &mut out);
    }
    out
}

#[test]
fn a_value_with_shell_metacharacters_stays_data() {
    let app = app();
    let marker = app.path().join("pwned");
    let m = marker.display();
    let value = format!(
        "$(touch {m}) `touch {m}` ' \" ; touch {m}; ${{HOME}} $ARGOCD_APP_NAME\n\
         export ARGOCD_ENV_EVIL=1\nARGOCD_ENV_JOB=evil\n--var JOB=evil"
    );
    let env =
        [("ARGOCD_ENV_JOB", "wordcount"), ("ARGOCD_ENV_TAG", "1.9"), ("ARGOCD_ENV_ARG", &value)];
    let out = ok(&generate(app.path(), &env));
    assert!(!marker.exists(), "a value was executed");
    // The same under bash, whose `export -p` prints `declare -x` (an image whose sh is bash).
    if Path::new("/bin/bash").exists() {
        let mut argv = argv(&plugin()["spec"]["generate"]);
        argv[0] = "bash".to_owned();
        let mut all = ARGO_ENV.to_vec();
        all.extend_from_slice(&env);
        assert_eq!(ok(&run(&argv, app.path(), &all)), out);
        assert!(!marker.exists(), "a value was executed by bash");
    }
    let objects = documents(&out);
    let args = args(&objects);
    assert_eq!(args.iter().filter(|a| **a == value).count(), 1, "{args:?}");
    for object in &objects {
        let name = object["metadata"]["name"].as_str().unwrap();
        assert!(name == "extra" || name.starts_with("wordcount-"), "{name}");
    }
    // A name that is not a shell name is skipped, never evaluated.
    let env = [
        ("ARGOCD_ENV_JOB", "wordcount"),
        ("ARGOCD_ENV_TAG", "1.9"),
        ("ARGOCD_ENV_ARG", "x"),
        ("ARGOCD_ENV_A-$(touch pwned)", "y"),
    ];
    assert_eq!(ok(&generate(app.path(), &env)), ok(&generate(app.path(), &env[..3])));
    assert!(!marker.exists(), "a name was executed");
}

#[test]
fn an_unset_variable_fails_with_nothing_on_stdout() {
    let app = app();
    // TAG is in the sidecar's environment but not in plugin.env: only ARGOCD_ENV_* count.
    let env = [("ARGOCD_ENV_JOB", "wordcount"), ("ARGOCD_ENV_ARG", "x"), ("TAG", "1.9")];
    let out = generate(app.path(), &env);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    assert!(stderr.contains("`TAG`"), "{stderr}");
    // Empty counts as unset.
    let env = [("ARGOCD_ENV_JOB", "wordcount"), ("ARGOCD_ENV_ARG", "x"), ("ARGOCD_ENV_TAG", "")];
    let out = generate(app.path(), &env);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());
}

#[test]
fn an_application_without_plugin_env_renders_a_spec_without_variables() {
    let app = tempfile::tempdir().unwrap();
    std::fs::create_dir(app.path().join("sub")).unwrap();
    std::fs::copy(root().join("examples/seed-non-ha.yaml"), app.path().join("sub/a.yaml")).unwrap();
    let out = ok(&generate(app.path(), &[]));
    for object in documents(&out) {
        assert_eq!(object["metadata"]["namespace"], "team-a", "{object}");
    }
}

#[test]
fn discover_matches_a_repository_holding_a_spec_and_nothing_else() {
    let command = argv(&plugin()["spec"]["discover"]["find"]["command"]);
    let repo = tempfile::tempdir().unwrap();
    std::fs::write(repo.path().join("extra.yaml"), CONFIG_MAP).unwrap();
    std::fs::write(repo.path().join("notes.txt"), "kind: FlinkJobCluster\n").unwrap();
    let out = run(&command, repo.path(), ARGO_ENV);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty(), "matched: {}", text(&out.stdout));
    std::fs::create_dir_all(repo.path().join("flink/team-a")).unwrap();
    std::fs::write(repo.path().join("flink/team-a/cluster.yml"), SPEC).unwrap();
    let out = run(&command, repo.path(), ARGO_ENV);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "./flink/team-a/cluster.yml\n");
}

/// A stand-in for Argo CD's own `argocd-repo-server` Deployment, with the volumes its
/// manifests declare (`var-files`, `plugins`).
const REPO_SERVER: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: argocd-repo-server
spec:
  selector: {matchLabels: {app.kubernetes.io/name: argocd-repo-server}}
  template:
    metadata: {labels: {app.kubernetes.io/name: argocd-repo-server}}
    spec:
      containers:
        - name: argocd-repo-server
          image: quay.io/argoproj/argocd:v3.0.0
      volumes:
        - {name: var-files, emptyDir: {}}
        - {name: plugins, emptyDir: {}}
";

#[test]
fn the_component_adds_the_sidecar_and_the_plugin_config_map() {
    let Some(kubectl) = tool("kubectl", "KUBECTL", &["version", "--client"]) else {
        return;
    };
    // kustomize refuses an absolute component path: copy the component beside the install.
    let install = tempfile::tempdir().unwrap();
    let component = install.path().join("argocd");
    std::fs::create_dir(&component).unwrap();
    for file in ["kustomization.yaml", "plugin.yaml", "repo-server-patch.yaml"] {
        std::fs::copy(dir().join(file), component.join(file)).unwrap();
    }
    std::fs::write(install.path().join("repo-server.yaml"), REPO_SERVER).unwrap();
    std::fs::write(
        install.path().join("kustomization.yaml"),
        "resources: [repo-server.yaml]\ncomponents: [argocd]\n",
    )
    .unwrap();
    let argv = [kubectl, "kustomize".to_owned(), ".".to_owned()];
    let built = ok(&run(&argv, install.path(), &[]));
    let objects = documents(&built);
    let config_map = objects.iter().find(|o| o["kind"] == "ConfigMap").expect("a ConfigMap");
    assert_eq!(config_map["metadata"]["name"], "kubectl-flink-cmp");
    let plugin_yaml = std::fs::read_to_string(dir().join("plugin.yaml")).unwrap();
    assert_eq!(config_map["data"]["plugin.yaml"], plugin_yaml.as_str());
    let pod = &objects.iter().find(|o| o["kind"] == "Deployment").unwrap()["spec"]["template"];
    let containers = pod["spec"]["containers"].as_array().unwrap();
    assert_eq!(containers.len(), 2, "{built}");
    let sidecar = containers.iter().find(|c| c["name"] == "kubectl-flink").unwrap();
    assert_eq!(sidecar["command"][0], "/var/run/argocd/argocd-cmp-server");
    assert_eq!(sidecar["securityContext"]["runAsUser"], 999);
    let mounts: Vec<(&str, &str)> = sidecar["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["name"].as_str().unwrap(), m["mountPath"].as_str().unwrap()))
        .collect();
    for mount in [
        ("var-files", "/var/run/argocd"),
        ("plugins", "/home/argocd/cmp-server/plugins"),
        ("kubectl-flink-cmp", "/home/argocd/cmp-server/config/plugin.yaml"),
        ("kubectl-flink-cmp-tmp", "/tmp"),
    ] {
        assert!(mounts.contains(&mount), "{mount:?} missing: {mounts:?}");
    }
    let volumes: Vec<&str> = pod["spec"]["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    for (name, _) in &mounts {
        assert!(volumes.contains(name), "volume `{name}` missing: {volumes:?}");
    }
}
