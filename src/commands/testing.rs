//! Specs and cluster listings for the lifecycle commands' unit tests.

use std::time::Duration;

use serde_json::{Value, json};

use super::cluster;
use crate::load::input::Input;
use crate::model::native;
use crate::pipeline;
use crate::render::Renderer;
use crate::validate::Policy;

pub const SPEC: &str = "apiVersion: kubectl-flink/v1alpha1
kind: FlinkJobCluster
metadata: {name: orders, namespace: streaming}
spec:
  image: flink:2.3
  flinkVersion: \"2.3\"
  job: {parallelism: 1, args: [--tag, a]}
  highAvailability: {type: kubernetes, storageDir: \"s3://b/recovery\"}
  savepointDir: s3://b/savepoints
";
/// [`SPEC`] with its JobManager as a Deployment (`jobManager.kind: Deployment`).
pub fn deployment_spec() -> String {
    format!("{SPEC}  jobManager: {{kind: Deployment}}\n")
}
pub const PATH: &str = "s3://b/savepoints/savepoint-000000-0123456789ab";

pub fn options(spec: &str, sets: &[&str]) -> cluster::Options {
    cluster::Options {
        specs: crate::commands::Specs {
            inputs: vec![Input { origin: "orders.yaml".into(), text: spec.into() }],
            overrides: sets.iter().map(|s| s.parse().unwrap()).collect(),
            ..Default::default()
        },
        wait: Duration::from_secs(2),
        ..Default::default()
    }
}

/// The objects `spec` renders, as the API server lists them: workloads with a ready
/// status, and one ready pod each for the JobManager and the TaskManagers.
pub fn live(spec: &str, sets: &[&str]) -> Value {
    let options = options(spec, sets);
    let specs = pipeline::load_valid(
        &options.specs.inputs,
        &options.specs.overrides,
        Policy::default(),
        None,
    )
    .unwrap();
    let renderer = Renderer::new(None).unwrap();
    let mut objects = Vec::new();
    pipeline::render_specs(&specs, &renderer, &native::Options::default(), |o| {
        objects.extend(o.into_iter().map(|o| o.value));
    })
    .unwrap();
    let mut items = Vec::new();
    for mut object in objects {
        let labels = object["spec"]["template"]["metadata"]["labels"].clone();
        match object["kind"].as_str().unwrap() {
            "Job" => object["status"] = json!({"active": 1}),
            "Deployment" => object["status"] = json!({"replicas": 1, "readyReplicas": 1}),
            _ => {}
        }
        if !labels.is_null() {
            let name = format!("{}-x1", object["metadata"]["name"].as_str().unwrap());
            items.push(json!({"kind": "Pod", "metadata": {"name": name, "labels": labels},
                "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}}));
        }
        items.push(object);
    }
    json!({"kind": "List", "items": items})
}
