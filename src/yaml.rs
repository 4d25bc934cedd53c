//! The only place YAML is read and written.
//!
//! Reading: a small, bounded node tree with source spans, over serde-saphyr's parser. Spec
//! files are parsed into [`Node`]s (not straight into types) so that later stages can
//! substitute variables inside scalars, apply `--set`, and still point errors at the line the
//! user wrote; template output is read the same way. Parsing is bounded: input size, nesting
//! depth and the number of nodes after alias expansion are capped, so an alias bomb or a
//! deeply nested file fails fast with the limit named in the error.
//!
//! Writing: [`write`], serde-saphyr's serializer with the options every output uses.

use serde::Serialize;
use serde_json::{Map, Number, Value};
use serde_saphyr::granit_parser::{Event, Parser, ScalarStyle, ScanError, Span, Tag};

/// Largest spec input accepted, in bytes.
pub const MAX_INPUT_BYTES: usize = 1024 * 1024;
/// Deepest nesting of mappings and sequences accepted.
pub const MAX_DEPTH: usize = 32;
/// Most nodes accepted in one input, counting every alias expansion.
pub const MAX_NODES: usize = 20_000;
/// Most text (scalars and keys, in bytes) that alias expansion may add to one input: a few
/// thousand aliases of one long string would otherwise take gigabytes while under the node limit.
pub const MAX_ALIAS_BYTES: usize = MAX_INPUT_BYTES;

/// Caps for one parse. Specs use [`Limits::SPEC`]; a KRM `ResourceList` carries a whole
/// package through the function, so it gets [`Limits::PACKAGE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub input_bytes: usize,
    pub depth: usize,
    pub nodes: usize,
    pub alias_bytes: usize,
    /// Most nodes alias expansion may add (within `nodes`; for a spec the two are equal, so
    /// `nodes` is reached first and this limit matters for packages).
    pub alias_nodes: usize,
    /// Whether YAML a spec may not hold is read: tags other than `!!str`, `!!map` and `!!seq`
    /// (kept on their node) and YAML 1.1 merge keys (expanded, the mapping marked
    /// [`Node::merged`]). A package carries objects that are not ours.
    pub foreign_yaml: bool,
}

impl Limits {
    /// A spec file: [`MAX_INPUT_BYTES`], [`MAX_DEPTH`], [`MAX_NODES`], [`MAX_ALIAS_BYTES`].
    pub const SPEC: Self = Self {
        input_bytes: MAX_INPUT_BYTES,
        depth: MAX_DEPTH,
        nodes: MAX_NODES,
        alias_bytes: MAX_ALIAS_BYTES,
        alias_nodes: MAX_NODES,
        foreign_yaml: false,
    };
    /// A package of Kubernetes objects (CRD schemas nest deeply; packages hold thousands of
    /// objects). What aliases may add is a spec's limit: a package's size comes from its
    /// text, never from expansion (a few hundred bytes of aliases could otherwise build
    /// millions of nodes).
    pub const PACKAGE: Self = Self {
        input_bytes: 64 * 1024 * 1024,
        depth: 128,
        nodes: 4_000_000,
        alias_bytes: MAX_ALIAS_BYTES,
        alias_nodes: MAX_NODES,
        foreign_yaml: true,
    };
}

/// A position in the source text: 1-based line and column, byte offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    pub line: usize,
    pub col: usize,
    pub offset: usize,
}

/// One YAML node with the span it was read from.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub kind: NodeKind,
    pub start: Pos,
    pub end: Pos,
    /// The node's resolved tag (`tag:yaml.org,2002:binary`, `!local`): only under
    /// [`Limits::foreign_yaml`]; `!!str`, `!!map` and `!!seq` are never kept.
    pub tag: Option<String>,
    /// Whether this mapping had a merge key (`<<`), expanded: only under
    /// [`Limits::foreign_yaml`]. An alias of it is marked too.
    pub merged: bool,
}

/// What a node holds. Mapping keys are always strings.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    Scalar { text: String, plain: bool },
    Seq(Vec<Node>),
    Map(Vec<(Key, Node)>),
}

/// A mapping key and where it stands.
#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    pub name: String,
    pub start: Pos,
    pub end: Pos,
    /// Written without quotes: `1`, `true` or `~` as a plain key is not a string to YAML.
    pub plain: bool,
}

/// A parsed document: its root node, or `None` for an empty document.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub root: Option<Node>,
    pub start: Pos,
}

/// What went wrong while reading YAML, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct YamlError {
    pub message: String,
    pub pos: Pos,
    pub help: Option<String>,
}

impl YamlError {
    fn new(message: impl Into<String>, pos: Pos) -> Self {
        Self { message: message.into(), pos, help: None }
    }

    fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// Parses every document of `text`.
pub fn parse_documents(text: &str) -> Result<Vec<Document>, YamlError> {
    parse_documents_with(text, Limits::SPEC)
}

/// Parses every document of `text` under other limits.
pub fn parse_documents_with(text: &str, limits: Limits) -> Result<Vec<Document>, YamlError> {
    check_input_size(text, limits)?;
    Builder::new(text, limits, None).documents()
}

fn check_input_size(text: &str, limits: Limits) -> Result<(), YamlError> {
    if text.len() > limits.input_bytes {
        Err(YamlError::new(
            format!(
                "input is {} bytes, over the limit of {} bytes",
                text.len(),
                limits.input_bytes
            ),
            Pos { line: 1, col: 1, offset: 0 },
        )
        .help("a cluster spec is a few kilobytes; split the input or check that the right file is given"))
    } else {
        Ok(())
    }
}

/// Receives each item of a streamed sequence.
pub type OnItem<'f> = dyn FnMut(Node) + 'f;

/// [`parse_documents_with`], except that the items of the sequence under the root mapping's
/// key `key` go to `on_item` as they are read and are not kept (that sequence is empty in the
/// result): a package of thousands of objects is never held as one tree. A sequence with an
/// anchor or a tag is kept whole.
pub fn parse_streaming(
    text: &str,
    limits: Limits,
    key: &str,
    on_item: &mut OnItem<'_>,
) -> Result<Vec<Document>, YamlError> {
    check_input_size(text, limits)?;
    Builder::new(text, limits, Some((key, on_item))).documents()
}

struct Builder<'a, 'f> {
    parser: Parser<'a, serde_saphyr::granit_parser::StrInput<'a>>,
    anchors: Vec<(usize, Node)>,
    nodes: usize,
    alias_bytes: usize,
    alias_nodes: usize,
    limits: Limits,
    stream: Option<(&'f str, &'f mut OnItem<'f>)>,
}

/// Adds `added` to `total`; past `limit`, the error `refusal` makes of the limit.
fn add_within(
    total: &mut usize,
    added: usize,
    limit: usize,
    refusal: impl FnOnce(usize) -> YamlError,
) -> Result<(), YamlError> {
    *total += added;
    if *total > limit { Err(refusal(limit)) } else { Ok(()) }
}

/// The resolved tag of a merge key (`!!merge <<`).
const MERGE_TAG: &str = "tag:yaml.org,2002:merge";

fn pos_of(marker: &serde_saphyr::granit_parser::Marker) -> Pos {
    Pos { line: marker.line(), col: marker.col() + 1, offset: marker.byte_offset().unwrap_or(0) }
}

fn scan_error(err: &ScanError, depth: usize) -> YamlError {
    if err.info().contains("recursion limit") {
        // The scanner's own guard against flow collections nested hundreds deep.
        return YamlError::new(
            format!("YAML is nested deeper than the limit of {depth} levels"),
            pos_of(err.marker()),
        );
    }
    YamlError::new(format!("invalid YAML: {}", err.info()), pos_of(err.marker()))
}

impl<'a, 'f> Builder<'a, 'f> {
    fn new(text: &'a str, limits: Limits, stream: Option<(&'f str, &'f mut OnItem<'f>)>) -> Self {
        Self {
            parser: Parser::new_from_str(text),
            anchors: Vec::new(),
            nodes: 0,
            alias_bytes: 0,
            alias_nodes: 0,
            limits,
            stream,
        }
    }

    fn next(&mut self) -> Result<(Event<'a>, Span), YamlError> {
        match self.parser.next() {
            Some(Ok(event)) => Ok(event),
            Some(Err(err)) => Err(scan_error(&err, self.limits.depth)),
            None => Err(YamlError::new("unexpected end of YAML input", Pos::default())),
        }
    }

    fn documents(&mut self) -> Result<Vec<Document>, YamlError> {
        let mut documents = Vec::new();
        loop {
            let (event, span) = self.next()?;
            match event {
                Event::StreamEnd => return Ok(documents),
                Event::DocumentStart(..) => {
                    self.anchors.clear();
                    let start = pos_of(&span.start);
                    let (event, span) = self.next()?;
                    let root = if matches!(event, Event::DocumentEnd) {
                        None
                    } else {
                        let node = self.node(event, span, 0)?;
                        let (end, _) = self.next()?;
                        debug_assert!(matches!(end, Event::DocumentEnd));
                        if is_empty_scalar(&node) { None } else { Some(node) }
                    };
                    documents.push(Document { root, start });
                }
                _ => {}
            }
        }
    }

    fn count(&mut self, pos: Pos, added: usize) -> Result<(), YamlError> {
        add_within(&mut self.nodes, added, self.limits.nodes, |limit| {
            YamlError::new(format!("input expands to more than {limit} YAML nodes"), pos)
                .help("a cluster spec has a few hundred nodes at most; aliases (`*name`) that expand exponentially are the usual cause")
        })
    }

