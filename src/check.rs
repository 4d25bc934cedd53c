//! Rendered documents → Kubernetes objects, checked the way the API server would.
//!
//! Each document is parsed, deserialized into its `k8s-openapi` type and serialized back.
//! k8s-openapi ignores unknown keys, so the two JSON trees are compared (`same` first checks,
//! without building the second tree, whether they are identical): a field that got lost
//! (misspelt in a template) or changed is an error naming the template and JSON path.
//! Then what schema validation does not check: DNS names, label syntax, selectors that match
//! their pods, unique port names.

use std::fmt::Write as _;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{ConfigMap, Service, ServiceAccount};
use k8s_openapi::api::networking::v1::Ingress;
use k8s_openapi::api::rbac::v1::{Role, RoleBinding};

use crate::error::{Diagnostic, Error, ErrorKind};
use crate::k8s::names;
use crate::render::Document;
use crate::yaml;

mod same;

/// A checked object, as the JSON it serializes to.
#[derive(Debug, Clone, PartialEq)]
pub struct Object {
    pub value: Value,
}

/// Checks every rendered document.
pub fn check(documents: &[Document]) -> Result<Vec<Object>, Error> {
    documents.iter().map(check_one).collect()
}

fn fail(document: &Document, message: impl Into<String>) -> Error {
    let origin = if document.user {
        format!("template {}", document.template)
    } else {
        format!("built-in template {}", document.template)
    };
    Error {
        kind: if document.user { ErrorKind::Input } else { ErrorKind::Internal },
        diagnostics: vec![Diagnostic::new(format!("{origin}: {}", message.into())).with_help(
            if document.user {
                "fix the template: its output must be exactly one valid Kubernetes object"
            } else {
                "this is a bug in kubectl-flink; please report it with the spec that caused it"
            },
        )],
    }
}

fn check_one(document: &Document) -> Result<Object, Error> {
    let (value, retyped) = read_typed(document)?;
    let typed = retyped.unwrap_or(value);
    let kind = typed["kind"].as_str().unwrap_or_default();
    check_semantics(&typed, kind).map_err(|e| fail(document, e))?;
    Ok(Object { value: typed })
}

/// Whether the document's object is exactly what its k8s-openapi type serializes it to, so the
/// check builds no second tree. True for everything the built-in templates print (tested).
pub fn is_typed_as_printed(document: &Document) -> Result<bool, Error> {
    Ok(read_typed(document)?.1.is_none())
}

/// The document's object, and its k8s-openapi type's serialization of it when that differs
/// (by vacuous fields only: anything else is an error).
fn read_typed(document: &Document) -> Result<(Value, Option<Value>), Error> {
    let mut value = read(document)?;
    if let Some((template, main)) = &document.pod_template {
        crate::k8s::pod::merge_template(&mut value, template, main);
    }
    let api_version = value.get("apiVersion").and_then(Value::as_str).unwrap_or_default();
    let kind = value.get("kind").and_then(Value::as_str).unwrap_or_default();
    let retyped = match (api_version, kind) {
        ("batch/v1", "Job") => retyped::<Job>(&value),
        ("v1", "Service") => retyped::<Service>(&value),
        ("apps/v1", "Deployment") => retyped::<Deployment>(&value),
        ("v1", "ConfigMap") => retyped::<ConfigMap>(&value),
        ("v1", "ServiceAccount") => retyped::<ServiceAccount>(&value),
        ("rbac.authorization.k8s.io/v1", "Role") => retyped::<Role>(&value),
        ("rbac.authorization.k8s.io/v1", "RoleBinding") => retyped::<RoleBinding>(&value),
        ("networking.k8s.io/v1", "Ingress") => retyped::<Ingress>(&value),
        _ => return Err(fail(document, format!("unsupported object {api_version} {kind}"))),
    }
    .map_err(|refusal| {
        fail(
            document,
            match refusal {
                Refusal::Invalid(message) => message,
                Refusal::Unknown(path) => format!(
                    "field `{path}` is not part of {api_version} {kind} (misspelt or misplaced?)"
                ),
            },
        )
    })?;
    Ok((value, retyped))
}

