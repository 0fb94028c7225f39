//! Dynamic shared memory segments by name: `PostgreSQL.N` files in /dev/shm (with
//! `dynamic_shared_memory_type = posix`), as paths, as decoded syscall values.

use crate::syscalls::{Ret, Value};

/// Whether a /dev/shm file name is a DSM segment's: `PostgreSQL.` and a decimal handle.
pub fn is_segment_name(name: &str) -> bool {
    name.strip_prefix("PostgreSQL.")
        .is_some_and(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_digit()))
}

/// `PostgreSQL.N` when `path` is a DSM segment's file (`/dev/shm/PostgreSQL.N`).
pub fn segment_of_path(path: &str) -> Option<&str> {
    let name = path.strip_prefix("/dev/shm/")?;
    is_segment_name(name).then_some(name)
}

/// The segment an fd value (`-y`: `3</dev/shm/PostgreSQL.N>`) refers to.
pub fn segment_of_fd(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::Fd { path: Some(p), .. } => segment_of_path(p).map(str::to_string),
        _ => None,
    }
}

/// The segment a path argument (`"/dev/shm/PostgreSQL.N"`) names.
pub fn segment_of_str(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::Str { bytes, .. } => std::str::from_utf8(bytes)
            .ok()
            .and_then(segment_of_path)
            .map(str::to_string),
        _ => None,
    }
}

/// The first segment named by a call's arguments or its return value.
pub fn segment_of_call(args: &[Value], ret: &Ret) -> Option<String> {
    fn in_ret(r: &Ret) -> Option<String> {
        match r {
            Ret::Fd { path: Some(p), .. } => segment_of_path(p).map(str::to_string),
            Ret::Annotated { value, .. } => in_ret(value),
            _ => None,
        }
    }
    args.iter()
        .find_map(|v| segment_of_fd(Some(v)).or_else(|| segment_of_str(Some(v))))
        .or_else(|| in_ret(ret))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(is_segment_name("PostgreSQL.1306624952"));
        assert!(!is_segment_name("PostgreSQL."));
        assert!(!is_segment_name("PostgreSQL.12x"));
        assert!(!is_segment_name("sem.foo"));
        assert_eq!(
            segment_of_path("/dev/shm/PostgreSQL.123"),
            Some("PostgreSQL.123")
        );
        assert_eq!(segment_of_path("/dev/shm/PostgreSQL."), None);
        assert_eq!(segment_of_path("/dev/shm/other"), None);
        assert_eq!(segment_of_path("/tmp/PostgreSQL.1"), None);
    }

    #[test]
    fn segments_of_calls() {
        let fd = Value::Fd {
            fd: 3,
            path: Some("/dev/shm/PostgreSQL.77".into()),
        };
        assert_eq!(
            segment_of_call(&[fd, Value::Int(0)], &Ret::Int(0)).as_deref(),
            Some("PostgreSQL.77")
        );
        let ret = Ret::Fd {
            fd: 4,
            path: Some("/dev/shm/PostgreSQL.9".into()),
        };
        assert_eq!(segment_of_call(&[], &ret).as_deref(), Some("PostgreSQL.9"));
        assert_eq!(segment_of_call(&[Value::Int(1)], &Ret::Int(0)), None);
    }
}
