//! Command-line types (clap derive). No logic lives here.

pub mod integrations;
pub mod options;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::load::overrides::Override;
use crate::output::Format;

const AFTER_HELP: &str = "\
Examples:
  kubectl flink render -f cluster.yaml | kubectl apply -f -
  kubectl flink render -f cluster.yaml --set spec.taskManager.replicas=3 -o json
  cat cluster.yaml | kubectl flink render -f -
  kubectl flink schema > flink-cluster.schema.json

Exit codes: 0 ok; 1 invalid input (spec, template) or a failed lifecycle step; 2 usage;
3 internal error (a bug); `status` only: 4 the job is not RUNNING, 5 no such cluster.
On any error nothing is written to stdout, except in KRM function mode (`fn`, or no
command with a ResourceList on stdin), which writes the ResourceList with error results,
and `apply`, which prints kubectl's output up to the failure.";

/// Render Kubernetes manifests for Apache Flink job clusters from a short spec.
#[derive(Debug, Parser)]
#[command(name = "kubectl-flink", bin_name = "kubectl flink", version, about, after_help = AFTER_HELP)]
pub struct Cli {
    /// None, with a KRM `ResourceList` on stdin, runs as a KRM function (as `fn` does)
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// What to do.
#[derive(Debug, Subcommand)]
// Only the command that runs gets its arguments built (clap otherwise builds every
// subcommand's on each start). Deferred, an `Args` struct's doc comment would replace its
// command's `about`: theirs are plain comments.
#[command(defer = true)]
pub enum Command {
    /// Render the objects of one or more cluster specs to stdout
    #[command(after_help = AFTER_HELP)]
    Render(RenderArgs),
    /// Render and `kubectl apply` cluster specs; in native mode the JobManager Deployment first,
    /// then, with its uid, the objects it owns
    Apply(ApplyArgs),
    /// Show a cluster's objects, pods, job, last checkpoint and savepoint (exit 0: the job
    /// is RUNNING, 4: it is not, 5: no object of the cluster was found)
    Status(StatusArgs),
    /// Take a savepoint of a cluster's job; prints its path, and nothing else, on stdout
    Savepoint(SavepointArgs),
    /// Move a running job cluster to its spec's new version: stop with a savepoint and resume
    /// from it (default), recover the last checkpoint through HA, or start without state
    Upgrade(UpgradeArgs),
    /// Change the TaskManager count (reactive clusters: live) or the job's parallelism
    /// (through a savepoint upgrade)
    Scale(ScaleArgs),
    /// Delete every object of a cluster, and Kubernetes HA's ConfigMaps unless --keep-ha
    Delete(DeleteArgs),
    /// Convert a Flink Kubernetes Operator `FlinkDeployment` to a kubectl-flink spec (stdout),
    /// with a warning for each operator-only field saying what replaces it (stderr)
    Convert(ConvertArgs),
    /// Print the JSON Schema of the spec (for editors and CI validation)
    Schema,
    /// GNU `envsubst` drop-in: substitute `$VAR` and `${VAR}` from the environment, stdin to stdout
    Envsubst(EnvsubstArgs),
    /// Print version information
    Version,
    /// Run as a KRM function: read a ResourceList on stdin, write it back with the objects of
    /// every cluster spec added (kpt fn eval --exec, kpt fn render, kustomize)
    Fn(FnArgs),
    /// Set up kubectl-flink as a kustomize generator (legacy exec plugin)
    #[command(subcommand)]
    KustomizePlugin(KustomizePluginCommand),
    /// Print a shell completion script, or the helper kubectl runs for `kubectl flink <TAB>`
    Completion(CompletionArgs),
    /// Candidates for the last word, in cobra's protocol (run by `kubectl_complete-flink`)
    #[command(name = "__complete", hide = true, disable_help_flag = true)]
    Complete(CompleteArgs),
}

// `convert` arguments.
#[derive(Debug, Args)]
pub struct ConvertArgs {
    /// The `FlinkDeployment` file (apiVersion flink.apache.org/v1beta1), or `-` for stdin
    #[arg(short = 'f', long = "filename", value_name = "FILE")]
    pub filename: PathBuf,
    /// The converted spec's mode [default: the `FlinkDeployment`'s, native unless
    /// `mode: standalone`, as in the operator]
    #[arg(long, value_enum)]
    pub mode: Option<crate::spec::Mode>,
}

// `fn` arguments.
#[derive(Debug, Args)]
pub struct FnArgs {
    /// Package directory for new objects, one file per cluster (default `generated`; the
    /// `outputDir` setting of a `functionConfig` wins)
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<String>,
}

/// `kustomize-plugin` subcommands.
#[derive(Debug, Subcommand)]
#[command(defer = true)] // like `Command`'s
pub enum KustomizePluginCommand {
    /// Link this binary where kustomize looks for the generator of each spec kind
    Install(KustomizePluginInstallArgs),
}

// `kustomize-plugin install` arguments.
#[derive(Debug, Args)]
pub struct KustomizePluginInstallArgs {
    /// kustomize's plugin home (default: the first existing of `$KUSTOMIZE_PLUGIN_HOME`,
    /// `$XDG_CONFIG_HOME/kustomize/plugin`, `~/.config/kustomize/plugin`, `~/kustomize/plugin`)
    #[arg(long, value_name = "DIR", value_hint = clap::ValueHint::DirPath)]
    pub plugin_home: Option<PathBuf>,
    /// Replace plugin files that are not links to a kubectl-flink binary
    #[arg(long)]
    pub force: bool,
}

// `completion` arguments.
#[derive(Debug, Args)]
pub struct CompletionArgs {
    /// Shell, or `kubectl` for the `kubectl_complete-flink` helper
    #[arg(value_enum)]
    pub shell: integrations::CompletionShell,
}

// `__complete` arguments.
#[derive(Debug, Args)]
pub struct CompleteArgs {
    /// The words after `kubectl flink`, the last one being completed (maybe empty)
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub words: Vec<String>,
}

// What `render` and `apply` both take: the specs and how to read them.
#[derive(Debug, Args)]
pub struct SpecArgs {
    /// Spec file (YAML, one or more documents), or a directory of them (its `.yaml`, `.yml`
    /// and `.json` files, sorted by path; names starting with `.` skipped); `-` reads standard
    /// input. Repeatable.
    #[arg(short = 'f', long = "filename", value_name = "FILE", required = true)]
    pub filenames: Vec<PathBuf>,
    /// Read the subdirectories of `-f DIR` too, as kubectl's `-R`
    #[arg(short = 'R', long)]
    pub recursive: bool,
    /// Set a spec value before validation, e.g. `--set spec.taskManager.replicas=3`; a path
    /// ending in `[+]` appends to a list, e.g. `--set 'spec.job.args[+]=--verbose'`. Repeatable.
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub set: Vec<Override>,
    /// Directory of templates overriding the built-in ones by file name
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
    /// Render `job.fromSavepoint` without high availability (every JobManager restart then
    /// rewinds to the savepoint)
    #[arg(long)]
    pub allow_savepoint_without_ha: bool,
    /// How Flink runs on Kubernetes, overriding `spec.mode`
    #[arg(long, value_enum, help_heading = "Native mode")]
    pub mode: Option<crate::spec::Mode>,
    /// Native mode: render every object at once without ownerReferences, as
    /// `spec.native.ownerReferences: false` does (for Argo CD or Flux: deleting the
    /// JobManager Deployment then leaves its Services and config maps to their pruning)
    #[arg(long, help_heading = "Native mode")]
    pub no_owner_references: bool,
    #[command(flatten)]
    pub vars: VarArgs,
}

// `render` arguments.
#[derive(Debug, Args)]
pub struct RenderArgs {
    /// Output format
    #[arg(short, long, value_enum, default_value_t = Format::Yaml)]
    pub output: Format,
    #[command(flatten)]
    pub spec: SpecArgs,
    /// The namespace of every object, as kubectl's flag (`metadata.namespace` of every spec);
    /// a spec naming another namespace is refused
    #[arg(short = 'n', long, value_name = "NAMESPACE")]
    pub namespace: Option<String>,
    /// Write documents that are other Kubernetes objects (any `apiVersion` not kubectl-flink's,
    /// with a `kind`) to the output in their place, as data: same keys in the same order, same
    /// values, rewritten by the output's writer (comments, anchors and quoting style are not
    /// kept); without it they are an error
    #[arg(long)]
    pub passthrough: bool,
    /// Print nothing but compare the output with FILE, the committed output of this same
    /// command: exit 1 naming the first object that differs when FILE is stale (for CI)
    #[arg(long, value_name = "FILE")]
    pub check: Option<PathBuf>,
    /// Native mode: the objects to write: `owner` (RBAC and the JobManager Deployment),
    /// `owned` (Services and config maps, which reference the Deployment) or `all`
    /// [default: owner, or all with --owner-uid or without ownerReferences]
    #[arg(long, value_enum, help_heading = "Native mode")]
    pub phase: Option<crate::model::native::Phase>,
    /// Native mode: the uid of the live JobManager Deployment, which the owned objects
    /// reference (`kubectl get deployment NAME -o jsonpath='{.metadata.uid}'`)
    #[arg(
        long,
        value_name = "UID",
        value_parser = parse_uid,
        conflicts_with = "no_owner_references",
        help_heading = "Native mode"
    )]
    pub owner_uid: Option<String>,
}