/// The document's one YAML object, as JSON. What templates usually print takes the fast
/// reader; anything else, and every error message, comes from the full parser. User templates
/// take the fast reader too: it accepts only what it reads exactly as the full parser does.
fn read(document: &Document) -> Result<Value, Error> {
    if let Some(value) = yaml::block::to_json(&document.text) {
        return Ok(value);
    }
    let mut parsed = yaml::parse_documents(&document.text)
        .map_err(|e| fail(document, format!("output is not YAML: {e} at line {}", e.pos.line)))?;
    let (1, Some(root)) = (parsed.len(), parsed.pop().and_then(|d| d.root)) else {
        return Err(fail(document, "must render exactly one YAML document"));
    };
    root.to_json().map_err(|e| fail(document, format!("{e} at line {}", e.pos.line)))
}

/// Reads `value` as the Kubernetes type `T`, strictly: a field `T` does not have is an error
/// naming its path (k8s-openapi alone would drop it silently).
pub fn exact<T: DeserializeOwned + Serialize>(value: &Value) -> Result<(), String> {
    match retyped::<T>(value) {
        Ok(_) => Ok(()),
        Err(Refusal::Invalid(message)) => Err(message),
        Err(Refusal::Unknown(path)) => {
            Err(format!("`{path}` is not a field of this Kubernetes type"))
        }
    }
}

/// Why a tree is not an object of a Kubernetes type.
enum Refusal {
    /// It does not deserialize: a wrong type or a missing field, with its path.
    Invalid(String),
    /// The path of a field the type does not have, or that it reads as something else.
    Unknown(String),
}

/// `value` as the JSON of the Kubernetes type `T`: `None` when `T` serializes back to exactly
/// `value` (templates print no null or empty fields, so almost always), else `T`'s
/// serialization, provided all it dropped is vacuous.
fn retyped<T: DeserializeOwned + Serialize>(value: &Value) -> Result<Option<Value>, Refusal> {
    // `&Value` is a deserializer itself: no copy of the object tree. Tracking the path costs
    // an allocation per key, so it is only done to explain a failure.
    let object = T::deserialize(value).or_else(|_| {
        serde_path_to_error::deserialize::<_, T>(value)
            .map_err(|e| Refusal::Invalid(format!("{}: {}", e.path(), e.inner())))
    })?;
    if same::serializes_to(&object, value) {
        return Ok(None);
    }
    let typed = serde_json::to_value(&object).map_err(|e| Refusal::Invalid(e.to_string()))?;
    match first_difference(value, &typed, "") {
        Some(path) => Err(Refusal::Unknown(path)),
        None => Ok(Some(typed)),
    }
}

/// Whether a field carries no meaning in a manifest: null, an empty list, or a map of such
/// fields only. The comparison skips them (without copying either tree to prune them).
fn is_vacuous(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Object(map) => map.values().all(is_vacuous),
        Value::Array(items) => items.is_empty(),
        _ => false,
    }
}

fn first_difference(original: &Value, typed: &Value, at: &str) -> Option<String> {
    let mut steps = Vec::new();
    if !differs(original, typed, &mut steps) {
        return None;
    }
    let mut path = at.to_owned();
    for step in steps {
        match step {
            Step::Key(key) => {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
            }
            Step::Index(i) => {
                let _ = write!(path, "[{i}]");
            }
        }
    }
    Some(path)
}

/// One step of a JSON path.
enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

/// Whether the trees differ, vacuous fields aside; `steps` then leads to the first
/// difference. The path is only spelt out for that difference: this walks every field of
/// every object rendered.
fn differs<'a>(original: &'a Value, typed: &Value, steps: &mut Vec<Step<'a>>) -> bool {
    match (original, typed) {
        (Value::Object(a), Value::Object(b)) => {
            a.iter().filter(|(_, v)| !is_vacuous(v)).any(|(k, v)| {
                steps.push(Step::Key(k));
                let found = match (b.get(k).filter(|w| !is_vacuous(w)), v) {
                    (Some(w), _) => differs(v, w, steps),
                    // Name the unknown field itself, not the object that lost all its fields.
                    (None, Value::Object(_)) => {
                        differs(v, &Value::Object(serde_json::Map::new()), steps)
                    }
                    (None, _) => true,
                };
                found || steps.pop().is_none()
            })
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            a.iter().zip(b).enumerate().any(|(i, (v, w))| {
                steps.push(Step::Index(i));
                differs(v, w, steps) || steps.pop().is_none()
            })
        }
        (a, b) => a != b,
    }
}

