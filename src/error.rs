//! Errors a user can act on: what is wrong, where (file, line, field path), how to fix it.
//!
//! Every stage reports through [`Error`]; `main` prints it and maps it to an exit code.
//! Nothing here writes to stdout.

use std::fmt::{self, Write as _};

use crate::yaml::{PathSegment, Pos};

/// Where a problem stands in the user's input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file name as given (`-` shows as `<stdin>`), or the command-line argument.
    pub origin: String,
    pub line: usize,
    pub col: usize,
    /// The source line, shown under the message.
    pub source_line: Option<String>,
    /// How many characters to underline.
    pub width: usize,
}

impl Location {
    /// A location in a text, from a parser position.
    pub fn in_text(origin: &str, text: &str, start: Pos, end: Option<Pos>) -> Self {
        let source_line = line_at(text, start).map(str::to_owned);
        let width = match end {
            Some(end) if end.line == start.line && end.col > start.col => end.col - start.col,
            _ => 1,
        };
        Self { origin: origin.to_owned(), line: start.line, col: start.col, source_line, width }
    }
}

/// The line `at` stands on: found from its byte offset when that agrees with its column (a
/// scan of one line, where thousands of problems in a large file each point at a line), else
/// by counting lines.
fn line_at(text: &str, at: Pos) -> Option<&str> {
    let by_offset = text.get(..at.offset).and_then(|before| {
        let start = before.rfind('\n').map_or(0, |newline| newline + 1);
        let end = text[start..].find('\n').map_or(text.len(), |n| start + n);
        let col = before[start..].chars().count() + 1;
        (col == at.col && at.offset > 0).then(|| text[start..end].trim_end_matches('\r'))
    });
    by_offset.or_else(|| text.lines().nth(at.line.saturating_sub(1)))
}

/// One problem: what is wrong, at which field path (in the user's spelling) and where in
/// the input, and how to fix it. Validation knows the path; the pipeline adds the location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub message: String,
    /// The field path; empty when the problem is not about one field.
    pub path: Vec<PathSegment>,
    /// Boxed: a diagnostic is the error of small checks, and should stay small.
    pub location: Option<Box<Location>>,
    pub help: Option<String>,
    /// Commands that fix or resume what failed, shown whole, one per line: a command cut
    /// short could not be copied.
    pub commands: Vec<String>,
}

impl Diagnostic {
    /// A problem with a message only.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            path: Vec::new(),
            location: None,
            help: None,
            commands: Vec::new(),
        }
    }

    /// A problem with a field of the spec, at `path`.
    pub fn field(path: Vec<PathSegment>, message: impl Into<String>) -> Self {
        Self { path, ..Self::new(message) }
    }

    /// Adds a hint saying how to fix it.
    #[must_use]
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Adds where it stands.
    #[must_use]
    pub fn at(mut self, location: Location) -> Self {
        self.location = Some(Box::new(location));
        self
    }
}

/// What kind of failure, which decides the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The spec, a variable or a user template is wrong (exit 1).
    Input,
    /// The command line is wrong (exit 2).
    Usage,
    /// A built-in template or invariant is broken: a bug in kubectl-flink (exit 3).
    Internal,
    /// `status`: the cluster is there, its job is not RUNNING (exit 4).
    NotRunning,
    /// `status`: no object of the cluster was found (exit 5).
    NotFound,
}

/// One or more problems that stopped the run; nothing was written to stdout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub kind: ErrorKind,
    pub diagnostics: Vec<Diagnostic>,
}

impl Error {
    /// A failure caused by the user's input.
    pub fn input(diagnostics: Vec<Diagnostic>) -> Self {
        Self { kind: ErrorKind::Input, diagnostics }
    }

    /// The same error, each message led by the spec it is about (`cluster `x` (file)`), for
    /// problems found after a spec became objects.
    #[must_use]
    pub fn about(mut self, spec: &str) -> Self {
        for diagnostic in &mut self.diagnostics {
            diagnostic.message = format!("{spec}: {}", diagnostic.message);
        }
        self
    }

    /// A single input problem.
    pub fn input_one(diagnostic: Diagnostic) -> Self {
        Self::input(vec![diagnostic])
    }

    /// A command-line problem.
    pub fn usage(diagnostic: Diagnostic) -> Self {
        Self { kind: ErrorKind::Usage, diagnostics: vec![diagnostic] }
    }

