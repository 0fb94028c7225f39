//! Reports: facts in, text or JSON out (`ps`, `explain-shm`, `postmortem`, `doctor`), and
//! the cgroup files they read.

pub mod cgroup;
pub mod container;
pub mod doctor;

pub mod postmortem;
pub mod ps;
pub mod shm;
