//! `kubectl-flink render`: specs in, checked objects out.

use std::path::PathBuf;

use super::{Outcome, Specs};
use crate::error::Error;
use crate::model::native;
use crate::output::Format;
use crate::pipeline::{self, RenderOptions};

/// What `render` was asked for.
#[derive(Debug)]
pub struct Options {
    pub specs: Specs,
    pub format: Format,
    pub templates: Option<PathBuf>,
    pub phase: Option<native::Phase>,
    pub owner_uid: Option<String>,
    /// kubectl's `--namespace`: the namespace of every object.
    pub namespace: Option<String>,
}

/// Runs `render`.
pub fn run(options: &Options) -> Result<Outcome, Error> {
    let specs = &options.specs;
    let overrides = specs.overrides_in(options.namespace.as_deref())?;
    let rendered = pipeline::render(
        &specs.inputs,
        &RenderOptions {
            format: options.format,
            overrides: &overrides,
            templates: options.templates.as_deref(),
            policy: specs.policy,
            substitution: specs.substitution.as_ref(),
            native: native::Options {
                phase: options.phase,
                owner_uid: options.owner_uid.as_deref(),
            },
        },
    )?;
    Ok(Outcome {
        stdout: rendered.stdout.tail,
        spooled: rendered.stdout.spooled,
        warnings: rendered.warnings,
        ..Outcome::default()
    })
}
