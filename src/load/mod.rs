//! Input texts → specs, each with what it takes to locate a problem in the file the user wrote.
//!
//! Each document is parsed into a node tree, variables are substituted inside its scalars,
//! it is converted to JSON, edited by `--set` and deserialized. Problems from every document
//! are collected and reported together. Validation is the next stage; [`Loaded::locate`]
//! points its problems at lines.

pub mod input;
pub mod overrides;

use std::collections::BTreeMap;

use serde_json::Value;

use crate::envsubst;
use crate::error::{Diagnostic, Location, sort_by_place};
use k8s_openapi::api::core::v1::{
    Affinity, EnvFromSource, EnvVar, PodSecurityContext, Toleration, Volume, VolumeMount,
};

use crate::k8s::typed::normalize;
use crate::spec::{self, ClusterSpec, FlinkCluster};
use crate::yaml::{self, Node, NodeKind, PathSegment};
use input::Input;
use overrides::Override;

/// A spec read from an input, with its node tree for locating problems.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub cluster: FlinkCluster,
    /// The index of its input in the list given to [`load`].
    pub input: usize,
    /// Where it stands: "cluster.yaml, document 2".
    pub place: String,
    pub locator: Locator,
    /// Warnings about the input itself (unset variables).
    pub warnings: Vec<String>,
}

/// A document's node tree, kept to point problems at the lines they are about.
#[derive(Debug, Clone)]
pub struct Locator {
    root: Node,
}

impl Locator {
    /// Points a problem at the `--set` that caused it, or at the line in the file.
    pub fn locate(&self, input: &Input, overrides: &[Override], problem: Diagnostic) -> Diagnostic {
        locate(input, &self.root, overrides, problem)
    }
}

/// Variables to substitute in spec values, and how (`--env`, `--env-file`, `--var`).
#[derive(Debug, Clone, Default)]
pub struct Substitution {
    pub vars: BTreeMap<String, String>,
    pub options: envsubst::Options,
}

/// A document of an input: a spec, or (`render --passthrough`) another Kubernetes object.
#[derive(Debug, Clone)]
pub enum Item {
    Spec(Box<Loaded>),
    /// A document whose `apiVersion` is not kubectl-flink's, with a `kind`: its node tree as
    /// read, without variable substitution or `--set`, and where it stands.
    Other {
        root: Node,
        place: String,
    },
}

/// Loads every document of every input, in order, handing each to `each`: a spec, or what is
/// wrong with it (an input that does not parse is one call). One document at a time, so a
/// large batch never holds every node tree at once.
///
/// With `passthrough`, a document that is another Kubernetes object (an
/// `apiVersion` outside kubectl-flink's group, and a `kind`) is handed on as it is instead of
/// being refused as a spec with the wrong `apiVersion`.
pub fn load(
    inputs: &[Input],
    overrides: &[Override],
    substitution: Option<&Substitution>,
    passthrough: bool,
    mut each: impl FnMut(Result<Item, Vec<Diagnostic>>),
) {
    for (input_index, input) in inputs.iter().enumerate() {
        let documents = match yaml::parse_documents(&input.text) {
            Ok(documents) => documents,
            Err(err) => {
                each(Err(vec![yaml_diagnostic(input, &err)]));
                continue;
            }
        };
        if documents.is_empty() {
            each(Err(vec![
                Diagnostic::new(format!("`{}` holds no spec", input.origin))
                    .with_help("give a file with a `kind: FlinkJobCluster` or `kind: FlinkSessionCluster` document"),
            ]));
        }
        let count = documents.len();
        for (index, document) in documents.into_iter().enumerate() {
            let Some(mut root) = document.root else {
                each(Err(vec![
                    Diagnostic::new(format!("document {} of {count} is empty", index + 1))
                        .at(Location::in_text(&input.origin, &input.text, document.start, None))
                        .with_help("remove the stray `---` or fill in the document"),
                ]));
                continue;
            };
            if passthrough && is_other_object(&root) {
                match root.to_json() {
                    Ok(_) => each(Ok(Item::Other {
                        root,
                        place: format!("{}, document {}", input.origin, index + 1),
                    })),
                    Err(err) => each(Err(vec![yaml_diagnostic(input, &err)])),
                }
                continue;
            }
            let mut warnings = Vec::new();
            if let Some(substitution) = substitution {
                match envsubst::substitute_tree(
                    &mut root,
                    &substitution.vars,
                    &substitution.options,
                ) {
                    Ok(unset) => warnings.extend(unset.iter().map(|name| {
                        format!(
                            "{}: variable `{name}` is not set and was replaced by an empty \
                             string (use --strict-env to make this an error)",
                            input.origin
                        )
                    })),
                    Err(err) => {
                        each(Err(err
                            .to_error(&input.origin, &input.text, envsubst::Sources::Flags)
                            .diagnostics));
                        continue;
                    }
                }
            }
            each(load_document(input, &root, overrides).map(|cluster| {
                Item::Spec(Box::new(Loaded {
                    cluster,
                    input: input_index,
                    place: format!("{}, document {}", input.origin, index + 1),
                    locator: Locator { root },
                    warnings,
                }))
            }));
        }
    }
}

/// Whether a document is a Kubernetes object that is not a spec: a string `apiVersion` whose
/// group is not kubectl-flink's (a misspelt kind of ours stays a spec, to be reported), and a
/// string `kind`.
fn is_other_object(root: &Node) -> bool {
    let text = |key: &str| match root.find(&[PathSegment::Key(key.into())]) {
        Some((Node { kind: NodeKind::Scalar { text, .. }, .. }, _)) => Some(text.as_str()),
        _ => None,
    };
    let ours = spec::API_VERSION.split('/').next();
    text("apiVersion").is_some_and(|v| !v.is_empty() && v.split('/').next() != ours)
        && text("kind").is_some_and(|k| !k.is_empty())
}

