//! `$VAR` and `${VAR}` substitution: GNU `envsubst` byte for byte, and a structure-safe
//! mode over the YAML node tree.
//!
//! This module owns the substitution rules, the variable sources (`--env-file`, `--var`) and
//! the problems they report. It never reads the process environment, files or stdout: callers
//! pass a [`Vars`] (a `BTreeMap` in tests) and print what comes back. Precedence is the
//! caller's: build one map from the process environment (`--env`), then extend it with the
//! env-file, then with `--var`, so later sources win.
//!
//! # GNU semantics ([`Syntax::Gnu`])
//!
//! Byte-identical to GNU gettext's `envsubst` 0.21 (checked by `tests/envsubst_gnu.rs`, which
//! runs `/usr/bin/envsubst` on the same input):
//!
//! - a reference is `$NAME` or `${NAME}`, `NAME` = `[A-Za-z_][A-Za-z0-9_]*` (ASCII), read
//!   greedily: `$A_x` names `A_x`, not `A` followed by `_x`;
//! - an unset or empty variable becomes the empty string, silently;
//! - everything else is copied verbatim, and scanning resumes right after the copied part:
//!   a lone or trailing `$`, `$$` (not an escape: `$$A` is `$` then `$A`), `$1`, `${}`,
//!   `${ A}`, `\$A` (no backslash escape: `\` then `$A`), and any `${NAME` not directly closed
//!   by `}`: `${A:-x}`, `${A-x}`, `${A` and `${A$B}` copy `${A`, then go on (so the `$B` in the
//!   last one *is* substituted);
//! - values are inserted as they are and never scanned again (`B='$A'` makes `$B` print `$A`);
//! - with a SHELL-FORMAT argument (`'$JOB ${SAVEPOINT}'`, see [`Options::restrict_to`]) only
//!   the variables it references are substituted; every other reference stays verbatim. A
//!   format that references nothing (`''`, `'JOB'`) substitutes nothing;
//! - `envsubst --variables FORMAT` prints each name `FORMAT` references, one per line, in order
//!   and *with* duplicates (`'$A ${B} $A'` prints `A`, `B`, `A`); `${C:-x}` names nothing, but
//!   `$$G` and `${$H}` name `G` and `H` ([`variables`]);
//! - GNU works on bytes: CR, NUL, invalid UTF-8 and non-ASCII text pass through untouched.
//!   So does [`substitute`], which takes and returns bytes. Values are `&str`: a caller
//!   reading the process environment decides what to do with a non-UTF-8 value.
//!
//! # kubectl-flink's own syntax ([`Syntax::Extended`])
//!
//! GNU, plus two forms GNU copies verbatim: `${NAME:-default}` (the default when `NAME` is unset
//! or empty) and `${NAME:?message}` (an error with that message when unset or empty). The word
//! is literal text up to the first `}` and may not contain `$`: there is no nesting, and a
//! `${NAME:-…` or `${NAME:?…` without its `}` (or with a `$` before it) is an error, since the
//! user plainly meant this syntax. Extended output differs from GNU only where these forms
//! occur.
//!
//! # Strict mode ([`Options::strict`])
//!
//! Output is unchanged, but every reference to an unset or empty variable, and every
//! `${NAME…` form that is copied verbatim, is an error; all of them are reported at once, each
//! with its line and column. Without it, unset names are returned for a warning.
//!
//! # The `envsubst` crate
//!
//! crates.io's `envsubst` 0.2.1 (coreos/envsubst-rs, depends on thiserror 1) was evaluated
//! against GNU and does not match it, so nothing here depends on it. Its `substitute` loops over
//! a `HashMap` and calls `str::replace("${KEY}", value)` per entry: it knows only `${VAR}` (so
//! `$A` stays `$A` where GNU prints the value), leaves unknown variables as `${UNSET}` (GNU: empty),
//! and rejects *any* map whose keys or values contain `$`, `{` or `}` (`V='a$b'` is an error
//! even when nothing references `V`) — the guard that keeps its unordered, repeated replacing
//! deterministic. `${A:-x}`, `$$A` and `${A` come back unchanged (GNU: `${A:-x}`, `$alpha`,
//! `${A`).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ops::Range;

use crate::error::{Diagnostic, Error, Location};
use crate::yaml::{Node, NodeKind, Pos};

/// A source of variable values.
pub trait Vars {
    /// The value of `name`, or `None` when it is unset.
    fn get(&self, name: &str) -> Option<&str>;
}

impl Vars for BTreeMap<String, String> {
    fn get(&self, name: &str) -> Option<&str> {
        BTreeMap::get(self, name).map(String::as_str)
    }
}

impl<V: Vars + ?Sized> Vars for &V {
    fn get(&self, name: &str) -> Option<&str> {
        (**self).get(name)
    }
}

/// Which reference forms are substituted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Syntax {
    /// GNU `envsubst`: `$NAME` and `${NAME}` only; output is byte-identical to GNU's.
    #[default]
    Gnu,
    /// GNU plus `${NAME:-default}` and `${NAME:?message}`.
    Extended,
}

/// How to substitute.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// Which forms are recognised.
    pub syntax: Syntax,
    /// Substitute only these names (GNU's SHELL-FORMAT argument); `None` substitutes all.
    pub only: Option<BTreeSet<String>>,
    /// Fail on every unset or empty `$NAME` / `${NAME}` and every verbatim `${NAME…` form
    /// (a `${NAME:-default}` is fine: it says what an unset variable means).
    pub strict: bool,
}

impl Options {
    /// Substitutes only the variables `shell_format` references, as GNU's argument does.
    #[must_use]
    pub fn restrict_to(mut self, shell_format: &str) -> Self {
        self.only = Some(variables(shell_format.as_bytes(), Syntax::Gnu).into_iter().collect());
        self
    }

    fn allows(&self, name: &str) -> bool {
        self.only.as_ref().is_none_or(|only| only.contains(name))
    }
}

/// Substituted text and the variables it referenced that were unset.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Substituted {
    /// The output bytes.
    pub output: Vec<u8>,
    /// Names referenced by `$NAME` / `${NAME}` but unset, once each, in order of first use.
    pub unset: Vec<String>,
}

