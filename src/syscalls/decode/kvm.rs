//! KVM's ioctls as strace 6.1 decodes them, and `-e kvm=vcpu`: the reason each `KVM_RUN`
//! returned, read from the vCPU's shared `struct kvm_run` as the call returns.
//!
//! Decoded: `KVM_CHECK_EXTENSION`'s capability, `KVM_CREATE_VCPU`'s id,
//! `KVM_SET_USER_MEMORY_REGION`'s region, `KVM_GET_REGS`/`KVM_SET_REGS` and
//! `KVM_GET_SREGS`/`KVM_SET_SREGS` (abbreviated as strace abbreviates them, whole under
//! `-v`). The other KVM requests print their argument as any ioctl's.

use super::Ctx;
use super::fs_util::sym_x;
use super::util::{flags, hex0, le_u16, le_u32, le_u64, read_vec, styled};
use crate::syscalls::Value;

/// The KVM capabilities of the kernel's `linux/kvm.h` (Linux 6.1).
const CAPS: &[(u64, &str)] = &[
    (0, "KVM_CAP_IRQCHIP"),
    (1, "KVM_CAP_HLT"),
    (2, "KVM_CAP_MMU_SHADOW_CACHE_CONTROL"),
    (3, "KVM_CAP_USER_MEMORY"),
    (4, "KVM_CAP_SET_TSS_ADDR"),
    (6, "KVM_CAP_VAPIC"),
    (7, "KVM_CAP_EXT_CPUID"),
    (8, "KVM_CAP_CLOCKSOURCE"),
    (9, "KVM_CAP_NR_VCPUS"),
    (10, "KVM_CAP_NR_MEMSLOTS"),
    (11, "KVM_CAP_PIT"),
    (12, "KVM_CAP_NOP_IO_DELAY"),
    (13, "KVM_CAP_PV_MMU"),
    (14, "KVM_CAP_MP_STATE"),
    (15, "KVM_CAP_COALESCED_MMIO"),
    (16, "KVM_CAP_SYNC_MMU"),
    (18, "KVM_CAP_IOMMU"),
    (21, "KVM_CAP_DESTROY_MEMORY_REGION_WORKS"),
    (22, "KVM_CAP_USER_NMI"),
    (23, "KVM_CAP_SET_GUEST_DEBUG"),
    (24, "KVM_CAP_REINJECT_CONTROL"),
    (25, "KVM_CAP_IRQ_ROUTING"),
    (26, "KVM_CAP_IRQ_INJECT_STATUS"),
    (29, "KVM_CAP_ASSIGN_DEV_IRQ"),
    (30, "KVM_CAP_JOIN_MEMORY_REGIONS_WORKS"),
    (31, "KVM_CAP_MCE"),
    (32, "KVM_CAP_IRQFD"),
    (33, "KVM_CAP_PIT2"),
    (34, "KVM_CAP_SET_BOOT_CPU_ID"),
    (35, "KVM_CAP_PIT_STATE2"),
    (36, "KVM_CAP_IOEVENTFD"),
    (37, "KVM_CAP_SET_IDENTITY_MAP_ADDR"),
    (38, "KVM_CAP_XEN_HVM"),
    (39, "KVM_CAP_ADJUST_CLOCK"),
    (40, "KVM_CAP_INTERNAL_ERROR_DATA"),
    (41, "KVM_CAP_VCPU_EVENTS"),
    (42, "KVM_CAP_S390_PSW"),
    (43, "KVM_CAP_PPC_SEGSTATE"),
    (44, "KVM_CAP_HYPERV"),
    (45, "KVM_CAP_HYPERV_VAPIC"),
    (46, "KVM_CAP_HYPERV_SPIN"),
    (47, "KVM_CAP_PCI_SEGMENT"),
    (48, "KVM_CAP_PPC_PAIRED_SINGLES"),
    (49, "KVM_CAP_INTR_SHADOW"),
    (50, "KVM_CAP_DEBUGREGS"),
    (51, "KVM_CAP_X86_ROBUST_SINGLESTEP"),
    (52, "KVM_CAP_PPC_OSI"),
    (53, "KVM_CAP_PPC_UNSET_IRQ"),
    (54, "KVM_CAP_ENABLE_CAP"),
    (55, "KVM_CAP_XSAVE"),
    (56, "KVM_CAP_XCRS"),
    (57, "KVM_CAP_PPC_GET_PVINFO"),
    (58, "KVM_CAP_PPC_IRQ_LEVEL"),
    (59, "KVM_CAP_ASYNC_PF"),
    (60, "KVM_CAP_TSC_CONTROL"),
    (61, "KVM_CAP_GET_TSC_KHZ"),
    (62, "KVM_CAP_PPC_BOOKE_SREGS"),
    (63, "KVM_CAP_SPAPR_TCE"),
    (64, "KVM_CAP_PPC_SMT"),
    (65, "KVM_CAP_PPC_RMA"),
    (66, "KVM_CAP_MAX_VCPUS"),
    (67, "KVM_CAP_PPC_HIOR"),
    (68, "KVM_CAP_PPC_PAPR"),
    (69, "KVM_CAP_SW_TLB"),
    (70, "KVM_CAP_ONE_REG"),
    (71, "KVM_CAP_S390_GMAP"),
    (72, "KVM_CAP_TSC_DEADLINE_TIMER"),
    (73, "KVM_CAP_S390_UCONTROL"),
    (74, "KVM_CAP_SYNC_REGS"),
    (75, "KVM_CAP_PCI_2_3"),
    (76, "KVM_CAP_KVMCLOCK_CTRL"),
    (77, "KVM_CAP_SIGNAL_MSI"),
    (78, "KVM_CAP_PPC_GET_SMMU_INFO"),
    (79, "KVM_CAP_S390_COW"),
    (80, "KVM_CAP_PPC_ALLOC_HTAB"),
    (81, "KVM_CAP_READONLY_MEM"),
    (82, "KVM_CAP_IRQFD_RESAMPLE"),
    (83, "KVM_CAP_PPC_BOOKE_WATCHDOG"),
    (84, "KVM_CAP_PPC_HTAB_FD"),
    (85, "KVM_CAP_S390_CSS_SUPPORT"),
    (86, "KVM_CAP_PPC_EPR"),
    (87, "KVM_CAP_ARM_PSCI"),
    (88, "KVM_CAP_ARM_SET_DEVICE_ADDR"),
    (89, "KVM_CAP_DEVICE_CTRL"),
    (90, "KVM_CAP_IRQ_MPIC"),
    (91, "KVM_CAP_PPC_RTAS"),
    (92, "KVM_CAP_IRQ_XICS"),
    (93, "KVM_CAP_ARM_EL1_32BIT"),
    (94, "KVM_CAP_SPAPR_MULTITCE"),
    (95, "KVM_CAP_EXT_EMUL_CPUID"),
    (96, "KVM_CAP_HYPERV_TIME"),
    (97, "KVM_CAP_IOAPIC_POLARITY_IGNORED"),
    (98, "KVM_CAP_ENABLE_CAP_VM"),
    (99, "KVM_CAP_S390_IRQCHIP"),
    (100, "KVM_CAP_IOEVENTFD_NO_LENGTH"),
    (101, "KVM_CAP_VM_ATTRIBUTES"),
    (102, "KVM_CAP_ARM_PSCI_0_2"),
    (103, "KVM_CAP_PPC_FIXUP_HCALL"),
    (104, "KVM_CAP_PPC_ENABLE_HCALL"),
    (105, "KVM_CAP_CHECK_EXTENSION_VM"),
    (106, "KVM_CAP_S390_USER_SIGP"),
    (107, "KVM_CAP_S390_VECTOR_REGISTERS"),
    (108, "KVM_CAP_S390_MEM_OP"),
    (109, "KVM_CAP_S390_USER_STSI"),
    (110, "KVM_CAP_S390_SKEYS"),
    (111, "KVM_CAP_MIPS_FPU"),
    (112, "KVM_CAP_MIPS_MSA"),
    (113, "KVM_CAP_S390_INJECT_IRQ"),
    (114, "KVM_CAP_S390_IRQ_STATE"),
    (115, "KVM_CAP_PPC_HWRNG"),
    (116, "KVM_CAP_DISABLE_QUIRKS"),
    (117, "KVM_CAP_X86_SMM"),
    (118, "KVM_CAP_MULTI_ADDRESS_SPACE"),
    (119, "KVM_CAP_GUEST_DEBUG_HW_BPS"),
    (120, "KVM_CAP_GUEST_DEBUG_HW_WPS"),
    (121, "KVM_CAP_SPLIT_IRQCHIP"),
    (122, "KVM_CAP_IOEVENTFD_ANY_LENGTH"),
    (123, "KVM_CAP_HYPERV_SYNIC"),
    (124, "KVM_CAP_S390_RI"),
    (125, "KVM_CAP_SPAPR_TCE_64"),
    (126, "KVM_CAP_ARM_PMU_V3"),
    (127, "KVM_CAP_VCPU_ATTRIBUTES"),
    (128, "KVM_CAP_MAX_VCPU_ID"),
    (129, "KVM_CAP_X2APIC_API"),
    (130, "KVM_CAP_S390_USER_INSTR0"),
    (131, "KVM_CAP_MSI_DEVID"),
    (132, "KVM_CAP_PPC_HTM"),
    (133, "KVM_CAP_SPAPR_RESIZE_HPT"),
    (134, "KVM_CAP_PPC_MMU_RADIX"),
    (135, "KVM_CAP_PPC_MMU_HASH_V3"),
    (136, "KVM_CAP_IMMEDIATE_EXIT"),
    (137, "KVM_CAP_MIPS_VZ"),
    (138, "KVM_CAP_MIPS_TE"),
    (139, "KVM_CAP_MIPS_64BIT"),
    (140, "KVM_CAP_S390_GS"),
    (141, "KVM_CAP_S390_AIS"),
    (142, "KVM_CAP_SPAPR_TCE_VFIO"),
    (143, "KVM_CAP_X86_DISABLE_EXITS"),
    (144, "KVM_CAP_ARM_USER_IRQ"),
    (145, "KVM_CAP_S390_CMMA_MIGRATION"),
    (146, "KVM_CAP_PPC_FWNMI"),
    (147, "KVM_CAP_PPC_SMT_POSSIBLE"),
    (148, "KVM_CAP_HYPERV_SYNIC2"),
    (149, "KVM_CAP_HYPERV_VP_INDEX"),
    (150, "KVM_CAP_S390_AIS_MIGRATION"),
    (151, "KVM_CAP_PPC_GET_CPU_CHAR"),
    (152, "KVM_CAP_S390_BPB"),
    (153, "KVM_CAP_GET_MSR_FEATURES"),
    (154, "KVM_CAP_HYPERV_EVENTFD"),
    (155, "KVM_CAP_HYPERV_TLBFLUSH"),
    (156, "KVM_CAP_S390_HPAGE_1M"),
    (157, "KVM_CAP_NESTED_STATE"),
    (158, "KVM_CAP_ARM_INJECT_SERROR_ESR"),
    (159, "KVM_CAP_MSR_PLATFORM_INFO"),
    (160, "KVM_CAP_PPC_NESTED_HV"),
    (161, "KVM_CAP_HYPERV_SEND_IPI"),
    (162, "KVM_CAP_COALESCED_PIO"),
    (163, "KVM_CAP_HYPERV_ENLIGHTENED_VMCS"),
    (164, "KVM_CAP_EXCEPTION_PAYLOAD"),
    (165, "KVM_CAP_ARM_VM_IPA_SIZE"),
    (166, "KVM_CAP_MANUAL_DIRTY_LOG_PROTECT"),
    (167, "KVM_CAP_HYPERV_CPUID"),
    (168, "KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2"),
    (169, "KVM_CAP_PPC_IRQ_XIVE"),
    (170, "KVM_CAP_ARM_SVE"),
    (171, "KVM_CAP_ARM_PTRAUTH_ADDRESS"),
    (172, "KVM_CAP_ARM_PTRAUTH_GENERIC"),
    (173, "KVM_CAP_PMU_EVENT_FILTER"),
    (174, "KVM_CAP_ARM_IRQ_LINE_LAYOUT_2"),
    (175, "KVM_CAP_HYPERV_DIRECT_TLBFLUSH"),
    (176, "KVM_CAP_PPC_GUEST_DEBUG_SSTEP"),
    (177, "KVM_CAP_ARM_NISV_TO_USER"),
    (178, "KVM_CAP_ARM_INJECT_EXT_DABT"),
    (179, "KVM_CAP_S390_VCPU_RESETS"),
    (180, "KVM_CAP_S390_PROTECTED"),
    (181, "KVM_CAP_PPC_SECURE_GUEST"),
    (182, "KVM_CAP_HALT_POLL"),
    (183, "KVM_CAP_ASYNC_PF_INT"),
    (184, "KVM_CAP_LAST_CPU"),
    (185, "KVM_CAP_SMALLER_MAXPHYADDR"),
    (186, "KVM_CAP_S390_DIAG318"),
    (187, "KVM_CAP_STEAL_TIME"),
    (188, "KVM_CAP_X86_USER_SPACE_MSR"),
    (189, "KVM_CAP_X86_MSR_FILTER"),
    (190, "KVM_CAP_ENFORCE_PV_FEATURE_CPUID"),
    (191, "KVM_CAP_SYS_HYPERV_CPUID"),
    (192, "KVM_CAP_DIRTY_LOG_RING"),
    (193, "KVM_CAP_X86_BUS_LOCK_EXIT"),
    (194, "KVM_CAP_PPC_DAWR1"),
    (195, "KVM_CAP_SET_GUEST_DEBUG2"),
    (196, "KVM_CAP_SGX_ATTRIBUTE"),
    (197, "KVM_CAP_VM_COPY_ENC_CONTEXT_FROM"),
    (198, "KVM_CAP_PTP_KVM"),
    (199, "KVM_CAP_HYPERV_ENFORCE_CPUID"),
    (200, "KVM_CAP_SREGS2"),
    (201, "KVM_CAP_EXIT_HYPERCALL"),
    (202, "KVM_CAP_PPC_RPT_INVALIDATE"),
    (203, "KVM_CAP_BINARY_STATS_FD"),
    (204, "KVM_CAP_EXIT_ON_EMULATION_FAILURE"),
    (205, "KVM_CAP_ARM_MTE"),
    (206, "KVM_CAP_VM_MOVE_ENC_CONTEXT_FROM"),
    (207, "KVM_CAP_VM_GPA_BITS"),
    (208, "KVM_CAP_XSAVE2"),
    (209, "KVM_CAP_SYS_ATTRIBUTES"),
    (210, "KVM_CAP_PPC_AIL_MODE_3"),
    (211, "KVM_CAP_S390_MEM_OP_EXTENSION"),
    (212, "KVM_CAP_PMU_CAPABILITY"),
    (213, "KVM_CAP_DISABLE_QUIRKS2"),
    (214, "KVM_CAP_VM_TSC_CONTROL"),
    (215, "KVM_CAP_SYSTEM_EVENT_DATA"),
    (216, "KVM_CAP_ARM_SYSTEM_SUSPEND"),
    (217, "KVM_CAP_S390_PROTECTED_DUMP"),
    (218, "KVM_CAP_X86_TRIPLE_FAULT_EVENT"),
    (219, "KVM_CAP_X86_NOTIFY_VMEXIT"),
    (220, "KVM_CAP_VM_DISABLE_NX_HUGE_PAGES"),
    (221, "KVM_CAP_S390_ZPCI_OP"),
    (222, "KVM_CAP_S390_CPU_TOPOLOGY"),
    (223, "KVM_CAP_DIRTY_LOG_RING_ACQ_REL"),
];

