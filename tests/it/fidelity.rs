//! How the rendered containers start Flink, per version (issue 15): the image's entrypoint,
//! options a version's scripts read only from the configuration file in `FLINK_PROPERTIES`,
//! job arguments after `--`, Services and probes as Flink's docs lay them out.
//!
//! These pin the rendered shape; `scripts/flink-matrix` proves each shape on that version's
//! own scripts and parsers.

use serde_json::Value;

use crate::support::run;

/// The objects a spec renders to, as JSON.
fn rendered(spec: &str, sets: &[&str]) -> Vec<Value> {
    let mut args = vec!["render", "-o", "json", "-f", "-"];
    for set in sets {
        args.extend(["--set", set]);
    }
    let out = run(&args, Some(spec.as_bytes()));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let list: Value = serde_json::from_slice(&out.stdout).unwrap();
    list["items"].as_array().unwrap().clone()
}

fn named<'a>(objects: &'a [Value], name: &str) -> &'a Value {
    objects.iter().find(|o| o["metadata"]["name"] == name).unwrap_or_else(|| panic!("{name}"))
}

fn container(object: &Value) -> &Value {
    &object["spec"]["template"]["spec"]["containers"][0]
}

fn args(object: &Value) -> Vec<&str> {
    container(object)["args"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()).collect()
}

fn env<'a>(object: &'a Value, name: &str) -> Option<&'a str> {
    container(object)["env"].as_array()?.iter().find(|e| e["name"] == name)?["value"].as_str()
}

const JOB: &str = "apiVersion: kubectl-flink/v1alpha1
kind: FlinkJobCluster
metadata: {name: wc}
spec:
  image: flink
  job: {entryClass: org.example.Main, args: [-s, /tmp/input, -Dmode=fast, --jars, x]}
  jobManager: {resources: {memory: 2Gi}}
  taskManager: {resources: {memory: 4Gi}}
";

const SESSION: &str = "apiVersion: kubectl-flink/v1alpha1
kind: FlinkSessionCluster
metadata: {name: s}
spec:
  image: flink
  savepointDir: s3://b/sp
";

fn version(v: &str) -> String {
    format!("spec.flinkVersion=\"{v}\"")
}

#[test]
fn issue_15_containers_start_through_the_image_entrypoint() {
    for v in ["1.10", "1.14", "1.20", "2.3"] {
        let objects = rendered(JOB, &[&version(v)]);
        for (name, first) in
            [("wc-jobmanager", "standalone-job"), ("wc-taskmanager", "taskmanager")]
        {
            let object = named(&objects, name);
            assert_eq!(container(object)["command"], serde_json::json!(["/docker-entrypoint.sh"]));
            assert_eq!(args(object)[0], first, "{v} {name}");
        }
    }
    // The 1.9 images' entrypoint knows only `jobmanager` and `taskmanager`.
    let objects = rendered(JOB, &[&version("1.9")]);
    let jm = named(&objects, "wc-jobmanager");
    assert_eq!(container(jm)["command"], serde_json::json!(["/opt/flink/bin/standalone-job.sh"]));
    assert_eq!(args(jm)[0], "start-foreground");
    let tm = named(&objects, "wc-taskmanager");
    assert_eq!(args(tm)[0], "taskmanager");
    let objects = rendered(SESSION, &[&version("1.9")]);
    assert_eq!(args(named(&objects, "s-jobmanager"))[0], "jobmanager");
}

#[test]
fn issue_15_job_arguments_follow_the_end_of_options() {
    for v in ["1.9", "1.12", "2.3"] {
        let objects = rendered(JOB, &[&version(v)]);
        let args = args(named(&objects, "wc-jobmanager"));
        let end = args.iter().position(|a| *a == "--").expect("`--` before the job's arguments");
        assert_eq!(args[end + 1..], ["-s", "/tmp/input", "-Dmode=fast", "--jars", "x"], "{v}");
        assert!(args[..end].contains(&"--job-classname"), "{v}: {args:?}");
    }
    let no_args = rendered(&JOB.replace("args: [-s, /tmp/input, -Dmode=fast, --jars, x]", ""), &[]);
    assert!(!args(named(&no_args, "wc-jobmanager")).contains(&"--"));
}

