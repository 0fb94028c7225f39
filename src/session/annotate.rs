//! What a session asks of an annotator: the hooks through which someone who knows the
//! tracees (PostgreSQL, in `postgres::annotate`) adds notes to the trace. The session calls
//! them at fixed points and knows nothing of what the notes mean.

use crate::event::{Event, FieldValue, Timestamp};
use crate::syscalls::{Ret, Tracee, Value};

pub trait Annotator {
    /// A new tracee. `settled`: attached with `-p` (or launched), so it is what it will be;
    /// otherwise a forked child that may still change (a PostgreSQL child sets its title).
    fn attached(&mut self, pid: i32, settled: bool, time: Timestamp, out: &mut Vec<Event>);
    /// A successful execve (`former`: the tid that called it).
    fn exec(&mut self, pid: i32, former: i32, time: Timestamp, out: &mut Vec<Event>);
    /// The tracee exited, died or was detached.
    fn gone(&mut self, pid: i32);
    /// A syscall of `pid` returned at `time`, shown or not (`rval` is -1 for any error).
    /// `look`: what became of the early look at it ([`Annotator::early_exit`]), if any.
    fn exited(
        &mut self,
        pid: i32,
        nr: u64,
        args: &[u64; 6],
        rval: i64,
        time: Timestamp,
        look: Option<bool>,
    );
    /// The calls whose successful returns are to be looked at early under a kernel-side
    /// source.
    fn early_calls(&self) -> &'static [u64] {
        &[]
    }
    /// A kernel-side source has just read the successful return of `nr` by `pid` at `time`
    /// and hands it to [`Annotator::exited`] later: read now what goes with it.
    fn early_exit(&mut self, _pid: i32, _nr: u64, _rval: i64, _time: Timestamp) {}
    /// Called while `pid` is held, just before one of its syscall events is queued: queue
    /// the notes that changed.
    fn before_line(&mut self, pid: i32, time: Timestamp, mem: &dyn Tracee, out: &mut Vec<Event>);
    /// Fields for the JSON object of a shown call.
    fn call_fields(
        &self,
        _pid: i32,
        _args: &[Value],
        _ret: &Ret,
    ) -> Vec<(&'static str, FieldValue)> {
        Vec::new()
    }
}
