//! Model → YAML documents, through minijinja templates.
//!
//! Built-in templates are compiled into the binary; `--templates DIR` overrides them by file
//! name. Templates ending in `.yaml.j2` get JSON auto-escaping, so every value prints as a
//! JSON scalar or flow collection (valid YAML) and cannot change the document's structure.
//! Only the templates a run needs are compiled. Templates see the model and nothing else:
//! no files, no environment.

use std::fmt::Write as _;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use minijinja::{Environment, UndefinedBehavior, syntax::SyntaxConfig};

use crate::error::{Diagnostic, Error, ErrorKind};
use crate::model::Model;
use crate::yaml::is_printable;

/// The built-in templates, by file name.
pub const BUILTIN: &[(&str, &str)] = &[
    ("_macros.j2", include_str!("../templates/_macros.j2")),
    ("jobmanager-job.yaml.j2", include_str!("../templates/jobmanager-job.yaml.j2")),
    ("jobmanager-service.yaml.j2", include_str!("../templates/jobmanager-service.yaml.j2")),
    (
        "jobmanager-rest-service.yaml.j2",
        include_str!("../templates/jobmanager-rest-service.yaml.j2"),
    ),
    ("taskmanager-deployment.yaml.j2", include_str!("../templates/taskmanager-deployment.yaml.j2")),
    ("taskmanager-hpa.yaml.j2", include_str!("../templates/taskmanager-hpa.yaml.j2")),
    ("jobmanager-deployment.yaml.j2", include_str!("../templates/jobmanager-deployment.yaml.j2")),
    ("jobmanager-ingress.yaml.j2", include_str!("../templates/jobmanager-ingress.yaml.j2")),
    ("flink-configmap.yaml.j2", include_str!("../templates/flink-configmap.yaml.j2")),
    ("serviceaccount.yaml.j2", include_str!("../templates/serviceaccount.yaml.j2")),
    ("role.yaml.j2", include_str!("../templates/role.yaml.j2")),
    ("rolebinding.yaml.j2", include_str!("../templates/rolebinding.yaml.j2")),
    ("native/_macros.j2", include_str!("../templates/native/_macros.j2")),
    ("native/serviceaccount.yaml.j2", include_str!("../templates/native/serviceaccount.yaml.j2")),
    ("native/role.yaml.j2", include_str!("../templates/native/role.yaml.j2")),
    ("native/rolebinding.yaml.j2", include_str!("../templates/native/rolebinding.yaml.j2")),
    (
        "native/jobmanager-deployment.yaml.j2",
        include_str!("../templates/native/jobmanager-deployment.yaml.j2"),
    ),
    ("native/flink-configmap.yaml.j2", include_str!("../templates/native/flink-configmap.yaml.j2")),
    (
        "native/pod-template-configmap.yaml.j2",
        include_str!("../templates/native/pod-template-configmap.yaml.j2"),
    ),
    (
        "native/internal-service.yaml.j2",
        include_str!("../templates/native/internal-service.yaml.j2"),
    ),
    ("native/rest-service.yaml.j2", include_str!("../templates/native/rest-service.yaml.j2")),
];

/// Largest user template accepted, in bytes (the size limit of spec inputs).
const MAX_TEMPLATE_BYTES: usize = crate::yaml::MAX_INPUT_BYTES;

