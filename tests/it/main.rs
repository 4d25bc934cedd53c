//! Integration tests: one binary, one module per concern.

// Skipped checks say so on stderr.
#![allow(clippy::print_stderr, clippy::similar_names)]

mod apply;
mod argocd;
mod cli;
mod completion;
mod convert;
mod determinism;
mod envsubst;
mod errors;
mod examples;
mod fidelity;
mod fuzz;
mod gitops;
mod injection;
mod kpt;
mod krew;
mod krm;
mod kube;
mod kustomize;
mod lifecycle;
mod native;
mod process;
mod props;
mod readme;
mod schema;
mod shell;
mod support;
mod templates;
mod test_command;
mod typed;
mod writer;
