//! The commands: each takes options the command line (or a KRM function config) produced,
//! runs the pipeline or kubectl, and returns an [`Outcome`]. None parses flags or writes to
//! the terminal.

pub mod apply;
pub mod cluster;
pub mod convert;
pub mod delete;
pub mod envsubst;
pub mod krm;
pub mod kubectl;
pub mod render;
pub mod savepoint;
pub mod status;
#[cfg(test)]
mod testing;
pub mod upgrade;

use std::io::{Read, Write};

use crate::error::{Diagnostic, Error};
use crate::k8s::names;
use crate::load::Substitution;
use crate::load::input::Input;
use crate::load::overrides::Override;
use crate::pipeline;
use crate::validate::Policy;
use crate::yaml::PathSegment;

/// What a run produced: the bytes for stdout and warnings for stderr.
#[derive(Debug, Default)]
pub struct Outcome {
    pub stdout: Vec<u8>,
    /// The start of stdout, before `stdout`, when it was too large to keep in memory.
    pub spooled: Option<std::fs::File>,
    pub warnings: Vec<String>,
    /// A failure that still has output: KRM function mode writes the ResourceList with its
    /// error results, then fails with this error's exit code.
    pub failure: Option<Error>,
    /// Output written while stdin is read, after `stdout` (`envsubst`, as GNU's).
    pub stream: Option<Stream>,
}

/// Output written while the input is read, by a command for which nothing can fail once the
/// first byte is out but reading and writing: `main` runs it with stdin and stdout.
pub struct Stream(Box<StreamRun>);

/// What a [`Stream`] runs: stdin in, stdout out.
type StreamRun = dyn FnOnce(&mut dyn Read, &mut dyn Write) -> std::io::Result<()>;

impl Stream {
    pub fn new(
        run: impl FnOnce(&mut dyn Read, &mut dyn Write) -> std::io::Result<()> + 'static,
    ) -> Self {
        Self(Box::new(run))
    }

    /// Copies stdin to stdout through the command.
    pub fn run(self, stdin: &mut dyn Read, stdout: &mut dyn Write) -> std::io::Result<()> {
        (self.0)(stdin, stdout)
    }
}

impl std::fmt::Debug for Stream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Stream")
    }
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

impl Specs {
    /// The overrides, with `metadata.namespace=NAMESPACE` last for kubectl's `--namespace`,
    /// after checking that no spec names another namespace (kubectl would refuse the objects;
    /// native mode bakes the namespace into Flink's configuration, so it goes through the spec).
    /// With `passthrough`, other Kubernetes objects among the specs are left alone (`-n` does
    /// not touch them), as `render --passthrough` does.
    pub fn overrides_in(
        &self,
        namespace: Option<&str>,
        passthrough: bool,
    ) -> Result<Vec<Override>, Error> {
        let mut overrides = self.overrides.clone();
        if let Some(namespace) = namespace {
            overrides.push(self.namespace_override(namespace, passthrough)?);
        }
        Ok(overrides)
    }

    fn namespace_override(&self, namespace: &str, passthrough: bool) -> Result<Override, Error> {
        names::check_dns_label(namespace).map_err(|refusal| {
            Error::usage(Diagnostic::new(format!("--namespace `{namespace}`: {}", refusal.message)))
        })?;
        let loaded = pipeline::load_specs(
            &self.inputs,
            &pipeline::RenderOptions {
                overrides: &self.overrides,
                policy: self.policy,
                substitution: self.substitution.as_ref(),
                passthrough,
                ..pipeline::RenderOptions::default()
            },
        )?;
        for item in loaded {
            let metadata = &item.valid.cluster.metadata;
            if let Some(other) = metadata.namespace.as_deref().filter(|n| *n != namespace) {
                return Err(Error::usage(
                    Diagnostic::new(format!(
                        "--namespace {namespace} disagrees with `{}`, which {} puts in namespace `{other}`",
                        metadata.name, item.origin
                    ))
                    .with_help("drop --namespace, or change metadata.namespace in the spec"),
                ));
            }
        }
        Ok(Override {
            arg: format!("--namespace {namespace}"),
            path: vec![PathSegment::Key("metadata".into()), PathSegment::Key("namespace".into())],
            value: serde_json::Value::String(namespace.to_owned()),
        })
    }
}

/// The spec's JSON Schema.
pub fn schema() -> Vec<u8> {
    let schema = schemars::schema_for!(crate::spec::FlinkCluster);
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
        crate::flink::version::FlinkVersion::OLDEST,
        crate::flink::version::FlinkVersion::NEWEST,
        crate::flink::version::FlinkVersion::NEWEST,
    )
}

/// The Kubernetes API version objects are checked against (k8s-openapi's `latest` feature).
pub const KUBERNETES_API: &str = "1.37";
const K8S_OPENAPI: &str = "0.29";
