//! NDJSON: one object per event.
