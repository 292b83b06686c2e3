## Model command-line tools (issue 5).
## infini-run: stream tokens through a model with constant memory.
bin_PROGRAMS += tools/infini-run
tools_infini_run_SOURCES = tools/infini-run.c
tools_infini_run_LDADD = libinfini.la -lm

## infini-weights: write deterministic random weights (safetensors).
bin_PROGRAMS += tools/infini-weights
tools_infini_weights_SOURCES = tools/infini-weights.c
tools_infini_weights_LDADD = libinfini.la -lm