// `apply` arguments: what `render` takes, plus kubectl's connection flags.
#[derive(Debug, Args)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub spec: SpecArgs,
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// Passed to kubectl; also the namespace of specs that name none
    #[arg(short = 'n', long, value_name = "NAMESPACE", help_heading = "kubectl")]
    pub namespace: Option<String>,
    /// Passed to `kubectl apply`: `server` (or `client`) sends nothing for real
    #[arg(
        long,
        value_enum,
        value_name = "STRATEGY",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "client",
        help_heading = "kubectl"
    )]
    pub dry_run: Option<DryRun>,
    /// Longest each kubectl call may take, in seconds; one that takes longer is stopped and
    /// the step it was doing named
    #[arg(long, value_name = "SECONDS", default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..=86_400), help_heading = "kubectl")]
    pub timeout: u64,
}

// kubectl's `--context` and `--kubeconfig`, passed to every kubectl call.
#[derive(Debug, Args)]
pub struct ConnectionArgs {
    /// Passed to kubectl: the kubeconfig context
    #[arg(long, value_name = "NAME", help_heading = "kubectl")]
    pub context: Option<String>,
    /// Passed to kubectl: the kubeconfig file
    #[arg(long, value_name = "FILE", help_heading = "kubectl")]
    pub kubeconfig: Option<PathBuf>,
}

