//! Injection corpus: hostile values in every string field of a spec, in `--set`, `--var` and
//! env files never change the structure of the output.
//!
//! Every payload of `tests/corpus/injection/payloads.json` goes into every string field (and
//! the keys of free-form maps), written as JSON, as YAML double-quoted and, where it can be,
//! single-quoted text. For each, kubectl-flink either refuses it with an input error naming the
//! field (exactly where the field's documented rule says so, e.g. DNS names, label syntax, no
//! control characters in an image), or renders output whose structure equals the output with
//! a harmless value and where the value stands verbatim. `--set` with the value in double
//! quotes renders byte for byte what the file does; so do `--var` and `--env-file` (run when
//! the binary has them). The outputs are then read back by independent YAML parsers: `PyYAML`
//! (a YAML 1.1 reader like kubectl's) from the test venv `scripts/test` creates, required under
//! `CI`; `kubectl kustomize`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Command;

use kubectl_flink::input::Input;
use kubectl_flink::output::Format;
use kubectl_flink::overrides::Override;
use kubectl_flink::{RenderOptions, yaml};
use serde_json::{Value, json};

use crate::support::{root, run};

/// One payload of the corpus.
pub struct Payload {
    pub name: String,
    pub value: String,
}

/// The injection corpus.
pub fn payloads() -> Vec<Payload> {
    let text = std::fs::read_to_string(root().join("tests/corpus/injection/payloads.json"))
        .expect("the injection corpus is readable");
    let list: Vec<BTreeMap<String, String>> = serde_json::from_str(&text).expect("a JSON list");
    list.into_iter()
        .map(|mut p| Payload {
            name: p.remove("name").expect("a name"),
            value: p.remove("value").expect("a value"),
        })
        .collect()
}

/// A spec using every string field, with harmless values.
fn base() -> Value {
    json!({
        "apiVersion": "kubectl-flink/v1alpha1",
        "kind": "FlinkJobCluster",
        "metadata": {
            "name": "inject",
            "namespace": "streaming",
            "labels": {"team": "data"},
            "annotations": {"note": "harmless"},
        },
        "spec": {
            "image": "flink:2.1",
            "imagePullPolicy": "IfNotPresent",
            "flinkVersion": "2.1",
            "job": {
                "entryClass": "org.example.Main",
                "args": ["--in", "harmless"],
                "fromSavepoint": "s3://bucket/savepoint-1",
            },
            "taskManager": {"resources": {"cpu": "1", "memory": "2Gi"}},
            "service": {"type": "ClusterIP"},
            "highAvailability": {
                "type": "zookeeper",
                "zookeeper": {"quorum": "zk:2181", "pathRoot": "/flink"},
                "storageDir": "s3://bucket/ha",
            },
            "savepointDir": "s3://bucket/savepoints",
            "flinkConfiguration": {"custom.option": "harmless"},
            "serviceAccountName": "harmless",
            "imagePullSecrets": ["harmless"],
            "nodeSelector": {"pool": "harmless"},
            "podAnnotations": {"note": "harmless"},
            "objectAnnotations": {"owner": "harmless"},
            "env": [{"name": "NOTE", "value": "harmless"}],
            "secretEnv": [{"name": "TOKEN", "secret": "harmless", "key": "harmless"}],
            "secrets": [{"name": "harmless", "mountPath": "/opt/flink/secrets/harmless"}],
            "ingress": {"host": "harmless.example.com", "path": "/harmless", "annotations": {"note": "harmless"}},
        }
    })
}

/// The container's env entry `name` (kubectl-flink adds its own, e.g. `POD_IP`, before the
/// spec's), or null.
fn env_var<'a>(container: &'a Value, name: &str) -> &'a Value {
    container["env"]
        .as_array()
        .and_then(|env| env.iter().find(|e| e["name"] == name))
        .unwrap_or(&Value::Null)
}

/// Where a payload goes.
#[derive(Clone, Copy)]
enum Target {
    /// The value at a JSON pointer.
    Value(&'static str),
    /// A key of the map at a JSON pointer, replacing `old`.
    Key(&'static str, &'static str),
}

/// A string field and its documented rules.
struct Field {
    /// The field as messages and `--set` spell it.
    path: &'static str,
    target: Target,
    /// Settable with `--set path=value`.
    settable: bool,
    /// The value stored for a payload (a znode path must start with `/`).
    value: fn(&str) -> String,
    /// Whether the value must be accepted; `None`: the field has a grammar of its own
    /// (quantities), and either outcome is right as long as it is clean.
    accepts: Option<fn(&str) -> bool>,
    /// Whether the value stands verbatim where it belongs in the rendered objects.
    found: fn(&Objects, &str) -> bool,
}

/// The rendered objects, by kind.
struct Objects {
    all: Vec<Value>,
}

impl Objects {
    fn kind(&self, kind: &str) -> &Value {
        self.all.iter().find(|o| o["kind"] == kind).unwrap_or(&Value::Null)
    }

    fn containers(&self) -> Vec<&Value> {
        ["Job", "Deployment"]
            .iter()
            .map(|k| &self.kind(k)["spec"]["template"]["spec"]["containers"][0])
            .collect()
    }

