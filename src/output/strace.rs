//! strace-format text.
