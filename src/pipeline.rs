//! The one pipeline every command and mode runs: load → validate → model → render → check →
//! encode. Every spec is loaded and validated before any is rendered, and every cluster is
//! rendered and checked before anything is returned, so a failure leaves no partial output.

use std::collections::BTreeMap;
use std::path::Path;

use crate::check::{self, Object};
use crate::error::{Diagnostic, Error, sort_by_place};
use crate::load::input::Input;
use crate::load::overrides::Override;
use crate::load::{self, Loaded, Substitution};
use crate::model::{Model, native};
use crate::output::{self, Format};
use crate::render::Renderer;
use crate::validate::{self, Policy, Valid};
use crate::yaml;

/// How to render.
#[derive(Debug, Clone, Copy, Default)]
pub struct RenderOptions<'a> {
    pub format: Format,
    pub overrides: &'a [Override],
    pub templates: Option<&'a Path>,
    pub policy: Policy,
    /// Variable substitution in spec values, if asked for.
    pub substitution: Option<&'a Substitution>,
    /// Native mode's phase and owner uid (`--phase`, `--owner-uid`).
    pub native: native::Options<'a>,
    /// Write documents that are other Kubernetes objects to the output as they were read, in
    /// their place among the specs' objects (`render --passthrough`), instead of refusing them.
    pub passthrough: bool,
}

/// What a render produced: the bytes for stdout and warnings for stderr.
#[derive(Debug, Default)]
pub struct Rendered {
    pub stdout: output::Encoded,
    pub warnings: Vec<String>,
}

/// A validated spec and where it came from.
#[derive(Debug, Clone)]
pub struct Spec {
    pub valid: Valid,
    pub origin: String,
    /// Warnings about the input itself (unset variables).
    pub warnings: Vec<String>,
}

/// Renders every spec of every input into one output, or fails without output.
///
/// Each cluster's objects are encoded as soon as they are checked, so a large batch holds
/// output text rather than object trees; nothing is returned before every spec has rendered.
pub fn render(inputs: &[Input], options: &RenderOptions) -> Result<Rendered, Error> {
    let mut encoder = output::Encoder::new(options.format);
    let entries = load_entries(inputs, options)?;
    let renderer = Renderer::new(options.templates)?;
    let specs: Vec<&Spec> = entries
        .iter()
        .filter_map(|entry| match entry {
            Entry::Spec(spec) => Some(&**spec),
            Entry::Other { .. } => None,
        })
        .collect();
    check_native_options(&specs, &options.native)?;
    let mut warnings = Vec::new();
    let mut owners = BTreeMap::new();
    for entry in &entries {
        match entry {
            Entry::Spec(spec) => {
                let objects =
                    render_spec(spec, &renderer, &options.native, &mut owners, &mut warnings)?;
                encoder.push(&objects);
            }
            Entry::Other { root, place } => {
                let value = root.to_json_lenient();
                claim_names(
                    std::slice::from_ref(&value),
                    &format!("the document in {place}"),
                    &mut owners,
                )?;
                encoder.push_document(root);
            }
        }
    }
    Ok(Rendered { stdout: encoder.finish()?, warnings })
}

/// A document of the input, in order: a validated spec, or another object passed through.
#[derive(Debug, Clone)]
pub enum Entry {
    Spec(Box<Spec>),
    /// What `--passthrough` writes unchanged, and where it stands ("c.yaml, document 1").
    Other {
        root: yaml::Node,
        place: String,
    },
}

/// Renders every spec of every input, handing each cluster's checked objects to `emit`;
/// returns the warnings.
pub fn render_each(
    inputs: &[Input],
    options: &RenderOptions,
    emit: impl FnMut(Vec<Object>),
) -> Result<Vec<String>, Error> {
    let specs = load_valid(inputs, options.overrides, options.policy, options.substitution)?;
    let renderer = Renderer::new(options.templates)?;
    render_specs(&specs, &renderer, &options.native, emit)
}

