//! The one-time note for time calls that reach the kernel from the vDSO: `gettimeofday` and
//! `clock_gettime` normally never enter the kernel; when a traced one comes from `[vdso]`,
//! the vDSO fell back to the syscall because the clocksource cannot be read from user space.

use super::{Frame, Modules};
use crate::remote::maps::ModuleSource;

const SYSFS: &str = "/sys/devices/system/clocksource/clocksource0";

/// Clocksources whose time the x86 vDSO reads in user space.
const VDSO_CAPABLE: &[&str] = &["tsc", "kvm-clock", "hyperv_clocksource_tsc_page"];

/// Whether the x86-64 vDSO can serve time calls with this clocksource.
pub fn vdso_capable(clocksource: &str) -> bool {
    VDSO_CAPABLE.contains(&clocksource.trim())
}

/// The note text for a time syscall seen coming from the vDSO, given the contents of
/// `current_clocksource` and `available_clocksource`.
pub fn fallback_note(syscall: &str, current: &str, available: &str) -> String {
    let current = current.trim();
    let better: Vec<&str> = available
        .split_whitespace()
        .filter(|c| *c != current && vdso_capable(c))
        .collect();
    let mut note = format!(
        "pgstrace: note: {syscall} entered the kernel from [vdso]: the vDSO fell back to a real \
         syscall because the clocksource {current} is not vDSO-capable; every time call pays a \
         syscall"
    );
    if current.is_empty() {
        note = format!(
            "pgstrace: note: {syscall} entered the kernel from [vdso]: the vDSO fell back to a \
             real syscall (the clocksource could not be read from {SYSFS})"
        );
    } else if vdso_capable(current) {
        note = format!(
            "pgstrace: note: {syscall} entered the kernel from [vdso] although the clocksource \
             {current} is vDSO-capable (the kernel may have marked it unstable)"
        );
    } else if better.is_empty() {
        note.push_str(&format!(" (available: {})", available.trim()));
    } else {
        note.push_str(&format!(
            " (available here: {}; {} is vDSO-capable: echo {} > {SYSFS}/current_clocksource)",
            available.trim(),
            better.join(", "),
            better.first().copied().unwrap_or_default(),
        ));
    }
    note
}

/// Whether a stack's top frame lies in the vDSO.
pub fn top_in_vdso(frames: &[Frame], modules: &Modules) -> bool {
    frames
        .first()
        .and_then(|f| modules.list.get(f.module?))
        .is_some_and(|m| m.source == ModuleSource::Vdso)
}

/// Emits the note at most once per session.
#[derive(Debug, Default)]
pub struct ClockNote {
    done: bool,
}

impl ClockNote {
    /// The note, the first time a `gettimeofday`/`clock_gettime`/`time` syscall is seen with
    /// its top frame in the vDSO; reads sysfs then.
    pub fn observe(
        &mut self,
        syscall: &str,
        frames: &[Frame],
        modules: &Modules,
    ) -> Option<String> {
        if self.done
            || !matches!(
                syscall,
                "gettimeofday" | "clock_gettime" | "time" | "clock_getres"
            )
            || !top_in_vdso(frames, modules)
        {
            return None;
        }
        self.done = true;
        let read = |f: &str| std::fs::read_to_string(format!("{SYSFS}/{f}")).unwrap_or_default();
        Some(fallback_note(
            syscall,
            &read("current_clocksource"),
            &read("available_clocksource"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes() {
        let n = fallback_note("clock_gettime", "xen\n", "xen tsc hpet acpi_pm \n");
        assert_eq!(
            n,
            "pgstrace: note: clock_gettime entered the kernel from [vdso]: the vDSO fell back to \
             a real syscall because the clocksource xen is not vDSO-capable; every time call pays \
             a syscall (available here: xen tsc hpet acpi_pm; tsc is vDSO-capable: echo tsc > \
             /sys/devices/system/clocksource/clocksource0/current_clocksource)"
        );
        let n = fallback_note("gettimeofday", "hpet", "hpet acpi_pm");
        assert!(
            n.ends_with(
                "not vDSO-capable; every time call pays a syscall (available: hpet acpi_pm)"
            ),
            "{n}"
        );
        assert!(fallback_note("gettimeofday", "tsc", "tsc").contains("although"));
        assert!(fallback_note("gettimeofday", "", "").contains("could not be read"));
        assert!(vdso_capable("kvm-clock\n") && !vdso_capable("acpi_pm"));
    }

    #[test]
    fn once_and_only_for_vdso_time_calls() {
        let modules = Modules::build(
            Vec::new(),
            &NoEnv,
            &super::super::ImageCache::default(),
            None,
        );
        let mut note = ClockNote::default();
        assert_eq!(note.observe("clock_gettime", &[], &modules), None);
        assert_eq!(note.observe("read", &[], &modules), None);
    }

    struct NoEnv;
    impl super::super::ModuleEnv for NoEnv {
        fn file_bytes(&self, _: &crate::remote::maps::ModuleMaps) -> std::io::Result<Vec<u8>> {
            Err(std::io::ErrorKind::NotFound.into())
        }
        fn read_mem(&self, _: u64, _: &mut [u8]) -> usize {
            0
        }
    }
}
