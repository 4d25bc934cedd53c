//! Rendered documents → Kubernetes objects, checked the way the API server would.
//!
//! Each document is read into JSON (the built-in templates print JSON, read by `serde_json`; a
//! user's template, any YAML, by the one YAML reader), the pod template is merged in, and
//! the object is deserialized into its k8s-openapi type by `(apiVersion, kind)`. k8s-openapi
//! skips keys its types lack, so the deserializer is wrapped by `serde_ignored`, which reports
//! every skipped key with its path: one holding anything but null or empty collections is an
//! error naming the template and JSON path (a misspelt or misplaced field). A user template's
//! object must also serialize back to the tree it was read from, nulls and empty fields aside,
//! since nobody knows what it prints. The built-in templates print only what their types
//! serialize back unchanged, which tests prove for every example and generated spec, so their
//! objects are read through their types only when a user's pod template was merged in. Then
//! what schema validation does not check: DNS names, label syntax, selectors that match their
//! pods, unique port names, and the API server's own rules.

use serde_json::Value;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{ConfigMap, Service, ServiceAccount};
use k8s_openapi::api::networking::v1::Ingress;
use k8s_openapi::api::rbac::v1::{Role, RoleBinding};

use crate::error::{Diagnostic, Error, ErrorKind};
use crate::k8s::typed::{Refusal, RoundTrip, typed};
use crate::k8s::{names, rules};
use crate::render::Document;
use crate::yaml;

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

/// An object the API server would refuse. Whatever printed it, what breaks the rule came from
/// the spec (or a user's template): an input error.
fn refused(document: &Document, value: &Value, rule: &Diagnostic) -> Error {
    let (kind, name) = (value["kind"].as_str().unwrap_or_default(), &value["metadata"]["name"]);
    let name = name.as_str().unwrap_or_default();
    let origin = if document.user { "template" } else { "built-in template" };
    Error::input(vec![
        Diagnostic::new(format!(
            "{kind} `{name}` ({origin} {}): {}; the API server would refuse it",
            document.template, rule.message
        ))
        .with_help(
            "change the spec fields this comes from (volumes, volumeMounts, secrets, env, pod \
             templates, annotations, ingress, logConfiguration) so the object obeys the rule",
        ),
    ])
}

fn check_one(document: &Document) -> Result<Object, Error> {
    let mut value = read_merged(document)?;
    // The built-in templates print exactly what their k8s-openapi types serialize, whatever
    // the spec (the fragments a spec passes through are read through their types when it is
    // validated): tests/it/typed.rs proves it for every example, native scenario, injection
    // payload and generated spec. So only what a user wrote is read through its type here:
    // their template, or a pod template merged into a built-in one.
    let round_trip = if document.user { RoundTrip::Verify } else { RoundTrip::Skip };
    if (document.user || document.pod_template.is_some())
        && let Some(typed) = check_type(document, &mut value, round_trip)?
    {
        value = typed;
    }
    let kind = value["kind"].as_str().unwrap_or_default();
    check_semantics(&value, kind).map_err(|e| fail(document, e))?;
    rules::check_object(kind, &value).map_err(|e| refused(document, &value, &e))?;
    Ok(Object { value })
}

/// What the document prints, as JSON with the pod template merged in (nulls and unknown
/// fields still there), and what its k8s-openapi type serializes that to. For tests: the
/// built-in templates skip that round trip at run time because the two are always equal.
pub fn printed_and_typed(document: &Document) -> Result<(Value, Value), Error> {
    let printed = read_merged(document)?;
    let mut value = printed.clone();
    let typed = check_type(document, &mut value, RoundTrip::Verify)?.unwrap_or(value);
    Ok((printed, typed))
}

/// The document's one object as JSON, with its pod template merged in. The built-in
/// templates print JSON, read by `serde_json`; a user's template may print any YAML, read by
/// the one YAML reader.
fn read_merged(document: &Document) -> Result<Value, Error> {
    let mut value = if document.user { read_yaml(document)? } else { read_json(document)? };
    if let Some((template, main)) = &document.pod_template {
        crate::k8s::pod::merge_template(&mut value, template, main);
    }
    Ok(value)
}

fn read_json(document: &Document) -> Result<Value, Error> {
    serde_json::from_str(&document.text)
        .map_err(|e| fail(document, format!("output is not one JSON object: {e}")))
}

fn read_yaml(document: &Document) -> Result<Value, Error> {
    let mut parsed = yaml::parse_documents(&document.text)
        .map_err(|e| fail(document, format!("output is not YAML: {e} at line {}", e.pos.line)))?;
    let (1, Some(root)) = (parsed.len(), parsed.pop().and_then(|d| d.root)) else {
        return Err(fail(document, "must render exactly one YAML document"));
    };
    root.to_json().map_err(|e| fail(document, format!("{e} at line {}", e.pos.line)))
}

fn type_of(value: &Value) -> (&str, &str) {
    let text = |key| value.get(key).and_then(Value::as_str).unwrap_or_default();
    (text("apiVersion"), text("kind"))
}

