//! `pgstrace explain-shm`: why /dev/shm runs out for a cluster, and what to change.
//!
//! [`gather`] collects the facts (the /dev/shm the cluster sees, the container context,
//! every segment and who maps it, the settings), [`estimate`] computes what parallel plans
//! need under those settings, and the renderers turn facts into text or JSON.

#[path = "shm_estimate.rs"]
pub mod model;

use crate::cli::ExplainShmArgs;
use crate::postgres::Cluster;

/// Everything explain-shm says, as data.
#[derive(Clone, Debug, Default)]
pub struct ShmFacts {}

/// Collects the facts for `cluster`.
pub fn gather(cluster: &Cluster) -> anyhow::Result<ShmFacts> {
    let _ = cluster;
    Ok(ShmFacts::default())
}

/// The text report.
pub fn render_text(facts: &ShmFacts) -> String {
    let _ = facts;
    String::new()
}

/// The JSON report.
pub fn render_json(facts: &ShmFacts) -> serde_json::Value {
    let _ = facts;
    serde_json::Value::Null
}

pub fn run(args: ExplainShmArgs) -> anyhow::Result<i32> {
    let _ = args;
    anyhow::bail!("explain-shm is not implemented yet")
}
