//! errno names and messages, including the kernel-internal restart codes.
//!
//! strace 6.1 prints an error return as `-1 ENAME (message)`; the kernel-internal
//! restart codes as `? ERESTARTSYS (message)`; numbers it has no name for as
//! `-1 (errno N)`. [`describe`] builds the part after `-1 `/`? `.
//!
//! The messages are glibc 2.36's `strerror` texts, tabulated (not fetched at run time)
//! so they are thread-safe and do not depend on the locale. Verified against strace
//! 6.1 by forcing every errno with a seccomp `SECCOMP_RET_ERRNO` filter.

/// Names and glibc messages for errno 0..=133, indexed by number. For shared numbers
/// the name is the one strace prints (EAGAIN, EDEADLK, EOPNOTSUPP).
static BASE: [Option<(&str, &str)>; 134] = [
    None,                                                                 // 0
    Some(("EPERM", "Operation not permitted")),                           // 1
    Some(("ENOENT", "No such file or directory")),                        // 2
    Some(("ESRCH", "No such process")),                                   // 3
    Some(("EINTR", "Interrupted system call")),                           // 4
    Some(("EIO", "Input/output error")),                                  // 5
    Some(("ENXIO", "No such device or address")),                         // 6
    Some(("E2BIG", "Argument list too long")),                            // 7
    Some(("ENOEXEC", "Exec format error")),                               // 8
    Some(("EBADF", "Bad file descriptor")),                               // 9
    Some(("ECHILD", "No child processes")),                               // 10
    Some(("EAGAIN", "Resource temporarily unavailable")),                 // 11
    Some(("ENOMEM", "Cannot allocate memory")),                           // 12
    Some(("EACCES", "Permission denied")),                                // 13
    Some(("EFAULT", "Bad address")),                                      // 14
    Some(("ENOTBLK", "Block device required")),                           // 15
    Some(("EBUSY", "Device or resource busy")),                           // 16
    Some(("EEXIST", "File exists")),                                      // 17
    Some(("EXDEV", "Invalid cross-device link")),                         // 18
    Some(("ENODEV", "No such device")),                                   // 19
    Some(("ENOTDIR", "Not a directory")),                                 // 20
    Some(("EISDIR", "Is a directory")),                                   // 21
    Some(("EINVAL", "Invalid argument")),                                 // 22
    Some(("ENFILE", "Too many open files in system")),                    // 23
    Some(("EMFILE", "Too many open files")),                              // 24
    Some(("ENOTTY", "Inappropriate ioctl for device")),                   // 25
    Some(("ETXTBSY", "Text file busy")),                                  // 26
    Some(("EFBIG", "File too large")),                                    // 27
    Some(("ENOSPC", "No space left on device")),                          // 28
    Some(("ESPIPE", "Illegal seek")),                                     // 29
    Some(("EROFS", "Read-only file system")),                             // 30
    Some(("EMLINK", "Too many links")),                                   // 31
    Some(("EPIPE", "Broken pipe")),                                       // 32
    Some(("EDOM", "Numerical argument out of domain")),                   // 33
    Some(("ERANGE", "Numerical result out of range")),                    // 34
    Some(("EDEADLK", "Resource deadlock avoided")),                       // 35
    Some(("ENAMETOOLONG", "File name too long")),                         // 36
    Some(("ENOLCK", "No locks available")),                               // 37
    Some(("ENOSYS", "Function not implemented")),                         // 38
    Some(("ENOTEMPTY", "Directory not empty")),                           // 39
    Some(("ELOOP", "Too many levels of symbolic links")),                 // 40
    None,                                                                 // 41
    Some(("ENOMSG", "No message of desired type")),                       // 42
    Some(("EIDRM", "Identifier removed")),                                // 43
    Some(("ECHRNG", "Channel number out of range")),                      // 44
    Some(("EL2NSYNC", "Level 2 not synchronized")),                       // 45
    Some(("EL3HLT", "Level 3 halted")),                                   // 46
    Some(("EL3RST", "Level 3 reset")),                                    // 47
    Some(("ELNRNG", "Link number out of range")),                         // 48
    Some(("EUNATCH", "Protocol driver not attached")),                    // 49
    Some(("ENOCSI", "No CSI structure available")),                       // 50
    Some(("EL2HLT", "Level 2 halted")),                                   // 51
    Some(("EBADE", "Invalid exchange")),                                  // 52
    Some(("EBADR", "Invalid request descriptor")),                        // 53
    Some(("EXFULL", "Exchange full")),                                    // 54
    Some(("ENOANO", "No anode")),                                         // 55
    Some(("EBADRQC", "Invalid request code")),                            // 56
    Some(("EBADSLT", "Invalid slot")),                                    // 57
    None,                                                                 // 58
    Some(("EBFONT", "Bad font file format")),                             // 59
    Some(("ENOSTR", "Device not a stream")),                              // 60
    Some(("ENODATA", "No data available")),                               // 61
    Some(("ETIME", "Timer expired")),                                     // 62
    Some(("ENOSR", "Out of streams resources")),                          // 63
    Some(("ENONET", "Machine is not on the network")),                    // 64
    Some(("ENOPKG", "Package not installed")),                            // 65
    Some(("EREMOTE", "Object is remote")),                                // 66
    Some(("ENOLINK", "Link has been severed")),                           // 67
    Some(("EADV", "Advertise error")),                                    // 68
    Some(("ESRMNT", "Srmount error")),                                    // 69
    Some(("ECOMM", "Communication error on send")),                       // 70
    Some(("EPROTO", "Protocol error")),                                   // 71
    Some(("EMULTIHOP", "Multihop attempted")),                            // 72
    Some(("EDOTDOT", "RFS specific error")),                              // 73
    Some(("EBADMSG", "Bad message")),                                     // 74
    Some(("EOVERFLOW", "Value too large for defined data type")),         // 75
    Some(("ENOTUNIQ", "Name not unique on network")),                     // 76
    Some(("EBADFD", "File descriptor in bad state")),                     // 77
    Some(("EREMCHG", "Remote address changed")),                          // 78
    Some(("ELIBACC", "Can not access a needed shared library")),          // 79
    Some(("ELIBBAD", "Accessing a corrupted shared library")),            // 80
    Some(("ELIBSCN", ".lib section in a.out corrupted")),                 // 81
    Some(("ELIBMAX", "Attempting to link in too many shared libraries")), // 82
    Some(("ELIBEXEC", "Cannot exec a shared library directly")),          // 83
    Some((
        "EILSEQ",
        "Invalid or incomplete multibyte or wide character",
    )), // 84
    Some(("ERESTART", "Interrupted system call should be restarted")),    // 85
    Some(("ESTRPIPE", "Streams pipe error")),                             // 86
    Some(("EUSERS", "Too many users")),                                   // 87
    Some(("ENOTSOCK", "Socket operation on non-socket")),                 // 88
    Some(("EDESTADDRREQ", "Destination address required")),               // 89
    Some(("EMSGSIZE", "Message too long")),                               // 90
    Some(("EPROTOTYPE", "Protocol wrong type for socket")),               // 91
    Some(("ENOPROTOOPT", "Protocol not available")),                      // 92
    Some(("EPROTONOSUPPORT", "Protocol not supported")),                  // 93
    Some(("ESOCKTNOSUPPORT", "Socket type not supported")),               // 94
    Some(("EOPNOTSUPP", "Operation not supported")),                      // 95
    Some(("EPFNOSUPPORT", "Protocol family not supported")),              // 96
    Some(("EAFNOSUPPORT", "Address family not supported by protocol")),   // 97
    Some(("EADDRINUSE", "Address already in use")),                       // 98
    Some(("EADDRNOTAVAIL", "Cannot assign requested address")),           // 99
    Some(("ENETDOWN", "Network is down")),                                // 100
    Some(("ENETUNREACH", "Network is unreachable")),                      // 101
    Some(("ENETRESET", "Network dropped connection on reset")),           // 102
    Some(("ECONNABORTED", "Software caused connection abort")),           // 103
    Some(("ECONNRESET", "Connection reset by peer")),                     // 104
    Some(("ENOBUFS", "No buffer space available")),                       // 105
    Some(("EISCONN", "Transport endpoint is already connected")),         // 106
    Some(("ENOTCONN", "Transport endpoint is not connected")),            // 107
    Some(("ESHUTDOWN", "Cannot send after transport endpoint shutdown")), // 108
    Some(("ETOOMANYREFS", "Too many references: cannot splice")),         // 109
    Some(("ETIMEDOUT", "Connection timed out")),                          // 110
    Some(("ECONNREFUSED", "Connection refused")),                         // 111
    Some(("EHOSTDOWN", "Host is down")),                                  // 112
    Some(("EHOSTUNREACH", "No route to host")),                           // 113
    Some(("EALREADY", "Operation already in progress")),                  // 114
    Some(("EINPROGRESS", "Operation now in progress")),                   // 115
    Some(("ESTALE", "Stale file handle")),                                // 116
    Some(("EUCLEAN", "Structure needs cleaning")),                        // 117
    Some(("ENOTNAM", "Not a XENIX named type file")),                     // 118
    Some(("ENAVAIL", "No XENIX semaphores available")),                   // 119
    Some(("EISNAM", "Is a named type file")),                             // 120
    Some(("EREMOTEIO", "Remote I/O error")),                              // 121
    Some(("EDQUOT", "Disk quota exceeded")),                              // 122
    Some(("ENOMEDIUM", "No medium found")),                               // 123
    Some(("EMEDIUMTYPE", "Wrong medium type")),                           // 124
    Some(("ECANCELED", "Operation canceled")),                            // 125
    Some(("ENOKEY", "Required key not available")),                       // 126
    Some(("EKEYEXPIRED", "Key has expired")),                             // 127
    Some(("EKEYREVOKED", "Key has been revoked")),                        // 128
    Some(("EKEYREJECTED", "Key was rejected by service")),                // 129
    Some(("EOWNERDEAD", "Owner died")),                                   // 130
    Some(("ENOTRECOVERABLE", "State not recoverable")),                   // 131
    Some(("ERFKILL", "Operation not possible due to RF-kill")),           // 132
    Some(("EHWPOISON", "Memory page has hardware error")),                // 133
];

