//! kubectl-flink: Flink cluster specs in, Kubernetes manifests out.
//!
//! Layers, each importing only those below it (checked by `scripts/check-layers`):
//!
//! | layer | modules |
//! |---|---|
//! | entry | [`run`] |
//! | command line | `cli` |
//! | commands | `commands` |
//! | pipeline | `pipeline` |
//! | stages, last first | `output`, `check`, `render`, `model`, `load`, `validate`, `envsubst` |
//! | domain | `flink`, `spec`, `k8s` |
//! | base | `error`, then `yaml` |
//!
//! Nothing below `main` writes to stdout or exits the process.

pub mod check;
pub mod cli;
pub mod commands;
pub mod envsubst;
pub mod error;
pub(crate) mod flink;
pub(crate) mod k8s;
pub mod load;
pub mod model;
pub mod output;
pub mod pipeline;
pub mod render;
pub(crate) mod spec;
pub mod validate;
pub mod yaml;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use cli::{Cli, Command};
pub use commands::Outcome;
use error::Diagnostic;
pub use error::Error;
pub use load::{Substitution, input, overrides};
pub use pipeline::{RenderOptions, render};

/// Runs a parsed command line.
///
/// `env` is the process environment; it is read only where a command asks for it
/// (`render --env`, `envsubst`).
pub fn run(
    cli: &Cli,
    stdin: &mut dyn Read,
    env: &BTreeMap<String, String>,
) -> Result<Outcome, Error> {
    let Some(command) = &cli.command else { return detected_command(stdin) };
    match command {
        Command::Render(args) => commands::render::run(&cli::options::render(args, stdin, env)?),
        Command::Apply(args) => commands::apply::run(
            &cli::options::apply(args, stdin, env)?,
            &mut commands::apply::SystemKubectl,
        ),
        Command::Envsubst(args) => {
            commands::envsubst::run(&cli::options::envsubst(args), stdin, env)
        }
        Command::Schema => Ok(Outcome::stdout(schema())),
        Command::Version => Ok(Outcome::stdout(version_text())),
        Command::Fn(args) => {
            let input = commands::krm::read_stdin(stdin)?;
            let Some(list) = commands::krm::parse(&input.text)? else {
                return Err(Error::input_one(
                    Diagnostic::new("standard input is not a KRM ResourceList").with_help(
                        "kpt and kustomize send one; to render a spec file use `render -f FILE`",
                    ),
                ));
            };
            commands::krm::run(
                &list,
                &commands::krm::FnOptions { output_dir: args.output_dir.as_deref() },
            )
        }
        Command::KustomizePlugin(cli::KustomizePluginCommand::Install(args)) => {
            let home = match &args.plugin_home {
                Some(home) => home.clone(),
                None => cli::integrations::plugin_home(env, Path::is_dir)?,
            };
            let exe = std::env::current_exe().map_err(|err| {
                Error::internal(format!("cannot tell where this binary is: {err}"))
            })?;
            Ok(Outcome::stdout(cli::integrations::install_kustomize_plugin(&home, &exe)?))
        }
        Command::Completion(args) => {
            Ok(Outcome::stdout(cli::integrations::completion_script(args.shell)))
        }
        Command::Complete(args) => Ok(Outcome::stdout(cli::integrations::complete(&args.words))),
    }
}

/// No command: a KRM function if stdin holds a `ResourceList` (kustomize and kpt run
/// functions without arguments), else a usage error.
fn detected_command(stdin: &mut dyn Read) -> Result<Outcome, Error> {
    let usage =
        || {
            Error::usage(Diagnostic::new("no command given").with_help(
                "run `kubectl flink --help`; `kubectl flink render -f FILE` renders a spec",
            ))
        };
    let Ok(input) = commands::krm::read_stdin(stdin) else { return Err(usage()) };
    match commands::krm::parse(&input.text) {
        Ok(Some(list)) => commands::krm::run(&list, &commands::krm::FnOptions::default()),
        Ok(None) | Err(_) => Err(usage()),
    }
}
/// The spec's JSON Schema.
pub fn schema() -> Vec<u8> {
    let schema = schemars::schema_for!(spec::FlinkCluster);
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
        flink::version::FlinkVersion::OLDEST,
        flink::version::FlinkVersion::NEWEST,
        flink::version::FlinkVersion::NEWEST,
    )
}

/// The Kubernetes API version objects are checked against (k8s-openapi's `latest` feature).
pub const KUBERNETES_API: &str = "1.37";
const K8S_OPENAPI: &str = "0.29";
