//! `kubectl-flink convert`: a Flink Kubernetes Operator `FlinkDeployment` in, the
//! kubectl-flink spec out, checked to render before a byte is written.

use super::Outcome;
use crate::convert::{self, Conversion};
use crate::error::{Diagnostic, Error, display_path};
use crate::load::input::Input;
use crate::pipeline::{self, RenderOptions};
use crate::spec::Mode;
use crate::yaml::{self, PathSegment};

/// What `convert` was asked for.
#[derive(Debug)]
pub struct Options {
    /// The file holding the `FlinkDeployment`.
    pub input: Input,
    /// `--mode`: the converted spec's mode instead of the `FlinkDeployment`'s.
    pub mode: Option<Mode>,
}

/// Where the converted spec stands in messages about it.
const CONVERTED: &str = "<converted spec>";

/// Runs `convert`: every `FlinkDeployment` of the input as a spec document, each one
/// rendered first so that what is printed is what `kubectl flink render` accepts.
pub fn run(options: &Options) -> Result<Outcome, Error> {
    let converted = convert::convert(&options.input, options.mode)?;
    let mut documents = Vec::new();
    let mut warnings = converted.warnings;
    let mut problems = Vec::new();
    for conversion in &converted.conversions {
        let mut text = String::new();
        yaml::write_serialized(&conversion.cluster, &mut text);
        match renders(&text) {
            Ok(rendered) => {
                warnings.extend(rendered);
            }
            Err(err) => problems.extend(
                err.diagnostics.into_iter().map(|d| relocate(d, conversion, &options.input)),
            ),
        }
        documents.push(text);
    }
    if !problems.is_empty() {
        return Err(Error::input(problems));
    }
    let stdout = if documents.len() == 1 {
        documents.remove(0)
    } else {
        documents.iter().fold(String::new(), |out, d| out + "---\n" + d)
    };
    Ok(Outcome { stdout: stdout.into_bytes(), warnings, ..Outcome::default() })
}

/// Renders a converted spec as `kubectl flink render` would; its warnings.
fn renders(text: &str) -> Result<Vec<String>, Error> {
    let input = Input { origin: CONVERTED.to_owned(), text: text.to_owned() };
    pipeline::render(&[input], &RenderOptions::default()).map(|rendered| rendered.warnings)
}

/// A problem of the converted spec, pointed at the `FlinkDeployment` field it came from.
fn relocate(mut problem: Diagnostic, conversion: &Conversion, input: &Input) -> Diagnostic {
    problem.location = None;
    let origin = conversion
        .sources
        .iter()
        .filter(|(to, _)| problem.path.starts_with(to))
        .max_by_key(|(to, _)| to.len());
    let Some((to, from)) = origin else {
        problem.message = format!("the converted spec: {}", problem.message);
        return problem;
    };
    let converted_path = display_path(&problem.path);
    let mut path: Vec<PathSegment> = from.clone();
    path.extend_from_slice(&problem.path[to.len()..]);
    problem.message = format!("{} (converted to `{converted_path}`)", problem.message);
    if let Some(location) = convert::locate(input, &conversion.root, &path) {
        problem = problem.at(location);
    }
    problem.path = path;
    problem
}
