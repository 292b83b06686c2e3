## Golden vectors: format library, generator, shipped set.
