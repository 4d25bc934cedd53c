//! Criterion benchmarks of the render pipeline, stage by stage and whole, over `examples/`.
//!
//! Groups:
//! - `stage/*`: one stage of the seed HA example at a time (load = YAML parse + spec +
//!   validation, model, template render with a warm and a cold environment, typed check,
//!   YAML and JSON encoding);
//! - `render/<example>`: `kubectl_flink::render` on each example, as `render -f` runs it;
//! - `krm/fn`: a KRM `ResourceList` (the seed HA spec as `functionConfig`) parsed and run;
//! - `batch/<n>`: one `render` call over `n` different specs (names, replicas, slots,
//!   parallelism, args and Flink versions vary), for throughput and linearity.
//!
//! Time is measured here and by `scripts/bench` (whole processes, hyperfine), never in tests.
//! A quick run: `cargo bench --bench render -- --warm-up-time 1 --measurement-time 3`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use kubectl_flink::Policy;
use kubectl_flink::commands::krm;
use kubectl_flink::input::Input;
use kubectl_flink::model::{Model, native};
use kubectl_flink::output::Format;
use kubectl_flink::render::Renderer;
use kubectl_flink::{RenderOptions, check, output, pipeline, render};

const EXAMPLES: &[(&str, &str)] = &[
    ("seed-ha", include_str!("../examples/seed-ha.yaml")),
    ("seed-non-ha", include_str!("../examples/seed-non-ha.yaml")),
    ("seed-savepoint", include_str!("../examples/seed-savepoint.yaml")),
    ("session-cluster", include_str!("../examples/session-cluster.yaml")),
    ("kubernetes-ha", include_str!("../examples/kubernetes-ha.yaml")),
    ("configmap-mode", include_str!("../examples/configmap-mode.yaml")),
    ("ingress-metrics", include_str!("../examples/ingress-metrics.yaml")),
    ("pod-customisation", include_str!("../examples/pod-customisation.yaml")),
    ("flink2-loadbalancer", include_str!("../examples/flink2-loadbalancer.yaml")),
];

/// Batch sizes: cost must grow linearly with the number of specs.
const BATCHES: &[usize] = &[1, 100, 10_000];

fn input(origin: &str, text: &str) -> Input {
    Input { origin: format!("examples/{origin}.yaml"), text: text.to_owned() }
}

fn seed_ha() -> Input {
    input(EXAMPLES[0].0, EXAMPLES[0].1)
}

/// Spec `i` of a batch: each one different, so nothing is served from a cache.
fn batch_spec(i: usize) -> String {
    let version = ["1.9", "1.15", "1.18", "1.20", "2.0", "2.3"][i % 6];
    let (replicas, slots) = (1 + i % 5, 1 + i % 4); // parallelism fits the slots: no warnings
    format!(
        "apiVersion: kubectl-flink/v1alpha1\n\
         kind: FlinkJobCluster\n\
         metadata:\n  name: wordcount-{i}\n\
         spec:\n  image: flink-on-kubernetes:0.0.{v}\n  flinkVersion: \"{version}\"\n\
         \x20 job:\n    parallelism: {p}\n    args: [--input, /data/in-{i}, --output, /data/out-{i}]\n\
         \x20 taskManager:\n    replicas: {r}\n    slots: {s}\n\
         \x20 highAvailability:\n    type: zookeeper\n    zookeeper:\n      quorum: \"zk-{z}.zk:2181\"\n      pathRoot: /flink\n    storageDir: hdfs://nn:9000/flink/recovery/{i}\n",
        v = i % 10,
        p = 1 + i % (replicas * slots),
        r = replicas,
        s = slots,
        z = i % 3,
    )
}

/// `n` specs as inputs of 100 documents each (one spec file holds at most 1 MiB).
fn batch_inputs(n: usize) -> Vec<Input> {
    (0..n)
        .collect::<Vec<_>>()
        .chunks(100)
        .enumerate()
        .map(|(file, chunk)| Input {
            origin: format!("batch-{file}.yaml"),
            text: chunk.iter().flat_map(|&i| ["---\n".to_owned(), batch_spec(i)]).collect(),
        })
        .collect()
}

/// A `ResourceList` as kustomize sends a generator: the seed HA spec as `functionConfig`.
fn resource_list() -> String {
    let mut list = String::from(
        "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\nfunctionConfig:\n",
    );
    for line in EXAMPLES[0].1.lines().filter(|l| !l.trim_start().starts_with('#')) {
        list.push_str("  ");
        list.push_str(line);
        list.push('\n');
    }
    list
}

fn stages(c: &mut Criterion) {
    let inputs = [seed_ha()];
    let policy = Policy::default();
    let loaded = pipeline::load_valid(&inputs, &[], policy, None).expect("seed-ha loads");
    let valid = &loaded[0].valid;
    let standalone = native::Options::default();
    let model = Model::build(valid, &standalone).unwrap().expect("a standalone cluster");
    let renderer = Renderer::new(None).expect("built-in templates");
    let documents = renderer.render(&model).expect("seed-ha renders");
    let objects = check::check(&documents).expect("seed-ha checks");

    let mut group = c.benchmark_group("stage");
    group.bench_function("load", |b| {
        b.iter(|| pipeline::load_valid(black_box(&inputs), &[], policy, None).unwrap());
    });
    group.bench_function("model", |b| b.iter(|| Model::build(black_box(valid), &standalone)));
    group.bench_function("render-warm", |b| b.iter(|| renderer.render(black_box(&model)).unwrap()));
    // What one process pays: a new environment compiles the templates it uses.
    group.bench_function("render-cold", |b| {
        b.iter(|| Renderer::new(None).unwrap().render(black_box(&model)).unwrap());
    });
    group.bench_function("check", |b| b.iter(|| check::check(black_box(&documents)).unwrap()));
    group.bench_function("encode-yaml", |b| {
        b.iter(|| output::encode(black_box(&objects), Format::Yaml).unwrap());
    });
    group.bench_function("encode-json", |b| {
        b.iter(|| output::encode(black_box(&objects), Format::Json).unwrap());
    });
    group.finish();
}

fn whole(c: &mut Criterion) {
    let mut group = c.benchmark_group("render");
    let options = RenderOptions::default();
    for (name, text) in EXAMPLES {
        let inputs = [input(name, text)];
        group.bench_with_input(BenchmarkId::from_parameter(name), &inputs, |b, inputs| {
            b.iter(|| render(black_box(inputs), &options).unwrap());
        });
    }
    group.finish();

    let text = resource_list();
    let mut group = c.benchmark_group("krm");
    group.bench_function("fn", |b| {
        b.iter(|| {
            let list = krm::parse(black_box(&text)).unwrap().expect("a ResourceList");
            krm::run(&list, &krm::FnOptions::default()).unwrap()
        });
    });
    group.finish();
}

fn batch(c: &mut Criterion) {
    let mut group = c.benchmark_group("batch");
    group.sample_size(10);
    let options = RenderOptions::default();
    for &n in BATCHES {
        let inputs = batch_inputs(n);
        let outcome = render(&inputs, &options).expect("the batch renders");
        assert!(outcome.warnings.is_empty(), "{:?}", &outcome.warnings[..1]);
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::from_parameter(n), &inputs, |b, inputs| {
            // Dropping 10,000 clusters' output is not part of rendering them.
            b.iter_batched(
                || (),
                |()| render(black_box(inputs), &options).unwrap(),
                BatchSize::PerIteration,
            );
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = stages, whole, batch
}
criterion_main!(benches);
