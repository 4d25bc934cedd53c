//! Reading JSON as a k8s-openapi type, strictly. k8s-openapi's generated `Deserialize` skips
//! keys its types lack, so the deserializer is wrapped by `serde_ignored`, which reports every
//! skipped key with its path: one holding anything but null or empty collections is refused.
//! Used for the fragments a spec carries (tolerations, pod templates, …) and for every
//! rendered object.

use std::fmt::Write as _;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::error::Diagnostic;

/// Reads `value` as the Kubernetes type `T`, strictly: a field `T` does not have, or one it
/// would serialize otherwise, is an error naming its path (k8s-openapi alone would drop it
/// silently).
pub fn exact<T: DeserializeOwned + Serialize>(value: &Value) -> Result<(), Diagnostic> {
    match typed::<T>(&mut value.clone(), RoundTrip::Verify) {
        Ok(_) => Ok(()),
        Err(Refusal::Invalid(message)) => Err(Diagnostic::new(message)),
        Err(Refusal::Unknown(path)) => {
            Err(Diagnostic::new(format!("`{path}` is not a field of this Kubernetes type")))
        }
    }
}

/// `value` as `T` reads it: nulls and unknown fields holding nothing (`junk: {}`) removed, as
/// the API server would drop them. Left as it is when `T` cannot read it (validation says
/// why).
pub fn normalize<T: DeserializeOwned + Serialize>(value: &mut Value) {
    let mut normalized = value.clone();
    if typed::<T>(&mut normalized, RoundTrip::Skip).is_ok() {
        *value = normalized;
    }
}

/// Whether an object must also serialize back to the tree it was read from.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum RoundTrip {
    /// Yes: whatever printed it is not known to print only what its type keeps.
    Verify,
    /// No: the built-in templates, whose round trip tests prove.
    Skip,
}

/// Why a tree is not an object of a Kubernetes type.
pub enum Refusal {
    /// It does not deserialize: a wrong type or a missing field, with its path.
    Invalid(String),
    /// The path of a field the type does not have, or that it reads as something else.
    Unknown(String),
}

/// Reads `value` as the Kubernetes type `T`. Fields `T` skips are errors unless they are
/// vacuous (null, empty collections), and are then removed, as are nulls in maps. With
/// [`RoundTrip::Verify`], `T`'s serialization must equal `value` but for vacuous fields, and
/// is returned when it differs by those.
pub fn typed<T: DeserializeOwned + Serialize>(
    value: &mut Value,
    round_trip: RoundTrip,
) -> Result<Option<Value>, Refusal> {
    let mut unknown = None;
    let mut vacuous = Vec::new();
    let object = serde_ignored::deserialize(&*value, |path| {
        let steps = steps(&path);
        if unknown.is_none() {
            match unknown_field(value, &steps) {
                Some(path) => unknown = Some(path),
                None => vacuous.push(steps),
            }
        }
    });
    let object: T = match object {
        Ok(object) => object,
        // The path is tracked again only to explain the failure.
        Err(error) => {
            let message = match serde_path_to_error::deserialize::<_, T>(&*value) {
                Err(e) => format!("{}: {}", e.path(), e.inner()),
                Ok(_) => error.to_string(),
            };
            return Err(Refusal::Invalid(crate::error::type_error_in_words(&message)));
        }
    };
    if let Some(path) = unknown {
        return Err(Refusal::Unknown(path));
    }
    for steps in &vacuous {
        remove(value, steps);
    }
    prune_nulls(value);
    if round_trip == RoundTrip::Skip {
        return Ok(None);
    }
    let typed = serde_json::to_value(&object).map_err(|e| Refusal::Invalid(e.to_string()))?;
    if typed == *value {
        return Ok(None);
    }
    match first_difference(value, &typed) {
        Some(path) => Err(Refusal::Unknown(path)),
        None => Ok(Some(typed)),
    }
}

/// One step of a JSON path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
}

/// The steps from the root to where `serde_ignored` skipped a field.
fn steps(path: &serde_ignored::Path) -> Vec<Step> {
    let mut steps = Vec::new();
    let mut at = path;
    loop {
        at = match at {
            serde_ignored::Path::Root => break,
            serde_ignored::Path::Seq { parent, index } => {
                steps.push(Step::Index(*index));
                parent
            }
            serde_ignored::Path::Map { parent, key } => {
                steps.push(Step::Key(key.clone()));
                parent
            }
            serde_ignored::Path::Some { parent }
            | serde_ignored::Path::NewtypeStruct { parent }
            | serde_ignored::Path::NewtypeVariant { parent } => parent,
        };
    }
    steps.reverse();
    steps
}