    /// A bug in kubectl-flink itself.
    pub fn internal(message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::Internal,
            diagnostics: vec![Diagnostic::new(message).with_help(
                "this is a bug in kubectl-flink; please report it with the spec that caused it",
            )],
        }
    }

    /// The first problem's message, for a one-line account of a failure.
    pub fn first_message(&self) -> String {
        self.diagnostics.first().map(|d| d.message.clone()).unwrap_or_default()
    }

    /// The process exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self.kind {
            ErrorKind::Input => 1,
            ErrorKind::Usage => 2,
            ErrorKind::Internal => 3,
            ErrorKind::NotRunning => 4,
            ErrorKind::NotFound => 5,
        }
    }
}

impl std::error::Error for Error {}

/// Most problems printed for one run; a generated or hostile input can have thousands.
pub const MAX_SHOWN: usize = 50;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, diagnostic) in self.diagnostics.iter().take(MAX_SHOWN).enumerate() {
            if i > 0 {
                f.write_char('\n')?;
            }
            write!(f, "{diagnostic}")?;
        }
        if let Some(more) = self.diagnostics.len().checked_sub(MAX_SHOWN).filter(|n| *n > 0) {
            writeln!(f, "\nnote: {more} more problems not shown; fix the ones above first")?;
        }
        Ok(())
    }
}

/// Whether a terminal or a CI log would act on `c` rather than show it: control characters
/// (ESC starts terminal sequences, `\r` and line breaks can forge a line such as a workflow
/// command), line and paragraph separators, and bidirectional overrides. Tab is shown.
fn acts(c: char) -> bool {
    (c.is_control() && c != '\t')
        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{200e}' | '\u{200f}' | '\u{061c}')
        || ('\u{202a}'..='\u{202e}').contains(&c)
        || ('\u{2066}'..='\u{2069}').contains(&c)
}

/// `text` with every character a terminal would act on written as `\u{…}`: a value quoted
/// in a message is shown, never executed. Text without such characters is unchanged.
pub fn escape_for_terminal(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(acts) {
        return text.into();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if acts(c) {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    out.into()
}

/// Shortens text quoted from a hostile or generated input (a 100 KB label value) to its
/// start and end, so a message stays readable, and escapes what a terminal would act on.
fn shorten(text: &str, max: usize) -> String {
    escape_for_terminal(&cut(text, max)).into_owned()
}

fn cut(text: &str, max: usize) -> std::borrow::Cow<'_, str> {
    let count = text.chars().count();
    if count <= max {
        return text.into();
    }
    let (head, tail) = (max * 2 / 3, max / 3);
    let start: String = text.chars().take(head).collect();
    let end: String = text.chars().skip(count - tail).collect();
    format!("{start}…[{} characters left out]…{end}", count - head - tail).into()
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let message = shorten(&self.message, 400);
        if self.path.is_empty() {
            writeln!(f, "error: {message}")?;
        } else {
            writeln!(f, "error: {}: {message}", shorten(&display_path(&self.path), 200))?;
        }
        if let Some(location) = &self.location {
            let gutter = location.line.to_string().len();
            writeln!(
                f,
                "{:gutter$}--> {}:{}:{}",
                "",
                shorten(&location.origin, 200),
                location.line,
                location.col
            )?;
            if let Some(line) = &location.source_line {
                let original: String = line.chars().take(200).collect();
                let before: String =
                    original.chars().take(location.col.saturating_sub(1)).collect();
                let shown = escape_for_terminal(&original);
                let pad: String = escape_for_terminal(&before)
                    .chars()
                    .map(|c| if c == '\t' { '\t' } else { ' ' })
                    .collect();
                writeln!(f, "{:gutter$} |", "")?;
                writeln!(f, "{:>gutter$} | {shown}", location.line)?;
                writeln!(f, "{:gutter$} | {pad}{}", "", "^".repeat(location.width.clamp(1, 80)))?;
            }
        }
        if let Some(help) = &self.help {
            let gutter = self.location.as_ref().map_or(1, |l| l.line.to_string().len());
            writeln!(f, "{:gutter$} = help: {}", "", shorten(help, 400))?;
        }
        for command in &self.commands {
            writeln!(f, "    {}", escape_for_terminal(command))?;
        }
        Ok(())
    }
}

/// Writes a path the way the user spells it: `spec.job.args[1]`,
/// `spec.flinkConfiguration["state.backend.type"]`.
pub fn display_path(path: &[PathSegment]) -> String {
    let mut out = String::new();
    for segment in path {
        match segment {
            PathSegment::Key(key) if is_simple_key(key) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            PathSegment::Key(key) => {
                out.push('[');
                out.push_str(&serde_json::Value::from(key.as_str()).to_string());
                out.push(']');
            }
            PathSegment::Index(i) => {
                let _ = write!(out, "[{i}]");
            }
        }
    }
    out
}