/// `struct kvm_run`'s `exit_reason` values (Linux 6.1).
const EXITS: &[(u64, &str)] = &[
    (0, "KVM_EXIT_UNKNOWN"),
    (1, "KVM_EXIT_EXCEPTION"),
    (2, "KVM_EXIT_IO"),
    (3, "KVM_EXIT_HYPERCALL"),
    (4, "KVM_EXIT_DEBUG"),
    (5, "KVM_EXIT_HLT"),
    (6, "KVM_EXIT_MMIO"),
    (7, "KVM_EXIT_IRQ_WINDOW_OPEN"),
    (8, "KVM_EXIT_SHUTDOWN"),
    (9, "KVM_EXIT_FAIL_ENTRY"),
    (10, "KVM_EXIT_INTR"),
    (11, "KVM_EXIT_SET_TPR"),
    (12, "KVM_EXIT_TPR_ACCESS"),
    (13, "KVM_EXIT_S390_SIEIC"),
    (14, "KVM_EXIT_S390_RESET"),
    (16, "KVM_EXIT_NMI"),
    (17, "KVM_EXIT_INTERNAL_ERROR"),
    (18, "KVM_EXIT_OSI"),
    (19, "KVM_EXIT_PAPR_HCALL"),
    (20, "KVM_EXIT_S390_UCONTROL"),
    (21, "KVM_EXIT_WATCHDOG"),
    (22, "KVM_EXIT_S390_TSCH"),
    (23, "KVM_EXIT_EPR"),
    (24, "KVM_EXIT_SYSTEM_EVENT"),
    (25, "KVM_EXIT_S390_STSI"),
    (26, "KVM_EXIT_IOAPIC_EOI"),
    (27, "KVM_EXIT_HYPERV"),
    (28, "KVM_EXIT_ARM_NISV"),
    (29, "KVM_EXIT_X86_RDMSR"),
    (30, "KVM_EXIT_X86_WRMSR"),
    (31, "KVM_EXIT_DIRTY_RING_FULL"),
    (32, "KVM_EXIT_AP_RESET_HOLD"),
    (33, "KVM_EXIT_X86_BUS_LOCK"),
    (34, "KVM_EXIT_XEN"),
    (35, "KVM_EXIT_RISCV_SBI"),
    (36, "KVM_EXIT_RISCV_CSR"),
    (37, "KVM_EXIT_NOTIFY"),
];

