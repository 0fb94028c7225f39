//! perf_event_open's `struct perf_event_attr`, as strace 6.1 prints it: by default the type,
//! size, config, sample period or frequency, sample and read formats, the bits that are set
//! (and `precise_ip` always, with its meaning), then `...`; under `-v` every bit and the
//! fields the caller's size covers.

use super::Ctx;
use super::fs_util::flags_x;
use super::util::{hex0, le_u32, le_u64, read_vec, styled, xlat};
use crate::syscalls::Value;

/// The most of the structure strace 6.1 knows (`PERF_ATTR_SIZE_VER7`).
const KNOWN: usize = 128;

const TYPES: &[(u64, &str)] = &[
    (0, "PERF_TYPE_HARDWARE"),
    (1, "PERF_TYPE_SOFTWARE"),
    (2, "PERF_TYPE_TRACEPOINT"),
    (3, "PERF_TYPE_HW_CACHE"),
    (4, "PERF_TYPE_RAW"),
    (5, "PERF_TYPE_BREAKPOINT"),
];

const SIZES: &[(u64, &str)] = &[
    (64, "PERF_ATTR_SIZE_VER0"),
    (72, "PERF_ATTR_SIZE_VER1"),
    (80, "PERF_ATTR_SIZE_VER2"),
    (96, "PERF_ATTR_SIZE_VER3"),
    (104, "PERF_ATTR_SIZE_VER4"),
    (112, "PERF_ATTR_SIZE_VER5"),
    (120, "PERF_ATTR_SIZE_VER6"),
    (128, "PERF_ATTR_SIZE_VER7"),
];

const HW: &[(u64, &str)] = &[
    (0, "PERF_COUNT_HW_CPU_CYCLES"),
    (1, "PERF_COUNT_HW_INSTRUCTIONS"),
    (2, "PERF_COUNT_HW_CACHE_REFERENCES"),
    (3, "PERF_COUNT_HW_CACHE_MISSES"),
    (4, "PERF_COUNT_HW_BRANCH_INSTRUCTIONS"),
    (5, "PERF_COUNT_HW_BRANCH_MISSES"),
    (6, "PERF_COUNT_HW_BUS_CYCLES"),
    (7, "PERF_COUNT_HW_STALLED_CYCLES_FRONTEND"),
    (8, "PERF_COUNT_HW_STALLED_CYCLES_BACKEND"),
    (9, "PERF_COUNT_HW_REF_CPU_CYCLES"),
];

const SW: &[(u64, &str)] = &[
    (0, "PERF_COUNT_SW_CPU_CLOCK"),
    (1, "PERF_COUNT_SW_TASK_CLOCK"),
    (2, "PERF_COUNT_SW_PAGE_FAULTS"),
    (3, "PERF_COUNT_SW_CONTEXT_SWITCHES"),
    (4, "PERF_COUNT_SW_CPU_MIGRATIONS"),
    (5, "PERF_COUNT_SW_PAGE_FAULTS_MIN"),
    (6, "PERF_COUNT_SW_PAGE_FAULTS_MAJ"),
    (7, "PERF_COUNT_SW_ALIGNMENT_FAULTS"),
    (8, "PERF_COUNT_SW_EMULATION_FAULTS"),
    (9, "PERF_COUNT_SW_DUMMY"),
    (10, "PERF_COUNT_SW_BPF_OUTPUT"),
    (11, "PERF_COUNT_SW_CGROUP_SWITCHES"),
];

