//! `kubectl-flink apply`: render, then `kubectl apply -f -`; native clusters in two phases.
//!
//! A native cluster's owned objects reference the uid of its JobManager Deployment, which the
//! API server assigns on creation. So: apply the owner phase (RBAC, the Deployment) of every
//! spec (standalone clusters whole), read each Deployment's uid with `kubectl get`, then apply
//! the owned phase with it, exactly what Flink's own client does through the API. Everything
//! is rendered and checked before kubectl runs; the first kubectl failure stops the run.
//! A native cluster without ownerReferences (`spec.native.ownerReferences: false`,
//! `--no-owner-references`) needs no uid: all its objects go with the first phase.
//! kubectl's stdout is collected into the outcome, its stderr goes straight to the terminal.

use std::path::PathBuf;

use super::kubectl::{Connection, Kubectl, failed, start_failure};
use super::{Outcome, Specs};
use crate::error::Error;
use crate::k8s::names;
use crate::model::Model;
use crate::model::native::{self, Phase};
use crate::output::{self, Format};
use crate::pipeline;
use crate::render::Renderer;
use crate::validate::Valid;

/// What `apply` was asked for.
#[derive(Debug, Default)]
pub struct Options {
    pub specs: Specs,
    pub templates: Option<PathBuf>,
    /// `--no-owner-references`: native clusters in one phase, without ownerReferences.
    pub no_owner_references: bool,
    /// kubectl's `--context` and `--kubeconfig`.
    pub connection: Connection,
    /// kubectl's `--namespace`, also the namespace of specs that name none.
    pub namespace: Option<String>,
    /// kubectl's `--dry-run` strategy (`client`, `server`), if any.
    pub dry_run: Option<&'static str>,
}

/// The uid the owned objects reference in a dry run when the Deployment does not exist yet.
pub const DRY_RUN_UID: &str = "00000000-0000-0000-0000-000000000000";

/// Runs `kubectl-flink apply`.
pub fn run(args: &Options, kubectl: &mut dyn Kubectl) -> Result<Outcome, Error> {
    let Specs { inputs, substitution, policy, .. } = &args.specs;
    let overrides = args.specs.overrides_in(args.namespace.as_deref(), false)?;
    let loaded = pipeline::load_valid(inputs, &overrides, *policy, substitution.as_ref())?;
    let renderer = Renderer::new(args.templates.as_deref())?;
    let first_phase =
        native::Options { no_owner_references: args.no_owner_references, ..Default::default() };
    // Native clusters whose owned objects reference the JobManager Deployment's uid.
    let two_phase: Vec<&pipeline::Spec> = loaded
        .iter()
        .filter(|l| native::is_native(&l.valid) && first_phase.owner_references(&l.valid))
        .collect();
    // Everything renders (the owned phases with a stand-in uid) before kubectl runs.
    for item in &two_phase {
        render_owned(&item.valid, &renderer, DRY_RUN_UID)?;
    }
    let mut encoder = output::Encoder::new(Format::Yaml);
    let warnings = pipeline::render_specs(&loaded, &renderer, &first_phase, |o| {
        encoder.push(&o);
    })?;
    let first = encoder.finish()?.into_bytes()?;
    let mut outcome = Outcome { warnings, ..Outcome::default() };

    let names: Vec<String> = loaded.iter().map(|l| l.valid.cluster.metadata.name.clone()).collect();
    let (what, state) = if two_phase.is_empty() {
        ("the rendered objects", "stopped")
    } else {
        (
            "the owner phase (RBAC and JobManager Deployment of native clusters, standalone clusters whole)",
            "stopped before the owned phase",
        )
    };
    if let Err(err) =
        kubectl_apply(kubectl, args, &first, &mut outcome, what, &names.join(", "), state)
    {
        outcome.failure = Some(err);
        return Ok(outcome);
    }
    let mut owned = Vec::new();
    for item in &two_phase {
        let uid = match read_uid(kubectl, args, &item.valid, &mut outcome) {
            Ok(uid) => uid,
            Err(err) => {
                outcome.failure = Some(err);
                return Ok(outcome);
            }
        };
        owned.extend(render_owned(&item.valid, &renderer, &uid)?);
    }
    if !owned.is_empty() {
        let yaml = output::encode(&owned, Format::Yaml)?;
        let native_names: Vec<&str> =
            two_phase.iter().map(|l| l.valid.cluster.metadata.name.as_str()).collect();
        if let Err(err) = kubectl_apply(
            kubectl,
            args,
            &yaml,
            &mut outcome,
            "the owned phase (Services and ConfigMaps owned by the JobManager Deployment)",
            &native_names.join(", "),
            "the owner phase was applied; run the same command again to finish",
        ) {
            outcome.failure = Some(err);
        }
    }
    Ok(outcome)
}

