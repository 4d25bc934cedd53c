//! The commands: each takes options the command line (or a KRM function config) produced,
//! runs the pipeline or kubectl, and returns an [`Outcome`]. None parses flags or writes to
//! the terminal.

pub mod apply;
pub mod envsubst;
pub mod krm;
pub mod render;

use crate::error::Error;
use crate::load::Substitution;
use crate::load::input::Input;
use crate::load::overrides::Override;
use crate::validate::Policy;

/// What a run produced: the bytes for stdout and warnings for stderr.
#[derive(Debug, Default)]
pub struct Outcome {
    pub stdout: Vec<u8>,
    pub warnings: Vec<String>,
    /// A failure that still has output: KRM function mode writes the ResourceList with its
    /// error results, then fails with this error's exit code.
    pub failure: Option<Error>,
}

impl Outcome {
    /// An outcome that is only bytes for stdout.
    pub fn stdout(stdout: impl Into<Vec<u8>>) -> Self {
        Self { stdout: stdout.into(), ..Self::default() }
    }
}

/// The specs `render` and `apply` take, read, with what applies to all of them.
#[derive(Debug, Default)]
pub struct Specs {
    pub inputs: Vec<Input>,
    pub substitution: Option<Substitution>,
    pub policy: Policy,
    /// `--set`, and `--mode` as a `--set spec.mode`.
    pub overrides: Vec<Override>,
}
