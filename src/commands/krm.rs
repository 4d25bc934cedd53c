//! KRM function mode: a `config.kubernetes.io/v1` `ResourceList` in, the same list out with
//! the objects of every cluster spec added (`kpt fn eval --exec`, `kpt fn render`, kustomize).
//!
//! Specs come from the input items whose `apiVersion` is `kubectl-flink/…` and from
//! `functionConfig`, which is either such a spec or a `ConfigMap` of `key=value` settings (what
//! `kpt fn eval … -- key=value` sends): `outputDir`, or a `--set` path such as
//! `spec.taskManager.replicas`. With no spec in the input, the settings alone describe one.
//!
//! The contract kpt and kustomize hold a function to (reference §3): every input item goes out
//! unchanged and in order, because kpt deletes from disk whatever a function drops (the Kptfile
//! and the spec files included); new objects get `internal.config.kubernetes.io/path` (one file
//! per cluster under the output directory) and distinct `…/index` annotations; a re-run drops
//! the objects an earlier run wrote under the output directory before adding fresh ones, so
//! `kpt fn render` is idempotent and a renamed or deleted cluster leaves nothing behind. On bad
//! input the list goes out with its items unchanged, no new objects, `results` of severity
//! `error`, and the run fails: kpt and kustomize accept an error result with exit code 0.
//!
//! Specs are loaded and rendered by the normal pipeline ([`crate::pipeline`]); this module only
//! reads and writes the list, with the one YAML writer. Input items are written back from
//! their YAML node tree, so a plain scalar keeps its text (`0.50` stays `0.50`, `0x10` stays
//! `0x10`) and key order is kept: kpt writes every item back to the user's files, and a
//! function that turned `0.50` into `0.5` would edit them on every run. Comments are not kept
//! here: kpt copies them back onto items whose `internal.config.kubernetes.io/id` annotation
//! is unchanged.

use std::cell::RefCell;
use std::io::Read;

use serde::Serialize;
use serde_json::{Map, Value, json};

use super::Outcome;
use crate::error::{Diagnostic, Error, ErrorKind, display_path};
use crate::load::input::{self, Input};
use crate::load::overrides::Override;
use crate::pipeline::{self, RenderOptions};
use crate::spec;
use crate::yaml::{self, Limits, Node, NodeKind, PathSegment};

/// Where new objects go when neither `--output-dir` nor the `outputDir` setting says.
pub const DEFAULT_OUTPUT_DIR: &str = "generated";
/// The file an item came from or goes to, relative to the package (kpt).
pub const PATH_ANNOTATION: &str = "internal.config.kubernetes.io/path";
/// The position of an item in its file, a string (kpt).
pub const INDEX_ANNOTATION: &str = "internal.config.kubernetes.io/index";
/// Older spellings kpt still sends; written too, so the two never disagree.
const LEGACY_PATH_ANNOTATION: &str = "config.kubernetes.io/path";
const LEGACY_INDEX_ANNOTATION: &str = "config.kubernetes.io/index";
/// The label every rendered object carries; with the path it marks an earlier run's output.
const MANAGED_BY: (&str, &str) = ("app.kubernetes.io/managed-by", "kubectl-flink");
/// The label native mode's objects carry instead (Flink's own labels, kept as Flink sets them).
const NATIVE_TYPE: (&str, &str) = ("type", crate::flink::native::LABEL_TYPE);
/// The `ConfigMap` setting that names the output directory.
const OUTPUT_DIR_SETTING: &str = "outputDir";

/// How `kubectl-flink fn` was asked to run.
#[derive(Debug, Clone, Copy, Default)]
pub struct FnOptions<'a> {
    /// `--output-dir`; the `outputDir` setting wins over it.
    pub output_dir: Option<&'a str>,
}

/// A parsed `ResourceList`.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceList {
    pub api_version: String,
    /// What identifies each input item: its `apiVersion`, `kind` and `metadata`.
    pub items: Vec<Value>,
    /// Each input item as it goes out again, an entry of the output's `items`.
    item_texts: Vec<String>,
    pub function_config: Option<Value>,
    /// The spec form of each `kubectl-flink/…` item (by index), and of `functionConfig`:
    /// `flinkConfiguration` values keep the text they were written with.
    specs: Vec<(Option<usize>, Value)>,
}

/// `kubectl-flink fn`: the `ResourceList` on standard input.
pub fn run_stdin(stdin: &mut dyn Read, options: &FnOptions) -> Result<Outcome, Error> {
    let input = read_stdin(stdin)?;
    let Some(list) = parse(&input.text)? else {
        return Err(Error::input_one(
            Diagnostic::new("standard input is not a KRM ResourceList").with_help(
                "kpt and kustomize send one; to render a spec file use `render -f FILE`",
            ),
        ));
    };
    run(&list, options)
}