/// Kernel-internal codes 512..=530 (never reach user space except through ptrace or
/// seccomp) as strace 6.1 names them. strace's message is its own for the four restart
/// codes and glibc's "Unknown error N" for the rest. 519 (ENOPARAM) and 520 are
/// unnamed in strace 6.1: it prints `-1 (errno 519)`.
static INTERNAL: [Option<(&str, Option<&str>)>; 19] = [
    Some(("ERESTARTSYS", Some("To be restarted if SA_RESTART is set"))), // 512
    Some(("ERESTARTNOINTR", Some("To be restarted"))),                   // 513
    Some(("ERESTARTNOHAND", Some("To be restarted if no handler"))),     // 514
    Some(("ENOIOCTLCMD", None)),                                         // 515
    Some(("ERESTART_RESTARTBLOCK", Some("Interrupted by signal"))),      // 516
    Some(("EPROBE_DEFER", None)),                                        // 517
    Some(("EOPENSTALE", None)),                                          // 518
    None,                                                                // 519 ENOPARAM
    None,                                                                // 520
    Some(("EBADHANDLE", None)),                                          // 521
    Some(("ENOTSYNC", None)),                                            // 522
    Some(("EBADCOOKIE", None)),                                          // 523
    Some(("ENOTSUPP", None)),                                            // 524
    Some(("ETOOSMALL", None)),                                           // 525
    Some(("ESERVERFAULT", None)),                                        // 526
    Some(("EBADTYPE", None)),                                            // 527
    Some(("EJUKEBOX", None)),                                            // 528
    Some(("EIOCBQUEUED", None)),                                         // 529
    Some(("ERECALLCONFLICT", None)),                                     // 530
];

