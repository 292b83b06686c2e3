## Documentation shipped with the package.
dist_doc_DATA += docs/spec.md
dist_doc_DATA += docs/vectors.md docs/tolerances.md
EXTRA_DIST += docs/worked_example.py