    fn node(&mut self, event: Event<'a>, span: Span, depth: usize) -> Result<Node, YamlError> {
        let start = pos_of(&span.start);
        if depth > self.limits.depth {
            return Err(YamlError::new(
                format!("YAML is nested deeper than the limit of {} levels", self.limits.depth),
                start,
            ));
        }
        self.count(start, 1)?;
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                let (plain, tag) = match tag.as_deref() {
                    None => (style == ScalarStyle::Plain, None),
                    Some(tag) if tag.is_yaml_core_schema_tag("str") => (false, None),
                    Some(tag) => (style == ScalarStyle::Plain, Some(self.kept_tag(tag, start)?)),
                };
                let node = Node {
                    kind: NodeKind::Scalar { text: text.into_owned(), plain },
                    start,
                    end: pos_of(&span.end),
                    tag,
                    merged: false,
                };
                self.remember(anchor, &node);
                Ok(node)
            }
            Event::SequenceStart(_, anchor, tag) => {
                let tag = self.collection_tag(tag.as_deref(), "seq", start)?;
                let mut items = Vec::new();
                let end = loop {
                    let (event, span) = self.next()?;
                    if matches!(event, Event::SequenceEnd) {
                        break pos_of(&span.end);
                    }
                    items.push(self.node(event, span, depth + 1)?);
                };
                let node = Node { kind: NodeKind::Seq(items), start, end, tag, merged: false };
                self.remember(anchor, &node);
                Ok(node)
            }
            Event::MappingStart(_, anchor, tag) => {
                self.mapping(anchor, tag.as_deref(), start, depth)
            }
            Event::Alias(id) => {
                let Some(index) = self.anchors.iter().rposition(|(a, _)| *a == id) else {
                    return Err(YamlError::new("alias refers to an unknown anchor", start));
                };
                // Count before copying, so a bomb fails before it takes the memory.
                let target = &self.anchors[index].1;
                let (size, bytes) = (target.size(), target.text_bytes());
                self.count(start, size)?;
                add_within(&mut self.alias_nodes, size, self.limits.alias_nodes, |limit| {
                    YamlError::new(format!("aliases expand to more than {limit} YAML nodes"), start)
                        .help("an alias copies its anchor's whole value; aliases that expand exponentially are the usual cause")
                })?;
                add_within(&mut self.alias_bytes, bytes, self.limits.alias_bytes, |limit| {
                    YamlError::new(
                        format!("aliases expand to more than {limit} bytes of text"),
                        start,
                    )
                    .help("an alias copies its anchor's whole value; write long values out once")
                })?;
                let mut copy = self.anchors[index].1.clone();
                copy.start = start;
                copy.end = pos_of(&span.end);
                Ok(copy)
            }
            _ => Err(YamlError::new("unexpected YAML structure", start)),
        }
    }

    fn mapping(
        &mut self,
        anchor: usize,
        tag: Option<&Tag>,
        start: Pos,
        depth: usize,
    ) -> Result<Node, YamlError> {
        let tag = self.collection_tag(tag, "map", start)?;
        let mut entries: Vec<(Key, Node)> = Vec::new();
        let mut merge_source: Option<(usize, Node)> = None;
        let end = loop {
            let (event, span) = self.next()?;
            if matches!(event, Event::MappingEnd) {
                break pos_of(&span.end);
            }
            let (key, is_merge) = self.key(event, span, depth)?;
            if is_merge && merge_source.is_some() {
                return Err(YamlError::new("duplicate merge key `<<`", key.start)
                    .help("give one `<<` a list of the mappings to merge"));
            }
            if let Some((first, _)) = entries.iter().find(|(k, _)| k.name == key.name) {
                return Err(YamlError::new(
                    format!(
                        "duplicate key `{}` (first defined on line {})",
                        key.name, first.start.line
                    ),
                    key.start,
                )
                .help("remove one of the two entries"));
            }
            let (event, span) = self.next()?;
            let streamed = depth == 0
                && self.stream.as_ref().is_some_and(|(streamed, _)| *streamed == key.name)
                && matches!(&event, Event::SequenceStart(_, 0, None));
            let value = if streamed {
                self.stream_items(pos_of(&span.start), depth + 1)?
            } else {
                self.node(event, span, depth + 1)?
            };
            if is_merge {
                merge_source = Some((entries.len(), value));
            } else {
                entries.push((key, value));
            }
        };
        let (entries, merged) = match merge_source {
            Some((at, value)) => (merge(entries, at, value)?, true),
            None => (entries, false),
        };
        let node = Node { kind: NodeKind::Map(entries), start, end, tag, merged };
        self.remember(anchor, &node);
        Ok(node)
    }

    /// The items of a sequence, each given to the stream's receiver; an empty sequence.
    fn stream_items(&mut self, start: Pos, depth: usize) -> Result<Node, YamlError> {
        self.count(start, 1)?;
        let end = loop {
            let (event, span) = self.next()?;
            if matches!(event, Event::SequenceEnd) {
                break pos_of(&span.end);
            }
            let item = self.node(event, span, depth + 1)?;
            if let Some((_, on_item)) = self.stream.as_mut() {
                on_item(item);
            }
        };
        Ok(Node { kind: NodeKind::Seq(Vec::new()), start, end, tag: None, merged: false })
    }

    /// A mapping key, and whether it is a merge key.
    fn key(
        &mut self,
        event: Event<'a>,
        span: Span,
        depth: usize,
    ) -> Result<(Key, bool), YamlError> {
        let start = pos_of(&span.start);
        let node = self.node(event, span, depth + 1)?;
        let NodeKind::Scalar { text, plain } = node.kind else {
            return Err(YamlError::new("mapping keys must be plain strings", start));
        };
        let is_merge = match node.tag.as_deref() {
            None => plain && text == "<<",
            Some(MERGE_TAG) if text == "<<" => true,
            Some(_) => {
                return Err(YamlError::new("tags on mapping keys are not supported", start)
                    .help("remove the tag from the key"));
            }
        };
        if is_merge && !self.limits.foreign_yaml {
            return Err(YamlError::new("YAML merge keys (`<<`) are not supported", start)
                .help("write the merged keys out in full"));
        }
        Ok((Key { name: text, start: node.start, end: node.end, plain }, is_merge))
    }

    /// A scalar's tag, kept under [`Limits::foreign_yaml`] and refused otherwise.
    fn kept_tag(&self, tag: &Tag, pos: Pos) -> Result<String, YamlError> {
        if !self.limits.foreign_yaml {
            return Err(unsupported_tag(tag.original_handle(), tag.suffix(), pos));
        }
        let resolved = format!("{}{}", tag.handle(), tag.suffix());
        if can_write_tag(&resolved) {
            Ok(resolved)
        } else {
            Err(YamlError::new(
                format!("YAML tag `{}` cannot be written back", short_tag(&resolved)),
                pos,
            )
            .help("use a local tag (`!name`) or a `tag:` URI without `#`: kpt and kubectl read no other"))
        }
    }

    /// A collection's tag: none for `!!map`/`!!seq` on their own kind, else as [`Self::kept_tag`].
    fn collection_tag(
        &self,
        tag: Option<&Tag>,
        core: &str,
        pos: Pos,
    ) -> Result<Option<String>, YamlError> {
        match tag {
            Some(tag) if !tag.is_yaml_core_schema_tag(core) => self.kept_tag(tag, pos).map(Some),
            _ => Ok(None),
        }
    }

    fn remember(&mut self, anchor: usize, node: &Node) {
        if anchor != 0 {
            self.anchors.push((anchor, node.clone()));
        }
    }
}

