//! Flink knowledge in one place: versions and the keys and scripts each one reads, and native
//! mode's effective configuration and constants. Facts come from Flink's sources, cited where
//! they are used.

pub mod config;
pub mod native;
pub mod options;
pub mod rest;
pub mod version;

/// Where the official Flink images keep Flink's configuration (`$FLINK_HOME/conf`).
pub const CONF_DIR: &str = "/opt/flink/conf";

/// Flink's default `jobmanager.rpc.port` and `rest.port`, which kubectl-flink keeps in every
/// mode: Services, probes and the Ingress use them.
pub const RPC_PORT: u16 = 6123;
pub const REST_PORT: u16 = 8081;

/// Whether an application cluster's JobManager exits once its job has ended (Flink 1.15); a
/// JobManager in a Deployment must not, or the Deployment would start it, and the job, again.
pub const SHUTDOWN_ON_APPLICATION_FINISH: &str = "execution.shutdown-on-application-finish";
