//! `-ff -o FILE`: one trace file per process, `FILE.PID`, as strace writes them: each a
//! strace-format trace of that process alone (no pid column), opened at its first event and
//! closed when it is gone.

use super::Sink;
use super::TextOpts;
use super::strace::TextPrinter;
use crate::event::Event;
use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;

/// Routes each tracee's events to its own printer and file.
pub struct PerProcess {
    base: PathBuf,
    opts: TextOpts,
    printers: HashMap<i32, TextPrinter>,
    /// Wraps each file (the session watches the writes of all of them).
    wrap: Box<dyn Fn(std::fs::File) -> Box<dyn Write>>,
    /// A file that could not be created: said once.
    pub open_error: Option<String>,
}

impl PerProcess {
    pub fn new(
        base: PathBuf,
        opts: TextOpts,
        wrap: Box<dyn Fn(std::fs::File) -> Box<dyn Write>>,
    ) -> PerProcess {
        PerProcess {
            base,
            opts,
            printers: HashMap::new(),
            wrap,
            open_error: None,
        }
    }

    fn printer(&mut self, pid: i32) -> Option<&mut TextPrinter> {
        if !self.printers.contains_key(&pid) {
            let mut name = self.base.clone().into_os_string();
            name.push(format!(".{pid}"));
            match std::fs::File::create(&name) {
                Ok(f) => {
                    let p = TextPrinter::new((self.wrap)(f), self.opts.clone());
                    self.printers.insert(pid, p);
                }
                Err(e) => {
                    if self.open_error.is_none() {
                        let msg = format!("{}: {e}", PathBuf::from(&name).display());
                        crate::errln!("pgstrace: {msg}");
                        self.open_error = Some(msg);
                    }
                    return None;
                }
            }
        }
        self.printers.get_mut(&pid)
    }
}

impl Sink for PerProcess {
    fn wants_ip(&self) -> bool {
        self.opts.instruction_pointer
    }

    fn event(&mut self, ev: &Event) {
        let pid = ev.pid();
        if let Event::Superseded { former, .. } = ev {
            // The former's file ends; its execve goes on in the leader's file.
            let call = self.printers.remove(former).and_then(|mut p| {
                p.pid_changed(*former, pid);
                let c = p.hand_over(*former);
                p.finish();
                c
            });
            if let Some(p) = self.printer(pid) {
                p.event(ev);
                if let Some(c) = call {
                    p.adopt(pid, c);
                }
            }
            return;
        }
        let Some(p) = self.printer(pid) else {
            return;
        };
        p.event(ev);
        if matches!(
            ev,
            Event::Exited { .. } | Event::Killed { .. } | Event::Detached { .. }
        ) && let Some(mut p) = self.printers.remove(&pid)
        {
            p.finish();
        }
    }

    fn finish(&mut self) {
        for (_, mut p) in self.printers.drain() {
            p.finish();
        }
    }

    fn flush(&mut self) {
        for p in self.printers.values_mut() {
            p.flush();
        }
    }
}
