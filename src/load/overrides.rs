//! `--set path=value`: edits to a spec after it is parsed and before it is validated.
//!
//! The value is one scalar, typed as YAML 1.2 reads a plain scalar (`3` is a number, `true`
//! a boolean, `"3"` in double quotes a string); it is never parsed as YAML structure, so no
//! value can add keys or items. Paths use the spec's spelling: `spec.taskManager.replicas`,
//! `spec.job.args[0]`, `metadata.labels[app.example.com/team]`. A path ending in `[+]`
//! appends the value to the list there (`spec.job.args[+]=--verbose`), creating the list when
//! the spec has none.

use serde_json::{Map, Value};

use crate::error::{Diagnostic, Error};
use crate::yaml::{self, PathSegment};

/// One parsed `--set`.
#[derive(Debug, Clone, PartialEq)]
pub struct Override {
    /// The argument as typed, for error messages.
    pub arg: String,
    pub path: Vec<PathSegment>,
    pub value: Value,
}

impl std::str::FromStr for Override {
    type Err = String;

    fn from_str(arg: &str) -> Result<Self, String> {
        let (path, raw) = arg.split_once('=').ok_or_else(|| {
            format!("`{arg}` is not PATH=VALUE, e.g. spec.taskManager.replicas=3")
        })?;
        let path = parse_path(path.strip_suffix(APPEND).unwrap_or(path))?;
        if let [PathSegment::Key(field)] = path.as_slice()
            && matches!(field.as_str(), "kind" | "apiVersion")
        {
            return Err(format!(
                "`{field}` says what a document is, so it is read before any --set applies; edit it in the file"
            ));
        }
        let value = parse_value(raw)?;
        Ok(Self { arg: arg.to_owned(), path, value })
    }
}

impl Override {
    /// Whether the value is appended to the list at `path` (the argument's path ended in
    /// `[+]`) rather than set there.
    pub fn appends(&self) -> bool {
        self.arg.split_once('=').is_some_and(|(path, _)| path.ends_with(APPEND))
    }
}

/// What ends a path whose value is appended to a list.
const APPEND: &str = "[+]";

/// Parses `a.b[0][key.with.dots].c`.
pub fn parse_path(text: &str) -> Result<Vec<PathSegment>, String> {
    let mut path = Vec::new();
    let mut rest = text;
    let bad = || {
        format!("`{text}` is not a field path like spec.taskManager.replicas or spec.job.args[0]")
    };
    if text.contains(APPEND) {
        return Err(format!(
            "`{text}`: `{APPEND}` appends to a list, so it can only end a path, e.g. spec.job.args[+]=--verbose"
        ));
    }
    while !rest.is_empty() {
        // Bounded like the YAML a spec is read from: a deeper path would only build (and
        // recursively drop) a value too deep to be valid, and could overflow the stack.
        if path.len() == yaml::MAX_DEPTH {
            return Err(format!("the path is deeper than the limit of {} levels", yaml::MAX_DEPTH));
        }
        if let Some(inner) = rest.strip_prefix('[') {
            let close = inner.find(']').ok_or_else(bad)?;
            let key = &inner[..close];
            rest = &inner[close + 1..];
            let key = key.trim_matches('"');
            if key.is_empty() {
                return Err(bad());
            }
            path.push(match key.parse::<usize>() {
                Ok(i) => PathSegment::Index(i),
                Err(_) => PathSegment::Key(key.to_owned()),
            });
        } else {
            let end = rest.find(['.', '[']).unwrap_or(rest.len());
            if end == 0 {
                return Err(bad());
            }
            path.push(PathSegment::Key(rest[..end].to_owned()));
            rest = &rest[end..];
        }
        if let Some(next) = rest.strip_prefix('.') {
            if next.is_empty() {
                return Err(bad());
            }
            rest = next;
        }
    }
    if path.is_empty() { Err(bad()) } else { Ok(path) }
}

fn parse_value(raw: &str) -> Result<Value, String> {
    if raw.len() >= 2 && raw.starts_with('"') && raw.ends_with('"') {
        return serde_json::from_str::<String>(raw)
            .map(Value::String)
            .map_err(|e| format!("`{raw}` is not a valid double-quoted string: {e}"));
    }
    yaml::resolve_plain(raw)
}

/// Applies every override to a parsed document, in order.
pub fn apply(document: &mut Value, overrides: &[Override]) -> Result<(), Error> {
    for o in overrides {
        let value = o.value.clone();
        let done = if o.appends() {
            set(document, &o.path, Edit::Append(value))
        } else {
            set(document, &o.path, Edit::Set(value))
        };
        done.map_err(|message| {
            Error::usage(
                Diagnostic::new(format!("--set {}: {message}", o.arg))
                    .with_help("paths follow the spec, e.g. spec.taskManager.replicas=3, spec.job.args[0]=--port or spec.job.args[+]=--verbose"),
            )
        })?;
    }
    Ok(())
}

/// What an override does at the end of its path.
enum Edit {
    Set(Value),
    Append(Value),
}

