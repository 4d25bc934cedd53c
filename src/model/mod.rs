//! Spec → model: every name, label, port and Flink argument the templates print, and which
//! templates run. One model per cluster, standalone or native; never YAML text.
//!
//! Templates only place values; all decisions (which keys a Flink version reads, which
//! objects exist, how memory converts) are made here, in typed and tested Rust. Whole
//! scalars are built here so templates never concatenate user text.

pub mod native;
pub mod standalone;

use serde::Serialize;
use serde_json::Value;

use crate::error::Error;
use crate::validate::Valid;

/// What one cluster's templates print.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Model {
    Standalone(Box<standalone::Model>),
    Native(Box<native::Model>),
}

impl Model {
    /// The model of one validated spec, or `None` when the phase asked for holds none of its
    /// objects (a standalone cluster is all owner phase).
    pub fn build(valid: &Valid, native: &native::Options) -> Result<Option<Self>, Error> {
        if native::is_native(valid) {
            return native::build(valid, native).map(|m| Some(Self::Native(Box::new(m))));
        }
        if native.phase == Some(native::Phase::Owned) {
            return Ok(None);
        }
        Ok(Some(Self::Standalone(Box::new(standalone::build(valid)))))
    }

    /// The templates to render, in output order.
    pub fn templates(&self) -> &[&'static str] {
        match self {
            Self::Standalone(model) => &model.templates,
            Self::Native(model) => &model.templates,
        }
    }

    /// The pod template to merge into a template's workload, with the Flink container's name.
    pub fn pod_template(&self, template: &str) -> Option<&(Value, &'static str)> {
        match self {
            Self::Standalone(model) => model.pod_templates.get(template),
            Self::Native(_) => None,
        }
    }

    /// Whether every Service and the pods it selects are rendered together, so selectors can
    /// be checked against pod labels (not so for one phase of a native cluster).
    pub fn is_whole(&self) -> bool {
        match self {
            Self::Standalone(_) => true,
            Self::Native(model) => model.phase == native::Phase::All,
        }
    }
}
