//! Reports: facts in, text or JSON out (`ps`, `explain-shm`).

// The skeleton of issue 4: filled in by the postgres, ps and explain-shm work; the allow goes
// when they call it.
#![allow(dead_code, unused_imports)]

pub mod ps;
pub mod shm;
pub mod shm_watch;
