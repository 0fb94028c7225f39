//! What a PostgreSQL stack says the plan was doing when it asked for a DSM segment: read
//! from the function names of a `-k` stack (only exact names count: `-k` names a frame only
//! where the symbol covers the address).

use crate::event::StackFrame;

/// What the failing call's stack says the plan was doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlanStep {
    /// Gather/Gather Merge starting workers: the main parallel segment, in
    /// `ExecInitParallelPlan` → `InitializeParallelDSM`.
    LeaderGather,
    /// The per-session segment of the first parallel query (`GetSessionDsmHandle`).
    SessionSegment,
    /// A Parallel Hash growing its shared table: `dsa_allocate_extended` → a new segment.
    ParallelHashGrowth,
    /// Parallel VACUUM's dead-item array (`parallel_vacuum_*`).
    ParallelVacuum,
    Unknown,
}

impl PlanStep {
    /// Reads the stack (innermost first). Only exact symbol names count: `-k` names a frame
    /// only where the symbol covers the address.
    pub fn of(frames: &[StackFrame]) -> PlanStep {
        let names: Vec<&str> = frames.iter().filter_map(|f| f.symbol.as_deref()).collect();
        let any = |f: &dyn Fn(&str) -> bool| names.iter().any(|n| f(n));
        if any(&|n| n.starts_with("parallel_vacuum")) {
            PlanStep::ParallelVacuum
        } else if any(&|n| n == "GetSessionDsmHandle") {
            PlanStep::SessionSegment
        } else if any(&|n| n == "ExecInitParallelPlan" || n == "InitializeParallelDSM") {
            PlanStep::LeaderGather
        } else if any(&|n| n == "dsa_allocate_extended")
            && any(&|n| {
                n.starts_with("ExecParallelHash")
                    || n.starts_with("ExecHashTable")
                    || n.starts_with("ExecHashJoin")
                    || n == "MultiExecHash"
                    || n == "ParallelWorkerMain"
            })
        {
            PlanStep::ParallelHashGrowth
        } else {
            PlanStep::Unknown
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            PlanStep::LeaderGather => {
                "Gather starting its workers: the leader creates the main parallel segment \
                 (ExecInitParallelPlan -> InitializeParallelDSM -> dsm_create)"
            }
            PlanStep::SessionSegment => {
                "the first parallel query of this session creates the per-session segment \
                 (GetSessionDsmHandle -> dsm_create)"
            }
            PlanStep::ParallelHashGrowth => {
                "a Parallel Hash growing its shared hash table: dsa_allocate_extended adds a \
                 DSM segment (sizes 1, 2, 2, 4, 4, 8 ... MiB)"
            }
            PlanStep::ParallelVacuum => {
                "parallel VACUUM creating its segment with the dead-item array \
                 (sized by maintenance_work_mem)"
            }
            PlanStep::Unknown => "not recognised from the stack",
        }
    }

    /// What to do about a failure in this step, when the full report cannot be had (the
    /// cluster could not be read again).
    pub fn remedy(self) -> &'static str {
        match self {
            PlanStep::ParallelHashGrowth => {
                "give /dev/shm room for work_mem x hash_mem_multiplier x (workers + 1) \
                 (docker run --shm-size, or a Kubernetes emptyDir with medium: Memory on \
                 /dev/shm); or lower work_mem / hash_mem_multiplier, or \
                 SET enable_parallel_hash = off for this query"
            }
            PlanStep::LeaderGather | PlanStep::SessionSegment => {
                "/dev/shm is (nearly) full before the query starts: see who holds it above; \
                 give /dev/shm more room (docker run --shm-size, a Kubernetes emptyDir with \
                 medium: Memory), or set min_dynamic_shared_memory so that segments come from \
                 the main shared memory, or lower max_parallel_workers_per_gather"
            }
            PlanStep::ParallelVacuum => {
                "lower maintenance_work_mem, VACUUM (PARALLEL 0), or give /dev/shm more room"
            }
            PlanStep::Unknown => {
                "give /dev/shm more room (docker run --shm-size, a Kubernetes emptyDir with \
                 medium: Memory), set min_dynamic_shared_memory, or use fewer parallel workers"
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(sym: &str) -> StackFrame {
        StackFrame {
            object: Some("/usr/lib/postgresql/15/bin/postgres".into()),
            symbol: Some(sym.into()),
            offset: Some(0x10),
            address: 0x1000,
            file_offset: None,
            file: None,
            line: None,
            inlined: false,
            how: "cfi",
        }
    }

    fn stack(syms: &[&str]) -> Vec<StackFrame> {
        syms.iter().map(|s| frame(s)).collect()
    }

    #[test]
    fn plans_from_stacks() {
        let leader = stack(&[
            "posix_fallocate",
            "dsm_create",
            "InitializeParallelDSM",
            "ExecInitParallelPlan",
            "PostgresMain",
        ]);
        assert_eq!(PlanStep::of(&leader), PlanStep::LeaderGather);
        let session = stack(&["dsm_create", "GetSessionDsmHandle", "InitializeParallelDSM"]);
        assert_eq!(PlanStep::of(&session), PlanStep::SessionSegment);
        let hash = stack(&[
            "dsm_create",
            "dsa_allocate_extended",
            "ExecParallelHashTableInsert",
            "ParallelWorkerMain",
        ]);
        assert_eq!(PlanStep::of(&hash), PlanStep::ParallelHashGrowth);
        let vac = stack(&[
            "dsm_create",
            "InitializeParallelDSM",
            "parallel_vacuum_init",
        ]);
        assert_eq!(PlanStep::of(&vac), PlanStep::ParallelVacuum);
        assert_eq!(PlanStep::of(&stack(&["main"])), PlanStep::Unknown);
    }
}
