## Deliberately wrong (mutants) and legitimately different (variants) implementations, as plugins.
