//! Reports: facts in, text or JSON out (`ps`, `explain-shm`).

pub mod postmortem;
pub mod ps;
pub mod shm;
