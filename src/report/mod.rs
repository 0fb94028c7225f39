//! Reports: facts in, text or JSON out (`ps`, `explain-shm`).
#![allow(dead_code, unused_imports)]

pub mod ps;
pub mod shm;