/// Reads `value` as its Kubernetes type, by `(apiVersion, kind)` (see [`typed`]); `Some`
/// replaces it by what the type serializes it to.
fn check_type(
    document: &Document,
    value: &mut Value,
    round_trip: RoundTrip,
) -> Result<Option<Value>, Error> {
    type Check = fn(&mut Value, RoundTrip) -> Result<Option<Value>, Refusal>;
    let check: Check = match type_of(value) {
        ("batch/v1", "Job") => typed::<Job>,
        ("v1", "Service") => typed::<Service>,
        ("apps/v1", "Deployment") => typed::<Deployment>,
        ("v1", "ConfigMap") => typed::<ConfigMap>,
        ("v1", "ServiceAccount") => typed::<ServiceAccount>,
        ("rbac.authorization.k8s.io/v1", "Role") => typed::<Role>,
        ("rbac.authorization.k8s.io/v1", "RoleBinding") => typed::<RoleBinding>,
        ("networking.k8s.io/v1", "Ingress") => typed::<Ingress>,
        ("autoscaling/v2", "HorizontalPodAutoscaler") => typed::<HorizontalPodAutoscaler>,
        (api_version, kind) => {
            return Err(fail(document, format!("unsupported object {api_version} {kind}")));
        }
    };
    check(value, round_trip).map_err(|refusal| {
        let (api_version, kind) = type_of(value);
        fail(
            document,
            match refusal {
                Refusal::Invalid(message) => message,
                Refusal::Unknown(path) => format!(
                    "field `{path}` is not part of {api_version} {kind} (misspelt or misplaced?)"
                ),
            },
        )
    })
}

fn check_semantics(value: &Value, kind: &str) -> Result<(), String> {
    let metadata = &value["metadata"];
    let name = metadata["name"].as_str().unwrap_or_default();
    if kind == "Service" {
        names::check_dns1035_label(name)
    } else {
        names::check_dns_subdomain(name)
    }
    .map_err(|e| format!("metadata.name {}", e.message))?;
    check_labels(&metadata["labels"], "metadata.labels")?;
    let spec = &value["spec"];
    match kind {
        "Job" => check_pod(&spec["template"], "spec.template"),
        "Deployment" => {
            check_pod(&spec["template"], "spec.template")?;
            // `ValidatePodTemplateSpecForReplicaSet`: a pod template's restart policy wins over
            // the session's and TaskManagers' default, and only `Always` is valid here.
            if let Some(policy) = spec["template"]["spec"]["restartPolicy"].as_str()
                && policy != "Always"
            {
                return Err(format!(
                    "spec.template.spec.restartPolicy `{policy}`: a Deployment's pods can only restart `Always` (remove it from the pod template)"
                ));
            }
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
            Ok(())
        }
        _ => Ok(()),
    }
}

fn check_pod(template: &Value, at: &str) -> Result<(), String> {
    // `template` is a valid `PodTemplateSpec` whenever it is there (read through its type
    // when a user wrote it, printed as its type does by a built-in template); it is missing
    // when the workload has no spec.
    if !template.is_object() {
        return Err(format!("{at} is missing"));
    }
    check_labels(&template["metadata"]["labels"], &format!("{at}.metadata.labels"))?;
    let containers =
        template["spec"]["containers"].as_array().map(Vec::as_slice).unwrap_or_default();
    if containers.is_empty() {
        return Err(format!("{at}.spec.containers must not be empty"));
    }
    Ok(())
}

fn check_labels(labels: &Value, at: &str) -> Result<(), String> {
    for (key, value) in labels.as_object().into_iter().flatten() {
        names::check_label_key(key).map_err(|e| format!("{at}: {}", e.message))?;
        names::check_label_value(value.as_str().unwrap_or_default())
            .map_err(|e| format!("{at}: {}", e.message))?;
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
        assert!(err.to_string().contains("spec.ports[0].port: wrong type: got string"), "{err}");
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
    fn a_deployment_restarts_its_pods_always() {
        let err = check_one(&doc(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\nspec:\n  selector: {matchLabels: {x: y}}\n  template:\n    metadata: {labels: {x: y}}\n    spec: {restartPolicy: OnFailure, containers: [{name: c, image: i}]}\n",
        ))
        .unwrap_err();
        assert!(err.to_string().contains("restartPolicy `OnFailure`"), "{err}");
    }

    const SERVICE: &str = "apiVersion: v1\nkind: Service\nmetadata: {name: a}\n";

    #[test]
    fn unknown_fields_are_named_at_any_depth_and_to_their_first_leaf() {
        for (spec, path) in [
            ("{selector: {a: b}, ports: [{port: 1}, {port: 2, nme: x}]}", "spec.ports[1].nme"),
            (
                "{selector: {a: b}, sessionAffinityConfig: {clientIp: {timeout: 1}}}",
                "spec.sessionAffinityConfig.clientIp.timeout",
            ),
            ("{selector: {a: b}, typo: {x: [], y: {z: 1}}}", "spec.typo.y.z"),
        ] {
            // A user's template. The built-in ones are read through their types in the tests
            // (tests/it/typed.rs), not at run time.
            let document = doc(&format!("{SERVICE}spec: {spec}\n"));
            let err = check_one(&document).unwrap_err();
            let want = format!("field `{path}` is not part of v1 Service (misspelt or misplaced?)");
            assert!(err.to_string().contains(&want), "{err}");
            assert_eq!(err.exit_code(), 1);
        }
    }

    #[test]
    fn vacuous_unknown_fields_and_nulls_are_dropped() {
        let text = format!(
            "{SERVICE}spec: {{selector: {{a: b}}, typo: {{x: [], y: null}}, clusterIP: null, ports: []}}\n"
        );
        let object = check_one(&doc(&text)).unwrap();
        assert_eq!(object.value["spec"], serde_json::json!({"selector": {"a": "b"}, "ports": []}));
    }

    #[test]
    fn yaml_errors_are_the_readers() {
        let service = "apiVersion: v1\nkind: Service\nmetadata: {\"name\":\"a\"}\n";
        for (text, want) in [
            (format!("{service}spec: {{\"selector\":{{\"a\":\"b\"}}\n"), "output is not YAML"),
            (format!("{service}---\n{service}"), "must render exactly one YAML document"),
            (format!("{service}spec:\n  x: .inf\n"), "`.inf` is not a finite number"),
        ] {
            let err = check_one(&doc(&text)).unwrap_err();
            assert!(err.to_string().contains(want), "{err}");
        }
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