/// Whether the one writer can write `resolved` back in a form go-yaml (kpt, kubectl) reads:
/// the writer refuses a global tag that is not an absolute URI, and go-yaml a `#` in one.
fn can_write_tag(resolved: &str) -> bool {
    let mut out = String::new();
    !resolved.contains('#')
        && serde_saphyr::to_fmt_writer(
            &mut out,
            &serde_saphyr::Tagged((), Some(resolved.to_owned())),
        )
        .is_ok()
}

/// A resolved tag as it is usually written: `!!binary`, `!local`, `!<tag:example.com:x>`.
fn short_tag(resolved: &str) -> String {
    match resolved.strip_prefix("tag:yaml.org,2002:") {
        Some(core) => format!("!!{core}"),
        None if resolved.starts_with('!') => resolved.to_owned(),
        None => format!("!<{resolved}>"),
    }
}

fn unsupported_tag(handle: &str, suffix: &str, pos: Pos) -> YamlError {
    YamlError::new(format!("YAML tag `{handle}{suffix}` is not supported"), pos)
        .help("remove the tag; only `!!str` is accepted, to force a string")
}

/// A mapping's entries with its merge key expanded as YAML 1.1 defines it: the merged keys
/// take the place of `<<` (`at` entries in), except those the mapping states itself or an
/// earlier mapping of a merged list gave.
fn merge(
    mut entries: Vec<(Key, Node)>,
    at: usize,
    value: Node,
) -> Result<Vec<(Key, Node)>, YamlError> {
    let maps = match value.kind {
        NodeKind::Map(_) => vec![value],
        NodeKind::Seq(items) if items.iter().all(|i| matches!(i.kind, NodeKind::Map(_))) => items,
        _ => {
            return Err(YamlError::new(
                "a merge key (`<<`) takes a mapping or a list of mappings",
                value.start,
            )
            .help("write `<<: *anchor` or `<<: [*first, *second]`"));
        }
    };
    let mut taken: std::collections::HashSet<String> =
        entries.iter().map(|(key, _)| key.name.clone()).collect();
    let mut added = Vec::new();
    for map in maps {
        let NodeKind::Map(merged) = map.kind else { unreachable!("only mappings are merged") };
        added.extend(merged.into_iter().filter(|(key, _)| taken.insert(key.name.clone())));
    }
    entries.splice(at..at, added);
    Ok(entries)
}