/// Renders validated specs, handing each cluster's checked objects to `emit`; returns the
/// warnings.
pub fn render_specs(
    specs: &[Spec],
    renderer: &Renderer,
    native: &native::Options,
    mut emit: impl FnMut(Vec<Object>),
) -> Result<Vec<String>, Error> {
    check_native_options(&specs.iter().collect::<Vec<_>>(), native)?;
    let mut warnings = Vec::new();
    let mut owners = BTreeMap::new();
    for spec in specs {
        let objects = render_spec(spec, renderer, native, &mut owners, &mut warnings)?;
        if !objects.is_empty() {
            emit(objects);
        }
    }
    Ok(warnings)
}

/// One spec's checked objects (none when its model renders nothing in this phase); its
/// warnings are added to `warnings`.
fn render_spec(
    spec: &Spec,
    renderer: &Renderer,
    native: &native::Options,
    owners: &mut Owners,
    warnings: &mut Vec<String>,
) -> Result<Vec<Object>, Error> {
    let mut objects = Vec::new();
    if let Some(model) = Model::build(&spec.valid, native)? {
        objects = render_model(renderer, &model).map_err(|e| {
            e.about(&format!("cluster `{}` ({})", spec.valid.cluster.metadata.name, spec.origin))
        })?;
        check_names_are_free(&objects, spec, owners)?;
    }
    warnings.extend(spec.warnings.iter().cloned());
    warnings.extend(spec.valid.warnings.iter().map(|w| format!("{}: {w}", spec.origin)));
    Ok(objects)
}

/// Objects already rendered, by kind and name: their namespace (empty when the object names
/// none, so kubectl's current namespace applies) and the cluster that owns them.
type Owners = BTreeMap<(String, String), Vec<(String, String)>>;

/// Two clusters must not render the same object: a session cluster `x` and a native cluster
/// `x-jobmanager` both want a Deployment `x-jobmanager`, and one would overwrite the other.
/// An object without a namespace may land in any namespace, so it meets every other.
fn check_names_are_free(objects: &[Object], spec: &Spec, owners: &mut Owners) -> Result<(), Error> {
    let name = &spec.valid.cluster.metadata.name;
    let owner = format!("cluster `{name}` ({})", spec.origin);
    claim_names(objects.iter().map(|o| &o.value), &owner, owners)
}

/// Records that `owner` writes `objects`; an error when another owner writes one of them
/// (a cluster's, or a document `--passthrough` copies).
fn claim_names<'a>(
    objects: impl IntoIterator<Item = &'a serde_json::Value>,
    owner: &str,
    owners: &mut Owners,
) -> Result<(), Error> {
    let owner = owner.to_owned();
    for object in objects {
        let text = |value: &serde_json::Value| value.as_str().unwrap_or_default().to_owned();
        let metadata = &object["metadata"];
        let (kind, object_name) = (text(&object["kind"]), text(&metadata["name"]));
        let namespace = text(&metadata["namespace"]);
        let rendered = owners.entry((kind.clone(), object_name.clone())).or_default();
        let meets = |other: &str| namespace.is_empty() || other.is_empty() || other == namespace;
        if let Some((_, first)) =
            rendered.iter().find(|(other, first)| meets(other) && *first != owner)
        {
            return Err(Error::input_one(
                Diagnostic::new(format!(
                    "{kind} `{object_name}` would be rendered by {first} and by {owner}: one would overwrite the other"
                ))
                .with_help("rename one of the clusters (metadata.name) or put both in namespaces of their own"),
            ));
        }
        rendered.push((namespace, owner.clone()));
    }
    Ok(())
}

/// One cluster's model → checked objects.
pub fn render_model(renderer: &Renderer, model: &Model) -> Result<Vec<Object>, Error> {
    let documents = renderer.render(model)?;
    let checked = check::check(&documents)?;
    if model.is_whole() {
        check::check_services_select_pods(&checked)?;
    }
    Ok(checked)
}

/// Loads and validates every spec of every input; reports every problem of every spec, or
/// none.
pub fn load_valid(
    inputs: &[Input],
    overrides: &[Override],
    policy: Policy,
    substitution: Option<&Substitution>,
) -> Result<Vec<Spec>, Error> {
    let options = RenderOptions { overrides, policy, substitution, ..RenderOptions::default() };
    load_specs(inputs, &options)
}