/// One rendered object, still as text, with the template it came from.
#[derive(Debug, Clone)]
pub struct Document {
    pub template: String,
    /// Whether a file from `--templates DIR` printed it (the template or its macros). The
    /// built-in templates print JSON; a user's may print any YAML.
    pub user: bool,
    pub text: String,
    /// A pod template to merge into the rendered workload, and the Flink container's name.
    pub pod_template: Option<(serde_json::Value, &'static str)>,
}

/// A template environment, built once and used for every cluster of a run.
pub struct Renderer {
    env: Environment<'static>,
    user_dir: Option<PathBuf>,
    /// The built-in templates the user's directory replaces, looked up once.
    replaced: Vec<&'static str>,
}

impl Renderer {
    /// Builds the environment; `user_dir` overrides built-in templates by file name.
    pub fn new(user_dir: Option<&Path>) -> Result<Self, Error> {
        if let Some(dir) = user_dir
            && !dir.is_dir()
        {
            return Err(Error::usage(
                Diagnostic::new(format!("--templates `{}` is not a directory", dir.display()))
                    .with_help("give a directory holding templates named like the built-in ones, e.g. `jobmanager-job.yaml.j2`"),
            ));
        }
        // The built-in templates use no filter, test or global function: minijinja's tables of
        // them, built on every start, are only for user templates.
        let mut env = if user_dir.is_some() { Environment::new() } else { Environment::empty() };
        env.set_auto_escape_callback(minijinja::default_auto_escape_callback);
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        let syntax = SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .build()
            .map_err(|e| Error::internal(format!("template syntax: {e}")))?;
        env.set_syntax(syntax);
        env.set_formatter(yaml_safe_formatter);
        let dir = user_dir.map(Path::to_path_buf);
        env.set_loader(move |name| load(dir.as_deref(), name));
        let replaced = match user_dir {
            Some(dir) => BUILTIN
                .iter()
                .map(|(name, _)| *name)
                .filter(|name| !matches!(user_entry(dir, name), UserEntry::Absent))
                .collect(),
            None => Vec::new(),
        };
        Ok(Self { env, user_dir: user_dir.map(Path::to_path_buf), replaced })
    }

    /// Whether the user's directory has an entry for `name` (usable or not).
    fn is_user(&self, name: &str) -> bool {
        self.user_dir
            .as_deref()
            .is_some_and(|dir| !matches!(user_entry(dir, name), UserEntry::Absent))
    }

    /// Whether what `name` prints comes from a user's file: the template itself or the
    /// macros the built-in templates import.
    fn printed_by_user(&self, name: &str) -> bool {
        [name, "_macros.j2", "native/_macros.j2"].iter().any(|name| self.replaced.contains(name))
    }

    /// Renders every template the model asks for.
    pub fn render(&self, model: &Model) -> Result<Vec<Document>, Error> {
        let mut documents = self.render_templates(model.templates(), model)?;
        for document in &mut documents {
            document.pod_template = model.pod_template(&document.template).cloned();
        }
        Ok(documents)
    }