fn is_empty_scalar(node: &Node) -> bool {
    matches!(&node.kind, NodeKind::Scalar { text, plain: true } if is_null(text))
}

impl Node {
    /// Number of nodes in this subtree, itself included.
    pub fn size(&self) -> usize {
        1 + match &self.kind {
            NodeKind::Scalar { .. } => 0,
            NodeKind::Seq(items) => items.iter().map(Node::size).sum(),
            NodeKind::Map(entries) => entries.iter().map(|(_, v)| v.size()).sum(),
        }
    }

    /// Bytes of text in this subtree: scalars and mapping keys.
    fn text_bytes(&self) -> usize {
        match &self.kind {
            NodeKind::Scalar { text, .. } => text.len(),
            NodeKind::Seq(items) => items.iter().map(Node::text_bytes).sum(),
            NodeKind::Map(entries) => {
                entries.iter().map(|(k, v)| k.name.len() + v.text_bytes()).sum()
            }
        }
    }

    /// The node at a path of map keys and sequence indices, and the key that names it.
    pub fn find(&self, path: &[PathSegment]) -> Option<(&Node, Option<&Key>)> {
        let mut node = self;
        let mut key = None;
        for segment in path {
            match (segment, &node.kind) {
                (PathSegment::Key(name), NodeKind::Map(entries)) => {
                    let (k, v) = entries.iter().find(|(k, _)| &k.name == name)?;
                    key = Some(k);
                    node = v;
                }
                (PathSegment::Index(i), NodeKind::Seq(items)) => {
                    node = items.get(*i)?;
                    key = None;
                }
                _ => return None,
            }
        }
        Some((node, key))
    }

    /// Converts the tree to JSON, resolving plain scalars by the YAML 1.2 core schema; a
    /// tagged node is an error.
    pub fn to_json(&self) -> Result<Value, YamlError> {
        if self.merged {
            return Err(YamlError::new("YAML merge keys (`<<`) are not supported", self.start)
                .help("write the merged keys out in full"));
        }
        if let Some(tag) = &self.tag {
            return Err(YamlError::new(
                format!("YAML tag `{}` is not supported", short_tag(tag)),
                self.start,
            )
            .help("remove the tag; only `!!str` is accepted, to force a string"));
        }
        match &self.kind {
            NodeKind::Scalar { text, plain: false } => Ok(Value::String(text.clone())),
            NodeKind::Scalar { text, plain: true } => {
                resolve_plain(text).map_err(|message| YamlError::new(message, self.start))
            }
            NodeKind::Seq(items) => items.iter().map(Node::to_json).collect(),
            NodeKind::Map(entries) => {
                let mut map = Map::new();
                for (key, value) in entries {
                    map.insert(key.name.clone(), value.to_json()?);
                }
                Ok(Value::Object(map))
            }
        }
    }

    /// [`Self::to_json`] for looking at objects that are not ours: a tagged scalar, or a plain
    /// one JSON cannot hold (`.inf`, an integer beyond 64 bits), becomes its text.
    pub fn to_json_lenient(&self) -> Value {
        match &self.kind {
            NodeKind::Scalar { text, plain: true } if self.tag.is_none() => {
                resolve_plain(text).unwrap_or_else(|_| Value::String(text.clone()))
            }
            NodeKind::Scalar { text, .. } => Value::String(text.clone()),
            NodeKind::Seq(items) => items.iter().map(Node::to_json_lenient).collect(),
            NodeKind::Map(entries) => Value::Object(
                entries.iter().map(|(k, v)| (k.name.clone(), v.to_json_lenient())).collect(),
            ),
        }
    }
}

/// Appends `value` as a YAML document body (without `---`, ending in a line break) to `out`.
///
/// This is the one YAML writer: rendered objects, KRM `ResourceList`s and the YAML files
/// kubectl-flink puts in `ConfigMap`s all go through it. It is serde-saphyr's serializer with
/// - `yaml_12: false`: a string that YAML 1.1 would read as something else (`on`, `yes`, `no`,
///   `0x10`, `1e3`, `~`, a date) is quoted, so kubectl (go-yaml, a YAML 1.1 reader) reads it
///   as a string; a quoted string escapes control characters, so no string adds structure;
/// - multi-line strings as literal blocks (`|`), never folded (`>`): config files stay
///   readable and keep every line break;
/// - a sequence under a key starting at the key's column, as `kubectl get -o yaml` prints it.
pub fn write(value: &Value, out: &mut String) {
    write_serialized(&Json(value), out);
}