fn get<'a>(value: &'a Value, steps: &[Step]) -> Option<&'a Value> {
    steps.iter().try_fold(value, |node, step| match step {
        Step::Key(key) => node.get(key),
        Step::Index(i) => node.get(i),
    })
}

/// The path of a skipped field, spelt out to its first leaf that is not vacuous; `None` when
/// all of it is vacuous.
fn unknown_field(root: &Value, steps: &[Step]) -> Option<String> {
    let skipped = get(root, steps)?;
    let mut inner = Vec::new();
    if !differs(skipped, &Value::Object(Map::new()), &mut inner) {
        return None;
    }
    let mut path = String::new();
    let inner = inner.iter().map(|step| match step {
        Inner::Key(key) => Step::Key((*key).to_owned()),
        Inner::Index(i) => Step::Index(*i),
    });
    for step in steps.iter().cloned().chain(inner) {
        push_step(&mut path, &step);
    }
    Some(path)
}

fn push_step(path: &mut String, step: &Step) {
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

/// Removes the field at `steps` (a map entry).
fn remove(value: &mut Value, steps: &[Step]) {
    let Some((Step::Key(key), parent)) = steps.split_last() else { return };
    let node = parent.iter().try_fold(value, |node, step| match step {
        Step::Key(key) => node.get_mut(key),
        Step::Index(i) => node.get_mut(i),
    });
    if let Some(Value::Object(map)) = node {
        map.remove(key);
    }
}

/// Removes every map entry whose value is null: the type has no such field set.
fn prune_nulls(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(prune_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(prune_nulls),
        _ => {}
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

fn first_difference(original: &Value, typed: &Value) -> Option<String> {
    let mut steps = Vec::new();
    if !differs(original, typed, &mut steps) {
        return None;
    }
    let mut path = String::new();
    for step in steps {
        push_step(
            &mut path,
            &match step {
                Inner::Key(key) => Step::Key(key.to_owned()),
                Inner::Index(i) => Step::Index(i),
            },
        );
    }
    Some(path)
}

/// One step of a JSON path, borrowed from the tree it walks.
enum Inner<'a> {
    Key(&'a str),
    Index(usize),
}

/// Whether the trees differ, vacuous fields aside; `steps` then leads to the first
/// difference.
fn differs<'a>(original: &'a Value, typed: &Value, steps: &mut Vec<Inner<'a>>) -> bool {
    match (original, typed) {
        (Value::Object(a), Value::Object(b)) => {
            a.iter().filter(|(_, v)| !is_vacuous(v)).any(|(k, v)| {
                steps.push(Inner::Key(k));
                let found = match (b.get(k).filter(|w| !is_vacuous(w)), v) {
                    (Some(w), _) => differs(v, w, steps),
                    // Name the unknown field itself, not the object that lost all its fields.
                    (None, Value::Object(_)) => differs(v, &Value::Object(Map::new()), steps),
                    (None, _) => true,
                };
                found || steps.pop().is_none()
            })
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            a.iter().zip(b).enumerate().any(|(i, (v, w))| {
                steps.push(Inner::Index(i));
                differs(v, w, steps) || steps.pop().is_none()
            })
        }
        (a, b) => a != b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comparison_ignores_nulls_and_empty_collections_only() {
        use serde_json::json;
        let typed = json!({"a": {"b": 1}, "l": [{}, {"x": 1}]});
        let same = json!({"a": {"b": 1, "n": null, "e": {"f": [], "g": {}}}, "l": [{"y": null}, {"x": 1}], "z": {}});
        assert_eq!(first_difference(&same, &typed), None);
        let lost = json!({"a": {"b": 1, "typo": {"c": 2}}, "l": [{}, {"x": 1}]});
        assert_eq!(first_difference(&lost, &typed).as_deref(), Some("a.typo.c"));
        let changed = json!({"a": {"b": 2}, "l": [{}, {"x": 1}]});
        assert_eq!(first_difference(&changed, &typed).as_deref(), Some("a.b"));
        let in_list = json!({"a": {"b": 1}, "l": [{}, {"x": 1, "y": 0}]});
        assert_eq!(first_difference(&in_list, &typed).as_deref(), Some("l[1].y"));
    }
}
