//! pgstrace: a syscall tracer and debugger for PostgreSQL on Linux.

mod backtrace;
mod cli;
mod event;
mod filter;
mod output;
mod postgres;
mod remote;
mod report;
mod session;
mod symbols;
mod syscalls;
mod trace;
mod unwind;

fn main() {
    std::process::exit(cli::run());
}