fn yaml_diagnostic(input: &Input, err: &yaml::YamlError) -> Diagnostic {
    let mut diagnostic = Diagnostic::new(err.message.clone()).at(Location::in_text(
        &input.origin,
        &input.text,
        err.pos,
        None,
    ));
    if let Some(help) = &err.help {
        diagnostic = diagnostic.with_help(help.clone());
    } else if input
        .text
        .lines()
        .nth(err.pos.line.saturating_sub(1))
        .is_some_and(|l| l.starts_with('\t') || l.contains(":\t"))
    {
        diagnostic = diagnostic.with_help("YAML indentation must use spaces, not tabs");
    }
    diagnostic
}

fn load_document(
    input: &Input,
    root: &Node,
    overrides: &[Override],
) -> Result<FlinkCluster, Vec<Diagnostic>> {
    let locate = |problem: Diagnostic| locate(input, root, overrides, problem);
    let mut document = to_json(root).map_err(|err| vec![yaml_diagnostic(input, &err)])?;
    spec::check_header(&document).map_err(|p| vec![locate(p)])?;
    overrides::apply(&mut document, &config_overrides_as_text(overrides))
        .map_err(|e| e.diagnostics)?;
    let mut cluster = spec::deserialize_all(document).map_err(|problems| {
        let mut diagnostics: Vec<Diagnostic> = problems.into_iter().map(locate).collect();
        sort_by_place(&mut diagnostics, &input.origin);
        diagnostics
    })?;
    normalize_fragments(&mut cluster.spec);
    Ok(cluster)
}

/// The Kubernetes fragments a spec passes into its pods, as their types read them: nulls and
/// unknown fields holding nothing dropped (`tolerationSeconds: null`, `junk: {}`), which the
/// API server would refuse or drop. The built-in templates print them as they are, and their
/// documents are not read through their types again (`check`). A pod template is merged into
/// the rendered object and read with it.
fn normalize_fragments(spec: &mut ClusterSpec) {
    spec.tolerations.iter_mut().for_each(normalize::<Toleration>);
    spec.affinity.iter_mut().for_each(normalize::<Affinity>);
    spec.env.iter_mut().for_each(normalize::<EnvVar>);
    spec.env_from.iter_mut().for_each(normalize::<EnvFromSource>);
    spec.volumes.iter_mut().for_each(normalize::<Volume>);
    spec.volume_mounts.iter_mut().for_each(normalize::<VolumeMount>);
    spec.security_context.iter_mut().for_each(normalize::<PodSecurityContext>);
}

/// Converts a document to JSON; `flinkConfiguration` values keep the text the user wrote
/// (`1.50` stays `1.50`, not the number 1.5), because Flink reads them as text.
pub fn to_json(root: &Node) -> Result<Value, yaml::YamlError> {
    let mut value = root.to_json()?;
    let config_path =
        [PathSegment::Key("spec".into()), PathSegment::Key("flinkConfiguration".into())];
    if let (Some((config, _)), Some(target)) =
        (root.find(&config_path), value.pointer_mut("/spec/flinkConfiguration"))
    {
        *target = scalars_as_text(config)?;
    }
    Ok(value)
}

fn scalars_as_text(node: &Node) -> Result<Value, yaml::YamlError> {
    match &node.kind {
        NodeKind::Scalar { text, plain: true } => match yaml::resolve_plain(text) {
            Ok(Value::Null) => Ok(Value::Null),
            _ => Ok(Value::String(text.clone())),
        },
        NodeKind::Map(entries) => entries
            .iter()
            .map(|(k, v)| Ok((k.name.clone(), scalars_as_text(v)?)))
            .collect::<Result<serde_json::Map<_, _>, _>>()
            .map(Value::Object),
        _ => node.to_json(),
    }
}

/// `--set spec.flinkConfiguration[k]=0.50` keeps the text typed, as the file does (a number or
/// boolean would otherwise be refused, or `0.50` become `0.5`).
fn config_overrides_as_text(overrides: &[Override]) -> Vec<Override> {
    let config = [PathSegment::Key("spec".into()), PathSegment::Key("flinkConfiguration".into())];
    overrides
        .iter()
        .map(|o| match (o.arg.split_once('='), &o.value) {
            (Some((_, raw)), Value::Number(_) | Value::Bool(_)) if o.path.starts_with(&config) => {
                Override { value: Value::String(raw.to_owned()), ..o.clone() }
            }
            _ => o.clone(),
        })
        .collect()
}

/// Points a problem at the `--set` that caused it, or at the line in the file.
fn locate(input: &Input, root: &Node, overrides: &[Override], problem: Diagnostic) -> Diagnostic {
    if let Some(o) = overrides::find(overrides, &problem.path) {
        let origin = format!("--set {}", o.arg);
        return problem.at(Location { origin, line: 1, col: 1, source_line: None, width: 1 });
    }
    let on_key = problem.message.starts_with("unknown field");
    // The deepest part of the path that exists in the file: a missing field points at its parent.
    let path = &problem.path;
    let found = (0..=path.len()).rev().find_map(|n| root.find(&path[..n]).map(|f| (n, f)));
    let Some((n, (node, key))) = found else { return problem };
    let (start, end) = match key {
        Some(key) if on_key || n < path.len() => (key.start, key.end),
        _ => (node.start, node.end),
    };
    let location = Location::in_text(&input.origin, &input.text, start, Some(end));
    problem.at(location)
}
