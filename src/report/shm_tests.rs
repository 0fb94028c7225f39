//! Tests of the explain-shm report: renderers on hand-built facts, settings to inputs.
use super::*;
