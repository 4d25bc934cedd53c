//! Reading a spec from a document: the header first, then serde, with every failure turned
//! into a [`Diagnostic`] at the field's path and worded for the user.

use serde_json::Value;

use super::{API_VERSION, FlinkCluster, KINDS, strict};
use crate::error::{Diagnostic, path};
use crate::yaml::PathSegment;

/// Checks the header (`apiVersion`, `kind`) before the body is read, so a wrong kind is
/// reported as such rather than as a pile of unknown fields.
pub fn check_header(document: &Value) -> Result<(), Diagnostic> {
    let Some(object) = document.as_object() else {
        return Err(Diagnostic::field(
            vec![],
            "a spec must be a mapping with apiVersion, kind, metadata and spec",
        ));
    };
    match object.get("apiVersion") {
        Some(Value::String(v)) if v == API_VERSION => {}
        Some(other) => {
            return Err(Diagnostic::field(
                path(&["apiVersion"]),
                format!("must be `{API_VERSION}` (got {other})"),
            )
            .with_help(format!("set `apiVersion: {API_VERSION}`")));
        }
        None => {
            return Err(misspelt(object, "apiVersion").unwrap_or_else(|| {
                Diagnostic::field(vec![], "missing field `apiVersion`")
                    .with_help(format!("add `apiVersion: {API_VERSION}`"))
            }));
        }
    }
    match object.get("kind") {
        Some(Value::String(k)) if KINDS.contains(&k.as_str()) => Ok(()),
        Some(other) => {
            let mut problem = Diagnostic::field(
                path(&["kind"]),
                format!("unsupported kind {other}; this version renders {}", KINDS.join(", ")),
            );
            if let Some(k) =
                other.as_str().and_then(|k| crate::error::did_you_mean(k, KINDS.iter().copied()))
            {
                problem = problem.with_help(format!("did you mean `{k}`?"));
            }
            Err(problem)
        }
        None => Err(misspelt(object, "kind").unwrap_or_else(|| {
            Diagnostic::field(vec![], "missing field `kind`").with_help("add `kind: FlinkCluster`")
        })),
    }
}

/// A key that looks like a misspelling of the missing header `field` (`apiversion`, `Kind`).
fn misspelt(object: &serde_json::Map<String, Value>, field: &str) -> Option<Diagnostic> {
    let typo = object.keys().find(|k| crate::error::did_you_mean(k, [field]).is_some())?;
    Some(
        Diagnostic::field(path(&[typo]), format!("unknown field `{typo}`"))
            .with_help(format!("did you mean `{field}`?")),
    )
}

/// The first problem of [`deserialize_all`]: what one pass of serde reports.
#[cfg(test)]
pub fn deserialize(document: Value) -> Result<FlinkCluster, Diagnostic> {
    deserialize_all(document).map_err(|problems| problems.into_iter().next().expect("a problem"))
}

/// Most problems one document reports from reading; each costs another pass.
const MAX_PROBLEMS: usize = 50;

/// Deserializes a document into a spec, reporting every field serde refuses, not only the
/// first. Serde fills a struct from a sequence by position (`zookeeper: [zk:2181]` would set
/// `quorum`), so the document is read through [`strict::Strict`], which refuses a sequence
/// wherever a type wants a mapping, at any depth. After each refusal the value is taken out
/// of the document (a missing field is filled with a placeholder) and the document is read
/// again, until it reads or a refusal cannot be got past. The problems are in the order serde
/// met them; the caller sorts them by line.
pub fn deserialize_all(document: Value) -> Result<FlinkCluster, Vec<Diagnostic>> {
    let mut document = document;
    let mut problems = Vec::new();
    // What was taken out or filled in: a refusal at or below one of these is its consequence.
    let mut touched: Vec<Vec<PathSegment>> = Vec::new();
    loop {
        let err = match serde_path_to_error::deserialize(strict::Strict(&document)) {
            Ok(cluster) if problems.is_empty() => return Ok(cluster),
            Ok(_) => break,
            Err(err) => err,
        };
        if problems.len() == MAX_PROBLEMS {
            problems.push(Diagnostic::new(format!(
                "this document has more than {MAX_PROBLEMS} such problems; the rest are not shown"
            )));
            break;
        }
        let mut path = err.path().iter().filter_map(segment).collect::<Vec<_>>();
        let message = err.into_inner().to_string();
        let missing = quoted(&message, "missing field `");
        let field = missing.or_else(|| quoted(&message, "unknown field `"));
        if let Some(field) = field
            && path.last() != Some(&PathSegment::Key(field.to_owned()))
        {
            path.push(PathSegment::Key(field.to_owned()));
        }
        if touched.iter().any(|t| path.starts_with(t)) {
            break;
        }
        let at = if missing.is_some() { &path[..path.len() - 1] } else { &path[..] };
        problems.push(explain_serde_error(at.to_vec(), &message));
        if missing.is_none() {
            // An item of a list goes with its list: taking it out would renumber the others.
            while matches!(path.last(), Some(PathSegment::Index(_))) {
                path.pop();
            }
        }
        let went_on = if missing.is_some() {
            fill(&mut document, &path)
        } else {
            take_out(&mut document, &path)
        };
        if !went_on {
            break;
        }
        touched.push(path);
    }
    Err(problems)
}

/// The text between `prefix` and the next backtick, when `message` starts with `prefix`.
fn quoted<'m>(message: &'m str, prefix: &str) -> Option<&'m str> {
    message.strip_prefix(prefix)?.split('`').next()
}