fn is_simple_key(key: &str) -> bool {
    !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// The closest candidate to `word`, if one is close enough to be a likely typo.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(2);
    candidates
        .into_iter()
        .map(|c| (strsim::levenshtein(&word.to_lowercase(), &c.to_lowercase()), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// One key of a field path.
pub fn key(name: &str) -> PathSegment {
    PathSegment::Key(name.to_owned())
}

/// A field path of keys: `path(&["spec", "taskManager"])`.
pub fn path(keys: &[&str]) -> Vec<PathSegment> {
    keys.iter().map(|k| key(k)).collect()
}

/// Sorts one document's diagnostics the way the user reads the file: those in `origin` by
/// line and column, then those from the command line (`--set`), then those with no place.
pub fn sort_by_place(diagnostics: &mut [Diagnostic], origin: &str) {
    diagnostics.sort_by_key(|d| match &d.location {
        Some(at) if at.origin == origin => (0, at.line, at.col),
        Some(_) => (1, 0, 0),
        None => (2, 0, 0),
    });
}

/// serde's `invalid type: sequence, expected i64` in the words of a YAML user:
/// `wrong type: got a list, expected a whole number`, after any prefix (a path) the message
/// has. serde names what it got by `Unexpected` (`sequence`, `map`, a boolean) and what it
/// expected by the Rust type (`i64`, `u32`, `a sequence`, `struct Pair`); neither is how a spec
/// is written. Other messages are returned unchanged.
pub fn type_error_in_words(message: &str) -> String {
    let Some((prefix, rest)) = message.split_once("invalid type: ") else {
        return message.to_owned();
    };
    let (got, expected) = rest.rsplit_once(", expected ").unwrap_or((rest, ""));
    let got = match got {
        "sequence" => "a list",
        "map" => "a map",
        "unit value" => "null",
        other => other,
    };
    if expected.is_empty() {
        return format!("{prefix}wrong type: got {got}");
    }
    format!("{prefix}wrong type: got {got}, expected {}", expected_in_words(expected))
}

/// What serde expected (a Rust type, or serde's own words for one) as a YAML user says it.
fn expected_in_words(expected: &str) -> &str {
    match expected {
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" => "a whole number",
        "u8" | "u16" | "u32" | "u64" | "u128" | "usize" => "a whole number ≥ 0",
        "f32" | "f64" => "a number",
        "a boolean" => "true or false",
        "a sequence" => "a list",
        "a map" | "a mapping" | "map" => "a map",
        "string or map" => "a string or a map",
        "a character" | "char" => "a one-character string",
        struct_name if struct_name.starts_with("struct ") => "a map",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_19_type_errors_keep_their_path_and_lose_rust_names() {
        assert_eq!(
            type_error_in_words("spec.containers[0].ports: invalid type: map, expected a sequence"),
            "spec.containers[0].ports: wrong type: got a map, expected a list"
        );
        assert_eq!(
            type_error_in_words("a: invalid type: string \"x\", expected i32"),
            "a: wrong type: got string \"x\", expected a whole number"
        );
        assert_eq!(type_error_in_words("missing field `name`"), "missing field `name`");
    }

    #[test]
    fn paths_use_the_users_spelling() {
        let path = [
            PathSegment::Key("spec".into()),
            PathSegment::Key("flinkConfiguration".into()),
            PathSegment::Key("state.backend.type".into()),
        ];
        assert_eq!(display_path(&path), r#"spec.flinkConfiguration["state.backend.type"]"#);
        let path = [PathSegment::Key("args".into()), PathSegment::Index(2)];
        assert_eq!(display_path(&path), "args[2]");
    }

    #[test]
    fn issue_8_long_values_and_many_problems_are_cut_short() {
        let value = "v".repeat(100_000);
        let message = format!("label value `{value}` must be at most 63 characters");
        let shown = Diagnostic::new(message).to_string();
        assert!(shown.len() < 600, "{shown}");
        assert!(shown.contains("characters left out]…vvv"), "{shown}");
        assert!(shown.ends_with("vvv` must be at most 63 characters\n"), "{shown}");
        let err = Error::input(vec![Diagnostic::new("bad"); MAX_SHOWN + 7]);
        let shown = err.to_string();
        assert_eq!(shown.matches("error: bad").count(), MAX_SHOWN);
        assert!(shown.ends_with("note: 7 more problems not shown; fix the ones above first\n"));
    }

    #[test]
    fn suggests_close_names_only() {
        let fields = ["replicas", "slots", "resources"];
        assert_eq!(did_you_mean("replica", fields), Some("replicas"));
        assert_eq!(did_you_mean("Replicas", fields), Some("replicas"));
        assert_eq!(did_you_mean("zookeeper", fields), None);
    }
}
