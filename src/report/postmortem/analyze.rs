//! From log entries to failures: one per distinct failed request (a worker's error and its
//! leader's relay of it are one, with both pids), each joined with its statement, leader,
//! the workers' fallout (`could not map dynamic shared memory segment`), siblings terminated,
//! and classified by size and statement; then grouped by statement.
//!
//! Pure: entries in, a [`Report`] out.

use crate::postgres::log::Entry;
use crate::report::shm::model;

/// What a failed request was for (the names, exactly).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    MainSegment,
    SessionSegment,
    DsaGrowth,
    DsaLargeAllocation,
    ParallelVacuum,
    Unknown,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::MainSegment => "main_segment",
            Kind::SessionSegment => "session_segment",
            Kind::DsaGrowth => "dsa_growth",
            Kind::DsaLargeAllocation => "dsa_large_allocation",
            Kind::ParallelVacuum => "parallel_vacuum",
            Kind::Unknown => "unknown",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Kind::MainSegment => {
                "the leader's main parallel segment (ExecInitParallelPlan: about 16 KiB + \
                 80 KiB per worker, plus the plan's shared state)"
            }
            Kind::SessionSegment => {
                "the leader's per-session segment (196,736 bytes, made by a session's first \
                 parallel query)"
            }
            Kind::DsaGrowth => {
                "a DSA growth segment (Parallel Hash or bitmap scan state: segments of \
                 1, 2, 2, 4, 4, 8 ... MiB)"
            }
            Kind::DsaLargeAllocation => {
                "one large DSA allocation in a segment of its own (a Parallel Hash bucket \
                 array)"
            }
            Kind::ParallelVacuum => {
                "parallel VACUUM's segment (the dead-item array, up to maintenance_work_mem)"
            }
            Kind::Unknown => "a dynamic shared memory request of unknown purpose",
        }
    }
}

/// What the failing call was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Resize,
    Open,
    Stat,
    Map,
    Unmap,
    Remove,
    /// `too many dynamic shared memory segments`.
    TooMany,
    /// A backend killed by SIGBUS (the old signature, before fallocate).
    Sigbus,
    /// SQLSTATE 53100 in a message not recognised (a translated server).
    OutOfMemory,
}

impl Op {
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Resize => "resize",
            Op::Open => "open",
            Op::Stat => "stat",
            Op::Map => "map",
            Op::Unmap => "unmap",
            Op::Remove => "remove",
            Op::TooMany => "too_many_segments",
            Op::Sigbus => "sigbus",
            Op::OutOfMemory => "out_of_memory",
        }
    }
}

/// One failed request.
#[derive(Clone, Debug, PartialEq)]
pub struct Failure {
    pub time: Option<String>,
    pub epoch: Option<f64>,
    /// Every process that reported it (the worker, the leader relaying it).
    pub pids: Vec<u32>,
    pub leader_pid: Option<u32>,
    pub segment: Option<String>,
    pub size: Option<u64>,
    pub op: Op,
    /// The errno text (`No space left on device`).
    pub reason: Option<String>,
    pub message: String,
    pub kind: Kind,
    pub statement: Option<String>,
    /// Workers that started after the leader failed and could not map the segment.
    pub fallout: u32,
    pub fallout_pids: Vec<u32>,
    /// Sibling workers terminated because of it.
    pub siblings_terminated: u32,
    /// A crash-restart followed (SIGBUS).
    pub restarted: bool,
}