/// The mapping that holds the last key of `path`, and that key.
fn parent_of<'d>(
    document: &'d mut Value,
    path: &[PathSegment],
) -> Option<(&'d mut serde_json::Map<String, Value>, String)> {
    let (PathSegment::Key(last), parents) = path.split_last()? else { return None };
    let mut node = document;
    for segment in parents {
        node = match segment {
            PathSegment::Key(key) => node.as_object_mut()?.get_mut(key)?,
            PathSegment::Index(index) => node.as_array_mut()?.get_mut(*index)?,
        };
    }
    Some((node.as_object_mut()?, last.clone()))
}

fn take_out(document: &mut Value, path: &[PathSegment]) -> bool {
    parent_of(document, path).is_some_and(|(map, key)| map.remove(&key).is_some())
}

fn fill(document: &mut Value, path: &[PathSegment]) -> bool {
    parent_of(document, path)
        .is_some_and(|(map, key)| map.insert(key, Value::String(String::new())).is_none())
}

pub(super) fn segment(seg: &serde_path_to_error::Segment) -> Option<PathSegment> {
    match seg {
        serde_path_to_error::Segment::Map { key } => Some(PathSegment::Key(key.clone())),
        serde_path_to_error::Segment::Seq { index } => Some(PathSegment::Index(*index)),
        serde_path_to_error::Segment::Enum { variant } => Some(PathSegment::Key(variant.clone())),
        serde_path_to_error::Segment::Unknown => None,
    }
}

pub(super) fn explain_serde_error(path: Vec<PathSegment>, message: &str) -> Diagnostic {
    // serde says: "unknown field `replica`, expected one of `replicas`, `slots`"
    //        and: "unknown variant `Nodeport`, expected one of `NodePort`, ..."
    let quoted: Vec<&str> = message.split('`').skip(1).step_by(2).collect();
    if let Some((word, expected)) = quoted.split_first()
        && (message.starts_with("unknown field") || message.starts_with("unknown variant"))
    {
        let what = if message.starts_with("unknown field") { "field" } else { "value" };
        let mut problem = Diagnostic::field(path, format!("unknown {what} `{word}`"));
        let choices = expected.iter().map(|e| format!("`{e}`")).collect::<Vec<_>>().join(", ");
        problem = match crate::error::did_you_mean(word, expected.iter().copied()) {
            Some(close) => {
                problem.with_help(format!("did you mean `{close}`? expected one of {choices}"))
            }
            None if expected.is_empty() => problem.with_help("this field takes no keys"),
            None => problem.with_help(format!("expected one of {choices}")),
        };
        return problem;
    }
    if message.starts_with("data did not match any variant of untagged enum QuantityText") {
        return Diagnostic::field(
            path,
            "must be a Kubernetes quantity such as \"1\", \"500m\" or \"1600Mi\"",
        );
    }
    if message.starts_with("data did not match any variant of untagged enum ConfigValue") {
        return Diagnostic::field(
            path,
            "a Flink option value must be a string, number, boolean or nested map",
        )
        .with_help("write lists the way Flink reads them, e.g. \"a;b;c\"");
    }
    let sequence_for_map =
        message.strip_prefix("invalid type: sequence, expected ") == Some(strict::EXPECTED);
    let message = crate::error::type_error_in_words(message);
    let mut problem = Diagnostic::field(path, message.clone());
    if sequence_for_map {
        problem = problem.with_help("write `key: value` entries here, not a `- item` list");
    } else if message.contains("expected a string") && message.contains("got floating point") {
        problem =
            problem.with_help("quote the value, e.g. \"1.20\": a plain 1.20 is the number 1.2");
    } else if message.contains("expected a string") {
        problem = problem.with_help("quote the value to make it a string");
    }
    problem
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::key;
    use crate::spec::JOB_CLUSTER;

    #[test]
    fn issue_19_no_rust_type_names_in_type_errors() {
        for (serde, shown) in [
            (
                "invalid type: string \"x\", expected i64",
                "wrong type: got string \"x\", expected a whole number",
            ),
            (
                "invalid type: integer `-1`, expected u32",
                "wrong type: got integer `-1`, expected a whole number ≥ 0",
            ),
            ("invalid type: map, expected a sequence", "wrong type: got a map, expected a list"),
            (
                "invalid type: sequence, expected a mapping",
                "wrong type: got a list, expected a map",
            ),
            (
                "invalid type: string \"yes\", expected a boolean",
                "wrong type: got string \"yes\", expected true or false",
            ),
            (
                "invalid type: string \"x\", expected struct Pair",
                "wrong type: got string \"x\", expected a map",
            ),
            (
                "invalid type: boolean `true`, expected f64",
                "wrong type: got boolean `true`, expected a number",
            ),
            (
                "invalid type: unit value, expected a string",
                "wrong type: got null, expected a string",
            ),
        ] {
            let problem = explain_serde_error(vec![key("spec")], serde);
            assert_eq!(problem.message, shown, "{serde}");
        }
    }

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
                Diagnostic::field(path, "wrong type: got a list, expected a map")
                    .with_help("write `key: value` entries here, not a `- item` list"),
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
            ("spec.image", json!(["flink"]), "wrong type: got a list, expected a string"),
            ("spec.job.args[0]", json!(["a"]), "wrong type: got a list, expected a string"),
            (
                "spec.imagePullPolicy",
                json!(["Always"]),
                "wrong type: got a list, expected a string or a map",
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
}
