//! `kubectl-flink delete`: deletes every object of a cluster by its labels and waits until
//! its pods are gone. Kubernetes HA's ConfigMaps go too unless `--keep-ha` (they hold the
//! pointers to the latest checkpoint: a cluster started again with the same name resumes
//! from them). ZooKeeper HA data cannot be reached from outside the cluster: where it lives
//! is printed instead.

use std::io::Write;

use super::Outcome;
use super::cluster::{self, ALL_KINDS, Ha, Live, Target};
use super::kubectl::Kubectl;
use crate::error::Error;
use crate::spec::Mode;

/// What `delete` was asked for.
#[derive(Debug, Default)]
pub struct Options {
    pub cluster: cluster::Options,
    /// `--keep-ha`.
    pub keep_ha: bool,
}

/// Every kind but ConfigMaps: native mode's own ConfigMaps go with the JobManager
/// Deployment that owns them, its HA ConfigMaps carry the same labels and stay.
const KINDS_BUT_CONFIG_MAPS: &str = "jobs.batch,deployments.apps,services,horizontalpodautoscalers.autoscaling,ingresses.networking.k8s.io,serviceaccounts,roles.rbac.authorization.k8s.io,rolebindings.rbac.authorization.k8s.io";

/// Runs `kubectl-flink delete`.
pub fn run(
    options: &Options,
    kubectl: &mut dyn Kubectl,
    progress: &mut dyn Write,
) -> Result<Outcome, Error> {
    let (mut session, target, live) = cluster::open(&options.cluster, kubectl, progress)?;
    let ha = live.ha();
    let mut outcome = Outcome::default();
    let kinds = match (target.mode, options.keep_ha) {
        (Mode::Native, true) => KINDS_BUT_CONFIG_MAPS,
        _ => ALL_KINDS,
    };
    session.delete(kinds, &target.selector())?;
    if target.mode == Mode::Standalone && ha == Some(Ha::Kubernetes) && !options.keep_ha {
        session.delete("configmaps", &target.ha_config_map_selector())?;
    }
    session.wait_pods_gone(&target).map_err(|waited| {
        waited.into_error(
            "the objects were deleted, some pods are still terminating",
            "check them with `kubectl get pods`; nothing else needs doing",
        )
    })?;
    session.say(&format!("cluster `{}` deleted from namespace {}", target.name, target.namespace));
    if let Some(note) = ha_note(&target, &live, ha, options.keep_ha) {
        outcome.warnings.push(note);
    }
    Ok(outcome)
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
    use crate::commands::testing::{SPEC, live, options};

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
        assert_eq!(
            deletes,
            [
                &format!(
                    "delete {ALL_KINDS} --selector app.kubernetes.io/name=flink,app.kubernetes.io/instance=orders --ignore-not-found --wait=false --namespace streaming"
                ),
                "delete configmaps --selector app=orders,type=flink-native-kubernetes --ignore-not-found --wait=false --namespace streaming",
            ]
        );
        let (outcome, calls) = delete(SPEC, true);
        assert_eq!(calls.iter().filter(|c| c.starts_with("delete ")).count(), 1);
        assert!(outcome.warnings[0].contains("kept (--keep-ha)"), "{:?}", outcome.warnings);
    }

    #[test]
    fn zookeeper_ha_data_is_named_where_it_lives() {
        let spec = SPEC.replace(
            "{type: kubernetes, storageDir: \"s3://b/recovery\"}",
            "{type: zookeeper, zookeeper: {quorum: \"zk:2181\", pathRoot: /flink}, storageDir: \"s3://b/recovery\"}",
        );
        let (outcome, calls) = delete(&spec, false);
        assert_eq!(calls.iter().filter(|c| c.starts_with("delete ")).count(), 1, "{calls:#?}");
        let note = &outcome.warnings[0];
        assert!(
            note.contains("at zk:2181 under /flink/orders")
                && note.contains("zkCli.sh -server zk:2181 deleteall /flink/orders"),
            "{note}"
        );
        assert!(note.contains("under s3://b/recovery"), "{note}");
    }
}
