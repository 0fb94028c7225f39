//! pgstrace: a syscall tracer and debugger for PostgreSQL on Linux x86-64.
//!
//! The binary (`main.rs`) only dispatches; everything else is this library, which the
//! integration tests in `tests/` use too. Layers, lowest first (each uses only those before
//! it): `syscalls`, `remote`, `symbols`, `unwind` know nothing of tracing sessions;
//! `trace` is the event sources (ptrace today); `event` and `output` print; `session` runs
//! one trace; `postgres` is everything PostgreSQL; `report` builds the subcommands' reports;
//! `cli` turns flags into the plain config values the others take. See
//! `docs/architecture.md`.

/// Writes one line to stderr and ignores a failure: a closed or full stderr must never make
/// pgstrace panic (the `eprintln!` macro does) while it holds tracees.
#[macro_export]
macro_rules! errln {
    ($($arg:tt)*) => {{
        use ::std::io::Write as _;
        let _ = ::std::writeln!(::std::io::stderr().lock(), $($arg)*);
    }};
}

/// `-d`: whether pgstrace's own debugging lines are written (see [`debugln!`]).
pub static DEBUG: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// `-d`: one line of pgstrace's own debugging output on stderr (`pgstrace: [debug] ...`);
/// the arguments are not even formatted without `-d`.
#[macro_export]
macro_rules! debugln {
    ($($arg:tt)*) => {{
        if $crate::DEBUG.load(::std::sync::atomic::Ordering::Relaxed) {
            $crate::errln!("pgstrace: [debug] {}", ::std::format_args!($($arg)*));
        }
    }};
}

pub mod cli;
pub mod demo;
pub mod event;
pub mod filter;
pub mod output;
pub mod postgres;
pub mod probe;
pub mod remote;
pub mod report;
pub mod session;
pub mod symbols;
pub mod syscalls;
pub mod trace;
pub mod unwind;
pub mod util;
