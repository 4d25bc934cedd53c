//! kubectl-flink: Flink cluster specs in, Kubernetes manifests out.
//!
//! The pipeline, one module per stage:
//! `input` → `yaml` + `spec` (+ `overrides`) via `load` → `model` → `render` → `check` → `output`.
//! Nothing below `main` writes to stdout or exits the process.

pub mod apply;
pub mod check;
pub mod cli;
pub mod envsubst;
pub mod error;
pub mod input;
pub mod integrations;
pub mod krm;
pub mod load;
pub mod model;
pub mod names;
pub mod native;
pub mod output;
pub mod overrides;
pub mod pod;
pub mod quantity;
pub mod render;
pub mod spec;
pub mod version;
pub mod yaml;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use cli::{Cli, Command, EnvsubstArgs, RenderArgs, VarArgs};
use error::Diagnostic;
pub use error::Error;
use input::Input;
pub use load::Substitution;
use output::Format;
use overrides::Override;

/// What a run produced: the bytes for stdout and warnings for stderr.
#[derive(Debug, Default)]
pub struct Outcome {
    pub stdout: Vec<u8>,
    pub warnings: Vec<String>,
    /// A failure that still has output: KRM function mode writes the ResourceList with its
    /// error results, then fails with this error's exit code.
    pub failure: Option<Error>,
}

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
        Command::Render(args) => render_command(args, stdin, env),
        Command::Apply(args) => apply::run(args, stdin, env, &mut apply::SystemKubectl),
        Command::Envsubst(args) => envsubst_command(args, stdin, env),
        Command::Schema => Ok(Outcome { stdout: schema(), ..Outcome::default() }),
        Command::Version => {
            Ok(Outcome { stdout: version_text().into_bytes(), ..Outcome::default() })
        }
        Command::Fn(args) => {
            let input = krm::read_stdin(stdin)?;
            let Some(list) = krm::parse(&input.text)? else {
                return Err(Error::input_one(
                    Diagnostic::new("standard input is not a KRM ResourceList").with_help(
                        "kpt and kustomize send one; to render a spec file use `render -f FILE`",
                    ),
                ));
            };
            krm::run(&list, &krm::FnOptions { output_dir: args.output_dir.as_deref() })
        }
        Command::KustomizePlugin(cli::KustomizePluginCommand::Install(args)) => {
            let home = match &args.plugin_home {
                Some(home) => home.clone(),
                None => integrations::plugin_home(env, Path::is_dir)?,
            };
            let exe = std::env::current_exe().map_err(|err| {
                Error::internal(format!("cannot tell where this binary is: {err}"))
            })?;
            let report = integrations::install_kustomize_plugin(&home, &exe)?;
            Ok(Outcome { stdout: report.into_bytes(), ..Outcome::default() })
        }
        Command::Completion(args) => Ok(Outcome {
            stdout: integrations::completion_script(args.shell),
            ..Outcome::default()
        }),
        Command::Complete(args) => {
            Ok(Outcome { stdout: integrations::complete(&args.words), ..Outcome::default() })
        }
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
    let Ok(input) = krm::read_stdin(stdin) else { return Err(usage()) };
    match krm::parse(&input.text) {
        Ok(Some(list)) => krm::run(&list, &krm::FnOptions::default()),
        Ok(None) | Err(_) => Err(usage()),
    }
}

fn render_command(
    args: &RenderArgs,
    stdin: &mut dyn Read,
    env: &BTreeMap<String, String>,
) -> Result<Outcome, Error> {
    let specs = read_specs(&args.spec, stdin, env)?;
    let options = RenderOptions {
        format: args.output,
        overrides: &specs.overrides,
        templates: args.spec.templates.as_deref(),
        policy: specs.policy,
        substitution: specs.substitution.as_ref(),
        native: native::Options { phase: args.phase, owner_uid: args.owner_uid.as_deref() },
    };
    render(&specs.inputs, &options)
}

/// The specs a command line names, read, with what applies to all of them.
pub(crate) struct Specs {
    pub inputs: Vec<Input>,
    pub substitution: Option<Substitution>,
    pub policy: spec::Policy,
    /// `--set`, and `--mode` as a `--set spec.mode`.
    pub overrides: Vec<Override>,
}

/// Reads the `-f` inputs and the options that apply to every spec (`render` and `apply`).
pub(crate) fn read_specs(
    args: &cli::SpecArgs,
    stdin: &mut dyn Read,
    env: &BTreeMap<String, String>,
) -> Result<Specs, Error> {
    let substitution = substitution(&args.vars, env)?;
    let inputs =
        args.filenames.iter().map(|path| input::read(path, stdin)).collect::<Result<_, _>>()?;
    Ok(Specs {
        inputs,
        substitution,
        policy: spec::Policy { allow_savepoint_without_ha: args.allow_savepoint_without_ha },
        overrides: native::with_mode(&args.set, args.mode),
    })
}

