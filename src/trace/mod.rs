//! The ptrace engine.