// Which running cluster, and how to reach it: what every lifecycle command takes.
#[derive(Debug, Args)]
pub struct ClusterArgs {
    /// The cluster's spec file (one cluster); `-` reads standard input
    #[arg(short = 'f', long = "filename", value_name = "FILE")]
    pub filename: Option<PathBuf>,
    /// Set a spec value before validation, as `render --set`. Repeatable.
    #[arg(long = "set", value_name = "PATH=VALUE", requires = "filename")]
    pub set: Vec<Override>,
    /// Directory of templates overriding the built-in ones by file name
    #[arg(long, value_name = "DIR", requires = "filename")]
    pub templates: Option<PathBuf>,
    /// Render `job.fromSavepoint` without high availability (as `render`)
    #[arg(long)]
    pub allow_savepoint_without_ha: bool,
    #[command(flatten)]
    pub vars: VarArgs,
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// Passed to kubectl: the cluster's namespace (default: the spec's, else the context's)
    #[arg(short = 'n', long, value_name = "NAMESPACE", help_heading = "kubectl")]
    pub namespace: Option<String>,
    /// Longest each wait (and each kubectl call) may take, in seconds
    #[arg(long, value_name = "SECONDS", default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..=86_400), help_heading = "kubectl")]
    pub timeout: u64,
}

// `status` arguments.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The cluster's name (metadata.name), instead of -f
    #[arg(value_name = "NAME", conflicts_with = "filename")]
    pub name: Option<String>,
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// Output format
    #[arg(short, long, value_enum, default_value_t = StatusFormat::Text)]
    pub output: StatusFormat,
}

/// How `status` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StatusFormat {
    Text,
    Json,
}

