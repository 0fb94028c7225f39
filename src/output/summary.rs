//! The `-c` summary table and the `--histogram` latency histograms.