/// The owned phase of one native cluster, referencing the Deployment of uid `uid`.
fn render_owned(
    valid: &Valid,
    renderer: &Renderer,
    uid: &str,
) -> Result<Vec<crate::check::Object>, Error> {
    let options =
        native::Options { phase: Some(Phase::Owned), owner_uid: Some(uid), ..Default::default() };
    let model = Model::Native(Box::new(native::build(valid, &options)?));
    pipeline::render_model(renderer, &model)
}

fn kubectl_apply(
    kubectl: &mut dyn Kubectl,
    args: &Options,
    yaml: &[u8],
    outcome: &mut Outcome,
    what: &str,
    clusters: &str,
    state: &str,
) -> Result<(), Error> {
    let mut command = vec!["apply".to_owned(), "-f".to_owned(), "-".to_owned()];
    if let Some(strategy) = args.dry_run {
        command.push(format!("--dry-run={strategy}"));
    }
    if let Some(namespace) = &args.namespace {
        command.extend(["--namespace".to_owned(), namespace.clone()]);
    }
    command.extend(args.connection.flags());
    let output = kubectl
        .run(&command, yaml, false)
        .map_err(|err| start_failure(&err, &format!("applying {what} for {clusters}")))?;
    outcome.stdout.extend_from_slice(&output.stdout);
    if output.success {
        return Ok(());
    }
    let status =
        output.code.map_or_else(|| "was killed".to_owned(), |c| format!("exited with {c}"));
    Err(failed(
        format!("`kubectl apply` of {what} for {clusters} {status}; {state}"),
        "see kubectl's message above; `kubectl flink render` prints what was sent",
    ))
}