/// GNU `envsubst [SHELL-FORMAT]` on `input`: the exact bytes GNU would print.
pub fn gnu(input: &[u8], vars: &dyn Vars, shell_format: Option<&str>) -> Vec<u8> {
    let options = match shell_format {
        Some(format) => Options::default().restrict_to(format),
        None => Options::default(),
    };
    // GNU syntax without strict mode reports no problems, so the result is always complete.
    expand(input, vars, &options, &mut Found::default()).output
}

/// [`gnu`] as GNU runs it, reading and writing as it goes: memory stays a few pieces of
/// input whatever its size, and the output is the same bytes. Input is taken in pieces, each
/// ending where no reference can go on: before a `$` whose reference may continue in the next
/// piece (no reference spans a later `$`).
pub fn gnu_stream(
    input: &mut dyn std::io::Read,
    output: &mut dyn std::io::Write,
    vars: &dyn Vars,
    shell_format: Option<&str>,
) -> std::io::Result<()> {
    const PIECE: usize = 64 * 1024;
    let options = match shell_format {
        Some(format) => Options::default().restrict_to(format),
        None => Options::default(),
    };
    let mut buffer = Vec::with_capacity(2 * PIECE);
    // Whether what is held back is a name that may go on.
    let mut open_name = false;
    loop {
        let filled = buffer.len();
        buffer.resize(filled + PIECE, 0);
        let read = loop {
            match input.read(&mut buffer[filled..]) {
                Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
                result => {
                    break result.map_err(|err| context(&err, "cannot read standard input"))?;
                }
            }
        };
        buffer.truncate(filled + read);
        // A name that goes on (`$AAAA…` read in pieces) is looked at only where it grew.
        if read > 0 && open_name && buffer[filled..].iter().all(|&b| is_name_byte(b)) {
            continue;
        }
        let complete =
            if read == 0 { buffer.len() } else { complete_prefix(&buffer, options.syntax) };
        let expanded = expand(&buffer[..complete], vars, &options, &mut Found::default()).output;
        output.write_all(&expanded).map_err(|err| context(&err, "cannot write the output"))?;
        buffer.drain(..complete);
        open_name = is_open_name(&buffer);
        if read == 0 {
            return Ok(());
        }
    }
}

/// Whether `text` is a reference whose name has begun and may go on: `$N…` or `${N…`.
fn is_open_name(text: &[u8]) -> bool {
    let name = text.strip_prefix(b"$").map(|rest| rest.strip_prefix(b"{").unwrap_or(rest));
    name.is_some_and(|name| {
        name.first().is_some_and(|&b| is_name_start(b)) && name.iter().all(|&b| is_name_byte(b))
    })
}

fn context(err: &std::io::Error, what: &str) -> std::io::Error {
    std::io::Error::new(err.kind(), format!("{what}: {err}"))
}

/// How much of `text` substitutes the same whatever follows it: all of it, unless the
/// reference at its last `$` may go on (`$NAM` could be `$NAME`).
fn complete_prefix(text: &[u8], syntax: Syntax) -> usize {
    let Some(last) = text.iter().rposition(|&b| b == b'$') else { return text.len() };
    let tail = &text[last..];
    let first = Scanner { input: tail, at: 0, syntax }.next();
    let end = first.map_or(0, |token| token.span().end);
    if end < tail.len() { text.len() } else { last }
}

/// Substitutes in raw text (bytes, so any input GNU accepts is accepted).
///
/// Fails, listing every problem with its line and column, on a `${NAME:?message}` whose
/// variable is unset or empty, on a malformed extended form, and in strict mode on every
/// unset or empty reference.
pub fn substitute(
    input: &[u8],
    vars: &dyn Vars,
    options: &Options,
) -> Result<Substituted, EnvsubstError> {
    let mut found = Found::default();
    let expansion = expand(input, vars, options, &mut found);
    if found.problems.is_empty() {
        return Ok(Substituted { output: expansion.output, unset: found.unset });
    }
    let offsets: Vec<usize> =
        found.problems.iter().flat_map(|(_, _, span)| [span.start, span.end]).collect();
    let positions = locate(input, &offsets);
    let problems = found
        .problems
        .into_iter()
        .zip(positions.chunks_exact(2))
        .map(|((name, kind, _), pos)| Problem { name, kind, start: pos[0], end: pos[1] })
        .collect();
    Err(EnvsubstError { problems })
}

/// Substitutes inside the scalars of a YAML tree; mapping keys are never substituted.
///
/// Keys are left alone (strict mode reports a key holding a reference) so that a variable can
/// never add, rename or duplicate a field. Because
/// only scalar text changes, no value (holding a newline, `: `, `- `, `#`, `---`, quotes …)
/// can add keys, items or documents. Typing follows the text a user would have written: a plain
/// scalar that is exactly one reference (`${TM}`, `$TM`, `${TM:-3}`) stays plain and is typed
/// later by [`crate::yaml::resolve_plain`] (`replicas: ${TM}` with `TM=3` is the number 3); any
/// other scalar that had a substitution becomes a string (`image: repo/${TAG}` with
/// `TAG=true` is the string `repo/true`), and quoted scalars stay strings.
///
/// The tree is parsed before substitution, so inside a flow collection (`[…]`, `{…}`) a
/// `${NAME}` must be quoted (`args: ["${A}"]`) or written `$NAME`: YAML ends a plain scalar
/// at `{` and `}` there, and the parser rejects `[${A}]`.
///
/// Returns the unset names (see [`Substituted::unset`]). On error the tree is left untouched;
/// problems carry the position of the scalar holding the reference.
pub fn substitute_tree(
    node: &mut Node,
    vars: &dyn Vars,
    options: &Options,
) -> Result<Vec<String>, EnvsubstError> {
    let mut copy = node.clone();
    let mut found = Found::default();
    let mut problems = Vec::new();
    walk(&mut copy, vars, options, &mut found, &mut problems);
    if problems.is_empty() {
        *node = copy;
        Ok(found.unset)
    } else {
        Err(EnvsubstError { problems })
    }
}