const SAMPLE: &[(u64, &str)] = &[
    (0x1, "PERF_SAMPLE_IP"),
    (0x2, "PERF_SAMPLE_TID"),
    (0x4, "PERF_SAMPLE_TIME"),
    (0x8, "PERF_SAMPLE_ADDR"),
    (0x10, "PERF_SAMPLE_READ"),
    (0x20, "PERF_SAMPLE_CALLCHAIN"),
    (0x40, "PERF_SAMPLE_ID"),
    (0x80, "PERF_SAMPLE_CPU"),
    (0x100, "PERF_SAMPLE_PERIOD"),
    (0x200, "PERF_SAMPLE_STREAM_ID"),
    (0x400, "PERF_SAMPLE_RAW"),
    (0x800, "PERF_SAMPLE_BRANCH_STACK"),
    (0x1000, "PERF_SAMPLE_REGS_USER"),
    (0x2000, "PERF_SAMPLE_STACK_USER"),
    (0x4000, "PERF_SAMPLE_WEIGHT"),
    (0x8000, "PERF_SAMPLE_DATA_SRC"),
    (0x1_0000, "PERF_SAMPLE_IDENTIFIER"),
    (0x2_0000, "PERF_SAMPLE_TRANSACTION"),
    (0x4_0000, "PERF_SAMPLE_REGS_INTR"),
    (0x8_0000, "PERF_SAMPLE_PHYS_ADDR"),
    (0x10_0000, "PERF_SAMPLE_AUX"),
    (0x20_0000, "PERF_SAMPLE_CGROUP"),
    (0x40_0000, "PERF_SAMPLE_DATA_PAGE_SIZE"),
    (0x80_0000, "PERF_SAMPLE_CODE_PAGE_SIZE"),
    (0x100_0000, "PERF_SAMPLE_WEIGHT_STRUCT"),
];

const READ: &[(u64, &str)] = &[
    (0x1, "PERF_FORMAT_TOTAL_TIME_ENABLED"),
    (0x2, "PERF_FORMAT_TOTAL_TIME_RUNNING"),
    (0x4, "PERF_FORMAT_ID"),
    (0x8, "PERF_FORMAT_GROUP"),
];

const BRANCH: &[(u64, &str)] = &[
    (0x1, "PERF_SAMPLE_BRANCH_USER"),
    (0x2, "PERF_SAMPLE_BRANCH_KERNEL"),
    (0x4, "PERF_SAMPLE_BRANCH_HV"),
    (0x8, "PERF_SAMPLE_BRANCH_ANY"),
    (0x10, "PERF_SAMPLE_BRANCH_ANY_CALL"),
    (0x20, "PERF_SAMPLE_BRANCH_ANY_RETURN"),
    (0x40, "PERF_SAMPLE_BRANCH_IND_CALL"),
    (0x80, "PERF_SAMPLE_BRANCH_ABORT_TX"),
    (0x100, "PERF_SAMPLE_BRANCH_IN_TX"),
    (0x200, "PERF_SAMPLE_BRANCH_NO_TX"),
    (0x400, "PERF_SAMPLE_BRANCH_COND"),
    (0x800, "PERF_SAMPLE_BRANCH_CALL_STACK"),
    (0x1000, "PERF_SAMPLE_BRANCH_IND_JUMP"),
    (0x2000, "PERF_SAMPLE_BRANCH_CALL"),
    (0x4000, "PERF_SAMPLE_BRANCH_NO_FLAGS"),
    (0x8000, "PERF_SAMPLE_BRANCH_NO_CYCLES"),
    (0x1_0000, "PERF_SAMPLE_BRANCH_TYPE_SAVE"),
    (0x2_0000, "PERF_SAMPLE_BRANCH_HW_INDEX"),
];

/// The one-bit fields of the flags word (bits 0..=8 and 10..=14 before `precise_ip`, which
/// is bits 15-16), by bit.
const BITS_BEFORE: [&str; 15] = [
    "disabled",
    "inherit",
    "pinned",
    "exclusive",
    "exclude_user",
    "exclude_kernel",
    "exclude_hv",
    "exclude_idle",
    "mmap",
    "comm",
    "freq",
    "inherit_stat",
    "enable_on_exec",
    "task",
    "watermark",
];