/// [`load_valid`] with every option of a render: with `options.passthrough`, the other
/// Kubernetes objects among the specs are skipped instead of refused.
pub fn load_specs(inputs: &[Input], options: &RenderOptions) -> Result<Vec<Spec>, Error> {
    Ok(load_entries(inputs, options)?
        .into_iter()
        .filter_map(|entry| match entry {
            Entry::Spec(spec) => Some(*spec),
            Entry::Other { .. } => None,
        })
        .collect())
}

/// [`load_valid`], keeping with `options.passthrough` the other objects in their place.
fn load_entries(inputs: &[Input], options: &RenderOptions) -> Result<Vec<Entry>, Error> {
    let (overrides, policy) = (options.overrides, options.policy);
    let mut specs = Vec::new();
    let mut diagnostics = Vec::new();
    load::load(inputs, overrides, options.substitution, options.passthrough, |item| {
        let loaded = match item {
            Ok(load::Item::Spec(loaded)) => *loaded,
            Ok(load::Item::Other { root, place }) => {
                specs.push((Entry::Other { root, place }, String::new()));
                return;
            }
            Err(more) => return diagnostics.extend(more),
        };
        let Loaded { cluster, input, place, locator, warnings } = loaded;
        let input = &inputs[input];
        match validate::validate(cluster, policy) {
            Ok(valid) => {
                let spec = Spec { valid, origin: input.origin.clone(), warnings };
                specs.push((Entry::Spec(Box::new(spec)), place));
            }
            Err(problems) => {
                let mut located: Vec<Diagnostic> = problems
                    .into_iter()
                    .map(|problem| locator.locate(input, overrides, problem))
                    .collect();
                sort_by_place(&mut located, &input.origin);
                diagnostics.extend(located);
            }
        }
    });
    if diagnostics.is_empty() {
        diagnostics.extend(duplicate_names(&specs));
    }
    if diagnostics.is_empty() {
        Ok(specs.into_iter().map(|(spec, _)| spec).collect())
    } else {
        Err(Error::input(diagnostics))
    }
}

/// Checks `--phase` and `--owner-uid` against the specs they apply to.
fn check_native_options(specs: &[&Spec], options: &native::Options) -> Result<(), Error> {
    let native = specs.iter().filter(|s| native::is_native(&s.valid)).count();
    if options.is_set() && native == 0 {
        let flags = if options.no_owner_references {
            "--no-owner-references applies"
        } else {
            "--phase and --owner-uid apply"
        };
        return Err(Error::usage(
            Diagnostic::new(format!("{flags} to native mode, and no spec here is native"))
                .with_help("add `--mode native`, or set `spec.mode: native`"),
        ));
    }
    if options.no_owner_references
        && let Some(spec) = specs
            .iter()
            .find(|s| native::is_native(&s.valid) && s.valid.cluster.spec.owner_reference.is_some())
    {
        return Err(Error::usage(
            Diagnostic::new(format!(
                "--no-owner-references renders no ownerReferences, and cluster `{}` ({}) sets spec.ownerReference",
                spec.valid.cluster.metadata.name, spec.origin
            ))
            .with_help("remove spec.ownerReference, or render without --no-owner-references"),
        ));
    }
    if options.owner_uid.is_some() && native > 1 && options.phase != Some(native::Phase::Owner) {
        return Err(Error::usage(
            Diagnostic::new(format!(
                "--owner-uid names one JobManager Deployment, and {native} native clusters are rendered"
            ))
            .with_help("render the owned phase of one cluster at a time, or use `kubectl flink apply`"),
        ));
    }
    Ok(())
}

fn duplicate_names(specs: &[(Entry, String)]) -> Vec<Diagnostic> {
    let mut seen = std::collections::BTreeMap::new();
    let mut diagnostics = Vec::new();
    for (entry, place) in specs {
        let Entry::Spec(spec) = entry else { continue };
        let metadata = &spec.valid.cluster.metadata;
        if let Some(first) = seen.insert((metadata.namespace.as_deref(), &metadata.name), place) {
            diagnostics.push(
                Diagnostic::new(format!(
                    "two clusters are named `{}` (in {first} and in {place}): their objects would overwrite each other",
                    metadata.name
                ))
                .with_help("give every cluster its own metadata.name"),
            );
        }
    }
    diagnostics
}
