//! `pgstrace probe` (issue 8, in progress): perf-probe-style breakpoints that capture values
//! and cannot hurt the server. What is here is pure and tested without a process: the spec
//! parser ([`spec`]) and the guards decided before anything is armed ([`guard`]: the
//! functions a stopped backend must never be held in, and instruction boundaries decoded with
//! iced-x86). The breakpoint registry, capture and the command build on `trace::engine`'s
//! `TrapStop` (see `tests/engine.rs` for the loop they will use).

pub mod guard;
pub mod spec;

/// The most dereferences (`->`, `[i]`) one value may take.
pub const MAX_DEREFS: usize = 8;