/// The variables and rules of `--env`, `--env-file` and `--var`, or `None` when no source
/// is given: then `$` in a spec is just text.
pub(crate) fn substitution(
    args: &VarArgs,
    env: &BTreeMap<String, String>,
) -> Result<Option<Substitution>, Error> {
    if !args.env && args.env_files.is_empty() && args.vars.is_empty() {
        if args.only.is_some() || args.strict_env {
            return Err(Error::usage(
                Diagnostic::new("--only and --strict-env need a variable source")
                    .with_help("add --env, --env-file FILE or --var KEY=VALUE"),
            ));
        }
        return Ok(None);
    }
    let mut vars = if args.env { env.clone() } else { BTreeMap::new() };
    for path in &args.env_files {
        let file = input::read(path, &mut std::io::empty())?;
        vars.extend(envsubst::parse_env_file(&file.origin, &file.text)?);
    }
    vars.extend(args.vars.iter().cloned());
    let mut options = envsubst::Options {
        syntax: envsubst::Syntax::Extended,
        only: None,
        strict: args.strict_env,
    };
    if let Some(format) = &args.only {
        options = options.restrict_to(format);
    }
    Ok(Some(Substitution { vars, options }))
}

/// `kubectl-flink envsubst`: GNU envsubst on stdin, byte for byte.
fn envsubst_command(
    args: &EnvsubstArgs,
    stdin: &mut dyn Read,
    env: &BTreeMap<String, String>,
) -> Result<Outcome, Error> {
    if args.variables {
        let Some(format) = &args.shell_format else {
            return Err(Error::usage(
                Diagnostic::new("--variables needs a SHELL-FORMAT argument")
                    .with_help("e.g. kubectl-flink envsubst --variables '$JOB $SAVEPOINT'"),
            ));
        };
        let mut stdout = String::new();
        for name in envsubst::variables(format.as_bytes(), envsubst::Syntax::Gnu) {
            stdout.push_str(&name);
            stdout.push('\n');
        }
        return Ok(Outcome { stdout: stdout.into_bytes(), ..Outcome::default() });
    }
    let mut input = Vec::new();
    stdin.read_to_end(&mut input).map_err(|err| {
        Error::input_one(Diagnostic::new(format!("cannot read standard input: {err}")))
    })?;
    if !args.strict {
        let stdout = envsubst::gnu(&input, env, args.shell_format.as_deref());
        return Ok(Outcome { stdout, ..Outcome::default() });
    }
    let mut options = envsubst::Options { strict: true, ..envsubst::Options::default() };
    if let Some(format) = &args.shell_format {
        options = options.restrict_to(format);
    }
    let text = String::from_utf8_lossy(&input).into_owned();
    let substituted = envsubst::substitute(&input, env, &options)
        .map_err(|err| err.to_error("<stdin>", &text))?;
    Ok(Outcome { stdout: substituted.output, ..Outcome::default() })
}

/// How to render.
#[derive(Debug, Clone, Copy, Default)]
pub struct RenderOptions<'a> {
    pub format: Format,
    pub overrides: &'a [Override],
    pub templates: Option<&'a Path>,
    pub policy: spec::Policy,
    /// Variable substitution in spec values, if asked for.
    pub substitution: Option<&'a Substitution>,
    /// Native mode's phase and owner uid (`--phase`, `--owner-uid`).
    pub native: native::Options<'a>,
}

/// Renders every spec of every input into one output, or fails without output.
///
/// Each cluster's objects are encoded as soon as they are checked, so a large batch holds
/// output text rather than object trees; nothing is written before every spec has rendered.
pub fn render(inputs: &[Input], options: &RenderOptions) -> Result<Outcome, Error> {
    let mut encoder = output::Encoder::new(options.format);
    let warnings = render_each(inputs, options, |objects| encoder.push(objects))?;
    Ok(Outcome { stdout: encoder.finish()?, warnings, failure: None })
}

/// Renders every spec of every input, handing each cluster's checked objects to `emit`;
/// returns the warnings.
pub(crate) fn render_each(
    inputs: &[Input],
    options: &RenderOptions,
    mut emit: impl FnMut(Vec<check::Object>),
) -> Result<Vec<String>, Error> {
    let loaded = load::load(inputs, options.overrides, options.policy, options.substitution)?;
    let renderer = render::Renderer::new(options.templates)?;
    let mut warnings = Vec::new();
    native::check_options(&loaded, &options.native)?;
    for item in &loaded {
        if native::is_native(&item.valid) {
            emit(native::render(&item.valid, &renderer, &options.native)?);
        } else if options.native.phase() == native::Phase::Owned {
            continue; // a standalone cluster has no owned phase: all of it is in the owner phase
        } else {
            let model = model::build(&item.valid);
            let documents = renderer.render(&model)?;
            let checked = check::check(&documents)?;
            check::check_services_select_pods(&checked)?;
            emit(checked);
        }
        warnings.extend(item.warnings.iter().cloned());
        warnings.extend(item.valid.warnings.iter().map(|w| format!("{}: {w}", item.origin)));
    }
    Ok(warnings)
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
        version::FlinkVersion::OLDEST,
        version::FlinkVersion::NEWEST,
        version::FlinkVersion::NEWEST,
    )
}

/// The Kubernetes API version objects are checked against (k8s-openapi's `latest` feature).
pub const KUBERNETES_API: &str = "1.37";
const K8S_OPENAPI: &str = "0.29";