/// No command: a KRM function if stdin holds a `ResourceList` (kustomize and kpt run
/// functions without arguments), else a usage error.
pub fn detected(stdin: &mut dyn Read) -> Result<Outcome, Error> {
    let usage =
        || {
            Error::usage(Diagnostic::new("no command given").with_help(
                "run `kubectl flink --help`; `kubectl flink render -f FILE` renders a spec",
            ))
        };
    let Ok(input) = read_stdin(stdin) else { return Err(usage()) };
    match parse(&input.text) {
        Ok(Some(list)) => run(&list, &FnOptions::default()),
        Ok(None) | Err(_) => Err(usage()),
    }
}

/// Reads a `ResourceList` from standard input (a whole package: larger than a spec file).
pub fn read_stdin(stdin: &mut dyn Read) -> Result<Input, Error> {
    let limit = Limits::PACKAGE.input_bytes;
    let bytes = input::read_at_most(stdin, limit).map_err(|err| {
        Error::input_one(Diagnostic::new(format!("cannot read standard input: {err}")))
    })?;
    let Some(bytes) = bytes else {
        return Err(Error::input_one(Diagnostic::new(format!(
            "standard input is larger than the limit of {limit} bytes"
        ))));
    };
    input::decode("<stdin>".to_owned(), bytes)
}

/// Parses `text` as a `ResourceList`; `Ok(None)` when it is YAML but not a `ResourceList`.
///
/// Items are read one at a time ([`yaml::parse_streaming`]): each is written out again at
/// once and only what identifies it is kept, so a package of thousands of objects never
/// stands in memory as trees.
pub fn parse(text: &str) -> Result<Option<ResourceList>, Error> {
    let mut read = Vec::new();
    let documents = yaml::parse_streaming(text, Limits::PACKAGE, "items", &mut |node| {
        read.push(ReadItem::new(&node));
    })
    .map_err(|err| yaml_error(&err))?;
    let mut documents = documents.into_iter().filter(|d| d.root.is_some());
    let Some(yaml::Document { root: Some(root), .. }) = documents.next() else {
        return Ok(None);
    };
    let field = |key: &str| root.find(&[PathSegment::Key(key.into())]).map(|(n, _)| n);
    let text_of = |key: &str| field(key).map(Node::to_json_lenient);
    let api_version = text_of("apiVersion").and_then(|v| v.as_str().map(str::to_owned));
    let api_version = api_version.unwrap_or_default();
    if text_of("kind").as_ref().and_then(Value::as_str) != Some("ResourceList")
        || !api_version.starts_with("config.kubernetes.io/")
    {
        return Ok(None);
    }
    if documents.next().is_some() {
        return Err(Error::input_one(Diagnostic::new(
            "standard input holds more than one YAML document; a KRM function reads one ResourceList",
        )));
    }
    match field("items").map(|n| (&n.kind, &n.tag)) {
        None | Some((NodeKind::Seq(_), None)) => {}
        Some((NodeKind::Scalar { text, plain: true }, None))
            if yaml::resolve_plain(text) == Ok(Value::Null) => {}
        Some(_) => {
            return Err(Error::input_one(Diagnostic::new(
                "ResourceList `items` must be a list of objects",
            )));
        }
    }
    // A list with an anchor or a tag is not streamed: its items are in the tree.
    if let Some(NodeKind::Seq(nodes)) = field("items").map(|n| &n.kind) {
        read.extend(nodes.iter().map(ReadItem::new));
    }
    let mut items = Vec::with_capacity(read.len());
    let mut item_texts = Vec::with_capacity(read.len());
    let mut specs = Vec::new();
    for (index, item) in read.into_iter().enumerate() {
        if let Some(spec) = item.spec {
            specs.push((Some(index), spec?));
        }
        items.push(item.head);
        item_texts.push(item.text);
    }
    // Our own settings: read as strictly as a spec.
    let function_config = match field("functionConfig") {
        Some(node) => Some(node.to_json().map_err(|err| yaml_error(&err))?),
        None => None,
    };
    let function_config = function_config.filter(|v| !v.is_null());
    if let (Some(config), Some(node)) = (&function_config, field("functionConfig"))
        && is_spec(config)
    {
        specs.push((None, spec_value(node)?));
    }
    Ok(Some(ResourceList { api_version, items, item_texts, function_config, specs }))
}

/// An input item as read: what identifies it, its text for the output, and for a spec item
/// its spec form (or why it cannot be read).
struct ReadItem {
    head: Value,
    text: String,
    spec: Option<Result<Value, Error>>,
}

impl ReadItem {
    fn new(node: &Node) -> Self {
        let head = match &node.kind {
            NodeKind::Map(entries) => Value::Object(
                entries
                    .iter()
                    .filter(|(key, _)| {
                        matches!(key.name.as_str(), "apiVersion" | "kind" | "metadata")
                    })
                    .map(|(key, value)| (key.name.clone(), value.to_json_lenient()))
                    .collect(),
            ),
            _ => node.to_json_lenient(),
        };
        let spec = is_spec(&head).then(|| spec_value(node));
        Self { head, text: input_entry(node), spec }
    }
}