    /// Renders the named templates with any serializable model.
    fn render_templates<T: serde::Serialize>(
        &self,
        names: &[&'static str],
        model: &T,
    ) -> Result<Vec<Document>, Error> {
        let context = minijinja::Value::from(minijinja::value::Serde(model));
        names
            .iter()
            .map(|name| {
                let text = self
                    .env
                    .get_template(name)
                    .and_then(|t| t.render(context.clone()))
                    .map_err(|err| self.template_error(name, &err))?;
                Ok(Document {
                    template: (*name).to_owned(),
                    user: self.printed_by_user(name),
                    text,
                    pod_template: None,
                })
            })
            .collect()
    }

    fn template_error(&self, rendering: &str, err: &minijinja::Error) -> Error {
        let name = err.name().unwrap_or(rendering);
        let user = self.is_user(name);
        let origin = if user {
            self.user_dir
                .as_deref()
                .map_or_else(|| name.to_owned(), |d| d.join(name).display().to_string())
        } else {
            format!("built-in template {name}")
        };
        let location = err.line().map_or_else(|| origin.clone(), |line| format!("{origin}:{line}"));
        let detail = err.detail().map(|d| format!(": {d}")).unwrap_or_default();
        let diagnostic = Diagnostic::new(format!("template {location}: {}{detail}", err.kind()))
            .with_help("fix the template; values come from the model (see templates/ for the built-in ones)");
        Error {
            kind: if user { ErrorKind::Input } else { ErrorKind::Internal },
            diagnostics: vec![diagnostic],
        }
    }
}

/// JSON auto-escaping, plus what YAML forbids raw but JSON allows: DEL, the C1 controls but
/// NEL, U+FEFF, U+FFFE and U+FFFF are written as `\u` escapes, which both read the same. Without
/// this, `spec.job.args: ["a\x7Fb"]` gave output that is not YAML.
fn yaml_safe_formatter(
    out: &mut minijinja::Output,
    state: &mut minijinja::State,
    value: &minijinja::Value,
) -> Result<(), minijinja::Error> {
    if *state.auto_escape() != minijinja::AutoEscape::Json || value.is_safe() {
        return minijinja::escape_formatter(out, state, value);
    }
    if let Some(text) = value.as_str() {
        // Most values printed are strings: written straight out, not through serde.
        out.write_char('"')?;
        write_escaped(out, text, Quoting::InString)?;
        return out.write_char('"').map_err(Into::into);
    }
    let json = serde_json::to_string(value).map_err(|err| {
        minijinja::Error::new(minijinja::ErrorKind::BadSerialization, "cannot print as JSON")
            .with_source(err)
    })?;
    write_escaped(out, &json, Quoting::Json).map_err(Into::into)
}

/// What `text` is, for [`write_escaped`].
#[derive(Clone, Copy, PartialEq)]
enum Quoting {
    /// The inside of a JSON string: `"` and `\` are escaped too.
    InString,
    /// JSON already: its quotes and backslashes stay.
    Json,
}

/// Writes `text` with every character that is not printable (control characters, DEL, C1,
/// U+FEFF, …) as a `\u` escape, which JSON and YAML read the same; runs of printable text
/// go out in one write.
fn write_escaped(out: &mut minijinja::Output, text: &str, quoting: Quoting) -> std::fmt::Result {
    let mut unwritten = 0;
    for (at, c) in text.char_indices() {
        let quote = quoting == Quoting::InString && (c == '"' || c == '\\');
        if !quote && is_printable(c) {
            continue;
        }
        out.write_str(&text[unwritten..at])?;
        if quote {
            out.write_char('\\')?;
            out.write_char(c)?;
        } else {
            // Only characters below U+10000 are not printable: one escape is enough.
            write!(out, "\\u{:04x}", u32::from(c))?;
        }
        unwritten = at + c.len_utf8();
    }
    out.write_str(&text[unwritten..])
}

/// What `DIR/name` is when the user's directory has an entry of that (plain) name.
enum UserEntry {
    /// Nothing by that name: the built-in template is used.
    Absent,
    /// A regular file inside the directory (links followed).
    File(PathBuf),
    /// An entry that cannot be a template: never silently replaced by the built-in one.
    Refused(String),
}

fn user_entry(dir: &Path, name: &str) -> UserEntry {
    let path = dir.join(name);
    if !is_plain(name) || std::fs::symlink_metadata(&path).is_err() {
        return UserEntry::Absent;
    }
    let shown = path.display();
    match std::fs::metadata(&path) {
        Err(err) => UserEntry::Refused(format!("{shown} cannot be read: {err}")),
        Ok(meta) if !meta.is_file() => UserEntry::Refused(format!(
            "{shown} is not a regular file (a directory, device, FIFO or socket)"
        )),
        Ok(_) if !is_inside(dir, &path) => {
            UserEntry::Refused(format!("{shown} links to a file outside the --templates directory"))
        }
        Ok(_) => UserEntry::File(path),
    }
}

fn is_plain(name: &str) -> bool {
    // Native mode's templates live in `native/`, overridden from `DIR/native/`.
    let name = name.strip_prefix("native/").unwrap_or(name);
    !name.is_empty()
        && !name.contains(['/', '\\'])
        && name != "."
        && name != ".."
        && !name.starts_with('.')
}

/// Whether `path`, links followed, is inside `dir`: a symbolic link in a template directory
/// must not let a template read (and print) files elsewhere.
fn is_inside(dir: &Path, path: &Path) -> bool {
    match (dir.canonicalize(), path.canonicalize()) {
        (Ok(dir), Ok(path)) => path.starts_with(dir),
        _ => false,
    }
}

fn load(dir: Option<&Path>, name: &str) -> Result<Option<String>, minijinja::Error> {
    // Not `TemplateNotFound`: `include` would replace the message with its own.
    let not_loaded =
        |message: String| minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, message);
    match dir.map_or(UserEntry::Absent, |dir| user_entry(dir, name)) {
        UserEntry::File(path) => {
            let mut text = String::new();
            std::fs::File::open(&path)
                .and_then(|file| {
                    file.take(
                        u64::try_from(MAX_TEMPLATE_BYTES).unwrap_or(u64::MAX).saturating_add(1),
                    )
                    .read_to_string(&mut text)
                })
                .map_err(|err| not_loaded(format!("cannot read {}: {err}", path.display())))?;
            if text.len() > MAX_TEMPLATE_BYTES {
                return Err(not_loaded(format!(
                    "{} is larger than the limit of {MAX_TEMPLATE_BYTES} bytes",
                    path.display()
                )));
            }
            Ok(Some(text))
        }
        UserEntry::Refused(message) => Err(not_loaded(message)),
        UserEntry::Absent => {
            Ok(BUILTIN.iter().find(|(n, _)| *n == name).map(|(_, source)| (*source).to_owned()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user_file(dir: &Path, name: &str) -> Option<PathBuf> {
        match user_entry(dir, name) {
            UserEntry::File(path) => Some(path),
            UserEntry::Absent | UserEntry::Refused(_) => None,
        }
    }

    #[test]
    fn every_builtin_template_compiles_and_is_listed() {
        let renderer = Renderer::new(None).unwrap();
        for (name, _) in BUILTIN {
            renderer.env.get_template(name).unwrap_or_else(|e| panic!("{name}: {e:#}"));
        }
        let mut on_disk: Vec<String> =
            std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/templates"))
                .unwrap()
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .filter(|n| !std::path::Path::new(n).is_dir())
                .filter(|n| {
                    std::path::Path::new(n)
                        .extension()
                        .is_some_and(|e| e.eq_ignore_ascii_case("j2"))
                })
                .collect();
        on_disk.extend(
            std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/templates/native"))
                .unwrap()
                .map(|e| format!("native/{}", e.unwrap().file_name().into_string().unwrap()))
                .filter(|n| {
                    std::path::Path::new(n)
                        .extension()
                        .is_some_and(|e| e.eq_ignore_ascii_case("j2"))
                }),
        );
        on_disk.sort();
        let mut listed: Vec<String> = BUILTIN.iter().map(|(n, _)| (*n).to_owned()).collect();
        listed.sort();
        assert_eq!(on_disk, listed, "templates/ and render::BUILTIN disagree");
    }

    /// What `{{ value }}` prints in a `.yaml.j2` template.
    fn printed(value: &minijinja::Value) -> String {
        let renderer = Renderer::new(None).unwrap();
        let mut env = renderer.env;
        env.add_template("t.yaml.j2", "{{ v }}").unwrap();
        env.get_template("t.yaml.j2").unwrap().render(minijinja::context! { v => value }).unwrap()
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]
        #[test]
        fn strings_print_as_json_of_printable_characters(text in "\\PC*|[\\x00-\\x{10ffff}]{0,12}") {
            let out = printed(&minijinja::Value::from(text.as_str()));
            proptest::prop_assert!(out.chars().all(is_printable), "{:?}", out);
            let back: String = serde_json::from_str(&out).unwrap();
            proptest::prop_assert_eq!(back, text);
        }
    }

    #[test]
    fn values_print_as_json() {
        let list = minijinja::Value::from(vec!["a\u{7f}", "\"q\""]);
        assert_eq!(printed(&list), r#"["a\u007f","\"q\""]"#);
        assert_eq!(
            printed(&minijinja::Value::from("line\nbreak\u{feff}")),
            r#""line\u000abreak\ufeff""#
        );
        assert_eq!(printed(&minijinja::Value::from(8081)), "8081");
    }

    #[test]
    fn user_templates_cannot_reach_outside_their_directory() {
        let dir = tempfile::tempdir().unwrap();
        assert!(user_file(dir.path(), "../etc/passwd").is_none());
        assert!(user_file(dir.path(), "/etc/passwd").is_none());
        assert!(user_file(dir.path(), "..").is_none());
    }

    #[cfg(unix)]
    #[test]
    fn issue_8_links_out_of_the_template_directory_are_refused() {
        let outside = tempfile::tempdir().unwrap();
        let secret = outside.path().join("secret");
        std::fs::write(&secret, "s3cr3t").unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(&secret, dir.path().join("secret.j2")).unwrap();
        std::fs::write(dir.path().join("real.j2"), "ok").unwrap();
        std::os::unix::fs::symlink(dir.path().join("real.j2"), dir.path().join("alias.j2"))
            .unwrap();
        assert!(user_file(dir.path(), "secret.j2").is_none());
        let err = load(Some(dir.path()), "secret.j2").unwrap_err();
        assert!(format!("{err:#}").contains("links to a file outside"), "{err:#}");
        assert_eq!(load(Some(dir.path()), "alias.j2").unwrap().as_deref(), Some("ok"));
    }
}