fn walk(
    node: &mut Node,
    vars: &dyn Vars,
    options: &Options,
    found: &mut Found,
    problems: &mut Vec<Problem>,
) {
    match &mut node.kind {
        NodeKind::Scalar { text, plain } => {
            if !text.contains('$') {
                return;
            }
            let expansion = expand(text.as_bytes(), vars, options, found);
            problems.extend(found.problems.drain(..).map(|(name, kind, _)| Problem {
                name,
                kind,
                start: node.start,
                end: node.end,
            }));
            if expansion.substituted > 0 {
                *plain = *plain && expansion.whole;
                *text = String::from_utf8(expansion.output).expect(
                    "UTF-8 text with UTF-8 values cut only at ASCII `$`, `{`, `}` stays UTF-8",
                );
            }
        }
        NodeKind::Seq(items) => {
            for item in items {
                walk(item, vars, options, found, problems);
            }
        }
        NodeKind::Map(entries) => {
            for (key, value) in entries {
                if options.strict && key.name.contains('$') {
                    let names = variables(key.name.as_bytes(), options.syntax);
                    if let Some(name) = names.into_iter().find(|name| options.allows(name)) {
                        let message = format!(
                            "the mapping key `{}` references `{name}`, but keys are never \
                             substituted",
                            key.name
                        );
                        let kind = ProblemKind::Syntax { message };
                        problems.push(Problem { name, kind, start: key.start, end: key.end });
                    }
                }
                walk(value, vars, options, found, problems);
            }
        }
    }
}

/// The variable names `text` references, in order, with duplicates.
///
/// With [`Syntax::Gnu`] on a SHELL-FORMAT argument this is exactly what
/// `envsubst --variables FORMAT` prints, one name per line.
pub fn variables(text: &[u8], syntax: Syntax) -> Vec<String> {
    Scanner { input: text, at: 0, syntax }
        .filter_map(|token| match token {
            Token::Ref { name, .. } => Some(name.to_owned()),
            _ => None,
        })
        .collect()
}

/// One problem found while substituting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The variable name.
    pub name: String,
    /// What is wrong.
    pub kind: ProblemKind,
    /// Where the reference starts: in raw text the reference itself, in a tree its scalar.
    pub start: Pos,
    /// Where the reference (raw text) or its scalar (tree) ends.
    pub end: Pos,
}

/// What is wrong with a reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProblemKind {
    /// Referenced but not set (strict mode).
    Unset,
    /// Set to the empty string (strict mode).
    Empty,
    /// `${NAME:?message}` with `NAME` unset or empty.
    Required {
        /// The message the user wrote after `:?`.
        message: String,
    },
    /// A `${NAME…` that is not substituted but copied verbatim (strict mode), or a malformed
    /// `${NAME:-…` / `${NAME:?…` (extended syntax).
    Syntax {
        /// What is wrong, naming the text.
        message: String,
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = &self.name;
        match &self.kind {
            ProblemKind::Unset => write!(f, "variable `{name}` is not set"),
            ProblemKind::Empty => write!(f, "variable `{name}` is set but empty"),
            ProblemKind::Required { message } if message.is_empty() => {
                write!(f, "variable `{name}` is not set or empty")
            }
            ProblemKind::Required { message } => {
                write!(f, "variable `{name}` is not set or empty: {message}")
            }
            ProblemKind::Syntax { message } => f.write_str(message),
        }
    }
}

/// Where the variables of a substitution come from, which is where a help line sends the user
/// to set one: `render`'s flags, or the environment `envsubst` reads (it has no such flags).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sources {
    /// `--env`, `--env-file`, `--var`.
    Flags,
    /// The process environment only.
    Environment,
}

impl Problem {
    fn help(&self, sources: Sources) -> String {
        let name = &self.name;
        match (&self.kind, sources) {
            (ProblemKind::Unset | ProblemKind::Required { .. }, Sources::Flags) => {
                format!("set it with `--var {name}=VALUE` or in an `--env-file`")
            }
            (ProblemKind::Unset | ProblemKind::Required { .. }, Sources::Environment) => {
                format!("set it in the environment, e.g. `export {name}=VALUE`")
            }
            (ProblemKind::Empty, _) => {
                format!("give `{name}` a value, or a default with `${{{name}:-default}}`")
            }
            (ProblemKind::Syntax { .. }, _) => format!(
                "write `${{{name}}}`; kubectl-flink also knows `${{{name}:-default}}` and \
                 `${{{name}:?message}}`, and copies every other form unchanged, as GNU envsubst does"
            ),
        }
    }
}

/// Every problem of one substitution, reported together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvsubstError {
    /// The problems, in input order.
    pub problems: Vec<Problem>,
}

impl EnvsubstError {
    /// The user-facing error, pointing into `source` (the text the positions refer to), its
    /// help naming where variables come from.
    pub fn to_error(&self, origin: &str, source: &str, sources: Sources) -> Error {
        Error::input(
            self.problems
                .iter()
                .map(|problem| {
                    Diagnostic::new(problem.to_string())
                        .at(Location::in_text(origin, source, problem.start, Some(problem.end)))
                        .with_help(problem.help(sources))
                })
                .collect(),
        )
    }
}

impl fmt::Display for EnvsubstError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{}:{}: {problem}", problem.start.line, problem.start.col)?;
        }
        Ok(())
    }
}

impl std::error::Error for EnvsubstError {}

/// Parses a `--var NAME=VALUE` argument; the value is taken literally and may contain `=`.
pub fn parse_var(arg: &str) -> Result<(String, String), String> {
    let (name, value) = arg
        .split_once('=')
        .ok_or_else(|| format!("`{arg}` is not NAME=VALUE, e.g. JOB=wordcount"))?;
    if !is_name(name) {
        return Err(format!(
            "`{name}` is not a variable name: use letters, digits and `_`, not starting with a digit"
        ));
    }
    Ok((name.to_owned(), value.to_owned()))
}