/// A spec item as JSON, read as strictly as a spec file: no tags, no merge keys.
fn spec_value(node: &yaml::Node) -> Result<Value, Error> {
    crate::load::to_json(node).map_err(|err| yaml_error(&err))
}

fn yaml_error(err: &yaml::YamlError) -> Error {
    let diagnostic = Diagnostic::new(format!(
        "standard input: {} (line {}, column {})",
        err.message, err.pos.line, err.pos.col
    ));
    Error::input_one(match &err.help {
        Some(help) => diagnostic.with_help(help),
        None => diagnostic,
    })
}

/// Whether an item is a cluster spec (any kind of ours, so a misspelt kind is reported).
fn is_spec(item: &Value) -> bool {
    item.get("apiVersion")
        .and_then(Value::as_str)
        .is_some_and(|v| v.split('/').next() == spec::API_VERSION.split('/').next())
}

/// Runs the function on one `ResourceList`.
pub fn run(list: &ResourceList, options: &FnOptions) -> Result<Outcome, Error> {
    let mut results = Results::default();
    let (settings, output_dir) = read_function_config(list, options, &mut results);
    let output_dir = output_dir.and_then(|dir| match normalize_dir(&dir) {
        Ok(dir) => Some(dir),
        Err(message) => {
            results.error(message, None, Some(OUTPUT_DIR_SETTING.into()));
            None
        }
    });
    let sources = if results.has_errors() { Vec::new() } else { sources(list, &settings) };
    let mut clusters: Vec<Cluster> = Vec::new();
    for source in &sources {
        let options = RenderOptions { overrides: &settings, ..RenderOptions::default() };
        let input = Input { origin: source.origin.clone(), text: source.text.clone() };
        let mut objects = Vec::new();
        match pipeline::render_each(&[input], &options, |checked| {
            objects.extend(checked.into_iter().map(|o| o.value));
        }) {
            Ok(warnings) => {
                for warning in &warnings {
                    let warning =
                        warning.strip_prefix(&format!("{}: ", source.origin)).unwrap_or(warning);
                    results.push("warning", warning.to_owned(), Some(source), None);
                }
                let cluster = Cluster::new(source, objects);
                if let Some(first) = clusters.iter().find(|c| c.key() == cluster.key()) {
                    results.error(
                        format!(
                            "two clusters are named `{}` (in {} and {}): their objects would overwrite each other",
                            cluster.name, first.origin, cluster.origin
                        ),
                        Some(source),
                        Some("metadata.name".into()),
                    );
                }
                clusters.push(cluster);
            }
            Err(err) => {
                results.kind = results.kind.max(rank(err.kind));
                for diagnostic in err.diagnostics {
                    let message = match &diagnostic.help {
                        Some(help) => format!("{} ({help})", diagnostic.message),
                        None => diagnostic.message.clone(),
                    };
                    results.error(
                        message,
                        Some(source),
                        (!diagnostic.path.is_empty()).then(|| display_path(&diagnostic.path)),
                    );
                }
            }
        }
    }
    if results.has_errors() {
        return Ok(results.into_failure(list));
    }
    let output_dir = output_dir.unwrap_or_else(|| DEFAULT_OUTPUT_DIR.to_owned());
    let generated: Vec<ObjectId> =
        clusters.iter().flat_map(|c| c.objects.iter().map(object_id)).collect();
    let mut new_entries = Vec::new();
    for cluster in clusters {
        let path = cluster.file(&output_dir);
        for (index, mut object) in cluster.objects.into_iter().enumerate() {
            annotate(&mut object, &path, index);
            new_entries.push(new_entry(&object));
        }
    }
    let kept = list
        .items
        .iter()
        .zip(&list.item_texts)
        .filter(|(item, _)| !is_earlier_output(item, &output_dir, &generated))
        .map(|(_, text)| text.as_str());
    let entries: Vec<&str> = kept.chain(new_entries.iter().map(String::as_str)).collect();
    let stdout = encode(&list.api_version, &entries, &results.entries);
    Ok(Outcome { stdout, ..Outcome::default() })
}

/// The settings of a `ConfigMap` functionConfig, and the output directory.
fn read_function_config(
    list: &ResourceList,
    options: &FnOptions,
    results: &mut Results,
) -> (Vec<Override>, Option<String>) {
    let mut settings = Vec::new();
    let mut output_dir = options.output_dir.map(str::to_owned);
    let Some(config) = &list.function_config else { return (settings, output_dir) };
    if is_spec(config) {
        return (settings, output_dir);
    }
    let kind = config.get("kind").and_then(Value::as_str).unwrap_or_default();
    if kind != "ConfigMap" {
        results.error(
            format!(
                "functionConfig must be a {} or a ConfigMap of settings (got kind `{kind}`)",
                spec::JOB_CLUSTER
            ),
            None,
            Some("kind".into()),
        );
        return (settings, output_dir);
    }
    let data = match config.get("data") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(data)) => data.clone(),
        Some(_) => {
            results.error("ConfigMap `data` must be a mapping".into(), None, Some("data".into()));
            Map::new()
        }
    };
    for (key, value) in data {
        let field = display_path(&[PathSegment::Key("data".into()), PathSegment::Key(key.clone())]);
        let text = match value {
            Value::String(text) => text,
            Value::Number(_) | Value::Bool(_) => value.to_string(),
            _ => {
                results.error(format!("setting `{key}` must be a string"), None, Some(field));
                continue;
            }
        };
        if key == OUTPUT_DIR_SETTING {
            output_dir = Some(text);
            continue;
        }
        match format!("{key}={text}").parse::<Override>() {
            Ok(setting) => settings.push(setting),
            Err(message) => results.error(
                format!("{message} (settings are `{OUTPUT_DIR_SETTING}` or spec paths)"),
                None,
                Some(field),
            ),
        }
    }
    (settings, output_dir)
}

