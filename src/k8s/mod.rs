//! Kubernetes rules kubectl-flink obeys: names, quantities, and pods as it builds them.
//! Knows nothing of specs or Flink.

pub mod names;
pub mod pod;
pub mod quantity;
pub mod typed;