    fn job_args(&self) -> Vec<&str> {
        self.kind("Job")["spec"]["template"]["spec"]["containers"][0]["args"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default()
    }

    fn has_arg(&self, arg: &str) -> bool {
        self.job_args().contains(&arg)
    }

    fn has_args(&self, option: &str, value: &str) -> bool {
        self.job_args().windows(2).any(|w| w == [option, value])
    }
}

fn same(v: &str) -> String {
    v.to_owned()
}

/// The text checks kubectl-flink documents for images and paths.
fn plain_text(v: &str) -> bool {
    !v.trim().is_empty()
        && !v.chars().any(|c| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}'))
        && v.trim() == v
}

fn dns_label(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 63
        && v.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !v.starts_with('-')
        && !v.ends_with('-')
}

fn label_name(v: &str) -> bool {
    let b = v.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

fn java_class(v: &str) -> bool {
    v.split('.').all(|part| {
        let mut chars = part.chars();
        chars.next().is_some_and(|c| c.is_alphabetic() || c == '_' || c == '$')
            && chars.all(|c| c.is_alphanumeric() || c == '_' || c == '$')
    })
}

// One table of every string field: long, and clearer whole.
#[allow(clippy::too_many_lines)]
fn fields() -> Vec<Field> {
    vec![
        Field {
            path: "metadata.name",
            target: Target::Value("/metadata/name"),
            settable: true,
            value: same,
            accepts: Some(|v| {
                dns_label(v) && v.len() <= 47 && v.starts_with(|c: char| c.is_ascii_lowercase())
            }),
            found: |o, v| o.kind("Job")["metadata"]["name"] == format!("{v}-jobmanager"),
        },
        Field {
            path: "metadata.namespace",
            target: Target::Value("/metadata/namespace"),
            settable: true,
            value: same,
            accepts: Some(dns_label),
            found: |o, v| o.all.iter().all(|x| x["metadata"]["namespace"] == v),
        },
        Field {
            path: "metadata.labels.team",
            target: Target::Value("/metadata/labels/team"),
            settable: true,
            value: same,
            accepts: Some(|v| v.is_empty() || label_name(v)),
            found: |o, v| o.all.iter().all(|x| x["metadata"]["labels"]["team"] == v),
        },
        Field {
            path: "metadata.labels",
            target: Target::Key("/metadata/labels", "team"),
            settable: false,
            value: same,
            accepts: Some(label_name),
            found: |o, v| o.all.iter().all(|x| x["metadata"]["labels"][v] == "data"),
        },
        Field {
            path: "metadata.annotations.note",
            target: Target::Value("/metadata/annotations/note"),
            settable: true,
            value: same,
            accepts: Some(|_| true),
            found: |_, _| true,
        },
        Field {
            path: "metadata.annotations",
            target: Target::Key("/metadata/annotations", "note"),
            settable: false,
            value: same,
            accepts: Some(|_| true),
            found: |_, _| true,
        },
        Field {
            path: "spec.objectAnnotations.owner",
            target: Target::Value("/spec/objectAnnotations/owner"),
            settable: true,
            value: same,
            accepts: Some(|_| true),
            found: |o, v| o.all.iter().all(|x| x["metadata"]["annotations"]["owner"] == v),
        },
        Field {
            path: "spec.image",
            target: Target::Value("/spec/image"),
            settable: true,
            value: same,
            accepts: Some(plain_text),
            found: |o, v| o.containers().iter().all(|c| c["image"] == v),
        },
        Field {
            path: "spec.imagePullPolicy",
            target: Target::Value("/spec/imagePullPolicy"),
            settable: true,
            value: same,
            accepts: Some(|_| false),
            found: |_, _| false,
        },
        Field {
            path: "spec.flinkVersion",
            target: Target::Value("/spec/flinkVersion"),
            settable: true,
            value: same,
            // A version ("1.20" is one) chooses keys; it is not printed.
            accepts: None,
            found: |_, _| true,
        },
        Field {
            path: "spec.job.entryClass",
            target: Target::Value("/spec/job/entryClass"),
            settable: true,
            value: same,
            accepts: Some(java_class),
            found: |o, v| o.has_args("--job-classname", v),
        },
        Field {
            path: "spec.job.args[1]",
            target: Target::Value("/spec/job/args/1"),
            settable: true,
            value: same,
            accepts: Some(|_| true),
            found: |o, v| o.job_args().last() == Some(&v),
        },
        Field {
            path: "spec.job.fromSavepoint",
            target: Target::Value("/spec/job/fromSavepoint"),
            settable: true,
            value: same,
            // A leading `-` would be read by the entrypoint's parser as an option (issue 15).
            accepts: Some(|v| plain_text(v) && !v.starts_with('-')),
            found: |o, v| o.has_args("--fromSavepoint", v),
        },
        Field {
            path: "spec.taskManager.resources.cpu",
            target: Target::Value("/spec/taskManager/resources/cpu"),
            settable: true,
            value: same,
            accepts: None,
            found: |o, v| {
                o.kind("Deployment")["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]
                    ["cpu"]
                    == v
            },
        },
        Field {
            path: "spec.taskManager.resources.memory",
            target: Target::Value("/spec/taskManager/resources/memory"),
            settable: true,
            value: same,
            accepts: None,
            found: |o, v| {
                o.kind("Deployment")["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]
                    ["memory"]
                    == v
            },
        },
        Field {
            path: "spec.service.type",
            target: Target::Value("/spec/service/type"),
            settable: true,
            value: same,
            accepts: Some(|_| false),
            found: |_, _| false,
        },
        Field {
            path: "spec.highAvailability.type",
            target: Target::Value("/spec/highAvailability/type"),
            settable: true,
            value: same,
            accepts: Some(|_| false),
            found: |_, _| false,
        },
        Field {
            path: "spec.highAvailability.zookeeper.quorum",
            target: Target::Value("/spec/highAvailability/zookeeper/quorum"),
            settable: true,
            value: same,
            accepts: Some(|v| plain_text(v) && !v.contains(char::is_whitespace)),
            found: |o, v| o.has_arg(&format!("-Dhigh-availability.zookeeper.quorum={v}")),
        },
        Field {
            path: "spec.highAvailability.zookeeper.pathRoot",
            target: Target::Value("/spec/highAvailability/zookeeper/pathRoot"),
            settable: true,
            value: |v| format!("/{v}"),
            accepts: Some(|v| !v.contains(char::is_whitespace)),
            found: |o, v| o.has_arg(&format!("-Dhigh-availability.zookeeper.path.root={v}")),
        },
        Field {
            path: "spec.highAvailability.storageDir",
            target: Target::Value("/spec/highAvailability/storageDir"),
            settable: true,
            value: same,
            accepts: Some(plain_text),
            found: |o, v| o.has_arg(&format!("-Dhigh-availability.storageDir={v}")),
        },
        Field {
            path: "spec.savepointDir",
            target: Target::Value("/spec/savepointDir"),
            settable: true,
            value: same,
            accepts: Some(plain_text),
            found: |o, v| o.has_arg(&format!("-Dexecution.checkpointing.savepoint-dir={v}")),
        },
        Field {
            path: "spec.flinkConfiguration",
            target: Target::Value("/spec/flinkConfiguration/custom.option"),
            settable: true,
            value: same,
            accepts: Some(|v| !v.contains(['\n', '\r', '\0'])),
            found: |o, v| o.has_arg(&format!("-Dcustom.option={v}")),
        },
        Field {
            path: "spec.flinkConfiguration",
            target: Target::Key("/spec/flinkConfiguration", "custom.option"),
            settable: false,
            value: same,
            accepts: Some(|v| {
                !v.is_empty()
                    && !v.contains(|c: char| c == '=' || c.is_whitespace() || c.is_control())
            }),
            found: |o, v| o.has_arg(&format!("-D{v}=harmless")),
        },
    ]
}

/// The pod spec of the JobManager Job and the TaskManager Deployment.
fn pods(o: &Objects) -> Vec<&Value> {
    ["Job", "Deployment"].iter().map(|k| &o.kind(k)["spec"]["template"]).collect()
}

fn dns_subdomain(v: &str) -> bool {
    v.len() <= 253 && v.split('.').all(dns_label)
}

/// The spec's pod-level fields, added by issue 9: same rules, same payloads.
fn pod_fields() -> Vec<Field> {
    vec![
        Field {
            path: "spec.serviceAccountName",
            target: Target::Value("/spec/serviceAccountName"),
            settable: true,
            value: same,
            accepts: Some(dns_subdomain),
            found: |o, v| pods(o).iter().all(|p| p["spec"]["serviceAccountName"] == v),
        },
        Field {
            path: "spec.imagePullSecrets[0]",
            target: Target::Value("/spec/imagePullSecrets/0"),
            settable: true,
            value: same,
            accepts: Some(dns_subdomain),
            found: |o, v| pods(o).iter().all(|p| p["spec"]["imagePullSecrets"][0]["name"] == v),
        },
        Field {
            path: "spec.nodeSelector.pool",
            target: Target::Value("/spec/nodeSelector/pool"),
            settable: true,
            value: same,
            accepts: Some(|v| v.is_empty() || label_name(v)),
            found: |o, v| pods(o).iter().all(|p| p["spec"]["nodeSelector"]["pool"] == v),
        },
        Field {
            path: "spec.podAnnotations.note",
            target: Target::Value("/spec/podAnnotations/note"),
            settable: true,
            value: same,
            accepts: Some(|_| true),
            found: |o, v| pods(o).iter().all(|p| p["metadata"]["annotations"]["note"] == v),
        },
        Field {
            path: "spec.env[0].value",
            target: Target::Value("/spec/env/0/value"),
            settable: true,
            value: same,
            accepts: Some(|_| true),
            found: |o, v| o.containers().iter().all(|c| env_var(c, "NOTE")["value"] == v),
        },
        Field {
            path: "spec.secretEnv[0].key",
            target: Target::Value("/spec/secretEnv/0/key"),
            settable: true,
            value: same,
            accepts: Some(|v| {
                !v.is_empty()
                    && v.len() <= 253
                    && v.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
            }),
            found: |o, v| {
                o.containers()
                    .iter()
                    .all(|c| env_var(c, "TOKEN")["valueFrom"]["secretKeyRef"]["key"] == v)
            },
        },
        Field {
            path: "spec.secrets[0].mountPath",
            target: Target::Value("/spec/secrets/0/mountPath"),
            settable: true,
            value: |v| format!("/opt/flink/secrets/{v}"),
            accepts: Some(|v| !v.contains(':') && !v.chars().any(char::is_control)),
            found: |o, v| o.containers().iter().all(|c| c["volumeMounts"][0]["mountPath"] == v),
        },
        Field {
            path: "spec.ingress.host",
            target: Target::Value("/spec/ingress/host"),
            settable: true,
            value: same,
            accepts: Some(|v| dns_subdomain(v.strip_prefix("*.").unwrap_or(v))),
            found: |o, v| o.kind("Ingress")["spec"]["rules"][0]["host"] == v,
        },
        Field {
            path: "spec.ingress.path",
            target: Target::Value("/spec/ingress/path"),
            settable: true,
            value: |v| format!("/{v}"),
            // The API server's rules for a `Prefix` path (validateHTTPIngressPath).
            accepts: Some(|v| {
                !v.chars().any(|c| c.is_whitespace() || c.is_control())
                    && !["//", "/./", "/../", "%2f", "%2F"].iter().any(|s| v.contains(s))
                    && !v.ends_with("/.")
                    && !v.ends_with("/..")
            }),
            found: |o, v| o.kind("Ingress")["spec"]["rules"][0]["http"]["paths"][0]["path"] == v,
        },
        Field {
            path: "spec.ingress.annotations.note",
            target: Target::Value("/spec/ingress/annotations/note"),
            settable: true,
            value: same,
            accepts: Some(|_| true),
            found: |o, v| o.kind("Ingress")["metadata"]["annotations"]["note"] == v,
        },
    ]
}

/// The `--set` path of a field.
fn set_path(field: &Field) -> String {
    match field.path {
        "spec.flinkConfiguration" => "spec.flinkConfiguration[custom.option]".to_owned(),
        path => path.to_owned(),
    }
}

fn inject(field: &Field, value: &str) -> Value {
    let mut spec = base();
    match field.target {
        Target::Value(pointer) => {
            *spec.pointer_mut(pointer).expect("the base has it") = json!(value);
        }
        Target::Key(pointer, old) => {
            let map = spec.pointer_mut(pointer).and_then(Value::as_object_mut).expect("a map");
            let kept = map.remove(old).expect("the base has it");
            map.insert(value.to_owned(), kept);
        }
    }
    spec
}

/// How a spec is written down.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Style {
    Json,
    DoubleQuoted,
    SingleQuoted,
}

/// A YAML double-quoted scalar holding exactly `s`.
fn double_quoted(s: &str) -> String {
    let mut out = String::from('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{85}' => out.push_str("\\N"),
            '\u{2028}' => out.push_str("\\L"),
            '\u{2029}' => out.push_str("\\P"),
            c if c.is_control() || matches!(c, '\u{feff}' | '\u{fffe}' | '\u{ffff}') => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A YAML single-quoted scalar holding exactly `s`, if one can (no line breaks, only
/// printable characters).
fn single_quoted(s: &str) -> Option<String> {
    let printable = |c: char| {
        !c.is_control()
            && !matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}')
    };
    s.chars().all(printable).then(|| format!("'{}'", s.replace('\'', "''")))
}

/// Writes a spec as block YAML with every string in one quoting style.
fn write_yaml(value: &Value, style: Style, indent: usize, out: &mut String) -> Option<()> {
    let scalar = |v: &Value| -> Option<String> {
        match v {
            Value::String(s) if style == Style::SingleQuoted => single_quoted(s),
            Value::String(s) => Some(double_quoted(s)),
            Value::Array(a) if a.is_empty() => Some("[]".into()),
            Value::Object(m) if m.is_empty() => Some("{}".into()),
            Value::Array(_) | Value::Object(_) => None,
            other => Some(other.to_string()),
        }
    };
    let pad = " ".repeat(indent);
    match value {
        Value::Object(map) => {
            for (key, item) in map {
                let key = scalar(&Value::String(key.clone()))?;
                if let Some(text) = scalar(item) {
                    let _ = writeln!(out, "{pad}{key}: {text}");
                } else {
                    let _ = writeln!(out, "{pad}{key}:");
                    write_yaml(item, style, indent + 2, out)?;
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                if let Some(text) = scalar(item) {
                    let _ = writeln!(out, "{pad}- {text}");
                } else {
                    let _ = writeln!(out, "{pad}-");
                    write_yaml(item, style, indent + 2, out)?;
                }
            }
        }
        _ => return None,
    }
    Some(())
}

/// JSON text, with what YAML forbids raw (DEL, C1 controls, U+FEFF, U+FFFE, U+FFFF) escaped:
/// JSON allows them raw, YAML does not.
pub fn json_text(spec: &Value) -> String {
    let mut out = String::new();
    for c in spec.to_string().chars() {
        let raw =
            c == '\u{85}' || !(c.is_control() || matches!(c, '\u{feff}' | '\u{fffe}' | '\u{ffff}'));
        if raw {
            out.push(c);
        } else {
            let _ = write!(out, "\\u{:04x}", u32::from(c));
        }
    }
    out
}

fn spec_text(spec: &Value, style: Style) -> Option<String> {
    if style == Style::Json {
        return Some(json_text(spec));
    }
    let mut out = String::new();
    write_yaml(spec, style, 0, &mut out)?;
    Some(out)
}

type Rendered = Result<Vec<u8>, kubectl_flink::Error>;

fn render(text: &str, overrides: &[Override]) -> Rendered {
    let input = Input { origin: "inject.yaml".into(), text: text.into() };
    let options = RenderOptions { format: Format::Yaml, overrides, ..RenderOptions::default() };
    kubectl_flink::render(&[input], &options).map(|o| o.stdout.into_bytes().expect("in memory"))
}

/// Reads a YAML stream back with kubectl-flink's own (YAML 1.2) reader.
fn read_back(bytes: &[u8]) -> Vec<Value> {
    let text = std::str::from_utf8(bytes).expect("output is UTF-8");
    yaml::parse_documents(text)
        .expect("output is YAML")
        .into_iter()
        .map(|d| d.root.expect("no empty document").to_json().expect("plain scalars resolve"))
        .collect()
}

/// The structure of the output: every string emptied, keys equal to `key` renamed to `as_`.
fn shape(value: &Value, rename: Option<(&str, &str)>) -> Value {
    match value {
        Value::String(_) => Value::String(String::new()),
        Value::Array(items) => Value::Array(items.iter().map(|v| shape(v, rename)).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let k = match rename {
                        Some((from, to)) if k == from => to.to_owned(),
                        _ => k.clone(),
                    };
                    (k, shape(v, rename))
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

fn same_outcome(a: &Rendered, b: &Rendered) -> bool {
    match (a, b) {
        (Ok(a), Ok(b)) => a == b,
        (Err(a), Err(b)) => a.exit_code() == b.exit_code(),
        _ => false,
    }
}

fn describe(outcome: &Rendered) -> String {
    match outcome {
        Ok(bytes) => format!("rendered {} bytes", bytes.len()),
        Err(err) => format!("refused (exit {}): {err}", err.exit_code()),
    }
}

/// Whether the refusal of `value` in `field` is clean: an input error naming the field.
fn refused_cleanly(field: &Field, value: &str, err: &kubectl_flink::Error) -> Result<(), String> {
    let message = err.to_string();
    // A plain (implicit) key is at most 1024 characters long in YAML, JSON included.
    let long_key = matches!(field.target, Target::Key(..)) && value.chars().count() > 1024;
    let named = message.contains(field.path.split('[').next().unwrap())
        || long_key && message.contains("invalid YAML");
    if err.exit_code() == 1 && named {
        Ok(())
    } else {
        Err(format!("refused without naming `{}`: {message}", field.path))
    }
}

/// Checks the output of a spec holding `value` in every field of `fields`.
fn check_output(
    bytes: &[u8],
    fields: &[&Field],
    value: &str,
    harmless: &Value,
) -> Result<(), String> {
    let objects = read_back(bytes);
    // A label key is the only payload that becomes a key of the output.
    let rename = fields.iter().find_map(|f| match f.target {
        Target::Key("/metadata/labels", old) => Some((value, old)),
        _ => None,
    });
    if shape(&Value::Array(objects.clone()), rename) != shape(harmless, None) {
        return Err(format!("the output structure changed:\n{}", String::from_utf8_lossy(bytes)));
    }
    let objects = Objects { all: objects };
    for field in fields {
        if !(field.found)(&objects, &(field.value)(value)) {
            return Err(format!("{}: the value is not verbatim where it belongs", field.path));
        }
    }
    Ok(())
}

/// Checks what does not need a full render: the ways of writing the spec read the same, and
/// `--set` builds the same document (or, typed by YAML rules, ends cleanly).
fn check_spelling(field: &Field, value: &str) -> Result<(), String> {
    let spec = inject(field, value);
    // Where a scalar stands does not change how it reads; a sequence item and a mapping key
    // cover both positions.
    if matches!(field.path, "spec.job.args[1]" | "metadata.annotations") {
        let read = |text: &str| {
            yaml::parse_documents(text).ok().and_then(|mut d| d.pop()?.root?.to_json().ok())
        };
        let json = spec_text(&spec, Style::Json).expect("JSON");
        let long_key = matches!(field.target, Target::Key(..)) && value.chars().count() > 1024;
        match read(&json) {
            None if long_key => {}
            None => return Err("the JSON spec does not read back".into()),
            Some(expected) if expected != spec => {
                return Err("the JSON spec reads differently".into());
            }
            Some(expected) => {
                for style in [Style::DoubleQuoted, Style::SingleQuoted] {
                    if let Some(text) = spec_text(&spec, style)
                        && read(&text).as_ref() != Some(&expected)
                    {
                        return Err(format!(
                            "written {style:?}, the spec reads differently:\n{text}"
                        ));
                    }
                }
            }
        }
    }
    if !field.settable {
        return Ok(());
    }
    let quoted = format!("{}={}", set_path(field), serde_json::to_string(value).unwrap());
    let o: Override = quoted.parse().map_err(|e| format!("--set {quoted:?}: {e}"))?;
    let mut document = base();
    kubectl_flink::overrides::apply(&mut document, &[o])
        .map_err(|e| format!("--set {quoted:?}: {e}"))?;
    if document != spec {
        return Err(format!("--set {quoted:?} builds another document than the file"));
    }
    // Unquoted, the value is typed like a plain YAML scalar (`~` unsets a field): as text it
    // is the quoted case again; typed, it must still end cleanly.
    let is_quoted = value.len() >= 2 && value.starts_with('"') && value.ends_with('"');
    if !is_quoted
        && let Ok(o) = format!("{}={value}", set_path(field)).parse::<Override>()
        && o.value != json!(value)
    {
        let objects = |bytes: &[u8]| {
            std::str::from_utf8(bytes)
                .ok()
                .and_then(|t| yaml::parse_documents(t).ok())
                .map(|d| d.len())
        };
        let base_objects = render(&json_text(&base()), &[]).ok().and_then(|b| objects(&b));
        let clean = match render(&json_text(&base()), &[o]) {
            // Unsetting a field may drop an object (the Ingress), never add one.
            Ok(bytes) => objects(&bytes).is_some_and(|n| Some(n) <= base_objects && n >= 3),
            Err(err) => err.exit_code() <= 2,
        };
        if !clean {
            return Err(format!("--set {}={value:?} (typed) did not end cleanly", set_path(field)));
        }
    }
    Ok(())
}

/// Checks one payload in every field. Fields whose rule accepts it get it all at once (one
/// render for values, one for map keys, which would rename the values' keys); each refusal
/// is checked on its own. Returns the rendered outputs.
fn check_payload(payload: &Payload, harmless: &Value, failures: &mut Vec<String>) -> Vec<Vec<u8>> {
    let fields: Vec<Field> = fields().into_iter().chain(pod_fields()).collect();
    let mut outputs = Vec::new();
    let mut batches = [(base(), Vec::new()), (base(), Vec::new())];
    for field in &fields {
        let value = (field.value)(&payload.value);
        let mut fail =
            |why: String| failures.push(format!("{} ← {}: {why}", field.path, payload.name));
        if let Err(why) = check_spelling(field, &value) {
            fail(why);
        }
        let long_key = matches!(field.target, Target::Key(..)) && value.chars().count() > 1024;
        match field.accepts.map(|accepts| accepts(&value) && !long_key) {
            Some(true) => {
                let single = inject(field, &value);
                let (pointer, batch) = match field.target {
                    Target::Value(pointer) => (pointer, &mut batches[0]),
                    Target::Key(pointer, _) => (pointer, &mut batches[1]),
                };
                *batch.0.pointer_mut(pointer).unwrap() = single.pointer(pointer).unwrap().clone();
                batch.1.push(field);
            }
            must_accept => match render(&json_text(&inject(field, &value)), &[]) {
                Err(err) => {
                    if let Err(why) = refused_cleanly(field, &value, &err) {
                        fail(why);
                    }
                }
                Ok(_) if must_accept == Some(false) => {
                    fail("accepted a value it must refuse".into());
                }
                Ok(bytes) => {
                    if let Err(why) = check_output(&bytes, &[field], &payload.value, harmless) {
                        fail(why);
                    }
                    outputs.push(bytes);
                }
            },
        }
    }
    for (batch, batched) in batches.iter().filter(|(_, fields)| !fields.is_empty()) {
        match render(&json_text(batch), &[]) {
            Err(err) => failures.push(format!(
                "{:?} ← {}: refused a value they must accept: {err}",
                batched.iter().map(|f| f.path).collect::<Vec<_>>(),
                payload.name
            )),
            Ok(bytes) => {
                if let Err(why) = check_output(&bytes, batched, &payload.value, harmless) {
                    failures.push(format!("{} (in {} fields): {why}", payload.name, batched.len()));
                }
                outputs.push(bytes);
            }
        }
    }
    outputs
}

#[test]
fn payloads_in_every_field_never_change_the_structure() {
    let payloads = payloads();
    assert!(payloads.len() >= 50, "only {} payloads", payloads.len());
    let harmless = render(&json_text(&base()), &[]).expect("the base spec renders");
    let harmless = Value::Array(read_back(&harmless));
    // Two threads: the machine has two cores.
    let (mut failures, mut outputs) = (Vec::new(), Vec::new());
    std::thread::scope(|scope| {
        let harmless = &harmless;
        let workers: Vec<_> = payloads
            .chunks(payloads.len().div_ceil(2))
            .map(|chunk| {
                scope.spawn(move || {
                    let (mut failures, mut outputs) = (Vec::new(), Vec::new());
                    for payload in chunk {
                        outputs.extend(check_payload(payload, harmless, &mut failures));
                    }
                    (failures, outputs)
                })
            })
            .collect();
        for worker in workers {
            let (f, o) = worker.join().expect("no panic");
            failures.extend(f);
            outputs.extend(o);
        }
    });
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
    assert!(outputs.len() >= payloads.len(), "only {} outputs", outputs.len());
    outputs.sort();
    outputs.dedup();
    check_with_pyyaml(&outputs);
}

/// `--set` with a quoted value renders byte for byte what the spec file does.
#[test]
fn set_renders_what_the_file_renders() {
    let field = fields().into_iter().find(|f| f.path == "spec.job.args[1]").unwrap();
    for payload in payloads() {
        let from_file = render(&json_text(&inject(&field, &payload.value)), &[]);
        let arg = format!("spec.job.args[1]={}", serde_json::to_string(&payload.value).unwrap());
        let via_set = render(&json_text(&base()), &[arg.parse().unwrap()]);
        assert!(same_outcome(&from_file, &via_set), "{}: {}", payload.name, describe(&via_set));
    }
}

/// The Python whose `PyYAML` reads the outputs: `PYYAML_PYTHON` (`scripts/test` exports its
/// venv's), else the venv `scripts/test` creates (`${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-flink/
/// venv`, which installs `pyyaml`). Outside `CI` only, `python3` on `PATH` stands in for a
/// missing venv. The second value says where it came from, for the messages.
pub fn pyyaml_python() -> (PathBuf, String) {
    if let Some(python) = std::env::var_os("PYYAML_PYTHON") {
        return (python.into(), "PYYAML_PYTHON".into());
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))
        .unwrap_or_default();
    let venv = cache.join("kubectl-flink/venv/bin/python3");
    if venv.exists() || std::env::var_os("CI").is_some() {
        return (venv, "the test venv".into());
    }
    ("python3".into(), "python3 on PATH (no test venv; run scripts/test to create it)".into())
}

/// `PyYAML` reads YAML 1.1, as kubectl's go-yaml does (`on` is a boolean, U+2028 a line break):
/// every accepted output must read the same there. Under `CI` a missing `PyYAML` fails the test.
pub fn check_with_pyyaml(outputs: &[Vec<u8>]) {
    let (python, from) = pyyaml_python();
    let probe = Command::new(&python).args(["-c", "import yaml; print(yaml.__version__)"]).output();
    if !probe.as_ref().is_ok_and(|o| o.status.success()) {
        let why = format!(
            "{} ({from}) has no PyYAML: {}",
            python.display(),
            probe.map_or_else(
                |e| e.to_string(),
                |o| String::from_utf8_lossy(&o.stderr).into_owned()
            )
        );
        assert!(
            std::env::var_os("CI").is_none(),
            "{why}\nUnder CI the outputs must be read by a YAML 1.1 parser: run scripts/test \
             (its venv installs pyyaml) or set PYYAML_PYTHON"
        );
        eprintln!("SKIPPED: {why}; outputs not read by a YAML 1.1 parser");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for (i, bytes) in outputs.iter().enumerate() {
        std::fs::write(dir.path().join(format!("{i}.yaml")), bytes).unwrap();
        let ours = serde_json::to_string(&read_back(bytes)).unwrap();
        std::fs::write(dir.path().join(format!("{i}.json")), ours).unwrap();
    }
    let script = r#"
import json, sys, yaml
# libyaml, when PyYAML has it: the C parser go-yaml was ported from.
Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
bad = []
for i in range(int(sys.argv[2])):
    base = sys.argv[1] + "/" + str(i)
    try:
        theirs = list(yaml.load_all(open(base + ".yaml", encoding="utf-8"), Loader=Loader))
    except yaml.YAMLError as err:
        bad.append(base + ".yaml: " + str(err)); continue
    if theirs != json.load(open(base + ".json", encoding="utf-8")):
        bad.append(base + ".yaml reads differently")
print("\n".join(bad))
sys.exit(1 if bad else 0)
"#;
    let out = Command::new(&python)
        .args(["-c", script])
        .arg(dir.path())
        .arg(outputs.len().to_string())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "PyYAML reads the output differently:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `kubectl kustomize` (kubectl's own YAML reader and writer) keeps every payload verbatim.
#[test]
fn kubectl_reads_every_payload_verbatim() {
    if !Command::new("kubectl")
        .arg("version")
        .arg("--client")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        eprintln!("SKIPPED: kubectl not found");
        return;
    }
    // kustomize writes U+2028, U+2029 and U+0085 raw, as the YAML 1.1 line breaks they are
    // there, which our YAML 1.2 reader reads otherwise (PyYAML checks how a 1.1 reader reads
    // our own output); and it writes DEL, C1 controls and U+FFFE/U+FFFF raw too, after
    // reading our escapes right, then refuses its own output ("control characters are not
    // allowed"): limits of kustomize's writer, not of the output.
    let kustomize_cannot = |c: char| {
        matches!(c, '\u{7f}'..='\u{9f}' | '\u{2028}' | '\u{2029}' | '\u{fffe}' | '\u{ffff}')
    };
    let values: Vec<String> =
        payloads().into_iter().map(|p| p.value).filter(|v| !v.contains(kustomize_cannot)).collect();
    let mut spec = base();
    spec["spec"]["job"]["args"] = json!(values);
    let rendered = render(&json_text(&spec), &[]).expect("job args accept anything");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("cluster.yaml"), &rendered).unwrap();
    std::fs::write(
        dir.path().join("kustomization.yaml"),
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- cluster.yaml\n",
    )
    .unwrap();
    let out = Command::new("kubectl").arg("kustomize").arg(dir.path()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let objects = Objects { all: read_back(&out.stdout) };
    let args = objects.job_args();
    let read = &args[args.len() - values.len()..];
    let differ: Vec<_> = values.iter().zip(read).filter(|(a, b)| a != b).collect();
    assert!(differ.is_empty(), "kubectl read (written, read): {differ:?}");
}

/// Whether `render --help` lists a flag (flags added by other work are tested once present).
pub fn render_has_flag(flag: &str) -> bool {
    let help = run(&["render", "--help"], None);
    let has = String::from_utf8_lossy(&help.stdout).contains(flag);
    if !has {
        eprintln!("NOTE: `render {flag}` does not exist yet; its injection cases did not run");
    }
    has
}

/// An env-file line setting `name` to exactly `value` (double quotes, with the escapes the
/// env-file format reads).
fn env_file_line(name: &str, value: &str) -> String {
    let mut out = format!("{name}=\"");
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push_str("\"\n");
    out
}

/// `--var` and `--env-file` values are substituted as text inside the scalar that references
/// them: the output is exactly the output of the value written into the spec.
#[test]
fn variables_never_change_the_structure() {
    let with_var = render_has_flag("--var");
    let with_env_file = render_has_flag("--env-file");
    if !with_var && !with_env_file {
        return;
    }
    let field_sets: [&[&str]; 2] = [
        &[
            "/spec/job/args/1",
            "/metadata/annotations/note",
            "/spec/flinkConfiguration/custom.option",
        ],
        &["/spec/image", "/spec/savepointDir", "/spec/highAvailability/storageDir"],
    ];
    let check = |payload: &Payload, dir: &std::path::Path, failures: &mut Vec<String>| {
        // Arguments and env files are text without NUL.
        if payload.value.contains('\0') {
            return;
        }
        // An env file is one more way to the same substitution: one field set is enough.
        for (set, pointers) in field_sets.iter().enumerate() {
            let mut template = base();
            let mut expected = base();
            for pointer in *pointers {
                *template.pointer_mut(pointer).unwrap() = json!("${INJECT}");
                *expected.pointer_mut(pointer).unwrap() = json!(payload.value);
            }
            let expected = render(&json_text(&expected), &[]);
            let spec = dir.join("spec.yaml");
            std::fs::write(&spec, template.to_string()).unwrap();
            let spec = spec.to_str().unwrap();
            let env_file = dir.join("vars.env");
            std::fs::write(&env_file, env_file_line("INJECT", &payload.value)).unwrap();
            let var = format!("INJECT={}", payload.value);
            let mut runs = Vec::new();
            if with_var {
                runs.push(("--var", run(&["render", "-f", spec, "--var", &var], None)));
            }
            if with_env_file && set == 0 {
                let args = ["render", "-f", spec, "--env-file", env_file.to_str().unwrap()];
                runs.push(("--env-file", run(&args, None)));
            }
            for (how, out) in runs {
                let same = match &expected {
                    Ok(bytes) => out.status.success() && &out.stdout == bytes,
                    Err(_) => out.status.code() == Some(1) && out.stdout.is_empty(),
                };
                if !same {
                    failures.push(format!(
                        "{how} {} in {pointers:?}: exit {:?}, {} bytes, expected {}: {}",
                        payload.name,
                        out.status.code(),
                        out.stdout.len(),
                        describe(&expected),
                        String::from_utf8_lossy(&out.stderr)
                    ));
                }
            }
        }
    };
    let payloads = payloads();
    let mut failures = Vec::new();
    std::thread::scope(|scope| {
        let workers: Vec<_> = payloads
            .chunks(payloads.len().div_ceil(2))
            .map(|chunk| {
                scope.spawn(move || {
                    let dir = tempfile::tempdir().unwrap();
                    let mut failures = Vec::new();
                    for payload in chunk {
                        check(payload, dir.path(), &mut failures);
                    }
                    failures
                })
            })
            .collect();
        for worker in workers {
            failures.extend(worker.join().expect("no panic"));
        }
    });
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

/// A handful of payloads through the real command line, where argv carries them.
#[test]
fn set_on_the_command_line_never_changes_the_structure() {
    let spec = json_text(&base());
    for payload in payloads().iter().filter(|p| !p.value.contains('\0')).take(40) {
        let quoted = serde_json::to_string(&payload.value).unwrap();
        let args = format!("spec.job.args[1]={quoted}");
        let out = run(&["render", "-f", "-", "--set", &args], Some(spec.as_bytes()));
        let mut expected = base();
        expected["spec"]["job"]["args"][1] = json!(payload.value);
        let expected = render(&json_text(&expected), &[]).expect("job args accept anything");
        assert!(out.status.success(), "{}: {}", payload.name, String::from_utf8_lossy(&out.stderr));
        assert_eq!(out.stdout, expected, "{}", payload.name);
    }
}

/// `--set` on a Flink option keeps the text typed, as the file does: `0.50` stays `0.50`, and
/// a number or boolean is not refused.
#[test]
fn issue_8_set_flink_options_keep_their_text() {
    for (raw, arg) in
        [("0.50", "-Da=0.50"), ("true", "-Da=true"), ("3", "-Da=3"), ("1e3", "-Da=1e3")]
    {
        let o: Override = format!("spec.flinkConfiguration[a]={raw}").parse().unwrap();
        let out = render(&json_text(&base()), &[o]).unwrap_or_else(|e| panic!("{raw}: {e}"));
        assert!(Objects { all: read_back(&out) }.has_arg(arg), "{raw}");
    }
}
