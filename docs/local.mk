## Documentation shipped with the package.
dist_doc_DATA += docs/spec.md
