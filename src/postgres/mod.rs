//! What pgstrace knows about PostgreSQL: clusters and their processes, settings, the globals
//! of a backend read from its memory, DSM segments. Built on `remote` and `symbols`; nothing
//! below this module knows PostgreSQL.

pub mod annotate;
pub mod cluster;
pub mod dsm;
pub mod log;
pub mod memory;
pub mod plan;
pub mod process;
pub mod settings;

pub use cluster::{Cluster, cluster_of};
pub use process::{PgProcess, Role};
pub use settings::Settings;
