//! Flags → the options commands take: reading the `-f` inputs and variable files, `--set`,
//! `--mode`, `--owner-uid`; and how clap spells the option enums the lower layers define.

use std::collections::BTreeMap;
use std::io::Read;

use clap::ValueEnum;
use clap::builder::PossibleValue;
use serde_json::Value;

use super::{
    ApplyArgs, ClusterArgs, ConnectionArgs, ConvertArgs, DryRun, EnvsubstArgs, RenderArgs,
    SpecArgs, UpgradeArgs, UpgradeModeArg, VarArgs,
};
use crate::commands::{self, Specs};
use crate::envsubst;
use crate::error::{Diagnostic, Error};
use crate::load::Substitution;
use crate::load::input;
use crate::load::overrides::Override;
use crate::model::native::Phase;
use crate::output::Format;
use crate::spec::Mode;
use crate::validate::Policy;
use crate::yaml::PathSegment;

/// `render`'s options.
pub fn render(
    args: &RenderArgs,
    stdin: &mut dyn Read,
    env: &BTreeMap<String, String>,
) -> Result<commands::render::Options, Error> {
    Ok(commands::render::Options {
        specs: read_specs(&args.spec, args.check.as_deref(), stdin, env)?,
        format: args.output,
        templates: args.spec.templates.clone(),
        phase: args.phase,
        owner_uid: args.owner_uid.clone(),
        no_owner_references: args.spec.no_owner_references,
        namespace: args.namespace.clone(),
        passthrough: args.passthrough,
        check: args.check.as_ref().map(|file| commands::render::Check {
            file: file.clone(),
            regenerate: regenerate(args, file),
        }),
    })
}

/// The `render` command line that writes `file`: this one without `--check`.
fn regenerate(args: &RenderArgs, file: &std::path::Path) -> String {
    let quote = |text: &str| {
        if !text.is_empty()
            && text.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c))
        {
            text.to_owned()
        } else {
            format!("'{}'", text.replace('\'', "'\\''"))
        }
    };
    let mut words = vec!["kubectl flink render".to_owned()];
    for path in &args.spec.filenames {
        words.push(format!("-f {}", quote(&path.display().to_string())));
    }
    if args.spec.recursive {
        words.push("-R".into());
    }
    if args.passthrough {
        words.push("--passthrough".into());
    }
    if args.output == Format::Json {
        words.push("-o json".into());
    }
    if let Some(namespace) = &args.namespace {
        words.push(format!("-n {}", quote(namespace)));
    }
    for set in &args.spec.set {
        words.push(format!("--set {}", quote(&set.arg)));
    }
    if let Some(templates) = &args.spec.templates {
        words.push(format!("--templates {}", quote(&templates.display().to_string())));
    }
    if args.spec.allow_savepoint_without_ha {
        words.push("--allow-savepoint-without-ha".into());
    }
    if let Some(mode) = args.spec.mode {
        words.push(format!("--mode {}", value_name(&mode)));
    }
    if args.spec.no_owner_references {
        words.push("--no-owner-references".into());
    }
    if let Some(phase) = args.phase {
        words.push(format!("--phase {}", value_name(&phase)));
    }
    if let Some(uid) = &args.owner_uid {
        words.push(format!("--owner-uid {}", quote(uid)));
    }
    let vars = &args.spec.vars;
    if vars.env {
        words.push("--env".into());
    }
    for file in &vars.env_files {
        words.push(format!("--env-file {}", quote(&file.display().to_string())));
    }
    for (key, value) in &vars.vars {
        words.push(format!("--var {}", quote(&format!("{key}={value}"))));
    }
    if let Some(only) = &vars.only {
        words.push(format!("--only {}", quote(only)));
    }
    if vars.strict_env {
        words.push("--strict-env".into());
    }
    words.push(format!("> {}", quote(&file.display().to_string())));
    words.join(" ")
}

/// How clap spells an option enum's value.
fn value_name(value: &impl ValueEnum) -> String {
    value.to_possible_value().map(|v| v.get_name().to_owned()).unwrap_or_default()
}

/// `apply`'s options.
pub fn apply(
    args: &ApplyArgs,
    stdin: &mut dyn Read,
    env: &BTreeMap<String, String>,
) -> Result<commands::apply::Options, Error> {
    Ok(commands::apply::Options {
        specs: read_specs(&args.spec, None, stdin, env)?,
        templates: args.spec.templates.clone(),
        no_owner_references: args.spec.no_owner_references,
        connection: connection(&args.connection),
        namespace: args.namespace.clone(),
        dry_run: match args.dry_run {
            None | Some(DryRun::None) => None,
            Some(DryRun::Client) => Some("client"),
            Some(DryRun::Server) => Some("server"),
        },
    })
}

