//! `kubectl-flink envsubst`: GNU envsubst on stdin, byte for byte (`--strict` adds a check).

use std::collections::BTreeMap;
use std::io::Read;

use super::Outcome;
use crate::error::{Diagnostic, Error};

/// `envsubst`'s arguments, as GNU's.
#[derive(Debug, Default)]
pub struct Options {
    /// SHELL-FORMAT: substitute only the variables this text references.
    pub shell_format: Option<String>,
    /// `--variables`: print the variables SHELL-FORMAT references.
    pub variables: bool,
    /// `--strict`: fail when a referenced variable is unset or empty.
    pub strict: bool,
}

/// `kubectl-flink envsubst`: GNU envsubst on stdin, byte for byte.
pub fn run(
    args: &Options,
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
        for name in crate::envsubst::variables(format.as_bytes(), crate::envsubst::Syntax::Gnu) {
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
        let stdout = crate::envsubst::gnu(&input, env, args.shell_format.as_deref());
        return Ok(Outcome { stdout, ..Outcome::default() });
    }
    let mut options =
        crate::envsubst::Options { strict: true, ..crate::envsubst::Options::default() };
    if let Some(format) = &args.shell_format {
        options = options.restrict_to(format);
    }
    let text = String::from_utf8_lossy(&input).into_owned();
    let substituted = crate::envsubst::substitute(&input, env, &options)
        .map_err(|err| err.to_error("<stdin>", &text))?;
    Ok(Outcome { stdout: substituted.output, ..Outcome::default() })
}