// `savepoint` arguments.
#[derive(Debug, Args)]
pub struct SavepointArgs {
    /// The cluster's name (metadata.name), instead of -f
    #[arg(value_name = "NAME", conflicts_with = "filename")]
    pub name: Option<String>,
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// Where to write the savepoint (default: the spec's savepointDir, else Flink's
    /// `execution.checkpointing.savepoint-dir`)
    #[arg(long, value_name = "DIR")]
    pub dir: Option<String>,
}

// `upgrade` arguments.
#[derive(Debug, Args)]
pub struct UpgradeArgs {
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// How the job's state crosses the upgrade
    #[arg(long, value_enum, default_value_t = UpgradeModeArg::Savepoint)]
    pub mode: UpgradeModeArg,
    /// Print the plan (stderr) and the objects it would apply (stdout); change nothing
    #[arg(long)]
    pub dry_run: bool,
}

/// `upgrade --mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum UpgradeModeArg {
    /// Stop with a savepoint, resume from it
    Savepoint,
    /// Replace the objects; the new JobManager recovers the last checkpoint through HA
    LastState,
    /// Replace the objects; the job starts without state
    Stateless,
}

// `scale` arguments.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("to").required(true).multiple(true).args(["taskmanagers", "parallelism"])))]
pub struct ScaleArgs {
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// The number of TaskManagers
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub taskmanagers: Option<u32>,
    /// The job's parallelism (not for reactive clusters, whose job uses every slot)
    #[arg(long, value_name = "P", value_parser = clap::value_parser!(u32).range(1..=32_768))]
    pub parallelism: Option<u32>,
}

// `delete` arguments.
#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// The cluster's name (metadata.name), instead of -f
    #[arg(value_name = "NAME", conflicts_with = "filename")]
    pub name: Option<String>,
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// Keep Kubernetes HA's ConfigMaps: a cluster started again with this name recovers
    /// its job from them
    #[arg(long)]
    pub keep_ha: bool,
}

/// kubectl's `--dry-run` strategies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DryRun {
    None,
    Client,
    Server,
}

// Variable substitution in spec files (off unless `--env`, `--env-file` or `--var` is given).
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

// `envsubst` arguments, as GNU's.
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

/// `--owner-uid`, as clap takes a value parser: the refusal's message.
fn parse_uid(text: &str) -> Result<String, String> {
    crate::k8s::names::parse_uid(text).map_err(|refusal| refusal.message)
}

/// A usage error as text to print: clap quotes the arguments it refuses verbatim, so each
/// argument holding characters a terminal would act on (an ESC sequence, `\r`, a line break
/// that forges a CI workflow command) is shown escaped, as the tool's own messages show values.
pub fn usage_message(err: &clap::Error, args: &[std::ffi::OsString]) -> String {
    let mut message = err.render().to_string();
    let mut pieces: Vec<String> = Vec::new();
    for arg in args.iter().map(|a| a.to_string_lossy()) {
        if crate::error::escape_for_terminal(&arg) != arg {
            pieces.push(arg.to_string());
            if let Some((name, value)) = arg.split_once('=') {
                pieces.extend([name.to_owned(), value.to_owned()]);
                if let Some(path) = value.split_once('=').map(|(path, _)| path) {
                    pieces.push(path.to_owned());
                }
            }
        }
    }
    // clap drops terminal sequences (`ESC [ … m`) from what it quotes: look for those too.
    let stripped: Vec<String> = pieces.iter().map(|p| without_csi(p)).collect();
    pieces.extend(stripped);
    pieces.sort_by_key(|piece| std::cmp::Reverse(piece.len()));
    for piece in pieces.iter().filter(|p| !p.is_empty()) {
        message = message.replace(piece.as_str(), &crate::error::escape_for_terminal(piece));
    }
    // Whatever clap wrote otherwise: only its own line breaks stay.
    message
        .lines()
        .map(|line| crate::error::escape_for_terminal(line).into_owned() + "\n")
        .collect()
}

/// `text` without ECMA-48 control sequences (`ESC [` parameters, then a final byte `@`–`~`).
fn without_csi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' && chars.peek() == Some(&'[') {
            chars.next();
            for c in chars.by_ref() {
                if ('@'..='~').contains(&c) {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
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
