//! The trace output: `-o FILE`, `-o -` or stderr, shared by the printers of one session
//! (`-C` writes the trace and then the table into the same output), and watched so that a
//! real write error (a closed pipe, a full disk) makes the session detach rather than trace
//! on blind.
//!
//! A write interrupted by a signal (EINTR: our flush timer's SIGALRM is installed without
//! SA_RESTART, so that it can interrupt `waitpid`) is retried, never counted as a failure:
//! a slow reader on a pipe must slow the trace down, not end it.

use anyhow::{Context, Result};
use std::cell::{Cell, RefCell};
use std::io::{self, IsTerminal, Write};
use std::path::Path;
use std::rc::Rc;

/// Whether a write failed (and why), shared by every writer of a session.
#[derive(Clone, Debug, Default)]
pub struct Failed(Rc<Cell<bool>>, Rc<RefCell<Option<String>>>);

impl Failed {
    pub fn get(&self) -> bool {
        self.0.get()
    }

    /// The first error, as the OS says it (`No space left on device`).
    pub fn reason(&self) -> Option<String> {
        self.1.borrow().clone()
    }

    fn set(&self, e: &io::Error) {
        self.0.set(true);
        let mut r = self.1.borrow_mut();
        if r.is_none() {
            // `No space left on device (os error 28)` → strace's words.
            let text = e.to_string();
            let text = match text.find(" (os error") {
                Some(i) => text[..i].to_string(),
                None => text,
            };
            *r = Some(text);
        }
    }
}

/// A writer that retries interrupted writes and remembers a real failure.
pub struct Watched<W: Write> {
    inner: W,
    failed: Failed,
}

impl<W: Write> Watched<W> {
    pub fn new(inner: W, failed: Failed) -> Self {
        Watched { inner, failed }
    }
}

impl<W: Write> Write for Watched<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        loop {
            match self.inner.write(buf) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.failed.set(&e);
                    return Err(e);
                }
                ok => return ok,
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        loop {
            match self.inner.flush() {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.failed.set(&e);
                    return Err(e);
                }
                ok => return ok,
            }
        }
    }
}

/// One output written by several printers (`-C`).
#[derive(Clone)]
pub struct SharedOut(Rc<RefCell<Box<dyn Write>>>);

impl SharedOut {
    pub fn new(out: Box<dyn Write>) -> Self {
        SharedOut(Rc::new(RefCell::new(out)))
    }
}

impl Write for SharedOut {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.borrow_mut().write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.borrow_mut().flush()
    }
}

/// A trace file of its own (`-ff`: `FILE.PID`), watched with the session's other writers.
pub fn watched_file(f: std::fs::File, failed: Failed) -> Box<dyn Write> {
    Box::new(Watched::new(
        io::BufWriter::with_capacity(1 << 16, f),
        failed,
    ))
}

/// The opened trace output.
pub struct Output {
    pub out: SharedOut,
    /// It is a terminal (stderr on a TTY): colour may be used.
    pub tty: bool,
    pub failed: Failed,
}

/// Opens the trace output: `-o FILE`, `-o -` for stdout, else stderr (line-buffered so an
/// interactive user sees each line as it happens).
pub fn open(path: Option<&Path>, append: bool) -> Result<Output> {
    let failed = Failed::default();
    let (out, tty): (Box<dyn Write>, bool) = match path {
        Some(p) if p.as_os_str() == "-" => (
            Box::new(Watched::new(
                io::LineWriter::new(io::stdout()),
                failed.clone(),
            )),
            false,
        ),
        Some(p) => {
            let f = if append {
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(p)
            } else {
                std::fs::File::create(p)
            }
            .with_context(|| format!("cannot open output file {}", p.display()))?;
            (
                Box::new(Watched::new(
                    io::BufWriter::with_capacity(1 << 16, f),
                    failed.clone(),
                )),
                false,
            )
        }
        None => {
            let tty = io::stderr().is_terminal();
            (
                Box::new(Watched::new(
                    io::LineWriter::new(io::stderr()),
                    failed.clone(),
                )),
                tty,
            )
        }
    };
    Ok(Output {
        out: SharedOut::new(out),
        tty,
        failed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fails each write with EINTR once, then takes it; or fails for good.
    struct Flaky {
        interrupt_next: bool,
        broken: bool,
        got: Vec<u8>,
    }

    impl Write for Flaky {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.broken {
                return Err(io::Error::from(io::ErrorKind::BrokenPipe));
            }
            self.interrupt_next = !self.interrupt_next;
            if !self.interrupt_next {
                return Err(io::Error::from(io::ErrorKind::Interrupted));
            }
            self.got.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn interrupted_writes_are_retried_and_not_failures() {
        let failed = Failed::default();
        let mut w = Watched::new(
            Flaky {
                interrupt_next: true,
                broken: false,
                got: Vec::new(),
            },
            failed.clone(),
        );
        for _ in 0..10 {
            w.write_all(b"line\n").expect("EINTR is retried");
        }
        assert!(!failed.get());
        assert_eq!(w.inner.got.len(), 50);
    }

    #[test]
    fn a_real_error_is_remembered() {
        let failed = Failed::default();
        let mut w = Watched::new(
            Flaky {
                interrupt_next: false,
                broken: true,
                got: Vec::new(),
            },
            failed.clone(),
        );
        assert!(w.write_all(b"x").is_err());
        assert!(failed.get());
    }
}