/// The bits after `precise_ip`, from bit 17 on.
const BITS_AFTER: [&str; 22] = [
    "mmap_data",
    "sample_id_all",
    "exclude_host",
    "exclude_guest",
    "exclude_callchain_kernel",
    "exclude_callchain_user",
    "mmap2",
    "comm_exec",
    "use_clockid",
    "context_switch",
    "write_backward",
    "namespaces",
    "ksymbol",
    "bpf_event",
    "aux_output",
    "cgroup",
    "text_poke",
    "build_id",
    "inherit_thread",
    "remove_on_exec",
    "sigtrap",
    "",
];

pub(super) const OPEN_FLAGS: &[(u64, &str)] = &[
    (1, "PERF_FLAG_FD_NO_GROUP"),
    (2, "PERF_FLAG_FD_OUTPUT"),
    (4, "PERF_FLAG_PID_CGROUP"),
    (8, "PERF_FLAG_FD_CLOEXEC"),
];

const HW_CACHE_IDS: &[(u64, &str)] = &[
    (0, "PERF_COUNT_HW_CACHE_L1D"),
    (1, "PERF_COUNT_HW_CACHE_L1I"),
    (2, "PERF_COUNT_HW_CACHE_LL"),
    (3, "PERF_COUNT_HW_CACHE_DTLB"),
    (4, "PERF_COUNT_HW_CACHE_ITLB"),
    (5, "PERF_COUNT_HW_CACHE_BPU"),
    (6, "PERF_COUNT_HW_CACHE_NODE"),
];

const HW_CACHE_OPS: &[(u64, &str)] = &[
    (0, "PERF_COUNT_HW_CACHE_OP_READ"),
    (1, "PERF_COUNT_HW_CACHE_OP_WRITE"),
    (2, "PERF_COUNT_HW_CACHE_OP_PREFETCH"),
];

const HW_CACHE_RESULTS: &[(u64, &str)] = &[
    (0, "PERF_COUNT_HW_CACHE_RESULT_ACCESS"),
    (1, "PERF_COUNT_HW_CACHE_RESULT_MISS"),
];

