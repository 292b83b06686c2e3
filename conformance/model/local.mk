## Full-model golden vectors, model tolerance, drift and model-level
## mutants (issue 5).