#[test]
fn issue_15_heap_sizes_reach_old_versions_through_the_variables_the_scripts_read() {
    // 1.9: both processes are sized by heap, which the scripts take from FLINK_JM_HEAP /
    // FLINK_TM_HEAP or the file, never from -D; Flink itself still reads the -D.
    let objects = rendered(JOB, &[&version("1.9")]);
    let jm = named(&objects, "wc-jobmanager");
    let tm = named(&objects, "wc-taskmanager");
    assert_eq!(env(jm, "FLINK_JM_HEAP"), Some("1448m"));
    assert_eq!(env(tm, "FLINK_TM_HEAP"), Some("3g"));
    assert!(args(jm).contains(&"-Djobmanager.heap.size=1448m"));
    assert!(args(tm).contains(&"-Dtaskmanager.heap.size=3g"));
    assert!(env(jm, "FLINK_PROPERTIES").is_none() && env(tm, "FLINK_PROPERTIES").is_none());
    // 1.10: the TaskManager takes its process size as an argument.
    let objects = rendered(JOB, &[&version("1.10")]);
    assert_eq!(env(named(&objects, "wc-jobmanager"), "FLINK_JM_HEAP"), Some("1448m"));
    let tm = named(&objects, "wc-taskmanager");
    assert_eq!(env(tm, "FLINK_TM_HEAP"), None);
    assert!(args(tm).contains(&"-Dtaskmanager.memory.process.size=4g"));
    // 1.11 on: process sizes as arguments, nothing else.
    for v in ["1.11", "2.3"] {
        let objects = rendered(JOB, &[&version(v)]);
        let jm = named(&objects, "wc-jobmanager");
        assert_eq!(env(jm, "FLINK_JM_HEAP"), None, "{v}");
        assert!(args(jm).contains(&"-Djobmanager.memory.process.size=2g"));
    }
}

#[test]
fn issue_15_session_jobmanagers_up_to_1_14_take_no_options_as_arguments() {
    let objects = rendered(SESSION, &[&version("1.14")]);
    let jm = named(&objects, "s-jobmanager");
    assert_eq!(args(jm), ["jobmanager", "s-jobmanager"], "the address is jobmanager.sh's host");
    let properties = env(jm, "FLINK_PROPERTIES").unwrap();
    assert!(properties.contains("blob.server.port: 6124\n"), "{properties}");
    assert!(properties.contains("state.savepoints.dir: s3://b/sp\n"), "{properties}");
    let objects = rendered(SESSION, &[&version("1.16")]);
    let jm = named(&objects, "s-jobmanager");
    assert_eq!(args(jm)[..3], ["jobmanager", "-D", "jobmanager.rpc.address=s-jobmanager"]);
    assert!(env(jm, "FLINK_PROPERTIES").is_none());
    // 1.15 takes `-D`, but sizes the JVM from the file alone.
    let objects = rendered(SESSION, &[&version("1.15"), "spec.jobManager.resources.memory=2Gi"]);
    let jm = named(&objects, "s-jobmanager");
    assert_eq!(args(jm)[..3], ["jobmanager", "-D", "jobmanager.rpc.address=s-jobmanager"]);
    assert_eq!(env(jm, "FLINK_PROPERTIES"), Some("jobmanager.memory.process.size: 2g\n"));
}

#[test]
fn issue_15_jvm_options_reach_every_version_and_keep_the_stock_module_opens() {
    let spec = format!(
        "{JOB}  flinkConfiguration: {{env.java.opts.all: -XX:+UseG1GC, env.java.opts.taskmanager: -Dtm=1}}\n"
    );
    // config.sh reads FLINK_ENV_JAVA_OPTS(_TM) before the file, on every version.
    let objects = rendered(&spec, &[]);
    for name in ["wc-jobmanager", "wc-taskmanager"] {
        let opts = env(named(&objects, name), "FLINK_ENV_JAVA_OPTS").unwrap();
        assert!(opts.starts_with("-XX:+IgnoreUnrecognizedVMOptions --add-exports="), "{opts}");
        assert!(opts.contains("--add-opens=java.base/java.lang=ALL-UNNAMED"), "{opts}");
        assert!(opts.ends_with(" -XX:+UseG1GC"), "{opts}");
        assert!(env(named(&objects, name), "FLINK_PROPERTIES").is_none());
    }
    assert_eq!(env(named(&objects, "wc-taskmanager"), "FLINK_ENV_JAVA_OPTS_TM"), Some("-Dtm=1"));
    assert_eq!(env(named(&objects, "wc-jobmanager"), "FLINK_ENV_JAVA_OPTS_TM"), None);
    // Before 1.18 the stock configuration has no JVM options and config.sh adds no prefix.
    let objects =
        rendered(&spec.replace("env.java.opts.all", "env.java.opts"), &[&version("1.12")]);
    assert_eq!(env(named(&objects, "wc-jobmanager"), "FLINK_ENV_JAVA_OPTS"), Some("-XX:+UseG1GC"));
}

