//! Checked objects → the bytes written to stdout: a YAML stream or one JSON `v1 List`.
//!
//! Everything is encoded in memory; `main` writes the result once, so a failure anywhere
//! leaves stdout empty. YAML is written by [`yaml::write`], the one writer: strings such as
//! `on`, `yes`, `no`, `0x10`, `1e3` or `~` are quoted, so kubectl reads them as strings.

use serde_json::{Value, json};

use crate::check::Object;
use crate::error::Error;
use crate::yaml;

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
        yaml::write(value, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_appended_to_one_buffer() {
        let stream = encode_yaml([&json!({"a": 1}), &json!(["x"]), &json!("s")]);
        assert_eq!(String::from_utf8(stream).unwrap(), "---\na: 1\n---\n- x\n---\ns\n");
    }
}