/// A spec to render and where it came from.
#[derive(Debug)]
struct Source {
    /// The file it came from, or where it stands in the `ResourceList`.
    origin: String,
    text: String,
    file: Option<(String, Option<i64>)>,
    resource_ref: Value,
}

impl Source {
    fn new(value: &Value, spec_form: &Value, fallback: String) -> Self {
        let file = annotation(value, PATH_ANNOTATION)
            .or_else(|| annotation(value, LEGACY_PATH_ANNOTATION))
            .map(|path| {
                let index = annotation(value, INDEX_ANNOTATION)
                    .or_else(|| annotation(value, LEGACY_INDEX_ANNOTATION))
                    .and_then(|i| i.parse().ok());
                (path.to_owned(), index)
            });
        let mut resource_ref = Map::new();
        for (key, value) in [
            ("apiVersion", value.get("apiVersion")),
            ("kind", value.get("kind")),
            ("name", value.pointer("/metadata/name")),
            ("namespace", value.pointer("/metadata/namespace")),
        ] {
            if let Some(text) = value.and_then(Value::as_str) {
                resource_ref.insert(key.into(), text.into());
            }
        }
        let origin = file.as_ref().map_or(fallback, |(path, _)| path.clone());
        // JSON is YAML; the loader re-reads it, and its quoted strings stay strings.
        Self {
            origin,
            text: spec_form.to_string(),
            file,
            resource_ref: Value::Object(resource_ref),
        }
    }
}

/// The specs to render: every spec item, then a spec functionConfig that is not one of the
/// items (kpt's `configPath` and kustomize send the same object as both), else a spec made
/// of the settings alone.
fn sources(list: &ResourceList, settings: &[Override]) -> Vec<Source> {
    let mut sources = Vec::new();
    for (index, spec_form) in &list.specs {
        if let Some(i) = index {
            sources.push(Source::new(&list.items[*i], spec_form, format!("items[{i}]")));
            continue;
        }
        let Some(config) = &list.function_config else { continue };
        let same = |item: &Value| {
            is_spec(item)
                && ["/kind", "/metadata/name", "/metadata/namespace"]
                    .iter()
                    .all(|p| item.pointer(p) == config.pointer(p))
        };
        if !list.items.iter().any(same) {
            sources.push(Source::new(config, spec_form, "functionConfig".into()));
        }
    }
    if sources.is_empty() && !settings.is_empty() {
        let spec_form = json!({
            "apiVersion": spec::API_VERSION,
            "kind": spec::JOB_CLUSTER,
            "metadata": {},
            "spec": {},
        });
        let config = list.function_config.clone().unwrap_or(Value::Null);
        let mut source = Source::new(&config, &spec_form, "functionConfig".into());
        source.resource_ref = Value::Object(Map::new());
        sources.push(source);
    }
    sources
}

/// One rendered cluster.
struct Cluster {
    origin: String,
    name: String,
    namespace: Option<String>,
    objects: Vec<Value>,
}

impl Cluster {
    fn new(source: &Source, objects: Vec<Value>) -> Self {
        // The rendered objects say what the spec became after the settings were applied.
        let first = objects.first();
        let name = first
            .and_then(|o| o.pointer("/metadata/labels/app.kubernetes.io~1instance"))
            .or_else(|| source.resource_ref.get("name"))
            .and_then(Value::as_str)
            .unwrap_or("cluster")
            .to_owned();
        let namespace =
            first.and_then(|o| o.pointer("/metadata/namespace")).and_then(Value::as_str);
        Self {
            origin: source.origin.clone(),
            name,
            namespace: namespace.map(str::to_owned),
            objects,
        }
    }

    fn key(&self) -> (Option<&str>, &str) {
        (self.namespace.as_deref(), &self.name)
    }

    /// `<dir>/<name>.yaml`, or `<dir>/<namespace>/<name>.yaml`.
    fn file(&self, dir: &str) -> String {
        match &self.namespace {
            Some(namespace) => format!("{dir}/{namespace}/{}.yaml", self.name),
            None => format!("{dir}/{}.yaml", self.name),
        }
    }
}

fn annotation<'a>(item: &'a Value, key: &str) -> Option<&'a str> {
    item.pointer("/metadata/annotations")?.get(key)?.as_str()
}

