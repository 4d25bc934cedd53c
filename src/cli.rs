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
    /// GNU `envsubst` drop-in: substitute `$VAR` and `${VAR}` from the environment, stdin to stdout
    Envsubst(EnvsubstArgs),
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
    #[command(flatten)]
    pub vars: VarArgs,
}

/// Variable substitution in spec files (off unless `--env`, `--env-file` or `--var` is given).
#[derive(Debug, Args, Default)]
pub struct VarArgs {
    /// Substitute `$VAR`/`${VAR}` in spec values from the process environment
    #[arg(long, help_heading = "Variables")]
    pub env: bool,
    /// Substitute variables from a dotenv file (`KEY=VALUE` lines); wins over `--env`. Repeatable.
    #[arg(long = "env-file", value_name = "FILE", help_heading = "Variables")]
    pub env_files: Vec<PathBuf>,
    /// Set a variable; wins over `--env` and `--env-file`. Repeatable.
    #[arg(long = "var", value_name = "KEY=VALUE", value_parser = crate::envsubst::parse_var, help_heading = "Variables")]
    pub vars: Vec<(String, String)>,
    /// Substitute only these variables, like GNU envsubst's SHELL-FORMAT, e.g. `'$JOB $SAVEPOINT'`
    #[arg(long, value_name = "SHELL-FORMAT", help_heading = "Variables")]
    pub only: Option<String>,
    /// Fail, listing every one, when a referenced variable is unset or empty
    #[arg(long = "strict-env", help_heading = "Variables")]
    pub strict_env: bool,
}

/// `envsubst` arguments, as GNU's.
#[derive(Debug, Args)]
pub struct EnvsubstArgs {
    /// Substitute only the variables this text references, e.g. `'$JOB ${SAVEPOINT}'`
    #[arg(value_name = "SHELL-FORMAT")]
    pub shell_format: Option<String>,
    /// Print the variables SHELL-FORMAT references, one per line, and substitute nothing
    #[arg(short, long)]
    pub variables: bool,
    /// Fail, listing every one, when a referenced variable is unset or empty (GNU has no such flag)
    #[arg(long)]
    pub strict: bool,
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
