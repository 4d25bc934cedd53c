//! `kubectl-flink delete`: deletes every object of a cluster by its labels and waits until
//! its pods are gone. Kubernetes HA's ConfigMaps go too unless `--keep-ha` (they hold the
//! pointers to the latest checkpoint: a cluster started again with the same name resumes
//! from them). ZooKeeper HA data cannot be reached from outside the cluster: where it lives
//! is printed instead.

use std::io::Write;

use super::Outcome;
use super::cluster::{self, Ha, Live, Target};
use super::kubectl::Kubectl;
use crate::error::Error;
use crate::spec::{HaType, Mode};

/// What `delete` was asked for.
#[derive(Debug, Default)]
pub struct Options {
    pub cluster: cluster::Options,
    /// `--keep-ha`.
    pub keep_ha: bool,
}

/// What kubectl-flink renders but RBAC: the kinds the standard `edit` role may delete.
const WORKLOADS_AND_CONFIG: &str = "jobs.batch,deployments.apps,services,configmaps,horizontalpodautoscalers.autoscaling,ingresses.networking.k8s.io";
/// The same without ConfigMaps: native mode's own ConfigMaps go with the JobManager
/// Deployment that owns them, its HA ConfigMaps carry the same labels and stay.
const WORKLOADS: &str = "jobs.batch,deployments.apps,services,horizontalpodautoscalers.autoscaling,ingresses.networking.k8s.io";
/// What kubectl-flink renders only for Kubernetes HA and native mode.
const RBAC: &str =
    "serviceaccounts,roles.rbac.authorization.k8s.io,rolebindings.rbac.authorization.k8s.io";

/// Runs `kubectl-flink delete`.
pub fn run(
    options: &Options,
    kubectl: &mut dyn Kubectl,
    progress: &mut dyn Write,
) -> Result<Outcome, Error> {
    let (mut session, target, live) = cluster::open(&options.cluster, kubectl, progress)?;
    let ha = live.ha().or_else(|| spec_ha(&target));
    let mut outcome = Outcome::default();
    let kinds = match (target.mode, options.keep_ha) {
        (Mode::Native, true) => WORKLOADS,
        _ => WORKLOADS_AND_CONFIG,
    };
    session.delete(kinds, &target.selector())?;
    if target.mode == Mode::Native && options.keep_ha {
        // Flink's own ConfigMaps of the cluster, which a cluster rendered without
        // ownerReferences does not leave to the garbage collector.
        let own =
            [format!("flink-config-{}", target.name), format!("pod-template-{}", target.name)];
        session.delete_config_maps(&own)?;
    }
    // RBAC only where kubectl-flink made it: a user with the `edit` role may not touch Roles.
    if target.mode == Mode::Native || ha == Some(Ha::Kubernetes) {
        session.delete(RBAC, &target.selector())?;
    }
    session.wait_pods_gone(&target).map_err(|waited| {
        waited.into_error(
            "the objects were deleted, some pods are still terminating",
            "check them with `kubectl get pods`, then run the same command again",
        )
    })?;
    // After the pods: a JobManager still terminating could write its leader ConfigMap again.
    // When it is not known whether the cluster had Kubernetes HA, its HA ConfigMaps (by their
    // names) go as well.
    if target.mode == Mode::Standalone
        && matches!(ha, Some(Ha::Kubernetes) | None)
        && !options.keep_ha
    {
        session.delete_ha_config_maps(&target)?;
    }
    session.say(&format!("cluster `{}` deleted from namespace {}", target.name, target.namespace));
    if let Some(note) = ha_note(&target, &live, ha, options.keep_ha) {
        outcome.warnings.push(note);
    }
    Ok(outcome)
}

/// The HA a spec asks for, when the running JobManager cannot say.
fn spec_ha(target: &Target) -> Option<Ha> {
    let spec = target.spec.as_ref()?;
    Some(match spec.cluster.spec.high_availability.as_ref().map(|h| h.ha_type) {
        Some(HaType::Kubernetes) => Ha::Kubernetes,
        Some(HaType::Zookeeper) => Ha::ZooKeeper,
        None => Ha::None,
    })
}

