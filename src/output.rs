//! Checked objects → the bytes written to stdout: a YAML stream or one JSON `v1 List`.
//!
//! Everything is encoded before anything is written; `main` writes the result once every spec
//! has rendered, so a failure anywhere leaves stdout empty. Output beyond [`SPOOL_BYTES`] waits
//! in an unnamed temporary file rather than in memory. YAML is written by [`yaml::write`], the one writer: strings such as
//! `on`, `yes`, `no`, `0x10`, `1e3` or `~` are quoted, so kubectl reads them as strings.

use std::io::Write as _;

use serde_json::{Value, json};

use crate::check::Object;
use crate::error::{Diagnostic, Error};
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

/// Output text beyond this many bytes moves to an unnamed temporary file (where the system
/// gives one), so a batch of thousands of clusters is not held in memory until it is written.
pub const SPOOL_BYTES: usize = 32 * 1024 * 1024;

/// The bytes for stdout: the start of them in a temporary file when there were many, then
/// `tail`.
#[derive(Debug, Default)]
pub struct Encoded {
    pub spooled: Option<std::fs::File>,
    pub tail: Vec<u8>,
}

impl Encoded {
    /// All the bytes in memory (what `apply` hands kubectl).
    pub fn into_bytes(self) -> Result<Vec<u8>, Error> {
        use std::io::{Read as _, Seek as _};
        let Some(mut file) = self.spooled else { return Ok(self.tail) };
        let mut bytes = Vec::new();
        file.rewind().and_then(|()| file.read_to_end(&mut bytes)).map_err(|err| {
            Error::input_one(Diagnostic::new(format!(
                "cannot read the temporary output file: {err}"
            )))
        })?;
        bytes.extend_from_slice(&self.tail);
        Ok(bytes)
    }
}

/// Encodes objects batch by batch, as they come, so a large batch holds output text rather
/// than object trees: YAML documents, or the items of the JSON `List`, which
/// [`Encoder::finish`] closes.
pub struct Encoder {
    format: Format,
    text: String,
    items: usize,
    spool: Spool,
    spool_at: usize,
}

/// Where text beyond [`SPOOL_BYTES`] goes.
enum Spool {
    NotYet,
    File(std::fs::File),
    /// No temporary file could be made: everything stays in memory.
    Unavailable,
    /// Writing the temporary file failed (a full disk): the output is incomplete.
    Failed(std::io::Error),
}

impl Encoder {
    pub fn new(format: Format) -> Self {
        let text = match format {
            Format::Yaml => String::new(),
            Format::Json => "{\n  \"apiVersion\": \"v1\",\n  \"items\": [".to_owned(),
        };
        Self { format, text, items: 0, spool: Spool::NotYet, spool_at: SPOOL_BYTES }
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
        if self.text.len() >= self.spool_at {
            self.spill();
        }
    }

    /// Adds a document passed through unchanged (`render --passthrough`): its keys in the
    /// order they were read, written by the same writer as every object.
    pub fn push_document(&mut self, root: &yaml::Node) {
        match self.format {
            Format::Yaml => {
                self.text.push_str("---\n");
                yaml::write_serialized(&yaml::Ordered(root), &mut self.text);
            }
            Format::Json => {
                self.push_json_item(&yaml::Ordered(root));
            }
        }
        if self.text.len() >= self.spool_at {
            self.spill();
        }
    }

    /// Moves the text to the temporary file.
    fn spill(&mut self) {
        if let Spool::NotYet = self.spool {
            self.spool = tempfile::tempfile().map_or(Spool::Unavailable, Spool::File);
        }
        if let Spool::File(file) = &mut self.spool {
            match file.write_all(self.text.as_bytes()) {
                Ok(()) => self.text.clear(),
                Err(err) => self.spool = Spool::Failed(err),
            }
        }
    }

    /// One item of the `List`, as `serde_json`'s pretty printer writes it two levels deep:
    /// each line indented by four spaces (JSON strings hold no raw line breaks).
    fn push_json_item(&mut self, value: &impl serde::Serialize) {
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
    pub fn finish(self) -> Result<Encoded, Error> {
        let mut text = self.text;
        if self.format == Format::Json {
            text.push_str(if self.items == 0 { "]" } else { "\n  ]" });
            text.push_str(",\n  \"kind\": \"List\",\n  \"metadata\": {}\n}\n");
        }
        let spooled = match self.spool {
            Spool::File(file) => Some(file),
            Spool::NotYet | Spool::Unavailable => None,
            Spool::Failed(err) => {
                return Err(Error::input_one(
                    Diagnostic::new(format!("cannot write the output to a temporary file: {err}"))
                        .with_help(format!(
                            "output beyond {} MiB waits in a temporary file in {} until every spec has rendered; free space there, set TMPDIR, or render fewer specs at a time",
                            SPOOL_BYTES >> 20,
                            std::env::temp_dir().display()
                        )),
                ));
            }
        };
        Ok(Encoded { spooled, tail: text.into_bytes() })
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
                String::from_utf8(encoder.finish().unwrap().tail).unwrap(),
                String::from_utf8(encode(&objects, Format::Json).unwrap()).unwrap()
            );
        }
    }

    #[test]
    fn output_beyond_the_spool_size_waits_in_a_file_and_comes_back_whole() {
        let objects: Vec<Object> = (0..50)
            .map(|i| Object { value: json!({"kind": "ConfigMap", "data": {"i": i, "s": "x\ny"}}) })
            .collect();
        for format in [Format::Yaml, Format::Json] {
            let mut encoder = Encoder::new(format);
            encoder.spool_at = 300;
            for chunk in objects.chunks(7) {
                encoder.push(chunk);
            }
            let output = encoder.finish().unwrap();
            assert!(output.spooled.is_some(), "{format:?}: nothing was spooled");
            assert!(
                output.tail.len() < 600,
                "{format:?}: the tail holds {} bytes",
                output.tail.len()
            );
            assert_eq!(
                output.into_bytes().unwrap(),
                encode(&objects, format).unwrap(),
                "{format:?}"
            );
        }
    }

    #[test]
    fn documents_are_appended_to_one_buffer() {
        let stream = encode_yaml([&json!({"a": 1}), &json!(["x"]), &json!("s")]);
        assert_eq!(String::from_utf8(stream).unwrap(), "---\na: 1\n---\n- x\n---\ns\n");
    }
}
