//! A network namespace of a test's own, for traces of the host's interfaces that must not
//! change between the strace run and the pgstrace run.
#![allow(dead_code)]

use std::process::Command;

/// Runs `f` on a thread of its own in a new network namespace (the thread's; the processes
/// it starts inherit it, the rest of the test binary does not), after `ip` has run each of
/// `setup` there. The namespace goes with the thread.
pub fn in_private_netns(
    setup: &'static [&'static [&'static str]],
    f: impl FnOnce() + Send + 'static,
) {
    let worker = std::thread::spawn(move || {
        nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET)
            .unwrap_or_else(|e| panic!("unshare(CLONE_NEWNET): {e}"));
        for args in setup {
            let out = Command::new("ip")
                .args(*args)
                .output()
                .unwrap_or_else(|e| panic!("ip (iproute2) not runnable: {e}"));
            assert!(
                out.status.success(),
                "ip {}: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        f();
    });
    if let Err(e) = worker.join() {
        std::panic::resume_unwind(e);
    }
}
