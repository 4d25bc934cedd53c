//! Kubernetes rules kubectl-flink obeys: names, quantities, pods as it builds them, and the
//! API server's validation rules its objects can break.
//! Knows nothing of specs, and of Flink only the names of a standalone cluster's main
//! containers (`pod::FLINK_CONTAINERS`).

pub mod names;
pub mod pod;
pub mod quantity;
pub mod rules;
pub mod typed;
