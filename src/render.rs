//! Model → YAML documents, through minijinja templates.
//!
//! Built-in templates are compiled into the binary; `--templates DIR` overrides them by file
//! name. Templates ending in `.yaml.j2` get JSON auto-escaping, so every value prints as a
//! JSON scalar or flow collection (valid YAML) and cannot change the document's structure.
//! Only the templates a run needs are compiled. Templates see the model and nothing else:
//! no files, no environment.

use std::path::{Path, PathBuf};

use minijinja::{Environment, UndefinedBehavior, syntax::SyntaxConfig};

use crate::error::{Diagnostic, Error, ErrorKind};
use crate::model::Model;

/// The built-in templates, by file name.
pub const BUILTIN: &[(&str, &str)] = &[
    ("_macros.j2", include_str!("../templates/_macros.j2")),
    ("jobmanager-job.yaml.j2", include_str!("../templates/jobmanager-job.yaml.j2")),
    ("jobmanager-service.yaml.j2", include_str!("../templates/jobmanager-service.yaml.j2")),
    ("taskmanager-deployment.yaml.j2", include_str!("../templates/taskmanager-deployment.yaml.j2")),
];

/// One rendered object, still as text, with the template it came from.
#[derive(Debug, Clone)]
pub struct Document {
    pub template: String,
    /// Whether the template came from `--templates DIR`.
    pub user: bool,
    pub text: String,
}

/// A template environment, built once and used for every cluster of a run.
pub struct Renderer {
    env: Environment<'static>,
    user_dir: Option<PathBuf>,
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
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        let syntax = SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .build()
            .map_err(|e| Error::internal(format!("template syntax: {e}")))?;
        env.set_syntax(syntax);
        let dir = user_dir.map(Path::to_path_buf);
        env.set_loader(move |name| load(dir.as_deref(), name));
        Ok(Self { env, user_dir: user_dir.map(Path::to_path_buf) })
    }

    fn is_user(&self, name: &str) -> bool {
        self.user_dir.as_deref().is_some_and(|dir| user_file(dir, name).is_some())
    }

    /// Renders every template the model asks for.
    pub fn render(&self, model: &Model) -> Result<Vec<Document>, Error> {
        let context = minijinja::Value::from(minijinja::value::Serde(model));
        model
            .templates
            .iter()
            .map(|name| {
                let text = self
                    .env
                    .get_template(name)
                    .and_then(|t| t.render(context.clone()))
                    .map_err(|err| self.template_error(name, &err))?;
                Ok(Document { template: (*name).to_owned(), user: self.is_user(name), text })
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

/// A user template file, if `name` is a plain file name present in `dir`.
fn user_file(dir: &Path, name: &str) -> Option<PathBuf> {
    let plain = !name.is_empty()
        && !name.contains(['/', '\\'])
        && name != "."
        && name != ".."
        && !name.starts_with('.');
    let path = dir.join(name);
    (plain && path.is_file()).then_some(path)
}

fn load(dir: Option<&Path>, name: &str) -> Result<Option<String>, minijinja::Error> {
    if let Some(path) = dir.and_then(|d| user_file(d, name)) {
        return std::fs::read_to_string(&path).map(Some).map_err(|err| {
            minijinja::Error::new(
                minijinja::ErrorKind::TemplateNotFound,
                format!("cannot read {}: {err}", path.display()),
            )
        });
    }
    Ok(BUILTIN.iter().find(|(n, _)| *n == name).map(|(_, source)| (*source).to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

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
        on_disk.sort();
        let mut listed: Vec<String> = BUILTIN.iter().map(|(n, _)| (*n).to_owned()).collect();
        listed.sort();
        assert_eq!(on_disk, listed, "templates/ and render::BUILTIN disagree");
    }

    #[test]
    fn user_templates_cannot_reach_outside_their_directory() {
        let dir = tempfile::tempdir().unwrap();
        assert!(user_file(dir.path(), "../etc/passwd").is_none());
        assert!(user_file(dir.path(), "/etc/passwd").is_none());
        assert!(user_file(dir.path(), "..").is_none());
    }
}