/// Parses an `--env-file`: one `NAME=VALUE` per line; a later line wins over an earlier one.
///
/// Blank lines and lines starting with `#` are skipped, `export ` before the name is allowed,
/// and spaces around `=` are ignored. A value is either
/// - unquoted: up to the end of the line or to a `#` after a space, trailing spaces dropped;
/// - in single quotes: taken literally;
/// - in double quotes: with the escapes `\n`, `\r`, `\t`, `\"` and `\\` (any other is an
///   error).
///
/// Quoted values end on their line; only spaces and a `#` comment may follow them. Values are
/// never substituted (`$OTHER` stays as written). Every malformed line is reported, with its
/// line number.
pub fn parse_env_file(origin: &str, text: &str) -> Result<BTreeMap<String, String>, Error> {
    let mut vars = BTreeMap::new();
    let mut diagnostics = Vec::new();
    let text_without_bom = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut line_start = 0;
    for (index, raw) in text_without_bom.split('\n').enumerate() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        let offset = line_start;
        line_start += raw.len() + 1;
        let body = line.trim_start();
        if body.is_empty() || body.starts_with('#') {
            continue;
        }
        let body = match body.strip_prefix("export") {
            Some(rest) if rest.starts_with([' ', '\t']) => rest.trim_start(),
            _ => body,
        };
        match env_line(body) {
            Ok((name, value)) => {
                vars.insert(name.to_owned(), value);
            }
            Err((message, at)) => {
                let byte = line.len() - body.len() + at;
                let col = line[..byte].chars().count() + 1;
                let pos = Pos { line: index + 1, col, offset: offset + byte };
                diagnostics.push(
                    Diagnostic::new(message)
                        .at(Location::in_text(origin, text_without_bom, pos, None))
                        .with_help(
                            "write NAME=VALUE, e.g. JOB=wordcount or IMAGE=\"repo/flink:1.20\"",
                        ),
                );
            }
        }
    }
    if diagnostics.is_empty() { Ok(vars) } else { Err(Error::input(diagnostics)) }
}

/// One env-file line after `export `: the name and value, or a message and the byte it is about.
fn env_line(body: &str) -> Result<(&str, String), (String, usize)> {
    let name_len = body.bytes().take_while(|&b| is_name_byte(b)).count();
    let name = &body[..name_len];
    if !is_name(name) {
        return Err(("expected a variable name (NAME=VALUE)".to_owned(), 0));
    }
    let after_name = body[name_len..].trim_start_matches([' ', '\t']);
    let Some(after_eq) = after_name.strip_prefix('=') else {
        return Err((format!("expected `=` after `{name}`"), body.len() - after_name.len()));
    };
    let raw = after_eq.trim_start_matches([' ', '\t']);
    let at = body.len() - raw.len();
    let (value, rest) = match raw.as_bytes().first() {
        Some(b'\'') => match raw[1..].find('\'') {
            Some(end) => (raw[1..=end].to_owned(), &raw[end + 2..]),
            None => return Err(("single-quoted value has no closing `'`".to_owned(), at)),
        },
        Some(b'"') => double_quoted(&raw[1..]).map_err(|message| (message, at))?,
        _ => {
            let end = raw
                .char_indices()
                .find(|&(i, c)| c == '#' && raw[..i].ends_with([' ', '\t']))
                .map_or(raw.len(), |(i, _)| i);
            return Ok((name, raw[..end].trim_end_matches([' ', '\t']).to_owned()));
        }
    };
    let rest_trimmed = rest.trim_start_matches([' ', '\t']);
    if rest_trimmed.is_empty() || (rest_trimmed.starts_with('#') && rest_trimmed.len() < rest.len())
    {
        Ok((name, value))
    } else {
        Err(("unexpected text after the closing quote".to_owned(), body.len() - rest_trimmed.len()))
    }
}

/// A double-quoted value after its opening quote: the value and the text after the closing one.
fn double_quoted(text: &str) -> Result<(String, &str), String> {
    let mut value = String::new();
    let mut chars = text.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Ok((value, &text[i + 1..])),
            '\\' => match chars.next().map(|(_, c)| c) {
                Some('n') => value.push('\n'),
                Some('r') => value.push('\r'),
                Some('t') => value.push('\t'),
                Some('"') => value.push('"'),
                Some('\\') => value.push('\\'),
                Some(other) => {
                    return Err(format!(
                        "unknown escape `\\{other}` in a double-quoted value (known: \\n \\r \\t \\\" \\\\)"
                    ));
                }
                None => break,
            },
            _ => value.push(c),
        }
    }
    Err("double-quoted value has no closing `\"`".to_owned())
}

fn is_name_start(byte: u8) -> bool {
    byte.is_ascii_alphabetic() || byte == b'_'
}

fn is_name_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_'
}

fn is_name(text: &str) -> bool {
    text.as_bytes().first().is_some_and(|&b| is_name_start(b)) && text.bytes().all(is_name_byte)
}

/// What follows a reference's name inside `${…}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form<'a> {
    /// `$NAME` or `${NAME}`.
    Plain,
    /// `${NAME:-word}`.
    Default(&'a [u8]),
    /// `${NAME:?word}`.
    Require(&'a [u8]),
}

/// One piece of scanned input; every byte of the input is in exactly one token's span.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token<'a> {
    /// Copied verbatim.
    Text(Range<usize>),
    /// A reference.
    Ref { name: &'a str, form: Form<'a>, span: Range<usize> },
    /// `${NAME` not followed by `}` (nor by a valid extended form): GNU copies it and goes on
    /// after the name. `span` covers `${NAME`.
    Verbatim { name: &'a str, span: Range<usize> },
    /// Extended syntax: `${NAME:-` or `${NAME:?` with a `$` or the end of input before `}`.
    /// Copied like [`Token::Verbatim`]; `span` covers `${NAME`.
    Unclosed { name: &'a str, span: Range<usize> },
}

impl Token<'_> {
    fn span(&self) -> Range<usize> {
        match self {
            Token::Text(span)
            | Token::Ref { span, .. }
            | Token::Verbatim { span, .. }
            | Token::Unclosed { span, .. } => span.clone(),
        }
    }
}

/// Splits input into tokens the way GNU's `subst_from_stdin` reads it.
struct Scanner<'a> {
    input: &'a [u8],
    at: usize,
    syntax: Syntax,
}

impl<'a> Iterator for Scanner<'a> {
    type Item = Token<'a>;