/// What every lifecycle command takes.
pub fn cluster(
    args: &ClusterArgs,
    name: Option<&String>,
    stdin: &mut dyn Read,
    env: &BTreeMap<String, String>,
) -> Result<commands::cluster::Options, Error> {
    let inputs = match &args.filename {
        Some(path) => vec![input::read(path, stdin)?],
        None => Vec::new(),
    };
    Ok(commands::cluster::Options {
        specs: Specs {
            inputs,
            substitution: substitution(&args.vars, env)?,
            policy: Policy { allow_savepoint_without_ha: args.allow_savepoint_without_ha },
            overrides: args.set.clone(),
        },
        name: name.cloned(),
        templates: args.templates.clone(),
        connection: connection(&args.connection),
        namespace: args.namespace.clone(),
        wait: std::time::Duration::from_secs(args.timeout),
    })
}

/// `upgrade`'s options.
pub fn upgrade(
    args: &UpgradeArgs,
    stdin: &mut dyn Read,
    env: &BTreeMap<String, String>,
) -> Result<commands::upgrade::Options, Error> {
    Ok(commands::upgrade::Options {
        cluster: cluster(&args.cluster, None, stdin, env)?,
        mode: match args.mode {
            UpgradeModeArg::Savepoint => commands::upgrade::UpgradeMode::Savepoint,
            UpgradeModeArg::LastState => commands::upgrade::UpgradeMode::LastState,
            UpgradeModeArg::Stateless => commands::upgrade::UpgradeMode::Stateless,
        },
        dry_run: args.dry_run,
    })
}

/// `convert`'s options.
pub fn convert(
    args: &ConvertArgs,
    stdin: &mut dyn Read,
) -> Result<commands::convert::Options, Error> {
    Ok(commands::convert::Options { input: input::read(&args.filename, stdin)?, mode: args.mode })
}

/// kubectl's connection flags.
fn connection(args: &ConnectionArgs) -> commands::kubectl::Connection {
    commands::kubectl::Connection {
        context: args.context.clone(),
        kubeconfig: args.kubeconfig.clone(),
    }
}

/// `envsubst`'s options.
pub fn envsubst(args: &EnvsubstArgs) -> commands::envsubst::Options {
    commands::envsubst::Options {
        shell_format: args.shell_format.clone(),
        variables: args.variables,
        strict: args.strict,
    }
}

/// Reads the `-f` inputs and the options that apply to every spec (`render` and `apply`).
fn read_specs(
    args: &SpecArgs,
    skip: Option<&std::path::Path>,
    stdin: &mut dyn Read,
    env: &BTreeMap<String, String>,
) -> Result<Specs, Error> {
    let substitution = substitution(&args.vars, env)?;
    let mut inputs = Vec::new();
    for path in &args.filenames {
        inputs.extend(input::read_path(path, args.recursive, skip, stdin)?);
    }
    Ok(Specs {
        inputs,
        substitution,
        policy: Policy { allow_savepoint_without_ha: args.allow_savepoint_without_ha },
        overrides: with_mode(&args.set, args.mode),
    })
}

/// The variables and rules of `--env`, `--env-file` and `--var`, or `None` when no source
/// is given: then `$` in a spec is just text.
fn substitution(
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

/// The `--set` list with `--mode` added as `spec.mode=<mode>`.
fn with_mode(set: &[Override], mode: Option<Mode>) -> Vec<Override> {
    let mut overrides = set.to_vec();
    if let Some(mode) = mode {
        let text = match mode {
            Mode::Standalone => "standalone",
            Mode::Native => "native",
        };
        overrides.push(Override {
            arg: format!("--mode {text}"),
            path: vec![PathSegment::Key("spec".into()), PathSegment::Key("mode".into())],
            value: Value::String(text.into()),
        });
    }
    overrides
}

impl ValueEnum for Format {
    fn value_variants<'a>() -> &'a [Self] {
        &[Self::Yaml, Self::Json]
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(match self {
            Self::Yaml => PossibleValue::new("yaml")
                .help("A stream of YAML documents, each starting with `---`"),
            Self::Json => PossibleValue::new("json").help("One `v1` `List` holding every object"),
        })
    }
}

impl ValueEnum for Phase {
    fn value_variants<'a>() -> &'a [Self] {
        &[Self::Owner, Self::Owned, Self::All]
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(match self {
            Self::Owner => PossibleValue::new("owner").help(
                "What must exist before the JobManager runs: its service account, role and role binding, and the JobManager Deployment",
            ),
            Self::Owned => PossibleValue::new("owned").help(
                "What the JobManager Deployment owns: its Services and config maps (needs `--owner-uid`)",
            ),
            Self::All => PossibleValue::new("all").help("Both, owner first"),
        })
    }
}

impl ValueEnum for Mode {
    fn value_variants<'a>() -> &'a [Self] {
        &[Self::Standalone, Self::Native]
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(match self {
            Self::Standalone => PossibleValue::new("standalone").help(
                "A fixed number of TaskManagers in a Deployment (Flink's standalone Kubernetes setup)",
            ),
            Self::Native => PossibleValue::new("native").help(
                "The JobManager creates TaskManager pods itself (Flink's native Kubernetes integration)",
            ),
        })
    }
}
