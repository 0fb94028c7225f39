//! Reports: facts in, text or JSON out (`ps`, `explain-shm`).

pub mod ps;
pub mod shm;