    fn next(&mut self) -> Option<Token<'a>> {
        let input = self.input;
        let start = self.at;
        if start >= input.len() {
            return None;
        }
        let Some(dollar) = input[start..].iter().position(|&b| b == b'$').map(|i| start + i) else {
            self.at = input.len();
            return Some(Token::Text(start..input.len()));
        };
        if dollar > start {
            self.at = dollar;
            return Some(Token::Text(start..dollar));
        }
        let braced = input.get(dollar + 1) == Some(&b'{');
        let name_start = dollar + 1 + usize::from(braced);
        if !input.get(name_start).is_some_and(|&b| is_name_start(b)) {
            // GNU puts the byte after `$` (or `${`) back and reads it again.
            self.at = name_start;
            return Some(Token::Text(dollar..name_start));
        }
        let name_end = input[name_start..]
            .iter()
            .position(|&b| !is_name_byte(b))
            .map_or(input.len(), |i| name_start + i);
        let name = std::str::from_utf8(&input[name_start..name_end])
            .expect("a name is ASCII letters, digits and `_`");
        if !braced {
            self.at = name_end;
            return Some(Token::Ref { name, form: Form::Plain, span: dollar..name_end });
        }
        if input.get(name_end) == Some(&b'}') {
            self.at = name_end + 1;
            return Some(Token::Ref { name, form: Form::Plain, span: dollar..name_end + 1 });
        }
        self.at = name_end;
        if self.syntax == Syntax::Extended {
            let rest = &input[name_end..];
            if rest.starts_with(b":-") || rest.starts_with(b":?") {
                let word_start = name_end + 2;
                let stop = input[word_start..].iter().position(|&b| b == b'}' || b == b'$');
                return Some(match stop.map(|i| word_start + i) {
                    Some(close) if input[close] == b'}' => {
                        self.at = close + 1;
                        let word = &input[word_start..close];
                        let form =
                            if rest[1] == b'-' { Form::Default(word) } else { Form::Require(word) };
                        Token::Ref { name, form, span: dollar..close + 1 }
                    }
                    _ => Token::Unclosed { name, span: dollar..name_end },
                });
            }
        }
        Some(Token::Verbatim { name, span: dollar..name_end })
    }
}

/// What substitution found besides output: unset names and problems with their byte spans.
#[derive(Debug, Default)]
struct Found {
    unset: Vec<String>,
    seen: BTreeSet<String>,
    problems: Vec<(String, ProblemKind, Range<usize>)>,
}

impl Found {
    fn note_unset(&mut self, name: &str) {
        if self.seen.insert(name.to_owned()) {
            self.unset.push(name.to_owned());
        }
    }

    fn problem(&mut self, name: &str, kind: ProblemKind, span: Range<usize>) {
        self.problems.push((name.to_owned(), kind, span));
    }
}

struct Expansion {
    output: Vec<u8>,
    /// How many references were substituted (not copied verbatim).
    substituted: usize,
    /// Whether the input was exactly one substituted reference.
    whole: bool,
}

fn expand(input: &[u8], vars: &dyn Vars, options: &Options, found: &mut Found) -> Expansion {
    let mut output = Vec::with_capacity(input.len());
    let mut substituted = 0;
    let mut whole = false;
    for token in (Scanner { input, at: 0, syntax: options.syntax }) {
        match token {
            Token::Text(span) => output.extend_from_slice(&input[span]),
            Token::Ref { name, span, .. } if !options.allows(name) => {
                output.extend_from_slice(&input[span]);
            }
            Token::Ref { name, form, span } => {
                substituted += 1;
                whole = substituted == 1 && span == (0..input.len());
                let value = vars.get(name);
                match (form, value) {
                    (Form::Plain, Some(value)) => {
                        if value.is_empty() && options.strict {
                            found.problem(name, ProblemKind::Empty, span);
                        }
                        output.extend_from_slice(value.as_bytes());
                    }
                    (Form::Plain, None) => {
                        found.note_unset(name);
                        if options.strict {
                            found.problem(name, ProblemKind::Unset, span);
                        }
                    }
                    (Form::Default(_) | Form::Require(_), Some(value)) if !value.is_empty() => {
                        output.extend_from_slice(value.as_bytes());
                    }
                    (Form::Default(word), _) => output.extend_from_slice(word),
                    (Form::Require(word), _) => {
                        let message = String::from_utf8_lossy(word).into_owned();
                        found.problem(name, ProblemKind::Required { message }, span);
                    }
                }
            }
            Token::Verbatim { name, span } => {
                if options.strict && options.allows(name) {
                    let message = verbatim_message(input, name, span.end);
                    found.problem(name, ProblemKind::Syntax { message }, span.clone());
                }
                output.extend_from_slice(&input[span]);
            }
            Token::Unclosed { name, span } => {
                if options.allows(name) {
                    let op = char::from(input[span.end + 1]);
                    let message = format!(
                        "`${{{name}:{op}…` needs a closing `}}`, and its text may not contain `$`"
                    );
                    found.problem(name, ProblemKind::Syntax { message }, span.clone());
                }
                output.extend_from_slice(&input[span]);
            }
        }
    }
    Expansion { output, substituted, whole }
}

fn verbatim_message(input: &[u8], name: &str, name_end: usize) -> String {
    match input.get(name_end) {
        Some(&next) if next.is_ascii_graphic() => format!(
            "`${{{name}{}…` is not a substitution kubectl-flink understands; it is copied unchanged",
            char::from(next)
        ),
        _ => format!("`${{{name}` has no closing `}}`; it is copied unchanged"),
    }
}

