//! Event sources. ptrace today: pure stop classification ([`stop`]), the engine with one
//! guard type per stop kind ([`engine`]), attaching and launching ([`attach`]), the
//! detach signals ([`signals`]), and the adapter that turns stops into neutral events
//! ([`source`]), `--seccomp-bpf`'s filter ([`seccomp`]). Nothing here decodes, formats or
//! symbolizes.

pub mod attach;
pub mod count;
pub mod engine;
pub mod inject;
pub mod perf;
pub mod seccomp;
pub mod signals;
pub mod source;
pub mod stop;

pub use engine::{Engine, Gone, Handler, Outcome, Resume, Stop, Stopped};
pub use signals::{install_detach_signals, interrupted, request_detach};
pub use source::{Consumer, PtraceSource, SourceEvent, StackFor, Timestamp};