fn check_semantics(value: &Value, kind: &str) -> Result<(), String> {
    let metadata = &value["metadata"];
    let name = metadata["name"].as_str().unwrap_or_default();
    if kind == "Service" {
        names::check_dns1035_label(name)
    } else {
        names::check_dns_subdomain(name)
    }
    .map_err(|e| format!("metadata.name {e}"))?;
    check_labels(&metadata["labels"], "metadata.labels")?;
    let spec = &value["spec"];
    match kind {
        "Job" => check_pod(&spec["template"], "spec.template"),
        "Deployment" => {
            check_pod(&spec["template"], "spec.template")?;
            check_selects(
                &spec["selector"]["matchLabels"],
                &spec["template"]["metadata"]["labels"],
                "spec.selector.matchLabels",
            )
        }
        "Service" => {
            if spec["selector"].as_object().is_none_or(serde_json::Map::is_empty) {
                return Err("spec.selector must not be empty".into());
            }
            unique_names(&spec["ports"], "spec.ports")
        }
        _ => Ok(()),
    }
}

fn check_pod(template: &Value, at: &str) -> Result<(), String> {
    // `template` is part of the typed object just serialized, so it is a valid
    // `PodTemplateSpec` whenever it is there; it is missing when the workload has no spec.
    if !template.is_object() {
        return Err(format!("{at} is missing"));
    }
    check_labels(&template["metadata"]["labels"], &format!("{at}.metadata.labels"))?;
    let containers =
        template["spec"]["containers"].as_array().map(Vec::as_slice).unwrap_or_default();
    if containers.is_empty() {
        return Err(format!("{at}.spec.containers must not be empty"));
    }
    unique_names(&template["spec"]["containers"], &format!("{at}.spec.containers"))?;
    for (i, container) in containers.iter().enumerate() {
        unique_names(&container["ports"], &format!("{at}.spec.containers[{i}].ports"))?;
    }
    Ok(())
}

fn check_labels(labels: &Value, at: &str) -> Result<(), String> {
    for (key, value) in labels.as_object().into_iter().flatten() {
        names::check_label_key(key).map_err(|e| format!("{at}: {e}"))?;
        names::check_label_value(value.as_str().unwrap_or_default())
            .map_err(|e| format!("{at}: {e}"))?;
    }
    Ok(())
}

fn check_selects(selector: &Value, labels: &Value, at: &str) -> Result<(), String> {
    let selector =
        selector.as_object().filter(|s| !s.is_empty()).ok_or(format!("{at} must not be empty"))?;
    for (key, value) in selector {
        if labels.get(key) != Some(value) {
            return Err(format!("{at} `{key}` does not match the pod template's labels"));
        }
    }
    Ok(())
}

fn unique_names(items: &Value, at: &str) -> Result<(), String> {
    let mut seen = std::collections::BTreeSet::new();
    for item in items.as_array().into_iter().flatten() {
        if let Some(name) = item["name"].as_str()
            && !seen.insert(name)
        {
            return Err(format!("{at}: name `{name}` is used twice"));
        }
    }
    Ok(())
}