/// Kind, namespace and name: what makes two objects the same object.
type ObjectId = (Option<String>, Option<String>, Option<String>);

fn object_id(item: &Value) -> ObjectId {
    let text = |pointer: &str| item.pointer(pointer).and_then(Value::as_str).map(str::to_owned);
    (text("/kind"), text("/metadata/namespace"), text("/metadata/name"))
}

/// Whether an item is an object an earlier run wrote, labelled as ours (or as a native
/// cluster's, whose labels are Flink's) and either under the
/// output directory (so a renamed or removed cluster leaves nothing behind) or the same
/// object as a new one (so changing the output directory leaves no duplicate). A file of the
/// user's own, or an unlabelled one in that directory, is kept.
fn is_earlier_output(item: &Value, dir: &str, generated: &[ObjectId]) -> bool {
    let ours = [MANAGED_BY, NATIVE_TYPE].iter().any(|(label, value)| {
        item.pointer("/metadata/labels")
            .and_then(|labels| labels.get(label))
            .and_then(Value::as_str)
            == Some(value)
    });
    let path =
        annotation(item, PATH_ANNOTATION).or_else(|| annotation(item, LEGACY_PATH_ANNOTATION));
    let under_dir =
        path.is_some_and(|p| p.trim_start_matches("./").starts_with(&format!("{dir}/")));
    ours && (under_dir || generated.contains(&object_id(item)))
}

fn annotate(object: &mut Value, path: &str, index: usize) {
    let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) else {
        return;
    };
    let annotations = metadata.entry("annotations").or_insert_with(|| json!({}));
    if let Some(annotations) = annotations.as_object_mut() {
        for key in [PATH_ANNOTATION, LEGACY_PATH_ANNOTATION] {
            annotations.insert(key.into(), path.into());
        }
        for key in [INDEX_ANNOTATION, LEGACY_INDEX_ANNOTATION] {
            annotations.insert(key.into(), index.to_string().into());
        }
    }
}

/// A relative slash path inside the package, without `.`/`..` parts or a trailing `/`.
fn normalize_dir(dir: &str) -> Result<String, String> {
    let parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty() && *p != ".").collect();
    if dir.starts_with('/') || dir.contains('\\') || parts.is_empty() || parts.contains(&"..") {
        return Err(format!(
            "output directory `{dir}` must be a relative path inside the package, e.g. `{DEFAULT_OUTPUT_DIR}` (no `..`)"
        ));
    }
    Ok(parts.join("/"))
}

/// Collected `results`, and the worst error kind seen.
#[derive(Default)]
struct Results {
    entries: Vec<Value>,
    diagnostics: Vec<Diagnostic>,
    kind: u8,
}

/// Orders error kinds by exit code, so the worst wins.
fn rank(kind: ErrorKind) -> u8 {
    match kind {
        // `fn` meets no cluster: the two `status` kinds cannot arise here.
        ErrorKind::Usage | ErrorKind::Input | ErrorKind::NotRunning | ErrorKind::NotFound => 1,
        ErrorKind::Internal => 3,
    }
}

impl Results {
    fn has_errors(&self) -> bool {
        !self.diagnostics.is_empty()
    }

    fn error(&mut self, message: String, source: Option<&Source>, field: Option<String>) {
        self.kind = self.kind.max(1);
        let place = source.map_or("functionConfig", |s| s.origin.as_str());
        let shown = match &field {
            Some(field) if !field.is_empty() => format!("{place}: {field}"),
            _ => place.to_owned(),
        };
        self.diagnostics.push(Diagnostic::new(format!("{shown}: {message}")));
        self.push("error", message, source, field);
    }

    fn push(
        &mut self,
        severity: &str,
        message: String,
        source: Option<&Source>,
        field: Option<String>,
    ) {
        let mut result = Map::new();
        result.insert("message".into(), message.into());
        result.insert("severity".into(), severity.into());
        if let Some(source) = source {
            if source.resource_ref.as_object().is_some_and(|r| !r.is_empty()) {
                result.insert("resourceRef".into(), source.resource_ref.clone());
            }
            if let Some((path, index)) = &source.file {
                let mut file = json!({ "path": path });
                if let Some(index) = index {
                    file["index"] = json!(index);
                }
                result.insert("file".into(), file);
            }
        }
        if let Some(field) = field.filter(|f| !f.is_empty()) {
            result.insert("field".into(), json!({ "path": field }));
        }
        self.entries.push(Value::Object(result));
    }

    /// The input items unchanged, the results, and the error for stderr and the exit code.
    fn into_failure(self, list: &ResourceList) -> Outcome {
        let kind = if self.kind >= 3 { ErrorKind::Internal } else { ErrorKind::Input };
        let failure = Error { kind, diagnostics: self.diagnostics };
        let items: Vec<&str> = list.item_texts.iter().map(String::as_str).collect();
        let stdout = encode(&list.api_version, &items, &self.entries);
        Outcome { stdout, failure: Some(failure), ..Outcome::default() }
    }
}

