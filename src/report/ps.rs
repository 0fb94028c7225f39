//! `pgstrace ps`: every cluster on the machine with its processes and roles.

use crate::cli::PsArgs;

pub fn run(args: PsArgs) -> anyhow::Result<i32> {
    let _ = args;
    anyhow::bail!("ps is not implemented yet")
}
