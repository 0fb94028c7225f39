//! Server settings without SQL: postgresql.conf (with include, include_if_exists,
//! include_dir), postgresql.auto.conf, the postmaster's command line, and a backend's live
//! values read from its memory where they differ (a session's `SET work_mem`).

use std::collections::BTreeMap;

/// One setting: its value as written and where it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Setting {
    /// As written, unquoted: `256MB`, `on`, `posix`.
    pub value: String,
    /// `/etc/postgresql/15/main/postgresql.conf:120`, `postgresql.auto.conf:3`,
    /// `command line`, `default`, `backend 1234 memory`.
    pub source: String,
}

/// Settings by lower-case name.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Settings {
    pub map: BTreeMap<String, Setting>,
}

impl Settings {
    pub fn get(&self, name: &str) -> Option<&Setting> {
        self.map.get(&name.to_ascii_lowercase())
    }

    /// A memory or size setting in bytes (`work_mem = 256MB` → 268435456; a bare number in
    /// the setting's own unit: kB for work_mem, maintenance_work_mem; 8kB blocks for
    /// shared_buffers; MB for min_dynamic_shared_memory), falling back to PostgreSQL 15's
    /// default when unset.
    pub fn bytes(&self, name: &str) -> Option<u64> {
        let _ = name;
        None
    }

    /// An integer setting, or PostgreSQL 15's default.
    pub fn int(&self, name: &str) -> Option<i64> {
        let _ = name;
        None
    }

    /// A floating-point setting (`hash_mem_multiplier`), or PostgreSQL 15's default.
    pub fn float(&self, name: &str) -> Option<f64> {
        let _ = name;
        None
    }
}
