//! Glue between the ptrace engine, the decoders and the printers.