const MEM_FLAGS: &[(u64, &str)] = &[(1, "KVM_MEM_LOG_DIRTY_PAGES"), (2, "KVM_MEM_READONLY")];

pub const KVM_RUN: u64 = 0xae80;
const KVM_CHECK_EXTENSION: u64 = 0xae03;
const KVM_CREATE_VCPU: u64 = 0xae41;
const KVM_SET_USER_MEMORY_REGION: u64 = 0x4020_ae46;
const KVM_GET_REGS: u64 = 0x8090_ae81;
const KVM_SET_REGS: u64 = 0x4090_ae82;
const KVM_GET_SREGS: u64 = 0x8138_ae83;
const KVM_SET_SREGS: u64 = 0x4138_ae84;

/// How a KVM request's argument is printed.
pub enum Arg {
    /// Decoded at the entry.
    Now(Value),
    /// What the kernel fills in: decoded at the exit ([`exit_arg`]).
    AtExit,
}

/// The argument of KVM request `req`, if this module decodes it.
pub fn entry(c: &Ctx, req: u64) -> Option<Arg> {
    let arg = c.raw[2];
    Some(match req {
        KVM_CHECK_EXTENSION => Arg::Now(sym_x(arg & 0xffff_ffff, CAPS, "KVM_CAP_???")),
        KVM_CREATE_VCPU => Arg::Now(Value::Int(i64::from(arg as i32))),
        KVM_SET_USER_MEMORY_REGION => Arg::Now(region(c, arg)),
        KVM_SET_REGS => Arg::Now(regs(c, arg)),
        KVM_SET_SREGS => Arg::Now(sregs(c, arg)),
        KVM_GET_REGS | KVM_GET_SREGS => Arg::AtExit,
        _ => return None,
    })
}