#[test]
fn issue_15_rpc_and_blob_ports_are_on_no_node_port() {
    for service_type in ["NodePort", "LoadBalancer", "ClusterIP"] {
        let objects = rendered(JOB, &[&format!("spec.service.type={service_type}")]);
        let service = |name: &str| {
            objects.iter().find(|o| o["kind"] == "Service" && o["metadata"]["name"] == name)
        };
        let internal = &service("wc-jobmanager").unwrap()["spec"];
        assert_eq!(internal["type"], "ClusterIP");
        let rest = &service("wc-jobmanager-rest").unwrap()["spec"];
        assert_eq!(rest["type"], service_type);
        assert_eq!(
            rest["ports"],
            serde_json::json!([{"name": "rest", "port": 8081, "targetPort": "ui"}])
        );
    }
}

#[test]
fn issue_15_the_jobmanager_job_outlives_restarts_and_standbys_need_ha() {
    let objects = rendered(JOB, &[]);
    let job = objects.iter().find(|o| o["kind"] == "Job").unwrap();
    assert_eq!(job["spec"]["backoffLimit"], 2_147_483_647);
    assert_eq!(job["spec"]["parallelism"], 1);
    let objects = rendered(
        JOB,
        &[
            "spec.highAvailability.type=kubernetes",
            "spec.highAvailability.storageDir=s3://b/ha",
            "spec.jobManager.replicas=2",
            "spec.jobManager.backoffLimit=100",
        ],
    );
    let job = objects.iter().find(|o| o["kind"] == "Job").unwrap();
    assert_eq!(
        (&job["spec"]["backoffLimit"], &job["spec"]["parallelism"]),
        (&100.into(), &2.into())
    );
    assert!(args(job).contains(&"-Djobmanager.rpc.address=$(POD_IP)"));
}

#[test]
fn issue_15_taskmanagers_have_a_fixed_rpc_port_and_a_liveness_probe() {
    let objects = rendered(JOB, &[]);
    let tm = named(&objects, "wc-taskmanager");
    assert!(args(tm).contains(&"-Dtaskmanager.rpc.port=6122"));
    assert_eq!(
        container(tm)["ports"][0],
        serde_json::json!({"name": "rpc", "containerPort": 6122})
    );
    assert_eq!(container(tm)["livenessProbe"]["tcpSocket"]["port"], "rpc");
    let query = format!("{JOB}  flinkConfiguration: {{queryable-state.enable: \"true\"}}\n");
    let objects = rendered(&query, &[&version("1.17")]);
    let tm = named(&objects, "wc-taskmanager");
    assert!(args(tm).contains(&"-Dqueryable-state.proxy.ports=6125"));
    let jm = named(&objects, "wc-jobmanager");
    assert!(!args(jm).iter().any(|a| a.contains("queryable-state.server.ports")));
    assert!(!container(jm)["ports"].as_array().unwrap().iter().any(|p| p["containerPort"] == 6125));
}

#[test]
fn issue_15_script_entrypoint_rewrites_the_stock_localhost_hosts() {
    let objects = rendered(JOB, &["spec.entrypoint=script"]);
    let jm = named(&objects, "wc-jobmanager");
    let tm = named(&objects, "wc-taskmanager");
    assert_eq!(container(jm)["command"], serde_json::json!(["/opt/flink/bin/standalone-job.sh"]));
    assert_eq!(args(jm)[0], "start-foreground");
    for arg in ["-Djobmanager.bind-host=0.0.0.0", "-Drest.bind-address=0.0.0.0"] {
        assert!(args(jm).contains(&arg), "{arg}");
    }
    assert!(args(tm).contains(&"-Dtaskmanager.host=$(POD_IP)"));
    let pod_ip = container(tm)["env"].as_array().unwrap().iter().any(|e| e["name"] == "POD_IP");
    assert!(pod_ip, "Kubernetes expands $(POD_IP) only from the container's env");
}

#[test]
fn issue_15_memory_below_flinks_minimum_is_refused_unless_the_spec_sizes_the_components() {
    let small = "spec.taskManager.resources.memory=700Mi";
    let out = run(&["render", "-f", "-", "--set", small], Some(JOB.as_bytes()));
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("needs at least 982Mi"));
    // With its own component sizes the spec is past what kubectl-flink can judge.
    let sized = format!("{JOB}  flinkConfiguration: {{taskmanager.memory.managed.size: 64m}}\n");
    rendered(&sized, &[small]);
    // The heap-sized 1.9 TaskManager has no such calculation.
    rendered(JOB, &["spec.taskManager.resources.memory=800Mi", &version("1.9")]);
}
