//! What Flink's native Kubernetes client fixes: names, labels and ports of the objects it
//! creates (`KubernetesJobManagerFactory`, `Constants`, `KubernetesUtils`).

use super::version::{FlinkVersion, v};

/// The oldest Flink release line native mode renders: the oldest compared with Flink's own
/// client (1.20.5; and 2.3.0 for 2.x).
pub const MIN_VERSION: FlinkVersion = v(1, 20);
/// Longest cluster name: Flink's `kubernetes.cluster-id` limit (`KubernetesUtils`).
pub const MAX_CLUSTER_ID: usize = 45;

/// The main container of Flink's pods (`Constants.MAIN_CONTAINER_NAME`).
pub const MAIN_CONTAINER: &str = "flink-main-container";
/// `Constants.LABEL_TYPE_NATIVE_TYPE`.
pub const LABEL_TYPE: &str = "flink-native-kubernetes";
/// Label keys Flink sets on its objects (`Constants.LABEL_*_KEY`).
pub const FLINK_LABELS: &[&str] = &["type", "app", "component"];

/// `rest.port`, `jobmanager.rpc.port`, `blob.server.port` (forced to 6124 by the client) and
/// `taskmanager.rpc.port` (forced to 6122).
pub use super::{REST_PORT, RPC_PORT};
pub const BLOB_PORT: u16 = 6124;
pub const TM_RPC_PORT: u16 = 6122;