/// Failures of one statement.
#[derive(Clone, Debug, PartialEq)]
pub struct ByStatement {
    pub statement: String,
    pub count: u32,
    pub first: Option<String>,
    pub last: Option<String>,
    pub largest: u64,
    pub kinds: Vec<Kind>,
    /// /dev/shm one run of it would have needed, at least.
    pub needed: u64,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Report {
    pub failures: Vec<Failure>,
    pub by_statement: Vec<ByStatement>,
    /// The largest of the statements' needs.
    pub needed: u64,
}

/// `could not resize shared memory segment "/PostgreSQL.N" to SIZE bytes: REASON` and the
/// other texts: (op, segment, size, reason).
/// A recognised DSM error: (op, segment, size, reason).
type DsmError = (Op, Option<String>, Option<u64>, Option<String>);

fn dsm_error(msg: &str) -> Option<DsmError> {
    let quoted = || {
        let a = msg.find('"')?;
        let b = msg[a + 1..].find('"')?;
        Some(msg[a + 1..a + 1 + b].to_string())
    };
    let reason = || msg.rsplit_once(": ").map(|(_, r)| r.to_string());
    if msg.starts_with("too many dynamic shared memory segments") {
        return Some((Op::TooMany, None, None, None));
    }
    for (word, op) in [
        ("resize", Op::Resize),
        ("open", Op::Open),
        ("stat", Op::Stat),
        ("map", Op::Map),
        ("unmap", Op::Unmap),
        ("remove", Op::Remove),
    ] {
        if msg.starts_with(&format!("could not {word} shared memory segment")) {
            let size = msg
                .split_once("\" to ")
                .and_then(|(_, r)| r.split_whitespace().next()?.parse().ok());
            return Some((op, quoted(), size, reason()));
        }
    }
    None
}

/// The size and the statement say what a request was for.
pub fn classify(size: Option<u64>, statement: Option<&str>) -> Kind {
    let Some(size) = size else {
        return Kind::Unknown;
    };
    const MIB: u64 = 1 << 20;
    let vacuum = statement.is_some_and(|s| {
        s.split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
            .any(|w| w.eq_ignore_ascii_case("vacuum"))
    });
    let growth = size >= MIB && size % MIB == 0 && (size / MIB).is_power_of_two();
    if growth {
        return Kind::DsaGrowth;
    }
    if vacuum {
        return Kind::ParallelVacuum;
    }
    if size == 196_736 {
        return Kind::SessionSegment;
    }
    // A bucket array of 2^k MiB and a few pages of header and page map.
    let base = size.checked_next_power_of_two().map(|p| p / 2).unwrap_or(0);
    if size > MIB && base >= MIB && size - base <= 512 * 1024 {
        return Kind::DsaLargeAllocation;
    }
    if size < 8 * MIB {
        return Kind::MainSegment;
    }
    Kind::Unknown
}

/// /dev/shm one run needed at least, when its request of `size` failed.
fn needed(kind: Kind, size: u64) -> u64 {
    let session = 196_736;
    let main = model::main_segment(2);
    match kind {
        Kind::SessionSegment => size,
        Kind::MainSegment => session + size,
        Kind::DsaGrowth => {
            // Every earlier segment of the series was there, and this one.
            let mut sum = 0u64;
            let mut i = 1;
            while i < 64 {
                let s = model::dsa_segment_size(i);
                sum += s;
                if s >= size {
                    break;
                }
                i += 1;
            }
            session + main + sum
        }
        Kind::DsaLargeAllocation => session + main + size,
        Kind::ParallelVacuum | Kind::Unknown => size,
    }
}

fn same_request(
    f: &Failure,
    op: Op,
    segment: &Option<String>,
    size: Option<u64>,
    epoch: Option<f64>,
) -> bool {
    f.op == op
        && segment.is_some()
        && f.segment == *segment
        && f.size == size
        && match (f.epoch, epoch) {
            (Some(a), Some(b)) => (a - b).abs() < 60.0,
            _ => true,
        }
}

/// Builds failures from entries in time order.
pub fn analyze(entries: &[Entry]) -> Report {
    let mut failures: Vec<Failure> = Vec::new();
    let recent = |failures: &mut Vec<Failure>, e: &Entry| -> Option<usize> {
        let t = e.epoch;
        failures.iter().rposition(|f| match (f.epoch, t) {
            (Some(a), Some(b)) => b - a >= -1.0 && b - a < 10.0,
            _ => true,
        })
    };
    for e in entries {
        let msg = e.message.as_str();
        if msg.starts_with("could not map dynamic shared memory segment") {
            // A worker started after its leader gave up: fallout, not a failure.
            if let Some(i) = recent(&mut failures, e) {
                failures[i].fallout += 1;
                if let Some(p) = e.pid
                    && !failures[i].fallout_pids.contains(&p)
                {
                    failures[i].fallout_pids.push(p);
                }
            }
            continue;
        }
        if msg.starts_with("terminating background worker \"parallel worker\"") {
            if let Some(i) = recent(&mut failures, e) {
                failures[i].siblings_terminated += 1;
            }
            continue;
        }
        if msg.contains("terminated by signal 7") {
            let pid = msg
                .split_once("(PID ")
                .and_then(|(_, r)| r.split(')').next()?.parse().ok());
            failures.push(Failure {
                time: e.time.clone(),
                epoch: e.epoch,
                pids: pid.into_iter().collect(),
                leader_pid: pid,
                segment: None,
                size: None,
                op: Op::Sigbus,
                reason: Some("Bus error (a full /dev/shm before PostgreSQL used fallocate)".into()),
                message: msg.to_string(),
                kind: Kind::Unknown,
                statement: None,
                fallout: 0,
                fallout_pids: Vec::new(),
                siblings_terminated: 0,
                restarted: false,
            });
            continue;
        }
        if msg.contains("reinitializing")
            || msg.contains("terminating any other active server processes")
        {
            if let Some(f) = failures.iter_mut().rev().find(|f| f.op == Op::Sigbus) {
                f.restarted = true;
            }
            continue;
        }
        let parsed = dsm_error(msg).or_else(|| {
            (e.sqlstate.as_deref() == Some("53100")).then(|| {
                // A translated message: the segment's name (whatever quotes a language
                // uses) and the first other number of at least four digits.
                let seg = msg.find("/PostgreSQL.").map(|at| {
                    let digits: String = msg[at + 12..]
                        .chars()
                        .take_while(char::is_ascii_digit)
                        .collect();
                    format!("/PostgreSQL.{digits}")
                });
                let handle = seg.as_deref().map(|s| s[12..].to_string());
                let size = msg
                    .split(|c: char| !c.is_ascii_digit())
                    .filter(|t| t.len() >= 4 && Some(*t) != handle.as_deref())
                    .find_map(|t| t.parse::<u64>().ok());
                (Op::OutOfMemory, seg, size, None)
            })
        });
        let Some((op, segment, size, reason)) = parsed else {
            continue;
        };
        if !matches!(e.severity.as_str(), "ERROR" | "FATAL" | "PANIC" | "WARNING")
            && e.sqlstate.as_deref() != Some("53100")
            && e.severity.is_ascii()
        {
            continue;
        }
        let relayed = e
            .context
            .as_deref()
            .is_some_and(|c| c.contains("parallel worker"));
        let worker = e.backend_type.as_deref() == Some("parallel worker");
        if let Some(f) = failures
            .iter_mut()
            .rev()
            .find(|f| same_request(f, op, &segment, size, e.epoch))
        {
            if let Some(p) = e.pid
                && !f.pids.contains(&p)
            {
                f.pids.push(p);
            }
            if relayed {
                f.leader_pid = e.pid;
            }
            if f.statement.is_none() {
                f.statement = e.statement.clone();
            }
            continue;
        }
        let leader = if worker || (!relayed && e.leader_pid.is_some()) {
            e.leader_pid
        } else if relayed || e.backend_type.as_deref() == Some("client backend") {
            e.pid
        } else {
            // A worker's own error in stderr names no leader; a leader's error is its own.
            None
        };
        failures.push(Failure {
            time: e.time.clone(),
            epoch: e.epoch,
            pids: e.pid.into_iter().collect(),
            leader_pid: leader,
            segment,
            size,
            op,
            reason,
            message: msg.to_string(),
            kind: Kind::Unknown,
            statement: e.statement.clone(),
            fallout: 0,
            fallout_pids: Vec::new(),
            siblings_terminated: 0,
            restarted: false,
        });
    }
    for f in &mut failures {
        if f.op == Op::Resize || f.op == Op::OutOfMemory {
            f.kind = classify(f.size, f.statement.as_deref());
        }
        // A leader alone with its error is its own leader: its own segments, or workers
        // that started after it failed (only a leader's failure leaves those).
        let leaders_own = !matches!(f.kind, Kind::DsaGrowth | Kind::DsaLargeAllocation);
        if f.leader_pid.is_none() && f.pids.len() == 1 && (leaders_own || f.fallout > 0) {
            f.leader_pid = f.pids.first().copied();
        }
    }
    // A worker's own failure next to its sibling's relayed one: the same leader.
    for i in 0..failures.len() {
        if failures[i].leader_pid.is_some() {
            continue;
        }
        let (t, st) = (failures[i].epoch, failures[i].statement.clone());
        let leader = failures.iter().find_map(|g| {
            let near = match (g.epoch, t) {
                (Some(a), Some(b)) => (a - b).abs() < 5.0,
                _ => false,
            };
            (near && st.is_some() && g.statement == st).then_some(g.leader_pid?)
        });
        failures[i].leader_pid = leader;
    }
    let mut by: Vec<ByStatement> = Vec::new();
    for f in &failures {
        let st = f
            .statement
            .clone()
            .unwrap_or_else(|| "(statement not logged)".into());
        let need = f.size.map(|s| needed(f.kind, s)).unwrap_or(0);
        match by.iter_mut().find(|b| b.statement == st) {
            Some(b) => {
                b.count += 1;
                b.last = f.time.clone();
                b.largest = b.largest.max(f.size.unwrap_or(0));
                b.needed = b.needed.max(need);
                if !b.kinds.contains(&f.kind) {
                    b.kinds.push(f.kind);
                }
            }
            None => by.push(ByStatement {
                statement: st,
                count: 1,
                first: f.time.clone(),
                last: f.time.clone(),
                largest: f.size.unwrap_or(0),
                kinds: vec![f.kind],
                needed: need,
            }),
        }
    }
    let needed = by.iter().map(|b| b.needed).max().unwrap_or(0);
    Report {
        failures,
        by_statement: by,
        needed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_by_size_and_statement() {
        assert_eq!(classify(Some(196_736), None), Kind::SessionSegment);
        assert_eq!(classify(Some(345_760), None), Kind::MainSegment);
        assert_eq!(classify(Some(181_408), None), Kind::MainSegment);
        assert_eq!(classify(Some(8 << 20), None), Kind::DsaGrowth);
        assert_eq!(classify(Some(1 << 20), None), Kind::DsaGrowth);
        assert_eq!(classify(Some(16_814_080), None), Kind::DsaLargeAllocation);
        assert_eq!(classify(Some(33_624_064), None), Kind::DsaLargeAllocation);
        assert_eq!(
            classify(Some(38_649_216), Some("VACUUM (PARALLEL 2) v;")),
            Kind::ParallelVacuum
        );
        assert_eq!(
            classify(Some(29_120_768), Some("vacuum verbose t")),
            Kind::ParallelVacuum
        );
        assert_eq!(classify(Some(100 << 20), None), Kind::Unknown);
        assert_eq!(classify(None, None), Kind::Unknown);
    }

    #[test]
    fn dsm_texts() {
        let (op, seg, size, reason) = dsm_error(
            "could not resize shared memory segment \"/PostgreSQL.1\" to 196736 bytes: No space left on device",
        )
        .unwrap_or_else(|| panic!("not recognised"));
        assert_eq!(
            (op, seg.as_deref(), size),
            (Op::Resize, Some("/PostgreSQL.1"), Some(196_736))
        );
        assert_eq!(reason.as_deref(), Some("No space left on device"));
        assert_eq!(
            dsm_error(
                "could not open shared memory segment \"/PostgreSQL.2\": No such file or directory"
            )
            .map(|d| d.0),
            Some(Op::Open)
        );
        assert_eq!(
            dsm_error("too many dynamic shared memory segments").map(|d| d.0),
            Some(Op::TooMany)
        );
        assert!(dsm_error("could not resize shared buffers").is_none());
    }

    fn entry(pid: u32, t: f64, msg: &str) -> Entry {
        Entry {
            time: Some(format!("t{t}")),
            epoch: Some(t),
            pid: Some(pid),
            severity: "ERROR".into(),
            message: msg.into(),
            ..Entry::default()
        }
    }

    #[test]
    fn a_relayed_error_is_one_failure_with_both_pids() {
        let msg = "could not resize shared memory segment \"/PostgreSQL.9\" to 8388608 bytes: No space left on device";
        let mut worker = entry(11, 1.0, msg);
        worker.statement = Some("SELECT 1".into());
        let mut leader = entry(10, 1.0, msg);
        leader.context = Some("parallel worker".into());
        leader.statement = Some("SELECT 1".into());
        let mut other = entry(12, 1.01, &msg.replace(".9\"", ".8\""));
        other.statement = Some("SELECT 1".into());
        let mut fallout = entry(13, 1.02, "could not map dynamic shared memory segment");
        fallout.severity = "FATAL".into();
        let r = analyze(&[worker, leader, other, fallout]);
        assert_eq!(r.failures.len(), 2, "{r:#?}");
        let f = &r.failures[0];
        assert_eq!((f.pids.clone(), f.leader_pid), (vec![11, 10], Some(10)));
        assert_eq!(f.kind, Kind::DsaGrowth);
        assert_eq!(r.failures[1].fallout, 1);
        assert_eq!(r.failures[1].fallout_pids, vec![13]);
        assert_eq!(r.failures[1].pids, vec![12]);
        assert_eq!(r.by_statement.len(), 1);
        assert_eq!(r.by_statement[0].count, 2);
        // 1+2+2+4+4+8 MiB of DSA, and the leader's segments.
        assert!(r.needed > 21 << 20, "{}", r.needed);
    }

    #[test]
    fn siblings_terminated_and_a_window_of_time() {
        let msg = "could not resize shared memory segment \"/PostgreSQL.5\" to 2097152 bytes: No space left on device";
        let f = entry(20, 10.0, msg);
        let mut sib = entry(
            21,
            10.2,
            "terminating background worker \"parallel worker\" due to administrator command",
        );
        sib.severity = "FATAL".into();
        // The same segment and size an hour later is another failure.
        let later = entry(22, 3610.0, msg);
        let r = analyze(&[f, sib, later]);
        assert_eq!(r.failures.len(), 2, "{r:#?}");
        assert_eq!(r.failures[0].siblings_terminated, 1);
        assert_eq!(r.failures[1].siblings_terminated, 0);
        assert_eq!(r.by_statement[0].statement, "(statement not logged)");
        assert_eq!(r.by_statement[0].count, 2);
    }

    #[test]
    fn translated_messages_are_known_by_their_sqlstate() {
        let mut e = entry(
            5,
            0.0,
            "konnte Größe des Shared-Memory-Segments »/PostgreSQL.77« nicht auf 196736 Bytes ändern: Auf dem Gerät ist kein Speicherplatz mehr verfügbar",
        );
        e.severity = "FEHLER".into();
        e.sqlstate = Some("53100".into());
        let r = analyze(&[e]);
        assert_eq!(r.failures.len(), 1);
        assert_eq!(r.failures[0].size, Some(196_736));
        assert_eq!(r.failures[0].kind, Kind::SessionSegment);
    }

    #[test]
    fn sigbus_and_the_restart() {
        let mut crash = entry(
            100,
            5.0,
            "server process (PID 4242) was terminated by signal 7: Bus error",
        );
        crash.severity = "LOG".into();
        let mut restart = entry(100, 5.1, "all server processes terminated; reinitializing");
        restart.severity = "LOG".into();
        let r = analyze(&[crash, restart]);
        assert_eq!(r.failures.len(), 1);
        assert_eq!(r.failures[0].op, Op::Sigbus);
        assert_eq!(r.failures[0].pids, vec![4242]);
        assert!(r.failures[0].restarted);
    }
}
