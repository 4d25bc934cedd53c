//! Property tests: no value a user writes can change the structure of the output.
//!
//! Arbitrary strings (quotes, newlines, `: `, `#`, `{{`, `${`, `---`, unicode, `on`) go into
//! every free-text field of a spec. Either the spec is refused with an input error (never
//! partial output), or the output has exactly the structure a harmless value gives, with the
//! value intact where it belongs, in both YAML and JSON output.

use kubectl_flink::input::Input;
use kubectl_flink::output::Format;
use kubectl_flink::{RenderOptions, Substitution, envsubst, render, yaml};
use proptest::prelude::*;
use serde_json::{Value, json};

/// A spec with `value` in every free-text field.
pub fn spec_with(value: &str) -> Value {
    json!({
        "apiVersion": "kubectl-flink/v1alpha1",
        "kind": "FlinkJobCluster",
        "metadata": {"name": "prop", "annotations": {"note": value}},
        "spec": {
            "image": value,
            "job": {"args": ["--in", value], "fromSavepoint": value},
            "highAvailability": {"type": "zookeeper", "zookeeper": {"quorum": value, "pathRoot": format!("/{value}")}, "storageDir": value},
            "savepointDir": value,
            "flinkConfiguration": {"custom.option": value},
        }
    })
}

fn render_json(spec: &Value, format: Format) -> Result<Vec<u8>, kubectl_flink::Error> {
    // JSON is YAML: the spec text itself cannot be broken by the value.
    let input = Input { origin: "prop.yaml".into(), text: spec.to_string() };
    let options = RenderOptions { format, ..RenderOptions::default() };
    render(&[input], &options).map(|o| o.stdout.into_bytes().expect("in memory"))
}

/// The output's shape: every string replaced, so only keys and lengths remain.
fn shape(value: &Value) -> Value {
    match value {
        Value::String(_) => Value::String(String::new()),
        Value::Array(items) => Value::Array(items.iter().map(shape).collect()),
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), shape(v))).collect())
        }
        other => other.clone(),
    }
}

fn yaml_stream_to_json(text: &str) -> Vec<Value> {
    yaml::parse_documents(text)
        .unwrap()
        .into_iter()
        .map(|d| d.root.unwrap().to_json().unwrap())
        .collect()
}

pub fn payload() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "\"",
        "'",
        "\n",
        "\r\n",
        ": ",
        "- ",
        "#",
        " #x",
        "{{ x }}",
        "{% if %}",
        "${X}",
        "$X",
        "---",
        "...",
        "on",
        "yes",
        "no",
        "~",
        "0x1",
        "1e3",
        "null",
        "true",
        "&a",
        "*a",
        "!!python/object",
        "[",
        "]",
        "{",
        "}",
        ",",
        "|",
        ">",
        "%",
        "@",
        "`",
        "\\",
        "\t",
        "\u{2028}",
        "\u{0085}",
        "\u{200b}",
        "\u{202e}",
        "é",
        "日本",
        "🚀",
        "a",
        "b-c",
        "/",
        "=",
        " ",
    ]);
    prop::collection::vec(pieces, 1..8).prop_map(|p| p.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, .. ProptestConfig::default() })]

    #[test]
    fn values_never_change_the_output_structure(value in payload()) {
        let harmless = render_json(&spec_with("harmless"), Format::Json).expect("harmless spec renders");
        let harmless: Value = serde_json::from_slice(&harmless).unwrap();
        match render_json(&spec_with(&value), Format::Json) {
            Err(err) => prop_assert_eq!(err.exit_code(), 1, "refused values are input errors: {}", err),
            Ok(bytes) => {
                let rendered: Value = serde_json::from_slice(&bytes).unwrap();
                prop_assert_eq!(shape(&rendered), shape(&harmless));
                let job = &rendered["items"][0]["spec"]["template"]["spec"]["containers"][0];
                prop_assert_eq!(&job["image"], &json!(value));
                let args: Vec<&str> = job["args"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()).collect();
                prop_assert_eq!(args[args.len() - 1], value.as_str());
                let option = String::from("-Dcustom.option=") + &value;
                prop_assert!(args.contains(&option.as_str()));
                let yaml = render_json(&spec_with(&value), Format::Yaml).unwrap();
                let documents = yaml_stream_to_json(std::str::from_utf8(&yaml).unwrap());
                prop_assert_eq!(&Value::Array(documents), &rendered["items"]);
            }
        }
    }

    #[test]
    fn job_args_accept_anything_verbatim(value in payload()) {
        let mut spec = spec_with("harmless");
        spec["spec"]["job"]["args"] = json!([value.clone()]);
        let bytes = render_json(&spec, Format::Yaml).expect("any job argument renders");
        let documents = yaml_stream_to_json(std::str::from_utf8(&bytes).unwrap());
        let args = documents[0]["spec"]["template"]["spec"]["containers"][0]["args"].as_array().unwrap().clone();
        prop_assert_eq!(args.last().unwrap(), &json!(value));
    }

    #[test]
    fn substituted_values_never_change_the_output_structure(value in payload()) {
        // Block and flow, quoted and plain references, in every free-text field.
        let spec = "apiVersion: kubectl-flink/v1alpha1\nkind: FlinkJobCluster\nmetadata:\n  name: prop\n  annotations: {note: \"${V}\"}\nspec:\n  image: ${V}\n  job:\n    args: [\"--in\", \"$V\"]\n    fromSavepoint: '${V}'\n  highAvailability:\n    type: zookeeper\n    zookeeper: {quorum: \"${V}\", pathRoot: \"/${V}\"}\n    storageDir: ${V}\n  savepointDir: \"${V}\"\n  flinkConfiguration:\n    custom.option: ${V}\n";
        let render_with = |v: &str| {
            let substitution = Substitution {
                vars: [("V".to_owned(), v.to_owned())].into(),
                options: envsubst::Options { syntax: envsubst::Syntax::Extended, ..envsubst::Options::default() },
            };
            let input = Input { origin: "prop.yaml".into(), text: spec.to_owned() };
            let options = RenderOptions { format: Format::Json, substitution: Some(&substitution), ..RenderOptions::default() };
            render(&[input], &options).map(|o| o.stdout.into_bytes().expect("in memory"))
        };
        let harmless: Value = serde_json::from_slice(&render_with("harmless").expect("harmless renders")).unwrap();
        match render_with(&value) {
            Err(err) => prop_assert_eq!(err.exit_code(), 1, "refused values are input errors: {}", err),
            Ok(bytes) => {
                let rendered: Value = serde_json::from_slice(&bytes).unwrap();
                prop_assert_eq!(shape(&rendered), shape(&harmless));
                let job = &rendered["items"][0]["spec"]["template"]["spec"]["containers"][0];
                prop_assert_eq!(&job["image"], &json!(value));
                let args = job["args"].as_array().unwrap();
                prop_assert_eq!(args.last().unwrap(), &json!(value));
            }
        }
    }
}
