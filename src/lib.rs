//! kubectl-flink: Flink cluster specs in, Kubernetes manifests out.
//!
//! The pipeline, one module per stage:
//! `input` → `yaml` + `spec` (+ `overrides`) via `load` → `model` → `render` → `check` → `output`.
//! Nothing below `main` writes to stdout or exits the process.

pub mod check;
pub mod cli;
pub mod error;
pub mod input;
pub mod load;
pub mod model;
pub mod names;
pub mod output;
pub mod overrides;
pub mod quantity;
pub mod render;
pub mod spec;
pub mod version;
pub mod yaml;

use std::io::Read;
use std::path::Path;

use cli::{Cli, Command, RenderArgs};
pub use error::Error;
use input::Input;
use output::Format;
use overrides::Override;

/// What a successful run produced: the bytes for stdout and warnings for stderr.
#[derive(Debug, Default)]
pub struct Outcome {
    pub stdout: Vec<u8>,
    pub warnings: Vec<String>,
}

/// Runs a parsed command line.
pub fn run(cli: &Cli, stdin: &mut dyn Read) -> Result<Outcome, Error> {
    match &cli.command {
        Command::Render(args) => render_command(args, stdin),
        Command::Schema => Ok(Outcome { stdout: schema(), warnings: Vec::new() }),
        Command::Version => {
            Ok(Outcome { stdout: version_text().into_bytes(), warnings: Vec::new() })
        }
    }
}

fn render_command(args: &RenderArgs, stdin: &mut dyn Read) -> Result<Outcome, Error> {
    let inputs = args
        .filenames
        .iter()
        .map(|path| input::read(path, stdin))
        .collect::<Result<Vec<_>, _>>()?;
    let options = RenderOptions {
        format: args.output,
        overrides: &args.set,
        templates: args.templates.as_deref(),
        policy: spec::Policy { allow_savepoint_without_ha: args.allow_savepoint_without_ha },
    };
    render(&inputs, &options)
}

/// How to render.
#[derive(Debug, Clone, Copy)]
pub struct RenderOptions<'a> {
    pub format: Format,
    pub overrides: &'a [Override],
    pub templates: Option<&'a Path>,
    pub policy: spec::Policy,
}

/// Renders every spec of every input into one output, or fails without output.
pub fn render(inputs: &[Input], options: &RenderOptions) -> Result<Outcome, Error> {
    let loaded = load::load(inputs, options.overrides, options.policy)?;
    let renderer = render::Renderer::new(options.templates)?;
    let mut objects = Vec::new();
    let mut warnings = Vec::new();
    for item in &loaded {
        let model = model::build(&item.valid);
        let documents = renderer.render(&model)?;
        let checked = check::check(&documents)?;
        check::check_services_select_pods(&checked)?;
        objects.extend(checked);
        warnings.extend(item.valid.warnings.iter().map(|w| format!("{}: {w}", item.origin)));
    }
    let stdout = output::encode(&objects, options.format)?;
    Ok(Outcome { stdout, warnings })
}

/// The spec's JSON Schema.
pub fn schema() -> Vec<u8> {
    let schema = schemars::schema_for!(spec::FlinkJobCluster);
    let mut bytes = serde_json::to_vec_pretty(&schema).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}

/// `kubectl-flink version`: the tool, the Kubernetes API it checks against, Flink versions.
pub fn version_text() -> String {
    format!(
        "kubectl-flink {}\nKubernetes API: {} (k8s-openapi {})\nFlink: {} … 1.20, 2.0 … {} (default {})\n",
        env!("CARGO_PKG_VERSION"),
        KUBERNETES_API,
        K8S_OPENAPI,
        version::FlinkVersion::OLDEST,
        version::FlinkVersion::NEWEST,
        version::FlinkVersion::NEWEST,
    )
}

/// The Kubernetes API version objects are checked against (k8s-openapi's `latest` feature).
pub const KUBERNETES_API: &str = "1.37";
const K8S_OPENAPI: &str = "0.29";
