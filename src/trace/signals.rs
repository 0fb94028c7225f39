//! SIGINT, SIGTERM and SIGHUP make the tracer detach cleanly.
//!
//! The handler only sets a flag. The wait loop checks it before every `waitpid`; a signal that
//! lands in between would leave the loop blocked until the next tracee stop (which, for a
//! sleeping backend, may never come), so the handler also arms a repeating timer whose
//! SIGALRM keeps interrupting `waitpid` with EINTR until the loop has seen the flag.

use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);
/// The first detach signal that arrived (0: none; a detach asked for by pgstrace itself).
static SIGNAL: AtomicI32 = AtomicI32::new(0);
/// The flush timer fired: buffered trace output should be written out.
static FLUSH_DUE: AtomicBool = AtomicBool::new(false);

extern "C" fn on_detach_signal(sig: libc::c_int) {
    let _ = SIGNAL.compare_exchange(0, sig, Ordering::SeqCst, Ordering::SeqCst);
    INTERRUPTED.store(true, Ordering::SeqCst);
    let tick = libc::timeval {
        tv_sec: 0,
        tv_usec: 50_000,
    };
    let it = libc::itimerval {
        it_interval: tick,
        it_value: tick,
    };
    // SAFETY: setitimer is a plain syscall, safe to call from a signal handler.
    unsafe {
        libc::setitimer(libc::ITIMER_REAL, &it, std::ptr::null_mut());
    }
}

extern "C" fn on_alarm(_sig: libc::c_int) {
    FLUSH_DUE.store(true, Ordering::SeqCst);
}

/// Arms a one-shot timer whose SIGALRM marks buffered output as due for writing (and
/// interrupts a blocked `waitpid`), so that `-o FILE` is written within `ms` milliseconds
/// of a line without a write per line.
pub fn arm_flush_timer(ms: u32) {
    let it = libc::itimerval {
        it_interval: libc::timeval {
            tv_sec: 0,
            tv_usec: 0,
        },
        it_value: libc::timeval {
            tv_sec: libc::time_t::from(ms / 1000),
            tv_usec: libc::suseconds_t::from((ms % 1000) * 1000),
        },
    };
    // SAFETY: setitimer with a valid itimerval.
    unsafe {
        libc::setitimer(libc::ITIMER_REAL, &it, std::ptr::null_mut());
    }
}

/// Whether the flush timer fired since the last call.
pub fn take_flush_due() -> bool {
    FLUSH_DUE.swap(false, Ordering::SeqCst)
}

fn install(sig: libc::c_int, handler: extern "C" fn(libc::c_int)) {
    // SAFETY: installing a handler that only touches an atomic and calls setitimer; no
    // SA_RESTART so that a blocked waitpid returns EINTR.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = handler as usize;
        libc::sigemptyset(&mut sa.sa_mask);
        sa.sa_flags = 0;
        libc::sigaction(sig, &sa, std::ptr::null_mut());
    }
}

/// Installs the flag-setting handlers for SIGINT, SIGTERM and SIGHUP (and the flush timer's
/// SIGALRM). Called first thing in `main`, so that a signal in the first milliseconds can
/// never kill pgstrace by the default action after it seized a tracee.
pub fn catch_detach_signals() {
    install(libc::SIGALRM, on_alarm);
    for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        install(sig, on_detach_signal);
    }
}

/// For commands that trace nothing: SIGINT, SIGTERM and SIGHUP get their default actions
/// back, and one that arrived already ends the process now, as it would have.
pub fn default_detach_signals() {
    // SAFETY: setting default dispositions.
    unsafe {
        for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
            libc::signal(sig, libc::SIG_DFL);
        }
    }
    if interrupted() {
        std::process::exit(130);
    }
}

/// Installs the detach handlers. With a launched command, SIGINT and SIGQUIT from the
/// terminal reach the command itself and we report what it does with them, as strace does, so
/// they are ignored here; SIGTERM and SIGHUP still detach.
pub fn install_detach_signals(launched: bool) {
    install(libc::SIGTERM, on_detach_signal);
    install(libc::SIGHUP, on_detach_signal);
    install(libc::SIGALRM, on_alarm);
    if launched {
        // SAFETY: setting dispositions to SIG_IGN.
        unsafe {
            libc::signal(libc::SIGINT, libc::SIG_IGN);
            libc::signal(libc::SIGQUIT, libc::SIG_IGN);
        }
    } else {
        install(libc::SIGINT, on_detach_signal);
    }
}

/// Whether a detach signal arrived.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// The detach signal that ended the trace, if one did.
pub fn detach_signal() -> Option<i32> {
    Some(SIGNAL.load(Ordering::SeqCst)).filter(|&s| s != 0)
}

/// The exit status after detaching: what strace's caller sees after strace re-raised the
/// signal (128 + it: 130 for SIGINT), 0 when nothing but the tracees' ends stopped it.
pub fn detached_exit_code() -> i32 {
    detach_signal().map_or(0, |s| 128 + s)
}

/// Asks the wait loop to detach from everything, as a detach signal would (used when the
/// trace output cannot be written any more).
pub fn request_detach() {
    INTERRUPTED.store(true, Ordering::SeqCst);
}