/// What was left of the cluster's HA data, and where it lives.
fn ha_note(target: &Target, live: &Live, ha: Option<Ha>, keep_ha: bool) -> Option<String> {
    let storage = live
        .option(&["high-availability.storageDir", "high-availability.zookeeper.storageDir"])
        .map(|dir| format!("; its job graphs and checkpoint metadata are under {dir}"))
        .unwrap_or_default();
    match ha? {
        Ha::ZooKeeper => {
            let quorum = live
                .option(&["high-availability.zookeeper.quorum", "recovery.zookeeper.quorum"])
                .unwrap_or_else(|| "the quorum".to_owned());
            let root = live
                .option(&["high-availability.zookeeper.path.root"])
                .unwrap_or_else(|| "/flink".to_owned());
            let id = live
                .option(&[
                    "high-availability.cluster-id",
                    "high-availability.zookeeper.path.namespace",
                ])
                .unwrap_or_else(|| target.name.clone());
            let path = format!("{}/{}", root.trim_end_matches('/'), id.trim_start_matches('/'));
            Some(format!(
                "ZooKeeper HA data of `{}` is kept: kubectl-flink cannot reach ZooKeeper from outside the cluster. It lives at {quorum} under {path}{storage}. A cluster started again with this name resumes from it; to remove it, from a pod that reaches ZooKeeper: `zkCli.sh -server {quorum} deleteall {path}`",
                target.name
            ))
        }
        Ha::Kubernetes if keep_ha => Some(format!(
            "Kubernetes HA ConfigMaps of `{}` are kept (--keep-ha): `kubectl get configmaps -n {} -l {}`{storage}",
            target.name,
            target.namespace,
            target.ha_config_map_selector()
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::kubectl::Scripted;
    use crate::commands::testing::{SPEC, deployment_spec, live, options};

    fn delete(spec: &str, keep_ha: bool) -> (Outcome, Vec<String>) {
        let mut gone = false;
        let mut kubectl = Scripted {
            calls: Vec::new(),
            answer: |call: &str, _: &str| {
                if call.starts_with("delete ") {
                    gone = true;
                    return Ok(String::new());
                }
                if call.starts_with("get pods ") && gone {
                    return Ok(r#"{"items": []}"#.to_owned());
                }
                if call.starts_with(
                    "get configmaps --selector app=orders,type=flink-native-kubernetes ",
                ) {
                    // Flink's HA ConfigMaps, and a native cluster `orders`'s own, labelled alike.
                    return Ok(r#"{"items": [{"metadata": {"name": "orders-cluster-config-map"}},
                        {"metadata": {"name": "orders-restserver-leader"}}, {"metadata": {"name": "flink-config-orders"}}]}"#.to_owned());
                }
                Ok(live(spec, &[]).to_string())
            },
        };
        let options = Options { cluster: options(spec, &[]), keep_ha };
        let outcome = run(&options, &mut kubectl, &mut Vec::new()).unwrap();
        (outcome, kubectl.calls)
    }

    #[test]
    fn everything_goes_by_label_and_kubernetes_ha_config_maps_unless_kept() {
        let (_, calls) = delete(SPEC, false);
        let deletes: Vec<&String> = calls.iter().filter(|c| c.starts_with("delete ")).collect();
        let sel = "--selector app.kubernetes.io/name=flink,app.kubernetes.io/instance=orders";
        let tail = "--ignore-not-found --wait=false --namespace streaming";
        assert_eq!(
            deletes,
            [
                &format!("delete {WORKLOADS_AND_CONFIG} {sel} {tail}"),
                &format!("delete {RBAC} {sel} {tail}"),
                &format!(
                    "delete configmaps orders-cluster-config-map orders-restserver-leader {tail}"
                ),
            ],
            "Flink's HA ConfigMaps by name: not a native cluster's own `flink-config-orders`"
        );
        let gone = calls.iter().position(|c| c.starts_with("get pods ")).unwrap();
        let ha = calls.iter().position(|c| c.starts_with("delete configmaps ")).unwrap();
        assert!(gone < ha, "HA ConfigMaps go after the pods: {calls:#?}");
        let (outcome, calls) = delete(SPEC, true);
        assert_eq!(calls.iter().filter(|c| c.starts_with("delete ")).count(), 2, "{calls:#?}");
        assert!(outcome.warnings[0].contains("kept (--keep-ha)"), "{:?}", outcome.warnings);
    }

    #[test]
    fn a_deployment_job_manager_goes_with_the_same_calls_as_a_job() {
        let (_, job_calls) = delete(SPEC, false);
        let (_, deployment_calls) = delete(&deployment_spec(), false);
        assert_eq!(deployment_calls, job_calls);
        assert!(WORKLOADS_AND_CONFIG.split(',').any(|kind| kind == "deployments.apps"));
    }

    #[test]
    fn native_keep_ha_keeps_flinks_ha_config_maps_but_not_its_own() {
        let spec = "apiVersion: kubectl-flink/v1alpha1\nkind: FlinkSessionCluster\nmetadata: {name: orders, namespace: streaming}\nspec: {image: flink:2.3, mode: native, native: {ownerReferences: false}}\n";
        let (_, calls) = delete(spec, true);
        let deletes: Vec<&String> = calls.iter().filter(|c| c.starts_with("delete ")).collect();
        let tail = "--ignore-not-found --wait=false --namespace streaming";
        assert_eq!(
            deletes,
            [
                &format!(
                    "delete {WORKLOADS} --selector app=orders,type=flink-native-kubernetes {tail}"
                ),
                &format!("delete configmaps flink-config-orders pod-template-orders {tail}"),
                &format!("delete {RBAC} --selector app=orders,type=flink-native-kubernetes {tail}"),
            ]
        );
    }

    #[test]
    fn zookeeper_ha_data_is_named_where_it_lives() {
        let spec = SPEC.replace(
            "{type: kubernetes, storageDir: \"s3://b/recovery\"}",
            "{type: zookeeper, zookeeper: {quorum: \"zk:2181\", pathRoot: /flink}, storageDir: \"s3://b/recovery\"}",
        );
        let (outcome, calls) = delete(&spec, false);
        assert_eq!(
            calls.iter().filter(|c| c.starts_with("delete ")).count(),
            1,
            "no RBAC, no HA ConfigMaps: {calls:#?}"
        );
        let note = &outcome.warnings[0];
        assert!(
            note.contains("at zk:2181 under /flink/orders")
                && note.contains("zkCli.sh -server zk:2181 deleteall /flink/orders"),
            "{note}"
        );
        assert!(note.contains("under s3://b/recovery"), "{note}");
    }
}