/// Checks across objects: every Service selects a workload's pods.
pub fn check_services_select_pods(objects: &[Object]) -> Result<(), Error> {
    let pod_labels: Vec<&Value> = objects
        .iter()
        .filter(|o| matches!(o.value["kind"].as_str(), Some("Job" | "Deployment")))
        .map(|o| &o.value["spec"]["template"]["metadata"]["labels"])
        .collect();
    for service in objects.iter().filter(|o| o.value["kind"] == "Service") {
        let selector = service.value["spec"]["selector"].as_object().cloned().unwrap_or_default();
        let selects =
            pod_labels.iter().any(|labels| selector.iter().all(|(k, v)| labels.get(k) == Some(v)));
        if !selects {
            let name = service.value["metadata"]["name"].as_str().unwrap_or_default();
            return Err(Error::internal(format!(
                "Service `{name}` selects no pod of this cluster"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str) -> Document {
        Document { template: "t.yaml.j2".into(), user: true, text: text.into(), pod_template: None }
    }

    #[test]
    fn wrong_types_are_explained_with_their_path() {
        let err = check_one(&doc(
            "apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec: {selector: {a: b}, ports: [{port: eighty}]}\n",
        ))
        .unwrap_err();
        assert!(err.to_string().contains("spec.ports[0].port: invalid type: string"), "{err}");
    }

    #[test]
    fn misspelt_fields_are_caught() {
        let err = check_one(&doc(
            "apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec: {selector: {a: b}, typo: 1}\n",
        ))
        .unwrap_err();
        assert!(err.to_string().contains("field `spec.typo` is not part of v1 Service"), "{err}");
        assert_eq!(err.exit_code(), 1);
    }

    #[test]
    fn selectors_must_match_pod_labels() {
        let err = check_one(&doc(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\nspec:\n  selector: {matchLabels: {x: y}}\n  template:\n    metadata: {labels: {x: z}}\n    spec: {containers: [{name: c, image: i}]}\n",
        ))
        .unwrap_err();
        assert!(err.to_string().contains("does not match"), "{err}");
    }

    #[test]
    fn comparison_ignores_nulls_and_empty_collections_only() {
        use serde_json::json;
        let typed = json!({"a": {"b": 1}, "l": [{}, {"x": 1}]});
        let same = json!({"a": {"b": 1, "n": null, "e": {"f": [], "g": {}}}, "l": [{"y": null}, {"x": 1}], "z": {}});
        assert_eq!(first_difference(&same, &typed, ""), None);
        let lost = json!({"a": {"b": 1, "typo": {"c": 2}}, "l": [{}, {"x": 1}]});
        assert_eq!(first_difference(&lost, &typed, "").as_deref(), Some("a.typo.c"));
        let changed = json!({"a": {"b": 2}, "l": [{}, {"x": 1}]});
        assert_eq!(first_difference(&changed, &typed, "").as_deref(), Some("a.b"));
        let in_list = json!({"a": {"b": 1}, "l": [{}, {"x": 1, "y": 0}]});
        assert_eq!(first_difference(&in_list, &typed, "").as_deref(), Some("l[1].y"));
    }

    #[test]
    fn yaml_errors_come_from_the_full_parser() {
        let service = "apiVersion: v1\nkind: Service\nmetadata: {\"name\":\"a\"}\n";
        for (text, want) in [
            (format!("{service}spec: {{\"selector\":{{\"a\":\"b\"}}\n"), "output is not YAML"),
            (format!("{service}---\n{service}"), "must render exactly one YAML document"),
            (format!("{service}spec:\n  x: .inf\n"), "`.inf` is not a finite number"),
        ] {
            assert_eq!(yaml::block::to_json(&text), None);
            let err = check_one(&doc(&text)).unwrap_err();
            assert!(err.to_string().contains(want), "{err}");
        }
    }

    #[test]
    fn template_output_takes_the_fast_reader() {
        let text = "apiVersion: v1\nkind: Service\nmetadata:\n  name: \"a\"\nspec:\n  selector: {\"a\":\"b\"}\n  ports:\n  - name: \"ui\"\n    port: 8081\n";
        assert!(yaml::block::to_json(text).is_some());
        let object = check_one(&doc(text)).unwrap();
        assert_eq!(object.value["spec"]["ports"][0]["port"], 8081);
    }

    #[test]
    fn a_job_needs_a_pod_template() {
        // A Job's spec is optional in k8s-openapi (a Deployment's is not).
        let err =
            check_one(&doc("apiVersion: batch/v1\nkind: Job\nmetadata: {name: a}\n")).unwrap_err();
        assert!(err.to_string().contains("spec.template is missing"), "{err}");
    }

    #[test]
    fn bad_names_are_caught() {
        let err = check_one(&doc(
            "apiVersion: v1\nkind: Service\nmetadata: {name: A_b}\nspec: {selector: {a: b}}\n",
        ))
        .unwrap_err();
        assert!(err.to_string().contains("metadata.name"), "{err}");
    }
}