const INTERNAL_FIRST: i64 = 512;

/// Names accepted by [`by_name`] that [`name`] never returns: aliases of shared
/// numbers, and ENOPARAM which strace 6.1 does not name.
static ALIASES: [(&str, i64); 4] = [
    ("EWOULDBLOCK", 11),
    ("EDEADLOCK", 35),
    ("ENOTSUP", 95),
    ("ENOPARAM", 519),
];

fn base_entry(errno: i64) -> Option<(&'static str, &'static str)> {
    usize::try_from(errno)
        .ok()
        .and_then(|i| BASE.get(i).copied().flatten())
}

fn internal_entry(errno: i64) -> Option<(&'static str, Option<&'static str>)> {
    errno
        .checked_sub(INTERNAL_FIRST)
        .and_then(|i| usize::try_from(i).ok())
        .and_then(|i| INTERNAL.get(i).copied().flatten())
}

/// `ENOSPC` for 28; `None` for numbers without a name.
#[allow(dead_code)] // until the output formatter calls it
pub fn name(errno: i64) -> Option<&'static str> {
    base_entry(errno)
        .map(|(n, _)| n)
        .or_else(|| internal_entry(errno).map(|(n, _)| n))
}

/// `No space left on device` for 28; strace's texts for ERESTARTSYS and friends;
/// `Unknown error N` otherwise (glibc's text, which strace shows for 515 etc.).
#[allow(dead_code)] // until the output formatter calls it
pub fn message(errno: i64) -> String {
    if errno == 0 {
        return "Success".to_string();
    }
    if let Some((_, m)) = base_entry(errno) {
        return m.to_string();
    }
    if let Some((_, Some(m))) = internal_entry(errno) {
        return m.to_string();
    }
    format!("Unknown error {errno}")
}

/// The text strace prints after `-1 ` (or `? ` for restarts): `ENOENT (No such file
/// or directory)`, or `(errno 41)` for a number without a name.
#[allow(dead_code)] // until the output formatter calls it
pub fn describe(errno: i64) -> String {
    match name(errno) {
        Some(n) => format!("{n} ({})", message(errno)),
        None => format!("(errno {errno})"),
    }
}

