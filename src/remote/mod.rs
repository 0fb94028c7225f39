//! Reading another process: memory, file descriptors, /proc.