/// A `PERF_TYPE_HW_CACHE` config, as strace composes it:
/// `PERF_COUNT_HW_CACHE_RESULT_MISS<<16|PERF_COUNT_HW_CACHE_OP_READ<<8|PERF_COUNT_HW_CACHE_L1D`
/// (bits past the three bytes first: `0x12<<32|0x34<<24|...`).
fn hw_cache(c: &Ctx, config: u64) -> Value {
    let part = |v: u64, table: &[(u64, &'static str)], what: &str| {
        super::util::render(&styled(c, xlat(v, table, what), hex0(v)))
    };
    let mut s = String::new();
    if config >> 32 != 0 {
        s.push_str(&format!("{:#x}<<32|", config >> 32));
    }
    if (config >> 24) & 0xff != 0 {
        s.push_str(&format!("{:#x}<<24|", (config >> 24) & 0xff));
    }
    s.push_str(&format!(
        "{}<<16|{}<<8|{}",
        part(
            (config >> 16) & 0xff,
            HW_CACHE_RESULTS,
            "PERF_COUNT_HW_CACHE_RESULT_???"
        ),
        part(
            (config >> 8) & 0xff,
            HW_CACHE_OPS,
            "PERF_COUNT_HW_CACHE_OP_???"
        ),
        part(config & 0xff, HW_CACHE_IDS, "PERF_COUNT_HW_CACHE_???"),
    ));
    Value::Raw(s)
}

/// The structure's size, `PERF_ATTR_SIZE_VER7` (under `-X` the number).
pub(super) fn size_field(c: &Ctx, v: u32) -> Value {
    styled(
        c,
        xlat(v.into(), SIZES, "PERF_ATTR_SIZE_???"),
        hex0(v.into()),
    )
}

/// The attribute structure at `addr` (its address if unreadable).
pub(super) fn attr(c: &Ctx, addr: u64) -> Value {
    let Some(head) = read_vec(c, addr, 8) else {
        return Value::Ptr(addr);
    };
    if head.len() < 8 {
        return Value::Ptr(addr);
    }
    let size = le_u32(&head, 4);
    let want = match size as usize {
        0 => 64,
        n => n.min(KNOWN),
    };
    let Some(b) = read_vec(c, addr, want) else {
        return Value::Ptr(addr);
    };
    if b.len() < want.min(64) {
        return Value::Ptr(addr);
    }
    let have = b.len();
    let u64_at = |off: usize| le_u64(&b, off);
    let typ = le_u32(&b, 0);
    let config = u64_at(8);
    let st = |names: Value, v: u64| styled(c, names, hex0(v));
    let config_v = match typ {
        0 => st(xlat(config, HW, "PERF_COUNT_HW_???"), config),
        1 => st(xlat(config, SW, "PERF_COUNT_SW_???"), config),
        2 => Value::UInt(config),
        3 => hw_cache(c, config),
        _ => Value::Hex(config),
    };
    let bits = u64_at(40);
    let verbose = !c.o.abbrev;
    let mut f: Vec<(&'static str, Value)> = vec![
        (
            "type",
            st(xlat(typ.into(), TYPES, "PERF_TYPE_???"), typ.into()),
        ),
        ("size", size_field(c, size)),
        ("config", config_v),
    ];
    // `freq` chooses which of the union's names the number has.
    if bits & (1 << 10) != 0 {
        f.push(("sample_freq", Value::UInt(u64_at(16))));
    } else {
        f.push(("sample_period", Value::UInt(u64_at(16))));
    }
    f.push((
        "sample_type",
        st(
            flags_x(u64_at(24), SAMPLE, None, "PERF_SAMPLE_???"),
            u64_at(24),
        ),
    ));
    f.push((
        "read_format",
        st(
            flags_x(u64_at(32), READ, None, "PERF_FORMAT_???"),
            u64_at(32),
        ),
    ));
    let bit = |i: u32| Value::UInt((bits >> i) & 1);
    for (i, name) in BITS_BEFORE.iter().enumerate() {
        let i = i as u32;
        if verbose || (bits >> i) & 1 != 0 {
            f.push((name, bit(i)));
        }
    }
    let precise = (bits >> 15) & 3;
    let meaning = [
        "arbitrary skid",
        "constant skid",
        "requested to have 0 skid",
        "must have 0 skid",
    ][precise as usize];
    f.push((
        "precise_ip",
        Value::Raw(format!("{precise} /* {meaning} */")),
    ));
    for (i, name) in BITS_AFTER.iter().enumerate() {
        let i = 17 + i as u32;
        if !name.is_empty() && (verbose || (bits >> i) & 1 != 0) {
            f.push((name, bit(i)));
        }
    }
    if bits >> 38 != 0 {
        f.push(("__reserved_1", Value::Hex(bits >> 38)));
    }
    if !verbose {
        f.push(("", Value::Elided));
        return Value::structure(f);
    }
    let u32_at = |off: usize| le_u32(&b, off);
    if bits & (1 << 14) != 0 {
        f.push(("wakeup_watermark", Value::UInt(u32_at(48).into())));
    } else {
        f.push(("wakeup_events", Value::UInt(u32_at(48).into())));
    }
    let sample_type = u64_at(24);
    if typ == 5 {
        f.push(("bp_type", Value::UInt(u32_at(52).into())));
    }
    let (c1, c2) = if typ == 5 {
        ("bp_addr", "bp_len")
    } else {
        ("config1", "config2")
    };
    if have >= 64 {
        f.push((c1, Value::Hex(u64_at(56)).or_zero()));
    }
    if have >= 72 {
        f.push((c2, Value::Hex(u64_at(64)).or_zero()));
    }
    if have >= 80 && sample_type & 0x800 != 0 {
        f.push((
            "branch_sample_type",
            st(
                flags_x(u64_at(72), BRANCH, None, "PERF_SAMPLE_BRANCH_???"),
                u64_at(72),
            ),
        ));
    }
    if have >= 96 {
        f.push(("sample_regs_user", Value::Hex(u64_at(80)).or_zero()));
        if sample_type & 0x2000 != 0 {
            f.push(("sample_stack_user", Value::Hex(u32_at(88).into()).or_zero()));
        }
        if bits & (1 << 25) != 0 {
            let id = u32_at(92).into();
            f.push(("clockid", st(super::time::clock_id(id), id)));
        }
    }
    if have >= 104 {
        f.push(("sample_regs_intr", Value::Hex(u64_at(96)).or_zero()));
    }
    if have >= 112 {
        f.push(("aux_watermark", Value::UInt(u32_at(104).into())));
        f.push((
            "sample_max_stack",
            Value::UInt(u16::from_le_bytes([b[108], b[109]]).into()),
        ));
    }
    if have >= 120 {
        f.push(("aux_sample_size", Value::UInt(u32_at(112).into())));
    }
    if have >= 128 {
        f.push(("sig_data", Value::Hex(u64_at(120)).or_zero()));
    }
    if size as usize > KNOWN {
        f.push(("", Value::Elided));
    }
    Value::structure(f)
}

trait OrZero {
    fn or_zero(self) -> Value;
}

impl OrZero for Value {
    /// A hex number strace prints with `%#x`: `0`, not `0x0`.
    fn or_zero(self) -> Value {
        match self {
            Value::Hex(0) => Value::Int(0),
            v => v,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::syscalls::DecodeOpts;
    use crate::syscalls::decode::util::fake::{FakeTracee, line_with};

    fn attr(typ: u32, size: u32, config: u64, bits: u64, sample: u64) -> Vec<u8> {
        let mut b = vec![0u8; 128];
        b[0..4].copy_from_slice(&typ.to_le_bytes());
        b[4..8].copy_from_slice(&size.to_le_bytes());
        b[8..16].copy_from_slice(&config.to_le_bytes());
        b[16..24].copy_from_slice(&1000u64.to_le_bytes());
        b[24..32].copy_from_slice(&sample.to_le_bytes());
        b[40..48].copy_from_slice(&bits.to_le_bytes());
        b
    }

    #[test]
    fn attributes_abbreviated_and_whole() {
        let t = FakeTracee::default().with(0x1000, &attr(1, 128, 1, 0x21, 0x3));
        let o = DecodeOpts::default();
        assert_eq!(
            line_with(
                &t,
                &o,
                "perf_event_open",
                [0x1000, 0, u64::MAX, u64::MAX, 8, 0],
                3
            ),
            "perf_event_open({type=PERF_TYPE_SOFTWARE, size=PERF_ATTR_SIZE_VER7, config=PERF_COUNT_SW_TASK_CLOCK, sample_period=1000, sample_type=PERF_SAMPLE_IP|PERF_SAMPLE_TID, read_format=0, disabled=1, exclude_kernel=1, precise_ip=0 /* arbitrary skid */, ...}, 0, -1, -1, PERF_FLAG_FD_CLOEXEC) = 3"
        );
        let t = FakeTracee::default().with(0x1000, &attr(0, 64, 1, 1 << 10, 0));
        let o = DecodeOpts {
            abbrev: false,
            ..DecodeOpts::default()
        };
        let l = line_with(
            &t,
            &o,
            "perf_event_open",
            [0x1000, 0, u64::MAX, u64::MAX, 0, 0],
            3,
        );
        assert!(
            l.starts_with("perf_event_open({type=PERF_TYPE_HARDWARE, size=PERF_ATTR_SIZE_VER0, config=PERF_COUNT_HW_INSTRUCTIONS, sample_freq=1000, sample_type=0, read_format=0, disabled=0, inherit=0,"),
            "{l}"
        );
        assert!(
            l.ends_with("sigtrap=0, wakeup_events=0, config1=0}, 0, -1, -1, 0) = 3"),
            "{l}"
        );
    }
}
