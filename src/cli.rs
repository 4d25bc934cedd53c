//! Command-line types (clap derive). No logic lives here.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::output::Format;
use crate::overrides::Override;

const AFTER_HELP: &str = "\
Examples:
  kubectl flink render -f cluster.yaml | kubectl apply -f -
  kubectl flink render -f cluster.yaml --set spec.taskManager.replicas=3 -o json
  cat cluster.yaml | kubectl flink render -f -
  kubectl flink schema > flink-cluster.schema.json

Exit codes: 0 ok; 1 invalid input (spec, template); 2 usage; 3 internal error (a bug).
On any error nothing is written to stdout.";

/// Render Kubernetes manifests for Apache Flink job clusters from a short spec.
#[derive(Debug, Parser)]
#[command(name = "kubectl-flink", bin_name = "kubectl flink", version, about, after_help = AFTER_HELP)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Render the objects of one or more cluster specs to stdout
    #[command(after_help = AFTER_HELP)]
    Render(RenderArgs),
    /// Print the JSON Schema of the spec (for editors and CI validation)
    Schema,
    /// Print version information
    Version,
}

/// `render` arguments.
#[derive(Debug, Args)]
pub struct RenderArgs {
    /// Spec file (YAML, one or more documents); `-` reads standard input. Repeatable.
    #[arg(short = 'f', long = "filename", value_name = "FILE", required = true)]
    pub filenames: Vec<PathBuf>,
    /// Output format
    #[arg(short, long, value_enum, default_value_t = Format::Yaml)]
    pub output: Format,
    /// Set a spec value before validation, e.g. `--set spec.taskManager.replicas=3`. Repeatable.
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub set: Vec<Override>,
    /// Directory of templates overriding the built-in ones by file name
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
    /// Render `job.fromSavepoint` without high availability (every JobManager restart then
    /// rewinds to the savepoint)
    #[arg(long)]
    pub allow_savepoint_without_ha: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }
}
