//! pgstrace: a syscall tracer and debugger for PostgreSQL on Linux. Dispatch only; the
//! library (`lib.rs`) does the work.

use pgstrace::cli::{self, Command};
use pgstrace::postgres::annotate::PgAnnotator;
use pgstrace::{report, session, trace};

/// A tip on stderr; a closed stderr is no error.
fn eprint_tip(s: &str) {
    use std::io::Write as _;
    let _ = std::io::stderr().lock().write_all(s.as_bytes());
}

fn main() {
    // First of all: a SIGINT that arrives while we start up must not kill us by the default
    // action once we may hold tracees. It only sets a flag until a command decides.
    trace::signals::catch_detach_signals();
    let argv: Vec<String> = std::env::args().collect();
    // doctor's measuring child (see report::doctor::clock): not a command for users.
    if argv.get(1).map(String::as_str) == Some(report::doctor::clock::CHILD_ARG) {
        std::process::exit(report::doctor::clock::child_main(&argv[2..]));
    }
    if argv.get(1).map(String::as_str) == Some(report::doctor::debugfs::CHILD_ARG) {
        std::process::exit(report::doctor::debugfs::child_main());
    }
    let code = match cli::parse_command(argv) {
        Ok(Command::Trace(config)) => {
            let pg = PgAnnotator::new();
            let tips = config.tips;
            let code = cli::exit_code(session::run(*config, Some(Box::new(pg))));
            if let Some(t) = tips {
                let random = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.subsec_nanos().into());
                eprint_tip(&pgstrace::output::tips::render(t, random));
            }
            code
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
        Ok(Command::Demo(config)) => cli::exit_code(pgstrace::demo::run(config)),
        Ok(Command::Doctor(config)) => {
            trace::signals::default_detach_signals();
            cli::exit_code(report::doctor::run(config))
        }
        Err(code) => code,
    };
    std::process::exit(code);
}