/// `value` as a YAML document body, written by [`write`].
pub fn to_string(value: &Value) -> String {
    let mut out = String::new();
    write(value, &mut out);
    out
}

/// [`write`] for any value whose strings reach the serializer as [`Text`] (through [`Json`]
/// for JSON values), never as a bare `&str`: a KRM `ResourceList`.
pub(crate) fn write_serialized<T: Serialize + ?Sized>(value: &T, out: &mut String) {
    let options = serde_saphyr::ser_options! {
        yaml_12: false,
        prefer_block_scalars: true,
        folded_wrap_chars: usize::MAX,
        compact_list_indent: true,
    };
    // Writing to a `String` cannot fail, and what is written is JSON-shaped: string keys,
    // finite numbers, no tags or anchors.
    serde_saphyr::to_fmt_writer_with_options(out, &value, options)
        .expect("a JSON-shaped value always serializes");
    if !out.ends_with('\n') {
        // A document that is one scalar ends without a line break.
        out.push('\n');
    }
}

/// A JSON value as [`write`] writes it: as `serde_json` serializes it, with every string a
/// [`Text`].
pub struct Json<'a>(pub &'a Value);

impl Serialize for Json<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::String(text) => Text(text).serialize(serializer),
            Value::Array(items) => serializer.collect_seq(items.iter().map(Json)),
            Value::Object(map) => serializer.collect_map(map.iter().map(|(k, v)| (k, Json(v)))),
            scalar => scalar.serialize(serializer),
        }
    }
}

/// A node tree as [`write`] writes it, keys in the order they were read and plain scalars
/// resolved as [`Node::to_json`] resolves them: a document passed through `render` unchanged
/// as data. Call [`Node::to_json`] first; what it refuses is written here as text.
pub struct Ordered<'a>(pub &'a Node);

impl Serialize for Ordered<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match &self.0.kind {
            NodeKind::Scalar { text, plain: true } => {
                let value = resolve_plain(text).unwrap_or_else(|_| Value::String(text.clone()));
                Json(&value).serialize(serializer)
            }
            NodeKind::Scalar { text, plain: false } => Text(text).serialize(serializer),
            NodeKind::Seq(items) => serializer.collect_seq(items.iter().map(Ordered)),
            NodeKind::Map(entries) => {
                serializer.collect_map(entries.iter().map(|(k, v)| (&k.name, Ordered(v))))
            }
        }
    }
}

/// A string as [`write`] writes it. serde-saphyr 2.2 writes multi-line text as a literal block, with an
/// indentation indicator (`|2`) only when the first line starts with spaces; one that starts
/// with a tab then reads back in YAML 1.2 but libyaml and go-yaml (so kubectl) refuse it
/// ("found a tab character where an indentation space is expected"). Such text is written
/// double-quoted instead.
pub struct Text<'a>(pub &'a str);

impl Serialize for Text<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let first_line_starts_with_tab = || {
            self.0.split('\n').find(|line| !line.is_empty()).is_some_and(|l| l.starts_with('\t'))
        };
        if self.0.contains('\n') && first_line_starts_with_tab() {
            serde_saphyr::DoubleQuoted(self.0).serialize(serializer)
        } else {
            serializer.serialize_str(self.0)
        }
    }
}

/// One step of a path into a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathSegment {
    Key(String),
    Index(usize),
}

/// Whether `c` may stand as itself in the YAML the templates print: YAML's printable
/// characters (`c-printable`) without tab, line breaks and the byte order mark. Anything else
/// is printed as a `\u` escape.
pub fn is_printable(c: char) -> bool {
    matches!(c, ' '..='~' | '\u{85}' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
        && c != '\u{feff}'
}

fn is_null(text: &str) -> bool {
    matches!(text, "" | "~" | "null" | "Null" | "NULL")
}

/// Resolves a plain scalar as YAML 1.2's core schema does: null, bool, int, float, or string.
pub fn resolve_plain(text: &str) -> Result<Value, String> {
    if is_null(text) {
        return Ok(Value::Null);
    }
    match text {
        "true" | "True" | "TRUE" => return Ok(Value::Bool(true)),
        "false" | "False" | "FALSE" => return Ok(Value::Bool(false)),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" | "-.inf" | "-.Inf" | "-.INF"
        | ".nan" | ".NaN" | ".NAN" => {
            return Err(format!("`{text}` is not a finite number; quote it if a string is meant"));
        }
        _ => {}
    }
    if let Some(value) = resolve_int(text) {
        return value.map(Value::Number);
    }
    if is_float(text) {
        return match text.parse::<f64>().ok().and_then(Number::from_f64) {
            Some(n) if text.parse::<f64>().is_ok_and(f64::is_finite) => Ok(Value::Number(n)),
            _ => Err(format!("`{text}` is out of range for a number")),
        };
    }
    Ok(Value::String(text.to_owned()))
}

fn resolve_int(text: &str) -> Option<Result<Number, String>> {
    let too_big = || format!("`{text}` is too large for an integer");
    if let Some(hex) = text.strip_prefix("0x") {
        if !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Some(u64::from_str_radix(hex, 16).map(Number::from).map_err(|_| too_big()));
        }
        return None;
    }
    if let Some(oct) = text.strip_prefix("0o") {
        if !oct.is_empty() && oct.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
            return Some(u64::from_str_radix(oct, 8).map(Number::from).map_err(|_| too_big()));
        }
        return None;
    }
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let parsed = if text.starts_with('-') {
        text.parse::<i64>().map(Number::from).ok()
    } else {
        digits.parse::<u64>().map(Number::from).ok()
    };
    Some(parsed.ok_or_else(too_big))
}