/// The uid of a native cluster's JobManager Deployment.
fn read_uid(
    kubectl: &mut dyn Kubectl,
    args: &Options,
    valid: &Valid,
    outcome: &mut Outcome,
) -> Result<String, Error> {
    let name = &valid.cluster.metadata.name;
    let namespace = valid.cluster.metadata.namespace.as_deref().unwrap_or("default");
    let mut command = vec![
        "get".to_owned(),
        "deployment".to_owned(),
        name.clone(),
        "--namespace".to_owned(),
        namespace.to_owned(),
        "-o".to_owned(),
        "jsonpath={.metadata.uid}".to_owned(),
    ];
    command.extend(args.connection.flags());
    let output = kubectl.run(&command, &[], true).map_err(|err| {
        start_failure(&err, &format!("reading the uid of deployment/{name} in {namespace}"))
    })?;
    let text = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    match names::parse_uid(&text) {
        Ok(uid) if output.success => Ok(uid),
        _ if args.dry_run.is_some() => {
            outcome.warnings.push(format!(
                "dry run: deployment/{name} does not exist, so its owned objects were checked with the placeholder uid {DRY_RUN_UID}"
            ));
            Ok(DRY_RUN_UID.to_owned())
        }
        result => {
            let stderr = String::from_utf8_lossy(&output.stderr).trim().to_owned();
            let why = match result {
                _ if !output.success => format!("kubectl failed: {stderr}"),
                Err(refusal) => refusal.message,
                Ok(_) => unreachable!("a uid with success returned above"),
            };
            Err(failed(
                format!(
                    "cannot read the uid of deployment/{name} in namespace {namespace}: {why}; the owner phase was applied, the owned objects were not"
                ),
                format!(
                    "check `{}`, then `kubectl flink render -f … --phase owned --owner-uid UID | kubectl apply -f -`",
                    native::uid_command(valid)
                ),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::kubectl::KubectlOutput;
    use crate::load::input::Input;

    /// Records calls and answers like a cluster that assigns one uid.
    struct Fake {
        calls: Vec<(Vec<String>, String)>,
        fail_on: Option<usize>,
    }

    impl Kubectl for Fake {
        fn run(
            &mut self,
            args: &[String],
            stdin: &[u8],
            _: bool,
        ) -> std::io::Result<KubectlOutput> {
            self.calls.push((args.to_vec(), String::from_utf8_lossy(stdin).into_owned()));
            let n = self.calls.len();
            let stdout = if args[0] == "get" {
                b"3f0c1c64-1b8e-4a6f-9a53-1f5b8e9d2c7a".to_vec()
            } else {
                format!("applied {n}\n").into_bytes()
            };
            let success = self.fail_on != Some(n);
            Ok(KubectlOutput {
                success,
                code: Some(i32::from(!success)),
                stdout,
                stderr: Vec::new(),
            })
        }
    }

    const SPEC: &str = "apiVersion: kubectl-flink/v1alpha1\nkind: FlinkSessionCluster\nmetadata: {name: s}\nspec: {image: flink:2.3, mode: native}\n";

    fn run_with(fake: &mut Fake, options: Options) -> Outcome {
        let input = Input { origin: "spec.yaml".into(), text: SPEC.into() };
        let options =
            Options { specs: Specs { inputs: vec![input], ..Specs::default() }, ..options };
        run(&options, fake).unwrap()
    }

    #[test]
    fn native_clusters_apply_in_two_phases_with_the_uid_between() {
        let mut fake = Fake { calls: Vec::new(), fail_on: None };
        let outcome = run_with(
            &mut fake,
            Options {
                connection: Connection { context: Some("kind".into()), kubeconfig: None },
                dry_run: Some("server"),
                ..Options::default()
            },
        );
        assert!(outcome.failure.is_none());
        assert_eq!(String::from_utf8(outcome.stdout).unwrap(), "applied 1\napplied 3\n");
        let argv: Vec<String> = fake.calls.iter().map(|(a, _)| a.join(" ")).collect();
        assert_eq!(
            argv,
            [
                "apply -f - --dry-run=server --context kind",
                "get deployment s --namespace default -o jsonpath={.metadata.uid} --context kind",
                "apply -f - --dry-run=server --context kind",
            ]
        );
        assert!(fake.calls[0].1.contains("kind: Deployment") && !fake.calls[0].1.contains("uid:"));
        assert!(fake.calls[2].1.contains("uid: 3f0c1c64-1b8e-4a6f-9a53-1f5b8e9d2c7a"));
    }

    #[test]
    fn issue_19_without_owner_references_everything_goes_at_once_without_a_uid() {
        let mut fake = Fake { calls: Vec::new(), fail_on: None };
        let outcome =
            run_with(&mut fake, Options { no_owner_references: true, ..Options::default() });
        assert!(outcome.failure.is_none());
        assert_eq!(fake.calls.len(), 1, "one kubectl apply, no uid to read");
        let sent = &fake.calls[0].1;
        for kind in ["kind: Deployment", "kind: ConfigMap", "kind: Service"] {
            assert!(sent.contains(kind), "{kind} missing from\n{sent}");
        }
        assert!(!sent.contains("ownerReferences"), "{sent}");
    }

    #[test]
    fn the_first_failure_stops_the_run() {
        let mut fake = Fake { calls: Vec::new(), fail_on: Some(1) };
        let outcome = run_with(&mut fake, Options::default());
        assert_eq!(fake.calls.len(), 1);
        let err = outcome.failure.unwrap().to_string();
        assert!(err.contains("stopped before the owned phase"), "{err}");
    }
}
