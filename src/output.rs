//! Checked objects → the bytes written to stdout: a YAML stream or one JSON `v1 List`.
//!
//! Everything is encoded in memory; `main` writes the result once, so a failure anywhere
//! leaves stdout empty. YAML is written by `emit`, which writes what serde-saphyr's serializer
//! writes in YAML 1.1-safe mode with literal blocks for multi-line text (the differential tests
//! in `tests/it/emit.rs` hold it to that), straight into one buffer: strings such as `on`,
//! `yes`, `no`, `0x10`, `1e3` or `~` are quoted, so kubectl reads them as strings.

mod emit;
mod scalar;

use serde_json::{Value, json};

use crate::check::Object;
use crate::error::Error;

/// Output format (`-o`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// A stream of YAML documents, each starting with `---`.
    #[default]
    Yaml,
    /// One `v1` `List` holding every object.
    Json,
}

/// Encodes all objects in one buffer.
pub fn encode(objects: &[Object], format: Format) -> Result<Vec<u8>, Error> {
    match format {
        Format::Yaml => Ok(encode_yaml(objects.iter().map(|o| &o.value))),
        Format::Json => {
            let list = json!({
                "apiVersion": "v1",
                "kind": "List",
                "metadata": {},
                "items": objects.iter().map(|o| &o.value).collect::<Vec<_>>(),
            });
            let mut bytes =
                serde_json::to_vec_pretty(&list).map_err(|e| Error::internal(e.to_string()))?;
            bytes.push(b'\n');
            Ok(bytes)
        }
    }
}

/// Encodes objects batch by batch into one buffer: YAML documents as they come (their
/// trees can then be dropped), a JSON `List` at the end.
pub struct Encoder {
    format: Format,
    yaml: String,
    json_items: Vec<Object>,
}

impl Encoder {
    pub fn new(format: Format) -> Self {
        Self { format, yaml: String::new(), json_items: Vec::new() }
    }

    /// Adds objects after those pushed before.
    pub fn push(&mut self, objects: Vec<Object>) {
        match self.format {
            Format::Yaml => push_documents(objects.iter().map(|o| &o.value), &mut self.yaml),
            Format::Json => self.json_items.extend(objects),
        }
    }

    /// The bytes for stdout.
    pub fn finish(self) -> Result<Vec<u8>, Error> {
        match self.format {
            Format::Yaml => Ok(self.yaml.into_bytes()),
            Format::Json => encode(&self.json_items, Format::Json),
        }
    }
}

/// Writes values as a YAML stream, each document opened by `---`.
pub fn encode_yaml<'a>(values: impl IntoIterator<Item = &'a Value>) -> Vec<u8> {
    let mut out = String::new();
    push_documents(values, &mut out);
    out.into_bytes()
}

fn push_documents<'a>(values: impl IntoIterator<Item = &'a Value>, out: &mut String) {
    for value in values {
        out.push_str("---\n");
        write_yaml(value, out);
    }
}

/// One value as a YAML document body.
pub fn to_yaml(value: &Value) -> String {
    let mut out = String::new();
    write_yaml(value, &mut out);
    out
}

/// Appends one value as a YAML document body (ending in a line break, without `---`) to `out`.
pub fn write_yaml(value: &Value, out: &mut String) {
    emit::write_document(value, out);
}

/// One string as a YAML value on one line, written as `write_yaml` writes it (plain when it
/// reads back as the same string, else quoted); `None` for text it writes as a literal block.
pub fn inline_string(text: &str) -> Option<String> {
    if emit::is_literal_block(text) {
        return None;
    }
    let mut out = String::new();
    emit::write_inline_string(text, &mut out);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_yaml_appends_to_the_buffer() {
        let mut out = String::from("---\n");
        write_yaml(&json!({"a": 1}), &mut out);
        out.push_str("---\n");
        write_yaml(&json!(["x"]), &mut out);
        assert_eq!(out, "---\na: 1\n---\n- x\n");
    }

    #[test]
    fn yaml_11_ambiguous_strings_are_quoted() {
        for s in [
            "on", "off", "yes", "no", "y", "n", "Y", "NO", "true", "~", "null", "0x10", "1e3",
            "1_000", "012", "1.0", ".inf", "0o7", "", "- a", "a: b", "#x", "---",
        ] {
            let text = to_yaml(&json!({ "k": s }));
            let parsed = crate::yaml::parse_documents(&text)
                .unwrap()
                .remove(0)
                .root
                .unwrap()
                .to_json()
                .unwrap();
            assert_eq!(parsed["k"], json!(s), "{s:?} became {text}");
            assert!(
                !text.starts_with(&format!("k: {s}\n"))
                    || s.chars().all(char::is_alphabetic)
                        && !["on", "off", "yes", "no", "y", "n", "Y", "NO", "true", "null"]
                            .contains(&s),
                "{s:?} unquoted: {text}"
            );
        }
    }
}
