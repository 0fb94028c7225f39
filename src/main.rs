//! pgstrace: a syscall tracer and debugger for PostgreSQL on Linux. Dispatch only; the
//! library (`lib.rs`) does the work.

use pgstrace::cli::{self, Command};
use pgstrace::postgres::annotate::PgAnnotator;
use pgstrace::{report, session, trace};

fn main() {
    // First of all: a SIGINT that arrives while we start up must not kill us by the default
    // action once we may hold tracees. It only sets a flag until a command decides.
    trace::signals::catch_detach_signals();
    let code = match cli::parse_command(std::env::args().collect()) {
        Ok(Command::Trace(config)) => {
            let pg = PgAnnotator::new();
            cli::exit_code(session::run(config, Some(Box::new(pg))))
        }
        Ok(Command::ExplainShm(config)) if config.watch => {
            cli::exit_code(report::shm::watch::run(config))
        }
        Ok(Command::ExplainShm(config)) => {
            trace::signals::default_detach_signals();
            cli::exit_code(report::shm::run(config))
        }
        Ok(Command::Probe(config)) => cli::exit_code(pgstrace::probe::run(config)),
        Ok(Command::Postmortem(config)) => {
            trace::signals::default_detach_signals();
            cli::exit_code(report::postmortem::run(config))
        }
        Ok(Command::Ps(config)) => {
            trace::signals::default_detach_signals();
            cli::exit_code(report::ps::run(config))
        }
        Err(code) => code,
    };
    std::process::exit(code);
}