/// The output list: the entries of `items` (each already written as a list of one:
/// [`input_entry`], [`new_entry`]), then the results, all by the one YAML writer.
fn encode(api_version: &str, entries: &[&str], results: &[Value]) -> Vec<u8> {
    #[derive(Serialize)]
    struct Head<'a> {
        #[serde(rename = "apiVersion")]
        api_version: yaml::Text<'a>,
        kind: &'static str,
    }
    #[derive(Serialize)]
    struct Results<'a> {
        results: Vec<yaml::Json<'a>>,
    }
    let size = entries.iter().map(|e| e.len()).sum::<usize>();
    let mut out = String::with_capacity(size + 256);
    let head = Head { api_version: yaml::Text(api_version), kind: "ResourceList" };
    yaml::write_serialized(&head, &mut out);
    if entries.is_empty() {
        out.push_str("items: []\n");
    } else {
        out.push_str("items:\n");
        for entry in entries {
            out.push_str(entry);
        }
    }
    if !results.is_empty() {
        let results = Results { results: results.iter().map(yaml::Json).collect() };
        yaml::write_serialized(&results, &mut out);
    }
    out.into_bytes()
}

/// A new object as an entry of the output's `items`.
fn new_entry(object: &Value) -> String {
    let mut entry = String::new();
    yaml::write_serialized(std::slice::from_ref(&yaml::Json(object)), &mut entry);
    entry
}

/// An input item as an entry of the output's `items`, from its node tree: keys in the order
/// they were written, plain scalars in their own text ([`Verbatim`]), tags kept.
fn input_entry(node: &Node) -> String {
    // The placeholders' prefix must occur nowhere in what is written. An item may hold any
    // fixed prefix, but not one derived from a hash of everything written with it.
    let mut salt = String::from("0");
    for _ in 0..3 {
        let verbatim = Verbatim::new(&salt);
        // A list of one: the writer indents it as it does the output's `items`.
        let mut out = String::new();
        let entry = Written { item: node, verbatim: &verbatim };
        yaml::write_serialized(std::slice::from_ref(&entry), &mut out);
        if let Some(out) = verbatim.restore(&out) {
            return out;
        }
        salt = hex_digest(&out);
    }
    unreachable!("a prefix hashed from the output occurs only in its placeholders")
}

fn hex_digest(text: &str) -> String {
    use sha2::{Digest, Sha256};
    use std::fmt::Write as _;
    Sha256::digest(text.as_bytes()).iter().take(8).fold(String::new(), |mut hex, b| {
        let _ = write!(hex, "{b:02x}");
        hex
    })
}

/// A node of an input item, with the placeholders of its plain scalars.
struct Written<'a, T> {
    item: &'a T,
    verbatim: &'a Verbatim,
}

impl Serialize for Written<'_, Node> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match &self.item.tag {
            Some(tag) => {
                serde_saphyr::Tagged(Untagged(self), Some(tag.clone())).serialize(serializer)
            }
            None => Untagged(self).serialize(serializer),
        }
    }
}

/// A node without its tag.
struct Untagged<'a, 'b>(&'a Written<'b, Node>);

impl Serialize for Untagged<'_, '_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let Written { item, verbatim } = self.0;
        let node = |item| Written { item, verbatim };
        match &item.kind {
            // A multi-line plain scalar's text is its folded value: written as a string.
            NodeKind::Scalar { text, plain: true } if !text.contains('\n') => {
                serializer.serialize_str(&verbatim.placeholder(text))
            }
            NodeKind::Scalar { text, .. } => yaml::Text(text).serialize(serializer),
            NodeKind::Seq(items) => serializer.collect_seq(items.iter().map(node)),
            NodeKind::Map(entries) => serializer
                .collect_map(entries.iter().map(|(key, value)| (verbatim.key(key), node(value)))),
        }
    }
}

/// A word YAML 1.1 reads as a boolean or null (`on`, `No`, `~`): kubectl's go-yaml does.
fn is_yaml_11_word(word: &str) -> bool {
    const WORDS: &[&str] = &["y", "n", "yes", "no", "on", "off", "true", "false", "null"];
    WORDS.iter().any(|w| w.eq_ignore_ascii_case(word))
}

/// The text of the input items' plain scalars. serde-saphyr writes a value its own way
/// (`0.50` as `0.5`, `0x10` as `16`, `~` as `null`, `on` quoted), and kpt writes the items back
/// to the user's files: the first run would edit them, and through a spec's
/// `flinkConfiguration` (whose values keep their text) the rendered objects would change on
/// the second. serde-saphyr cannot write a scalar verbatim, so each is written as a
/// placeholder word, then replaced by its text (valid where it stood, so valid here: a block
/// map value or sequence item admits every plain scalar a flow or block collection does).
struct Verbatim {
    prefix: String,
    texts: RefCell<Vec<String>>,
}

impl Verbatim {
    fn new(salt: &str) -> Self {
        Self { prefix: format!("kubectl-flink-verbatim-{salt}-"), texts: RefCell::default() }
    }

