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

/// Encodes objects batch by batch into one buffer of text, as they come, so a large batch
/// holds output text rather than object trees: YAML documents, or the items of the JSON
/// `List`, which [`Encoder::finish`] closes.
pub struct Encoder {
    format: Format,
    text: String,
    items: usize,
}

impl Encoder {
    pub fn new(format: Format) -> Self {
        let text = match format {
            Format::Yaml => String::new(),
            Format::Json => "{\n  \"apiVersion\": \"v1\",\n  \"items\": [".to_owned(),
        };
        Self { format, text, items: 0 }
    }

    /// Adds objects after those pushed before.
    pub fn push(&mut self, objects: &[Object]) {
        match self.format {
            Format::Yaml => push_documents(objects.iter().map(|o| &o.value), &mut self.text),
            Format::Json => {
                for object in objects {
                    self.push_json_item(&object.value);
                }
            }
        }
    }

    /// One item of the `List`, as `serde_json`'s pretty printer writes it two levels deep:
    /// each line indented by four spaces (JSON strings hold no raw line breaks).
    fn push_json_item(&mut self, value: &Value) {
        self.text.push_str(if self.items == 0 { "\n" } else { ",\n" });
        self.items += 1;
        let pretty = serde_json::to_string_pretty(value).expect("a JSON value always serializes");
        for (i, line) in pretty.lines().enumerate() {
            if i > 0 {
                self.text.push('\n');
            }
            self.text.push_str("    ");
            self.text.push_str(line);
        }
    }

    /// The bytes for stdout.
    pub fn finish(self) -> Result<Vec<u8>, Error> {
        match self.format {
            Format::Yaml => Ok(self.text.into_bytes()),
            Format::Json => {
                let mut text = self.text;
                text.push_str(if self.items == 0 { "]" } else { "\n  ]" });
                text.push_str(",\n  \"kind\": \"List\",\n  \"metadata\": {}\n}\n");
                Ok(text.into_bytes())
            }
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
    fn a_streamed_json_list_is_what_serde_json_prints_for_the_whole_list() {
        let objects = [
            json!({"kind": "A", "metadata": {"name": "a"}, "data": {"k": "line\nbreak"}}),
            json!({"kind": "B", "spec": {"list": [1, {"x": []}], "empty": {}}}),
            json!({"kind": "C"}),
        ];
        for n in 0..=objects.len() {
            let objects: Vec<Object> =
                objects[..n].iter().map(|value| Object { value: value.clone() }).collect();
            let mut encoder = Encoder::new(Format::Json);
            encoder.push(&objects[..n.min(1)]);
            encoder.push(&objects[n.min(1)..]);
            assert_eq!(
                String::from_utf8(encoder.finish().unwrap()).unwrap(),
                String::from_utf8(encode(&objects, Format::Json).unwrap()).unwrap()
            );
        }
    }

    #[test]
    fn documents_are_appended_to_one_buffer() {
        let stream = encode_yaml([&json!({"a": 1}), &json!(["x"]), &json!("s")]);
        assert_eq!(String::from_utf8(stream).unwrap(), "---\na: 1\n---\n- x\n---\ns\n");
    }
}
