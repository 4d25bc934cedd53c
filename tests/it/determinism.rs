//! Rendering is a function of the spec: the same bytes every time, whatever the order of the
//! keys in the input. (The environment and locale are covered in `process.rs`.)

use std::fmt::Write as _;

use kubectl_flink::RenderOptions;
use kubectl_flink::input::Input;
use kubectl_flink::output::Format;
use kubectl_flink::yaml::{self, Key, Node, NodeKind};

use crate::support::examples;

fn render(text: &str, format: Format) -> Vec<u8> {
    let input = Input { origin: "example.yaml".into(), text: text.into() };
    let options = RenderOptions { format, ..RenderOptions::default() };
    kubectl_flink::render(&[input], &options)
        .expect("the example renders")
        .stdout
        .into_bytes()
        .unwrap()
}

#[test]
fn a_hundred_renders_of_every_example_are_byte_identical() {
    for example in examples() {
        let text = std::fs::read_to_string(&example).unwrap();
        // JSON shares every stage but the last with YAML: ten renders suffice.
        for (format, renders) in [(Format::Yaml, 100), (Format::Json, 10)] {
            let first = render(&text, format);
            for i in 1..renders {
                assert!(render(&text, format) == first, "{} render {i} differs", example.display());
            }
        }
    }
}

/// How to reorder the entries of every mapping.
#[derive(Debug, Clone, Copy)]
enum Order {
    Reversed,
    Rotated,
    Sorted,
}

/// Writes a node tree back as block YAML with the entries of every mapping reordered. Plain
/// scalars keep their text (and so their type); others are written double-quoted.
fn write(node: &Node, order: Order, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match &node.kind {
        NodeKind::Map(entries) if !entries.is_empty() => {
            let mut entries: Vec<&(Key, Node)> = entries.iter().collect();
            match order {
                Order::Reversed => entries.reverse(),
                Order::Rotated => entries.rotate_left(1),
                Order::Sorted => entries.sort_by(|a, b| a.0.name.cmp(&b.0.name)),
            }
            for (key, value) in entries {
                let key = serde_json::to_string(&key.name).unwrap();
                if let Some(text) = scalar(value) {
                    let _ = writeln!(out, "{pad}{key}: {text}");
                } else {
                    let _ = writeln!(out, "{pad}{key}:");
                    write(value, order, indent + 2, out);
                }
            }
        }
        NodeKind::Seq(items) if !items.is_empty() => {
            for item in items {
                if let Some(text) = scalar(item) {
                    let _ = writeln!(out, "{pad}- {text}");
                } else {
                    let _ = writeln!(out, "{pad}-");
                    write(item, order, indent + 2, out);
                }
            }
        }
        _ => {
            let _ = writeln!(out, "{pad}{}", scalar(node).unwrap());
        }
    }
}

fn scalar(node: &Node) -> Option<String> {
    match &node.kind {
        NodeKind::Scalar { text, plain: true } => Some(text.clone()),
        NodeKind::Scalar { text, plain: false } => Some(serde_json::to_string(text).unwrap()),
        NodeKind::Map(entries) if entries.is_empty() => Some("{}".into()),
        NodeKind::Seq(items) if items.is_empty() => Some("[]".into()),
        _ => None,
    }
}

#[test]
fn the_order_of_keys_in_the_input_does_not_matter() {
    for example in examples() {
        let text = std::fs::read_to_string(&example).unwrap();
        let expected = render(&text, Format::Yaml);
        for order in [Order::Reversed, Order::Rotated, Order::Sorted] {
            let reordered = yaml::parse_documents(&text)
                .unwrap()
                .iter()
                .map(|document| {
                    let mut out = String::from("---\n");
                    write(document.root.as_ref().unwrap(), order, 0, &mut out);
                    out
                })
                .collect::<String>();
            assert_ne!(reordered, text);
            assert!(
                render(&reordered, Format::Yaml) == expected,
                "{} renders differently with keys {order:?}:\n{reordered}",
                example.display()
            );
        }
    }
}
