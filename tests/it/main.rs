//! Integration tests: one binary, one module per concern.

// Skipped checks say so on stderr.
#![allow(clippy::print_stderr)]

mod cli;
mod envsubst;
mod errors;
mod examples;
mod kube;
mod props;
mod schema;
mod support;