/// Line and column (in characters; each invalid byte counts as one) of sorted byte offsets.
fn locate(input: &[u8], offsets: &[usize]) -> Vec<Pos> {
    let mut positions = Vec::with_capacity(offsets.len());
    let (mut line, mut col, mut at) = (1, 1, 0);
    for &offset in offsets {
        for &byte in &input[at.min(offset)..offset] {
            if byte == b'\n' {
                line += 1;
                col = 1;
            } else if byte & 0xC0 != 0x80 {
                col += 1;
            }
        }
        at = at.max(offset);
        positions.push(Pos { line, col, offset });
    }
    positions
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml;
    use proptest::prelude::*;
    use serde_json::{Value, json};

    fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    fn gnu_str(input: &str, vars: &BTreeMap<String, String>, format: Option<&str>) -> String {
        String::from_utf8(gnu(input.as_bytes(), vars, format)).unwrap()
    }

    fn extended(input: &str, vars: &BTreeMap<String, String>) -> Result<String, EnvsubstError> {
        let options = Options { syntax: Syntax::Extended, ..Options::default() };
        substitute(input.as_bytes(), vars, &options).map(|s| String::from_utf8(s.output).unwrap())
    }

    /// Cases checked against GNU envsubst 0.21 by hand (`tests/envsubst_gnu.rs` checks them
    /// again against the real binary).
    #[test]
    fn gnu_cases() {
        let env = vars(&[("A", "alpha"), ("EMPTY", ""), ("B", "$A"), ("C", "${A}")]);
        let cases = [
            ("$A ${A}", "alpha alpha"),
            ("[$UNSET] [${UNSET}] [$EMPTY]", "[] [] []"),
            ("${A:-x} ${U:-d} ${U:?e} ${U=d} ${A-x}", "${A:-x} ${U:-d} ${U:?e} ${U=d} ${A-x}"),
            ("$$ $$A \\$A", "$$ $alpha \\alpha"),
            (
                "$1 $9x $_x $Ab ${A}b ${A.b} ${ A} $- $(A) ${A",
                "$1 $9x   alphab ${A.b} ${ A} $- $(A) ${A",
            ),
            ("$", "$"),
            ("${", "${"),
            ("${}", "${}"),
            ("x$", "x$"),
            ("${A}${A}$A$A", "alphaalphaalphaalpha"),
            ("${$A}", "${alpha}"),
            ("${A$A}", "${Aalpha}"),
            ("${{A}", "${{A}"),
            ("${A}}", "alpha}"),
            ("$A_x$A", "alpha"),
            ("$B $C", "$A ${A}"),
            ("é$A€${A}\u{2028}", "éalpha€alpha\u{2028}"),
            ("a$A\r\nb${A}\r\n", "aalpha\r\nbalpha\r\n"),
        ];
        for (input, expected) in cases {
            assert_eq!(gnu_str(input, &env, None), expected, "{input:?}");
        }
    }

    #[test]
    fn gnu_passes_invalid_utf8_through() {
        let env = vars(&[("A", "alpha")]);
        assert_eq!(gnu(b"\xff$A\xfe${A}\x00$A", &env, None), b"\xffalpha\xfealpha\x00alpha");
        assert_eq!(gnu(b"$\xff${\xfe", &env, None), b"$\xff${\xfe");
    }

    #[test]
    fn shell_format_restricts_substitution() {
        let env = vars(&[("A", "1"), ("B", "2"), ("C", "3")]);
        assert_eq!(gnu_str("$A ${B} $C $U", &env, Some("$A")), "1 ${B} $C $U");
        assert_eq!(gnu_str("$A ${B} $C", &env, Some("${B}, $C")), "$A 2 3");
        assert_eq!(gnu_str("$A ${B} $C", &env, Some("")), "$A ${B} $C");
        assert_eq!(gnu_str("$A ${B} $C", &env, Some("A B")), "$A ${B} $C");
        assert_eq!(gnu_str("$A ${A:-x}", &env, Some("${A:-x}")), "$A ${A:-x}");
    }

    #[test]
    fn variables_lists_like_gnu() {
        let listed = variables(b"$A ${B} ${C:-x} $A ${D $E ${F}x $$G ${$H}", Syntax::Gnu);
        assert_eq!(listed, ["A", "B", "A", "E", "F", "G", "H"]);
        assert_eq!(variables(b"${C:-x} ${D:?m}", Syntax::Extended), ["C", "D"]);
    }

    #[test]
    fn values_are_not_substituted_again() {
        let env = vars(&[("V", "${W} $W { } $"), ("W", "no")]);
        assert_eq!(gnu_str("[$V]", &env, None), "[${W} $W { } $]");
        assert_eq!(extended("[${V:-x}]", &env).unwrap(), "[${W} $W { } $]");
    }

    #[test]
    fn extended_defaults_and_requirements() {
        let env = vars(&[("A", "alpha"), ("EMPTY", "")]);
        assert_eq!(extended("${A:-x} ${U:-d} ${EMPTY:-e} ${U:-}", &env).unwrap(), "alpha d e ");
        assert_eq!(extended("${A:?set A} ${A-x} ${A:=x}", &env).unwrap(), "alpha ${A-x} ${A:=x}");
        assert_eq!(extended("${U:-a b: c # d}", &env).unwrap(), "a b: c # d");
        let err = extended("ok\n  ${U:?pass --var U=…} ${EMPTY:?}", &env).unwrap_err();
        assert_eq!(
            err.to_string(),
            "2:3: variable `U` is not set or empty: pass --var U=…\n\
             2:24: variable `EMPTY` is not set or empty"
        );
        let err = extended("${U:-${A}} ${U:?no end", &env).unwrap_err();
        assert_eq!(err.problems.len(), 2, "{err}");
        assert!(err.to_string().starts_with("1:1: `${U:-…` needs a closing `}`"), "{err}");
    }

    #[test]
    fn unset_names_are_reported_once_in_order() {
        let env = vars(&[("A", "alpha"), ("EMPTY", "")]);
        let out = substitute(b"$Z $A $Y ${Z} $EMPTY $1", &env, &Options::default()).unwrap();
        assert_eq!(out.output, b" alpha    $1");
        assert_eq!(out.unset, ["Z", "Y"]);
        let restricted = Options::default().restrict_to("$A");
        assert!(substitute(b"$Z $A", &env, &restricted).unwrap().unset.is_empty());
    }

    #[test]
    fn strict_mode_lists_every_problem_with_its_position() {
        let env = vars(&[("A", "alpha"), ("EMPTY", "")]);
        let options = Options { strict: true, ..Options::default() };
        let input = "a: $A\nb: ${UNSET}\n  c: é$EMPTY ${UNSET}\nd: ${A-x} ${A";
        let err = substitute(input.as_bytes(), &env, &options).unwrap_err();
        assert_eq!(
            err.to_string(),
            "2:4: variable `UNSET` is not set\n\
             3:7: variable `EMPTY` is set but empty\n\
             3:14: variable `UNSET` is not set\n\
             4:4: `${A-…` is not a substitution kubectl-flink understands; it is copied unchanged\n\
             4:11: `${A` has no closing `}`; it is copied unchanged"
        );
        assert_eq!((err.problems[0].end.line, err.problems[0].end.col), (2, 12));
        let error = err.to_error("spec.yaml", input, Sources::Flags);
        assert_eq!(error.diagnostics.len(), 5);
        let shown = error.to_string();
        assert!(shown.contains("--> spec.yaml:3:14"), "{shown}");
        assert!(shown.contains("--var UNSET=VALUE"), "{shown}");
        // Extended forms with a value or default are fine in strict mode.
        let options = Options { strict: true, syntax: Syntax::Extended, only: None };
        assert!(substitute(b"${U:-x} ${EMPTY:-y}", &env, &options).is_ok());
    }

    #[test]
    fn var_arguments() {
        assert_eq!(parse_var("JOB=a=b").unwrap(), ("JOB".to_owned(), "a=b".to_owned()));
        assert_eq!(parse_var("_X=").unwrap(), ("_X".to_owned(), String::new()));
        assert!(parse_var("JOB").unwrap_err().contains("NAME=VALUE"));
        assert!(parse_var("1JOB=x").unwrap_err().contains("not a variable name"));
        assert!(parse_var("=x").is_err());
    }

    #[test]
    fn env_files() {
        let text = "\u{feff}# comment\n\nexport JOB=wordcount\r\n  A = spaced value  # note\n\
                    S='lit $X \\n \"q\"' # c\nD=\"a\\nb\\t\\\"c\\\" \\\\ $Y\"\nE=\nU=x#y\nexport=1\nJOB=again\n";
        let parsed = parse_env_file("f.env", text).unwrap();
        assert_eq!(
            parsed,
            vars(&[
                ("JOB", "again"),
                ("A", "spaced value"),
                ("S", "lit $X \\n \"q\""),
                ("D", "a\nb\t\"c\" \\ $Y"),
                ("E", ""),
                ("U", "x#y"),
                ("export", "1"),
            ])
        );
    }

    #[test]
    fn env_file_errors_name_every_bad_line() {
        let text = "OK=1\nno equals\n1X=2\nQ='open\nR=\"bad \\q\"\nT='a' b\nV=\"open\n";
        let err = parse_env_file("f.env", text).unwrap_err();
        let lines: Vec<usize> =
            err.diagnostics.iter().map(|d| d.location.as_ref().unwrap().line).collect();
        assert_eq!(lines, [2, 3, 4, 5, 6, 7], "{err}");
        let shown = err.to_string();
        assert!(shown.contains("expected `=` after `no`"), "{shown}");
        assert!(shown.contains("--> f.env:5:3"), "{shown}");
        assert!(shown.contains("unknown escape `\\q`"), "{shown}");
        assert!(shown.contains("unexpected text after the closing quote"), "{shown}");
    }

    fn tree(text: &str) -> Node {
        yaml::parse_documents(text).unwrap().remove(0).root.unwrap()
    }

    fn tree_json(node: &mut Node, env: &BTreeMap<String, String>, syntax: Syntax) -> Value {
        let options = Options { syntax, ..Options::default() };
        substitute_tree(node, env, &options).unwrap();
        node.to_json().unwrap()
    }

    #[test]
    fn tree_typing_follows_the_written_text() {
        let env = vars(&[("TM", "3"), ("TAG", "true"), ("ON", "on"), ("X", "a: b\n- c")]);
        let mut node = tree(
            "replicas: ${TM}\nslots: $TM\nparallelism: ${NONE:-4}\nimage: repo/${TAG}\n\
             quoted: \"${TM}\"\nsingle: '${TM}'\nflag: ${TAG}\nword: ${ON}\ntwo: ${TM}${TM}\n\
             injected: ${X}\nunset: ${NONE}\nliteral: $1 and ${A-b}\n${TM}: key\n",
        );
        let json = tree_json(&mut node, &env, Syntax::Extended);
        assert_eq!(
            json,
            json!({
                "replicas": 3, "slots": 3, "parallelism": 4, "image": "repo/true",
                "quoted": "3", "single": "3", "flag": true, "word": "on", "two": "33",
                "injected": "a: b\n- c", "unset": null, "literal": "$1 and ${A-b}",
                "${TM}": "key",
            })
        );
    }

    #[test]
    fn tree_errors_point_at_the_scalar_and_leave_the_tree_alone() {
        let text = "a: 1\nb:\n  - x ${U:?give U}\n  - ${EMPTY}\n  - ${EMPTY:-ok}\nc.${K}: 1\n";
        let mut node = tree(text);
        let before = node.clone();
        let options = Options { syntax: Syntax::Extended, strict: true, only: None };
        let err = substitute_tree(&mut node, &vars(&[("EMPTY", "")]), &options).unwrap_err();
        assert_eq!(node, before);
        assert_eq!(
            err.to_string(),
            "3:5: variable `U` is not set or empty: give U\n\
             4:5: variable `EMPTY` is set but empty\n\
             6:1: the mapping key `c.${K}` references `K`, but keys are never substituted"
        );
        assert!(
            err.to_error("spec.yaml", text, Sources::Flags)
                .to_string()
                .contains("--> spec.yaml:3:5")
        );
    }

    #[test]
    fn tree_reports_unset_names() {
        let mut node = tree("a: $Z\nb: [$Y, '${Z}']\n");
        let unset = substitute_tree(&mut node, &vars(&[]), &Options::default()).unwrap();
        assert_eq!(unset, ["Z", "Y"]);
    }

    /// The tree without scalar text: keys, sequence lengths, nesting.
    fn shape(node: &Node) -> Value {
        match &node.kind {
            NodeKind::Scalar { .. } => Value::Null,
            NodeKind::Seq(items) => items.iter().map(shape).collect(),
            NodeKind::Map(entries) => {
                entries.iter().map(|(k, v)| (k.name.clone(), shape(v))).collect()
            }
        }
    }

    fn scalar<'a>(node: &'a Node, path: &[yaml::PathSegment]) -> &'a str {
        match &node.find(path).unwrap().0.kind {
            NodeKind::Scalar { text, .. } => text,
            other => panic!("not a scalar: {other:?}"),
        }
    }

    const SPEC: &str = "apiVersion: flink.example.com/v1alpha1
