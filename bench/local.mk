## infini-bench: the benchmark (not a test). See docs/performance.md.