/// An [`Arg::AtExit`] argument once the call returned (its address when it failed).
pub fn exit_arg(c: &Ctx, req: u64, is_error: bool) -> Value {
    let arg = c.raw[2];
    match req {
        _ if is_error => Value::Ptr(arg),
        KVM_GET_REGS => regs(c, arg),
        KVM_GET_SREGS => sregs(c, arg),
        _ => Value::Ptr(arg),
    }
}

/// `-e kvm=vcpu`: after a `KVM_RUN` that returned 0, why the guest left (`KVM_EXIT_IO`),
/// read from the `struct kvm_run` the vCPU's descriptor maps.
pub fn exit_reason(c: &Ctx) -> Option<String> {
    let fd = i32::try_from(c.raw[0]).ok()?;
    let run = c.t.kvm_run(fd)?;
    let b = read_vec(c, run + 8, 4)?;
    let reason = u64::from(le_u32(&b, 0));
    Some(match EXITS.iter().find(|&&(v, _)| v == reason) {
        Some(&(_, n)) => n.to_string(),
        None => format!("{reason:#x} /* KVM_EXIT_??? */"),
    })
}

fn region(c: &Ctx, addr: u64) -> Value {
    let Some(b) = read_vec(c, addr, 32) else {
        return Value::Ptr(addr);
    };
    let fl = u64::from(le_u32(&b, 4));
    Value::structure(vec![
        ("slot", Value::UInt(u64::from(le_u32(&b, 0)))),
        ("flags", styled(c, flags(fl, MEM_FLAGS), hex0(fl))),
        ("guest_phys_addr", hex0(le_u64(&b, 8))),
        ("memory_size", Value::UInt(le_u64(&b, 16))),
        ("userspace_addr", hex0(le_u64(&b, 24))),
    ])
}