fn is_float(text: &str) -> bool {
    let body = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let mantissa_ok = match mantissa.split_once('.') {
        Some((int, frac)) => {
            (!int.is_empty() || !frac.is_empty())
                && int.bytes().all(|b| b.is_ascii_digit())
                && frac.bytes().all(|b| b.is_ascii_digit())
        }
        None => !mantissa.is_empty() && mantissa.bytes().all(|b| b.is_ascii_digit()),
    };
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit())
    });
    mantissa_ok && exponent_ok && (mantissa.contains('.') || exponent.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fmt::Write as _;

    fn one(text: &str) -> Node {
        parse_documents(text).unwrap().remove(0).root.unwrap()
    }

    #[test]
    fn plain_scalars_follow_the_core_schema() {
        assert_eq!(resolve_plain("3").unwrap(), Value::from(3));
        assert_eq!(resolve_plain("-3").unwrap(), Value::from(-3));
        assert_eq!(resolve_plain("1.20").unwrap(), Value::from(1.2));
        assert_eq!(resolve_plain("1e3").unwrap(), Value::from(1000.0));
        assert_eq!(resolve_plain("0x10").unwrap(), Value::from(16));
        for text in ["on", "yes", "no", "y", "1_000", "1.2.3", "0755x", ".", "e3", "-"] {
            assert_eq!(resolve_plain(text).unwrap(), Value::from(text), "{text}");
        }
        assert_eq!(resolve_plain("~").unwrap(), Value::Null);
        assert!(resolve_plain("99999999999999999999999").is_err());
    }

    #[test]
    fn quoted_scalars_stay_strings() {
        assert_eq!(one("a: '3'").to_json().unwrap()["a"], Value::from("3"));
        assert_eq!(one("a: !!str 3").to_json().unwrap()["a"], Value::from("3"));
    }

    #[test]
    fn duplicate_keys_are_rejected_with_both_lines() {
        let err = parse_documents("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert!(err.message.contains("duplicate key `a` (first defined on line 1)"), "{err:?}");
        assert_eq!(err.pos.line, 3);
    }

    #[test]
    fn alias_bombs_hit_the_node_limit() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let prev = i - 1;
            let refs = vec![format!("*a{prev}"); 6].join(", ");
            writeln!(text, "a{i}: &a{i} [{refs}]").unwrap();
        }
        let err = parse_documents(&text).unwrap_err();
        assert!(err.message.contains("more than 20000 YAML nodes"), "{err:?}");
    }

    #[test]
    fn issue_8_aliases_of_a_long_string_hit_the_byte_limit() {
        let long = "x".repeat(100_000);
        let text = format!("a: &a \"{long}\"\nb: [{}]\n", vec!["*a"; 20].join(", "));
        let err = parse_documents(&text).unwrap_err();
        assert!(err.message.contains("more than 1048576 bytes of text"), "{err:?}");
        assert_eq!(err.pos.line, 2);
    }

    #[test]
    fn deep_nesting_hits_the_depth_limit() {
        let text = format!("{}{}", "[".repeat(100), "]".repeat(100));
        let err = parse_documents(&text).unwrap_err();
        assert!(err.message.contains("deeper than the limit of 32"), "{err:?}");
    }

    #[test]
    fn tags_and_merge_keys_are_rejected() {
        assert!(parse_documents("a: !!python/object x").unwrap_err().message.contains("tag"));
        assert!(
            parse_documents("b: &b {x: 1}\na:\n  <<: *b\n").unwrap_err().message.contains("merge")
        );
    }

    fn package(text: &str) -> Result<Document, YamlError> {
        parse_documents_with(text, Limits::PACKAGE).map(|mut docs| docs.remove(0))
    }

    #[test]
    fn packages_expand_merge_keys_as_yaml_1_1_does() {
        let doc =
            package("b: &b {x: 1, z: 0}\nm:\n  y: 2\n  <<: [*b, {w: 3, x: 9}]\n  z: 5\n").unwrap();
        let keys = |node: &Node| match &node.kind {
            NodeKind::Map(entries) => {
                entries.iter().map(|(k, _)| k.name.clone()).collect::<Vec<_>>()
            }
            _ => panic!("a map"),
        };
        let merged = doc.root.as_ref().unwrap().find(&[PathSegment::Key("m".into())]).unwrap().0;
        assert_eq!(keys(merged), ["y", "x", "w", "z"]);
        assert_eq!(merged.to_json_lenient(), serde_json::json!({"y": 2, "x": 1, "w": 3, "z": 5}));
        assert!(merged.merged);
        assert!(merged.to_json().unwrap_err().message.contains("merge keys"));
        for bad in ["a:\n  <<: 1\n", "a:\n  <<: [1]\n", "a:\n  <<: {x: 1}\n  <<: {y: 1}\n"] {
            assert!(package(bad).unwrap_err().message.contains("merge"), "{bad}");
        }
    }

    #[test]
    fn packages_keep_tags_that_specs_refuse() {
        let doc = package("a: !!binary aGk=\nb: !Ref x\nc: !!set {k: null}\nd: !!str 3\n").unwrap();
        let root = doc.root.unwrap();
        let tag = |key: &str| root.find(&[PathSegment::Key(key.into())]).unwrap().0.tag.clone();
        assert_eq!(tag("a").as_deref(), Some("tag:yaml.org,2002:binary"));
        assert_eq!(tag("b").as_deref(), Some("!Ref"));
        assert_eq!(tag("c").as_deref(), Some("tag:yaml.org,2002:set"));
        assert_eq!(tag("d"), None);
        let err = root.to_json().unwrap_err();
        assert_eq!(err.message, "YAML tag `!!binary` is not supported");
        assert_eq!(root.to_json_lenient()["b"], "x");
        assert!(package("!Ref k: v\n").unwrap_err().message.contains("tags on mapping keys"));
        // Tags the writer or go-yaml (kpt) could not take back are refused where they stand.
        for text in ["a: !<x> v\n", "a: !<tag:ex,2000:a%23b> v\n"] {
            let err = package(text).unwrap_err();
            assert!(err.message.contains("cannot be written back"), "{text}: {err:?}");
        }
    }

    /// As docs/safety.md says: `!!map` and `!!seq` are read where they name what the node is.
    #[test]
    fn collection_tags_are_read_only_on_their_own_kind() {
        assert!(parse_documents("a: !!map {x: 1}\nb: !!seq [1]\n").is_ok());
        for text in ["a: !!seq {x: 1}\n", "a: !!map [1]\n", "a: !!set {x: null}\n"] {
            assert!(parse_documents(text).unwrap_err().message.contains("tag"), "{text}");
        }
    }

    #[test]
    fn find_returns_the_key_span() {
        let root = one("spec:\n  taskManager:\n    replicas: -1\n");
        let path = [
            PathSegment::Key("spec".into()),
            PathSegment::Key("taskManager".into()),
            PathSegment::Key("replicas".into()),
        ];
        let (node, key) = root.find(&path).unwrap();
        assert_eq!(node.start.line, 3);
        assert_eq!(key.unwrap().start.col, 5);
    }

    #[test]
    fn empty_documents_have_no_root() {
        let docs = parse_documents("---\n# nothing\n---\na: 1\n").unwrap();
        assert_eq!(docs.len(), 2);
        assert!(docs[0].root.is_none());
    }

    #[test]
    fn yaml_11_ambiguous_strings_are_quoted() {
        for s in [
            "on", "off", "yes", "no", "y", "n", "Y", "NO", "true", "~", "null", "0x10", "1e3",
            "1_000", "012", "1.0", ".inf", "0o7", "", "- a", "a: b", "#x", "---",
        ] {
            let text = to_string(&serde_json::json!({ "k": s }));
            let parsed = parse_documents(&text).unwrap().remove(0).root.unwrap().to_json().unwrap();
            assert_eq!(parsed["k"], Value::from(s), "{s:?} became {text}");
            assert!(
                !text.starts_with(&format!("k: {s}\n"))
                    || s.chars().all(char::is_alphabetic)
                        && !["on", "off", "yes", "no", "y", "n", "Y", "NO", "true", "null"]
                            .contains(&s),
                "{s:?} unquoted: {text}"
            );
        }
    }

    #[test]
    fn text_whose_first_line_starts_with_a_tab_is_double_quoted() {
        // A literal block would be refused by libyaml and go-yaml (kubectl).
        for (text, written) in [
            ("\tx\ny", "a: \"\\tx\\ny\"\n"),
            ("\n\tx\n", "a: \"\\n\\tx\\n\"\n"),
            ("x\n\ty\n", "a: |\n  x\n  \ty\n"),
            ("\tx", "a: \"\\tx\"\n"),
        ] {
            assert_eq!(to_string(&serde_json::json!({ "a": text })), written, "{text:?}");
        }
    }
}