/// True for the restart codes strace shows as `= ?` instead of `= -1`
/// (ERESTARTSYS, ERESTARTNOINTR, ERESTARTNOHAND, ERESTART_RESTARTBLOCK).
#[allow(dead_code)] // until the output formatter calls it
pub fn is_restart(errno: i64) -> bool {
    matches!(errno, 512..=514 | 516)
}

/// The number of errno `name` (`ENOSPC`, also aliases such as `EWOULDBLOCK`).
#[allow(dead_code)] // until the output formatter calls it
pub fn by_name(name: &str) -> Option<i64> {
    let base = BASE
        .iter()
        .zip(0i64..)
        .find(|(e, _)| matches!(e, Some((n, _)) if *n == name))
        .map(|(_, i)| i);
    let internal = || {
        INTERNAL
            .iter()
            .zip(INTERNAL_FIRST..)
            .find(|(e, _)| matches!(e, Some((n, _)) if *n == name))
            .map(|(_, i)| i)
    };
    let alias = || ALIASES.iter().find(|(n, _)| *n == name).map(|&(_, v)| v);
    base.or_else(internal).or_else(alias)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_names_and_messages() {
        assert_eq!(name(1), Some("EPERM"));
        assert_eq!(name(2), Some("ENOENT"));
        assert_eq!(name(28), Some("ENOSPC"));
        assert_eq!(message(28), "No space left on device");
        assert_eq!(message(2), "No such file or directory");
        assert_eq!(name(133), Some("EHWPOISON"));
        assert_eq!(message(133), "Memory page has hardware error");
        assert_eq!(describe(2), "ENOENT (No such file or directory)");
    }

    #[test]
    fn shared_numbers_use_strace_spelling() {
        assert_eq!(name(11), Some("EAGAIN"));
        assert_eq!(name(35), Some("EDEADLK"));
        assert_eq!(name(95), Some("EOPNOTSUPP"));
        assert_eq!(by_name("EWOULDBLOCK"), Some(11));
        assert_eq!(by_name("EDEADLOCK"), Some(35));
        assert_eq!(by_name("ENOTSUP"), Some(95));
    }

    #[test]
    fn internal_codes_as_strace_prints_them() {
        assert_eq!(
            describe(512),
            "ERESTARTSYS (To be restarted if SA_RESTART is set)"
        );
        assert_eq!(describe(513), "ERESTARTNOINTR (To be restarted)");
        assert_eq!(
            describe(514),
            "ERESTARTNOHAND (To be restarted if no handler)"
        );
        assert_eq!(describe(515), "ENOIOCTLCMD (Unknown error 515)");
        assert_eq!(
            describe(516),
            "ERESTART_RESTARTBLOCK (Interrupted by signal)"
        );
        assert_eq!(describe(530), "ERECALLCONFLICT (Unknown error 530)");
        assert_eq!(describe(519), "(errno 519)");
        assert_eq!(by_name("ENOPARAM"), Some(519));
        assert!(is_restart(512) && is_restart(516) && !is_restart(515));
    }

    #[test]
    fn gaps_and_out_of_range() {
        for n in [0, 41, 58, 134, 300, 520, 531, 4095, -1, i64::MIN, i64::MAX] {
            assert_eq!(name(n), None, "{n}");
        }
        assert_eq!(describe(41), "(errno 41)");
        assert_eq!(message(300), "Unknown error 300");
        assert_eq!(message(-5), "Unknown error -5");
        assert_eq!(by_name("ENOTHING"), None);
        assert_eq!(by_name(""), None);
    }

    #[test]
    fn by_name_inverts_name() {
        let mut count = 0;
        for n in 0..=600 {
            if let Some(s) = name(n) {
                assert_eq!(by_name(s), Some(n), "{s}");
                count += 1;
            }
        }
        // 131 named numbers up to 133, 17 named internal codes.
        assert_eq!(count, 131 + 17);
    }

    #[test]
    fn messages_match_glibc() {
        // The table was generated from this libc; keep it honest.
        for n in 1..=140i64 {
            let mut buf = [0u8; 256];
            let Ok(c) = i32::try_from(n) else { continue };
            // SAFETY: buf is writable for its whole length. libc binds the XSI variant,
            // which fills buf (also "Unknown error N" for unknown numbers).
            unsafe { libc::strerror_r(c, buf.as_mut_ptr().cast(), buf.len()) };
            let Ok(s) = std::ffi::CStr::from_bytes_until_nul(&buf) else {
                panic!("no NUL for {n}")
            };
            assert_eq!(message(n), s.to_string_lossy(), "{n}");
        }
    }
}
