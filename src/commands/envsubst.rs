//! `kubectl-flink envsubst`: GNU envsubst on stdin, byte for byte and streaming as GNU's does
//! (`--strict` adds a check, and holds the input to report every problem first).

use std::collections::BTreeMap;
use std::io::Read;

use super::{Outcome, Stream};
use crate::error::{Diagnostic, Error};
use crate::load::input::read_at_most;

/// Most input `--strict` holds to report every problem before it writes anything.
pub const MAX_STRICT_INPUT_BYTES: usize = 64 * 1024 * 1024;

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
    if !args.strict {
        let (env, shell_format) = (env.clone(), args.shell_format.clone());
        let stream = Stream::new(move |stdin, stdout| {
            crate::envsubst::gnu_stream(stdin, stdout, &env, shell_format.as_deref())
        });
        return Ok(Outcome { stream: Some(stream), ..Outcome::default() });
    }
    // Every problem is reported before anything is written, so the input is held: up to a limit.
    let input = read_at_most(stdin, MAX_STRICT_INPUT_BYTES).map_err(|err| {
        Error::input_one(Diagnostic::new(format!("cannot read standard input: {err}")))
    })?;
    let Some(input) = input else {
        return Err(Error::input_one(
            Diagnostic::new(format!(
                "standard input is larger than --strict's limit of {} MiB",
                MAX_STRICT_INPUT_BYTES >> 20
            ))
            .with_help("--strict reads all of it to report every problem before writing anything; without --strict envsubst streams any size, as GNU's does"),
        ));
    };
    let mut options =
        crate::envsubst::Options { strict: true, ..crate::envsubst::Options::default() };
    if let Some(format) = &args.shell_format {
        options = options.restrict_to(format);
    }
    let text = String::from_utf8_lossy(&input).into_owned();
    let substituted = crate::envsubst::substitute(&input, env, &options)
        .map_err(|err| err.to_error("<stdin>", &text, crate::envsubst::Sources::Environment))?;
    Ok(Outcome { stdout: substituted.output, ..Outcome::default() })
}
