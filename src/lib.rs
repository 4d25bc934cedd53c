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
//! | stages, last first | `output`, `check`, `render`, `model`, `convert`, `load`, `validate`, `envsubst` |
//! | domain | `flink`, `spec`, `k8s` |
//! | base | `error`, then `yaml` |
//!
//! Nothing below `main` writes to stdout or exits the process.

#![forbid(unsafe_code)]

pub mod check;
pub mod cli;
pub mod commands;
pub(crate) mod convert;
pub mod envsubst;
pub(crate) mod error;
pub(crate) mod flink;
pub(crate) mod k8s;
pub(crate) mod load;
pub mod model;
pub mod output;
pub mod pipeline;
pub mod render;
pub(crate) mod spec;
pub(crate) mod validate;
pub mod yaml;

use std::collections::BTreeMap;
use std::io::Read;

use cli::{Cli, Command};
pub use commands::Outcome;
pub use error::{Error, escape_for_terminal};
pub use load::{Substitution, input, overrides};
pub use pipeline::{RenderOptions, render};
pub use validate::Policy;

/// Runs a parsed command line.
///
/// `env` is the process environment; it is read only where a command asks for it
/// (`render --env`, `envsubst`).
pub fn run(
    cli: &Cli,
    stdin: &mut dyn Read,
    env: &BTreeMap<String, String>,
) -> Result<Outcome, Error> {
    let Some(command) = &cli.command else { return commands::krm::detected(stdin) };
    match command {
        Command::Render(args) => commands::render::run(&cli::options::render(args, stdin, env)?),
        Command::Apply(args) => commands::apply::run(
            &cli::options::apply(args, stdin, env)?,
            &mut system_kubectl(args.timeout),
        ),
        Command::Status(args) => commands::status::run(
            &cli::options::cluster(&args.cluster, args.name.as_ref(), stdin, env)?,
            match args.output {
                cli::StatusFormat::Text => commands::status::Format::Text,
                cli::StatusFormat::Json => commands::status::Format::Json,
            },
            &mut system_kubectl(args.cluster.timeout),
            &mut std::io::stderr(),
        ),
        Command::Savepoint(args) => commands::savepoint::run(
            &commands::savepoint::Options {
                cluster: cli::options::cluster(&args.cluster, args.name.as_ref(), stdin, env)?,
                dir: args.dir.clone(),
            },
            &mut system_kubectl(args.cluster.timeout),
            &mut std::io::stderr(),
        ),
        Command::Upgrade(args) => commands::upgrade::run(
            &cli::options::upgrade(args, stdin, env)?,
            &mut system_kubectl(args.cluster.timeout),
            &mut std::io::stderr(),
        ),
        Command::Scale(args) => commands::upgrade::scale(
            &commands::upgrade::ScaleOptions {
                cluster: cli::options::cluster(&args.cluster, None, stdin, env)?,
                taskmanagers: args.taskmanagers,
                parallelism: args.parallelism,
            },
            &mut system_kubectl(args.cluster.timeout),
            &mut std::io::stderr(),
        ),
        Command::Delete(args) => commands::delete::run(
            &commands::delete::Options {
                cluster: cli::options::cluster(&args.cluster, args.name.as_ref(), stdin, env)?,
                keep_ha: args.keep_ha,
            },
            &mut system_kubectl(args.cluster.timeout),
            &mut std::io::stderr(),
        ),
        Command::Envsubst(args) => {
            commands::envsubst::run(&cli::options::envsubst(args), stdin, env)
        }
        Command::Convert(args) => commands::convert::run(&cli::options::convert(args, stdin)?),
        Command::Schema => Ok(Outcome::stdout(commands::schema())),
        Command::Version => Ok(Outcome::stdout(commands::version_text())),
        Command::Fn(args) => commands::krm::run_stdin(
            stdin,
            &commands::krm::FnOptions { output_dir: args.output_dir.as_deref() },
        ),
        Command::KustomizePlugin(cli::KustomizePluginCommand::Install(args)) => {
            Ok(Outcome::stdout(cli::integrations::install(
                args.plugin_home.as_deref(),
                args.force,
                env,
            )?))
        }
        Command::Completion(args) => {
            Ok(Outcome::stdout(cli::integrations::completion_script(args.shell)))
        }
        Command::Complete(args) => Ok(Outcome::stdout(cli::integrations::complete(&args.words))),
    }
}

/// The `kubectl` on `PATH`, each call stopped after `timeout` seconds.
fn system_kubectl(timeout: u64) -> commands::kubectl::SystemKubectl {
    commands::kubectl::SystemKubectl { timeout: std::time::Duration::from_secs(timeout) }
}
