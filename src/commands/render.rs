//! `kubectl-flink render`: specs in, checked objects out; with `--check FILE`, whether `FILE`
//! (the committed output of the same command) is still what it prints.

use std::path::PathBuf;

use super::{Outcome, Specs};
use crate::error::{Diagnostic, Error};
use crate::model::native;
use crate::output::Format;
use crate::pipeline::{self, RenderOptions};
use crate::yaml;

/// What `render` was asked for.
#[derive(Debug)]
pub struct Options {
    pub specs: Specs,
    pub format: Format,
    pub templates: Option<PathBuf>,
    pub phase: Option<native::Phase>,
    pub owner_uid: Option<String>,
    /// `--no-owner-references`.
    pub no_owner_references: bool,
    /// kubectl's `--namespace`: the namespace of every object.
    pub namespace: Option<String>,
    /// `--passthrough`: other Kubernetes objects go to the output as they were read.
    pub passthrough: bool,
    /// `--check FILE`: compare the output with `FILE` instead of printing it.
    pub check: Option<Check>,
}

/// `--check FILE`: the committed output and the command that writes it.
#[derive(Debug)]
pub struct Check {
    pub file: PathBuf,
    /// The command line that regenerates `file`, for the message when it is stale.
    pub regenerate: String,
}

/// Runs `render`.
pub fn run(options: &Options) -> Result<Outcome, Error> {
    let specs = &options.specs;
    let overrides = specs.overrides_in(options.namespace.as_deref(), options.passthrough)?;
    let rendered = pipeline::render(
        &specs.inputs,
        &RenderOptions {
            format: options.format,
            overrides: &overrides,
            templates: options.templates.as_deref(),
            policy: specs.policy,
            substitution: specs.substitution.as_ref(),
            native: native::Options {
                phase: options.phase,
                owner_uid: options.owner_uid.as_deref(),
                no_owner_references: options.no_owner_references,
            },
            passthrough: options.passthrough,
        },
    )?;
    if let Some(check) = &options.check {
        let fresh = rendered.stdout.into_bytes()?;
        return compare(check, &fresh).map(|note| Outcome {
            stdout: note.into_bytes(),
            warnings: rendered.warnings,
            ..Outcome::default()
        });
    }
    Ok(Outcome {
        stdout: rendered.stdout.tail,
        spooled: rendered.stdout.spooled,
        warnings: rendered.warnings,
        ..Outcome::default()
    })
}

/// A note when the committed file holds exactly `fresh`, else an error naming the first
/// object that differs and the command that regenerates the file.
fn compare(check: &Check, fresh: &[u8]) -> Result<String, Error> {
    let name = check.file.display().to_string();
    let help = format!("regenerate it with `{}` and commit it", check.regenerate);
    let committed = match std::fs::read(&check.file) {
        Ok(bytes) => bytes,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::input_one(
                Diagnostic::new(format!("`{name}` does not exist")).with_help(help),
            ));
        }
        Err(err) => {
            return Err(Error::input_one(Diagnostic::new(format!("cannot read `{name}`: {err}"))));
        }
    };
    if committed == fresh {
        return Ok(format!("`{name}` is up to date\n"));
    }
    let what =
        first_difference(&String::from_utf8_lossy(&committed), &String::from_utf8_lossy(fresh));
    Err(Error::input_one(Diagnostic::new(format!("`{name}` is stale: {what}")).with_help(help)))
}

/// Which document differs first between two YAML streams, by the object it is.
fn first_difference(committed: &str, fresh: &str) -> String {
    let (old, new) = (documents(committed), documents(fresh));
    for index in 0..old.len().max(new.len()) {
        match (old.get(index), new.get(index)) {
            (Some(a), Some(b)) if a == b => {}
            (Some(_), Some(b)) => return format!("{} differs", describe(b)),
            (None, Some(b)) => return format!("{} is missing", describe(b)),
            (Some(a), None) => return format!("{} is no longer rendered", describe(a)),
            (None, None) => break,
        }
    }
    "the files differ (line breaks or text outside the documents)".to_owned()
}

/// The documents of a stream written by `render` (each opens with a `---` line).
fn documents(text: &str) -> Vec<&str> {
    let mut starts: Vec<usize> = text.match_indices("---\n").map(|(at, _)| at).collect();
    starts.retain(|&at| at == 0 || text.as_bytes()[at - 1] == b'\n');
    if starts.is_empty() {
        return if text.is_empty() { Vec::new() } else { vec![text] };
    }
    let mut out = Vec::new();
    if starts[0] > 0 {
        out.push(&text[..starts[0]]);
    }
    for (i, &start) in starts.iter().enumerate() {
        let end = starts.get(i + 1).copied().unwrap_or(text.len());
        out.push(&text[start..end]);
    }
    out
}

/// "Deployment `x-taskmanager`", or "document N" when the text is not an object.
fn describe(document: &str) -> String {
    let parsed = yaml::parse_documents_with(document, yaml::Limits::PACKAGE).ok();
    let value = parsed
        .and_then(|documents| documents.into_iter().find_map(|d| d.root))
        .map(|root| root.to_json_lenient());
    let text = |value: &serde_json::Value| value.as_str().map(str::to_owned);
    match value {
        Some(v) => match (text(&v["kind"]), text(&v["metadata"]["name"])) {
            (Some(kind), Some(name)) => format!("{kind} `{name}`"),
            (Some(kind), None) => kind,
            _ => "a document".to_owned(),
        },
        None => "a document".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_first_object_that_differs() {
        let a = "---\nkind: A\nmetadata:\n  name: a\n---\nkind: B\nmetadata:\n  name: b\n";
        let b = "---\nkind: A\nmetadata:\n  name: a\n---\nkind: B\nmetadata:\n  name: c\n";
        assert_eq!(first_difference(a, b), "B `c` differs");
        assert_eq!(first_difference(&a[..32], a), "B `b` is missing");
        assert_eq!(first_difference(a, &a[..32]), "B `b` is no longer rendered");
    }
}