const REGS: [&str; 18] = [
    "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rsp", "rbp", "r8", "r9", "r10", "r11", "r12", "r13",
    "r14", "r15", "rip", "rflags",
];

/// `struct kvm_regs`; abbreviated to rax, rsp, rbp, rip and rflags as strace abbreviates it.
fn regs(c: &Ctx, addr: u64) -> Value {
    let Some(b) = read_vec(c, addr, 0x90) else {
        return Value::Ptr(addr);
    };
    let reg = |i: usize| hex0(le_u64(&b, i * 8));
    if !c.o.abbrev {
        return Value::structure(REGS.iter().enumerate().map(|(i, n)| (*n, reg(i))).collect());
    }
    Value::structure(vec![
        ("rax", reg(0)),
        ("", Value::Elided),
        ("rsp", reg(6)),
        ("rbp", reg(7)),
        ("", Value::Elided),
        ("rip", reg(16)),
        ("rflags", reg(17)),
    ])
}

/// `struct kvm_segment` at `off`.
fn segment(b: &[u8], off: usize) -> Value {
    let u8v = |i: usize| Value::UInt(u64::from(b[off + 14 + i]));
    Value::structure(vec![
        ("base", hex0(le_u64(b, off))),
        ("limit", Value::UInt(u64::from(le_u32(b, off + 8)))),
        ("selector", Value::UInt(u64::from(le_u16(b, off + 12)))),
        ("type", u8v(0)),
        ("present", u8v(1)),
        ("dpl", u8v(2)),
        ("db", u8v(3)),
        ("s", u8v(4)),
        ("l", u8v(5)),
        ("g", u8v(6)),
        ("avl", u8v(7)),
    ])
}