    fn token(&self, index: usize) -> String {
        format!("{}{index:08}", self.prefix)
    }

    /// A mapping key as written: a plain key that YAML would not read as the same string if
    /// the writer quoted it (`1`, `true`, `~`, `0x10`) is a placeholder for its own text.
    fn key<'k>(&self, key: &'k yaml::Key) -> std::borrow::Cow<'k, str> {
        let name = key.name.as_str();
        let ordinary = name.starts_with(|c: char| c.is_ascii_alphabetic())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || "_./-".contains(c))
            && !is_yaml_11_word(name);
        if key.plain && !ordinary && !name.is_empty() && name.len() <= 1024 && !name.contains('\n')
        {
            std::borrow::Cow::Owned(self.placeholder(name))
        } else {
            std::borrow::Cow::Borrowed(name)
        }
    }

    /// The placeholder for a plain scalar's text.
    fn placeholder(&self, text: &str) -> String {
        let mut texts = self.texts.borrow_mut();
        texts.push(text.to_owned());
        self.token(texts.len() - 1)
    }

    /// `written` with each placeholder replaced by its text (`key:` and `-` alone for an empty
    /// one); `None` if the prefix occurs anywhere but in the placeholders, in their order, each
    /// a whole value after `: ` or `- `.
    fn restore(&self, written: &str) -> Option<String> {
        let texts = self.texts.borrow();
        let mut out = String::with_capacity(written.len());
        let mut rest = written;
        for (index, text) in texts.iter().enumerate() {
            let at = rest.find(&self.prefix)?;
            let token = self.token(index);
            let (before, after) = (&rest[..at], &rest[at..]);
            // A value (`: token` or `- token` ending its line), or a key (`token:`).
            let after =
                after.strip_prefix(&token).filter(|a| a.starts_with('\n') || a.starts_with(':'))?;
            let before = before.strip_suffix(' ')?;
            out.push_str(before);
            if !text.is_empty() {
                out.push(' ');
                out.push_str(text);
            }
            rest = after;
        }
        if rest.contains(&self.prefix) {
            return None;
        }
        out.push_str(rest);
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_text(text: &str) -> Outcome {
        let list = parse(text).unwrap().expect("a ResourceList");
        run(&list, &FnOptions::default()).unwrap()
    }

    #[test]
    fn other_yaml_is_not_a_resource_list() {
        assert_eq!(parse("apiVersion: v1\nkind: List\n").unwrap(), None);
        assert_eq!(parse("").unwrap(), None);
        assert!(parse("kind: [").is_err());
    }

    #[test]
    fn output_dirs_stay_inside_the_package() {
        assert_eq!(normalize_dir("./gen//flink/").unwrap(), "gen/flink");
        for bad in ["/abs", "../up", "a/../b", "", ".", "a\\b"] {
            assert!(normalize_dir(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn multi_line_strings_round_trip_as_blocks() {
        let strings = [
            "#!/bin/sh\necho \"$JAVA_OPTS\"\n",
            "  leading spaces\nsecond\n",
            "no final newline\nsecond",
            "trailing blank lines\n\n\n",
            "\n\nstarts with newlines\n",
            "tab\tinside\nand trailing spaces  \n",
            "on\nyes\n",
            "crlf\r\nline\r\n",
            "- not a list\n# not a comment\n",
            &"long ".repeat(40),
        ];
        let items: Vec<Value> = strings.iter().map(|s| json!({ "data": { "s": s } })).collect();
        let new: Vec<String> = items.iter().map(new_entry).collect();
        let text =
            String::from_utf8(encode("config.kubernetes.io/v1", &entries(&new), &[])).unwrap();
        assert!(text.contains("s: |"), "{text}");
        let back = yaml::parse_documents(&text).unwrap().remove(0).root.unwrap().to_json().unwrap();
        assert_eq!(back["items"], Value::Array(items), "{text}");
    }

    /// A package that holds the placeholders' first prefix still goes out as it came in.
    #[test]
    fn input_holding_the_placeholder_prefix_is_written_verbatim() {
        let input = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: c}\n  data:\n    kubectl-flink-verbatim-0-00000000: \"kubectl-flink-verbatim-0-00000001\"\n    b: 0.50\n";
        let list = parse(input).unwrap().expect("a ResourceList");
        let text = written_back(&list);
        assert!(
            text.contains("kubectl-flink-verbatim-0-00000000: kubectl-flink-verbatim-0-00000001\n"),
            "{text}"
        );
        assert!(text.contains("b: 0.50\n"), "{text}");
    }

    /// The first document of a package.
    fn root_of(text: &str) -> yaml::Node {
        yaml::parse_documents_with(text, Limits::PACKAGE).unwrap().remove(0).root.unwrap()
    }

    fn reparse(text: &str) -> Value {
        root_of(text).to_json().unwrap()
    }

    fn entries(texts: &[String]) -> Vec<&str> {
        texts.iter().map(String::as_str).collect()
    }

    /// The input items as text, written back from their node trees.
    fn written_back(list: &ResourceList) -> String {
        String::from_utf8(encode(&list.api_version, &entries(&list.item_texts), &[])).unwrap()
    }

    /// The items of a list as JSON, every field.
    fn items_of(text: &str) -> Value {
        root_of(text).to_json_lenient()["items"].clone()
    }

    #[test]
    fn items_keep_their_plain_scalars_and_key_order() {
        let input = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n\
            - {kind: ConfigMap, apiVersion: v1, data: {z: 0.50, a: 0x10, b: on, c: '0', d: \"x y\"}}\n\
            - kind: X\n  empty:\n  list: [[1, [2]], {}, [], {k: [a, b]}]\n  text: |\n    two\n    lines\n";
        let list = parse(input).unwrap().unwrap();
        let text = written_back(&list);
        assert!(text.contains("- kind: ConfigMap\n  apiVersion: v1\n  data:\n    z: 0.50\n    a: 0x10\n    b: on\n    c: \"0\"\n    d: x y\n"), "{text}");
        assert!(text.contains("- kind: X\n  empty: ~\n  list:\n"), "{text}");
        assert!(text.contains("  text: |\n    two\n    lines\n"), "{text}");
        assert_eq!(reparse(&text)["items"], items_of(input), "{text}");
        // Written back, the items are written the same again (kpt's second run).
        assert_eq!(written_back(&parse(&text).unwrap().unwrap()), text);
    }

    #[test]
    fn a_placeholder_lookalike_in_the_input_stays_as_it_is() {
        let input = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n\
            - {a: kubectl-flink-verbatim-0-00000000, b: 0.50, c: [kubectl-flink-verbatim-1-00000000, ~, '']}\n";
        let list = parse(input).unwrap().unwrap();
        let text = written_back(&list);
        assert!(text.contains("- a: kubectl-flink-verbatim-0-00000000\n  b: 0.50\n  c:\n  - kubectl-flink-verbatim-1-00000000\n  - ~\n  - \"\"\n"), "{text}");
    }

    proptest::proptest! {
        /// A new object, and the same object read back as an input item, write what they are.
        #[test]
        fn any_json_round_trips(value in json_value()) {
            let new = vec![new_entry(&value)];
            let text = String::from_utf8(encode("config.kubernetes.io/v1", &entries(&new), &[])).unwrap();
            let list = json!({"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": [value]});
            proptest::prop_assert_eq!(reparse(&text), list.clone(), "{}", text);
            let again = written_back(&parse(&text).unwrap().unwrap());
            proptest::prop_assert_eq!(reparse(&again), list, "{}", again);
        }
    }

    proptest::proptest! {
        /// Items written one by one are what the one writer writes for the whole list, byte
        /// for byte.
        #[test]
        fn entries_are_what_the_writer_writes_in_a_list(values in proptest::collection::vec(json_value(), 0..4)) {
            #[derive(Serialize)]
            struct List<'a> {
                #[serde(rename = "apiVersion")]
                api_version: &'static str,
                kind: &'static str,
                items: Vec<yaml::Json<'a>>,
            }
            let new: Vec<String> = values.iter().map(new_entry).collect();
            let text = String::from_utf8(encode("config.kubernetes.io/v1", &entries(&new), &[])).unwrap();
            let list = List { api_version: "config.kubernetes.io/v1", kind: "ResourceList", items: values.iter().map(yaml::Json).collect() };
            let mut whole = String::new();
            yaml::write_serialized(&list, &mut whole);
            proptest::prop_assert_eq!(text, whole);
        }
    }

    fn json_value() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let text = prop_oneof![
            any::<String>(),
            "[ -~\\n\\t]{0,20}",
            prop::sample::select(vec![
                "on", "0x10", "1.20", "~", "null", "<<", "- a", "a: b", "#", "|", ""
            ])
            .prop_map(str::to_owned),
        ];
        let leaf = prop_oneof![
            text.clone().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<bool>().prop_map(Value::from),
            (-1.0e9f64..1.0e9).prop_map(Value::from),
            Just(Value::Null),
        ];
        leaf.prop_recursive(4, 32, 4, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map(text.clone(), inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    #[test]
    fn settings_alone_make_a_cluster() {
        let out = run_text(
            "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\n\
             functionConfig: {apiVersion: v1, kind: ConfigMap, metadata: {name: function-input},\n\
             data: {metadata.name: demo, spec.image: 'flink:2.1', outputDir: out}}\n",
        );
        assert!(out.failure.is_none());
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains("internal.config.kubernetes.io/path: out/demo.yaml"), "{text}");
        assert!(text.contains("name: demo-taskmanager"), "{text}");
    }

    #[test]
    fn a_bad_setting_is_an_error_result() {
        let out = run_text(
            "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\n\
             functionConfig: {apiVersion: v1, kind: ConfigMap, data: {'not a path[': x}}\n",
        );
        assert_eq!(out.failure.as_ref().map(Error::exit_code), Some(1));
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains("severity: error"), "{text}");
    }
}