kind: FlinkJobCluster
metadata:
  name: ${V}
  labels:
    team: \"${V}\"
    plain: x${V}y
spec:
  image: repo/flink:${V}
  job:
    args: [--input, '${V}', \"${V}\"]
    extra:
      - ${V}
      - prefix ${V} suffix
  flinkConfiguration:
    a.b: |
      ${V}
---
second: ${V:-default}
";

    fn value_strategy() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            Just("\n".to_owned()),
            Just(": ".to_owned()),
            Just("- ".to_owned()),
            Just("#".to_owned()),
            Just("---".to_owned()),
            Just("'".to_owned()),
            Just("\"".to_owned()),
            Just("{".to_owned()),
            Just("}".to_owned()),
            Just("${X}".to_owned()),
            Just("\u{2028}".to_owned()),
            Just("\u{85}".to_owned()),
            Just("\r\n".to_owned()),
            "[a-z0-9 ]{1,4}",
            any::<char>().prop_map(String::from),
        ];
        prop::collection::vec(piece, 0..12).prop_map(|pieces| pieces.concat())
    }

    /// A reader that hands out its text in pieces of the given sizes, then the rest.
    struct Trickle<'a> {
        text: &'a [u8],
        sizes: std::vec::IntoIter<usize>,
    }

    impl std::io::Read for Trickle<'_> {
        fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
            let size = self.sizes.next().unwrap_or(usize::MAX).max(1);
            let n = size.min(buffer.len()).min(self.text.len());
            buffer[..n].copy_from_slice(&self.text[..n]);
            self.text = &self.text[n..];
            Ok(n)
        }
    }

    fn reference_soup() -> impl Strategy<Value = Vec<u8>> {
        let piece = prop_oneof![
            Just(b"$".to_vec()),
            Just(b"${".to_vec()),
            Just(b"}".to_vec()),
            Just(b"A".to_vec()),
            Just(b"AB".to_vec()),
            Just(b"_1".to_vec()),
            Just(b" ".to_vec()),
            Just(b"\n".to_vec()),
            Just(b":-".to_vec()),
            Just("é".as_bytes().to_vec()),
            prop::collection::vec(any::<u8>(), 0..4),
        ];
        prop::collection::vec(piece, 0..40).prop_map(|pieces| pieces.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Streamed in pieces of any size, GNU's substitution writes the same bytes.
        #[test]
        fn streaming_writes_what_substituting_the_whole_input_writes(
            text in reference_soup(),
            sizes in prop::collection::vec(1usize..6, 0..30),
            restricted in any::<bool>(),
        ) {
            let env = vars(&[("A", "alpha"), ("AB", ""), ("_1", "$A")]);
            let format = restricted.then_some("$A ${_1}");
            let mut out = Vec::new();
            gnu_stream(&mut Trickle { text: &text, sizes: sizes.into_iter() }, &mut out, &env, format).unwrap();
            prop_assert_eq!(out, gnu(&text, &env, format));
        }

        #[test]
        fn text_without_dollar_is_unchanged(text in "[^$]*", bytes in prop::collection::vec(any::<u8>(), 0..64)) {
            let env = vars(&[("A", "alpha")]);
            let extended = Options { syntax: Syntax::Extended, strict: true, only: None };
            prop_assert_eq!(gnu(text.as_bytes(), &env, None), text.as_bytes());
            prop_assert_eq!(substitute(text.as_bytes(), &env, &extended).unwrap().output, text.as_bytes());
            let bytes: Vec<u8> = bytes.into_iter().filter(|&b| b != b'$').collect();
            prop_assert_eq!(gnu(&bytes, &env, Some("$A")), bytes);
        }

        #[test]
        fn values_never_change_the_tree_shape(value in value_strategy()) {
            let env = vars(&[("V", value.as_str()), ("X", "must not appear")]);
            let documents = yaml::parse_documents(SPEC).unwrap();
            for document in documents {
                let mut root = document.root.unwrap();
                let before = shape(&root);
                let options = Options { syntax: Syntax::Extended, ..Options::default() };
                substitute_tree(&mut root, &env, &options).unwrap();
                prop_assert_eq!(shape(&root), before);
                let key = |k: &str| yaml::PathSegment::Key(k.to_owned());
                let at = |i: usize| yaml::PathSegment::Index(i);
                if root.find(&[key("second")]).is_some() {
                    let expected = if value.is_empty() { "default" } else { value.as_str() };
                    prop_assert_eq!(scalar(&root, &[key("second")]), expected);
                    continue;
                }
                prop_assert_eq!(scalar(&root, &[key("metadata"), key("name")]), value.as_str());
                prop_assert_eq!(scalar(&root, &[key("metadata"), key("labels"), key("team")]), value.as_str());
                prop_assert_eq!(scalar(&root, &[key("metadata"), key("labels"), key("plain")]), format!("x{value}y"));
                prop_assert_eq!(scalar(&root, &[key("spec"), key("image")]), format!("repo/flink:{value}"));
                let arg = |i| [key("spec"), key("job"), key("args"), at(i)];
                prop_assert_eq!(scalar(&root, &arg(1)), value.as_str());
                prop_assert_eq!(scalar(&root, &arg(2)), value.as_str());
                let extra = |i| [key("spec"), key("job"), key("extra"), at(i)];
                prop_assert_eq!(scalar(&root, &extra(0)), value.as_str());
                prop_assert_eq!(scalar(&root, &extra(1)), format!("prefix {value} suffix"));
                let conf = [key("spec"), key("flinkConfiguration"), key("a.b")];
                prop_assert_eq!(scalar(&root, &conf), format!("{value}\n"));
                // Whatever the value, the document still converts (plain whole references are
                // typed, all others are strings).
                let json = root.to_json();
                prop_assert!(json.is_ok() || resolve_fails(&value), "{json:?}");
                if let Ok(json) = json {
                    prop_assert_eq!(&json["spec"]["image"], &Value::from(format!("repo/flink:{value}")));
                    prop_assert_eq!(&json["metadata"]["labels"]["team"], &Value::from(value.as_str()));
                }
            }
        }
    }

    /// Plain whole references are typed by `resolve_plain`, which rejects e.g. `.inf`.
    fn resolve_fails(value: &str) -> bool {
        yaml::resolve_plain(value).is_err()
    }
}