/// `struct kvm_dtable` at `off`.
fn dtable(b: &[u8], off: usize) -> Value {
    Value::structure(vec![
        ("base", hex0(le_u64(b, off))),
        ("limit", Value::UInt(u64::from(le_u16(b, off + 8)))),
    ])
}

/// `struct kvm_sregs`; abbreviated to its `cs` as strace abbreviates it.
fn sregs(c: &Ctx, addr: u64) -> Value {
    let Some(b) = read_vec(c, addr, 0x138) else {
        return Value::Ptr(addr);
    };
    if c.o.abbrev {
        return Value::structure(vec![("cs", segment(&b, 0)), ("", Value::Elided)]);
    }
    let mut fields: Vec<(&'static str, Value)> = ["cs", "ds", "es", "fs", "gs", "ss", "tr", "ldt"]
        .iter()
        .enumerate()
        .map(|(i, n)| (*n, segment(&b, i * 24)))
        .collect();
    fields.push(("gdt", dtable(&b, 192)));
    fields.push(("idt", dtable(&b, 208)));
    for (i, n) in ["cr0", "cr2", "cr3", "cr4", "cr8", "efer"]
        .iter()
        .enumerate()
    {
        fields.push((n, Value::UInt(le_u64(&b, 224 + i * 8))));
    }
    fields.push(("apic_base", hex0(le_u64(&b, 272))));
    fields.push((
        "interrupt_bitmap",
        Value::Array((0..4).map(|i| hex0(le_u64(&b, 280 + i * 8))).collect()),
    ));
    Value::structure(fields)
}

#[cfg(test)]
mod tests {
    use crate::syscalls::decode::util::fake::{FakeTracee, assert_lines};

    #[test]
    fn requests_as_strace_prints_them() {
        let mut regs = [0u8; 0x90];
        regs[0] = 2;
        regs[16 * 8..16 * 8 + 2].copy_from_slice(&0x1000u16.to_le_bytes());
        regs[17 * 8] = 2;
        let mut region = [0u8; 32];
        region[8..10].copy_from_slice(&0x1000u16.to_le_bytes());
        region[16..18].copy_from_slice(&0x1000u16.to_le_bytes());
        region[24..28].copy_from_slice(&0x7f00_0000u32.to_le_bytes());
        region[4] = 2;
        let mut sregs = vec![0u8; 0x138];
        sregs[0..4].copy_from_slice(&0xffff_0000u32.to_le_bytes());
        sregs[8..10].copy_from_slice(&0xffffu16.to_le_bytes());
        sregs[12..14].copy_from_slice(&0xf000u16.to_le_bytes());
        sregs[14] = 11;
        sregs[15] = 1;
        let t = FakeTracee::default()
            .with(0x100, &regs)
            .with(0x200, &region)
            .with(0x300, &sregs);
        assert_lines(
            &t,
            [
                (
                    "ioctl",
                    [3, 0xae03, 9, 0, 0, 0],
                    2,
                    "ioctl(3, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS) = 2",
                ),
                (
                    "ioctl",
                    [3, 0xae03, 100_000, 0, 0, 0],
                    0,
                    "ioctl(3, KVM_CHECK_EXTENSION, 0x186a0 /* KVM_CAP_??? */) = 0",
                ),
                (
                    "ioctl",
                    [4, 0xae41, 0, 0, 0, 0],
                    5,
                    "ioctl(4, KVM_CREATE_VCPU, 0) = 5",
                ),
                (
                    "ioctl",
                    [5, 0x4090_ae82, 0x100, 0, 0, 0],
                    0,
                    "ioctl(5, KVM_SET_REGS, {rax=0x2, ..., rsp=0, rbp=0, ..., rip=0x1000, rflags=0x2}) = 0",
                ),
                (
                    "ioctl",
                    [4, 0x4020_ae46, 0x200, 0, 0, 0],
                    0,
                    "ioctl(4, KVM_SET_USER_MEMORY_REGION, {slot=0, flags=KVM_MEM_READONLY, \
                     guest_phys_addr=0x1000, memory_size=4096, userspace_addr=0x7f000000}) = 0",
                ),
                (
                    "ioctl",
                    [5, 0x8138_ae83, 0x300, 0, 0, 0],
                    0,
                    "ioctl(5, KVM_GET_SREGS, {cs={base=0xffff0000, limit=65535, selector=61440, \
                     type=11, present=1, dpl=0, db=0, s=0, l=0, g=0, avl=0}, ...}) = 0",
                ),
                (
                    "ioctl",
                    [5, 0x8090_ae81, 0x100, 0, 0, 0],
                    -1,
                    "ioctl(5, KVM_GET_REGS, 0x100) = -1",
                ),
            ],
        );
    }
}