fn set(node: &mut Value, path: &[PathSegment], edit: Edit) -> Result<(), String> {
    let Some((first, rest)) = path.split_first() else {
        return finish(node, edit);
    };
    if node.is_null() {
        *node = match first {
            PathSegment::Key(_) => Value::Object(Map::new()),
            PathSegment::Index(_) => Value::Array(Vec::new()),
        };
    }
    match (first, node) {
        (PathSegment::Key(key), Value::Object(map)) => {
            set(map.entry(key.clone()).or_insert(Value::Null), rest, edit)
        }
        (PathSegment::Index(i), Value::Array(items)) => {
            if *i == items.len() {
                items.push(Value::Null);
            }
            let len = items.len();
            let item = items
                .get_mut(*i)
                .ok_or_else(|| format!("index {i} is past the end of a list of {len}"))?;
            set(item, rest, edit)
        }
        (PathSegment::Key(key), other) => {
            Err(format!("cannot set `{key}` inside {}", describe(other)))
        }
        (PathSegment::Index(i), other) => {
            Err(format!("cannot index [{i}] into {}", describe(other)))
        }
    }
}

fn finish(node: &mut Value, edit: Edit) -> Result<(), String> {
    match (edit, node) {
        (Edit::Set(value), node) => *node = value,
        (Edit::Append(value), node @ Value::Null) => *node = Value::Array(vec![value]),
        (Edit::Append(value), Value::Array(items)) => items.push(value),
        (Edit::Append(_), other) => {
            return Err(format!("`[+]` appends to a list, and this is {}", describe(other)));
        }
    }
    Ok(())
}

fn describe(value: &Value) -> &'static str {
    match value {
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
        _ => "a scalar",
    }
}

/// Whether an override set this path (so errors there point at the argument).
pub fn find<'a>(overrides: &'a [Override], path: &[PathSegment]) -> Option<&'a Override> {
    overrides.iter().rev().find(|o| path.starts_with(&o.path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_keep_their_type_and_never_their_structure() {
        let o: Override = "spec.taskManager.replicas=3".parse().unwrap();
        assert_eq!(o.value, json!(3));
        let o: Override = "spec.image=\"3\"".parse().unwrap();
        assert_eq!(o.value, json!("3"));
        let o: Override = "metadata.labels.team=a: b\nc: d".parse().unwrap();
        assert_eq!(o.value, json!("a: b\nc: d"));
        let o: Override = "spec.image=on".parse().unwrap();
        assert_eq!(o.value, json!("on"));
    }

    #[test]
    fn paths_with_indices_and_dotted_keys() {
        let mut doc = json!({"spec": {"job": {"args": ["a"]}}});
        let overrides: Vec<Override> =
            ["spec.job.args[1]=b", "spec.flinkConfiguration[state.backend.type]=rocksdb"]
                .iter()
                .map(|s| s.parse().unwrap())
                .collect();
        apply(&mut doc, &overrides).unwrap();
        assert_eq!(doc["spec"]["job"]["args"], json!(["a", "b"]));
        assert_eq!(doc["spec"]["flinkConfiguration"]["state.backend.type"], json!("rocksdb"));
    }

    #[test]
    fn plus_appends_to_a_list_present_or_absent() {
        let mut doc = json!({"spec": {"job": {"args": ["a"]}}});
        let overrides: Vec<Override> =
            ["spec.job.args[+]=--verbose", "spec.job.args[+]=3", "spec.taskManager.env[+]=x: y"]
                .iter()
                .map(|s| s.parse().unwrap())
                .collect();
        apply(&mut doc, &overrides).unwrap();
        assert_eq!(doc["spec"]["job"]["args"], json!(["a", "--verbose", 3]));
        // One scalar, never structure: `x: y` stays a string.
        assert_eq!(doc["spec"]["taskManager"]["env"], json!(["x: y"]));
    }

    #[test]
    fn plus_only_ends_a_path_and_only_appends_to_a_list() {
        let err = "spec.job.args[+].name=x".parse::<Override>().unwrap_err();
        assert!(err.contains("can only end a path"), "{err}");
        let mut doc = json!({"spec": {"image": "x"}});
        let o: Override = "spec.image[+]=y".parse().unwrap();
        let err = apply(&mut doc, &[o]).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().contains("this is a scalar"), "{err}");
    }

    #[test]
    fn bad_paths_are_usage_errors() {
        assert!("spec..x=1".parse::<Override>().is_err());
        assert!("=1".parse::<Override>().is_err());
        assert!("spec.x".parse::<Override>().is_err());
        let deep = format!("spec{}=1", ".a".repeat(50_000));
        assert!(deep.parse::<Override>().unwrap_err().contains("deeper than the limit of 32"));
        let mut doc = json!({"spec": {"image": "x"}});
        let o: Override = "spec.image.name=y".parse().unwrap();
        assert_eq!(apply(&mut doc, &[o]).unwrap_err().exit_code(), 2);
    }
}
